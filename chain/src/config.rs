//! How an agent talks to the chain: the `[chain]` section of its
//! configuration. Windows T1 and T2 and the minimum stake are not here: they
//! are read from the registry.

use std::path::PathBuf;
use std::time::Duration;

use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::client::RpcClient;
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, Result, ensure};
use serde::{Deserialize, Serialize, Serializer};

/// The `[chain]` section.
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// The node's JSON-RPC endpoint.
    pub rpc_url: String,
    /// The registry contract.
    pub registry: Address,
    /// The agent's private key, hex (prefer `private_key_file` or the
    /// environment variable `ZKPOR_AGENT_CHAIN__PRIVATE_KEY`).
    #[serde(default)]
    pub private_key: Option<String>,
    /// A file holding the private key, hex.
    #[serde(default)]
    pub private_key_file: Option<PathBuf>,
    /// Blocks on top of a transaction's block before it counts as final
    /// (1: final once mined).
    #[serde(default = "defaults::confirmations")]
    pub confirmations: u64,
    /// How long one RPC request may take before it counts as failed.
    #[serde(default = "defaults::rpc_timeout_secs")]
    pub rpc_timeout_secs: u64,
    /// How often the chain is polled for new blocks and receipts.
    #[serde(default = "defaults::poll_interval_ms")]
    pub poll_interval_ms: u64,
    /// A commit is only sent while at least this many blocks of T1 are left
    /// for it to be mined in.
    #[serde(default = "defaults::commit_margin_blocks")]
    pub commit_margin_blocks: u64,
    /// Gas limit = estimate + this percentage.
    #[serde(default = "defaults::gas_margin_percent")]
    pub gas_margin_percent: u64,
    /// The highest fee per gas the agent pays, in gwei: a transaction is
    /// never signed or replaced above it.
    #[serde(default = "defaults::max_fee_per_gas_gwei")]
    pub max_fee_per_gas_gwei: u64,
    /// A transaction not mined after this long is replaced with higher fees.
    #[serde(default = "defaults::replace_after_secs")]
    pub replace_after_secs: u64,
    /// How much a replacement raises both fees, in percent (nodes want at
    /// least 10).
    #[serde(default = "defaults::fee_bump_percent")]
    pub fee_bump_percent: u64,
    /// Stake to keep in the registry, in wei (decimal): topped up when below
    /// it; the registry's minimum if that is higher.
    #[serde(default = "defaults::stake_wei", serialize_with = "decimal")]
    pub stake_wei: U256,
}

/// Writes an amount of wei in decimal, as the configuration gives it.
fn decimal<S: Serializer>(wei: &U256, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&wei.to_string())
}

impl std::fmt::Debug for ChainConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainConfig")
            .field("rpc_url", &self.rpc_url)
            .field("registry", &self.registry)
            .field("private_key", &self.private_key.as_ref().map(|_| "<hidden>"))
            .field("private_key_file", &self.private_key_file)
            .field("rpc_timeout_secs", &self.rpc_timeout_secs)
            .field("confirmations", &self.confirmations)
            .field("poll_interval_ms", &self.poll_interval_ms)
            .field("commit_margin_blocks", &self.commit_margin_blocks)
            .field("gas_margin_percent", &self.gas_margin_percent)
            .field("max_fee_per_gas_gwei", &self.max_fee_per_gas_gwei)
            .field("replace_after_secs", &self.replace_after_secs)
            .field("fee_bump_percent", &self.fee_bump_percent)
            .field("stake_wei", &self.stake_wei)
            .finish()
    }
}

mod defaults {
    use alloy::primitives::U256;

    pub fn confirmations() -> u64 {
        1
    }
    pub fn rpc_timeout_secs() -> u64 {
        20
    }
    pub fn poll_interval_ms() -> u64 {
        1000
    }
    pub fn commit_margin_blocks() -> u64 {
        1
    }
    pub fn gas_margin_percent() -> u64 {
        20
    }
    pub fn max_fee_per_gas_gwei() -> u64 {
        200
    }
    pub fn replace_after_secs() -> u64 {
        60
    }
    pub fn fee_bump_percent() -> u64 {
        15
    }
    pub fn stake_wei() -> U256 {
        U256::ZERO
    }
}

impl ChainConfig {
    /// The node at `rpc_url` and the registry at `registry`, signed with
    /// `private_key` (hex); every other setting at its default.
    pub fn new(rpc_url: &str, registry: Address, private_key: String) -> Self {
        ChainConfig {
            rpc_url: rpc_url.to_string(),
            registry,
            private_key: Some(private_key),
            private_key_file: None,
            confirmations: defaults::confirmations(),
            rpc_timeout_secs: defaults::rpc_timeout_secs(),
            poll_interval_ms: defaults::poll_interval_ms(),
            commit_margin_blocks: defaults::commit_margin_blocks(),
            gas_margin_percent: defaults::gas_margin_percent(),
            max_fee_per_gas_gwei: defaults::max_fee_per_gas_gwei(),
            replace_after_secs: defaults::replace_after_secs(),
            fee_bump_percent: defaults::fee_bump_percent(),
            stake_wei: defaults::stake_wei(),
        }
    }

    /// Refuses settings that cannot work; `base` is the configuration
    /// file's directory, which a relative key file is read from.
    pub fn check(&mut self, base: &std::path::Path) -> Result<()> {
        ensure!(self.confirmations >= 1, "chain.confirmations must be at least 1");
        ensure!(self.rpc_timeout_secs >= 1, "chain.rpc_timeout_secs must be at least 1");
        ensure!(self.poll_interval_ms >= 10, "chain.poll_interval_ms must be at least 10");
        ensure!(self.fee_bump_percent >= 10, "chain.fee_bump_percent must be at least 10 (nodes refuse less)");
        ensure!(self.max_fee_per_gas_gwei >= 1, "chain.max_fee_per_gas_gwei must be at least 1");
        ensure!(
            self.private_key.is_some() != self.private_key_file.is_some(),
            "give exactly one of chain.private_key (or ZKPOR_AGENT_CHAIN__PRIVATE_KEY) and chain.private_key_file"
        );
        if let Some(file) = &mut self.private_key_file
            && file.is_relative()
        {
            *file = base.join(&*file);
        }
        self.signer().map(|_| ())
    }

    /// The agent's signer.
    pub fn signer(&self) -> Result<PrivateKeySigner> {
        let text = match (&self.private_key, &self.private_key_file) {
            (Some(key), _) => key.clone(),
            (None, Some(file)) => std::fs::read_to_string(file)
                .with_context(|| format!("reading the private key file {}", file.display()))?,
            (None, None) => anyhow::bail!("no private key configured"),
        };
        text.trim().parse().context("chain.private_key is not a hex private key")
    }

    /// A provider for the node, each request bounded by the RPC timeout.
    pub fn provider(&self) -> Result<DynProvider> {
        let url: reqwest::Url =
            self.rpc_url.parse().with_context(|| format!("chain.rpc_url '{}' is not a URL", self.rpc_url))?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(self.rpc_timeout_secs))
            .build()
            .context("building the RPC client")?;
        let rpc = RpcClient::new_http_with_client(client, url);
        Ok(ProviderBuilder::new().connect_client(rpc).erased())
    }

    /// The poll interval.
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }

    /// The fee cap in wei per gas.
    pub fn max_fee_per_gas(&self) -> u128 {
        u128::from(self.max_fee_per_gas_gwei) * 1_000_000_000
    }
}
