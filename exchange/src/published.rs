//! The files a proving run publishes, and their formats.
//!
//! An output directory holds:
//! - `statement.json`: the statement in readable form ([`StatementFile`],
//!   shared with every role in `zkpor-protocol`);
//! - `final.proof`: the final proof, plonky2's binary serialization;
//! - `final.calldata`: the same proof encoded for the EVM verifier, the
//!   bytes `submitProof` takes;
//! - `final.json`: what the final proof is bound to ([`FinalProofFile`]);
//! - `users.sqlite`: the store that answers inclusion proofs
//!   ([`crate::user_store`]).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};
use serde::{Deserialize, Serialize};
use zkpor_circuits::encoding::Address;
use zkpor_circuits::final_wrap::FinalInputs;
pub use zkpor_protocol::statement::{AssetTotals, STATEMENT_FILE, StatementFile};

use crate::pipeline::Proven;
use crate::user_store::UserStore;
/// File name of the final proof.
pub const FINAL_PROOF_FILE: &str = "final.proof";
/// File name of the final proof's EVM encoding.
pub const FINAL_CALLDATA_FILE: &str = "final.calldata";
/// File name of the final proof's bindings.
pub const FINAL_META_FILE: &str = "final.json";
/// File name of the user-proof store.
pub const USER_STORE_FILE: &str = "users.sqlite";

/// `final.json`: what the final proof is bound to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinalProofFile {
    /// The sequence number it proves.
    pub sequence: u64,
    /// The address it is bound to.
    pub submitter: Address,
    /// The proof's file, relative to this file.
    pub proof: String,
    /// Size of the proof in bytes.
    pub proof_bytes: usize,
    /// The proof's EVM encoding's file, relative to this file.
    pub calldata: String,
    /// Size of the EVM encoding in bytes.
    pub calldata_bytes: usize,
}

/// A published output directory: its statement, the final proof's bindings
/// and what the proof claims.
#[derive(Clone, Debug)]
pub struct PublishedOutput {
    /// The directory.
    pub dir: PathBuf,
    /// `statement.json`, its digest checked.
    pub statement: StatementFile,
    /// `final.json`.
    pub meta: FinalProofFile,
    /// The public inputs of the final proof.
    pub inputs: FinalInputs,
}

impl PublishedOutput {
    /// Reads `dir`'s statement and final-proof bindings; fails if the
    /// statement does not hash to its digest or the two disagree on the
    /// sequence.
    pub fn read(dir: &Path) -> Result<Self> {
        let statement: StatementFile = read_json(&dir.join(STATEMENT_FILE))?;
        let content =
            statement.checked_statement().with_context(|| format!("{}", dir.join(STATEMENT_FILE).display()))?;
        let meta: FinalProofFile = read_json(&dir.join(FINAL_META_FILE))?;
        ensure!(
            meta.sequence == statement.sequence,
            "{FINAL_META_FILE} is for sequence {} but {STATEMENT_FILE} for sequence {}",
            meta.sequence,
            statement.sequence
        );
        let inputs = FinalInputs {
            root: content.root,
            digest: content.digest(),
            sequence: statement.sequence,
            submitter: meta.submitter,
        };
        Ok(PublishedOutput { dir: dir.to_path_buf(), statement, meta, inputs })
    }

    /// The final proof, plonky2's serialization.
    pub fn proof_bytes(&self) -> Result<Vec<u8>> {
        let path = self.dir.join(&self.meta.proof);
        fs::read(&path).with_context(|| format!("reading {}", path.display()))
    }

    /// The final proof encoded for the EVM verifier.
    pub fn calldata(&self) -> Result<Vec<u8>> {
        let path = self.dir.join(&self.meta.calldata);
        fs::read(&path).with_context(|| format!("reading {}", path.display()))
    }
}

/// Reads and parses a JSON file, naming it in errors.
pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// Writes `value` as pretty JSON, naming the file in errors.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}

/// Refuses an output directory that already has content.
pub fn check_output_free(out: &Path) -> Result<()> {
    if out.exists() {
        let empty = out.is_dir() && fs::read_dir(out).map(|mut d| d.next().is_none()).unwrap_or(false);
        ensure!(empty, "{} already exists and is not empty; choose another --out or remove it", out.display());
    }
    Ok(())
}

/// Writes every output file of `proven` into `out`, all or nothing: the
/// files are written to a hidden sibling directory that is renamed into
/// place at the end.
pub async fn write_output(out: &Path, proven: &Proven) -> Result<()> {
    check_output_free(out)?;
    let staging = staging_dir(out)?;
    let result = write_files(&staging, proven).await;
    if let Err(err) = result {
        let _ = fs::remove_dir_all(&staging);
        return Err(err);
    }
    if out.exists() {
        fs::remove_dir(out).with_context(|| format!("replacing the empty directory {}", out.display()))?;
    }
    fs::rename(&staging, out).with_context(|| format!("moving {} to {}", staging.display(), out.display()))
}

fn staging_dir(out: &Path) -> Result<PathBuf> {
    let name = out.file_name().with_context(|| format!("{} has no directory name", out.display()))?;
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let staging = parent.join(format!(".{}.partial-{}", name.to_string_lossy(), std::process::id()));
    if staging.exists() {
        fs::remove_dir_all(&staging)?;
    }
    fs::create_dir(&staging).with_context(|| format!("creating {}", staging.display()))?;
    Ok(staging)
}

async fn write_files(dir: &Path, proven: &Proven) -> Result<()> {
    let statement = proven.committed.statement_file(proven.inputs.sequence);
    write_json(&dir.join(STATEMENT_FILE), &statement)?;
    let proof = proven.final_proof.to_bytes();
    fs::write(dir.join(FINAL_PROOF_FILE), &proof).context("writing the final proof")?;
    fs::write(dir.join(FINAL_CALLDATA_FILE), &proven.calldata).context("writing the final proof's EVM encoding")?;
    let meta = FinalProofFile {
        sequence: proven.inputs.sequence,
        submitter: proven.inputs.submitter,
        proof: FINAL_PROOF_FILE.to_string(),
        proof_bytes: proof.len(),
        calldata: FINAL_CALLDATA_FILE.to_string(),
        calldata_bytes: proven.calldata.len(),
    };
    write_json(&dir.join(FINAL_META_FILE), &meta)?;
    UserStore::create(&dir.join(USER_STORE_FILE), &proven.committed, &statement).await
}
