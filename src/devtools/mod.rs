//! The tooling around the product, kept apart from the CLI of the roles:
//! `zkpor dev` (the whole network on this machine), `zkpor bench ...`
//! (benchmarks that print figures) and `zkpor contracts gas-report`.

pub mod bench;
pub mod dev;
pub mod gas_report;
