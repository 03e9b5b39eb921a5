//! The shape of a family's tree over a number of batches, and its roots
//! computed natively.
//!
//! Batches are taken in order by nodes over batches, `K_b` at a time (the
//! last node takes what is left); while more nodes remain than the top
//! takes, they are taken by nodes over nodes, `K_n` at a time; the top node
//! takes the rest. A node hashes its children's roots as a binary tree over
//! its children slots rounded up to a power of two, every slot past its
//! children holding the empty root ([`crate::aggregation::node_root`]).
//! A user's path is thus the path in their batch, then, per node level, the
//! path of their subtree's root among its node's slots.

use serde::{Deserialize, Serialize};

use crate::Hash;
use crate::aggregation::{NodeChild, NodeKind, node_root};
use crate::family::Family;
use crate::hash::node_hash;

/// The node levels above a number of batches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreeShape {
    /// Batches at the bottom.
    pub batches: usize,
    /// Per node level, from the bottom: children slots of its nodes. The
    /// first level's nodes are over batches, the last level is the top.
    pub slots: Vec<usize>,
}

impl TreeShape {
    /// The shape of `family`'s tree over `batches` batches (at least one).
    pub fn new(family: &Family, batches: usize) -> Self {
        let batches = batches.max(1);
        let mut slots = vec![family.batch_children()];
        let mut count = batches.div_ceil(family.batch_children());
        while count > family.top_children() {
            slots.push(family.node_children());
            count = count.div_ceil(family.node_children());
        }
        slots.push(family.top_children());
        TreeShape { batches, slots }
    }

    /// Node levels, the top included.
    pub fn levels(&self) -> usize {
        self.slots.len()
    }

    /// The top level.
    pub fn top_level(&self) -> usize {
        self.slots.len() - 1
    }

    /// Nodes at `level`.
    pub fn nodes(&self, level: usize) -> usize {
        self.slots[..=level].iter().fold(self.batches, |count, &slots| count.div_ceil(slots))
    }

    /// Subtrees below `level`: batches for level 0, else nodes of the level
    /// below.
    pub fn below(&self, level: usize) -> usize {
        if level == 0 { self.batches } else { self.nodes(level - 1) }
    }

    /// The children of node `index` of `level`: a range of the subtrees
    /// below it.
    pub fn children(&self, level: usize, index: usize) -> std::ops::Range<usize> {
        let slots = self.slots[level];
        let start = index * slots;
        start..(start + slots).min(self.below(level))
    }

    /// Which node circuit the nodes of `level` are proven with.
    pub fn kind(&self, level: usize) -> NodeKind {
        if level == self.top_level() {
            NodeKind::Top
        } else if level == 0 {
            NodeKind::OverBatches
        } else {
            NodeKind::OverNodes
        }
    }

    /// Which circuit the children of a node of `level ≥ 1` are proofs of.
    pub fn child_kind(&self, level: usize) -> NodeChild {
        if level <= 1 { NodeChild::OverBatches } else { NodeChild::OverNodes }
    }

    /// Height of the binary tree inside a node of `level`.
    pub fn node_depth(&self, level: usize) -> usize {
        self.slots[level].next_power_of_two().trailing_zeros() as usize
    }
}

/// The roots of every node of a tree, from the batch roots up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpperTree {
    shape: TreeShape,
    /// Level 0: the batch roots; level `l + 1`: the roots of node level `l`.
    roots: Vec<Vec<Hash>>,
}

impl UpperTree {
    /// The tree of `shape` over `batch_roots`.
    pub fn new(shape: TreeShape, batch_roots: Vec<Hash>) -> Self {
        assert_eq!(batch_roots.len(), shape.batches, "one root per batch");
        let mut roots = vec![batch_roots];
        for level in 0..shape.levels() {
            let below = &roots[level];
            let level_roots = (0..shape.nodes(level))
                .map(|index| node_root(&below[shape.children(level, index)], shape.slots[level]))
                .collect();
            roots.push(level_roots);
        }
        UpperTree { shape, roots }
    }

    /// The tree from its stored roots, each level checked against the one
    /// below.
    pub fn from_roots(shape: TreeShape, roots: Vec<Vec<Hash>>) -> Result<Self, String> {
        let tree = UpperTree::new(shape, roots.first().cloned().ok_or("no batch roots")?);
        if tree.roots != roots {
            return Err("the stored node roots are not the tree of the batch roots".into());
        }
        Ok(tree)
    }

