//! What the generator takes from the agent's configuration: the worker
//! API's address and limits, the lease rules and the workers' tokens.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Result, ensure};
use serde::{Deserialize, Serialize};
use zkpor_protocol::tokens::constant_time_eq;

/// The generator's settings: sections `[api]`, `[leases]` and `[[workers]]`
/// of the agent's configuration.
#[derive(Clone, Debug, Default)]
pub struct GeneratorSettings {
    /// The worker API.
    pub api: ApiConfig,
    /// Leases of tasks to workers.
    pub leases: LeaseConfig,
    /// The prover workers allowed in, each with its bearer token.
    pub workers: Vec<WorkerToken>,
}

impl GeneratorSettings {
    /// Refuses settings that cannot work, naming the key.
    pub fn check(&self) -> Result<()> {
        ensure!(self.leases.duration_secs >= 5, "leases.duration_secs must be at least 5");
        ensure!(self.leases.max_failures >= 1, "leases.max_failures must be at least 1");
        ensure!(self.leases.max_rejections >= 1, "leases.max_rejections must be at least 1");
        ensure!(self.api.body_limit_bytes >= 1 << 20, "api.body_limit_bytes must be at least 1 MiB (proofs are large)");
        let mut names = std::collections::HashSet::new();
        let mut tokens = std::collections::HashSet::new();
        for worker in &self.workers {
            ensure!(!worker.name.is_empty(), "a worker without a name");
            ensure!(worker.token.len() >= 16, "the token of worker '{}' is shorter than 16 characters", worker.name);
            ensure!(names.insert(&worker.name), "two workers named '{}'", worker.name);
            ensure!(tokens.insert(&worker.token), "two workers share a token");
        }
        Ok(())
    }

    /// The worker whose token this is (compared in constant time).
    pub fn worker_of(&self, token: &str) -> Option<&str> {
        self.workers.iter().find(|w| constant_time_eq(w.token.as_bytes(), token.as_bytes())).map(|w| w.name.as_str())
    }
}

/// The HTTP API for prover workers.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Address and port to listen on.
    #[serde(default = "defaults::listen")]
    pub listen: SocketAddr,
    /// Largest request body accepted, in bytes.
    #[serde(default = "defaults::body_limit")]
    pub body_limit_bytes: usize,
}

/// How tasks are leased.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LeaseConfig {
    /// How long a lease lasts without a heartbeat.
    #[serde(default = "defaults::lease_secs")]
    pub duration_secs: u64,
    /// Failures of a task (errors reported, leases expired) before it is
    /// parked as failed, with its sequence.
    #[serde(default = "defaults::max_failures")]
    pub max_failures: u32,
    /// Rejected proofs after which a worker gets no more leases, until
    /// `zkpor agent reset-worker`.
    #[serde(default = "defaults::max_rejections")]
    pub max_rejections: u32,
    /// How long a task exported for offline proving stays leased.
    #[serde(default = "defaults::offline_secs")]
    pub offline_duration_secs: u64,
    /// How often expired leases are taken back.
    #[serde(default = "defaults::reap_secs")]
    pub reap_interval_secs: u64,
}

/// One worker's credentials.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerToken {
    /// Its name in logs, metrics and statistics.
    pub name: String,
    /// Its bearer token.
    pub token: String,
}

mod defaults {
    use std::net::SocketAddr;

    pub fn listen() -> SocketAddr {
        "127.0.0.1:8480".parse().expect("a socket address")
    }
    pub fn body_limit() -> usize {
        16 << 20
    }
    pub fn lease_secs() -> u64 {
        300
    }
    pub fn max_failures() -> u32 {
        3
    }
    pub fn max_rejections() -> u32 {
        3
    }
    pub fn offline_secs() -> u64 {
        24 * 3600
    }
    pub fn reap_secs() -> u64 {
        5
    }
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig { listen: defaults::listen(), body_limit_bytes: defaults::body_limit() }
    }
}

impl Default for LeaseConfig {
    fn default() -> Self {
        LeaseConfig {
            duration_secs: defaults::lease_secs(),
            max_failures: defaults::max_failures(),
            max_rejections: defaults::max_rejections(),
            offline_duration_secs: defaults::offline_secs(),
            reap_interval_secs: defaults::reap_secs(),
        }
    }
}

impl LeaseConfig {
    /// The lease duration.
    pub fn duration(&self) -> Duration {
        Duration::from_secs(self.duration_secs)
    }
}
