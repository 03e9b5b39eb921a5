//! What the exchange's endpoint sends an agent: the sequences it serves
//! and, batch by batch, their users (ids hidden behind their hashes, only
//! the non-zero balances), from which the agent rebuilds the tree and checks
//! it against the root posted on chain.

use plonky2::field::types::{Field, Field64, PrimeField64};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use zkpor_circuits::encoding::HashHex;
use zkpor_circuits::leaf::{Leaf, Slot};
use zkpor_circuits::{F, Hash};

/// One sequence the exchange serves (`GET /v1/sequences`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServedSequence {
    /// The sequence number.
    pub sequence: u64,
    /// Its root, as posted.
    pub root: HashHex,
    /// The circuit family it is proven on.
    pub family: String,
    /// Users in the tree.
    pub account_count: u64,
    /// Batches of users (`GET /v1/sequences/{n}/batches/{i}` for each).
    pub batches: u64,
}

/// The users of one batch (`GET /v1/sequences/{n}/batches/{i}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessBatch {
    /// The sequence number.
    pub sequence: u64,
    /// The batch's index.
    pub batch: u64,
    /// Index of the batch's tier in the family's tiers.
    pub tier: usize,
    /// Its users, in tree order.
    pub users: Vec<UserWire>,
}

/// One user as an agent or a worker receives it: the hidden id and the
/// non-zero balances, as `[asset, balance]` pairs (negative: debt), asset
/// indices increasing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserWire {
    /// `hash(Identity, nonce ‖ id)` as four canonical field elements.
    pub id_hash: [u64; 4],
    /// The non-zero balances.
    pub slots: Vec<(u16, i64)>,
}

/// Why a user on the wire is not one.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum WireError {
    /// An id hash element is not below the modulus.
    #[error("an id hash element is not a canonical field element")]
    IdHash,
}

impl UserWire {
    /// The hidden id.
    pub fn id(&self) -> Result<Hash, WireError> {
        if self.id_hash.iter().any(|&e| e >= F::ORDER) {
            return Err(WireError::IdHash);
        }
        Ok(Hash { elements: self.id_hash.map(F::from_canonical_u64) })
    }

    /// The balances as slots.
    pub fn holdings(&self) -> Vec<Slot> {
        self.slots.iter().map(|&(asset, balance)| Slot { asset, balance }).collect()
    }
}

impl From<&Leaf> for UserWire {
    fn from(leaf: &Leaf) -> Self {
        UserWire {
            id_hash: leaf.id_hash.elements.map(|f| f.to_canonical_u64()),
            slots: leaf.slots.iter().filter(|slot| slot.balance != 0).map(|slot| (slot.asset, slot.balance)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_round_trips_and_bad_ids_are_refused() {
        let leaf = Leaf::new(Hash::from_partial(&[F::ONE]), &[Slot { asset: 2, balance: -5 }], 2, 4).unwrap();
        let wire = UserWire::from(&leaf);
        assert_eq!(wire.slots, vec![(2, -5)], "only the non-zero balances travel");
        let json = serde_json::to_string(&wire).unwrap();
        assert_eq!(json, r#"{"id_hash":[1,0,0,0],"slots":[[2,-5]]}"#);
        let back: UserWire = serde_json::from_str(&json).unwrap();
        assert_eq!(Leaf::new(back.id().unwrap(), &back.holdings(), 2, 4).unwrap(), leaf);
        let bad = UserWire { id_hash: [F::ORDER, 0, 0, 0], slots: vec![] };
        assert_eq!(bad.id(), Err(WireError::IdHash));
    }
}
