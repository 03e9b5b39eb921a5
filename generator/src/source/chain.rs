//! Sequences posted on the registry become sequences to prove.
//!
//! At each poll the source reads the registry at the block `confirmations`
//! deep: every posted sequence the store does not hold (from
//! `first_sequence` on) is taken in, unless it is already verified (nothing
//! left to earn): its statement is read from its `SequencePosted` event and
//! checked against the stored digest, its witness fetched and checked
//! against the posted root and totals ([`super::witness`]). A refused
//! witness is recorded (`zkpor agent status` shows it) and tried again after
//! `retry_refused_secs`.
//!
//! Sequences taken in are re-checked against the head block: one the chain
//! no longer holds with the root it was taken in with (a reorg removed or
//! replaced its posting) is reported gone, and the generator forgets it, so
//! that nothing goes on proving a sequence that does not exist.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use alloy::eips::BlockId;
use alloy::primitives::{Address as EvmAddress, U256};
use alloy::providers::{DynProvider, Provider};
use anyhow::{Context, Result, ensure};
use tracing::{Instrument, info, info_span, warn};
use zkpor_chain::posted::{PostedSequence, posted_sequence};
use zkpor_chain::registry::{LiabilityRegistry, RegistryStatus, b256_to_hash};
use zkpor_chain::verifier::{VerifierCheck, check_registry_verifier};
use zkpor_circuits::encoding::Address;
use zkpor_circuits::family::Family;
use zkpor_store::{NewSequence, ProvingState, SequenceRow, Store, SubmissionState};

use super::witness::{WitnessSource, check_witness};
use super::{Polled, SequenceSource, SourceUpdate, new_sequence};

/// How a chain-sourced sequence's `source` starts.
pub const SOURCE_PREFIX: &str = "chain";

/// The registry's posted sequences, with witnesses from the exchange.
pub struct ChainSource {
    registry: LiabilityRegistry::LiabilityRegistryInstance<DynProvider>,
    confirmations: u64,
    first_sequence: u64,
    submitter: Address,
    witness: WitnessSource,
    retry_refused: Duration,
    /// Sequences verified before this agent took them in: never proven.
    skipped: HashSet<u64>,
    /// Sequences whose witness was refused, and when to try again.
    refused: HashMap<u64, Instant>,
    /// The registry's verifier compared with this build's, once read.
    verifier: Option<VerifierCheck>,
}

impl ChainSource {
    /// The source of the registry at `registry`, read through `provider`.
    pub fn new(
        provider: DynProvider,
        registry: EvmAddress,
        confirmations: u64,
        first_sequence: u64,
        submitter: Address,
        witness: WitnessSource,
        retry_refused: Duration,
    ) -> Self {
        ChainSource {
            registry: LiabilityRegistry::new(registry, provider),
            confirmations: confirmations.max(1),
            first_sequence: first_sequence.max(1),
            submitter,
            witness,
            retry_refused,
            skipped: HashSet::new(),
            refused: HashMap::new(),
            verifier: None,
        }
    }

