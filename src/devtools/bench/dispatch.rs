//! `zkpor bench dispatch`: how many tasks per second one agent leases,
//! checks and stores, on SQLite and on PostgreSQL, with the proving taken
//! out.
//!
//! 1. `N` sequences of one synthetic snapshot are committed with the same
//!    seed, so their trees are equal and a batch or node proof of one fits the
//!    same task of every other; only the final proofs (which bind the sequence
//!    number) differ. Every distinct proof is computed once, up front.
//! 2. The proof check is timed on its own, per task kind, on those proofs.
//! 3. For each database, a fresh agent serves the worker API on a local port
//!    and takes the `N` sequences in; workers lease each task and return its
//!    proof from the table at once, in-process (the generator called
//!    directly) and over HTTP. A pass with one worker gives the time of each
//!    request, so the agent's own cost per task is `lease + submit − check`,
//!    with the check time and (over HTTP) the request handling times taken
//!    from the agent's metrics; a pass with many workers gives the
//!    throughput. Workers and agent share this machine's cores.

use std::collections::{BTreeMap, HashMap};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::{Args, ValueEnum};
use parking_lot::Mutex;
use tokio::sync::watch;
use zkpor_circuits::encoding::Address;
use zkpor_circuits::node::NodeProof;
use zkpor_circuits::statement::StatementProof;
use zkpor_circuits::{Family, FamilyCircuits, FamilyVerifiers};
use zkpor_generator::settings::{ApiConfig, LeaseConfig, WorkerToken};
use zkpor_generator::source::config::LocalSnapshot;
use zkpor_generator::source::local::commit_snapshot;
use zkpor_generator::{Clock, Generator, GeneratorSettings};
use zkpor_prover::AgentClient;
use zkpor_store::scratch::ScratchDatabase;
use zkpor_store::{NewSequence, ProvingState};
use zkpor_tasks::protocol::{LeaseGrant, ProofResult};
use zkpor_tasks::spec::{ProofBytes, TaskInput, TaskSpec};
use zkpor_tasks::{CircuitCache, TaskKey, TaskKind, VerifierCache, check_proof, prove_task};

use super::ms;
use crate::cli::circuit_dir::CircuitDirArgs;
use crate::table::print_table;

/// The address bound into the benchmark's final proofs.
const SUBMITTER: Address = Address([0xbe; 20]);

/// What `zkpor bench dispatch` measures.
#[derive(Debug, Args)]
pub struct DispatchArgs {
    /// Sequences taken in at once.
    #[arg(long, default_value_t = 12)]
    sequences: u64,
    /// Concurrent workers in the throughput pass.
    #[arg(long, default_value_t = 16)]
    workers: usize,
    /// The circuit family: the tiny one's small circuits make the proofs
    /// computed up front quick.
    #[arg(long, default_value = "tiny")]
    family: Family,
    /// Batches per sequence (full batches of the family's first tier): with
    /// the nodes above them and the final proof, the tasks of a sequence.
    #[arg(long, default_value_t = 8)]
    batches: usize,
    /// The databases to measure on.
    #[arg(long = "database", value_enum, default_values_t = [Database::Sqlite, Database::Postgres])]
    databases: Vec<Database>,
    /// Where the family's circuits are read from and kept.
    #[command(flatten)]
    circuit_dir: CircuitDirArgs,
}

/// A database kind to measure on (PostgreSQL at `$ZKPOR_TEST_POSTGRES`,
/// default `postgres://postgres@127.0.0.1:5432/test`, where a scratch
/// database is created and dropped).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Database {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A scratch PostgreSQL database.
    Postgres,
}

impl Database {
    async fn scratch(self) -> Result<ScratchDatabase> {
        Ok(match self {
            Database::Sqlite => ScratchDatabase::sqlite()?,
            Database::Postgres => ScratchDatabase::postgres().await?,
        })
    }
}

/// How the pass's workers reach the agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transport {
    /// Over HTTP, as prover workers do.
    Http,
    /// By calling the generator in this process: the cost without HTTP and
    /// JSON.
    Direct,
}

