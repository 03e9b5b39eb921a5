//! `zkpor verify`: checks a published final proof against its statement.

use std::path::Path;

use anyhow::{Context, Result};
use zkpor_circuits::FamilyCircuits;
use zkpor_circuits::circuits::BuildStep;
use zkpor_circuits::family::Family;
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
/// submitter on the final circuit of the statement's family. Builds the
/// family's circuits on the way, reporting each step to `on_step`.
pub fn verify_output(dir: &Path, on_step: impl FnMut(BuildStep)) -> Result<Verified> {
    let output = PublishedOutput::read(dir)?;
    let bytes = output.proof_bytes()?;
    let proof_bytes = bytes.len();
    let family: Family = output.statement.family.parse().context("the statement's family")?;
    let circuits = FamilyCircuits::build(&family, on_step)?;
    let final_wrap = circuits.final_wrap()?;
    let proof =
        final_wrap.proof_from_bytes(bytes).with_context(|| format!("{}", dir.join(&output.meta.proof).display()))?;
    final_wrap.verify(&proof, &output.inputs)?;
    Ok(Verified { statement: output.statement, inputs: output.inputs, proof_bytes })
}
