//! `zkpor agent ...`: runs the agent (the `zkpor-agent` crate) until
//! SIGINT or SIGTERM; its status; offline export of tasks and import of
//! proofs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use zkpor_agent::{Agent, AgentConfig};
use zkpor_store::Store;
use zkpor_tasks::TaskKey;
use zkpor_tasks::protocol::ProofFile;

use super::circuit_dir::CircuitDirArgs;
use crate::table::print_table;

/// The agent's arguments.
#[derive(Debug, Args)]
pub struct AgentArgs {
    /// The configuration file.
    #[arg(long, global = true, default_value = "config/agent.toml", env = "ZKPOR_AGENT_CONFIG")]
    config: PathBuf,
    #[command(flatten)]
    circuit_dir: CircuitDirArgs,
    #[command(subcommand)]
    command: Option<AgentCommand>,
}

#[derive(Debug, Subcommand)]
enum AgentCommand {
    /// Print the sequences, the task queues and the workers' counts.
    Status,
    /// Lease a ready task to an offline prover and write its task file.
    ExportTask {
        /// The task, e.g. s1-batch-0-3.
        task: TaskKey,
        /// Where to write the task file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Import an offline prover's proof file, with the checks a proof over
    /// HTTP gets.
    ImportProof {
        /// The proof file of `zkpor prover prove-task`.
        file: PathBuf,
    },
    /// Re-admit a worker quarantined for rejected proofs.
    ResetWorker {
        /// The worker's name in the configuration.
        name: String,
    },
}

pub fn run(args: AgentArgs) -> Result<ExitCode> {
    let config = AgentConfig::load(&args.config)?;
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let agent = Agent::open(config, args.circuit_dir.cache())
            .await
            .with_context(|| format!("the agent of {}", args.config.display()))?;
        let generator = agent.generator().clone();
        match args.command {
            None => {
                agent.run(shutdown_signal()).await?;
                Ok(ExitCode::SUCCESS)
            }
            Some(AgentCommand::Status) => status(generator.store()).await,
            Some(AgentCommand::ExportTask { task, out }) => {
                let file = generator.export_task(&task).await?;
                let text = serde_json::to_string_pretty(&file)?;
                write_or_print(out.as_deref(), &text)?;
                eprintln!("task {task} leased to the offline prover until {} (Unix ms)", file.expires_ms);
                Ok(ExitCode::SUCCESS)
            }
            Some(AgentCommand::ResetWorker { name }) => {
                if generator.store().reset_worker_rejections(&name).await? {
                    println!("worker '{name}' may lease tasks again");
                    Ok(ExitCode::SUCCESS)
                } else {
                    eprintln!("no worker '{name}' has returned anything yet");
                    Ok(ExitCode::FAILURE)
                }
            }
            Some(AgentCommand::ImportProof { file }) => {
                let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
                let proof: ProofFile =
                    serde_json::from_str(&text).with_context(|| format!("{} is not a proof file", file.display()))?;
                let task = proof.task;
                let ack = generator.import_proof(proof).await?;
                println!(
                    "proof of {task} accepted; {} task(s) became ready{}",
                    ack.ready.len(),
                    if ack.sequence_proven { "; its sequence is proven" } else { "" }
                );
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("a SIGTERM handler");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

async fn status(store: &Store) -> Result<ExitCode> {
    let sequences = store.sequences().await?;
    if sequences.is_empty() {
        println!("no sequences yet");
    } else {
        let rows: Vec<[String; 5]> = sequences
            .iter()
            .map(|s| {
                [
                    s.info.sequence.to_string(),
                    s.info.family.name().to_string(),
                    s.info.account_count.to_string(),
                    s.status.to_string(),
                    s.error.clone().unwrap_or_default(),
                ]
            })
            .collect();
        print_table(&["sequence", "family", "accounts", "status", "error"], &rows);
    }
    let refused = store.refused_sequences().await?;
    if !refused.is_empty() {
        println!();
        println!("refused witnesses (nothing of these is proven; fetched again later):");
        let rows: Vec<[String; 3]> =
            refused.into_iter().map(|r| [r.sequence.to_string(), r.root.to_string(), r.reason]).collect();
        print_table(&["sequence", "posted root", "why"], &rows);
    }
    let submissions = store.submissions().await?;
    if !submissions.is_empty() {
        println!();
        let rows: Vec<[String; 5]> = submissions
            .iter()
            .map(|s| {
                [
                    s.sequence.to_string(),
                    s.state.to_string(),
                    s.round.to_string(),
                    s.done_block.map(|b| b.to_string()).unwrap_or_default(),
                    s.reason.clone().unwrap_or_default(),
                ]
            })
            .collect();
        print_table(&["sequence", "on chain", "round", "verified in block", "reason"], &rows);
    }
    println!();
    let queues: Vec<[String; 3]> = store
        .queue_depths()
        .await?
        .into_iter()
        .map(|q| [q.kind.to_string(), q.status.to_string(), q.count.to_string()])
        .collect();
    print_table(&["task kind", "status", "count"], &queues);
    let workers = store.worker_stats().await?;
    if !workers.is_empty() {
        println!();
        let rows: Vec<[String; 4]> = workers
            .into_iter()
            .map(|w| [w.name, w.accepted.to_string(), w.rejected.to_string(), w.failed.to_string()])
            .collect();
        print_table(&["worker", "accepted", "rejected", "failed"], &rows);
    }
    Ok(ExitCode::SUCCESS)
}

fn write_or_print(out: Option<&Path>, text: &str) -> Result<()> {
    match out {
        Some(path) => std::fs::write(path, text).with_context(|| format!("writing {}", path.display())),
        None => {
            println!("{text}");
            Ok(())
        }
    }
}
