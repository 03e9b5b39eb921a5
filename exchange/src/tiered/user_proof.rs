//! The inclusion proof of a user of a tiered tree, and its check.
//!
//! It lists the slots of the user's leaf exactly as the leaf hashes them (the
//! assets the user holds and, for a user holding fewer than their tier's slot
//! count, zero slots of other assets), the tier, the batch and the position in
//! it, and the sibling path split as in a dense proof.

use plonky2::field::types::Field;
use serde::{Deserialize, Serialize};
use zkpor_circuits::account::{Nonce, id_hash};
use zkpor_circuits::encoding::HashHex;
use zkpor_circuits::sparse::leaf::{signed_field, sparse_leaf_hash};
use zkpor_circuits::sparse::shape::TieredShape;
use zkpor_circuits::{F, Hash};

use crate::user_proof::{InclusionError, InclusionPath, LevelSpan, PathPosition, amount_units};

/// A tiered tree user's inclusion proof (`zkpor exchange user-proof`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TieredUserProof {
    /// The sequence whose root this proof leads to.
    pub sequence: u64,
    /// The shape of the tree.
    pub shape: TieredShape,
    /// The root the path leads to.
    pub root: HashHex,
    /// The user's id.
    pub id: String,
    /// The user's secret nonce: keep it private.
    pub nonce: Nonce,
    /// Index of the user's tier in the shape's tier set.
    pub tier: usize,
    /// Position of the user's batch among all batches.
    pub batch: u64,
    /// Position of the user inside the batch.
    pub position: u64,
    /// The leaf's slots in order: every asset the user holds, and zero slots
    /// of other assets up to the tier's slot count. Assets not listed are
    /// zero for this user.
    pub slots: Vec<SlotBalance>,
    /// Siblings from the leaf up to the root.
    pub path: InclusionPath,
}

/// One slot of a user's leaf.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotBalance {
    /// Index of the asset in the statement's asset list.
    pub asset: u16,
    /// Ticker symbol.
    pub symbol: String,
    /// Fractional digits of the asset's smallest unit.
    pub decimals: u32,
    /// What the exchange owes the user, exact, in whole units.
    pub equity: String,
    /// What the user owes the exchange, exact, in whole units.
    pub debt: String,
}

impl TieredUserProof {
    /// The user's leaf hash, rebuilt from id, nonce and slots.
    pub fn leaf(&self) -> Result<Hash, InclusionError> {
        let tiers = self.shape.tiers();
        let tier = *tiers.tiers().get(self.tier).ok_or_else(|| InclusionError::Slots {
            reason: format!("tier {} is not one of the shape's {} tiers", self.tier, tiers.tiers().len()),
        })?;
        if self.slots.len() != tier.slots {
            return Err(InclusionError::Slots {
                reason: format!("{} slots listed, tier {tier} has {}", self.slots.len(), tier.slots),
            });
        }
        let mut fields = Vec::with_capacity(self.slots.len());
        let mut previous: Option<u16> = None;
        for slot in &self.slots {
            if usize::from(slot.asset) >= tiers.assets() {
                return Err(InclusionError::Slots {
                    reason: format!("asset index {} is not below the {} assets", slot.asset, tiers.assets()),
                });
            }
            if previous.is_some_and(|p| p >= slot.asset) {
                return Err(InclusionError::Slots {
                    reason: format!(
                        "asset index {} does not follow {} in increasing order",
                        slot.asset,
                        previous.unwrap_or(0)
                    ),
                });
            }
            previous = Some(slot.asset);
            let equity = amount_units(&slot.symbol, slot.decimals, &slot.equity)?;
            let debt = amount_units(&slot.symbol, slot.decimals, &slot.debt)?;
            if equity != 0 && debt != 0 {
                return Err(InclusionError::Balance {
                    symbol: slot.symbol.clone(),
                    reason: "a slot holds either equity or debt, not both".into(),
                });
            }
            let balance = equity as i64 - debt as i64;
            fields.push((F::from_canonical_u16(slot.asset), signed_field(balance)));
        }
        Ok(sparse_leaf_hash(id_hash(&self.id, &self.nonce), &fields))
    }

    /// Checks the proof part by part and returns the root it leads to, which
    /// must be `expected` (the root in the file when `None`).
    pub fn verify(&self, expected: Option<Hash>) -> Result<Hash, InclusionError> {
        let leaf = self.leaf()?;
        let tier = self.shape.tiers().tier(self.tier);
        let capacity = self.shape.batch_capacity();
        if self.batch >= capacity || self.position >= tier.batch_size as u64 {
            return Err(InclusionError::Placement {
                batch: self.batch,
                position: self.position,
                batches: capacity,
                batch_size: tier.batch_size,
            });
        }
        let position = PathPosition {
            in_batch: self.position,
            batch_depth: self.shape.batch_depth(tier),
            batch: self.batch,
            levels: (0..self.shape.levels())
                .map(|level| LevelSpan {
                    children: self.shape.children(level) as u64,
                    depth: self.shape.level_depth(level),
                })
                .collect(),
        };
        position.walk(leaf, &self.path, expected.unwrap_or(self.root.0))
    }
}
