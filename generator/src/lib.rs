//! The agent's proof generator.
//!
//! Sequences come in from a [`source::SequenceSource`] (snapshot directories,
//! or the chain's posted sequences with the exchange's witnesses); each becomes a committed tree whose task graph
//! (batches, proofs of empty subtrees, aggregation nodes, the final proof)
//! the store keeps. Prover workers lease ready tasks over HTTP ([`api`]),
//! send heartbeats while proving and return proofs; every proof is checked
//! against its circuit and the public inputs computed from the committed
//! tree before it is stored ([`service`]), and a task whose proofs are all
//! in becomes ready for the next tier. Several sequences are in flight at
//! once; the batches of one are proven in parallel by as many workers.
//!
//! - [`config`]: the agent's configuration file;
//! - [`source`]: where sequences come from;
//! - [`service`]: leasing, heartbeats, checking and storing results,
//!   offline export and import, the background loop;
//! - [`api`]: the worker API;
//! - [`metrics`]: Prometheus metrics.

pub mod api;
pub mod config;
pub mod metrics;
pub mod service;
pub mod source;

pub use config::AgentConfig;
pub use service::{Clock, Generator, Refusal};
