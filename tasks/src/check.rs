//! How the agent checks a returned proof before it stores it: it must parse
//! as a proof of the task's circuit, verify, and state exactly the public
//! inputs the agent computed for the task from the checked witness.

use anyhow::Result;
use plonky2::plonk::circuit_data::VerifierCircuitData;
use plonky2::plonk::config::GenericConfig;
use plonky2::plonk::proof::ProofWithPublicInputs;
use thiserror::Error;
use zkpor_circuits::{D, F, FamilyVerifiers};

use crate::expected::{ExpectedProof, ProofCircuit};
use crate::spec::canonical;

/// Why a returned proof is refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum Rejection {
    /// The bytes are not a proof of the task's circuit.
    #[error("not a proof of this task's circuit: {0}")]
    Malformed(String),
    /// A proof of the right circuit that does not verify.
    #[error("the proof does not verify: {0}")]
    Invalid(String),
    /// A valid proof of something else than this task.
    #[error("the proof is for other public inputs than this task's")]
    Mismatch,
}

/// Checks `proof` against `expected`, with the verifier data of the task's
/// family. The outer error is the agent's (a tier past the family's); the
/// inner one the proof's.
pub fn check_proof(
    verifiers: &FamilyVerifiers,
    expected: &ExpectedProof,
    proof: &[u8],
) -> Result<Result<(), Rejection>> {
    let (inputs, wanted) = match expected.circuit {
        ProofCircuit::Final => (verified(verifiers.final_wrap(), proof), expected.inputs.clone()),
        ProofCircuit::Tier { tier } => (verified(verifiers.tier(tier)?, proof), expected.inputs.clone()),
        ProofCircuit::Node { node } => {
            let node = verifiers.node(node);
            let mut wanted = expected.inputs.clone();
            wanted.extend(canonical(&node.honest_tail));
            (verified(&node.data, proof), wanted)
        }
    };
    Ok(inputs.and_then(|inputs| if canonical(&inputs) == wanted { Ok(()) } else { Err(Rejection::Mismatch) }))
}

/// The public inputs of `bytes` as a proof of `circuit` that verifies.
fn verified<C: GenericConfig<D, F = F>>(
    circuit: &VerifierCircuitData<F, C, D>,
    bytes: &[u8],
) -> Result<Vec<F>, Rejection> {
    let proof = ProofWithPublicInputs::<F, C, D>::from_bytes(bytes.to_vec(), &circuit.common)
        .map_err(|e| Rejection::Malformed(e.to_string()))?;
    let inputs = proof.public_inputs.clone();
    circuit.verify(proof).map_err(|e| Rejection::Invalid(e.to_string()))?;
    Ok(inputs)
}
