//! `zkpor bench agent`: what the agent costs on top of the proving, at
//! exchange scale.
//!
//! 1. It writes (or reads) a snapshot and makes sure the family's circuits
//!    are in the circuit directory (`zkpor circuits family --build`), so
//!    that neither run below builds them.
//! 2. `zkpor exchange prove` of the snapshot, as a child process: the whole
//!    tree proven in one process.
//! 3. `zkpor agent` with the same snapshot as its sequence 1 (no chain) and
//!    one `zkpor prover` process running `--workers` worker loops, from the
//!    moment both are started until the agent's store has the sequence
//!    proven: the same tree farmed out task by task, every proof checked and
//!    stored by the agent.
//!
//! Both runs read the circuits from the same directory and share this
//! machine's cores; the agent's overhead is the difference of the two wall
//! times over the first.

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::Args;
use zkpor_agent::AgentConfig;
use zkpor_generator::settings::{ApiConfig, LeaseConfig};
use zkpor_generator::source::config::{LocalSnapshot, SourceConfig};
use zkpor_store::{ProvingState, Store};

use super::BenchSnapshot;
use crate::cli::circuit_dir::CircuitDirArgs;
use crate::devtools::dev::processes::{Processes, tail};
use crate::devtools::dev::{free_port, numbered_workers, path_str};
use crate::table::print_table;

/// The address both runs bind their final proofs to.
const SUBMITTER: &str = "0xbebebebebebebebebebebebebebebebebebebebe";

/// `zkpor bench agent` arguments.
#[derive(Debug, Args)]
pub struct AgentArgs {
    /// The snapshot, and the family it is proven on.
    #[command(flatten)]
    input: BenchSnapshot,
    /// Worker loops in the prover process.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    workers: u16,
    /// Where the family's circuits are read from.
    #[command(flatten)]
    circuit_dir: CircuitDirArgs,
}

/// Runs the benchmark and prints its figures.
pub fn run(args: AgentArgs) -> Result<ExitCode> {
    let (_generated, snapshot) = args.input.dir()?;
    let family = args.input.family.name();
    let work = tempfile::tempdir().context("creating a working directory")?;
    let directory = args
        .circuit_dir
        .directory()
        .context("the benchmark needs a circuit directory (--circuit-dir, or a home directory)")?;
    let circuit_dir = ["--circuit-dir".to_string(), path_str(directory.root())?.to_string()];

    eprintln!("reading or building the circuits of family {family} ...");
    let mut build = vec!["circuits", "family", "--family", family, "--build"];
    build.extend(circuit_dir.iter().map(String::as_str));
    run_to_end(&build, &work.path().join("circuits.log"))?;

    eprintln!("zkpor exchange prove ...");
    let out = work.path().join("out");
    let mut prove = vec!["exchange", "prove", path_str(&snapshot)?, "--family", family, "--seed", "1"];
    prove.extend(["--sequence", "1", "--submitter", SUBMITTER, "--out", path_str(&out)?]);
    prove.extend(circuit_dir.iter().map(String::as_str));
    let started = Instant::now();
    run_to_end(&prove, &work.path().join("prove.log"))?;
    let alone = started.elapsed();

    eprintln!("zkpor agent and a prover process of {} workers ...", args.workers);
    let port = free_port()?;
    let database = format!("sqlite://{}", path_str(&work.path().join("agent.sqlite"))?);
    let tokens: Vec<String> = (1..=args.workers).map(|i| format!("bench-worker-token-{i:04}")).collect();
    let config = AgentConfig {
        database_url: database.clone(),
        api: ApiConfig { listen: ([127, 0, 0, 1], port).into(), ..ApiConfig::default() },
        leases: LeaseConfig::default(),
        workers: numbered_workers(&tokens),
        source: SourceConfig {
            submitter: SUBMITTER.parse()?,
            snapshots: vec![LocalSnapshot {
                path: snapshot.clone(),
                sequence: 1,
                family: args.input.family.clone(),
                seed: Some(1),
            }],
            exchange: None,
        },
        chain: None,
    };
    let config_path = work.path().join("agent.toml");
    config.save(&config_path)?;

    let mut processes = Processes::new(&work.path().join("logs"))?;
    let started = Instant::now();
    let mut agent = vec!["agent", "--config", path_str(&config_path)?];
    agent.extend(circuit_dir.iter().map(String::as_str));
    processes.start("agent", &agent, &[])?;
    processes.wait_listening("agent", port)?;
    let url = format!("http://127.0.0.1:{port}");
    let mut prover = vec!["prover", "--agent", url.as_str(), "--idle-wait", "1"];
    prover.extend(circuit_dir.iter().map(String::as_str));
    processes.start("prover", &prover, &[("ZKPOR_WORKER_TOKEN", &tokens.join(","))])?;
    let runtime = crate::cli::runtime()?;
    runtime.block_on(async {
        let store = loop {
            processes.check_alive()?;
            if let Ok(store) = Store::open(&database).await {
                break store;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        loop {
            processes.check_alive()?;
            if let Some(row) = store.sequence(1).await? {
                match row.status {
                    ProvingState::Proven => return Ok(()),
                    ProvingState::Failed => bail!("the agent failed the sequence: {}", row.error.unwrap_or_default()),
                    _ => {}
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })?;
    let farmed = started.elapsed();
    processes.stop();

    println!();
    print_table(
        &["family", "exchange prove", &format!("agent + {} workers", args.workers), "agent overhead"],
        &[[
            family.to_string(),
            format!("{:.1} s", alone.as_secs_f64()),
            format!("{:.1} s", farmed.as_secs_f64()),
            format!("{:+.1}%", (farmed.as_secs_f64() / alone.as_secs_f64() - 1.0) * 100.0),
        ]],
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs `zkpor <args>` to its end, its output in `log`.
fn run_to_end(args: &[&str], log: &Path) -> Result<()> {
    let file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let exe = std::env::current_exe().context("finding the zkpor executable")?;
    let status = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .status()
        .with_context(|| format!("running zkpor {}", args.join(" ")))?;
    ensure!(
        status.success(),
        "zkpor {} failed ({status}); the end of {}:\n{}",
        args.join(" "),
        log.display(),
        tail(log)
    );
    Ok(())
}
