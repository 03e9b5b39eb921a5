//! Command-line interface: the commands and what they print.

pub(crate) mod agent;
pub(crate) mod circuit_dir;
mod circuits;
mod contracts;
pub(crate) mod exchange;
mod prover;
pub(crate) mod reader;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// zkpor: proofs of an exchange's liabilities, anchored on an EVM chain.
#[derive(Debug, Parser)]
#[command(version, about, propagate_version = true)]
pub struct Cli {
    /// Log what happens (or set RUST_LOG for finer control).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The whole network on this machine: anvil, the contracts, a synthetic
    /// snapshot published by an exchange, two agents with two workers each
    /// proving it for the reward, the root verified and a user's proof
    /// checked against the chain.
    Dev(crate::devtools::dev::DevArgs),
    /// What an exchange does: check a snapshot, prove it, answer users.
    #[command(subcommand)]
    Exchange(exchange::ExchangeCommand),
    /// Deploy and manage the registry contract.
    #[command(subcommand)]
    Contracts(contracts::ContractsCommand),
    /// Run the agent: take in sequences, lease proving tasks to prover
    /// workers, check and store their proofs (`--config`, default
    /// config/agent.toml).
    Agent(agent::AgentArgs),
    /// Work for an agent as a prover (`--agent URL --token T`), or prove an
    /// offline task file.
    Prover(prover::ProverArgs),
    /// Check a proving run's final proof against its statement.
    Verify {
        /// The output directory of `zkpor exchange prove`.
        out: PathBuf,
    },
    /// Check a user's inclusion proof: against the root its sequence has
    /// on chain (`--rpc`, `--registry`), a given root, or the one in the
    /// file.
    VerifyUser {
        /// The JSON file `zkpor exchange user-proof` printed.
        file: PathBuf,
        /// The root to check against (default: the root in the file).
        #[arg(long, conflicts_with = "rpc")]
        root: Option<String>,
        /// JSON-RPC endpoint of the chain holding the registry.
        #[arg(long, requires = "registry")]
        rpc: Option<String>,
        /// The registry the proof's sequence is posted to.
        #[arg(long, requires = "rpc")]
        registry: Option<alloy::primitives::Address>,
    },
    /// Print a verified sequence from the registry: root, per-asset totals
    /// checked against the stored digest, status, block and time, provers.
    Root {
        #[command(flatten)]
        registry: reader::RegistryArgs,
        /// The sequence (default: the latest verified).
        #[arg(long)]
        sequence: Option<u64>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Measure what the system costs: proving on a family, the agent's
    /// own cost per task, blocks to verification, user-proof answers.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Print the circuit families this build ships: their parameters and
    /// recorded digests (`--build` also builds the circuits and compares).
    Circuits {
        #[command(subcommand)]
        command: CircuitsCommand,
    },
}

/// `zkpor circuits ...`.
#[derive(Debug, Subcommand)]
enum CircuitsCommand {
    /// A family's parameters and digest (every shipped family without
    /// `--family`).
    Family {
        /// The family (default: every shipped one).
        #[arg(long)]
        family: Option<zkpor_circuits::Family>,
        /// Build the circuits (or read them from the circuit directory,
        /// writing those built there, so that workers and agents started
        /// later read them) and print the digest; the one `families.json`
        /// records is printed without building.
        #[arg(long)]
        build: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        circuit_dir: circuit_dir::CircuitDirArgs,
    },
}

/// The benchmarks.
#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// A realistic snapshot (220 assets by default) proven end to end on a
    /// circuit family: time and memory per phase.
    Proving(crate::devtools::bench::proving::ProvingArgs),
    /// One agent with its workers proving a realistic snapshot, against
    /// `exchange prove` of the same snapshot: the agent's overhead.
    Agent(crate::devtools::bench::agent::AgentArgs),
    /// How many tasks per second one agent leases, checks and stores, on
    /// SQLite and PostgreSQL, with proofs computed beforehand.
    Dispatch(crate::devtools::bench::dispatch::DispatchArgs),
    /// Blocks from a stored final proof to its verification and reward on
    /// a local anvil, with many sequences in flight at once.
    Submit(crate::devtools::bench::submit::SubmitArgs),
    /// How fast the user-proof store answers random users (a realistic
    /// snapshot committed and stored, nothing proven).
    UserStore(crate::devtools::bench::user_store::UserStoreArgs),
    /// What the exchange's witness endpoint sends per user and how many
    /// batches a second it serves (a realistic snapshot archived as a posted
    /// sequence and fetched by several agents at once).
    Witness(crate::devtools::bench::witness::WitnessArgs),
}

impl Cli {
    /// The log level without `-v` or `RUST_LOG`: services log what they do.
    pub fn default_log_level(&self) -> &'static str {
        match (&self.command, self.verbose) {
            (_, true) | (Command::Agent(_) | Command::Prover(_), _) => "info",
            (Command::Bench(BenchCommand::Proving(args)), _) if args.profile => "warn,plonky2::util::timing=debug",
            (Command::Dev(_), _) => "error",
            _ => "warn",
        }
    }

    /// Whether the command runs a service (agent, prover worker, local
    /// network) rather than printing a report and exiting.
    pub fn is_service(&self) -> bool {
        matches!(self.command, Command::Agent(_) | Command::Prover(_) | Command::Dev(_))
    }
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Dev(args) => crate::devtools::dev::run(args),
        Command::Exchange(command) => exchange::run(command),
        Command::Contracts(command) => contracts::run(command),
        Command::Agent(args) => agent::run(args),
        Command::Prover(args) => prover::run(args),
        Command::Verify { out } => verify::verify(&out),
        Command::VerifyUser { file, root, rpc, registry } => {
            let registry = rpc.zip(registry).map(|(rpc, registry)| reader::RegistryArgs { rpc, registry });
            verify::verify_user(&file, root.as_deref(), registry.as_ref())
        }
        Command::Root { registry, sequence, json } => reader::root(&registry, sequence, json),
        Command::Bench(BenchCommand::Proving(args)) => crate::devtools::bench::proving::run(args),
        Command::Bench(BenchCommand::Agent(args)) => crate::devtools::bench::agent::run(args),
        Command::Bench(BenchCommand::Dispatch(args)) => crate::devtools::bench::dispatch::run(args),
        Command::Bench(BenchCommand::Submit(args)) => crate::devtools::bench::submit::run(args),
        Command::Bench(BenchCommand::UserStore(args)) => crate::devtools::bench::user_store::run(args),
        Command::Bench(BenchCommand::Witness(args)) => crate::devtools::bench::witness::run(args),
        Command::Circuits { command: CircuitsCommand::Family { family, build, json, circuit_dir } } => {
            circuits::family(family, build.then_some(circuit_dir), json)
        }
    }
}

/// A runtime for the commands that touch SQLite.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?)
}
