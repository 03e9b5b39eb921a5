//! The exchange posting a sequence: the committed tree is written to the
//! archive first (as pending), then posted with its statement and reward,
//! then moved to the number the registry gave it. A publication that died
//! half-way is finished (posted) or discarded (never posted) by the next.

use std::path::PathBuf;

use alloy::eips::BlockId;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use anyhow::{Context, Result, ensure};
use serde::Serialize;
use tracing::{info, warn};
use zkpor_circuits::encoding::HashHex;
use zkpor_exchange::archive::SequenceArchive;
use zkpor_exchange::committed::CommittedSnapshot;
use zkpor_exchange::server::PostedRoots;
use zkpor_protocol::statement::StatementFile;

use crate::posted::posted_sequence;
use crate::registry::{LiabilityRegistry, LiabilityRegistryErrors, b256_to_hash, hash_to_b256};
use crate::statement::OnChainStatement;
use crate::verifier::{VerifierCheck, check_registry_verifier};

/// A posted sequence, as `zkpor exchange publish` reports it.
#[derive(Clone, Debug, Serialize)]
pub struct Published {
    /// The number the registry gave it.
    pub sequence: u64,
    /// The account tree's root.
    pub root: HashHex,
    /// The statement's digest.
    pub digest: HashHex,
    /// Accounts in the tree.
    pub account_count: u64,
    /// The reward posted with it, in wei.
    pub reward: U256,
    /// The block that holds the posting.
    pub block: u64,
    /// The posting transaction.
    pub transaction: B256,
    /// Gas it used.
    pub gas_used: u64,
    /// Where the archive keeps its witness and user proofs.
    pub dir: PathBuf,
}

/// Brings the archive in line with the chain: a sequence the chain no longer
/// holds with the archive's root (a reorg) is moved aside; a pending one
/// whose root was posted is moved to its number, one never posted is
/// deleted. The pending sequences finished, with their numbers.
pub async fn reconcile<P: Provider>(
    provider: &P,
    registry: Address,
    archive: &SequenceArchive,
) -> Result<Vec<(u64, StatementFile)>> {
    let contract = LiabilityRegistry::new(registry, provider);
    let count = u64::try_from(contract.sequenceCount().call().await.context("reading the sequence count")?)
        .context("a sequence count beyond 2^64")?;
    let root_of = async |sequence: u64| -> Result<HashHex> {
        let info = contract.sequenceInfo(U256::from(sequence)).call().await.context("reading a sequence")?;
        Ok(b256_to_hash(info.root)?)
    };
    for sequence in archive.sequences()? {
        if sequence > count || root_of(sequence).await? != archive.root(sequence)? {
            let moved = archive.orphan(sequence)?;
            warn!(sequence, to = %moved.display(), "the chain no longer holds this archived sequence (a reorg?): moved aside");
        }
    }
    let mut finished = Vec::new();
    let mut pending = archive.pending()?;
    let archived = archive.sequences()?.last().copied().unwrap_or(0);
    // Sequences posted after the last archived one: a pending root is among them.
    for sequence in (archived + 1..=count).rev() {
        if pending.is_empty() {
            break;
        }
        let root = root_of(sequence).await?;
        if let Some(index) = pending.iter().position(|p| p.statement.root == root) {
            let entry = pending.swap_remove(index);
            let dir = archive.settle(&entry, sequence).await?;
            info!(sequence, dir = %dir.display(), "an earlier publication was posted: archived");
            finished.push((sequence, StatementFile { sequence, ..entry.statement }));
        }
    }
    for entry in pending {
        warn!(root = %entry.statement.root, "an earlier publication never reached the chain: discarded");
        archive.discard(&entry)?;
    }
    Ok(finished)
}

