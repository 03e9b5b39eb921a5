//! `zkpor dev`: the whole network on this machine, with embedded defaults.
//!
//! Anvil from the npm package (a block a second), the shipped verifier of
//! the circuit family and the registry deployed, the family's circuits
//! built into the circuit directory unless they are there, a synthetic
//! snapshot (20,000 users of 220 assets by default, 8 of 4 with `--small`)
//! published by the exchange and served by `zkpor exchange serve`, two
//! agents (anvil's second and third accounts) each with two prover workers
//! in one process, all as `zkpor` processes logging under `<dir>/logs`. Each step is printed as it happens
//! ([`watch`]); at the end the verified root is read back as `zkpor root`
//! reads it, a user's proof fetched from the exchange's front-end endpoint
//! is checked against it, and a summary gives addresses, gas and time per
//! phase.

pub(crate) mod processes;
mod watch;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use alloy::network::EthereumWallet;
use alloy::node_bindings::AnvilInstance;
use alloy::primitives::utils::parse_ether;
use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, Result, ensure};
use clap::Args;
use rand::SeedableRng;
use zkpor_agent::AgentConfig;
use zkpor_chain::anvil::spawn_anvil_with_block_time;
use zkpor_chain::config::ChainConfig;
use zkpor_chain::deploy::{RegistryParams, deploy_registry};
use zkpor_chain::publish::publish;
use zkpor_chain::reader::read_sequence;
use zkpor_chain::verifier::{VerifierArtifact, deploy_verifier, shipped_family};
use zkpor_circuits::stored::CircuitDirectory;
use zkpor_circuits::{Family, FamilyCircuits};
use zkpor_exchange::archive::SequenceArchive;
use zkpor_exchange::committed::{CommittedSnapshot, load_options};
use zkpor_exchange::synthetic::write_realistic;
use zkpor_exchange::user_proof::UserProof;
use zkpor_generator::settings::{ApiConfig, LeaseConfig, WorkerToken};
use zkpor_generator::source::config::{ExchangeSource, SourceConfig};
use zkpor_snapshot::Snapshot;
use zkpor_store::Store;

use crate::cli::reader::{eth, print_report};
use crate::table::print_table;
use processes::Processes;
use watch::{Agent, Timeline};

/// `zkpor dev`'s arguments.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// Users in the synthetic snapshot (default: 20,000; 8 with `--small`).
    #[arg(long)]
    accounts: Option<usize>,
    /// Assets in the synthetic snapshot (`exchange synth`'s profile): 2 up
    /// to the family's most (default: 220, or the family's most if fewer;
    /// 4 with `--small`).
    #[arg(long)]
    assets: Option<usize>,
    /// The circuit family (`zkpor circuits family`): its shipped verifier
    /// is deployed and every proof made on its circuits (default:
    /// standard; tiny with `--small`).
    #[arg(long)]
    family: Option<Family>,
    /// A small network for tests: the tiny family, 8 users, 4 assets.
    #[arg(long)]
    small: bool,
    /// Keep everything running at the end, until Ctrl-C.
    #[arg(long)]
    keep_running: bool,
    /// Directory for the snapshot, archive, configurations, databases and
    /// logs (default: a temporary one, removed after a successful run).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Database of the second agent (e.g. postgres://postgres@127.0.0.1/zkpor_dev);
    /// default: SQLite, like the first.
    #[arg(long)]
    agent_b_database: Option<String>,
    /// Commit window T1, in blocks (a block a second).
    #[arg(long, default_value_t = 60)]
    commit_window: u64,
    /// Reveal window T2, in blocks.
    #[arg(long, default_value_t = 20)]
    reveal_window: u64,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 1200)]
    timeout_secs: u64,
}

/// The exchange `zkpor dev` runs: its family and snapshot size.
struct Scale {
    family: Family,
    accounts: usize,
    assets: usize,
}

impl Scale {
    /// What `args` ask for: a realistic exchange by default, a small one
    /// with `--small`, each value overridable.
    fn of(args: &DevArgs) -> Self {
        let (family, accounts, assets) =
            if args.small { (Family::tiny(), 8, 4) } else { (Family::standard(), 20_000, 220) };
        let family = args.family.clone().unwrap_or(family);
        let assets = args.assets.unwrap_or(assets.min(family.assets()));
        Scale { family, accounts: args.accounts.unwrap_or(accounts), assets }
    }
}

/// Reward posted with the sequence.
const REWARD_ETH: &str = "1";
/// Stake each agent keeps.
const STAKE_WEI: u64 = 100_000_000_000_000_000;
/// The first user of the synthetic snapshot, whose proof is checked.
const USER: &str = "user00000000";
/// The front end's token at the exchange.
const FRONTEND_TOKEN: &str = "dev-frontend-token-0000";

