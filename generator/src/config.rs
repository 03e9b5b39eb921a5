//! The agent's configuration: a TOML file (`config/agent.toml` is the
//! example), each value overridable by an environment variable
//! `ZKPOR_AGENT_<SECTION>__<KEY>` (e.g. `ZKPOR_AGENT_DATABASE_URL`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;
use zkpor_chain::config::ChainConfig;
use zkpor_circuits::encoding::Address;
use zkpor_circuits::family::Family;
use zkpor_protocol::tokens::constant_time_eq;

/// Everything `zkpor agent` reads.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// `sqlite://<file>` (created on first start) or `postgres://...`.
    #[serde(default = "defaults::database_url")]
    pub database_url: String,
    /// The worker API.
    #[serde(default)]
    pub api: ApiConfig,
    /// Leases of tasks to workers.
    #[serde(default)]
    pub leases: LeaseConfig,
    /// The prover workers allowed in, each with its bearer token.
    #[serde(default)]
    pub workers: Vec<WorkerToken>,
    /// Where sequences come from.
    pub source: SourceConfig,
    /// The chain to submit proofs to; without it the agent proves and
    /// stores final proofs but submits nothing.
    #[serde(default)]
    pub chain: Option<ChainConfig>,
}

/// The HTTP API for prover workers.
#[derive(Clone, Debug, Deserialize)]
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
#[derive(Clone, Debug, Deserialize)]
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
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerToken {
    /// Its name in logs, metrics and statistics.
    pub name: String,
    /// Its bearer token.
    pub token: String,
}

/// Where the sequences to prove come from.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// The address bound into every final proof: the one that will submit it.
    pub submitter: Address,
    /// Snapshot directories on this machine, each a sequence.
    #[serde(default)]
    pub snapshots: Vec<LocalSnapshot>,
    /// Follow the registry of `[chain]`: every posted sequence is proven,
    /// its witness fetched from the exchange.
    #[serde(default)]
    pub exchange: Option<ExchangeSource>,
}

/// Where the witnesses of posted sequences come from: the exchange's
/// endpoint (`url` and a token), or, for an exchange running its own
/// agent, its archive on this machine (`archive`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeSource {
    /// Base URL of `zkpor exchange serve`.
    pub url: Option<String>,
    /// This agent's bearer token there.
    pub token: Option<String>,
    /// A file holding the token instead (relative to the configuration).
    pub token_file: Option<PathBuf>,
    /// The directory `zkpor exchange publish` writes (relative to the
    /// configuration), read without any HTTP hop.
    pub archive: Option<PathBuf>,
    /// The first sequence to prove: earlier ones are left to others.
    #[serde(default = "defaults::first_sequence")]
    pub first_sequence: u64,
    /// How often the registry is read for new sequences.
    #[serde(default = "defaults::source_poll_ms")]
    pub poll_interval_ms: u64,
    /// How long after a refused witness it is fetched again.
    #[serde(default = "defaults::retry_refused_secs")]
    pub retry_refused_secs: u64,
    /// Timeout of one request to the exchange.
    #[serde(default = "defaults::exchange_timeout_secs")]
    pub timeout_secs: u64,
}

impl ExchangeSource {
    /// The bearer token, from the configuration or its file.
    pub fn token(&self) -> Result<String> {
        match (&self.token, &self.token_file) {
            (Some(token), _) => Ok(token.clone()),
            (None, Some(file)) => Ok(std::fs::read_to_string(file)
                .with_context(|| format!("reading the token file {}", file.display()))?
                .trim()
                .to_string()),
            (None, None) => anyhow::bail!("source.exchange.url needs source.exchange.token or token_file"),
        }
    }
}

/// A snapshot directory to prove as a sequence.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalSnapshot {
    /// The directory (`assets.csv` and `balances*.csv`), relative to the
    /// configuration file.
    pub path: PathBuf,
    /// The sequence number it is proven for.
    pub sequence: u64,
    /// The circuit family, by name (default: `standard`).
    #[serde(with = "zkpor_circuits::family::by_name", default = "Family::standard")]
    pub family: Family,
    /// Seed of the users' secret nonces (default: random, drawn once: the
    /// committed tree is stored with the sequence).
    pub seed: Option<u64>,
}

