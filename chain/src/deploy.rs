//! Deploying the registry.

use alloy::network::Ethereum;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{PendingTransactionBuilder, Provider};
use alloy::rpc::types::TransactionReceipt;
use anyhow::{Context, Result, ensure};
use serde::Serialize;
use tracing::info;

use crate::registry::LiabilityRegistry;

/// The registry's constructor arguments.
#[derive(Clone, Debug)]
pub struct RegistryParams {
    /// The plonky2 verifier contract of the family's final circuit.
    pub verifier: Address,
    /// The circuit family's name.
    pub family: String,
    /// The family's digest.
    pub family_digest: B256,
    /// Who may post sequences.
    pub sequencer: Address,
    /// Stake a prover needs to commit (wei).
    pub min_stake: U256,
    /// Commit window T1, in blocks.
    pub commit_window: u64,
    /// Reveal window T2, in blocks.
    pub reveal_window: u64,
}

/// Where a registry was deployed.
#[derive(Clone, Debug, Serialize)]
pub struct Deployment {
    /// The registry's address.
    pub registry: Address,
    /// Its verifier.
    pub verifier: Address,
    /// The circuit family it records.
    pub family: String,
    /// The family's digest.
    pub family_digest: B256,
    /// Its owner (the deployer).
    pub owner: Address,
    /// Its sequencer.
    pub sequencer: Address,
    /// The chain it lives on.
    pub chain_id: u64,
    /// Block of the deployment.
    pub block: u64,
    /// The deployment transaction.
    pub transaction: B256,
}

/// Waits for a deployment transaction; the created contract and the receipt.
pub(crate) async fn created_contract(
    pending: PendingTransactionBuilder<Ethereum>,
    what: &str,
) -> Result<(Address, TransactionReceipt)> {
    let receipt = pending.get_receipt().await.with_context(|| format!("waiting for the {what}'s deployment"))?;
    ensure!(receipt.status(), "the {what}'s deployment {} reverted", receipt.transaction_hash);
    let address = receipt.contract_address.with_context(|| format!("the {what}'s deployment created no contract"))?;
    Ok((address, receipt))
}

/// Deploys the registry from the provider's default signer.
pub async fn deploy_registry<P: Provider>(provider: &P, params: &RegistryParams) -> Result<Deployment> {
    let code = provider.get_code_at(params.verifier).await.context("reading the verifier's code")?;
    ensure!(!code.is_empty(), "there is no contract at the verifier address {}", params.verifier);
    let builder = LiabilityRegistry::deploy_builder(
        provider,
        params.verifier,
        params.family.clone(),
        params.family_digest,
        params.sequencer,
        params.min_stake,
        params.commit_window,
        params.reveal_window,
    );
    let (registry, receipt) =
        created_contract(builder.send().await.context("sending the deployment")?, "registry").await?;
    let owner = LiabilityRegistry::new(registry, provider).owner().call().await?;
    let deployment = Deployment {
        registry,
        verifier: params.verifier,
        family: params.family.clone(),
        family_digest: params.family_digest,
        owner,
        sequencer: params.sequencer,
        chain_id: provider.get_chain_id().await?,
        block: receipt.block_number.unwrap_or_default(),
        transaction: receipt.transaction_hash,
    };
    info!(?deployment, "registry deployed");
    Ok(deployment)
}
