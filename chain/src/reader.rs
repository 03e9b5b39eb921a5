//! What anyone can read about a sequence from the registry alone: its
//! status, root and digest, the statement from its `SequencePosted` event
//! checked against that digest, when it was verified and who proved it.

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;
use anyhow::{Context, Result, bail};
use serde::Serialize;
use zkpor_circuits::encoding::HashHex;
use zkpor_protocol::statement::StatementFile;

use crate::posted::posted_sequence;
use crate::registry::{LiabilityRegistry, RegistryStatus, b256_to_hash};

/// A sequence as the registry shows it.
#[derive(Clone, Debug, Serialize)]
pub struct SequenceReport {
    /// The sequence number.
    pub sequence: u64,
    /// Where it stands.
    pub status: RegistryStatus,
    /// The account tree's root.
    pub root: HashHex,
    /// The statement's digest, as stored.
    pub digest: HashHex,
    /// The statement from the event, if it hashes to the digest.
    pub statement: Option<StatementFile>,
    /// Why the statement does not check out, if it does not.
    pub statement_error: Option<String>,
    /// The block it was posted in.
    pub posted_block: u64,
    /// The block it was verified in.
    pub verified_block: Option<u64>,
    /// That block's time (Unix seconds).
    pub verified_at: Option<u64>,
    /// Every prover whose valid proof was accepted, first the one that
    /// verified it.
    pub provers: Vec<Address>,
    /// The reward posted with it, in wei.
    pub reward: U256,
    /// The current (or verified) round.
    pub round: u32,
}

/// Sequence `sequence` of `registry`, or the latest verified one.
pub async fn read_sequence<P: Provider>(
    provider: &P,
    registry: Address,
    sequence: Option<u64>,
) -> Result<SequenceReport> {
    let contract = LiabilityRegistry::new(registry, provider);
    let code = provider.get_code_at(registry).await.context("reading the registry's code")?;
    anyhow::ensure!(!code.is_empty(), "there is no contract at the registry address {registry}");
    let sequence = match sequence {
        Some(sequence) => sequence,
        None => {
            let latest =
                contract.latestVerifiedSequence().call().await.context("reading the latest verified sequence")?;
            if latest.is_zero() {
                let posted = contract.sequenceCount().call().await?;
                bail!("no sequence is verified yet ({posted} posted)");
            }
            u64::try_from(latest).context("a sequence number beyond 2^64")?
        }
    };
    let Some(posted) = posted_sequence(provider, registry, sequence, Default::default()).await? else {
        let count = contract.sequenceCount().call().await?;
        bail!("sequence {sequence} is not posted (the registry has {count})");
    };
    let number = U256::from(sequence);
    let status = RegistryStatus::try_from(contract.status(number).call().await.context("reading the status")?)?;
    let info = contract.sequenceInfo(number).call().await.context("reading the sequence")?;
    let (statement, statement_error) = match posted.statement_file() {
        Ok(file) => (Some(file), None),
        Err(error) => (None, Some(format!("{error:#}"))),
    };
    let (verified_block, verified_at, provers) = if info.verifiedBlock == 0 {
        (None, None, Vec::new())
    } else {
        let block = provider
            .get_block_by_number(BlockNumberOrTag::Number(info.verifiedBlock))
            .await
            .context("reading the verification block")?;
        let mut provers = accepted_provers(provider, registry, sequence, info.round, info.verifiedBlock).await?;
        provers.sort_by_key(|p| *p != info.prover);
        (Some(info.verifiedBlock), block.map(|b| b.header.timestamp), provers)
    };
    Ok(SequenceReport {
        sequence,
        status,
        root: b256_to_hash(info.root)?,
        digest: b256_to_hash(info.digest)?,
        statement,
        statement_error,
        posted_block: posted.block,
        verified_block,
        verified_at,
        provers,
        reward: info.reward,
        round: info.round,
    })
}

/// The provers whose proof of `sequence` was accepted in `round`, from the
/// block it was verified in on.
async fn accepted_provers<P: Provider>(
    provider: &P,
    registry: Address,
    sequence: u64,
    round: u32,
    from: u64,
) -> Result<Vec<Address>> {
    let filter = Filter::new()
        .address(registry)
        .event_signature(LiabilityRegistry::ProofAccepted::SIGNATURE_HASH)
        .topic1(B256::from(U256::from(sequence)))
        .from_block(BlockNumberOrTag::Number(from))
        .to_block(BlockNumberOrTag::Latest);
    let logs = provider.get_logs(&filter).await.context("reading ProofAccepted events")?;
    let mut provers = Vec::new();
    for log in logs.iter().filter(|log| !log.removed) {
        let event = log.log_decode::<LiabilityRegistry::ProofAccepted>()?.inner.data;
        if event.round == round && !provers.contains(&event.prover) {
            provers.push(event.prover);
        }
    }
    Ok(provers)
}
