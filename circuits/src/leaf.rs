//! Account leaves: a user's non-zero balances as `(asset, balance)` slots,
//! padded to the slot count of the user's tier.
//!
//! `leaf = hash(Leaf, id_hash ‖ asset_0 ‖ balance_0 ‖ … ‖ asset_(S−1) ‖ balance_(S−1))`
//! where `S` is the tier's slot count, asset indices are strictly increasing,
//! and each balance is the signed balance in smallest units as a field element
//! (a debt of `x` is `p − x`). Slots a user does not need hold the lowest
//! asset indices the user has no balance in, with balance zero.
//!
//! The leaf domain keeps leaves apart from every other hash of the tree, and
//! the input length in the sponge's capacity keeps leaves of tiers of
//! different slot counts apart ([`crate::hash`]). `4 + 2S` inputs fill whole
//! 8-element sponge blocks when `S ≡ 2 mod 4`, which is why the tiers' slot
//! counts are 2, 6, ...

use plonky2::field::types::Field;
use thiserror::Error;

use crate::gadgets::solvency::BALANCE_BITS;
use crate::hash::{Domain, hash};
use crate::{F, Hash};

/// One slot: an asset index and the signed balance in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Slot {
    /// Index of the asset in the snapshot's asset list.
    pub asset: u16,
    /// Signed balance in smallest units: negative is debt.
    pub balance: i64,
}

impl Slot {
    /// The balance as a field element (`p − x` for a debt of `x`).
    pub fn balance_field(&self) -> F {
        signed_field(self.balance)
    }

    /// Equity in this slot (the balance if positive, else 0).
    pub fn equity(&self) -> u64 {
        self.balance.max(0) as u64
    }

    /// Debt in this slot (minus the balance if negative, else 0).
    pub fn debt(&self) -> u64 {
        self.balance.min(0).unsigned_abs()
    }
}

/// A signed integer of magnitude below 2^63 as a field element.
pub fn signed_field(value: i64) -> F {
    if value >= 0 { F::from_canonical_u64(value as u64) } else { -F::from_canonical_u64(value.unsigned_abs()) }
}

/// Why a set of holdings cannot become a leaf.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum LeafError {
    /// More non-zero balances than the tier has slots.
    #[error("{held} non-zero balances do not fit {slots} slots")]
    TooManyHoldings {
        /// Non-zero balances.
        held: usize,
        /// Slots of the tier.
        slots: usize,
    },
    /// More slots than assets, so padding slots cannot all be distinct.
    #[error("{slots} slots exceed the {assets} assets")]
    MoreSlotsThanAssets {
        /// Slots of the tier.
        slots: usize,
        /// Assets of the snapshot.
        assets: usize,
    },
    /// An asset index past the asset list.
    #[error("asset index {asset} is not below the {assets} assets")]
    AssetOutOfRange {
        /// The index.
        asset: u16,
        /// Assets of the snapshot.
        assets: usize,
    },
    /// The same asset twice.
    #[error("asset index {0} appears twice")]
    DuplicateAsset(u16),
    /// A balance of 2^48 units or more.
    #[error("balance {balance} of asset {asset} is not below 2^48 in magnitude")]
    BalanceTooLarge {
        /// The asset.
        asset: u16,
        /// The balance.
        balance: i64,
    },
}

/// One account as a leaf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leaf {
    /// `Poseidon(nonce ‖ id)`; zero for padding.
    pub id_hash: Hash,
    /// Exactly the tier's slot count, strictly increasing by asset.
    pub slots: Vec<Slot>,
}

impl Leaf {
    /// The leaf of a user holding `holdings` (asset, balance) pairs, in a tier
    /// of `slots` slots of a snapshot with `assets` assets. Zero balances
    /// are dropped; the rest must be distinct assets below `assets`.
    pub fn new(id_hash: Hash, holdings: &[Slot], slots: usize, assets: usize) -> Result<Self, LeafError> {
        if slots > assets {
            return Err(LeafError::MoreSlotsThanAssets { slots, assets });
        }
        let mut held: Vec<Slot> = holdings.iter().copied().filter(|slot| slot.balance != 0).collect();
        held.sort_unstable();
        for slot in &held {
            if usize::from(slot.asset) >= assets {
                return Err(LeafError::AssetOutOfRange { asset: slot.asset, assets });
            }
            if slot.balance.unsigned_abs() >= 1 << BALANCE_BITS {
                return Err(LeafError::BalanceTooLarge { asset: slot.asset, balance: slot.balance });
            }
        }
        if let Some(pair) = held.windows(2).find(|pair| pair[0].asset == pair[1].asset) {
            return Err(LeafError::DuplicateAsset(pair[0].asset));
        }
        if held.len() > slots {
            return Err(LeafError::TooManyHoldings { held: held.len(), slots });
        }
        let mut free = (0..assets as u16).filter(|asset| held.binary_search_by_key(asset, |slot| slot.asset).is_err());
        let padding: Vec<Slot> =
            free.by_ref().take(slots - held.len()).map(|asset| Slot { asset, balance: 0 }).collect();
        held.extend(padding);
        held.sort_unstable();
        Ok(Leaf { id_hash, slots: held })
    }