    /// The shape.
    pub fn shape(&self) -> &TreeShape {
        &self.shape
    }

    /// The root of the whole tree.
    pub fn root(&self) -> Hash {
        self.roots[self.shape.levels()][0]
    }

    /// Roots per level: the batch roots, then each node level's.
    pub fn roots(&self) -> &[Vec<Hash>] {
        &self.roots
    }

    /// The path from the root of batch `batch` up to the root: per node
    /// level, the subtree's slot in its node and the siblings inside it.
    pub fn path(&self, batch: usize) -> Vec<NodePath> {
        let mut index = batch;
        (0..self.shape.levels())
            .map(|level| {
                let slots = self.shape.slots[level];
                let (node, slot) = (index / slots, index % slots);
                let mut children = self.roots[level][self.shape.children(level, node)].to_vec();
                children.resize(slots.next_power_of_two(), crate::hash::empty_root());
                index = node;
                NodePath { slot, siblings: siblings(children, slot) }
            })
            .collect()
    }
}

/// One node level of a path: the slot of the subtree in its node, and its
/// siblings in the node's binary tree, lowest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodePath {
    /// The slot.
    pub slot: usize,
    /// The siblings.
    pub siblings: Vec<Hash>,
}

/// The siblings of leaf `index` in the binary tree over `leaves` (a power of
/// two of them), lowest first.
fn siblings(mut leaves: Vec<Hash>, mut index: usize) -> Vec<Hash> {
    let mut out = Vec::new();
    while leaves.len() > 1 {
        out.push(leaves[index ^ 1]);
        leaves = leaves.chunks(2).map(|pair| node_hash(pair[0], pair[1])).collect();
        index /= 2;
    }
    out
}

#[cfg(test)]
mod tests {
    use plonky2::field::types::Field;

    use super::*;
    use crate::F;
    use crate::merkle::root_from_path;
    use crate::tier::{Tier, TierSet};

    fn family(batch: usize, node: usize, top: usize) -> Family {
        let tiers = TierSet::new(4, 10, vec![Tier { slots: 4, batch_size: 4 }]).unwrap();
        Family::new("test", tiers, batch, node, top, 14, 30).unwrap()
    }

    #[test]
    fn shapes_take_batches_then_nodes_up_to_a_top() {
        let shape = |batches| TreeShape::new(&family(7, 7, 3), batches).slots;
        assert_eq!(shape(1), vec![7, 3]);
        assert_eq!(shape(21), vec![7, 3], "three full nodes under the top");
        assert_eq!(shape(22), vec![7, 7, 3]);
        assert_eq!(shape(845), vec![7, 7, 7, 3], "121, 18 and 3 nodes, then the top");
        let tree = TreeShape::new(&family(7, 7, 3), 845);
        assert_eq!((tree.nodes(0), tree.nodes(1), tree.nodes(2), tree.nodes(3)), (121, 18, 3, 1));
        assert_eq!(tree.children(0, 120), 840..845);
        assert_eq!(tree.children(3, 0), 0..3);
        assert_eq!(
            (0..4).map(|level| tree.kind(level)).collect::<Vec<_>>(),
            [NodeKind::OverBatches, NodeKind::OverNodes, NodeKind::OverNodes, NodeKind::Top]
        );
        assert_eq!((tree.child_kind(1), tree.child_kind(2)), (NodeChild::OverBatches, NodeChild::OverNodes));
    }

    #[test]
    fn every_batch_path_leads_to_the_root() {
        let shape = TreeShape::new(&family(3, 2, 2), 11);
        assert_eq!(shape.slots, vec![3, 2, 2]);
        let roots: Vec<Hash> = (0..11u64).map(|i| Hash::from_partial(&[F::from_canonical_u64(i + 1)])).collect();
        let tree = UpperTree::new(shape.clone(), roots.clone());
        for (batch, &root) in roots.iter().enumerate() {
            let mut node = root;
            for part in tree.path(batch) {
                node = root_from_path(node, part.slot as u64, &part.siblings);
            }
            assert_eq!(node, tree.root(), "batch {batch}");
        }
        assert_eq!(UpperTree::from_roots(shape.clone(), tree.roots().to_vec()), Ok(tree.clone()));
        let mut tampered = tree.roots().to_vec();
        tampered[1][0] = roots[0];
        assert!(UpperTree::from_roots(shape, tampered).is_err());
    }
}
