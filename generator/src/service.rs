//! The generator's operations, whatever calls them: the HTTP API, offline
//! imports and exports, the background loop.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use thiserror::Error;
use tokio::sync::watch;
use tracing::{Instrument, info, info_span, warn};
use zkpor_store::{Completion, FailureKind, LeaseError, Store};
use zkpor_tasks::protocol::{
    FailureAck, HeartbeatAck, LeaseGrant, ProofFile, ProofResult, ResultAck, TaskFailure, TaskFile,
};
use zkpor_tasks::{TaskKey, TaskKind, VerifierCache, check_proof};

use crate::metrics::Metrics;
use crate::settings::GeneratorSettings;
use crate::source::SequenceSource;

/// Milliseconds since the Unix epoch, from a clock tests can move.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The holder of leases exported for offline provers.
pub const OFFLINE_HOLDER: &str = "offline";

/// Why a worker's request is refused.
#[derive(Debug, Error)]
pub enum Refusal {
    /// No such task.
    #[error("there is no task {0}")]
    UnknownTask(TaskKey),
    /// The lease is not held: expired and re-assigned, the task done, or
    /// another worker's.
    #[error("{0}")]
    NotHeld(String),
    /// A task that cannot be exported: not ready.
    #[error("{0}")]
    NotReady(String),
    /// A proof that failed the checks (counted against the worker).
    #[error("proof rejected: {0}")]
    Rejected(String),
    /// A worker whose proofs were rejected too often gets no leases.
    #[error(
        "worker '{worker}' is quarantined after {rejections} rejected proofs; an operator can re-admit it with `zkpor agent reset-worker {worker}`"
    )]
    Quarantined {
        /// The worker.
        worker: String,
        /// Its rejected proofs.
        rejections: u64,
    },
    /// Something on the agent's side failed.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<LeaseError> for Refusal {
    fn from(error: LeaseError) -> Self {
        match error {
            LeaseError::UnknownTask(key) => Refusal::UnknownTask(key),
            LeaseError::NotHeld { .. } => Refusal::NotHeld(error.to_string()),
            LeaseError::NotReady { .. } => Refusal::NotReady(error.to_string()),
            LeaseError::Store(e) => Refusal::Internal(e.into()),
        }
    }
}

/// The proof generator of one agent process.
pub struct Generator {
    store: Store,
    settings: GeneratorSettings,
    verifiers: Arc<VerifierCache>,
    metrics: Arc<Metrics>,
    clock: Clock,
}

