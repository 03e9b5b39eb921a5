//! The agent's proof generator.
//!
//! Sequences come in from a [`source::SequenceSource`] (snapshot directories,
//! or the chain's posted sequences with the exchange's witnesses); each
//! becomes a committed tree whose task graph (batches, aggregation nodes
//! level by level, the final proof) the store keeps. Prover workers lease ready tasks over HTTP ([`api`]),
//! send heartbeats while proving and return proofs; every proof is checked
//! against its circuit and the public inputs computed from the committed
//! tree before it is stored ([`service`]), and a task whose proofs are all
//! in becomes ready for the next tier. Several sequences are in flight at
//! once; the batches of one are proven in parallel by as many workers.
//!
//! - [`settings`]: what it takes from the agent's configuration;
//! - [`source`]: where sequences come from;
//! - [`service`]: leasing, heartbeats, checking and storing results,
//!   offline export and import, the background loop;
//! - [`api`]: the worker API;
//! - [`metrics`]: Prometheus metrics.

pub mod api;
pub mod metrics;
pub mod service;
pub mod settings;
pub mod source;

pub use service::{Clock, Generator, Refusal};
pub use settings::GeneratorSettings;