/// Runs the benchmark and prints its figures.
pub fn run(args: DispatchArgs) -> Result<ExitCode> {
    ensure!(
        args.sequences >= 1 && args.workers >= 1 && args.batches >= 1,
        "--sequences, --workers and --batches must be at least 1"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(measure(args))?;
    Ok(ExitCode::SUCCESS)
}

async fn measure(args: DispatchArgs) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let snapshot = dir.path().join("snapshot");
    write_snapshot(&snapshot, &args.family, args.batches)?;
    let sequences: Vec<NewSequence> = (1..=args.sequences)
        .map(|sequence| {
            let local = LocalSnapshot { path: snapshot.clone(), sequence, family: args.family.clone(), seed: Some(7) };
            commit_snapshot(&local, SUBMITTER)
        })
        .collect::<Result<_>>()?;
    let tasks: usize = sequences.iter().map(|s| s.tasks.len()).sum();
    eprintln!("{} sequences on family {}: {tasks} tasks", sequences.len(), args.family.name());

    let circuits = Arc::new(args.circuit_dir.cache());
    eprintln!("building the circuits and proving each distinct task once ...");
    let started = Instant::now();
    let proofs = Arc::new(precompute(&circuits, &sequences).await?);
    eprintln!("done in {:.0?}: {} distinct proofs", started.elapsed(), proofs.len());

    let verifiers = verifiers_of(&circuits, &args.family).await?;
    let checks = time_checks(&*verifiers.get(&args.family)?, &sequences, &proofs)?;
    let mut rows = Vec::new();
    for database in &args.databases {
        for (transport, workers) in [(Transport::Direct, 1), (Transport::Http, 1), (Transport::Http, args.workers)] {
            eprintln!("{database:?}, {workers} worker(s), {transport:?} ...");
            let pass = dispatch_pass(*database, transport, workers, &circuits, &sequences, &proofs).await?;
            rows.push(pass.row(*database, transport, workers));
        }
    }
    println!();
    let checked: Vec<String> = checks.iter().map(|(kind, time)| format!("{kind} {} ms", ms(*time))).collect();
    println!("proof check on its own, per task kind: {}", checked.join(", "));
    println!();
    print_table(
        &[
            "database",
            "transport",
            "workers",
            "tasks",
            "tasks/s",
            "taking in (ms/seq)",
            "round trip (ms)",
            "lease (ms)",
            "submit (ms)",
            "check (ms)",
            "agent cost (ms/task)",
            "check share",
        ],
        &rows,
    );
    Ok(())
}

/// A snapshot of `family`'s assets whose users fill `batches` batches of
/// its first tier: each holds one asset, in turn.
pub(super) fn write_snapshot(dir: &std::path::Path, family: &Family, batches: usize) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let symbols: Vec<String> = (0..family.assets()).map(|a| format!("COIN{a}")).collect();
    let mut assets = String::from("symbol,decimals,price_usd\n");
    for symbol in &symbols {
        assets += &format!("{symbol},6,1.5\n");
    }
    std::fs::write(dir.join("assets.csv"), assets)?;
    let mut balances = format!("id,{}\n", symbols.join(","));
    for user in 0..batches * family.tiers().tier(0).batch_size {
        let row: Vec<String> = (0..symbols.len())
            .map(|a| if a == user % symbols.len() { format!("{}", 10 + user) } else { "0".to_string() })
            .collect();
        balances += &format!("user{user},{}\n", row.join(","));
    }
    std::fs::write(dir.join("balances.csv"), balances)?;
    Ok(())
}

/// Where a task's proof is in the table: final proofs per sequence, the
/// others shared by every sequence (their trees are equal).
fn slot(key: &TaskKey) -> TaskKey {
    match key.kind {
        TaskKind::Final => *key,
        _ => TaskKey { sequence: 0, ..*key },
    }
}

/// Every distinct proof of `sequences`, computed by leasing the tasks from a
/// generator on a scratch SQLite database, the way a worker would.
async fn precompute(circuits: &Arc<CircuitCache>, sequences: &[NewSequence]) -> Result<HashMap<TaskKey, Vec<u8>>> {
    let scratch = ScratchDatabase::sqlite()?;
    let generator = generator(&scratch, circuits, &sequences[0].info.family).await?;
    prove_all(&generator, circuits, sequences).await
}