impl Generator {
    /// A generator on `store` with `settings`, checking proofs with the
    /// verifier data in `verifiers`.
    pub fn new(store: Store, settings: GeneratorSettings, verifiers: Arc<VerifierCache>, clock: Clock) -> Self {
        Generator { store, settings, verifiers, metrics: Arc::new(Metrics::new()), clock }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Its settings.
    pub fn settings(&self) -> &GeneratorSettings {
        &self.settings
    }

    /// The verifier data it checks proofs with.
    pub fn verifiers(&self) -> &Arc<VerifierCache> {
        &self.verifiers
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    fn now(&self) -> i64 {
        (self.clock)()
    }

    fn lease_ms(&self) -> i64 {
        self.settings.leases.duration_secs as i64 * 1000
    }

    /// Stores the sequences `source` has that the store does not know yet,
    /// and starts reading their families' verifier data; forgets those the
    /// source says are gone. The numbers it stored.
    pub async fn ingest(&self, source: &mut (dyn SequenceSource + 'static)) -> Result<Vec<u64>> {
        let update = source.poll(&self.store).await?;
        for sequence in update.gone {
            if self.store.drop_sequence(sequence).await? {
                warn!(sequence, "sequence forgotten: its tasks are leased no more, its proofs are deleted");
                self.metrics.dropped();
            }
        }
        let mut stored = Vec::new();
        for sequence in update.new {
            let info = &sequence.info;
            if self.store.insert_sequence(&sequence).await? {
                info!(
                    sequence = info.sequence,
                    family = info.family.name(),
                    tasks = sequence.tasks.len(),
                    "sequence stored"
                );
                stored.push(info.sequence);
            }
            self.warm(&info.family);
        }
        Ok(stored)
    }

    /// Reads (or builds) `family`'s verifier data in the background, so
    /// that the first proof to check does not wait for it.
    pub fn warm(&self, family: &zkpor_circuits::family::Family) {
        let verifiers = self.verifiers.clone();
        let family = family.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(error) = verifiers.get(&family) {
                warn!("{error:#}");
            }
        });
    }

    /// Leases the most urgent ready task of one of `kinds` to `worker`,
    /// unless it is quarantined.
    pub async fn lease(&self, worker: &str, kinds: &[TaskKind]) -> Result<Option<LeaseGrant>, Refusal> {
        let max_rejections = self.settings.leases.max_rejections as u64;
        let now = self.now();
        let leased = self.store.lease_of_kinds(worker, kinds, max_rejections, self.lease_ms(), now).await;
        let Some(lease) = leased.map_err(anyhow::Error::from)? else {
            let rejections = self.store.worker_rejections(worker).await.map_err(anyhow::Error::from)?;
            if rejections >= max_rejections {
                return Err(Refusal::Quarantined { worker: worker.to_string(), rejections });
            }
            return Ok(None);
        };
        info!(task = %lease.key, %worker, attempt = lease.attempts, "leased");
        let spec =
            self.store.task_spec(&lease.key).await.with_context(|| format!("the inputs of task {}", lease.key))?;
        Ok(Some(LeaseGrant {
            lease_id: lease.lease_id,
            expires_ms: lease.expires_ms,
            heartbeat_ms: self.lease_ms() / 3,
            spec,
        }))
    }

    /// Extends `worker`'s lease on `key`.
    pub async fn heartbeat(&self, worker: &str, key: &TaskKey, lease_id: &str) -> Result<HeartbeatAck, Refusal> {
        self.held_by(worker, key, lease_id).await?;
        let expires_ms = self.store.heartbeat(key, lease_id, self.lease_ms(), self.now()).await?;
        Ok(HeartbeatAck { expires_ms })
    }

    /// Checks the lease is `worker`'s; what its proof must be and the family.
    async fn held_by(&self, worker: &str, key: &TaskKey, lease_id: &str) -> Result<zkpor_store::LeasedTask, Refusal> {
        let leased = self.store.leased_task(key, lease_id).await?;
        if leased.holder != worker {
            return Err(Refusal::NotHeld(format!("task {key} is leased to another worker")));
        }
        Ok(leased)
    }

    /// Checks `worker`'s proof for `key` and stores it, or records it as a
    /// failed attempt against the worker.
    pub async fn submit(&self, worker: &str, key: &TaskKey, result: ProofResult) -> Result<ResultAck, Refusal> {
        let span = info_span!("submit", task = %key, %worker);
        async {
            let leased = self.held_by(worker, key, &result.lease_id).await?;
            let verifiers = self.verifiers.clone();
            let proof = result.proof.0.clone();
            let started = Instant::now();
            let checked = tokio::task::spawn_blocking(move || {
                let verifiers = verifiers.get(&leased.family)?;
                check_proof(&verifiers, &leased.expected, &proof)
            })
            .await
            .context("checking a proof")??;
            let checked_in = started.elapsed();
            self.metrics.checked(key.kind, checked_in);
            if let Err(rejection) = checked {
                warn!(%rejection, "proof rejected");
                self.metrics.rejected(worker);
                let max = self.settings.leases.max_failures;
                self.store
                    .fail(key, &result.lease_id, FailureKind::Rejected, &rejection.to_string(), max, self.now())
                    .await?;
                return Err(Refusal::Rejected(rejection.to_string()));
            }
            let completion = Completion {
                key: *key,
                lease_id: result.lease_id,
                holder: worker.to_string(),
                proof: result.proof.0,
                proving_ms: result.proving_ms,
            };
            let done = self.store.complete(&completion, self.now()).await?;
            self.metrics.accepted(worker, key.kind, Duration::from_millis(result.proving_ms.max(0) as u64));
            info!(?checked_in, ready = done.ready.len(), proven = done.sequence_proven, "proof stored");
            Ok(ResultAck { ready: done.ready, sequence_proven: done.sequence_proven })
        }
        .instrument(span)
        .await
    }

    /// Records that `worker` could not prove `key`.
    pub async fn report_failure(
        &self,
        worker: &str,
        key: &TaskKey,
        failure: TaskFailure,
    ) -> Result<FailureAck, Refusal> {
        self.held_by(worker, key, &failure.lease_id).await?;
        warn!(task = %key, %worker, error = %failure.error, "worker failed a task");
        self.metrics.failed(worker);
        let max = self.settings.leases.max_failures;
        let failed =
            self.store.fail(key, &failure.lease_id, FailureKind::Error, &failure.error, max, self.now()).await?;
        Ok(FailureAck { attempts: failed.attempts, parked: failed.parked })
    }

    /// Takes back expired leases; how many.
    pub async fn reap(&self) -> Result<usize> {
        let reaped = self.store.reap_expired(self.settings.leases.max_failures, self.now()).await?;
        for task in &reaped {
            warn!(task = %task.key, holder = ?task.holder, parked = task.parked, "lease expired");
            if let Some(holder) = &task.holder {
                self.metrics.failed(holder);
            }
        }
        Ok(reaped.len())
    }

    /// Leases `key` for an offline prover and returns the task file.
    pub async fn export_task(&self, key: &TaskKey) -> Result<TaskFile, Refusal> {
        let duration = self.settings.leases.offline_duration_secs as i64 * 1000;
        let lease = self.store.lease_task(key, OFFLINE_HOLDER, duration, self.now()).await?;
        let spec = self.store.task_spec(key).await.map_err(anyhow::Error::from)?;
        Ok(TaskFile { lease_id: lease.lease_id, expires_ms: lease.expires_ms, spec })
    }

    /// Imports an offline prover's proof, with the same checks as over HTTP.
    pub async fn import_proof(&self, file: ProofFile) -> Result<ResultAck, Refusal> {
        self.submit(OFFLINE_HOLDER, &file.task, file.result).await
    }

    /// Runs until `shutdown` turns true: stores `source`'s sequences (at
    /// start and every `poll_every`) and takes back expired leases.
    pub async fn run(
        self: Arc<Self>,
        mut source: Box<dyn SequenceSource + 'static>,
        poll_every: Duration,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<()> {
        let reap_every = Duration::from_secs(self.settings.leases.reap_interval_secs.max(1));
        let mut reap = tokio::time::interval(reap_every);
        let mut poll = tokio::time::interval(poll_every);
        loop {
            tokio::select! {
                _ = poll.tick() => {
                    if let Err(error) = self.ingest(source.as_mut()).await {
                        warn!(error = format!("{error:#}"), "taking in sequences");
                    }
                }
                _ = reap.tick() => {
                    if let Err(error) = self.reap().await {
                        warn!(error = format!("{error:#}"), "taking back expired leases");
                    }
                }
                _ = shutdown.changed() => return Ok(()),
            }
        }
    }
}
