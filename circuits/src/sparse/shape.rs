//! The shape of a tiered account tree: its tiers and, per aggregation level,
//! how many child proofs a node verifies. It fixes every circuit of the tree
//! and every path length of a user's inclusion proof.
//!
//! A node of a level with `c` children hashes their roots as a binary tree
//! over `c` rounded up to a power of two: the slots past the children hold
//! the root of an empty subtree, a constant of the shape, so a node need not
//! verify a proof for them. Children per node are thus chosen for the
//! fewest proof rows ([`TieredShape::fit`]), not by powers of two, and the
//! top node verifies only the nodes there are.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::leaf::SparseLeaf;
use super::tier::{Tier, TierSet};
use super::tree::batch_root;
use crate::Hash;
use crate::merkle::empty_roots_over;
use crate::node::NodeInputs;
use crate::shape::MAX_ARITY;

/// Most children an aggregation node verifies unless a deployment says
/// otherwise: twelve verifications of a 2^14-row proof with their totals
/// (63,425 gates over 220 assets) fit an aggregation circuit of 2^16 rows,
/// where eight left a third of the rows unused.
pub const DEFAULT_MAX_CHILDREN: usize = 12;

/// Most aggregation levels of a tiered tree.
pub const MAX_LEVELS: usize = 8;

/// Rows (log2) of an aggregation node of `children` children over `assets`
/// assets whose children are proofs of `2^child_bits` rows: an estimate,
/// used to choose shapes, of the circuit that will be built. Measured over
/// 220 assets on children of 2^14 rows, one child's verification and its
/// share of the totals take about 5,276 gates (5,051 for one child, 31,659
/// for six, 63,320 for twelve), about 4,990 over 4 assets; a verification
/// grows by about 150 gates per doubling of the child's rows (its FRI
/// queries' Merkle paths). Building adds the public-input hash and constants.
pub fn node_rows(children: usize, assets: usize, child_bits: usize) -> usize {
    let per_child = (4_990 + assets * 13 / 10 + 150 * child_bits).saturating_sub(150 * 14);
    let gates = children * per_child + NodeInputs::<()>::len(assets).div_ceil(8) + 64;
    gates.next_power_of_two().trailing_zeros() as usize
}

/// The cheapest way to aggregate a level, found by trying every number of
/// children per node at every level.
struct ShapeSearch {
    assets: usize,
    batch_rows: u64,
    max_children: usize,
    /// Per (subtrees, level, rows (log2) of each subtree's proof).
    best: HashMap<(usize, usize, usize), Option<Plan>>,
}

/// A way to aggregate `n` subtrees into one: children per node from that
/// level up, and what it costs.
#[derive(Clone)]
struct Plan {
    children: Vec<usize>,
    rows: u64,
    proofs: usize,
}

impl Plan {
    fn key(&self) -> (u64, usize, usize, usize) {
        (self.rows, self.proofs, self.children.len(), self.children.first().copied().unwrap_or(0))
    }
}

