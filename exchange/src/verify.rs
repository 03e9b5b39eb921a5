//! `zkpor verify`: checks a published final proof against its statement.

use std::path::Path;

use anyhow::{Context, Result};
use zkpor_circuits::CircuitSet;
use zkpor_circuits::circuit_set::BuildStep;
use zkpor_circuits::final_wrap::FinalInputs;

use crate::published::{PublishedOutput, StatementFile};

/// What a verified output directory proves.
#[derive(Clone, Debug)]
pub struct Verified {
    /// The statement, as published.
    pub statement: StatementFile,
    /// The bindings of the final proof.
    pub inputs: FinalInputs,
    /// Size of the final proof in bytes.
    pub proof_bytes: usize,
}

/// Checks the output directory `dir`: the statement hashes to its digest,
/// and the final proof verifies for its root, digest, sequence number and
/// submitter. Rebuilds the circuits of the statement's shape on the way,
/// reporting each step to `on_step`.
pub fn verify_output(dir: &Path, on_step: impl FnMut(BuildStep)) -> Result<Verified> {
    let output = PublishedOutput::read(dir)?;
    let bytes = output.proof_bytes()?;
    let proof_bytes = bytes.len();
    let circuits = CircuitSet::build_reporting(&output.statement.shape, on_step);
    let proof = circuits
        .final_wrap()
        .proof_from_bytes(bytes)
        .with_context(|| format!("{}", dir.join(&output.meta.proof).display()))?;
    circuits.final_wrap().verify(&proof, &output.inputs)?;
    Ok(Verified { statement: output.statement, inputs: output.inputs, proof_bytes })
}
