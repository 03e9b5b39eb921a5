//! The agent's worker API, as both ends see it (JSON over HTTP, bearer
//! token in `Authorization`), and the files of offline proving.
//!
//! | request | body | answers |
//! |---|---|---|
//! | `POST /v1/lease` | [`LeaseRequest`] | 200 [`LeaseGrant`], 204 when nothing of the kinds asked for is ready, 403 for a quarantined worker |
//! | `POST /v1/tasks/{id}/heartbeat` | [`Heartbeat`] | 200 [`HeartbeatAck`], 404, 409 |
//! | `POST /v1/tasks/{id}/result` | [`ProofResult`] | 200 [`ResultAck`], 404, 409, 422 |
//! | `POST /v1/tasks/{id}/error` | [`TaskFailure`] | 200 [`FailureAck`], 404, 409 |
//! | `GET /v1/status` | — | 200, the agent's sequences and queues |
//! | `GET /metrics` | — | Prometheus text, no token |
//!
//! Every refusal is a 4xx with an [`ApiError`] body: 400 malformed, 401 no or
//! an unknown token, 403 a worker quarantined for rejected proofs, 404 unknown
//! task, 409 the lease is not held (expired and
//! re-assigned, or the task is already done), 413 body too large, 422 a
//! proof that failed the checks.

use serde::{Deserialize, Serialize};

use crate::key::{TaskKey, TaskKind};
use crate::spec::{ProofBytes, TaskSpec};

/// A worker asking for a task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaseRequest {
    /// The kinds of task the worker takes (absent: every kind). A small
    /// machine may take batches only; the agent leases it nothing else.
    #[serde(default = "every_kind")]
    pub kinds: Vec<TaskKind>,
}

fn every_kind() -> Vec<TaskKind> {
    TaskKind::ALL.to_vec()
}

impl Default for LeaseRequest {
    fn default() -> Self {
        LeaseRequest { kinds: every_kind() }
    }
}

/// A lease granted to a worker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaseGrant {
    /// Names the lease in heartbeats and results.
    pub lease_id: String,
    /// When it expires (Unix ms) without a heartbeat.
    pub expires_ms: i64,
    /// How often to send heartbeats, in milliseconds.
    pub heartbeat_ms: i64,
    /// The task.
    pub spec: TaskSpec,
}

/// Keeps a lease alive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// The lease.
    pub lease_id: String,
}

/// A heartbeat accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatAck {
    /// The new expiry (Unix ms).
    pub expires_ms: i64,
}

/// A proof for a leased task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofResult {
    /// The lease it was proven under.
    pub lease_id: String,
    /// The proof.
    pub proof: ProofBytes,
    /// How long proving took.
    pub proving_ms: i64,
}

/// A proof accepted and stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultAck {
    /// Tasks that became ready.
    pub ready: Vec<TaskKey>,
    /// Whether it completed its sequence.
    pub sequence_proven: bool,
}

/// A worker that could not prove its task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskFailure {
    /// The lease.
    pub lease_id: String,
    /// What went wrong.
    pub error: String,
}

/// A failure recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailureAck {
    /// Attempts made so far.
    pub attempts: u32,
    /// Whether the task is now parked as failed.
    pub parked: bool,
}

/// Why a request was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// A sentence.
    pub error: String,
}

/// An offline task file (`zkpor agent export-task`): a lease held for an
/// offline prover and the task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskFile {
    /// The lease.
    pub lease_id: String,
    /// When it expires (Unix ms).
    pub expires_ms: i64,
    /// The task.
    pub spec: TaskSpec,
}

/// An offline proof file (`zkpor prover prove-task`), for `zkpor agent
/// import-proof`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofFile {
    /// The task.
    pub task: TaskKey,
    /// The proof and its lease.
    pub result: ProofResult,
}
