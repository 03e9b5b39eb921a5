//! What zkpor's roles exchange and agree on, independent of any one of
//! them: the exchange writes these, agents, workers and readers read them.
//!
//! - [`statement`]: `statement.json`, the readable statement of a sequence,
//!   and its check against the digest;
//! - [`witness`]: what the exchange's endpoint serves agents: the sequences
//!   and, batch by batch, their users (hidden ids and slots);
//! - [`states`]: where a sequence stands on chain and at an agent, and
//!   where each proving task stands.
//! - [`tokens`]: bearer tokens compared in constant time.

pub mod statement;
pub mod states;
pub mod tokens;
pub mod witness;

#[cfg(any(test, feature = "test-support"))]
pub mod test_support;
