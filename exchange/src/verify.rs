//! `zkpor verify`: checks a published final proof against its statement.

use std::path::Path;

use anyhow::{Context, Result};
use zkpor_circuits::FamilyVerifiers;
use zkpor_circuits::circuits::BuildStep;
use zkpor_circuits::family::Family;
use zkpor_circuits::final_wrap::FinalInputs;
use zkpor_circuits::stored::CircuitDirectory;

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
/// submitter on the final circuit of the statement's family. Takes the
/// family's verifier data from `circuits` where an earlier run kept the
/// family there, else builds the family (and keeps it there), reporting
/// each step to `on_step`.
pub fn verify_output(
    dir: &Path,
    circuits: Option<&CircuitDirectory>,
    on_step: impl FnMut(BuildStep),
) -> Result<Verified> {
    let output = PublishedOutput::read(dir)?;
    let bytes = output.proof_bytes()?;
    let proof_bytes = bytes.len();
    let family: Family = output.statement.family.parse().context("the statement's family")?;
    let files = circuits.map(|directory| directory.family(&family));
    let (verifiers, _) = FamilyVerifiers::load_or_build(&family, files.as_ref(), on_step)?;
    let proof = verifiers.final_proof(bytes).with_context(|| format!("{}", dir.join(&output.meta.proof).display()))?;
    verifiers.verify_final(&proof, &output.inputs)?;
    Ok(Verified { statement: output.statement, inputs: output.inputs, proof_bytes })
}