mod defaults {
    use std::net::SocketAddr;

    pub fn database_url() -> String {
        "sqlite://agent.sqlite".into()
    }
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
    pub fn first_sequence() -> u64 {
        1
    }
    pub fn source_poll_ms() -> u64 {
        5000
    }
    pub fn retry_refused_secs() -> u64 {
        60
    }
    pub fn exchange_timeout_secs() -> u64 {
        30
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

impl AgentConfig {
    /// Reads `path`, then the environment; snapshot paths become relative to
    /// the file's directory.
    pub fn load(path: &Path) -> Result<Self> {
        ensure!(path.is_file(), "no configuration file at {}", path.display());
        let mut config: AgentConfig = Figment::new()
            .merge(Toml::file(path))
            .merge(Env::prefixed("ZKPOR_AGENT_").split("__").ignore(&["config"]))
            .extract()
            .with_context(|| format!("reading the configuration {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let relative = |path: &mut PathBuf| {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        };
        for snapshot in &mut config.source.snapshots {
            relative(&mut snapshot.path);
        }
        if let Some(exchange) = &mut config.source.exchange {
            exchange.archive.as_mut().map(relative);
            exchange.token_file.as_mut().map(relative);
        }
        if let Some(chain) = &mut config.chain {
            chain.check(base)?;
        }
        config.check()?;
        Ok(config)
    }

    /// Refuses settings that cannot work.
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
        if let Some(exchange) = &self.source.exchange {
            ensure!(self.chain.is_some(), "source.exchange follows the registry of [chain], which is missing");
            ensure!(
                self.source.snapshots.is_empty(),
                "source.exchange and source.snapshots both give sequence numbers: use one"
            );
            ensure!(
                exchange.url.is_some() != exchange.archive.is_some(),
                "source.exchange needs exactly one of url (the exchange's endpoint) or archive (its directory)"
            );
            if exchange.url.is_some() {
                exchange.token()?;
            }
            ensure!(exchange.poll_interval_ms >= 10, "source.exchange.poll_interval_ms must be at least 10");
        }
        let mut sequences = std::collections::HashSet::new();
        for snapshot in &self.source.snapshots {
            ensure!(snapshot.sequence > 0, "sequence numbers start at 1 ({})", snapshot.path.display());
            ensure!(sequences.insert(snapshot.sequence), "two snapshots for sequence {}", snapshot.sequence);
        }
        Ok(())
    }

    /// The worker whose token this is.
    pub fn worker_of(&self, token: &str) -> Option<&str> {
        self.workers.iter().find(|w| constant_time_eq(w.token.as_bytes(), token.as_bytes())).map(|w| w.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("agent.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    const MINIMAL: &str = r#"
        [source]
        submitter = "0x00000000000000000000000000000000000000aa"
    "#;

    #[test]
    fn defaults_fill_a_minimal_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = AgentConfig::load(&write(dir.path(), MINIMAL)).unwrap();
        assert_eq!(config.database_url, "sqlite://agent.sqlite");
        assert_eq!((config.leases.max_failures, config.leases.max_rejections), (3, 3));
        assert_eq!(config.api.listen.port(), 8480);
        assert!(config.workers.is_empty());
    }

    #[test]
    fn snapshot_paths_are_relative_to_the_file_and_tokens_map_to_workers() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "{MINIMAL}\n[[source.snapshots]]\npath = \"snap\"\nsequence = 4\n\n[[workers]]\nname = \"rig\"\ntoken = \"0123456789abcdef\"\n"
        );
        let config = AgentConfig::load(&write(dir.path(), &text)).unwrap();
        assert_eq!(config.source.snapshots[0].path, dir.path().join("snap"));
        assert_eq!(config.worker_of("0123456789abcdef"), Some("rig"));
        assert_eq!(config.worker_of("0123456789abcdeX"), None);
    }

    #[test]
    fn the_example_configurations_are_valid() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
        for name in ["agent.toml", "agent-postgres.toml"] {
            let config = AgentConfig::load(&dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e:#}"));
            assert!(!config.workers.is_empty() && !config.source.snapshots.is_empty(), "{name}");
            assert!(config.source.snapshots[0].path.join("assets.csv").is_file(), "{name}: the sample snapshot");
        }
    }

    const CHAIN: &str = r#"
        [chain]
        rpc_url = "http://127.0.0.1:8545"
        registry = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
    "#;
    const KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

    #[test]
    fn a_chain_section_reads_its_key_from_a_file_next_to_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("agent.key"), format!("{KEY}\n")).unwrap();
        let text = format!("{MINIMAL}{CHAIN}private_key_file = \"agent.key\"\nstake_wei = \"10000000000000000\"\n");
        let config = AgentConfig::load(&write(dir.path(), &text)).unwrap();
        let chain = config.chain.unwrap();
        assert_eq!(chain.signer().unwrap().address().to_string(), "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
        assert_eq!(chain.stake_wei, alloy::primitives::U256::from(10_000_000_000_000_000u64));
        assert_eq!((chain.confirmations, chain.max_fee_per_gas_gwei), (1, 200));
        assert!(!format!("{chain:?}").contains(&KEY[2..]), "the key stays out of logs");
    }

    #[test]
    fn a_chain_section_without_a_usable_key_or_with_bad_fees_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = format!("{:#}", AgentConfig::load(&write(dir.path(), &format!("{MINIMAL}{CHAIN}"))).unwrap_err());
        assert!(err.contains("exactly one of chain.private_key"), "{err}");
        let text = format!("{MINIMAL}{CHAIN}private_key = \"nonsense\"\n");
        let err = format!("{:#}", AgentConfig::load(&write(dir.path(), &text)).unwrap_err());
        assert!(err.contains("not a hex private key"), "{err}");
        let text = format!("{MINIMAL}{CHAIN}private_key = \"{KEY}\"\nfee_bump_percent = 5\n");
        let err = format!("{:#}", AgentConfig::load(&write(dir.path(), &text)).unwrap_err());
        assert!(err.contains("chain.fee_bump_percent"), "{err}");
    }

    #[test]
    fn an_exchange_source_needs_the_chain_and_one_witness_origin() {
        let dir = tempfile::tempdir().unwrap();
        let key = format!("private_key = \"{KEY}\"\n");
        let exchange = "[source.exchange]\nurl = \"http://127.0.0.1:8490\"\ntoken = \"agent-token-0123456\"\n";
        let config = AgentConfig::load(&write(dir.path(), &format!("{MINIMAL}{exchange}{CHAIN}{key}"))).unwrap();
        let source = config.source.exchange.unwrap();
        assert_eq!((source.first_sequence, source.poll_interval_ms), (1, 5000));
        assert_eq!(source.token().unwrap(), "agent-token-0123456");

        let archive = "[source.exchange]\narchive = \"exchange-data\"\n";
        let config = AgentConfig::load(&write(dir.path(), &format!("{MINIMAL}{archive}{CHAIN}{key}"))).unwrap();
        assert_eq!(config.source.exchange.unwrap().archive.unwrap(), dir.path().join("exchange-data"));

        for (text, expected) in [
            (format!("{MINIMAL}{exchange}"), "[chain], which is missing"),
            (format!("{MINIMAL}[source.exchange]\n{CHAIN}{key}"), "exactly one of url"),
            (format!("{MINIMAL}[source.exchange]\nurl = \"http://x\"\n{CHAIN}{key}"), "needs source.exchange.token"),
        ] {
            let err = format!("{:#}", AgentConfig::load(&write(dir.path(), &text)).unwrap_err());
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn bad_settings_are_refused_with_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let short = format!("{MINIMAL}\n[[workers]]\nname = \"rig\"\ntoken = \"short\"\n");
        let err = AgentConfig::load(&write(dir.path(), &short)).unwrap_err().to_string();
        assert!(err.contains("shorter than 16"), "{err}");
        let unknown = format!("{MINIMAL}\n[leases]\nduraton_secs = 5\n");
        let err = format!("{:#}", AgentConfig::load(&write(dir.path(), &unknown)).unwrap_err());
        assert!(err.contains("duraton_secs"), "{err}");
        let err = format!("{:#}", AgentConfig::load(&write(dir.path(), "[source]\n")).unwrap_err());
        assert!(err.contains("submitter"), "{err}");
    }
}
