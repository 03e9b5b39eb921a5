//! Who may call the exchange's endpoints: a bearer token per client, each
//! client with a role and its own token bucket.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::config::{ExchangeConfig, RateLimits};
use zkpor_protocol::tokens::constant_time_eq;

/// What a client may fetch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// An agent: batch witnesses of posted sequences.
    Agent,
    /// The exchange's front end: users' inclusion proofs.
    Frontend,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Agent => "agent",
            Role::Frontend => "front end",
        })
    }
}

/// Why a request is not let in.
#[derive(Debug, PartialEq, Eq)]
pub enum Denied {
    /// No bearer token, or one nobody holds.
    Unauthenticated,
    /// A client whose role may not call this route.
    Forbidden {
        /// The client.
        client: String,
        /// The role the route needs.
        needs: Role,
    },
    /// Too many requests: try again after this long.
    RateLimited(Duration),
}

/// The clients and their buckets.
pub struct Access {
    clients: Vec<(String, String, Role)>,
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl Access {
    /// The clients of `config`.
    pub fn new(config: &ExchangeConfig) -> Self {
        let clients = config
            .agents
            .iter()
            .map(|c| (c.name.clone(), c.token.clone(), Role::Agent))
            .chain(config.frontends.iter().map(|c| (c.name.clone(), c.token.clone(), Role::Frontend)))
            .collect();
        Access { clients, limiter: RateLimiter::keyed(quota(config.limits)), clock: DefaultClock::default() }
    }

    /// The client holding `token` if it may act as `needs`, after taking
    /// one request from its bucket.
    pub fn admit(&self, token: Option<&str>, needs: Role) -> Result<String, Denied> {
        let token = token.ok_or(Denied::Unauthenticated)?;
        let (name, _, role) = self
            .clients
            .iter()
            .find(|(_, held, _)| constant_time_eq(held.as_bytes(), token.as_bytes()))
            .ok_or(Denied::Unauthenticated)?;
        if *role != needs {
            return Err(Denied::Forbidden { client: name.clone(), needs });
        }
        self.limiter
            .check_key(name)
            .map_err(|not_until| Denied::RateLimited(not_until.wait_time_from(self.clock.now())))?;
        Ok(name.clone())
    }
}

fn quota(limits: RateLimits) -> Quota {
    let per_second = NonZeroU32::new(limits.per_second).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(per_second).allow_burst(NonZeroU32::new(limits.burst).unwrap_or(NonZeroU32::MIN))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::config::Client;

    fn config(burst: u32) -> ExchangeConfig {
        let client = |name: &str, token: &str| Client { name: name.into(), token: token.into() };
        ExchangeConfig {
            archive: "unused".into(),
            listen: "127.0.0.1:0".parse().unwrap(),
            rpc_url: "http://127.0.0.1:1".into(),
            registry: Default::default(),
            tls: None,
            limits: RateLimits { per_second: 1, burst },
            agents: vec![client("miner", "miner-token-0123456")],
            frontends: vec![client("web", "web-token-0123456789")],
        }
    }

    #[test]
    fn tokens_map_to_clients_and_roles_are_kept_apart() {
        let access = Access::new(&config(10));
        assert_eq!(access.admit(Some("miner-token-0123456"), Role::Agent), Ok("miner".into()));
        assert_eq!(access.admit(Some("web-token-0123456789"), Role::Frontend), Ok("web".into()));
        assert_eq!(access.admit(None, Role::Agent), Err(Denied::Unauthenticated));
        assert_eq!(access.admit(Some("miner-token-0123457"), Role::Agent), Err(Denied::Unauthenticated));
        assert_eq!(
            access.admit(Some("web-token-0123456789"), Role::Agent),
            Err(Denied::Forbidden { client: "web".into(), needs: Role::Agent })
        );
    }

    #[test]
    fn each_client_has_its_own_bucket() {
        let access = Access::new(&config(2));
        for _ in 0..2 {
            access.admit(Some("miner-token-0123456"), Role::Agent).unwrap();
        }
        let denied = access.admit(Some("miner-token-0123456"), Role::Agent).unwrap_err();
        assert!(matches!(denied, Denied::RateLimited(wait) if wait > Duration::ZERO), "{denied:?}");
        assert!(access.admit(Some("web-token-0123456789"), Role::Frontend).is_ok(), "another client is not limited");
    }
}
