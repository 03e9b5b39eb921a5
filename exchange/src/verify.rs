//! `zkpor verify`: checks a published final proof against its statement.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, ensure};
use zkpor_circuits::CircuitSet;
use zkpor_circuits::circuit_set::BuildStep;
use zkpor_circuits::final_wrap::FinalInputs;

use crate::published::{FINAL_META_FILE, FinalProofFile, STATEMENT_FILE, StatementFile, read_json};

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
    let statement: StatementFile = read_json(&dir.join(STATEMENT_FILE))?;
    let content = statement.checked_statement().with_context(|| format!("{}", dir.join(STATEMENT_FILE).display()))?;
    let meta: FinalProofFile = read_json(&dir.join(FINAL_META_FILE))?;
    ensure!(
        meta.sequence == statement.sequence,
        "{FINAL_META_FILE} is for sequence {} but {STATEMENT_FILE} for sequence {}",
        meta.sequence,
        statement.sequence
    );
    let proof_path = dir.join(&meta.proof);
    let bytes = fs::read(&proof_path).with_context(|| format!("reading {}", proof_path.display()))?;
    let proof_bytes = bytes.len();

    let circuits = CircuitSet::build_reporting(&statement.shape, on_step);
    let proof = circuits.final_wrap().proof_from_bytes(bytes).with_context(|| format!("{}", proof_path.display()))?;
    let inputs = FinalInputs {
        root: content.root,
        digest: content.digest(),
        sequence: statement.sequence,
        submitter: meta.submitter,
    };
    circuits.final_wrap().verify(&proof, &inputs)?;
    Ok(Verified { statement, inputs, proof_bytes })
}
