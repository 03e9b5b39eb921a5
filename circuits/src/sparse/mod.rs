//! Sparse, tiered accounts: circuits whose cost follows what users hold, not
//! how many assets the exchange lists.
//!
//! A user's leaf lists only the assets they hold ([`leaf`]); users are
//! grouped into [`tier`]s by how many they hold, and each tier has its own
//! [`batch`] circuit. All tiers produce the same public inputs and the same
//! number of rows, so one aggregation tree takes batch proofs of any tier.

pub mod batch;
pub mod circuits;
pub mod leaf;
pub mod proof_store;
pub mod shape;
pub mod tier;
pub mod tree;
pub mod tree_prover;
