//! Sequences posted on the registry, as its `SequencePosted` events carry
//! them: root, digest, account count, reward and the encoded statement.

use alloy::eips::{BlockId, BlockNumberOrTag};
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::Provider;
use alloy::rpc::types::{Filter, Log};
use alloy::sol_types::SolEvent;
use anyhow::{Context, Result, ensure};
use zkpor_circuits::encoding::HashHex;
use zkpor_protocol::statement::StatementFile;

use crate::registry::{LiabilityRegistry, b256_to_hash};
use crate::statement::OnChainStatement;

/// One `SequencePosted` event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostedSequence {
    /// The sequence number.
    pub sequence: u64,
    /// The account tree's root.
    pub root: HashHex,
    /// The statement's digest.
    pub digest: HashHex,
    /// Accounts in the tree.
    pub account_count: u64,
    /// The reward posted with it, in wei.
    pub reward: U256,
    /// The encoded statement, as emitted (decoded by [`Self::statement_file`]).
    pub statement: Bytes,
    /// The block that holds the event.
    pub block: u64,
    /// That block's hash: a reorg that replaces the block changes it.
    pub block_hash: B256,
    /// The posting transaction.
    pub transaction: B256,
}

impl PostedSequence {
    /// The event of `log`; fails on a log that is not a `SequencePosted`
    /// event or not yet in a block.
    pub fn from_log(log: &Log) -> Result<Self> {
        let event = log.log_decode::<LiabilityRegistry::SequencePosted>().context("decoding a SequencePosted event")?;
        let data = event.inner.data;
        let sequence = u64::try_from(data.sequence).context("a sequence number beyond 2^64")?;
        Ok(PostedSequence {
            sequence,
            root: b256_to_hash(data.root).with_context(|| format!("the root of sequence {sequence}"))?,
            digest: b256_to_hash(data.digest).with_context(|| format!("the digest of sequence {sequence}"))?,
            account_count: data.accountCount,
            reward: data.reward,
            statement: data.statement,
            block: log.block_number.context("a SequencePosted event outside a block")?,
            block_hash: log.block_hash.context("a SequencePosted event outside a block")?,
            transaction: log.transaction_hash.unwrap_or_default(),
        })
    }

    /// The statement the event carries, decoded and checked against the
    /// digest: a statement that does not hash to it is an error.
    pub fn statement_file(&self) -> Result<StatementFile> {
        let statement = OnChainStatement::decode(&self.statement)
            .with_context(|| format!("the statement posted with sequence {}", self.sequence))?;
        statement
            .to_checked_file(self.sequence, self.root, self.account_count, self.digest)
            .with_context(|| format!("the statement posted with sequence {}", self.sequence))
    }
}

/// The `SequencePosted` events of `registry` in blocks `from..=to`, in
/// order; `sequence` narrows them to one sequence.
pub async fn posted_between<P: Provider>(
    provider: &P,
    registry: Address,
    from: u64,
    to: u64,
    sequence: Option<u64>,
) -> Result<Vec<PostedSequence>> {
    let mut filter = Filter::new()
        .address(registry)
        .event_signature(LiabilityRegistry::SequencePosted::SIGNATURE_HASH)
        .from_block(BlockNumberOrTag::Number(from))
        .to_block(BlockNumberOrTag::Number(to));
    if let Some(sequence) = sequence {
        filter = filter.topic1(B256::from(U256::from(sequence)));
    }
    let logs = provider
        .get_logs(&filter)
        .await
        .with_context(|| format!("reading SequencePosted events of blocks {from}..={to}"))?;
    logs.iter().filter(|log| !log.removed).map(PostedSequence::from_log).collect()
}

/// Sequence `sequence` as posted according to the registry's state at block
/// `at`, if it is: its event read from the block the registry says it was
/// posted in.
pub async fn posted_sequence<P: Provider>(
    provider: &P,
    registry: Address,
    sequence: u64,
    at: BlockId,
) -> Result<Option<PostedSequence>> {
    let contract = LiabilityRegistry::new(registry, provider);
    let count = contract.sequenceCount().block(at).call().await.context("reading the registry's sequence count")?;
    if sequence == 0 || U256::from(sequence) > count {
        return Ok(None);
    }
    let info = contract.sequenceInfo(U256::from(sequence)).block(at).call().await.context("reading a sequence")?;
    let block = info.postedBlock;
    let events = posted_between(provider, registry, block, block, Some(sequence)).await?;
    let posted = events.into_iter().next().with_context(|| {
        format!("the registry says sequence {sequence} was posted in block {block}, but that block has no such event")
    })?;
    ensure!(
        posted.root == b256_to_hash(info.root)? && posted.digest == b256_to_hash(info.digest)?,
        "the SequencePosted event of sequence {sequence} does not match the registry's stored root and digest"
    );
    Ok(Some(posted))
}