/// Takes `sequences` into `generator` and proves every task, each distinct
/// proof once (sequences with equal trees share all but their final
/// proofs); the distinct proofs.
pub(super) async fn prove_all(
    generator: &Generator,
    circuits: &Arc<CircuitCache>,
    sequences: &[NewSequence],
) -> Result<HashMap<TaskKey, Vec<u8>>> {
    for sequence in sequences {
        generator.store().insert_sequence(sequence).await?;
    }
    let family = sequences[0].info.family.clone();
    let family_circuits = tokio::task::spawn_blocking({
        let circuits = circuits.clone();
        move || circuits.get(&family)
    })
    .await??;
    let mut proofs = HashMap::new();
    let mut statement = None;
    let worker = &WORKER_TOKENS[0].0;
    while let Some(grant) = generator.lease(worker, &TaskKind::ALL).await? {
        let key = grant.spec.key;
        let proof = match proofs.get(&slot(&key)) {
            Some(proof) => Clone::clone(proof),
            None => {
                let proof = tokio::task::block_in_place(|| prove(&family_circuits, &grant.spec, &mut statement))?;
                proofs.insert(slot(&key), proof.clone());
                proof
            }
        };
        let result = ProofResult { lease_id: grant.lease_id, proof: ProofBytes(proof), proving_ms: 0 };
        generator.submit(worker, &key, result).await.with_context(|| format!("task {key}"))?;
    }
    ensure_proven(generator.store(), sequences).await?;
    Ok(proofs)
}

/// Fails unless every one of `sequences` is proven in `store`.
async fn ensure_proven(store: &zkpor_store::Store, sequences: &[NewSequence]) -> Result<()> {
    for sequence in sequences {
        let status = store.sequence(sequence.info.sequence).await?.map(|row| row.status);
        ensure!(status == Some(ProvingState::Proven), "sequence {} not proven: {status:?}", sequence.info.sequence);
    }
    Ok(())
}

/// Proves one task; the statement proof, the same for every sequence, once.
fn prove(circuits: &FamilyCircuits, spec: &TaskSpec, statement_proof: &mut Option<StatementProof>) -> Result<Vec<u8>> {
    let TaskInput::Final { statement, top, submitter } = &spec.input else {
        return prove_task(circuits, spec);
    };
    if statement_proof.is_none() {
        let top = NodeProof::from_bytes(top.0.clone(), &circuits.top()?.data().common)
            .context("the top proof does not parse")?;
        *statement_proof = Some(circuits.statement()?.prove(&top, &statement.checked_statement()?)?);
    }
    let statement_proof = statement_proof.as_ref().context("the statement proof")?;
    Ok(circuits.final_wrap()?.prove(statement_proof, spec.key.sequence, *submitter)?.to_bytes())
}

/// The mean time of one proof check, per task kind, over every proof of
/// the table (each checked three times).
fn time_checks(
    verifiers: &FamilyVerifiers,
    sequences: &[NewSequence],
    proofs: &HashMap<TaskKey, Vec<u8>>,
) -> Result<Vec<(TaskKind, Duration)>> {
    let mut totals: BTreeMap<TaskKind, (Duration, u32)> = BTreeMap::new();
    for sequence in sequences {
        for task in &sequence.tasks {
            let proof = &proofs[&slot(&task.key)];
            let started = Instant::now();
            for _ in 0..3 {
                if let Err(rejection) = check_proof(verifiers, &task.expected, proof)? {
                    bail!("the proof of {} fails its check: {rejection}", task.key);
                }
            }
            let (total, count) = totals.entry(task.key.kind).or_default();
            *total += started.elapsed() / 3;
            *count += 1;
        }
    }
    Ok(totals.into_iter().map(|(kind, (total, count))| (kind, total / count)).collect())
}

/// Workers and their tokens.
const WORKER_TOKENS: [(&str, &str); 1] = [("bench", "bench-token-0000000000000001")];

