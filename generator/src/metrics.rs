//! Prometheus metrics of the generator (`GET /metrics`).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `zkpor_tasks` | gauge: tasks by kind and status (queue depths) | `kind`, `status` |
//! | `zkpor_leases_in_flight` | gauge | |
//! | `zkpor_sequences` | gauge: sequences by status | `status` |
//! | `zkpor_submissions` | gauge: proven sequences by state on chain (`proof_ready`, `committing`, `committed`, `revealing`, `verified`, `rewarded`, `verified_by_others`, `waiting`, `failed`) | `state` |
//! | `zkpor_chain_transactions` | gauge: the sender's transactions by purpose and status | `purpose`, `status` |
//! | `zkpor_seconds_since_last_accepted_proof` | gauge (absent before the first) | |
//! | `zkpor_proofs_accepted` | counter, since start | `worker` |
//! | `zkpor_proofs_rejected` | counter, since start | `worker` |
//! | `zkpor_task_failures` | counter: errors reported and leases expired, since start | `worker` |
//! | `zkpor_proving_seconds` | histogram of accepted proofs' proving time | `kind` |
//! | `zkpor_proof_check_seconds` | histogram of the agent's check of each returned proof | `kind` |
//! | `zkpor_api_request_seconds` | histogram of the worker API's handling time, body reading and parsing included | `route` |
//!
//! Gauges are read from the database at each scrape, so they agree across
//! agent processes sharing one; counters and the histogram are this
//! process's.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use zkpor_store::Store;
use zkpor_tasks::TaskKind;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WorkerLabel {
    worker: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabel {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabel {
    kind: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TransactionLabel {
    purpose: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: String,
}

fn short_histogram() -> Histogram {
    // 0.5 ms to about 2 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 13))
}

fn proving_histogram() -> Histogram {
    // 0.25 s to about 17 minutes.
    Histogram::new(exponential_buckets(0.25, 2.0, 13))
}

/// The generator's metrics.
pub struct Metrics {
    registry: Mutex<Registry>,
    accepted: Family<WorkerLabel, Counter>,
    rejected: Family<WorkerLabel, Counter>,
    failures: Family<WorkerLabel, Counter>,
    proving: Family<KindLabel, Histogram, fn() -> Histogram>,
    checks: Family<KindLabel, Histogram, fn() -> Histogram>,
    requests: Family<RouteLabel, Histogram, fn() -> Histogram>,
    tasks: Family<QueueLabel, Gauge>,
    sequences: Family<StatusLabel, Gauge>,
    submissions: Family<StateLabel, Gauge>,
    transactions: Family<TransactionLabel, Gauge>,
    leases: Gauge,
    dropped: Counter,
    refused: Gauge,
    since_last_proof: Gauge<f64, AtomicU64>,
    since_last_proof_registered: AtomicBool,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Fresh metrics in a registry of their own.
    pub fn new() -> Self {
        let metrics = Metrics {
            registry: Mutex::new(Registry::with_prefix("zkpor")),
            accepted: Family::default(),
            rejected: Family::default(),
            failures: Family::default(),
            proving: Family::new_with_constructor(proving_histogram),
            checks: Family::new_with_constructor(short_histogram),
            requests: Family::new_with_constructor(short_histogram),
            tasks: Family::default(),
            sequences: Family::default(),
            submissions: Family::default(),
            transactions: Family::default(),
            leases: Gauge::default(),
            dropped: Counter::default(),
            refused: Gauge::default(),
            since_last_proof: Gauge::default(),
            since_last_proof_registered: AtomicBool::new(false),
        };
        {
            let mut registry = metrics.registry.lock();
            registry.register("proofs_accepted", "Proofs accepted, per worker", metrics.accepted.clone());
            registry.register("proofs_rejected", "Proofs that failed the checks, per worker", metrics.rejected.clone());
            registry.register(
                "task_failures",
                "Errors reported and leases expired, per worker",
                metrics.failures.clone(),
            );
            registry.register("proving_seconds", "Proving time of accepted proofs", metrics.proving.clone());
            registry.register(
                "proof_check_seconds",
                "Time the agent took to check a returned proof",
                metrics.checks.clone(),
            );
            registry.register(
                "api_request_seconds",
                "Time the worker API took to answer a request",
                metrics.requests.clone(),
            );
            registry.register("tasks", "Tasks by kind and status", metrics.tasks.clone());
            registry.register("sequences", "Sequences by status", metrics.sequences.clone());
            registry.register("leases_in_flight", "Tasks leased now", metrics.leases.clone());
            registry.register(
                "sequences_dropped",
                "Sequences forgotten because the chain no longer holds them as taken in",
                metrics.dropped.clone(),
            );
            registry.register(
                "refused_witnesses",
                "Posted sequences whose witness was refused and not yet accepted",
                metrics.refused.clone(),
            );
            registry.register("submissions", "Proven sequences by state on chain", metrics.submissions.clone());
            registry.register(
                "chain_transactions",
                "The sender's transactions by purpose and status",
                metrics.transactions.clone(),
            );
        }
        metrics
    }

    /// A proof of `kind` from `worker` was accepted after `proving`.
    pub fn accepted(&self, worker: &str, kind: TaskKind, proving: Duration) {
        self.accepted.get_or_create(&WorkerLabel { worker: worker.into() }).inc();
        self.proving.get_or_create(&KindLabel { kind: kind.to_string() }).observe(proving.as_secs_f64());
    }

    /// A returned proof of `kind` was checked (accepted or not) in `time`.
    pub fn checked(&self, kind: TaskKind, time: Duration) {
        self.checks.get_or_create(&KindLabel { kind: kind.to_string() }).observe(time.as_secs_f64());
    }

    /// The worker API answered a request to `route` in `time`.
    pub fn request(&self, route: &str, time: Duration) {
        self.requests.get_or_create(&RouteLabel { route: route.into() }).observe(time.as_secs_f64());
    }

    /// A proof from `worker` failed the checks.
    pub fn rejected(&self, worker: &str) {
        self.rejected.get_or_create(&WorkerLabel { worker: worker.into() }).inc();
    }

    /// `worker` reported an error or let a lease expire.
    pub fn failed(&self, worker: &str) {
        self.failures.get_or_create(&WorkerLabel { worker: worker.into() }).inc();
    }

    /// A sequence was forgotten: the chain no longer holds it.
    pub fn dropped(&self) {
        self.dropped.inc();
    }

    /// The metrics in Prometheus' text format, gauges read from `store`.
    pub async fn render(&self, store: &Store, now_ms: i64) -> anyhow::Result<String> {
        let depths = store.queue_depths().await?;
        self.tasks.clear();
        let mut leased = 0;
        for depth in &depths {
            let label = QueueLabel { kind: depth.kind.to_string(), status: depth.status.to_string() };
            self.tasks.get_or_create(&label).set(depth.count as i64);
            if depth.status == zkpor_store::TaskState::Leased {
                leased += depth.count as i64;
            }
        }
        self.leases.set(leased);
        self.sequences.clear();
        for sequence in store.sequences().await? {
            self.sequences.get_or_create(&StatusLabel { status: sequence.status.to_string() }).inc();
        }
        self.submissions.clear();
        for (state, count) in store.submission_counts().await? {
            self.submissions.get_or_create(&StateLabel { state: state.to_string() }).set(count as i64);
        }
        self.transactions.clear();
        for count in store.transaction_counts().await? {
            let label = TransactionLabel { purpose: count.purpose, status: count.status };
            self.transactions.get_or_create(&label).set(count.count as i64);
        }
        self.refused.set(store.refused_sequences().await?.len() as i64);
        let last = store.last_accepted_ms().await?;
        let mut registry = self.registry.lock();
        if let Some(last) = last {
            self.since_last_proof.set((now_ms - last).max(0) as f64 / 1000.0);
            // Registered with the first proof: absent until then.
            if !self.since_last_proof_registered.swap(true, Ordering::Relaxed) {
                registry.register(
                    "seconds_since_last_accepted_proof",
                    "Seconds since a proof was last accepted",
                    self.since_last_proof.clone(),
                );
            }
        }
        let mut out = String::new();
        encode(&mut out, &registry)?;
        Ok(out)
    }
}
