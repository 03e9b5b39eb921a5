//! `zkpor verify`: checks a published final proof against its statement.

use std::path::Path;

use anyhow::{Context, Result};
use zkpor_circuits::CircuitSet;
use zkpor_circuits::circuit_set::{BuildStep, WrapCircuits};
use zkpor_circuits::final_wrap::FinalInputs;
use zkpor_circuits::sparse::circuits::{TieredBuildStep, TieredCircuits};
use zkpor_circuits::sparse::shape::TieredShape;

use crate::published::{PublishedOutput, StatementFile, StatementShape};

/// The statement and final circuits over the tree circuits of `shape`.
fn tiered_wrap(shape: &TieredShape, mut on_step: impl FnMut(BuildStep)) -> Result<WrapCircuits> {
    let tree = TieredCircuits::build(shape, |step| {
        on_step(match step {
            TieredBuildStep::Tier(_) => BuildStep::Batch,
            TieredBuildStep::Aggregation(level) => BuildStep::Aggregation(level),
        })
    })?;
    Ok(WrapCircuits::over(shape.assets(), tree.top()?, on_step))
}

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
    let final_wrap = match &output.statement.shape {
        StatementShape::Dense(shape) => CircuitSet::build_reporting(shape, on_step).into_parts().1,
        StatementShape::Tiered(shape) => tiered_wrap(shape, on_step)?,
    };
    let final_wrap = final_wrap.final_wrap();
    let proof =
        final_wrap.proof_from_bytes(bytes).with_context(|| format!("{}", dir.join(&output.meta.proof).display()))?;
    final_wrap.verify(&proof, &output.inputs)?;
    Ok(Verified { statement: output.statement, inputs: output.inputs, proof_bytes })
}
