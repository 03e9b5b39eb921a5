//! `zkpor exchange ...`: check, prove and serve user proofs for a snapshot.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use alloy::network::EthereumWallet;
use alloy::primitives::utils::{format_ether, parse_ether};
use alloy::providers::ProviderBuilder;
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, Result};
use clap::Subcommand;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpor_chain::publish::RegistryRoots;
use zkpor_chain::verifier::registry_family;
use zkpor_circuits::Family;
use zkpor_circuits::encoding::{Address, HashHex};
use zkpor_exchange::archive::SequenceArchive;
use zkpor_exchange::committed::{CommittedSnapshot, check_fits, load_options};
use zkpor_exchange::pipeline::{ProveOptions, Proven, prove};
use zkpor_exchange::published::{USER_STORE_FILE, check_output_free, write_output};
use zkpor_exchange::server::config::ExchangeConfig;
use zkpor_exchange::user_store::UserStore;
use zkpor_snapshot::decimal::format_units;
use zkpor_snapshot::{LoadOptions, Snapshot};

use super::circuit_dir::CircuitDirArgs;
use crate::progress::Bars;
use crate::table::print_table;

#[derive(Debug, Subcommand)]
pub enum ExchangeCommand {
    /// Validate a snapshot and print its accounts, assets and exact totals.
    Check {
        /// Directory with assets.csv and balances*.csv.
        snapshot: PathBuf,
        /// The circuit family the snapshot must fit.
        #[arg(long, default_value = "standard")]
        family: Family,
    },
    /// Prove a snapshot end to end on this machine.
    Prove {
        /// Directory with assets.csv and balances*.csv.
        snapshot: PathBuf,
        /// Output directory (must not exist or be empty).
        #[arg(long)]
        out: PathBuf,
        /// Sequence number the proof is for.
        #[arg(long, default_value_t = 1)]
        sequence: u64,
        /// Address the final proof is bound to.
        #[arg(long, default_value_t = Address::default())]
        submitter: Address,
        /// Seed for the users' nonces, for a reproducible run (default: random).
        #[arg(long)]
        seed: Option<u64>,
        /// The circuit family (`zkpor circuits family` lists them): the one
        /// of the registry the proof is for.
        #[arg(long, default_value = "standard")]
        family: Family,
        /// Where finished proofs are kept while the run lasts, so that a
        /// killed run resumes from them when started again (default:
        /// <out>.proofs beside the output).
        #[arg(long)]
        proofs: Option<PathBuf>,
        #[command(flatten)]
        circuit_dir: CircuitDirArgs,
    },
    /// Print one user's inclusion proof as JSON.
    UserProof {
        /// The output directory of `zkpor exchange prove`, or a sequence's
        /// directory in the archive (`exchange-data/<sequence>`).
        out: PathBuf,
        /// The user's id.
        #[arg(long)]
        id: String,
    },
    /// Write a synthetic snapshot: an exchange-like profile over many assets
    /// (most users hold 1 to 20, one in ten owes some, a few hold 100+).
    Synth {
        /// How many users and assets, and the seed.
        #[command(flatten)]
        profile: SynthProfile,
        /// Output directory (must not exist or be empty).
        #[arg(long)]
        out: PathBuf,
    },
    /// Validate a snapshot, build its tree, archive its witness and post it
    /// on chain as the next sequence.
    Publish(PublishArgs),
    /// Serve batch witnesses of posted sequences to agents and inclusion
    /// proofs to the exchange's front end (`--config`, default
    /// config/exchange.toml).
    Serve {
        /// The configuration file.
        #[arg(long, default_value = "config/exchange.toml", env = "ZKPOR_EXCHANGE_CONFIG")]
        config: PathBuf,
    },
}