/// The verifier data of `family`'s circuits in `circuits`, for a generator
/// beside workers of this process.
pub(super) async fn verifiers_of(circuits: &Arc<CircuitCache>, family: &Family) -> Result<Arc<VerifierCache>> {
    let (circuits, family) = (circuits.clone(), family.clone());
    tokio::task::spawn_blocking(move || {
        let verifiers = VerifierCache::new();
        verifiers.insert(&family, FamilyVerifiers::of(&*circuits.get(&family)?)?);
        Ok(Arc::new(verifiers))
    })
    .await?
}

/// A generator on `database` checking proofs of `family` with the verifier
/// data of `circuits`.
pub(super) async fn generator(
    database: &ScratchDatabase,
    circuits: &Arc<CircuitCache>,
    family: &Family,
) -> Result<Arc<Generator>> {
    let settings = GeneratorSettings {
        api: ApiConfig { listen: "127.0.0.1:0".parse()?, body_limit_bytes: 64 << 20 },
        leases: LeaseConfig { duration_secs: 600, ..LeaseConfig::default() },
        workers: WORKER_TOKENS
            .iter()
            .map(|(name, token)| WorkerToken { name: name.to_string(), token: token.to_string() })
            .collect(),
    };
    settings.check()?;
    let store = zkpor_store::Store::open(&database.url).await?;
    let clock: Clock = Arc::new(zkpor_store::now_ms);
    Ok(Arc::new(Generator::new(store, settings, verifiers_of(circuits, family).await?, clock)))
}

/// What one pass measured.
struct Pass {
    tasks: usize,
    wall: Duration,
    intake_per_sequence: Duration,
    /// Per task: the lease request's and the submit request's time.
    requests: Vec<(Duration, Duration)>,
    /// The mean time of the agent's own check of a returned proof, from its
    /// `zkpor_proof_check_seconds` metric.
    check: Duration,
    /// Over HTTP, the agent's own time to answer a lease and a result (its
    /// `zkpor_api_request_seconds` metric): the round trips also hold the
    /// worker's encoding and decoding, on the same cores.
    handling: Option<(Duration, Duration)>,
}

impl Pass {
    fn row(&self, database: Database, transport: Transport, workers: usize) -> [String; 12] {
        let n = self.requests.len().max(1) as u32;
        let round_trip: Duration = self.requests.iter().map(|(lease, submit)| *lease + *submit).sum::<Duration>() / n;
        let (lease, submit) = self.handling.unwrap_or_else(|| {
            let lease: Duration = self.requests.iter().map(|r| r.0).sum::<Duration>() / n;
            (lease, round_trip.saturating_sub(lease))
        });
        let cost = (lease + submit).saturating_sub(self.check);
        let share = self.check.as_secs_f64() / (lease + submit).as_secs_f64().max(f64::MIN_POSITIVE);
        let (round_trip, lease, submit, check, cost, share) = if workers == 1 {
            (ms(round_trip), ms(lease), ms(submit), ms(self.check), ms(cost), format!("{:.0}%", share * 100.0))
        } else {
            // Requests overlap and wait for each other: their times are not
            // the agent's cost.
            let dash = || "-".to_string();
            (dash(), dash(), dash(), dash(), dash(), dash())
        };
        [
            format!("{database:?}").to_lowercase(),
            format!("{transport:?}").to_lowercase(),
            workers.to_string(),
            self.tasks.to_string(),
            format!("{:.0}", self.tasks as f64 / self.wall.as_secs_f64()),
            ms(self.intake_per_sequence),
            round_trip,
            lease,
            submit,
            check,
            cost,
            share,
        ]
    }
}

