//! An agent in this process: a scratch database, a tiny snapshot, the
//! worker API on a free port, a clock the test moves.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use zkpor_circuits::FamilyVerifiers;
use zkpor_circuits::encoding::Address;
use zkpor_circuits::family::Family;
use zkpor_circuits::stored::CircuitDirectory;
use zkpor_generator::settings::{ApiConfig, LeaseConfig, WorkerToken};
use zkpor_generator::source::config::LocalSnapshot;
use zkpor_generator::source::local::LocalSnapshots;
use zkpor_generator::{Clock, Generator, GeneratorSettings};
use zkpor_prover::{AgentClient, WorkerOptions, run_worker};
use zkpor_store::ProvingState;
use zkpor_store::scratch::ScratchDatabase;
use zkpor_tasks::{CircuitCache, VerifierCache};

pub const SUBMITTER: Address = Address([0xab; 20]);
pub const TOKENS: [(&str, &str); 3] =
    [("rig-a", "token-of-rig-a-0001"), ("rig-b", "token-of-rig-b-0002"), ("rig-c", "token-of-rig-c-0003")];

/// Writes a snapshot the tiny family holds: `users` users, 2 assets.
pub fn write_snapshot(dir: &Path, users: usize) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("assets.csv"), "symbol,decimals,price_usd\nBTC,8,91234.56\nUSDT,6,1\n").unwrap();
    let mut balances = String::from("id,BTC,USDT\n");
    for i in 0..users {
        balances += &format!("user{i},0.{:08},{}\n", 1000 + i, 100 + i);
    }
    std::fs::write(dir.join("balances.csv"), balances).unwrap();
}

/// Circuits shared by every agent and worker of a test binary, read from
/// the circuit directory the `zkpor` processes use (built and kept there
/// the first time).
pub fn circuits() -> Arc<CircuitCache> {
    static CACHE: std::sync::OnceLock<Arc<CircuitCache>> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| Arc::new(CircuitCache::on(CircuitDirectory::at_default_location()))).clone()
}

/// The verifier data of the tiny family's circuits of [`circuits`], which
/// every agent of a test binary checks proofs with.
pub fn verifiers() -> Arc<VerifierCache> {
    static CACHE: std::sync::OnceLock<Arc<VerifierCache>> = std::sync::OnceLock::new();
    CACHE
        .get_or_init(|| {
            let family = Family::tiny();
            let verifiers = VerifierCache::new();
            verifiers.insert(&family, FamilyVerifiers::of(&circuits().get(&family).unwrap()).unwrap());
            Arc::new(verifiers)
        })
        .clone()
}

/// An agent serving the worker API.
pub struct TestAgent {
    pub generator: Arc<Generator>,
    pub url: reqwest::Url,
    pub clock: Arc<AtomicI64>,
    database_url: String,
    settings: GeneratorSettings,
    shutdown: watch::Sender<bool>,
    _dir: Arc<tempfile::TempDir>,
    _database: Option<ScratchDatabase>,
}

impl TestAgent {
    /// An agent on `database` proving one tiny snapshot of `users` users as
    /// sequence 1; a worker is quarantined after 3 rejected proofs.
    pub async fn start(database: ScratchDatabase, users: usize, max_failures: u32) -> TestAgent {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let dir = tempfile::tempdir().unwrap();
        write_snapshot(&dir.path().join("snapshot"), users);
        let settings = GeneratorSettings {
            api: ApiConfig { listen: "127.0.0.1:0".parse().unwrap(), body_limit_bytes: 4 << 20 },
            leases: LeaseConfig {
                duration_secs: 60,
                max_failures,
                max_rejections: 3,
                offline_duration_secs: 600,
                reap_interval_secs: 1,
            },
            workers: TOKENS
                .iter()
                .map(|(name, token)| WorkerToken { name: name.to_string(), token: token.to_string() })
                .collect(),
        };
        settings.check().unwrap();
        let snapshots = vec![LocalSnapshot {
            path: dir.path().join("snapshot"),
            sequence: 1,
            family: Family::tiny(),
            seed: Some(7),
        }];
        let mut agent = Self::serve(database.url.clone(), settings, Arc::new(dir)).await;
        let mut source = LocalSnapshots::new(snapshots, SUBMITTER, []);
        assert_eq!(agent.generator.ingest(&mut source).await.unwrap(), vec![1]);
        agent._database = Some(database);
        agent
    }

    /// A second agent process on the same database.
    pub async fn another(&self) -> TestAgent {
        Self::serve(self.database_url.clone(), self.settings.clone(), self._dir.clone()).await
    }

    async fn serve(database_url: String, settings: GeneratorSettings, dir: Arc<tempfile::TempDir>) -> TestAgent {
        let store = zkpor_store::Store::open(&database_url).await.unwrap();
        let clock = Arc::new(AtomicI64::new(1_000_000_000));
        let time = clock.clone();
        let clock_fn: Clock = Arc::new(move || time.load(Ordering::SeqCst));
        let generator = Arc::new(Generator::new(store, settings.clone(), verifiers(), clock_fn));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap()).parse().unwrap();
        let (shutdown, stop) = watch::channel(false);
        tokio::spawn(zkpor_generator::api::serve(generator.clone(), listener, stop));
        TestAgent { generator, url, clock, database_url, settings, shutdown, _dir: dir, _database: None }
    }

    /// A client with worker `index`'s token.
    pub fn client(&self, index: usize) -> AgentClient {
        AgentClient::new(self.url.clone(), TOKENS[index].1.to_string()).unwrap()
    }

    /// Moves the clock on.
    pub fn advance(&self, by: Duration) {
        self.clock.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }

    /// The status of sequence 1.
    pub async fn status(&self) -> ProvingState {
        self.generator.store().sequence(1).await.unwrap().unwrap().status
    }
}

impl Drop for TestAgent {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// Runs a worker per `(agent, token)` until `watched` has sequence 1 no
/// longer proving (within `limit`); every worker must end without a
/// rejected, failed or discarded task. The proofs they got accepted.
pub async fn prove_with_workers(workers: &[(&TestAgent, usize)], watched: &TestAgent, limit: Duration) -> usize {
    prove_with_workers_on(&circuits(), workers, watched, limit).await
}

/// [`prove_with_workers`], the workers proving on `cache`.
pub async fn prove_with_workers_on(
    cache: &Arc<CircuitCache>,
    workers: &[(&TestAgent, usize)],
    watched: &TestAgent,
    limit: Duration,
) -> usize {
    let (stop, shutdown) = watch::channel(false);
    let options = WorkerOptions { idle_wait: Duration::from_millis(100), ..Default::default() };
    let running: Vec<_> = workers
        .iter()
        .map(|(agent, token)| {
            tokio::spawn(run_worker(agent.client(*token), cache.clone(), options.clone(), shutdown.clone()))
        })
        .collect();
    let deadline = tokio::time::Instant::now() + limit;
    while watched.status().await == ProvingState::Proving {
        assert!(tokio::time::Instant::now() < deadline, "not proven within {limit:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.send(true).unwrap();
    let mut accepted = 0;
    for worker in running {
        let summary = worker.await.unwrap().unwrap();
        assert_eq!((summary.rejected, summary.failed, summary.discarded), (0, 0, 0), "{summary:?}");
        accepted += summary.accepted;
    }
    accepted
}