/// A synthetic snapshot of `zkpor exchange synth`'s realistic profile.
#[derive(Clone, Copy, Debug, clap::Args)]
pub struct SynthProfile {
    /// Users.
    #[arg(long, default_value_t = 1 << 14)]
    pub accounts: usize,
    /// Assets (a large exchange lists about 220).
    #[arg(long, default_value_t = 220)]
    pub assets: usize,
    /// Seed: the same seed writes the same snapshot.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// `zkpor exchange publish`'s arguments.
#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// Directory with assets.csv and balances*.csv.
    pub snapshot: PathBuf,
    /// JSON-RPC endpoint of the chain.
    #[arg(long, env = "ZKPOR_RPC")]
    pub rpc: String,
    /// The registry contract.
    #[arg(long, env = "ZKPOR_REGISTRY")]
    pub registry: alloy::primitives::Address,
    /// The sequencer's private key (hex).
    #[arg(long, env = "ZKPOR_KEY", hide_env_values = true)]
    pub key: String,
    /// Reward for the provers, in ETH.
    #[arg(long, default_value = "0")]
    pub reward: String,
    /// Where sequences are archived (what `zkpor exchange serve` serves).
    #[arg(long, default_value = "exchange-data")]
    pub archive: PathBuf,
    /// Seed for the users' nonces, for a reproducible tree (default: random).
    #[arg(long)]
    pub seed: Option<u64>,
}

pub fn run(command: ExchangeCommand) -> Result<ExitCode> {
    match command {
        ExchangeCommand::Check { snapshot, family } => check(&snapshot, &family),
        ExchangeCommand::Prove { snapshot, out, sequence, submitter, seed, family, proofs, circuit_dir } => {
            let proofs = proofs.unwrap_or_else(|| sibling(&out, "proofs"));
            let options = ProveOptions {
                family,
                sequence,
                submitter,
                seed,
                proofs: Some(proofs.clone()),
                circuit_dir: circuit_dir.directory(),
            };
            prove_snapshot(&snapshot, &out, &proofs, options)
        }
        ExchangeCommand::UserProof { out, id } => user_proof(&out, &id),
        ExchangeCommand::Publish(args) => publish(&args),
        ExchangeCommand::Synth { profile: SynthProfile { accounts, assets, seed }, out } => {
            check_output_free(&out)?;
            let spinner = crate::progress::spinner(&format!("writing {accounts} users over {assets} assets"));
            zkpor_exchange::synthetic::write_realistic(&out, accounts, assets, seed)?;
            spinner.finish_and_clear();
            println!("wrote {} ({accounts} users, {assets} assets, seed {seed})", out.display());
            Ok(ExitCode::SUCCESS)
        }
        ExchangeCommand::Serve { config } => serve(&config),
    }
}

fn publish(args: &PublishArgs) -> Result<ExitCode> {
    let reward = parse_ether(&args.reward).with_context(|| format!("--reward '{}'", args.reward))?;
    let signer: PrivateKeySigner = args.key.trim().parse().context("--key is not a hex private key")?;
    let sequencer = signer.address();
    let rpc = args.rpc.parse().with_context(|| format!("--rpc '{}' is not a URL", args.rpc))?;
    let provider = ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(rpc);
    let runtime = super::runtime()?;
    // Every sequence of a registry is proven on the family it records.
    let (name, _) = runtime.block_on(registry_family(&provider, args.registry))?;
    let family: Family =
        name.parse().with_context(|| format!("the registry at {} records family '{name}'", args.registry))?;
    let Some(snapshot) = load(&args.snapshot, &load_options(&family))? else { return Ok(ExitCode::FAILURE) };
    let mut rng = match args.seed {
        Some(seed) => ChaCha20Rng::seed_from_u64(seed),
        None => ChaCha20Rng::from_entropy(),
    };
    let committed = CommittedSnapshot::new(snapshot, &family, &mut rng)?;
    let archive = SequenceArchive::new(&args.archive);
    let published = runtime.block_on(zkpor_chain::publish::publish(
        &provider,
        args.registry,
        sequencer,
        &archive,
        &committed,
        reward,
    ))?;
    println!(
        "posted sequence {} ({} accounts, {} batches, family {})",
        published.sequence,
        published.account_count,
        committed.batches().len(),
        family.name()
    );
    println!("  root         {}", published.root);
    println!("  digest       {}", published.digest);
    println!("  reward       {} ETH", format_ether(published.reward));
    println!("  transaction  {} (block {}, {} gas)", published.transaction, published.block, published.gas_used);
    println!("  archived in  {}", published.dir.display());
    Ok(ExitCode::SUCCESS)
}