    async fn update(&mut self, store: &Store) -> Result<SourceUpdate> {
        let provider = self.registry.provider().clone();
        let head = provider.get_block_number().await.context("reading the head block")?;
        let safe = head.saturating_sub(self.confirmations - 1);
        let stored: HashMap<u64, SequenceRow> =
            store.sequences().await?.into_iter().map(|row| (row.info.sequence, row)).collect();

        let mut gone = Vec::new();
        let at_head = BlockId::number(head);
        let count_at_head =
            self.registry.sequenceCount().block(at_head).call().await.context("reading the sequence count")?;
        for row in stored.values() {
            if self.recheck(store, row).await? && !self.holds(row, at_head, count_at_head).await? {
                warn!(
                    sequence = row.info.sequence,
                    root = %row.info.root,
                    "the chain no longer holds this sequence as it was taken in (a reorg?): forgetting it"
                );
                gone.push(row.info.sequence);
            }
        }

        let registry = *self.registry.address();
        let count = self
            .registry
            .sequenceCount()
            .block(BlockId::number(safe))
            .call()
            .await
            .context("reading the sequence count")?;
        let count = u64::try_from(count).unwrap_or(u64::MAX);
        let mut new = Vec::new();
        for sequence in self.first_sequence..=count {
            if stored.contains_key(&sequence) || self.skipped.contains(&sequence) {
                continue;
            }
            if self.refused.get(&sequence).is_some_and(|retry| Instant::now() < *retry) {
                continue;
            }
            let status = self.registry.status(U256::from(sequence)).block(BlockId::number(safe)).call().await?;
            if RegistryStatus::try_from(status)? == RegistryStatus::Verified {
                info!(sequence, "already verified on chain: not proving it");
                self.skipped.insert(sequence);
                continue;
            }
            let posted = posted_sequence(&provider, registry, sequence, BlockId::number(safe))
                .await?
                .with_context(|| format!("sequence {sequence} is counted but not posted"))?;
            let span = info_span!("take_in", sequence, block = posted.block);
            match self.take_in(&posted).instrument(span).await {
                Ok(sequence_to_prove) => {
                    info!(sequence, root = %posted.root, accounts = posted.account_count, "witness checked against the posted root");
                    self.refused.remove(&sequence);
                    store.clear_refusal(sequence).await?;
                    new.push(sequence_to_prove);
                }
                Err(error) => {
                    let reason = format!("{error:#}");
                    warn!(sequence, root = %posted.root, %reason, "witness refused; nothing of it is proven");
                    store.record_refusal(sequence, posted.root, &reason).await?;
                    self.refused.insert(sequence, Instant::now() + self.retry_refused);
                }
            }
        }
        Ok(SourceUpdate { new, gone })
    }

    /// Whether `row` is to be re-checked against the chain: a sequence this
    /// source took in whose proof has not gone on chain.
    async fn recheck(&self, store: &Store, row: &SequenceRow) -> Result<bool> {
        if !row.info.source.starts_with(SOURCE_PREFIX) {
            return Ok(false);
        }
        if row.status == ProvingState::Proving {
            return Ok(true);
        }
        let submission = store.submission(row.info.sequence).await?;
        Ok(submission.is_none_or(|s| matches!(s.state, SubmissionState::ProofReady | SubmissionState::Waiting)))
    }

    /// Whether the registry at block `at`, holding `count` sequences, holds
    /// `row`'s sequence with its root and digest.
    async fn holds(&self, row: &SequenceRow, at: BlockId, count: U256) -> Result<bool> {
        if U256::from(row.info.sequence) > count {
            return Ok(false);
        }
        let info = self.registry.sequenceInfo(U256::from(row.info.sequence)).block(at).call().await?;
        Ok(b256_to_hash(info.root).ok() == Some(row.info.root)
            && b256_to_hash(info.digest).ok() == Some(row.info.digest))
    }

    /// The sequence to prove for `posted`, once its statement and witness
    /// check out.
    async fn take_in(&mut self, posted: &PostedSequence) -> Result<NewSequence> {
        let statement = posted.statement_file()?;
        if self.verifier.is_none() {
            let provider = self.registry.provider().clone();
            self.verifier = Some(check_registry_verifier(&provider, *self.registry.address()).await?);
        }
        match self.verifier.as_ref().expect("read above") {
            VerifierCheck::Vouched { family } => ensure!(
                statement.family == *family,
                "the statement is for family {}, the registry's verifier checks family {family}: it could never be verified",
                statement.family
            ),
            VerifierCheck::NotVouched { reason, .. } => anyhow::bail!(
                "the registry's verifier is not one this build generates ({reason}): its proofs would prove nothing a user can check"
            ),
        }
        let family: Family = statement.family.parse()?;
        let batches = self.witness.batches(posted.sequence, statement.batches).await.context("fetching the witness")?;
        let checked = tokio::task::block_in_place(|| check_witness(&statement, &family, batches))?;
        let source = format!("{SOURCE_PREFIX} block {} tx {}", posted.block, posted.transaction);
        tokio::task::block_in_place(|| new_sequence(&checked, posted.sequence, self.submitter, source))
    }
}

impl SequenceSource for ChainSource {
    fn poll<'a>(&'a mut self, store: &'a Store) -> Polled<'a> {
        Box::pin(self.update(store))
    }
}
