//! The worker loop: lease a task, prove it while sending heartbeats, return
//! the proof (or the error), repeat; wait a little when nothing is ready or
//! the agent cannot be reached.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use tokio::sync::watch;
use tracing::{Instrument, info, info_span, warn};
use zkpor_tasks::protocol::{LeaseGrant, ProofResult};
use zkpor_tasks::{CircuitCache, ProofBytes, TaskKind, prove_task, wait_for_circuits};

use crate::client::{AgentClient, ClientError};

/// How a worker runs.
#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// How long to wait before asking again when nothing is ready.
    pub idle_wait: Duration,
    /// Stop after this many tasks (for tests and one-shot runs).
    pub max_tasks: Option<usize>,
    /// Stop when nothing is ready (instead of waiting).
    pub exit_when_idle: bool,
    /// The kinds of task to take.
    pub kinds: Vec<TaskKind>,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            idle_wait: Duration::from_secs(2),
            max_tasks: None,
            exit_when_idle: false,
            kinds: TaskKind::ALL.to_vec(),
        }
    }
}

/// What a worker did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkerSummary {
    /// Proofs the agent accepted.
    pub accepted: usize,
    /// Proofs the agent refused.
    pub rejected: usize,
    /// Results discarded because the lease was lost meanwhile.
    pub discarded: usize,
    /// Tasks that could not be proven.
    pub failed: usize,
}

/// Runs the worker loop against `client` until `shutdown` turns true (or
/// `options` says to stop).
pub async fn run_worker(
    client: AgentClient,
    circuits: Arc<CircuitCache>,
    options: WorkerOptions,
    mut shutdown: watch::Receiver<bool>,
) -> Result<WorkerSummary> {
    let mut summary = WorkerSummary::default();
    let mut backoff = Duration::from_secs(1);
    let mut done = 0;
    while !*shutdown.borrow() && options.max_tasks.is_none_or(|max| done < max) {
        let wait = match client.lease(&options.kinds).await {
            Ok(Some(grant)) => {
                backoff = Duration::from_secs(1);
                prove_one(&client, &circuits, grant, &mut summary).await;
                done += 1;
                continue;
            }
            Ok(None) if options.exit_when_idle => break,
            Ok(None) => options.idle_wait,
            Err(ClientError::Unauthorized(message)) => anyhow::bail!("the agent refuses this worker: {message}"),
            Err(error) => {
                warn!(%error, retry_in = ?backoff, "cannot lease");
                let wait = backoff;
                backoff = (backoff * 2).min(Duration::from_secs(30));
                wait
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => {}
        }
    }
    Ok(summary)
}

/// Proves one leased task and returns the outcome to the agent.
async fn prove_one(client: &AgentClient, circuits: &Arc<CircuitCache>, grant: LeaseGrant, summary: &mut WorkerSummary) {
    let key = grant.spec.key;
    let span = info_span!("task", task = %key);
    async {
        info!("proving");
        let heartbeats = tokio::spawn(heartbeat_loop(client.clone(), grant.clone()));
        let circuits = circuits.clone();
        let spec = grant.spec.clone();
        // A family's circuits are read or built from its first task on;
        // proving time excludes the wait for them.
        let proved = tokio::task::spawn_blocking(move || {
            let circuits = circuits.get(&spec.family)?;
            wait_for_circuits(&circuits, &spec)?;
            let started = Instant::now();
            prove_task(&circuits, &spec).map(|proof| (proof, started.elapsed().as_millis() as i64))
        })
        .await;
        let proved = match proved {
            Ok(proved) => proved.map_err(|error| format!("{error:#}")),
            Err(panic) => Err(format!("the prover panicked: {panic}")),
        };
        let (proof, proving_ms) = match proved {
            Ok(proved) => proved,
            Err(error) => {
                heartbeats.abort();
                return report(client, &grant, &error, summary).await;
            }
        };
        let result = ProofResult { lease_id: grant.lease_id.clone(), proof: ProofBytes(proof), proving_ms };
        // Heartbeats go on while the proof is being returned, so that an
        // agent back from a restart still finds the lease held.
        let returned = submit_until_answered(client, &grant, &result).await;
        heartbeats.abort();
        match returned {
            Ok(ack) => {
                info!(proving_ms, ready = ack.ready.len(), "proof accepted");
                summary.accepted += 1;
            }
            Err(ClientError::LeaseLost(message)) | Err(ClientError::UnknownTask(message)) => {
                warn!(%message, "result discarded: the lease was lost while proving");
                summary.discarded += 1;
            }
            Err(ClientError::Rejected(message)) => {
                warn!(%message, "the agent rejected the proof");
                summary.rejected += 1;
            }
            Err(error) => {
                warn!(%error, "returning the proof failed; the lease will expire and the task be retried");
                summary.discarded += 1;
            }
        }
    }
    .instrument(span)
    .await
}

/// Returns `result`, asking again while the agent is unreachable or failing
/// on its side, for as long as a lease lasts.
async fn submit_until_answered(
    client: &AgentClient,
    grant: &LeaseGrant,
    result: &ProofResult,
) -> Result<zkpor_tasks::protocol::ResultAck, ClientError> {
    let lease = Duration::from_millis((grant.heartbeat_ms * 3).max(1000) as u64);
    let give_up = Instant::now() + lease;
    let mut backoff = Duration::from_millis(250);
    loop {
        match client.submit(&grant.spec.key, result).await {
            Err(error) if error.is_transient() && Instant::now() + backoff < give_up => {
                warn!(%error, retry_in = ?backoff, "returning the proof failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            answered => return answered,
        }
    }
}

async fn report(client: &AgentClient, grant: &LeaseGrant, error: &str, summary: &mut WorkerSummary) {
    warn!(%error, "could not prove the task");
    summary.failed += 1;
    if let Err(report_error) = client.fail(&grant.spec.key, &grant.lease_id, error).await {
        warn!(%report_error, "reporting the failure failed; the lease will expire");
    }
}

/// Sends heartbeats for `grant` until aborted or the lease is lost.
async fn heartbeat_loop(client: AgentClient, grant: LeaseGrant) {
    let every = Duration::from_millis(grant.heartbeat_ms.max(1000) as u64);
    loop {
        tokio::time::sleep(every).await;
        match client.heartbeat(&grant.spec.key, &grant.lease_id).await {
            Ok(_) => {}
            Err(ClientError::LeaseLost(message)) | Err(ClientError::UnknownTask(message)) => {
                warn!(task = %grant.spec.key, %message, "lease lost while proving");
                return;
            }
            Err(error) => warn!(task = %grant.spec.key, %error, "heartbeat failed; retrying"),
        }
    }
}
