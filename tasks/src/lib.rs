//! Proving tasks: the unit of work an agent leases to a prover worker.
//!
//! - [`key`]: which proof of which sequence a task makes;
//! - [`graph`]: the tasks of one sequence's proof tree and how they depend
//!   on each other (batches, aggregation nodes, the final proof);
//! - [`spec`]: everything a worker needs to prove one task, as it travels
//!   over HTTP or in an offline task file;
//! - [`prove`]: how a worker proves a task;
//! - [`expected`]: the circuit and public inputs each task's proof must have;
//! - [`check`]: how the agent checks a returned proof before it stores it;
//! - [`protocol`]: the worker API's messages and the offline files;
//! - [`circuits`]: family circuits (or their verifier data) read or built
//!   once and shared.

pub mod check;
pub mod circuits;
pub mod expected;
pub mod graph;
pub mod key;
pub mod protocol;
pub mod prove;
pub mod spec;

pub use check::{Rejection, check_proof};
pub use circuits::{CircuitCache, FamilyCache, VerifierCache};
pub use expected::{ExpectedProof, ProofCircuit, TreeToProve};
pub use graph::TaskGraph;
pub use key::{TaskKey, TaskKind};
pub use prove::{prove_task, wait_for_circuits};
pub use spec::{ChildProof, ProofBytes, TaskInput, TaskSpec};
