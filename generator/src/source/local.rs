//! Snapshot directories of the agent's configuration, each proven as the
//! sequence the configuration names.

use anyhow::{Context, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpor_circuits::encoding::Address;
use zkpor_exchange::committed::{CommittedSnapshot, load_options};
use zkpor_snapshot::Snapshot;
use zkpor_store::{NewSequence, Store};

use super::config::LocalSnapshot;
use super::{CheckedSequence, Polled, SequenceSource, SourceUpdate, new_sequence};

/// Snapshot directories on this machine, each proven as the sequence its
/// configuration names; read once.
pub struct LocalSnapshots {
    snapshots: Vec<LocalSnapshot>,
    submitter: Address,
    known: std::collections::HashSet<u64>,
}

impl LocalSnapshots {
    /// The snapshots of the configuration, bound to `submitter`, but for
    /// the sequences in `known` (already stored: their directories are not
    /// read again).
    pub fn new(snapshots: Vec<LocalSnapshot>, submitter: Address, known: impl IntoIterator<Item = u64>) -> Self {
        LocalSnapshots { snapshots, submitter, known: known.into_iter().collect() }
    }
}

impl SequenceSource for LocalSnapshots {
    fn poll<'a>(&'a mut self, _: &'a Store) -> Polled<'a> {
        Box::pin(async move {
            let mut new = Vec::new();
            for snapshot in &self.snapshots {
                if self.known.insert(snapshot.sequence) {
                    new.push(tokio::task::block_in_place(|| commit_snapshot(snapshot, self.submitter))?);
                }
            }
            Ok(SourceUpdate { new, gone: Vec::new() })
        })
    }
}

/// Loads, validates and commits a snapshot directory.
pub fn commit_snapshot(snapshot: &LocalSnapshot, submitter: Address) -> Result<NewSequence> {
    let at = || format!("snapshot {} (sequence {})", snapshot.path.display(), snapshot.sequence);
    let loaded = Snapshot::load(&snapshot.path, &load_options(&snapshot.family))
        .map_err(|errors| anyhow::anyhow!("{errors}"))
        .with_context(at)?;
    let mut rng = match snapshot.seed {
        Some(seed) => ChaCha20Rng::seed_from_u64(seed),
        None => ChaCha20Rng::from_entropy(),
    };
    let committed = CommittedSnapshot::new(loaded, &snapshot.family, &mut rng).with_context(at)?;
    let checked = CheckedSequence {
        family: snapshot.family.clone(),
        statement_file: committed.statement_file(snapshot.sequence),
        statement: committed.statement().clone(),
        batches: (0..committed.batches().len())
            .map(|index| (committed.batches()[index].tier, committed.batch_leaves(index).to_vec()))
            .collect(),
    };
    new_sequence(&checked, snapshot.sequence, submitter, snapshot.path.display().to_string())
}
