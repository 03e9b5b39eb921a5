//! The exchange side of zkpor, on one machine.
//!
//! - [`archive`]: the sequences an exchange has posted, on disk;
//! - [`committed`]: a validated snapshot turned into an account tree, with a
//!   secret nonce per user and the statement it proves;
//! - [`pipeline`]: proves that tree end to end in this process;
//! - [`published`]: the files a proving run leaves behind (`statement.json`,
//!   the final proof) and their verification;
//! - [`synthetic`]: synthetic snapshots for demonstrations and tests;
//! - [`tiered`]: the same on the sparse, tiered circuits, for snapshots of
//!   many assets; [`proof_dir`] keeps its finished proofs for a resume;
//! - [`user_store`]: what answers any user's inclusion proof later;
//! - [`user_proof`]: the inclusion proof a user receives, and its check;
//! - [`verify`]: the check of a published final proof against its statement;
//! - [`witness`]: what the exchange's endpoint sends an agent;
//! - [`server`]: that endpoint, with users' inclusion proofs for its front end.

pub mod archive;
pub mod committed;
pub mod pipeline;
pub mod proof_dir;
pub mod published;
pub mod server;
pub mod synthetic;
pub mod tiered;
pub mod user_proof;
pub mod user_store;
pub mod verify;
pub mod witness;
