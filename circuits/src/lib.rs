//! The circuits of zkpor and the native computations they mirror.
//!
//! A balance snapshot becomes a binary Merkle tree of account leaves. Proving
//! runs bottom-up:
//!
//! 1. a [`batch`] proof covers `B` leaves: every value range-checked, every
//!    account solvent at the snapshot's prices, exact per-asset totals, the
//!    batch root;
//! 2. an [`aggregation`] proof covers `K` child proofs (batches or lower
//!    aggregations), level by level up to one root;
//! 3. a [`statement`] proof verifies the top aggregation and turns it into the
//!    statement digest that is posted on chain;
//! 4. the [`final_wrap`] proof verifies the statement proof and binds it to a
//!    sequence number and a submitter address; it is proven with plonky2's
//!    Keccak configuration so an EVM contract can check it cheaply.
//!
//! [`layout`] says which proofs a tree needs (padding included) and
//! [`tree_prover`] makes them in this process; [`circuit_set`] builds every
//! circuit of a [`Shape`].
//!
//! The native side ([`account`], [`merkle`], [`statement`]) computes the same
//! hashes outside any circuit: the exchange builds its tree with it, and users
//! check their inclusion proofs with it. How it all fits, and why it is sound,
//! is in `docs/circuits.md`.

pub mod account;
pub mod aggregation;
pub mod batch;
pub mod circuit_set;
pub mod config;
pub mod encoding;
pub mod final_wrap;
pub mod gadgets;
pub mod layout;
pub mod merkle;
pub mod node;
pub mod shape;
pub mod sparse;
pub mod statement;
pub mod tree_prover;

#[cfg(test)]
mod test_support;

use plonky2::field::goldilocks_field::GoldilocksField;
use plonky2::plonk::config::{KeccakGoldilocksConfig, PoseidonGoldilocksConfig};

/// The field every circuit works over (Goldilocks, p = 2^64 − 2^32 + 1).
pub type F = GoldilocksField;
/// Extension degree used by plonky2's FRI verifier.
pub const D: usize = 2;
/// Configuration of every proof that is verified recursively (Poseidon).
pub type C = PoseidonGoldilocksConfig;
/// Configuration of the final proof, verified on the EVM (Keccak).
pub type FinalConfig = KeccakGoldilocksConfig;
/// A Poseidon hash as four field elements.
pub type Hash = plonky2::hash::hash_types::HashOut<F>;

pub use circuit_set::CircuitSet;
pub use shape::Shape;
