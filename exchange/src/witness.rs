//! What the exchange's endpoint sends an agent: the sequences it serves
//! and, batch by batch, the accounts of each (ids hidden behind their
//! hashes), from which the agent rebuilds the tree and checks it against
//! the root posted on chain.

use serde::{Deserialize, Serialize};
use zkpor_circuits::Shape;
use zkpor_circuits::encoding::HashHex;
use zkpor_tasks::AccountWire;

/// One sequence the exchange serves (`GET /v1/sequences`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServedSequence {
    /// The sequence number.
    pub sequence: u64,
    /// Its root, as posted.
    pub root: HashHex,
    /// Its circuit shape.
    pub shape: Shape,
    /// Accounts in the tree.
    pub account_count: u64,
    /// Batches of accounts (`GET /v1/sequences/{n}/batches/{i}` for each).
    pub batches: u64,
}

/// The accounts of one batch (`GET /v1/sequences/{n}/batches/{i}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessBatch {
    /// The sequence number.
    pub sequence: u64,
    /// The batch's index.
    pub batch: u64,
    /// Its accounts, in tree order.
    pub accounts: Vec<AccountWire>,
}
