//! Sequences entering the generator. Where they come from is pluggable
//! ([`SequenceSource`]): snapshot directories on this machine
//! ([`local::LocalSnapshots`]), or the registry's `SequencePosted` events
//! with their witnesses fetched from the exchange ([`chain::ChainSource`]).
//! Each becomes a committed tree and then the task graph the store keeps
//! ([`new_sequence`]).
//!
//! - [`config`]: the `[source]` section of the agent's configuration;
//! - [`local`]: snapshot directories of the configuration;
//! - [`chain`]: the sequences posted on chain, re-checked after reorgs;
//! - [`witness`]: fetching a posted sequence's witness from the exchange
//!   and checking it against what was posted.

pub mod chain;
pub mod config;
pub mod local;
pub mod witness;

use std::future::Future;
use std::pin::Pin;

use anyhow::{Context, Result};
use zkpor_circuits::encoding::{Address, HashHex};
use zkpor_circuits::family::Family;
use zkpor_circuits::leaf::Leaf;
use zkpor_circuits::statement::Statement;
use zkpor_protocol::statement::StatementFile;
use zkpor_protocol::witness::UserWire;
use zkpor_store::{NewSequence, NewTask, SequenceInfo, Store};
use zkpor_tasks::TreeToProve;

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

/// A sequence whose tree the agent has checked and is to prove.
pub struct CheckedSequence {
    /// The family it is proven on.
    pub family: Family,
    /// Its statement, as posted.
    pub statement_file: StatementFile,
    /// The same, checked against its digest.
    pub statement: Statement,
    /// Per batch: its tier and its users, in tree order.
    pub batches: Vec<(usize, Vec<Leaf>)>,
}

/// The sequence of a checked tree: its batches and its tasks, each with
/// what its proof must be.
pub fn new_sequence(
    checked: &CheckedSequence,
    sequence: u64,
    submitter: Address,
    source: String,
) -> Result<NewSequence> {
    let tree = TreeToProve { family: &checked.family, batches: &checked.batches, statement: &checked.statement };
    let graph = tree.graph(sequence);
    let expected = tree.expected(&graph, submitter)?;
    let tasks = NewTask::all_of(&graph, &expected).context("a task without an expected proof")?;
    let batches = checked.batches.iter().map(|(_, leaves)| leaves.iter().map(UserWire::from).collect()).collect();
    let statement = &checked.statement;
    Ok(NewSequence {
        info: SequenceInfo {
            sequence,
            family: checked.family.clone(),
            source,
            submitter,
            prices: statement.prices.clone(),
            tiers: graph.tiers().to_vec(),
            account_count: statement.account_count,
            root: HashHex(statement.root),
            digest: HashHex(statement.digest()),
            statement: checked.statement_file.clone(),
        },
        batches,
        tasks,
    })
}

/// The source `config` names, and how often to poll it: the posted
/// sequences of `chain`'s registry with `[source.exchange]`, else the
/// snapshot directories but for the sequences in `known`.
pub fn open(
    config: &config::SourceConfig,
    chain: Option<&zkpor_chain::config::ChainConfig>,
    known: impl IntoIterator<Item = u64>,
) -> Result<(Box<dyn SequenceSource>, std::time::Duration)> {
    use std::time::Duration;

    let submitter = config.submitter;
    let (Some(exchange), Some(chain)) = (&config.exchange, chain) else {
        let local = local::LocalSnapshots::new(config.snapshots.clone(), submitter, known);
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