fn serve(path: &Path) -> Result<ExitCode> {
    let config = ExchangeConfig::load(path)?;
    let rpc = config.rpc_url.parse().with_context(|| format!("rpc_url '{}' is not a URL", config.rpc_url))?;
    let provider = ProviderBuilder::new().connect_http(rpc);
    let roots = RegistryRoots::new(provider, zkpor_chain::registry::to_evm_address(config.registry));
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    super::runtime()?.block_on(zkpor_exchange::server::serve(
        &config,
        Box::new(roots),
        |address| {
            eprintln!(
                "zkpor exchange: serving {} on {scheme}://{address} ({} agents, {} front ends)",
                config.archive.display(),
                config.agents.len(),
                config.frontends.len()
            )
        },
        super::agent::shutdown_signal(),
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// Loads a snapshot, printing every error on failure.
fn load(dir: &Path, options: &LoadOptions) -> Result<Option<Snapshot>> {
    match Snapshot::load(dir, options) {
        Ok(snapshot) => Ok(Some(snapshot)),
        Err(errors) => {
            eprint!("{errors}");
            Ok(None)
        }
    }
}

fn check(dir: &Path, family: &Family) -> Result<ExitCode> {
    let Some(snapshot) = load(dir, &load_options(family))? else { return Ok(ExitCode::FAILURE) };
    check_fits(&snapshot, family)?;
    let assets = snapshot.assets().len();
    println!(
        "{}: {} accounts, {assets} assets, fits family {} (up to {} assets)",
        dir.display(),
        snapshot.accounts().len(),
        family.name(),
        family.assets()
    );
    let rows: Vec<[String; 5]> = snapshot
        .assets()
        .iter()
        .enumerate()
        .map(|(i, asset)| {
            [
                asset.symbol.clone(),
                asset.decimals.to_string(),
                asset.price.to_string(),
                format_units(snapshot.equity_totals()[i].into(), asset.decimals),
                format_units(snapshot.debt_totals()[i].into(), asset.decimals),
            ]
        })
        .collect();
    print_table(&["asset", "decimals", "price_usd", "equity", "debt"], &rows);
    Ok(ExitCode::SUCCESS)
}

/// Proves the snapshot in `dir` into `out`, keeping finished proofs in
/// `proofs` (the directory `options` names) until the output is written.
fn prove_snapshot(dir: &Path, out: &Path, proofs: &Path, options: ProveOptions) -> Result<ExitCode> {
    let Some(snapshot) = load(dir, &load_options(&options.family))? else { return Ok(ExitCode::FAILURE) };
    check_output_free(out)?;
    eprintln!(
        "proving on family {}; finished proofs are kept in {} until the end",
        options.family.name(),
        proofs.display()
    );
    let bars = Bars::new();
    let proven = prove(snapshot, &options, &bars)?;
    bars.finish();
    super::runtime()?.block_on(write_output(out, &proven))?;
    std::fs::remove_dir_all(proofs).with_context(|| format!("removing {}", proofs.display()))?;
    report(&proven, out);
    Ok(ExitCode::SUCCESS)
}

/// `path` with `.suffix` appended to its last component.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| "out".into());
    name.push(format!(".{suffix}"));
    path.with_file_name(name)
}

/// Prints what a proving run proved and where it wrote it.
fn report(proven: &Proven, out: &Path) {
    let inputs = &proven.inputs;
    let times = &proven.times;
    let committed = &proven.committed;
    println!(
        "proved {} accounts over {} assets on family {} ({} batches)",
        committed.statement().account_count,
        committed.assets().len(),
        committed.family().name(),
        committed.batches().len()
    );
    println!("  root       {}", HashHex(inputs.root));
    println!("  digest     {}", HashHex(inputs.digest));
    println!("  sequence   {}", inputs.sequence);
    println!("  submitter  {}", inputs.submitter);
    println!("  proof      {} bytes", proven.final_proof.to_bytes().len());
    println!(
        "  time       circuits {:.1?}, batches {:.1?}, aggregation {:.1?}, final {:.1?}",
        times.circuits, times.batches, times.aggregation, times.final_wrap
    );
    if proven.reused_proofs > 0 {
        println!("  resumed    {} tree proofs of the interrupted run reused", proven.reused_proofs);
    }
    println!("  written to {}", out.display());
}

fn user_proof(out: &Path, id: &str) -> Result<ExitCode> {
    let proof = super::runtime()?
        .block_on(async { UserStore::open(&out.join(USER_STORE_FILE)).await?.user_proof(id).await })?;
    println!("{}", serde_json::to_string_pretty(&proof).context("encoding the proof")?);
    Ok(ExitCode::SUCCESS)
}