/// A fresh agent on `database` takes `sequences` in; `workers` workers
/// (over `transport`) lease every task and return its proof from `proofs`.
async fn dispatch_pass(
    database: Database,
    transport: Transport,
    workers: usize,
    circuits: &Arc<CircuitCache>,
    sequences: &[NewSequence],
    proofs: &Arc<HashMap<TaskKey, Vec<u8>>>,
) -> Result<Pass> {
    let scratch = database.scratch().await?;
    let generator = generator(&scratch, circuits, &sequences[0].info.family).await?;
    let started = Instant::now();
    for sequence in sequences {
        generator.store().insert_sequence(sequence).await?;
    }
    let intake_per_sequence = started.elapsed() / sequences.len() as u32;
    let tasks: usize = sequences.iter().map(|s| s.tasks.len()).sum();

    let (stop, shutdown) = watch::channel(false);
    let mut server = None;
    let agent = match transport {
        Transport::Direct => Agent::Direct(generator.clone()),
        Transport::Http => {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let url: reqwest::Url = format!("http://{}/", listener.local_addr()?).parse()?;
            server = Some(tokio::spawn(zkpor_generator::api::serve(generator.clone(), listener, shutdown)));
            Agent::Http(AgentClient::new(url, WORKER_TOKENS[0].1.to_string())?)
        }
    };

    let accepted = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(Mutex::new(Vec::with_capacity(tasks)));
    let started = Instant::now();
    let running: Vec<_> = (0..workers)
        .map(|_| {
            let (agent, proofs, accepted, requests) =
                (agent.clone(), proofs.clone(), accepted.clone(), requests.clone());
            tokio::spawn(async move {
                while accepted.load(Ordering::SeqCst) < tasks {
                    let asked = Instant::now();
                    let Some(grant) = agent.lease().await? else {
                        // Everything ready is leased: wait for the others.
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        continue;
                    };
                    let leased = asked.elapsed();
                    let key = grant.spec.key;
                    let proof = proofs.get(&slot(&key)).with_context(|| format!("no proof for {key}"))?.clone();
                    let result = ProofResult { lease_id: grant.lease_id, proof: ProofBytes(proof), proving_ms: 0 };
                    let asked = Instant::now();
                    agent.submit(&key, result).await.with_context(|| format!("returning the proof of {key}"))?;
                    requests.lock().push((leased, asked.elapsed()));
                    accepted.fetch_add(1, Ordering::SeqCst);
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for worker in running {
        worker.await??;
    }
    let wall = started.elapsed();
    stop.send(true)?;
    if let Some(server) = server {
        server.await??;
    }
    ensure_proven(generator.store(), sequences).await?;
    let metrics = generator.metrics().render(generator.store(), zkpor_store::now_ms()).await?;
    let check = histogram_mean(&metrics, "zkpor_proof_check_seconds", "")?;
    let handling = match transport {
        Transport::Http => Some((
            histogram_mean(&metrics, "zkpor_api_request_seconds", r#"route="/v1/lease""#)?,
            histogram_mean(&metrics, "zkpor_api_request_seconds", r#"route="/v1/tasks/{id}/result""#)?,
        )),
        Transport::Direct => None,
    };
    generator.store().close().await;
    let requests = std::mem::take(&mut *requests.lock());
    Ok(Pass { tasks, wall, intake_per_sequence, requests, check, handling })
}

/// The mean of histogram `name` over the series whose labels contain
/// `label` (all of them for ""), from metrics in Prometheus' text format.
fn histogram_mean(metrics: &str, name: &str, label: &str) -> Result<Duration> {
    let total = |suffix: &str| -> f64 {
        let prefix = format!("{name}_{suffix}{{");
        metrics
            .lines()
            .filter(|line| line.starts_with(&prefix) && line.contains(label))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    let count = total("count");
    ensure!(count > 0.0, "the agent's metrics show no {name}{{{label}}}");
    Ok(Duration::from_secs_f64(total("sum") / count))
}

/// The agent as a pass's workers reach it.
#[derive(Clone)]
enum Agent {
    Http(AgentClient),
    Direct(Arc<Generator>),
}

impl Agent {
    async fn lease(&self) -> Result<Option<LeaseGrant>> {
        Ok(match self {
            Agent::Http(client) => client.lease(&TaskKind::ALL).await?,
            Agent::Direct(generator) => generator.lease(WORKER_TOKENS[0].0, &TaskKind::ALL).await?,
        })
    }

    async fn submit(&self, key: &TaskKey, result: ProofResult) -> Result<()> {
        match self {
            Agent::Http(client) => {
                client.submit(key, &result).await?;
            }
            Agent::Direct(generator) => {
                generator.submit(WORKER_TOKENS[0].0, key, result).await?;
            }
        }
        Ok(())
    }
}
