//! `zkpor exchange serve`'s configuration: a TOML file
//! (`config/exchange.toml` is the example), each value overridable by an
//! environment variable `ZKPOR_EXCHANGE_<KEY>` (`__` between section and
//! key).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;
use zkpor_circuits::encoding::Address;

/// Everything `zkpor exchange serve` reads.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeConfig {
    /// The archive `zkpor exchange publish` writes (relative to the file).
    #[serde(default = "defaults::archive")]
    pub archive: PathBuf,
    /// Address and port to listen on.
    #[serde(default = "defaults::listen")]
    pub listen: SocketAddr,
    /// JSON-RPC endpoint of the chain: only sequences posted there, with
    /// the archive's root, are served.
    pub rpc_url: String,
    /// The registry the sequences are posted to.
    pub registry: Address,
    /// Serve HTTPS with this certificate and key (PEM files, relative to
    /// the file); plain HTTP without.
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    /// Requests each client may make.
    #[serde(default)]
    pub limits: RateLimits,
    /// Agents allowed to fetch batch witnesses.
    #[serde(default)]
    pub agents: Vec<Client>,
    /// The exchange's front ends, allowed to fetch user proofs.
    #[serde(default)]
    pub frontends: Vec<Client>,
}

/// A certificate chain and its private key.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

/// A token bucket per client.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    /// Requests per second, sustained.
    #[serde(default = "defaults::per_second")]
    pub per_second: u32,
    /// Requests allowed in a burst.
    #[serde(default = "defaults::burst")]
    pub burst: u32,
}

/// One client's credentials.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    /// Its name in logs.
    pub name: String,
    /// Its bearer token.
    pub token: String,
}

mod defaults {
    use std::net::SocketAddr;
    use std::path::PathBuf;

    pub fn archive() -> PathBuf {
        "exchange-data".into()
    }
    pub fn listen() -> SocketAddr {
        "127.0.0.1:8490".parse().expect("a socket address")
    }
    pub fn per_second() -> u32 {
        50
    }
    pub fn burst() -> u32 {
        200
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits { per_second: defaults::per_second(), burst: defaults::burst() }
    }
}

impl ExchangeConfig {
    /// Reads `path`, then the environment; paths become relative to the
    /// file's directory.
    pub fn load(path: &Path) -> Result<Self> {
        ensure!(path.is_file(), "no configuration file at {}", path.display());
        let mut config: ExchangeConfig = Figment::new()
            .merge(Toml::file(path))
            .merge(Env::prefixed("ZKPOR_EXCHANGE_").split("__").ignore(&["config"]))
            .extract()
            .with_context(|| format!("reading the configuration {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let relative = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        relative(&mut config.archive);
        if let Some(tls) = &mut config.tls {
            relative(&mut tls.cert);
            relative(&mut tls.key);
        }
        config.check()?;
        Ok(config)
    }

    /// Refuses settings that cannot work.
    pub fn check(&self) -> Result<()> {
        ensure!(self.limits.per_second >= 1, "limits.per_second must be at least 1");
        ensure!(self.limits.burst >= 1, "limits.burst must be at least 1");
        let mut names = HashSet::new();
        let mut tokens = HashSet::new();
        for (role, client) in
            self.agents.iter().map(|c| ("agent", c)).chain(self.frontends.iter().map(|c| ("frontend", c)))
        {
            ensure!(!client.name.is_empty(), "an {role} without a name");
            ensure!(client.token.len() >= 16, "the token of {role} '{}' is shorter than 16 characters", client.name);
            ensure!(names.insert(&client.name), "two clients named '{}'", client.name);
            ensure!(tokens.insert(&client.token), "two clients share a token");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_file_gets_defaults_and_paths_relative_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("exchange.toml");
        let text = "rpc_url = \"http://127.0.0.1:8545\"\nregistry = \"0x00000000000000000000000000000000000000aa\"\n\
                    [[agents]]\nname = \"miner\"\ntoken = \"0123456789abcdef\"\n";
        std::fs::write(&path, text).unwrap();
        let config = ExchangeConfig::load(&path).unwrap();
        assert_eq!(config.archive, dir.path().join("exchange-data"));
        assert_eq!((config.limits.per_second, config.limits.burst), (50, 200));
        assert_eq!(config.listen.port(), 8490);
        assert!(config.tls.is_none() && config.frontends.is_empty());
    }

    #[test]
    fn short_or_shared_tokens_and_unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("exchange.toml");
        let head = "rpc_url = \"http://127.0.0.1:8545\"\nregistry = \"0x00000000000000000000000000000000000000aa\"\n";
        for (extra, expected) in [
            ("[[agents]]\nname = \"a\"\ntoken = \"short\"\n", "shorter than 16"),
            (
                "[[agents]]\nname = \"a\"\ntoken = \"0123456789abcdef\"\n[[frontends]]\nname = \"b\"\ntoken = \"0123456789abcdef\"\n",
                "share a token",
            ),
            ("[limits]\nper_secnd = 3\n", "per_secnd"),
        ] {
            std::fs::write(&path, format!("{head}{extra}")).unwrap();
            let err = format!("{:#}", ExchangeConfig::load(&path).unwrap_err());
            assert!(err.contains(expected), "{extra}: {err}");
        }
    }
}