/// Posts `committed` as the next sequence of `registry` from `sequencer`
/// (the provider's signer), with `reward` wei, after writing it to
/// `archive`.
pub async fn publish<P: Provider>(
    provider: &P,
    registry: Address,
    sequencer: Address,
    archive: &SequenceArchive,
    committed: &CommittedSnapshot,
    reward: U256,
) -> Result<Published> {
    let code = provider.get_code_at(registry).await.context("reading the registry's code")?;
    ensure!(!code.is_empty(), "there is no contract at the registry address {registry}");
    let contract = LiabilityRegistry::new(registry, provider);
    let allowed = contract.sequencer().call().await.context("reading the registry's sequencer")?;
    ensure!(
        allowed == sequencer,
        "{sequencer} is not the registry's sequencer ({allowed}): only it may post sequences"
    );
    let family = committed.family().name();
    match check_registry_verifier(provider, registry).await? {
        VerifierCheck::Vouched { family: registry_family } => ensure!(
            registry_family == family,
            "the registry's sequences are proven on family {registry_family}, the tree is built on family {family}: \
             no proof of it could ever be verified"
        ),
        VerifierCheck::NotVouched { family: registry_family, reason } => {
            ensure!(
                registry_family == family,
                "the registry records family {registry_family}, the tree is built on family {family}"
            );
            warn!("the registry's verifier is not vouched for by this build: {reason}");
        }
    }
    let finished = reconcile(provider, registry, archive).await?;
    let new_statement = committed.statement_file(0);
    if let Some((sequence, earlier)) = finished.iter().find(|(_, earlier)| same_claim(earlier, &new_statement)) {
        anyhow::bail!(
            "an earlier publication of the same balances (interrupted before it finished) was posted as sequence \
             {sequence} with root {}: it is archived now; not posting them again",
            earlier.root
        );
    }

    let expected = u64::try_from(contract.sequenceCount().call().await?).context("a sequence count beyond 2^64")? + 1;
    let pending = archive.write_pending(committed, expected).await?;
    let statement = &pending.statement;
    let encoded = OnChainStatement::from_file(statement)?.encode();
    let call = contract
        .postSequence(
            hash_to_b256(statement.root),
            hash_to_b256(statement.digest),
            statement.account_count,
            encoded.into(),
        )
        .value(reward);
    if let Err(error) = call.call().await {
        archive.discard(&pending)?;
        let reason = error
            .as_decoded_interface_error::<LiabilityRegistryErrors>()
            .map(|e| format!("{e:?}"))
            .unwrap_or_else(|| error.to_string());
        anyhow::bail!("the registry would refuse the sequence: {reason}");
    }
    let sent = call.send().await.context("sending postSequence")?;
    info!(transaction = %sent.tx_hash(), "postSequence sent");
    let receipt = sent.get_receipt().await.context("waiting for postSequence to be mined")?;
    ensure!(receipt.status(), "postSequence {} reverted", receipt.transaction_hash);
    let event = receipt
        .decoded_log::<LiabilityRegistry::SequencePosted>()
        .context("postSequence was mined without a SequencePosted event")?;
    let sequence = u64::try_from(event.sequence).context("a sequence number beyond 2^64")?;
    if sequence != expected {
        warn!(expected, sequence, "another posting came first: the sequence got another number");
    }
    let dir = archive.settle(&pending, sequence).await?;
    Ok(Published {
        sequence,
        root: statement.root,
        digest: statement.digest,
        account_count: statement.account_count,
        reward,
        block: receipt.block_number.unwrap_or_default(),
        transaction: receipt.transaction_hash,
        gas_used: receipt.gas_used,
        dir,
    })
}

/// Whether two statements claim the same accounts, prices and totals
/// (their roots differ: every publication draws new nonces).
fn same_claim(a: &StatementFile, b: &StatementFile) -> bool {
    a.account_count == b.account_count && a.assets == b.assets && a.family == b.family
}

/// The registry answering which root a sequence is posted with, for the
/// exchange's endpoint.
pub struct RegistryRoots<P> {
    provider: P,
    registry: Address,
}

impl<P> RegistryRoots<P> {
    /// The registry at `registry`, read through `provider`.
    pub fn new(provider: P, registry: Address) -> Self {
        RegistryRoots { provider, registry }
    }
}

impl<P: Provider + Send + Sync + 'static> PostedRoots for RegistryRoots<P> {
    fn posted_root(
        &self,
        sequence: u64,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Option<HashHex>>> + Send + '_>> {
        Box::pin(async move {
            let posted = posted_sequence(&self.provider, self.registry, sequence, BlockId::latest()).await?;
            Ok(posted.map(|p| p.root))
        })
    }
}
