//! The EVM verifier of zkpor's final proof.
//!
//! The final proof (plonky2 1.1, Keccak configuration) is checked on chain by
//! a contract generated from the final circuit's verifier data:
//!
//! - [`layout`]: where each part of a proof sits in the calldata the contract
//!   reads, derived from the circuit's common data;
//! - [`calldata`]: re-encodes a plonky2 proof into that layout;
//! - [`transcript`]: the Keccak challenger's state after the circuit's
//!   constant prefix (FRI parameters, circuit digest), precomputed so the
//!   contract starts from it;
//! - [`generate`]: writes the Solidity/Yul contract for one final circuit;
//! - [`failure`]: what the contract's failure codes mean;
//! - [`fixtures`]: real proofs of made-up accounts, for tests and measurements.

pub mod calldata;
pub mod failure;
pub mod fixtures;
pub mod generate;
pub mod layout;
pub mod transcript;

mod gates;
mod poseidon;
mod table;

use zkpor_circuits::{Family, FamilyCircuits};

/// The phases the contract's `profile` view reports the gas of, in order.
pub const PROFILE_PHASES: [&str; 6] =
    ["public-input hash", "transcript", "gate constraints", "vanishing check", "FRI setup", "FRI queries"];

/// Name of the verifier contract of a family, e.g. `FinalProofVerifier_standard`.
pub fn contract_name(family: &Family) -> String {
    format!("FinalProofVerifier_{}", family.name().replace('-', "_"))
}

/// Generates the verifier of a family's final circuit.
pub fn verifier_for(circuits: &FamilyCircuits) -> anyhow::Result<generate::GeneratedVerifier> {
    let family = circuits.family();
    let data = circuits.final_wrap()?.data();
    generate::generate_verifier(&contract_name(family), family.name(), &data.common, &data.verifier_only)
}