impl ShapeSearch {
    /// The cheapest plan over `subtrees` proofs of `2^child_bits` rows at
    /// aggregation level `level`; `None` if it needs more than
    /// [`MAX_LEVELS`] levels.
    fn cheapest(&mut self, subtrees: usize, level: usize, child_bits: usize) -> Option<Plan> {
        if subtrees == 1 && level > 0 {
            return Some(Plan { children: Vec::new(), rows: 0, proofs: 0 });
        }
        if level == MAX_LEVELS {
            return None;
        }
        if let Some(plan) = self.best.get(&(subtrees, level, child_bits)) {
            return plan.clone();
        }
        // An empty subtree at this level: an empty batch, or a node over
        // empty subtrees of the level below (taken at the largest node).
        let empty = match level {
            0 => self.batch_rows,
            _ => self.batch_rows + (1 << node_rows(self.max_children, self.assets, child_bits)),
        };
        let smallest = if subtrees == 1 { 1 } else { 2 };
        let mut best: Option<Plan> = None;
        for children in smallest..=self.max_children.min(subtrees) {
            let nodes = subtrees.div_ceil(children);
            let bits = node_rows(children, self.assets, child_bits);
            let Some(above) = self.cheapest(nodes, level + 1, bits) else { continue };
            let missing = nodes * children > subtrees;
            let plan = Plan {
                rows: above.rows + nodes as u64 * (1 << bits) + if missing { empty } else { 0 },
                proofs: above.proofs + nodes + usize::from(missing),
                children: std::iter::once(children).chain(above.children).collect(),
            };
            if best.as_ref().is_none_or(|best| plan.key() < best.key()) {
                best = Some(plan);
            }
        }
        self.best.insert((subtrees, level, child_bits), best.clone());
        best
    }
}

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
    /// `max_children` per node that costs the fewest proof rows: every
    /// level's nodes, plus a proof of an empty subtree where a level's nodes
    /// hold more children than there are, with the node rows estimated by
    /// [`node_rows`]. A node's rows are a power of two, so a node of twelve
    /// children costs what two of six or four of three do; fewer, smaller
    /// nodes that leave no child missing often beat the fewest nodes (18
    /// batches take three nodes of six at 2^15 rows and a top of three,
    /// rather than two of nine at 2^16 and a top of two). Of equally costly
    /// shapes, the one of fewer proofs, then fewer levels, then fewer
    /// children at the lowest level wins. The top takes exactly the nodes
    /// below it.
    pub fn fit(tiers: TierSet, max_children: usize, batches: usize) -> Result<Self, TieredShapeError> {
        if !(2..=MAX_ARITY).contains(&max_children) {
            return Err(TieredShapeError::MaxChildren(max_children));
        }
        let mut fitting = ShapeSearch {
            assets: tiers.assets(),
            batch_rows: 1 << tiers.degree_bits(),
            max_children,
            best: HashMap::new(),
        };
        let plan = fitting
            .cheapest(batches.max(1), 0, tiers.degree_bits())
            .ok_or(TieredShapeError::TooManyBatches { batches, max_children })?;
        Self::new(tiers, plan.children)
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

    /// Height of one batch's subtree in tier `tier` ([`Tier::depth`]).
    pub fn batch_depth(&self, tier: Tier) -> usize {
        tier.depth()
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

    fn tiers() -> TierSet {
        let tier = |slots, batch_size| Tier { slots, batch_size };
        TierSet::new(8, 12, vec![tier(2, 12), tier(8, 4)]).unwrap()
    }

    #[test]
    fn checks_children_and_levels() {
        let tiers = tiers();
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
    fn fits_the_cheapest_shape_with_the_top_taking_what_is_left() {
        // The default tiers' rows and assets; their batch sizes do not matter.
        let tier = |slots, batch_size| Tier { slots, batch_size };
        let wide = TierSet::new(220, 14, vec![tier(2, 2400), tier(220, 45)]).unwrap();
        let children = |batches| TieredShape::fit(wide.clone(), 12, batches).unwrap().children;
        assert_eq!(children(1), vec![1]);
        assert_eq!(children(12), vec![12]);
        // Nodes of six fit 2^15 rows, of three 2^14: three nodes of six and
        // a top of three cost 7 × 2^14 rows, two of nine (2^16 rows) and a
        // top of two 9 × 2^14.
        assert_eq!(children(18), vec![6, 3]);
        // Five nodes of three (2^14 rows) and a top of five (2^15), not two
        // of eight (2^16) with an empty batch and a top of two.
        assert_eq!(children(15), vec![3, 5]);
        // Two nodes of ten (an empty batch) and a top of two cost what two
        // nodes of twelve do; the fewer children win.
        assert_eq!(children(19), vec![10, 2]);
        // Full nodes of twelve where the count allows.
        assert_eq!(children(840), vec![12, 10, 7]);
        assert_eq!(children(991), vec![12, 11, 8]);
    }

    #[test]
    fn batches_sit_in_their_nodes_slots_and_the_rest_is_empty() {
        let shape = TieredShape::new(tiers(), vec![3, 2]).unwrap();
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
