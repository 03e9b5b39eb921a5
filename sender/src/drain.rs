//! The sender: three caches, each drained by a task of its own, lowest
//! sequence first. Every pass re-reads the chain before acting, so a message
//! that waited is never acted on from a stale view. What a drainer decides
//! is written to the sequence's submission in the store: that is how the
//! manager hears of it, and what survives a crash.

use std::collections::BTreeSet;
use std::sync::Arc;

use alloy::primitives::U256;
use alloy::sol_types::SolCall;
use anyhow::{Context, Result};
use parking_lot::Mutex;
use thiserror::Error;
use tokio::sync::watch;
use tracing::{info, warn};
use zkpor_chain::registry::{CommitState, LiabilityRegistry};
use zkpor_store::{StateChange, Store, SubmissionState, TxPurpose, TxRecord, TxStatus};

use crate::cache::{PriorityCache, Sequenced};
use crate::messages::{CommitMessage, ProofToSend, RevealMessage, WatchMessage};
use crate::plan::{Step, next_step};
use crate::transactor::{Call, SendError, Transactor};
use crate::view::RegistryView;

/// A sequence handed to the sender while it already holds it.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("sequence {0} is already with the sender")]
pub struct AlreadyHeld(pub u64);

/// What a drainer does with a message after a pass.
#[derive(Debug)]
enum Next<T> {
    /// Back into its cache, for the next pass.
    Keep(T),
    /// Out of the sender: the manager decides what comes next.
    Release,
    /// On to the watch cache.
    Watch(WatchMessage),
    /// On to the reveal cache.
    Reveal(RevealMessage),
}

/// A message kind with its cache and the step its drainer takes.
trait Stage: Sequenced + Clone + Send + Sync + Sized + 'static {
    fn cache(sender: &Sender) -> &PriorityCache<Self>;
    fn step(sender: &Sender, message: &Self) -> impl Future<Output = Result<Next<Self>>> + Send;
}

impl Stage for CommitMessage {
    fn cache(sender: &Sender) -> &PriorityCache<Self> {
        &sender.commits
    }
    fn step(sender: &Sender, message: &Self) -> impl Future<Output = Result<Next<Self>>> + Send {
        sender.commit_step(message)
    }
}

impl Stage for WatchMessage {
    fn cache(sender: &Sender) -> &PriorityCache<Self> {
        &sender.watched
    }
    fn step(sender: &Sender, message: &Self) -> impl Future<Output = Result<Next<Self>>> + Send {
        sender.watch_step(message)
    }
}

impl Stage for RevealMessage {
    fn cache(sender: &Sender) -> &PriorityCache<Self> {
        &sender.reveals
    }
    fn step(sender: &Sender, message: &Self) -> impl Future<Output = Result<Next<Self>>> + Send {
        sender.reveal_step(message)
    }
}

/// The proof sender of one account.
pub struct Sender {
    commits: PriorityCache<CommitMessage>,
    watched: PriorityCache<WatchMessage>,
    reveals: PriorityCache<RevealMessage>,
    held: Mutex<BTreeSet<u64>>,
    transactor: Arc<Transactor>,
    registry: RegistryView,
    store: Store,
    commit_margin: u64,
}

impl Sender {
    /// A sender committing through `transactor` to the registry of
    /// `registry`; a commit goes out only with `commit_margin` blocks of T1
    /// left.
    pub fn new(transactor: Arc<Transactor>, registry: RegistryView, store: Store, commit_margin: u64) -> Self {
        Sender {
            commits: PriorityCache::new("commit"),
            watched: PriorityCache::new("watch"),
            reveals: PriorityCache::new("reveal"),
            held: Mutex::new(BTreeSet::new()),
            transactor,
            registry,
            store,
            commit_margin,
        }
    }

    /// Whether the sender holds `sequence` (in a cache or being handled).
    pub fn holds(&self, sequence: u64) -> bool {
        self.held.lock().contains(&sequence)
    }

    fn hold(&self, sequence: u64) -> Result<(), AlreadyHeld> {
        if self.held.lock().insert(sequence) { Ok(()) } else { Err(AlreadyHeld(sequence)) }
    }

    /// Hands a proof over to be committed.
    pub fn commit(&self, message: CommitMessage) -> Result<(), AlreadyHeld> {
        self.hold(message.sequence())?;
        self.commits.push(message).map_err(|duplicate| AlreadyHeld(duplicate.sequence))
    }

    /// Hands over a commit to watch (after a restart).
    pub fn watch(&self, message: WatchMessage) -> Result<(), AlreadyHeld> {
        self.hold(message.sequence())?;
        self.watched.push(message).map_err(|duplicate| AlreadyHeld(duplicate.sequence))
    }

