//! `zkpor prover ...`: a prover worker of one agent, or offline proving of a
//! task file.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use tokio::sync::watch;
use zkpor_prover::offline::{prove_task_file, read_task_file};
use zkpor_prover::{AgentClient, WorkerOptions, run_worker};
use zkpor_tasks::{CircuitCache, TaskKind};

use super::circuit_dir::CircuitDirArgs;

/// The prover's arguments.
#[derive(Debug, Args)]
pub struct ProverArgs {
    /// The agent's worker API, e.g. http://127.0.0.1:8480.
    #[arg(long, env = "ZKPOR_AGENT_URL")]
    agent: Option<String>,
    /// This worker's bearer token (from the agent's configuration). Several
    /// (`--token A --token B`, or comma-separated) run one worker per token
    /// in this process, sharing one copy of the circuits.
    #[arg(long, env = "ZKPOR_WORKER_TOKEN", hide_env_values = true, value_delimiter = ',')]
    token: Vec<String>,
    /// Seconds to wait before asking again when no task is ready.
    #[arg(long, default_value_t = 2)]
    idle_wait: u64,
    /// Stop after this many tasks.
    #[arg(long)]
    max_tasks: Option<usize>,
    /// The kinds of task to take, comma-separated: batch, node, final (a
    /// small machine may take batches only).
    #[arg(long, value_delimiter = ',', default_value = "batch,node,final", value_parser = task_kind)]
    kinds: Vec<TaskKind>,
    #[command(flatten)]
    circuit_dir: CircuitDirArgs,
    #[command(subcommand)]
    command: Option<ProverCommand>,
}

#[derive(Debug, Subcommand)]
enum ProverCommand {
    /// Prove an offline task file (`zkpor agent export-task`) into a proof
    /// file for `zkpor agent import-proof`.
    ProveTask {
        /// The task file.
        task: PathBuf,
        /// Where to write the proof file.
        #[arg(long)]
        out: PathBuf,
    },
}

/// A kind of task, named as in task ids.
fn task_kind(text: &str) -> Result<TaskKind, String> {
    TaskKind::ALL
        .into_iter()
        .find(|kind| kind.as_str() == text)
        .ok_or_else(|| format!("'{text}' is not a kind of task: batch, node or final"))
}

pub fn run(args: ProverArgs) -> Result<ExitCode> {
    let circuits = Arc::new(args.circuit_dir.cache());
    if let Some(ProverCommand::ProveTask { task, out }) = args.command {
        let file = read_task_file(&task)?;
        eprintln!("proving {} (family {})", file.spec.key, file.spec.family.name());
        let proof = prove_task_file(&circuits, &file)?;
        std::fs::write(&out, serde_json::to_string(&proof)?).with_context(|| format!("writing {}", out.display()))?;
        eprintln!("wrote {} ({} ms of proving)", out.display(), proof.result.proving_ms);
        keep_circuits(&circuits);
        return Ok(ExitCode::SUCCESS);
    }
    let agent = args.agent.context("--agent URL is required to work for an agent")?;
    anyhow::ensure!(!args.token.is_empty(), "--token (or ZKPOR_WORKER_TOKEN) is required to work for an agent");
    let base: reqwest::Url = agent.parse().with_context(|| format!("--agent '{agent}' is not a URL"))?;
    let clients =
        args.token.into_iter().map(|token| AgentClient::new(base.clone(), token)).collect::<Result<Vec<_>, _>>()?;
    let options = WorkerOptions {
        idle_wait: Duration::from_secs(args.idle_wait),
        max_tasks: args.max_tasks,
        exit_when_idle: false,
        kinds: args.kinds,
    };
    let (summaries, interrupted) = super::runtime()?.block_on(async {
        let (stop, shutdown) = watch::channel(false);
        let workers: Vec<_> = clients
            .into_iter()
            .map(|client| tokio::spawn(run_worker(client, circuits.clone(), options.clone(), shutdown.clone())))
            .collect();
        drop(shutdown);
        let interrupted = tokio::select! {
            _ = super::agent::shutdown_signal() => {
                eprintln!("stopping after the current task");
                stop.send(true).ok();
                true
            }
            _ = stop.closed() => false,
        };
        let mut summaries = Vec::new();
        for worker in workers {
            summaries.push(worker.await??);
        }
        anyhow::Ok((summaries, interrupted))
    })?;
    for (index, summary) in summaries.iter().enumerate() {
        let worker = if summaries.len() == 1 { "worker".to_string() } else { format!("worker {}", index + 1) };
        eprintln!(
            "{worker} done: {} accepted, {} rejected, {} discarded, {} failed",
            summary.accepted, summary.rejected, summary.discarded, summary.failed
        );
    }
    if !interrupted {
        keep_circuits(&circuits);
    }
    Ok(ExitCode::SUCCESS)
}

/// Before exiting, lets the circuits still being read or built be finished
/// and kept in the circuit directory, so the next run reads them all.
fn keep_circuits(circuits: &CircuitCache) {
    if let Some(directory) = circuits.directory() {
        eprintln!("finishing the family's circuits in {} for the next run", directory.root().display());
        circuits.wait_until_built();
    }
}