    /// The padding account of a tier: no id, the first `slots` assets at zero.
    pub fn padding(slots: usize) -> Self {
        Leaf { id_hash: Hash::default(), slots: (0..slots as u16).map(|asset| Slot { asset, balance: 0 }).collect() }
    }

    /// The leaf hash.
    pub fn hash(&self) -> Hash {
        let fields: Vec<(F, F)> =
            self.slots.iter().map(|slot| (F::from_canonical_u16(slot.asset), slot.balance_field())).collect();
        leaf_hash(self.id_hash, &fields)
    }

    /// Whether this leaf holds exactly `holdings` (zero balances ignored):
    /// what a user checks before trusting an inclusion proof of this leaf.
    pub fn holds_exactly(&self, holdings: &[Slot]) -> bool {
        let mut expected: Vec<Slot> = holdings.iter().copied().filter(|slot| slot.balance != 0).collect();
        expected.sort_unstable();
        let held: Vec<Slot> = self.slots.iter().copied().filter(|slot| slot.balance != 0).collect();
        held == expected
    }
}

/// `hash(Leaf, id_hash ‖ (asset, balance)…)` over raw field values.
pub fn leaf_hash(id_hash: Hash, slots: &[(F, F)]) -> Hash {
    let mut inputs = Vec::with_capacity(4 + 2 * slots.len());
    inputs.extend(id_hash.elements);
    for &(asset, balance) in slots {
        inputs.push(asset);
        inputs.push(balance);
    }
    hash(Domain::Leaf, &inputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(asset: u16, balance: i64) -> Slot {
        Slot { asset, balance }
    }

    #[test]
    fn pads_with_the_lowest_free_assets_in_order() {
        let leaf = Leaf::new(Hash::default(), &[slot(5, 3), slot(1, -2), slot(2, 0)], 4, 8).unwrap();
        assert_eq!(leaf.slots, vec![slot(0, 0), slot(1, -2), slot(2, 0), slot(5, 3)]);
        assert!(leaf.holds_exactly(&[slot(1, -2), slot(5, 3)]));
        assert!(!leaf.holds_exactly(&[slot(5, 3)]), "a missing debt is noticed");
    }

    #[test]
    fn rejects_what_no_leaf_can_hold() {
        let id = Hash::default();
        assert_eq!(
            Leaf::new(id, &[slot(1, 1), slot(2, 1)], 1, 4),
            Err(LeafError::TooManyHoldings { held: 2, slots: 1 })
        );
        assert_eq!(Leaf::new(id, &[slot(4, 1)], 2, 4), Err(LeafError::AssetOutOfRange { asset: 4, assets: 4 }));
        assert_eq!(Leaf::new(id, &[slot(1, 1), slot(1, 2)], 2, 4), Err(LeafError::DuplicateAsset(1)));
        assert_eq!(Leaf::new(id, &[], 5, 4), Err(LeafError::MoreSlotsThanAssets { slots: 5, assets: 4 }));
        assert!(matches!(Leaf::new(id, &[slot(0, -(1 << 48))], 1, 4), Err(LeafError::BalanceTooLarge { .. })));
    }

    #[test]
    fn the_hash_covers_sign_asset_and_tier() {
        let id = Hash::default();
        let leaf = Leaf::new(id, &[slot(1, 5)], 2, 4).unwrap();
        let negated = Leaf::new(id, &[slot(1, -5)], 2, 4).unwrap();
        let moved = Leaf::new(id, &[slot(2, 5)], 2, 4).unwrap();
        let wider = Leaf::new(id, &[slot(1, 5)], 3, 4).unwrap();
        let hashes = [leaf.hash(), negated.hash(), moved.hash(), wider.hash()];
        for (i, a) in hashes.iter().enumerate() {
            for b in &hashes[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
