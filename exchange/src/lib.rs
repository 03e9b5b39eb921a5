//! The exchange side of zkpor, on one machine.
//!
//! - [`committed`]: a validated snapshot turned into an account tree, with a
//!   secret nonce per user and the statement it proves;
//! - [`pipeline`]: proves that tree end to end in this process;
//! - [`published`]: the files a proving run leaves behind (`statement.json`,
//!   the final proof) and their verification;
//! - [`user_store`]: what answers any user's inclusion proof later;
//! - [`user_proof`]: the inclusion proof a user receives, and its check;
//! - [`verify`]: the check of a published final proof against its statement.

pub mod committed;
pub mod pipeline;
pub mod published;
pub mod user_proof;
pub mod user_store;
pub mod verify;
