//! The circuits of zkpor and the native computations they mirror.
//!
//! A balance snapshot becomes a tree of account leaves in tiers. Proving
//! runs bottom-up, every circuit fixed by the deployment's [`family`]:
//!
//! 1. a [`batch`] proof covers the users of one batch of a [`tier`]: every
//!    value range-checked, every user solvent at the snapshot's prices,
//!    exact per-asset totals, the batch root;
//! 2. [`aggregation`] nodes verify child proofs (batches, then nodes) up to
//!    one top node;
//! 3. a [`statement`] proof verifies the top node and turns it into the
//!    statement digest that is posted on chain, over the sequence's real
//!    assets;
//! 4. the [`final_wrap`] proof verifies the statement proof and binds it to a
//!    sequence number and a submitter address; it is proven with plonky2's
//!    Keccak configuration so an EVM contract can check it cheaply.
//!
//! [`circuits`] builds every circuit of a family ([`stored`] keeps them on
//! disk; [`verifiers`] keeps only what checking proofs takes), [`tree`] says which nodes a tree of some batches has, and
//! [`tree_prover`] proves one in this process.
//! The native side ([`hash`], [`identity`], [`leaf`], [`merkle`], [`tree`],
//! [`statement`]) computes the same hashes outside any circuit: the exchange
//! builds its tree with it, and users check their inclusion proofs with it.
//! How it all fits, and why it is sound, is in `docs/circuits.md`.

pub mod aggregation;
pub mod batch;
pub mod circuits;
pub mod config;
pub mod encoding;
pub mod family;
pub mod final_wrap;
pub mod gadgets;
pub mod hash;
pub mod identity;
pub mod leaf;
pub mod merkle;
pub mod node;
pub mod proof_store;
pub mod statement;
pub mod stored;
pub mod tier;
pub mod tree;
pub mod tree_prover;
pub mod verifiers;

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

pub use circuits::FamilyCircuits;
pub use family::Family;
pub use verifiers::FamilyVerifiers;
