//! `zkpor contracts ...`: generating the verifier, deploying the contracts,
//! checking a proof on chain.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use alloy::network::EthereumWallet;
use alloy::primitives::Address;
use alloy::primitives::utils::parse_ether;
use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, Result};
use clap::{ArgGroup, Subcommand};
use plonky2::field::types::PrimeField64;
use serde::Serialize;
use zkpor_chain::deploy::{RegistryParams, deploy_registry};
use zkpor_chain::registry::LiabilityRegistry;
use zkpor_chain::verifier::{ProofCheck, VerifierArtifact, check_proof, deploy_verifier};
use zkpor_circuits::{CircuitSet, Shape};
use zkpor_evm_verifier::{contract_name, verifier_for};
use zkpor_exchange::published::PublishedOutput;

#[derive(Debug, Subcommand)]
pub enum ContractsCommand {
    /// Deploy the registry (and its verifier) and print the addresses as JSON.
    #[command(group(ArgGroup::new("verifier_source").required(true).args(["shape", "verifier_artifact", "verifier"])))]
    Deploy {
        /// JSON-RPC endpoint of the chain.
        #[arg(long, env = "ZKPOR_RPC")]
        rpc: String,
        /// Private key of the deployer (hex), who becomes the owner.
        #[arg(long, env = "ZKPOR_KEY", hide_env_values = true)]
        key: String,
        /// Deploy the verifier zkpor ships for this circuit shape.
        #[arg(long)]
        shape: Option<Shape>,
        /// Deploy the verifier compiled into this forge artifact (a shape zkpor
        /// does not ship: see `gen-verifier`).
        #[arg(long)]
        verifier_artifact: Option<PathBuf>,
        /// Use the verifier already deployed at this address.
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
    /// Generate the Solidity verifier of a shape's final circuit.
    GenVerifier {
        /// The circuit shape.
        #[arg(long)]
        shape: Shape,
        /// Where to write the contract (default: contracts/src/generated/<Name>.sol).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check a proving run's final proof with an on-chain verifier (an
    /// `eth_call`) and print the verdict and the gas a transaction would use.
    #[command(group(ArgGroup::new("contract").required(true).args(["verifier", "registry"])))]
    VerifyProof {
        /// JSON-RPC endpoint of the chain.
        #[arg(long, env = "ZKPOR_RPC")]
        rpc: String,
        /// The verifier contract.
        #[arg(long)]
        verifier: Option<Address>,
        /// A registry, whose verifier checks the proof.
        #[arg(long)]
        registry: Option<Address>,
        /// The output directory of `zkpor exchange prove`.
        out: PathBuf,
    },
    /// Measure what verifying a proof costs on a local anvil, per shipped
    /// shape: the verifier call, its phases, a full reveal through the registry.
    GasReport {
        /// Shapes to measure (default: tiny).
        #[arg(long = "shape")]
        shapes: Vec<Shape>,
    },
}

pub fn run(command: ContractsCommand) -> Result<ExitCode> {
    match command {
        ContractsCommand::GenVerifier { shape, out } => gen_verifier(&shape, out),
        ContractsCommand::Deploy {
            rpc,
            key,
            shape,
            verifier_artifact,
            verifier,
            sequencer,
            min_stake,
            commit_window,
            reveal_window,
        } => {
            let signer: PrivateKeySigner = key.trim().parse().context("--key is not a hex private key")?;
            let deployer = signer.address();
            let provider = ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(rpc_url(&rpc)?);
            let min_stake = parse_ether(&min_stake).with_context(|| format!("--min-stake '{min_stake}'"))?;
            let artifact = match (shape, verifier_artifact) {
                (Some(shape), _) => Some(VerifierArtifact::shipped(&shape)?),
                (None, Some(path)) => Some(VerifierArtifact::from_file(&path)?),
                (None, None) => None,
            };
            let deployment = super::runtime()?.block_on(async {
                let verifier = match (artifact, verifier) {
                    (Some(artifact), _) => deploy_verifier(&provider, &artifact).await?,
                    (None, Some(address)) => address,
                    (None, None) => unreachable!("clap requires a verifier source"),
                };
                let params = RegistryParams {
                    verifier,
                    sequencer: sequencer.unwrap_or(deployer),
                    min_stake,
                    commit_window,
                    reveal_window,
                };
                deploy_registry(&provider, &params).await
            })?;
            println!("{}", serde_json::to_string_pretty(&deployment)?);
            Ok(ExitCode::SUCCESS)
        }
        ContractsCommand::VerifyProof { rpc, verifier, registry, out } => verify_proof(&rpc, verifier, registry, &out),
        ContractsCommand::GasReport { shapes } => crate::gas_report::run(shapes),
    }
}

fn gen_verifier(shape: &Shape, out: Option<PathBuf>) -> Result<ExitCode> {
    let spinner = crate::progress::spinner("building circuits");
    let circuits = CircuitSet::build_reporting(shape, |step| spinner.set_message(format!("building the {step}")));
    spinner.finish_and_clear();
    let generated = verifier_for(shape, &circuits)?;
    let out = out.unwrap_or_else(|| PathBuf::from(format!("contracts/src/generated/{}.sol", contract_name(shape))));
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&out, &generated.source).with_context(|| format!("writing {}", out.display()))?;
    println!("wrote {} ({} bytes of proof calldata)", out.display(), generated.layout.total);
    Ok(ExitCode::SUCCESS)
}

/// What `verify-proof` prints.
#[derive(Serialize)]
struct VerifyProofReport {
    verifier: Address,
    sequence: u64,
    submitter: String,
    #[serde(flatten)]
    check: ProofCheck,
}

fn verify_proof(rpc: &str, verifier: Option<Address>, registry: Option<Address>, out: &Path) -> Result<ExitCode> {
    let output = PublishedOutput::read(out)?;
    let calldata = output.calldata()?;
    let inputs: Vec<u64> = output.inputs.to_fields()?.iter().map(|f| f.to_canonical_u64()).collect();
    let provider = ProviderBuilder::new().connect_http(rpc_url(rpc)?);
    let (verifier, check) = super::runtime()?.block_on(async {
        let verifier = match (verifier, registry) {
            (Some(address), _) => address,
            (None, Some(registry)) => {
                ensure_code(&provider, registry, "registry").await?;
                LiabilityRegistry::new(registry, &provider)
                    .verifier()
                    .call()
                    .await
                    .context("reading the registry's verifier")?
            }
            (None, None) => unreachable!("clap requires a contract"),
        };
        let check = check_proof(&provider, verifier, &calldata, &inputs).await?;
        anyhow::Ok((verifier, check))
    })?;
    let valid = matches!(check, ProofCheck::Valid { .. });
    let report = VerifyProofReport {
        verifier,
        sequence: output.inputs.sequence,
        submitter: output.inputs.submitter.to_string(),
        check,
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(if valid { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

async fn ensure_code<P: Provider>(provider: &P, address: Address, what: &str) -> Result<()> {
    let code = provider.get_code_at(address).await.with_context(|| format!("reading the {what}'s code"))?;
    anyhow::ensure!(!code.is_empty(), "there is no contract at the {what} address {address}");
    Ok(())
}

fn rpc_url(rpc: &str) -> Result<alloy::transports::http::reqwest::Url> {
    rpc.parse().with_context(|| format!("--rpc '{rpc}' is not a URL"))
}