/// Runs `zkpor dev`.
pub fn run(args: DevArgs) -> Result<ExitCode> {
    let (dir, temporary) = match &args.dir {
        Some(dir) => (dir.clone(), false),
        None => (tempfile::Builder::new().prefix("zkpor-dev-").tempdir()?.keep(), true),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    println!("zkpor dev: everything lives in {}", dir.display());
    let result = crate::cli::runtime()?.block_on(network(&args, &dir));
    match result {
        Ok(()) => {
            if temporary && !args.keep_running {
                let _ = std::fs::remove_dir_all(&dir);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Err(error.context(format!("zkpor dev failed; the logs are in {}", dir.join("logs").display()))),
    }
}

/// One of anvil's accounts.
struct Account {
    key: PrivateKeySigner,
    provider: DynProvider,
}

impl Account {
    fn new(anvil: &AnvilInstance, index: usize) -> Self {
        let key: PrivateKeySigner = anvil.keys()[index].clone().into();
        let provider = ProviderBuilder::new()
            .wallet(EthereumWallet::from(key.clone()))
            .connect_http(anvil.endpoint_url())
            .erased();
        Account { key, provider }
    }

    fn address(&self) -> Address {
        self.key.address()
    }

    fn key_hex(&self) -> String {
        alloy::hex::encode_prefixed(self.key.to_bytes())
    }
}

async fn network(args: &DevArgs, dir: &Path) -> Result<()> {
    let timeline = Timeline::new();
    let anvil = spawn_anvil_with_block_time(1)?;
    let rpc = anvil.endpoint();
    timeline.step(format!("anvil on {rpc}, a block a second"));
    let exchange = Account::new(&anvil, 0);
    let agents_keys = [Account::new(&anvil, 1), Account::new(&anvil, 2)];

    let Scale { family, accounts, assets } = Scale::of(args);
    let family = &family;
    ensure!(
        (2..=family.assets()).contains(&assets),
        "--assets {assets}: the synthetic exchange lists 2 to {} assets on family {}",
        family.assets(),
        family.name()
    );
    let shipped = shipped_family(family.name())
        .with_context(|| format!("this build ships no verifier for family {}", family.name()))?;
    let verifier = deploy_verifier(&exchange.provider, &VerifierArtifact::shipped(family.name())?).await?;
    let params = RegistryParams {
        verifier,
        family: shipped.name.clone(),
        family_digest: shipped.digest,
        sequencer: exchange.address(),
        min_stake: U256::from(STAKE_WEI / 10),
        commit_window: args.commit_window,
        reveal_window: args.reveal_window,
    };
    let registry = deploy_registry(&exchange.provider, &params).await?.registry;
    timeline.step(format!(
        "registry {registry} deployed with the verifier of family {} ({verifier}); T1 {} blocks, T2 {} blocks",
        family.name(),
        args.commit_window,
        args.reveal_window
    ));

    let circuits = build_circuits_unless_kept(family)?;
    timeline.step(circuits);

    let snapshot_dir = dir.join("snapshot");
    write_realistic(&snapshot_dir, accounts, assets, 1)?;
    let snapshot = Snapshot::load(&snapshot_dir, &load_options(family)).map_err(|e| anyhow::anyhow!("{e}"))?;
    timeline.step(format!("synthetic snapshot: {accounts} users, {assets} assets ({})", snapshot_dir.display()));
    let committed = tokio::task::block_in_place(|| {
        CommittedSnapshot::new(snapshot, family, &mut rand_chacha::ChaCha20Rng::seed_from_u64(1))
    })?;
    let archive = SequenceArchive::new(dir.join("exchange-data"));
    let reward = parse_ether(REWARD_ETH)?;
    let posted = publish(&exchange.provider, registry, exchange.address(), &archive, &committed, reward).await?;
    timeline.step(format!(
        "exchange posted sequence {} (root {}, {} accounts, reward {REWARD_ETH} ETH, {} gas)",
        posted.sequence, posted.root, posted.account_count, posted.gas_used
    ));
    drop(committed);

    let mut processes = Processes::new(&dir.join("logs"))?;
    let exchange_port = free_port()?;
    let exchange_url = format!("http://127.0.0.1:{exchange_port}");
    let exchange_config = write_exchange_config(dir, exchange_port, &rpc, registry)?;
    processes.start("exchange", &["exchange", "serve", "--config", path_str(&exchange_config)?], &[])?;
    processes.wait_listening("exchange", exchange_port)?;
    timeline.step(format!("exchange serving witnesses and user proofs on {exchange_url}"));

    let mut agents = Vec::new();
    for (index, (name, account)) in ["agent-a", "agent-b"].into_iter().zip(&agents_keys).enumerate() {
        let port = free_port()?;
        let database = match (index, &args.agent_b_database) {
            (1, Some(url)) => url.clone(),
            _ => format!("sqlite://{}", dir.join(format!("{name}.sqlite")).display()),
        };
        let tokens = [format!("{name}-worker-1-token"), format!("{name}-worker-2-token")];
        let config = write_agent_config(dir, name, port, &database, &tokens, account, &rpc, registry, &exchange_url)?;
        processes.start(name, &["agent", "--config", path_str(&config)?], &[])?;
        processes.wait_listening(name, port)?;
        let url = format!("http://127.0.0.1:{port}");
        // Both workers in one process, sharing one copy of the circuits.
        processes.start(
            &format!("{name}-workers"),
            &["prover", "--agent", &url, "--idle-wait", "1"],
            &[("ZKPOR_WORKER_TOKEN", &tokens.join(","))],
        )?;
        timeline.step(format!(
            "{name} ({}) on {url} with two prover workers in one process, database {database}",
            account.address()
        ));
        agents.push(Agent::new(name, account.address(), Store::open(&database).await?));
    }

    let deadline = Instant::now() + Duration::from_secs(args.timeout_secs);
    let phases = watch::until_paid(&timeline, &exchange.provider, registry, posted.sequence, &agents, || {
        processes.check_alive()?;
        ensure!(Instant::now() < deadline, "not done after {} s", args.timeout_secs);
        Ok(())
    })
    .await?;

    let report = read_sequence(&exchange.provider, registry, None).await?;
    ensure!(
        report.sequence == posted.sequence,
        "the latest verified sequence is {}, not {}",
        report.sequence,
        posted.sequence
    );
    ensure!(report.statement.is_some(), "the posted statement does not hash to the stored digest");
    timeline.step("the verified sequence, as `zkpor root` reads it:".to_string());
    print_report(&report);

    let proof = fetch_user_proof(&exchange_url, posted.sequence).await?;
    proof.verify(Some(report.root.0)).with_context(|| format!("{USER}'s inclusion proof against the on-chain root"))?;
    timeline.step(format!(
        "{USER}'s inclusion proof, fetched from the exchange's front-end endpoint, leads to the verified root on chain"
    ));

    summary(&rpc, registry, verifier, &exchange, &agents, posted.gas_used, &phases, &timeline).await?;
    if args.keep_running {
        println!();
        println!("Everything keeps running; try:");
        println!("  zkpor root --rpc {rpc} --registry {registry}");
        println!(
            "  curl -H 'Authorization: Bearer {FRONTEND_TOKEN}' {exchange_url}/v1/users/{USER}/proof > {USER}.json"
        );
        println!("  zkpor verify-user {USER}.json --rpc {rpc} --registry {registry}");
        println!("Press Ctrl-C to stop.");
        crate::cli::agent::shutdown_signal().await;
    }
    processes.stop();
    for agent in &agents {
        agent.store.close().await;
    }
    Ok(())
}

async fn fetch_user_proof(exchange_url: &str, sequence: u64) -> Result<UserProof> {
    let url = format!("{exchange_url}/v1/users/{USER}/proof?sequence={sequence}");
    let response = reqwest::Client::new().get(&url).bearer_auth(FRONTEND_TOKEN).send().await?;
    let status = response.status();
    ensure!(status.is_success(), "GET {url}: {status}: {}", response.text().await.unwrap_or_default());
    Ok(response.json().await?)
}

#[allow(clippy::too_many_arguments)]
async fn summary(
    rpc: &str,
    registry: Address,
    verifier: Address,
    exchange: &Account,
    agents: &[Agent],
    post_gas: u64,
    phases: &[(String, Duration)],
    timeline: &Timeline,
) -> Result<()> {
    println!();
    println!("Summary ({:.0?} in all)", timeline.elapsed());
    let mut rows = vec![
        ["rpc".to_string(), rpc.to_string()],
        ["registry".into(), registry.to_string()],
        ["verifier".into(), verifier.to_string()],
        ["exchange (sequencer)".into(), exchange.address().to_string()],
    ];
    for agent in agents {
        let balance = exchange.provider.get_balance(agent.address).await?;
        rows.push([agent.name.clone(), format!("{} ({} ETH now)", agent.address, eth(balance))]);
    }
    print_table(&["who", "address"], &rows);
    println!();
    let mut gas = vec![["exchange".to_string(), "post".to_string(), post_gas.to_string()]];
    for agent in agents {
        for tx in agent.store.transactions(&agent.address.to_string()).await? {
            // The last transactions may be mined before the agent records them.
            let gas_used = match tx.gas_used {
                Some(gas) => Some(gas),
                None => {
                    let hash = tx.latest().hash.parse()?;
                    exchange.provider.get_transaction_receipt(hash).await?.map(|r| r.gas_used)
                }
            };
            let gas_used = gas_used.map(|g| g.to_string()).unwrap_or_else(|| "pending".into());
            gas.push([agent.name.clone(), tx.tx.purpose.to_string(), gas_used]);
        }
    }
    print_table(&["who", "transaction", "gas used"], &gas);
    println!();
    let rows: Vec<[String; 2]> = phases.iter().map(|(phase, time)| [phase.clone(), format!("{time:.1?}")]).collect();
    print_table(&["phase", "time"], &rows);
    Ok(())
}

fn write_exchange_config(dir: &Path, port: u16, rpc: &str, registry: Address) -> Result<PathBuf> {
    let text = format!(
        r#"archive = "exchange-data"
listen = "127.0.0.1:{port}"
rpc_url = "{rpc}"
registry = "{registry}"

[[agents]]
name = "agent-a"
token = "agent-a-exchange-token"

[[agents]]
name = "agent-b"
token = "agent-b-exchange-token"

[[frontends]]
name = "web"
token = "{FRONTEND_TOKEN}"
"#
    );
    let path = dir.join("exchange.toml");
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// Writes agent `name`'s configuration: its worker API on `port`, its two
/// workers' `tokens`, following `registry` and fetching witnesses from the
/// exchange at `exchange_url`, signing as `account`.
#[allow(clippy::too_many_arguments)]
fn write_agent_config(
    dir: &Path,
    name: &str,
    port: u16,
    database: &str,
    tokens: &[String; 2],
    account: &Account,
    rpc: &str,
    registry: Address,
    exchange_url: &str,
) -> Result<PathBuf> {
    let mut chain = ChainConfig::new(rpc, registry, account.key_hex());
    chain.poll_interval_ms = 500;
    chain.stake_wei = U256::from(STAKE_WEI);
    let config = AgentConfig {
        database_url: database.to_string(),
        api: ApiConfig { listen: ([127, 0, 0, 1], port).into(), ..ApiConfig::default() },
        leases: LeaseConfig { duration_secs: 60, reap_interval_secs: 2, ..LeaseConfig::default() },
        workers: numbered_workers(tokens),
        source: SourceConfig {
            submitter: zkpor_chain::registry::from_evm_address(account.address()),
            snapshots: Vec::new(),
            exchange: Some(ExchangeSource {
                url: Some(exchange_url.to_string()),
                token: Some(format!("{name}-exchange-token")),
                poll_interval_ms: 500,
                ..ExchangeSource::default()
            }),
        },
        chain: Some(chain),
    };
    let path = dir.join(format!("{name}.toml"));
    config.save(&path)?;
    Ok(path)
}

/// Builds `family`'s circuits into the default circuit directory, which
/// every process of the network reads, unless a complete build is there:
/// so that four processes do not build them at once on a first run.
fn build_circuits_unless_kept(family: &Family) -> Result<String> {
    let Some(files) = CircuitDirectory::at_default_location().map(|directory| directory.family(family)) else {
        return Ok("no circuit directory (no home directory): every process builds the circuits".to_string());
    };
    if files.manifest()?.is_some() {
        return Ok(format!("circuits of family {} on disk ({})", family.name(), files.dir().display()));
    }
    let started = Instant::now();
    tokio::task::block_in_place(|| FamilyCircuits::load_or_build(family, Some(&files), |_| {}))?;
    Ok(format!(
        "circuits of family {} built in {:.0?} and kept in {} (later runs read them)",
        family.name(),
        started.elapsed(),
        files.dir().display()
    ))
}

/// Workers named `worker-1`, `worker-2`, ... with `tokens`.
pub(crate) fn numbered_workers(tokens: &[String]) -> Vec<WorkerToken> {
    tokens
        .iter()
        .enumerate()
        .map(|(i, token)| WorkerToken { name: format!("worker-{}", i + 1), token: token.clone() })
        .collect()
}

/// A port free on this machine now.
pub(crate) fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// `path` as text, for a command line.
pub(crate) fn path_str(path: &Path) -> Result<&str> {
    path.to_str().with_context(|| format!("{} is not UTF-8", path.display()))
}