    /// Hands over a proof to reveal, or a reveal to watch (after a restart).
    pub fn reveal(&self, message: RevealMessage) -> Result<(), AlreadyHeld> {
        self.hold(message.sequence())?;
        self.reveals.push(message).map_err(|duplicate| AlreadyHeld(duplicate.sequence))
    }

    /// Runs the three drainers until `shutdown` turns true; each makes a
    /// pass when a message arrives and when `head` (the chain's head block)
    /// moves.
    pub async fn run(self: Arc<Self>, head: watch::Receiver<u64>, shutdown: watch::Receiver<bool>) {
        let drainers = [
            tokio::spawn(self.clone().drain::<CommitMessage>(head.clone(), shutdown.clone())),
            tokio::spawn(self.clone().drain::<WatchMessage>(head.clone(), shutdown.clone())),
            tokio::spawn(self.drain::<RevealMessage>(head, shutdown)),
        ];
        for drainer in drainers {
            if let Err(error) = drainer.await {
                warn!(%error, "a sender drainer ended abnormally");
            }
        }
    }

    async fn drain<T: Stage>(self: Arc<Self>, mut head: watch::Receiver<u64>, mut shutdown: watch::Receiver<bool>) {
        let cache = T::cache(&self);
        loop {
            let mark = cache.pushes();
            for sequence in cache.sequences() {
                if *shutdown.borrow() {
                    return;
                }
                let Some(message) = cache.remove(sequence) else { continue };
                let next = match T::step(&self, &message).await {
                    Ok(next) => next,
                    Err(error) => {
                        warn!(sequence, cache = cache.name(), error = format!("{error:#}"), "will try again");
                        Next::Keep(message)
                    }
                };
                self.route(cache, sequence, next);
            }
            tokio::select! {
                _ = cache.pushed_since(mark) => {}
                changed = head.changed() => if changed.is_err() { return },
                _ = shutdown.changed() => return,
            }
        }
    }

    fn route<T: Sequenced>(&self, cache: &PriorityCache<T>, sequence: u64, next: Next<T>) {
        let pushed = match next {
            Next::Keep(message) => cache.push(message).map_err(|d| d.sequence),
            Next::Release => {
                self.held.lock().remove(&sequence);
                Ok(())
            }
            Next::Watch(message) => self.watched.push(message).map_err(|d| d.sequence),
            Next::Reveal(message) => self.reveals.push(message).map_err(|d| d.sequence),
        };
        if let Err(sequence) = pushed {
            warn!(sequence, "a message for this sequence is already queued; keeping that one");
        }
    }

    async fn record(&self, sequence: u64, change: StateChange) -> Result<()> {
        info!(sequence, state = %change.state, reason = ?change.reason, "submission");
        self.store.update_submission(sequence, &change).await.context("recording a submission's state")
    }

    /// A transaction that was not sent: a predicted revert leaves the
    /// sequence waiting, with the reason, for the manager to route again; a
    /// chain error is retried.
    async fn not_sent<T>(&self, sequence: u64, what: &str, error: SendError) -> Result<Next<T>> {
        match error {
            SendError::WouldRevert { reason, .. } => {
                let change = StateChange::to(SubmissionState::Waiting).because(format!("{what} not sent: {reason}"));
                self.record(sequence, change).await?;
                Ok(Next::Release)
            }
            SendError::Chain(error) => Err(error),
        }
    }

    fn call(&self, proof: &ProofToSend, purpose: TxPurpose, round: u32, input: Vec<u8>) -> Call {
        Call::about(*self.registry.contract().address(), purpose, proof.sequence, round, input)
    }

    /// Cache 1: commit the proof hash if the round lets us.
    async fn commit_step(&self, message: &CommitMessage) -> Result<Next<CommitMessage>> {
        let proof = &message.proof;
        let view = self.registry.sequence(proof.sequence).await?;
        let Step::Commit { round } = next_step(&view, proof.proof_hash, self.commit_margin) else {
            return Ok(Next::Release);
        };
        let input = LiabilityRegistry::submitProofHashCall {
            sequence: U256::from(proof.sequence),
            proofHash: proof.proof_hash,
        }
        .abi_encode();
        match self.transactor.send(&self.call(proof, TxPurpose::Commit, round, input)).await {
            Ok(record) => {
                let change =
                    StateChange { new_round: true, ..StateChange::to(SubmissionState::Committing).in_round(round) };
                self.record(proof.sequence, change).await?;
                Ok(Next::Watch(WatchMessage { proof: proof.clone(), round, commit_nonce: Some(record.tx.nonce) }))
            }
            Err(error) => self.not_sent(proof.sequence, "commit", error).await,
        }
    }

