//! The exchange's archive of posted sequences: `<dir>/<sequence>/` holds the
//! sequence's `statement.json` and `users.sqlite` (every user's nonce and
//! balances, every tree node), which answer batch witnesses and user proofs.
//!
//! A sequence is written before it is posted, into `<dir>/.pending-<root>/`,
//! and moved to its number once the registry has given it one; a pending
//! directory whose root never reached the chain is deleted by the next
//! publication, one whose root did is moved into place then. A sequence the
//! chain no longer holds (a reorg) is moved to `<dir>/.orphaned-<root>/`.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};
use zkpor_circuits::encoding::HashHex;

use crate::committed::CommittedSnapshot;
use crate::published::{STATEMENT_FILE, StatementFile, USER_STORE_FILE, read_json, write_json};
use crate::user_store::UserStore;

const PENDING_PREFIX: &str = ".pending-";

/// The exchange's directory of sequences.
#[derive(Clone, Debug)]
pub struct SequenceArchive {
    dir: PathBuf,
}

/// A sequence written but not yet known to be posted.
#[derive(Clone, Debug)]
pub struct PendingSequence {
    /// Its directory.
    pub dir: PathBuf,
    /// Its statement (the sequence number is the one expected when written).
    pub statement: StatementFile,
}

impl SequenceArchive {
    /// The archive in `dir` (created when first written to).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        SequenceArchive { dir: dir.into() }
    }

    /// The archive's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory of posted sequence `sequence`.
    pub fn path(&self, sequence: u64) -> PathBuf {
        self.dir.join(sequence.to_string())
    }

    /// Writes `committed` as a pending sequence, expected to be posted as
    /// `sequence`: its statement file and user store, all or nothing.
    pub async fn write_pending(&self, committed: &CommittedSnapshot, sequence: u64) -> Result<PendingSequence> {
        let statement = committed.statement_file(sequence);
        let dir = self.dir.join(format!("{PENDING_PREFIX}{}", statement.root));
        let staging = self.dir.join(format!(".partial-{}", std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging).with_context(|| format!("removing {}", staging.display()))?;
        }
        fs::create_dir_all(&staging).with_context(|| format!("creating {}", staging.display()))?;
        let written = async {
            write_json(&staging.join(STATEMENT_FILE), &statement)?;
            UserStore::create(&staging.join(USER_STORE_FILE), committed, &statement).await
        }
        .await;
        if let Err(error) = written {
            let _ = fs::remove_dir_all(&staging);
            return Err(error);
        }
        fs::rename(&staging, &dir).with_context(|| format!("moving {} to {}", staging.display(), dir.display()))?;
        Ok(PendingSequence { dir, statement })
    }

    /// The pending sequences, oldest root first.
    pub fn pending(&self) -> Result<Vec<PendingSequence>> {
        let mut out = Vec::new();
        if !self.dir.is_dir() {
            return Ok(out);
        }
        for entry in fs::read_dir(&self.dir).with_context(|| format!("reading {}", self.dir.display()))? {
            let dir = entry?.path();
            let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if name.starts_with(PENDING_PREFIX) {
                let statement = read_json(&dir.join(STATEMENT_FILE))?;
                out.push(PendingSequence { dir, statement });
            }
        }
        Ok(out)
    }

    /// Moves a pending sequence into place as `sequence`, the number the
    /// registry gave it (rewriting the number its files carry if it is not
    /// the one expected).
    pub async fn settle(&self, pending: &PendingSequence, sequence: u64) -> Result<PathBuf> {
        let target = self.path(sequence);
        ensure!(
            !target.exists(),
            "{} already exists: sequence {sequence} cannot have been posted twice; move it away and publish again",
            target.display()
        );
        if pending.statement.sequence != sequence {
            let statement = StatementFile { sequence, ..pending.statement.clone() };
            write_json(&pending.dir.join(STATEMENT_FILE), &statement)?;
            UserStore::set_sequence(&pending.dir.join(USER_STORE_FILE), sequence).await?;
        }
        fs::rename(&pending.dir, &target)
            .with_context(|| format!("moving {} to {}", pending.dir.display(), target.display()))?;
        Ok(target)
    }

    /// Moves posted sequence `sequence` out of the way, to
    /// `.orphaned-<root>/`: the chain no longer holds it (a reorg took its
    /// posting away), so its number is free again.
    pub fn orphan(&self, sequence: u64) -> Result<PathBuf> {
        let from = self.path(sequence);
        let to = self.dir.join(format!(".orphaned-{}", self.root(sequence)?));
        fs::rename(&from, &to).with_context(|| format!("moving {} to {}", from.display(), to.display()))?;
        Ok(to)
    }

    /// Deletes a pending sequence that was never posted.
    pub fn discard(&self, pending: &PendingSequence) -> Result<()> {
        fs::remove_dir_all(&pending.dir).with_context(|| format!("removing {}", pending.dir.display()))
    }

    /// The posted sequences the archive holds, lowest first.
    pub fn sequences(&self) -> Result<Vec<u64>> {
        let mut out = Vec::new();
        if self.dir.is_dir() {
            for entry in fs::read_dir(&self.dir).with_context(|| format!("reading {}", self.dir.display()))? {
                if let Some(sequence) = entry?.file_name().to_str().and_then(|n| n.parse().ok()) {
                    out.push(sequence);
                }
            }
        }
        out.sort_unstable();
        Ok(out)
    }

    /// Opens the user store of posted sequence `sequence`.
    pub async fn open(&self, sequence: u64) -> Result<UserStore> {
        let path = self.path(sequence).join(USER_STORE_FILE);
        ensure!(path.is_file(), "the exchange holds no sequence {sequence} (no {})", path.display());
        UserStore::open(&path).await
    }

    /// The root of sequence `sequence` as the archive holds it.
    pub fn root(&self, sequence: u64) -> Result<HashHex> {
        let statement: StatementFile = read_json(&self.path(sequence).join(STATEMENT_FILE))?;
        Ok(statement.root)
    }
}
