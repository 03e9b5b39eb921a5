//! The `[source]` section of the agent's configuration: the address bound
//! into every final proof, and where sequences come from.

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use zkpor_circuits::encoding::Address;
use zkpor_circuits::family::Family;

/// Where the sequences to prove come from.
#[derive(Clone, Debug, Deserialize, Serialize)]
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
#[derive(Clone, Debug, Deserialize, Serialize)]
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

impl Default for ExchangeSource {
    /// No witness origin yet (the configuration must give one), every
    /// interval at its default.
    fn default() -> Self {
        ExchangeSource {
            url: None,
            token: None,
            token_file: None,
            archive: None,
            first_sequence: defaults::first_sequence(),
            poll_interval_ms: defaults::source_poll_ms(),
            retry_refused_secs: defaults::retry_refused_secs(),
            timeout_secs: defaults::exchange_timeout_secs(),
        }
    }
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
#[derive(Clone, Debug, Deserialize, Serialize)]
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
