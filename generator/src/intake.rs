//! Sequences entering the generator: where they come from is pluggable
//! ([`SequenceSource`]); each becomes a committed tree and then the task
//! graph the store keeps ([`NewSequence`]).

use anyhow::{Context, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpor_circuits::encoding::{Address, HashHex};
use zkpor_circuits::final_wrap::FinalInputs;
use zkpor_exchange::committed::CommittedSnapshot;
use zkpor_exchange::pipeline::{choose_shape, load_options};
use zkpor_snapshot::Snapshot;
use zkpor_store::{NewSequence, NewTask, SequenceInfo};
use zkpor_tasks::expected::CommittedTree;
use zkpor_tasks::{AccountWire, TaskGraph};

use crate::config::LocalSnapshot;

/// Where sequences to prove come from.
pub trait SequenceSource: Send {
    /// The sequences available now; the generator stores those it does not
    /// know yet. Called at start-up and then periodically.
    fn poll(&mut self) -> Result<Vec<NewSequence>>;
}

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
    fn poll(&mut self) -> Result<Vec<NewSequence>> {
        let mut out = Vec::new();
        for snapshot in &self.snapshots {
            if self.known.insert(snapshot.sequence) {
                out.push(commit_snapshot(snapshot, self.submitter)?);
            }
        }
        Ok(out)
    }
}

/// Loads, validates and commits a snapshot directory.
pub fn commit_snapshot(snapshot: &LocalSnapshot, submitter: Address) -> Result<NewSequence> {
    let loaded = Snapshot::load(&snapshot.path, &load_options(snapshot.shape))
        .map_err(|errors| anyhow::anyhow!("{errors}"))
        .with_context(|| format!("snapshot {} (sequence {})", snapshot.path.display(), snapshot.sequence))?;
    let shape = choose_shape(snapshot.shape, &loaded)?;
    let mut rng = match snapshot.seed {
        Some(seed) => ChaCha20Rng::seed_from_u64(seed),
        None => ChaCha20Rng::from_entropy(),
    };
    let committed = CommittedSnapshot::new(loaded, shape, &mut rng)?;
    new_sequence(&committed, snapshot.sequence, submitter, snapshot.path.display().to_string())
}

/// The sequence of a committed tree: its batches and its tasks, each with
/// the public inputs its proof must state.
pub fn new_sequence(
    committed: &CommittedSnapshot,
    sequence: u64,
    submitter: Address,
    source: String,
) -> Result<NewSequence> {
    let shape = committed.shape();
    let statement = committed.statement();
    let layout = committed.layout();
    let graph = TaskGraph::new(sequence, layout);
    let tree = CommittedTree {
        shape,
        leaves: committed.leaves(),
        tree: committed.tree(),
        prices: &statement.prices,
        final_inputs: FinalInputs { root: statement.root, digest: statement.digest(), sequence, submitter },
    };
    let tasks = NewTask::all_of(&graph, |key| tree.expected_inputs(key))?;
    let batches = (0..layout.batches())
        .map(|i| {
            let start = (i * shape.batch_size()).min(committed.leaves().len());
            let end = (start + shape.batch_size()).min(committed.leaves().len());
            committed.leaves()[start..end].iter().map(AccountWire::from).collect()
        })
        .collect();
    Ok(NewSequence {
        info: SequenceInfo {
            sequence,
            shape,
            source,
            submitter,
            prices: statement.prices.clone(),
            account_count: statement.account_count,
            root: HashHex(statement.root),
            digest: HashHex(statement.digest()),
        },
        batches,
        tasks,
    })
}
