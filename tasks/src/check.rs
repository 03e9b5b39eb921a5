//! How the agent checks a returned proof before it stores it: it must parse
//! as a proof of the task's circuit, verify, and state exactly the public
//! inputs the agent computed for the task from the committed tree.

use thiserror::Error;
use zkpor_circuits::CircuitSet;
use zkpor_circuits::final_wrap::FinalProof;

use crate::key::{TaskKey, TaskKind};
use crate::prove::node_proof;
use crate::spec::{ProofBytes, canonical};

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

/// Checks `proof` for `task`, whose expected public inputs are `expected`.
pub fn check_proof(circuits: &CircuitSet, task: &TaskKey, expected: &[u64], proof: &[u8]) -> Result<(), Rejection> {
    let tier = task.tier as usize;
    let bytes = ProofBytes(proof.to_vec());
    let public_inputs = match task.kind {
        TaskKind::Final => {
            let data = circuits.final_wrap().data();
            let proof =
                FinalProof::from_bytes(bytes.0, &data.common).map_err(|e| Rejection::Malformed(e.to_string()))?;
            let inputs = proof.public_inputs.clone();
            data.verify(proof).map_err(|e| Rejection::Invalid(e.to_string()))?;
            inputs
        }
        TaskKind::Batch | TaskKind::Empty | TaskKind::Node => {
            let proof = node_proof(circuits, tier, &bytes).map_err(|e| Rejection::Malformed(format!("{e:#}")))?;
            let inputs = proof.public_inputs.clone();
            let verified = match tier {
                0 => circuits.batch().data().verify(proof),
                t => circuits.aggregation(t - 1).data().verify(proof),
            };
            verified.map_err(|e| Rejection::Invalid(e.to_string()))?;
            inputs
        }
    };
    if canonical(&public_inputs) != expected {
        return Err(Rejection::Mismatch);
    }
    Ok(())
}
