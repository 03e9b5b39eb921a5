//! The shape of a tiered account tree: its tiers and, per aggregation level,
//! how many child proofs a node verifies. It fixes every circuit of the tree
//! and every path length of a user's inclusion proof.
//!
//! A node of a level with `c` children hashes their roots as a binary tree
//! over `c` rounded up to a power of two: the slots past the children hold
//! the root of an empty subtree, a constant of the shape, so a node need not
//! verify a proof for them. Children per node are thus chosen by what fits
//! the rows of an aggregation circuit (see [`DEFAULT_MAX_CHILDREN`]), not by
//! powers of two, and the top node verifies only the nodes there are.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::leaf::SparseLeaf;
use super::tier::{Tier, TierSet};
use super::tree::batch_root;
use crate::Hash;
use crate::merkle::empty_roots_over;
use crate::shape::MAX_ARITY;

/// Most children an aggregation node verifies unless a deployment says
/// otherwise: twelve verifications of a 2^14-row proof with their totals
/// (63,425 gates over 220 assets) fit an aggregation circuit of 2^16 rows,
/// where eight left a third of the rows unused.
pub const DEFAULT_MAX_CHILDREN: usize = 12;

/// Most aggregation levels of a tiered tree.
pub const MAX_LEVELS: usize = 8;

/// The tiers and the children per node of each aggregation level.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "TieredShapeFields")]
pub struct TieredShape {
    tiers: TierSet,
    /// Per aggregation level, from the batches up: children per node.
    children: Vec<usize>,
}

/// A tiered shape as read, before [`TieredShape::new`] checks it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TieredShapeFields {
    tiers: TierSet,
    children: Vec<usize>,
}

impl TryFrom<TieredShapeFields> for TieredShape {
    type Error = TieredShapeError;

    fn try_from(fields: TieredShapeFields) -> Result<Self, TieredShapeError> {
        TieredShape::new(fields.tiers, fields.children)
    }
}

/// Why a tiered shape is not acceptable.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TieredShapeError {
    /// A level's children per node are out of range.
    #[error("aggregation level {level} has {children} children per node: a node takes 1..={MAX_ARITY}")]
    Children {
        /// The level.
        level: usize,
        /// Its children per node.
        children: usize,
    },
    /// The level count is out of range.
    #[error("{0} aggregation levels: a tiered tree has 1..={MAX_LEVELS}")]
    Levels(usize),
    /// The most children per node when fitting a shape is out of range.
    #[error("at most {0} children per node: it must be in 2..={MAX_ARITY}")]
    MaxChildren(usize),
    /// More batches than a tree of [`MAX_LEVELS`] levels holds.
    #[error("{batches} batches do not fit {MAX_LEVELS} aggregation levels of {max_children} children")]
    TooManyBatches {
        /// The batches.
        batches: usize,
        /// The most children per node.
        max_children: usize,
    },
}

impl TieredShape {
    /// A checked shape: `children` per node at each aggregation level, from
    /// the batches up.
    pub fn new(tiers: TierSet, children: Vec<usize>) -> Result<Self, TieredShapeError> {
        if !(1..=MAX_LEVELS).contains(&children.len()) {
            return Err(TieredShapeError::Levels(children.len()));
        }
        if let Some((level, &count)) = children.iter().enumerate().find(|(_, c)| !(1..=MAX_ARITY).contains(*c)) {
            return Err(TieredShapeError::Children { level, children: count });
        }
        Ok(TieredShape { tiers, children })
    }

    /// The shape of `tiers` for `batches` batch proofs with at most
    /// `max_children` per node: each level has the fewest nodes that hold
    /// the level below, and the children are spread evenly over them, so
    /// that as few nodes as can be lack children (each lacking node costs a
    /// proof of an empty subtree); the top takes exactly the nodes below it.
    pub fn fit(tiers: TierSet, max_children: usize, batches: usize) -> Result<Self, TieredShapeError> {
        if !(2..=MAX_ARITY).contains(&max_children) {
            return Err(TieredShapeError::MaxChildren(max_children));
        }
        let mut children = Vec::new();
        let mut count = batches.max(1);
        loop {
            let here = count.div_ceil(count.div_ceil(max_children));
            children.push(here);
            count = count.div_ceil(here);
            if count == 1 {
                break;
            }
            if children.len() == MAX_LEVELS {
                return Err(TieredShapeError::TooManyBatches { batches, max_children });
            }
        }
        Self::new(tiers, children)
    }

    /// The tiers.
    pub fn tiers(&self) -> &TierSet {
        &self.tiers
    }

    /// Assets of the snapshot.
    pub fn assets(&self) -> usize {
        self.tiers.assets()
    }

    /// Aggregation levels.
    pub fn levels(&self) -> usize {
        self.children.len()
    }

    /// Children per node at aggregation level `level` (0 aggregates batches).
    pub fn children(&self, level: usize) -> usize {
        self.children[level]
    }

    /// Hash slots of a node at `level`: its children rounded up to a power
    /// of two.
    pub fn slots(&self, level: usize) -> usize {
        self.children[level].next_power_of_two()
    }

    /// Height the node tree of `level` adds: `log2` of its slots.
    pub fn level_depth(&self, level: usize) -> usize {
        self.slots(level).trailing_zeros() as usize
    }

