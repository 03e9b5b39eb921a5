//! Sequences entering the generator. Where they come from is pluggable
//! ([`SequenceSource`]): snapshot directories on this machine
//! ([`local::LocalSnapshots`]), or the registry's `SequencePosted` events
//! with their witnesses fetched from the exchange ([`chain::ChainSource`]).
//! Each becomes a committed tree and then the task graph the store keeps
//! ([`new_sequence`]).
//!
//! - [`local`]: snapshot directories of the configuration;
//! - [`chain`]: the sequences posted on chain, re-checked after reorgs;
//! - [`witness`]: fetching a posted sequence's witness from the exchange
//!   and checking it against what was posted.

pub mod chain;
pub mod local;
pub mod witness;

use std::future::Future;
use std::pin::Pin;

use anyhow::Result;
use zkpor_circuits::Shape;
use zkpor_circuits::account::AccountLeaf;
use zkpor_circuits::encoding::{Address, HashHex};
use zkpor_circuits::final_wrap::FinalInputs;
use zkpor_circuits::layout::TreeLayout;
use zkpor_circuits::merkle::AccountTree;
use zkpor_circuits::statement::Statement;
use zkpor_store::{NewSequence, NewTask, SequenceInfo, Store};
use zkpor_tasks::expected::CommittedTree;
use zkpor_tasks::{AccountWire, TaskGraph};

/// What a source has for the generator at one poll.
#[derive(Debug, Default)]
pub struct SourceUpdate {
    /// Sequences to store (those already stored are skipped).
    pub new: Vec<NewSequence>,
    /// Stored sequences that no longer exist as they were taken in (a reorg
    /// took their posting away): to forget.
    pub gone: Vec<u64>,
}

/// What [`SequenceSource::poll`] returns.
pub type Polled<'a> = Pin<Box<dyn Future<Output = Result<SourceUpdate>> + Send + 'a>>;

/// Where sequences to prove come from.
pub trait SequenceSource: Send {
    /// What changed since the last poll, given what `store` holds. Called at
    /// start-up and then periodically.
    fn poll<'a>(&'a mut self, store: &'a Store) -> Polled<'a>;
}

/// A tree the agent is to prove: its shape, statement and leaves.
pub struct TreeToProve<'a> {
    /// The circuit shape.
    pub shape: Shape,
    /// The statement the tree proves.
    pub statement: &'a Statement,
    /// Every account's leaf, in tree order.
    pub leaves: &'a [AccountLeaf],
    /// The tree over them.
    pub tree: &'a AccountTree,
}

/// The sequence of a committed tree: its batches and its tasks, each with
/// the public inputs its proof must state.
pub fn new_sequence(tree: &TreeToProve, sequence: u64, submitter: Address, source: String) -> Result<NewSequence> {
    let TreeToProve { shape, statement, leaves, tree } = *tree;
    let layout = TreeLayout::new(shape, leaves.len());
    let graph = TaskGraph::new(sequence, layout);
    let committed = CommittedTree {
        shape,
        leaves,
        tree,
        prices: &statement.prices,
        final_inputs: FinalInputs { root: statement.root, digest: statement.digest(), sequence, submitter },
    };
    let tasks = NewTask::all_of(&graph, |key| committed.expected_inputs(key))?;
    let batches =
        leaves.chunks(shape.batch_size()).map(|chunk| chunk.iter().map(AccountWire::from).collect()).collect();
    let batches = pad_batches(batches, layout.batches());
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

/// `batches` with empty ones added up to `count` (a tree without accounts
/// still has one batch).
fn pad_batches(mut batches: Vec<Vec<AccountWire>>, count: usize) -> Vec<Vec<AccountWire>> {
    batches.resize_with(count.max(batches.len()), Vec::new);
    batches
}

/// The source `config` names, and how often to poll it: the registry's
/// posted sequences with `[source.exchange]`, else the snapshot directories
/// but for the sequences in `known`.
pub fn from_config(
    config: &crate::AgentConfig,
    known: impl IntoIterator<Item = u64>,
) -> Result<(Box<dyn SequenceSource>, std::time::Duration)> {
    use std::time::Duration;

    let submitter = config.source.submitter;
    let (Some(exchange), Some(chain)) = (&config.source.exchange, &config.chain) else {
        let local = local::LocalSnapshots::new(config.source.snapshots.clone(), submitter, known);
        return Ok((Box::new(local), Duration::from_secs(60)));
    };
    let witness = match (&exchange.url, &exchange.archive) {
        (Some(url), _) => {
            witness::WitnessSource::http(url, &exchange.token()?, Duration::from_secs(exchange.timeout_secs))?
        }
        (None, Some(archive)) => {
            witness::WitnessSource::Archive(zkpor_exchange::archive::SequenceArchive::new(archive))
        }
        (None, None) => anyhow::bail!("source.exchange needs url or archive"),
    };
    let source = chain::ChainSource::new(
        chain.provider()?,
        chain.registry,
        chain.confirmations,
        exchange.first_sequence,
        submitter,
        witness,
        Duration::from_secs(exchange.retry_refused_secs),
    );
    Ok((Box::new(source), Duration::from_millis(exchange.poll_interval_ms)))
}
