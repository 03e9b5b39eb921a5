//! The agent's worker API (`zkpor_tasks::protocol`) as a typed client.

use std::time::Duration;

use reqwest::{StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;
use zkpor_tasks::protocol::{
    ApiError, FailureAck, Heartbeat, HeartbeatAck, LeaseGrant, LeaseRequest, ProofResult, ResultAck, TaskFailure,
};
use zkpor_tasks::{TaskKey, TaskKind};

/// Why a request to the agent did not succeed.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The agent does not know the task (404).
    #[error("unknown task: {0}")]
    UnknownTask(String),
    /// The lease is no longer ours (409): expired and re-assigned, or done.
    #[error("lease lost: {0}")]
    LeaseLost(String),
    /// The agent refused the proof (422).
    #[error("proof rejected: {0}")]
    Rejected(String),
    /// The token is missing or unknown (401), or the worker is quarantined
    /// (403).
    #[error("{0}")]
    Unauthorized(String),
    /// Any other answer.
    #[error("the agent answered {status}: {message}")]
    Status {
        /// HTTP status.
        status: StatusCode,
        /// Its error message.
        message: String,
    },
    /// The agent could not be reached or answered nonsense.
    #[error("talking to the agent: {0}")]
    Transport(#[from] reqwest::Error),
}

impl ClientError {
    /// Whether asking again later may succeed: the agent unreachable (being
    /// restarted, the network down) or failing on its side.
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Transport(_) => true,
            ClientError::Status { status, .. } => status.is_server_error(),
            _ => false,
        }
    }
}

/// A client of one agent's worker API.
#[derive(Clone, Debug)]
pub struct AgentClient {
    http: reqwest::Client,
    base: Url,
    token: String,
}

impl AgentClient {
    /// A client of the agent at `base` (e.g. `http://127.0.0.1:8480`) with
    /// the worker's bearer `token`.
    pub fn new(base: Url, token: String) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder().connect_timeout(Duration::from_secs(10)).build()?;
        Ok(AgentClient { http, base, token })
    }

    fn url(&self, path: &str) -> Url {
        self.base.join(path).expect("a relative API path")
    }

    async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<Option<T>, ClientError> {
        let response = self.http.post(self.url(path)).bearer_auth(&self.token).json(body).send().await?;
        let status = response.status();
        if status == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        if status.is_success() {
            return Ok(Some(response.json().await?));
        }
        let message = match response.json::<ApiError>().await {
            Ok(body) => body.error,
            Err(_) => status.canonical_reason().unwrap_or("no reason given").to_string(),
        };
        Err(match status {
            StatusCode::NOT_FOUND => ClientError::UnknownTask(message),
            StatusCode::CONFLICT => ClientError::LeaseLost(message),
            StatusCode::UNPROCESSABLE_ENTITY => ClientError::Rejected(message),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => ClientError::Unauthorized(message),
            status => ClientError::Status { status, message },
        })
    }

    /// Leases the next ready task of one of `kinds`, if any.
    pub async fn lease(&self, kinds: &[TaskKind]) -> Result<Option<LeaseGrant>, ClientError> {
        self.post("v1/lease", &LeaseRequest { kinds: kinds.to_vec() }).await
    }

    /// Keeps a lease alive.
    pub async fn heartbeat(&self, task: &TaskKey, lease_id: &str) -> Result<HeartbeatAck, ClientError> {
        let body = Heartbeat { lease_id: lease_id.to_string() };
        self.post(&format!("v1/tasks/{task}/heartbeat"), &body).await?.ok_or_else(empty)
    }

    /// Returns a proof.
    pub async fn submit(&self, task: &TaskKey, result: &ProofResult) -> Result<ResultAck, ClientError> {
        self.post(&format!("v1/tasks/{task}/result"), result).await?.ok_or_else(empty)
    }

    /// Reports that the task could not be proven.
    pub async fn fail(&self, task: &TaskKey, lease_id: &str, error: &str) -> Result<FailureAck, ClientError> {
        let body = TaskFailure { lease_id: lease_id.to_string(), error: error.to_string() };
        self.post(&format!("v1/tasks/{task}/error"), &body).await?.ok_or_else(empty)
    }
}

fn empty() -> ClientError {
    ClientError::Status { status: StatusCode::NO_CONTENT, message: "an empty answer where a body was due".into() }
}