    /// Batches the tree holds: the product of the children per level.
    pub fn batch_capacity(&self) -> u64 {
        self.children.iter().map(|&c| c as u64).product()
    }

    /// Height of one batch's subtree in tier `tier`: `log2 B`.
    pub fn batch_depth(&self, tier: Tier) -> usize {
        tier.batch_size.trailing_zeros() as usize
    }

    /// Height of the tree above the batch roots.
    pub fn upper_depth(&self) -> usize {
        (0..self.levels()).map(|level| self.level_depth(level)).sum()
    }

    /// Where batch `batch` sits among the leaves of the binary tree above
    /// the batch roots: its child slot at each level, placed by the heights
    /// of the levels below. Leaves no batch sits at are empty batches.
    pub fn batch_slot(&self, batch: u64) -> u64 {
        let (mut rest, mut slot, mut height) = (batch, 0, 0);
        for level in 0..self.levels() {
            let children = self.children[level] as u64;
            slot |= (rest % children) << height;
            rest /= children;
            height += self.level_depth(level);
        }
        slot
    }

    /// Root of an empty batch: what fills the tree past the last batch.
    pub fn empty_batch_root(&self) -> Hash {
        batch_root(self.tiers.tier(0), &[])
    }

    /// Root of an empty subtree under a node of aggregation level `level`:
    /// an empty batch at level 0, an empty node of level `level - 1` above.
    pub fn empty_root(&self, level: usize) -> Hash {
        let height: usize = (0..level).map(|below| self.level_depth(below)).sum();
        empty_roots_over(self.empty_batch_root(), height)[height]
    }

    /// The padding leaf of tier `tier`.
    pub fn padding_leaf(&self, tier: Tier) -> Hash {
        SparseLeaf::padding(tier.slots).hash()
    }
}

impl fmt::Display for TieredShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let children: Vec<String> = self.children.iter().map(usize::to_string).collect();
        write!(f, "tiers {} over {} assets, children {}", self.tiers, self.assets(), children.join("-"))
    }
}

#[cfg(test)]
mod tests {
    use plonky2::field::types::Field;

    use super::*;
    use crate::F;
    use crate::sparse::tree::{binary_root, tiered_root};

    #[test]
    fn checks_children_and_levels() {
        let tiers = TierSet::fit(8).unwrap();
        assert_eq!(TieredShape::new(tiers.clone(), vec![]), Err(TieredShapeError::Levels(0)));
        assert_eq!(
            TieredShape::new(tiers.clone(), vec![8, 0]),
            Err(TieredShapeError::Children { level: 1, children: 0 })
        );
        assert_eq!(TieredShape::fit(tiers.clone(), 1, 5), Err(TieredShapeError::MaxChildren(1)));
        assert!(matches!(TieredShape::fit(tiers.clone(), 2, 1 << 9), Err(TieredShapeError::TooManyBatches { .. })));
        let shape = TieredShape::fit(tiers.clone(), 12, 65).unwrap();
        assert_eq!(shape.to_string(), format!("tiers {tiers} over 8 assets, children 11-6"));
        assert_eq!((shape.levels(), shape.batch_capacity(), shape.upper_depth()), (2, 66, 7));
        let json = serde_json::to_string(&shape).unwrap();
        assert_eq!(serde_json::from_str::<TieredShape>(&json).unwrap(), shape);
        let bad = json.replace("[11,6]", "[11,65]");
        assert!(serde_json::from_str::<TieredShape>(&bad).unwrap_err().to_string().contains("65 children"));
    }

    #[test]
    fn fits_the_batches_evenly_with_the_top_taking_what_is_left() {
        let children = |batches| TieredShape::fit(TierSet::fit(8).unwrap(), 12, batches).unwrap().children;
        assert_eq!(children(1), vec![1]);
        assert_eq!(children(12), vec![12]);
        // Two nodes of nine, not one of twelve and one of six: no empty batch.
        assert_eq!(children(18), vec![9, 2]);
        assert_eq!(children(19), vec![10, 2]);
        assert_eq!(children(991), vec![12, 12, 7]);
    }

    #[test]
    fn batches_sit_in_their_nodes_slots_and_the_rest_is_empty() {
        let shape = TieredShape::new(TierSet::fit(8).unwrap(), vec![3, 2]).unwrap();
        // Level 0 nodes have 4 slots (2 bits), the top 2 (1 bit).
        let slots: Vec<u64> = (0..6).map(|batch| shape.batch_slot(batch)).collect();
        assert_eq!(slots, vec![0, 1, 2, 4, 5, 6]);
        assert_eq!(shape.empty_root(0), shape.empty_batch_root());
        let empty = shape.empty_batch_root();
        assert_eq!(shape.empty_root(1), binary_root(vec![empty; 4]));
        // The tree over the batch roots placed at their slots is the tree of
        // nodes of three children padded with empty roots.
        let roots: Vec<Hash> = (0..6u64).map(|i| Hash::from_partial(&[F::from_canonical_u64(i + 1)])).collect();
        let mut leaves = vec![empty; 8];
        for (batch, root) in roots.iter().enumerate() {
            leaves[shape.batch_slot(batch as u64) as usize] = *root;
        }
        assert_eq!(tiered_root(&roots, &shape), binary_root(leaves));
    }
}
