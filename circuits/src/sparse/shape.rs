//! The shape of a tiered account tree: its tiers, the children per
//! aggregation node and the aggregation levels. It fixes every circuit of
//! the tree and every path length of a user's inclusion proof.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::circuits::levels_for;
use super::leaf::SparseLeaf;
use super::tier::{Tier, TierSet};
use super::tree::batch_root;
use crate::Hash;
use crate::shape::MAX_ARITY;

/// Aggregation children per node unless a deployment says otherwise.
pub const DEFAULT_ARITY: usize = 8;

/// Most aggregation levels of a tiered tree.
pub const MAX_LEVELS: usize = 8;

/// The tiers, arity and levels of a tiered tree.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "TieredShapeFields")]
pub struct TieredShape {
    tiers: TierSet,
    arity: usize,
    levels: usize,
}

/// A tiered shape as read, before [`TieredShape::new`] checks it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TieredShapeFields {
    tiers: TierSet,
    arity: usize,
    levels: usize,
}

impl TryFrom<TieredShapeFields> for TieredShape {
    type Error = TieredShapeError;

    fn try_from(fields: TieredShapeFields) -> Result<Self, TieredShapeError> {
        TieredShape::new(fields.tiers, fields.arity, fields.levels)
    }
}

/// Why a tiered shape is not acceptable.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TieredShapeError {
    /// The arity is not a power of two in range.
    #[error("arity {0} must be a power of two in 2..={MAX_ARITY}")]
    Arity(usize),
    /// The level count is out of range.
    #[error("{0} aggregation levels: a tiered tree has 1..={MAX_LEVELS}")]
    Levels(usize),
}

impl TieredShape {
    /// A checked shape.
    pub fn new(tiers: TierSet, arity: usize, levels: usize) -> Result<Self, TieredShapeError> {
        if !arity.is_power_of_two() || !(2..=MAX_ARITY).contains(&arity) {
            return Err(TieredShapeError::Arity(arity));
        }
        if !(1..=MAX_LEVELS).contains(&levels) {
            return Err(TieredShapeError::Levels(levels));
        }
        Ok(TieredShape { tiers, arity, levels })
    }

    /// The shape of `tiers` at `arity` with just enough levels for
    /// `batches` batch proofs.
    pub fn fit(tiers: TierSet, arity: usize, batches: usize) -> Result<Self, TieredShapeError> {
        let levels = levels_for(batches, arity);
        Self::new(tiers, arity, levels)
    }

    /// The tiers.
    pub fn tiers(&self) -> &TierSet {
        &self.tiers
    }

    /// Assets of the snapshot.
    pub fn assets(&self) -> usize {
        self.tiers.assets()
    }

    /// Children per aggregation node (`K`).
    pub fn arity(&self) -> usize {
        self.arity
    }

    /// Aggregation levels.
    pub fn levels(&self) -> usize {
        self.levels
    }

    /// Batches the tree holds: `K^levels`.
    pub fn batch_capacity(&self) -> u64 {
        (self.arity as u64).pow(self.levels as u32)
    }

    /// Height of one batch's subtree in tier `tier`: `log2 B`.
    pub fn batch_depth(&self, tier: Tier) -> usize {
        tier.batch_size.trailing_zeros() as usize
    }

    /// Height one aggregation level adds: `log2 K`.
    pub fn arity_depth(&self) -> usize {
        self.arity.trailing_zeros() as usize
    }

    /// Height of the tree above the batch roots.
    pub fn upper_depth(&self) -> usize {
        self.levels * self.arity_depth()
    }

    /// Root of an empty batch: what fills the tree past the last batch.
    pub fn empty_batch_root(&self) -> Hash {
        batch_root(self.tiers.tier(0), &[])
    }

    /// The padding leaf of tier `tier`.
    pub fn padding_leaf(&self, tier: Tier) -> Hash {
        SparseLeaf::padding(tier.slots).hash()
    }
}

impl fmt::Display for TieredShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tiers {} over {} assets, k{}-l{}", self.tiers, self.assets(), self.arity, self.levels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_arity_and_levels() {
        let tiers = TierSet::fit(8).unwrap();
        assert_eq!(TieredShape::new(tiers.clone(), 3, 1), Err(TieredShapeError::Arity(3)));
        assert_eq!(TieredShape::new(tiers.clone(), 8, 0), Err(TieredShapeError::Levels(0)));
        let shape = TieredShape::fit(tiers, 8, 65).unwrap();
        assert_eq!((shape.levels(), shape.batch_capacity(), shape.upper_depth()), (3, 512, 9));
        let json = serde_json::to_string(&shape).unwrap();
        assert_eq!(serde_json::from_str::<TieredShape>(&json).unwrap(), shape);
        let bad = json.replace("\"arity\":8", "\"arity\":6");
        assert!(serde_json::from_str::<TieredShape>(&bad).unwrap_err().to_string().contains("arity 6"));
    }
}
