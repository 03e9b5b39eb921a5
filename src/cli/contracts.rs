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
use zkpor_chain::verifier::{
    ProofCheck, ShippedFamily, VerifierArtifact, VerifierCheck, check_proof, check_registry_verifier, deploy_verifier,
    shipped_family,
};
use zkpor_circuits::{Family, FamilyCircuits};
use zkpor_evm_verifier::{contract_name, verifier_for};
use zkpor_exchange::published::PublishedOutput;

use super::circuit_dir::CircuitDirArgs;

#[derive(Debug, Subcommand)]
pub enum ContractsCommand {
    /// Deploy the registry (and its family's verifier) and print the
    /// addresses as JSON.
    #[command(group(ArgGroup::new("verifier_source").args(["verifier_artifact", "verifier"])))]
    Deploy {
        /// JSON-RPC endpoint of the chain.
        #[arg(long, env = "ZKPOR_RPC")]
        rpc: String,
        /// Private key of the deployer (hex), who becomes the owner.
        #[arg(long, env = "ZKPOR_KEY", hide_env_values = true)]
        key: String,
        /// The circuit family every sequence of the registry is proven on;
        /// its verifier, shipped with zkpor, is deployed with it.
        #[arg(long, default_value = "standard")]
        family: Family,
        /// Deploy the verifier compiled into this forge artifact instead of
        /// the shipped one (see `gen-verifier`).
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
    /// Generate the Solidity verifier of a family's final circuit, and
    /// record the family's digest in contracts/artifacts/families.json.
    GenVerifier {
        /// The circuit family.
        #[arg(long)]
        family: Family,
        /// Where to write the contract (default: contracts/src/generated/<Name>.sol).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The families file to record the digest in.
        #[arg(long, default_value = "contracts/artifacts/families.json")]
        families: PathBuf,
        #[command(flatten)]
        circuit_dir: CircuitDirArgs,
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
    /// family: the verifier call, its phases, a full reveal through the
    /// registry.
    GasReport {
        /// Families to measure (default: tiny).
        #[arg(long = "family")]
        families: Vec<Family>,
    },
}

pub fn run(command: ContractsCommand) -> Result<ExitCode> {
    match command {
        ContractsCommand::GenVerifier { family, out, families, circuit_dir } => {
            gen_verifier(&family, out, &families, &circuit_dir)
        }
        ContractsCommand::Deploy {
            rpc,
            key,
            family,
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
            let shipped = shipped_family(family.name())
                .with_context(|| format!("this build ships no verifier for family {}", family.name()))?;
            let artifact = match (verifier_artifact, verifier) {
                (Some(path), _) => Some(VerifierArtifact::from_file(&path)?),
                (None, Some(_)) => None,
                (None, None) => Some(VerifierArtifact::shipped(family.name())?),
            };
            let deployment = super::runtime()?.block_on(async {
                let verifier = match (artifact, verifier) {
                    (Some(artifact), _) => deploy_verifier(&provider, &artifact).await?,
                    (None, Some(address)) => address,
                    (None, None) => unreachable!("the shipped verifier is the default"),
                };
                let params = RegistryParams {
                    verifier,
                    family: shipped.name.clone(),
                    family_digest: shipped.digest,
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
        ContractsCommand::GasReport { families } => crate::devtools::gas_report::run(families),
    }
}

fn gen_verifier(
    family: &Family,
    out: Option<PathBuf>,
    families: &Path,
    circuit_dir: &CircuitDirArgs,
) -> Result<ExitCode> {
    let spinner = crate::progress::spinner("reading or building circuits");
    let files = circuit_dir.directory().map(|directory| directory.family(family));
    let (circuits, _) = FamilyCircuits::load_or_build(family, files.as_ref(), |step| {
        spinner.set_message(format!("reading or building the {step}"))
    })?;
    spinner.finish_and_clear();
    let generated = verifier_for(&circuits)?;
    let contract = contract_name(family);
    let out = out.unwrap_or_else(|| PathBuf::from(format!("contracts/src/generated/{contract}.sol")));
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&out, &generated.source).with_context(|| format!("writing {}", out.display()))?;
    let digest = circuits.digest()?;
    record_family(families, ShippedFamily { name: family.name().to_string(), digest: digest.0.into(), contract })?;
    println!("wrote {} ({} bytes of proof calldata)", out.display(), generated.layout.total);
    println!("family {} has digest {digest}, recorded in {}", family.name(), families.display());
    Ok(ExitCode::SUCCESS)
}

/// Puts `family` into the families file at `path` (replacing an entry of
/// its name), families sorted by name; written whole or not at all.
fn record_family(path: &Path, family: ShippedFamily) -> Result<()> {
    let mut families: Vec<ShippedFamily> = match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    families.retain(|known| known.name != family.name);
    families.push(family);
    families.sort_by(|a, b| a.name.cmp(&b.name));
    let staging = path.with_extension("json.partial");
    std::fs::write(&staging, format!("{}\n", serde_json::to_string_pretty(&families)?))
        .with_context(|| format!("writing {}", staging.display()))?;
    std::fs::rename(&staging, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// What `verify-proof` prints.
#[derive(Serialize)]
struct VerifyProofReport {
    verifier: Address,
    sequence: u64,
    submitter: String,
    #[serde(flatten)]
    check: ProofCheck,
    /// With `--registry`: its verifier compared with this build's.
    #[serde(skip_serializing_if = "Option::is_none")]
    registry_verifier: Option<VerifierCheck>,
}

fn verify_proof(rpc: &str, verifier: Option<Address>, registry: Option<Address>, out: &Path) -> Result<ExitCode> {
    let output = PublishedOutput::read(out)?;
    let calldata = output.calldata()?;
    let inputs: Vec<u64> = output.inputs.to_fields()?.iter().map(|f| f.to_canonical_u64()).collect();
    let provider = ProviderBuilder::new().connect_http(rpc_url(rpc)?);
    let (verifier, check, registry_verifier) = super::runtime()?.block_on(async {
        let (verifier, registry_verifier) = match (verifier, registry) {
            (Some(address), _) => (address, None),
            (None, Some(registry)) => {
                ensure_code(&provider, registry, "registry").await?;
                let verifier = LiabilityRegistry::new(registry, &provider)
                    .verifier()
                    .call()
                    .await
                    .context("reading the registry's verifier")?;
                (verifier, Some(check_registry_verifier(&provider, registry).await?))
            }
            (None, None) => unreachable!("clap requires a contract"),
        };
        let check = check_proof(&provider, verifier, &calldata, &inputs).await?;
        anyhow::Ok((verifier, check, registry_verifier))
    })?;
    if let Some(VerifierCheck::NotVouched { reason, .. }) = &registry_verifier {
        eprintln!(
            "warning: the registry's verifier is not one this build generates ({reason}): a root it verifies is not vouched for"
        );
    }
    let valid = matches!(check, ProofCheck::Valid { .. });
    let report = VerifyProofReport {
        verifier,
        sequence: output.inputs.sequence,
        submitter: output.inputs.submitter.to_string(),
        check,
        registry_verifier,
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
