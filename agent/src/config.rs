//! The agent's configuration: a TOML file (`config/agent.toml` is the
//! example), each value overridable by an environment variable
//! `ZKPOR_AGENT_<SECTION>__<KEY>` (e.g. `ZKPOR_AGENT_DATABASE_URL`).
//! `zkpor dev` writes its agents' files with [`AgentConfig::save`].

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::{Deserialize, Serialize};
use zkpor_chain::config::ChainConfig;
use zkpor_generator::GeneratorSettings;
use zkpor_generator::settings::{ApiConfig, LeaseConfig, WorkerToken};
use zkpor_generator::source::config::SourceConfig;

/// Everything `zkpor agent` reads.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// `sqlite://<file>` (created on first start) or `postgres://...`.
    #[serde(default = "default_database_url")]
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

fn default_database_url() -> String {
    "sqlite://agent.sqlite".into()
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
        self.generator().check()?;
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

    /// What the generator takes of it.
    pub fn generator(&self) -> GeneratorSettings {
        GeneratorSettings { api: self.api.clone(), leases: self.leases.clone(), workers: self.workers.clone() }
    }

    /// The configuration as the TOML file [`AgentConfig::load`] reads.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self).context("writing the agent's configuration as TOML")
    }

    /// Writes it to `path` as TOML.
    pub fn save(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.to_toml()?).with_context(|| format!("writing {}", path.display()))
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
        assert_eq!(config.generator().worker_of("0123456789abcdef"), Some("rig"));
        assert_eq!(config.generator().worker_of("0123456789abcdeX"), None);
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
    fn a_configuration_written_as_toml_reads_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("archive")).unwrap();
        let key = format!("private_key = \"{KEY}\"\nstake_wei = \"10000000000000000\"\n");
        let archive = "[source.exchange]\narchive = \"archive\"\npoll_interval_ms = 500\n";
        let workers = "[[workers]]\nname = \"rig\"\ntoken = \"0123456789abcdef\"\n";
        let text = format!("{MINIMAL}{archive}{workers}{CHAIN}{key}");
        let config = AgentConfig::load(&write(dir.path(), &text)).unwrap();
        let path = dir.path().join("again.toml");
        config.save(&path).unwrap();
        let again = AgentConfig::load(&path).unwrap();
        assert_eq!(again.to_toml().unwrap(), config.to_toml().unwrap());
        assert_eq!(again.generator().worker_of("0123456789abcdef"), Some("rig"));
        assert_eq!(again.source.exchange.unwrap().poll_interval_ms, 500);
        let chain = again.chain.unwrap();
        assert_eq!(chain.stake_wei, alloy::primitives::U256::from(10_000_000_000_000_000u64));
        assert_eq!(chain.signer().unwrap().address().to_string(), "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
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