    /// Our transaction `nonce`, as last followed.
    async fn transaction(&self, nonce: u64) -> Result<TxRecord> {
        self.store
            .transaction(&self.transactor.account_key(), nonce)
            .await?
            .with_context(|| format!("transaction {nonce} is not recorded"))
    }

    /// Cache 2: wait for the commit to be final and T1 to be over.
    async fn watch_step(&self, message: &WatchMessage) -> Result<Next<WatchMessage>> {
        let sequence = message.proof.sequence;
        let mut message = message.clone();
        if let Some(nonce) = message.commit_nonce {
            let record = self.transaction(nonce).await?;
            match record.status {
                TxStatus::Pending => return Ok(Next::Keep(message)),
                TxStatus::Mined => {
                    self.record(sequence, StateChange::to(SubmissionState::Committed).in_round(message.round)).await?;
                    message.commit_nonce = None;
                }
                TxStatus::Reverted | TxStatus::Dropped => {
                    let reason = format!("our commit {} was {}", record.latest().hash, record.status);
                    self.record(sequence, StateChange::to(SubmissionState::Waiting).because(reason)).await?;
                    return Ok(Next::Release);
                }
            }
        }
        let view = self.registry.sequence(sequence).await?;
        match next_step(&view, message.proof.proof_hash, self.commit_margin) {
            Step::WaitToReveal { .. } => Ok(Next::Keep(message)),
            Step::Reveal { round, .. } => {
                Ok(Next::Reveal(RevealMessage { proof: message.proof, round, reveal_nonce: None }))
            }
            _ => Ok(Next::Release),
        }
    }

    /// Cache 3: reveal inside T2 a proof the registry would accept, then
    /// watch the reveal.
    async fn reveal_step(&self, message: &RevealMessage) -> Result<Next<RevealMessage>> {
        let proof = &message.proof;
        if let Some(nonce) = message.reveal_nonce {
            let record = self.transaction(nonce).await?;
            let change =
                match record.status {
                    TxStatus::Pending => return Ok(Next::Keep(message.clone())),
                    TxStatus::Mined => match self.registry.commit_in_round(proof.sequence, message.round).await? {
                        CommitState::Valid | CommitState::Rewarded => StateChange {
                            done_block: record.block,
                            ..StateChange::to(SubmissionState::Verified).in_round(message.round)
                        },
                        CommitState::Invalid => StateChange::to(SubmissionState::Failed)
                            .because("the registry judged our revealed proof invalid and slashed us"),
                        other => StateChange::to(SubmissionState::Waiting)
                            .because(format!("our reveal was mined, yet our commit is {other:?}")),
                    },
                    TxStatus::Reverted | TxStatus::Dropped => StateChange::to(SubmissionState::Waiting)
                        .because(format!("our reveal {} was {}", record.latest().hash, record.status)),
                };
            self.record(proof.sequence, change).await?;
            return Ok(Next::Release);
        }
        let view = self.registry.sequence(proof.sequence).await?;
        let Step::Reveal { round, .. } = next_step(&view, proof.proof_hash, self.commit_margin) else {
            return Ok(Next::Release);
        };
        let input =
            LiabilityRegistry::submitProofCall { sequence: U256::from(proof.sequence), proof: proof.calldata.clone() };
        let call = self.call(proof, TxPurpose::Reveal, round, input.abi_encode());
        let outcome = match self.transactor.simulate(&call).await {
            Ok(returned) => {
                let valid = LiabilityRegistry::submitProofCall::abi_decode_returns(&returned)
                    .context("decoding submitProof's result")?;
                if !valid {
                    let reason =
                        "the registry's verifier rejects our proof: not revealed (an invalid reveal is slashed)";
                    self.record(proof.sequence, StateChange::to(SubmissionState::Failed).because(reason)).await?;
                    return Ok(Next::Release);
                }
                self.transactor.send_simulated(&call).await
            }
            Err(error) => Err(error),
        };
        match outcome {
            Ok(record) => {
                self.record(proof.sequence, StateChange::to(SubmissionState::Revealing).in_round(round)).await?;
                Ok(Next::Keep(RevealMessage { proof: proof.clone(), round, reveal_nonce: Some(record.tx.nonce) }))
            }
            Err(error) => self.not_sent(proof.sequence, "reveal", error).await,
        }
    }
}
