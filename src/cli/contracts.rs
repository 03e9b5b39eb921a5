//! `zkpor contracts ...`: deploying the registry.

use std::process::ExitCode;

use alloy::network::EthereumWallet;
use alloy::primitives::Address;
use alloy::primitives::utils::parse_ether;
use alloy::providers::ProviderBuilder;
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use zkpor_chain::deploy::{RegistryParams, deploy_registry};

#[derive(Debug, Subcommand)]
pub enum ContractsCommand {
    /// Deploy the registry and print its address as JSON.
    Deploy {
        /// JSON-RPC endpoint of the chain.
        #[arg(long, env = "ZKPOR_RPC")]
        rpc: String,
        /// Private key of the deployer (hex), who becomes the owner.
        #[arg(long, env = "ZKPOR_KEY", hide_env_values = true)]
        key: String,
        /// Address of the deployed plonky2 verifier of the final circuit.
        #[arg(long)]
        verifier: Option<Address>,
        /// Who may post sequences (default: the deployer).
        #[arg(long)]
        sequencer: Option<Address>,
        /// Stake a prover needs to commit, in ETH.
        #[arg(long, default_value = "1")]
        min_stake: String,
        /// Commit window T1, in blocks.
        #[arg(long, default_value_t = 20)]
        commit_window: u64,
        /// Reveal window T2, in blocks.
        #[arg(long, default_value_t = 40)]
        reveal_window: u64,
    },
}

pub fn run(command: ContractsCommand) -> Result<ExitCode> {
    match command {
        ContractsCommand::Deploy { rpc, key, verifier, sequencer, min_stake, commit_window, reveal_window } => {
            let Some(verifier) = verifier else {
                bail!(
                    "--verifier is required: zkpor does not generate the plonky2 verifier contract yet, so \
                     the registry must be pointed at one that is already deployed"
                );
            };
            let signer: PrivateKeySigner = key.trim().parse().context("--key is not a hex private key")?;
            let deployer = signer.address();
            let params = RegistryParams {
                verifier,
                sequencer: sequencer.unwrap_or(deployer),
                min_stake: parse_ether(&min_stake).with_context(|| format!("--min-stake '{min_stake}'"))?,
                commit_window,
                reveal_window,
            };
            let url = rpc.parse().with_context(|| format!("--rpc '{rpc}' is not a URL"))?;
            let provider = ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(url);
            let deployment = super::runtime()?.block_on(deploy_registry(&provider, &params))?;
            println!("{}", serde_json::to_string_pretty(&deployment)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}
