//! Reading the registry's view of one of our sequences, every value at the
//! same block.

use alloy::eips::BlockId;
use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider};
use anyhow::{Context, Result};
use zkpor_chain::registry::LiabilityRegistry::LiabilityRegistryInstance;
use zkpor_chain::registry::{CommitState, LiabilityRegistry, RegistryStatus};

use crate::plan::{OnChain, OurCommit};

/// The registry as one prover sees it.
#[derive(Clone, Debug)]
pub struct RegistryView {
    contract: LiabilityRegistryInstance<DynProvider>,
    prover: Address,
}

impl RegistryView {
    /// The registry at `registry`, seen by `prover`.
    pub fn new(provider: DynProvider, registry: Address, prover: Address) -> Self {
        RegistryView { contract: LiabilityRegistry::new(registry, provider), prover }
    }

    /// The contract.
    pub fn contract(&self) -> &LiabilityRegistryInstance<DynProvider> {
        &self.contract
    }

    /// The chain's head block.
    pub async fn head(&self) -> Result<u64> {
        self.contract.provider().get_block_number().await.context("reading the head block")
    }

    /// `sequence` as the registry sees it at the head block.
    pub async fn sequence(&self, sequence: u64) -> Result<OnChain> {
        let block = self.head().await?;
        let at = BlockId::number(block);
        let number = U256::from(sequence);
        let status = self.contract.status(number).block(at).call().await.context("reading a sequence's status")?;
        let status = RegistryStatus::try_from(status)?;
        if status == RegistryStatus::None {
            return Ok(OnChain { block, status, round: 0, commit_end: 0, reveal_end: 0, ours: None });
        }
        let windows = self.contract.windows(number).block(at).call().await.context("reading a sequence's windows")?;
        let commit =
            self.contract.commitOf(number, self.prover).block(at).call().await.context("reading our commit")?;
        let state = CommitState::try_from(commit.state)?;
        Ok(OnChain {
            block,
            status,
            round: windows.round,
            commit_end: windows.commitEnd,
            reveal_end: windows.revealEnd,
            ours: (state != CommitState::None).then_some(OurCommit { proof_hash: commit.proofHash, state }),
        })
    }

    /// Our commit's state in `round` of `sequence`.
    pub async fn commit_in_round(&self, sequence: u64, round: u32) -> Result<CommitState> {
        let commit = self
            .contract
            .commitInRound(U256::from(sequence), round, self.prover)
            .call()
            .await
            .context("reading our commit")?;
        Ok(CommitState::try_from(commit.state)?)
    }
}
