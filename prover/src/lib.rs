//! The prover worker: stateless, it leases tasks from one agent over HTTP,
//! proves them and returns the proofs; and offline proving of task files
//! for provers without a connection.
//!
//! - [`client`]: the agent's worker API as a typed client;
//! - [`worker`]: the lease, prove, return loop, with heartbeats while
//!   proving;
//! - [`offline`]: proving a task file into a proof file.

pub mod client;
pub mod offline;
pub mod worker;

pub use client::{AgentClient, ClientError};
pub use worker::{WorkerOptions, WorkerSummary, run_worker};
