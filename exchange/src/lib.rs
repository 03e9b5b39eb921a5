//! The exchange side of zkpor, on one machine.
//!
//! - [`archive`]: the sequences an exchange has posted, on disk;
//! - [`committed`]: a validated snapshot turned into its family's tree, with
//!   a secret nonce per user and the statement it proves;
//! - [`pipeline`]: proves that tree end to end in this process, resumably
//!   ([`proof_dir`] keeps its finished proofs);
//! - [`published`]: the files a proving run leaves behind (`statement.json`,
//!   the final proof) and their verification;
//! - [`synthetic`]: synthetic snapshots for demonstrations and tests;
//! - [`user_store`]: what answers any user's inclusion proof later, and
//!   serves agents the batches' users;
//! - [`user_proof`]: the inclusion proof a user receives, and its check;
//! - [`verify`]: the check of a published final proof against its statement;
//! - [`server`]: the endpoint agents fetch witnesses from, with users'
//!   inclusion proofs for the exchange's front end.

pub mod archive;
pub mod committed;
pub mod pipeline;
pub mod proof_dir;
pub mod published;
pub mod server;
pub mod synthetic;
pub mod user_proof;
pub mod user_store;
pub mod verify;
