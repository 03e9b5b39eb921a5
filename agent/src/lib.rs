//! The agent that a miner or an exchange runs: one process holding the
//! proof generator (sequences in, tasks leased to prover workers, checked
//! proofs out), its worker API and, with a `[chain]`, the proof manager that
//! commits and reveals final proofs through the sender.
//!
//! - [`config`]: the configuration file, read and written;
//! - [`Agent`]: the process's parts opened from a configuration, and the
//!   loop that runs them until shutdown.
//!
//! The CLI (`zkpor agent`) only loads the configuration and calls these.

pub mod config;
mod process;

pub use config::AgentConfig;
pub use process::Agent;
