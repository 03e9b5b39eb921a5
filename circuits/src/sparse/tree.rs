//! The tiered account tree, computed natively: each batch is a binary tree
//! over its tier's leaves (padded to a power of two with padding users), and
//! each aggregation node a binary tree over its children's roots (padded to
//! a power of two with empty roots), exactly as the circuits hash them. A
//! user's path is their batch path (of height [`Tier::depth`]) followed by
//! the aggregation paths above.

use super::leaf::SparseLeaf;
use super::shape::TieredShape;
use super::tier::Tier;
use crate::Hash;
use crate::merkle::node_hash;

/// Root of a complete binary tree over `nodes` (a power of two of them).
pub fn binary_root(mut nodes: Vec<Hash>) -> Hash {
    assert!(nodes.len().is_power_of_two(), "{} nodes", nodes.len());
    while nodes.len() > 1 {
        nodes = nodes.chunks(2).map(|pair| node_hash(pair[0], pair[1])).collect();
    }
    nodes[0]
}

/// Root of one batch of `tier` holding `leaves`: a binary tree of
/// [`Tier::leaf_slots`] leaves, those past the users holding the padding
/// user's leaf.
pub fn batch_root(tier: Tier, leaves: &[SparseLeaf]) -> Hash {
    assert!(leaves.len() <= tier.batch_size, "{} users exceed tier {tier}", leaves.len());
    let padding = SparseLeaf::padding(tier.slots).hash();
    let mut hashes: Vec<Hash> = leaves.iter().map(SparseLeaf::hash).collect();
    hashes.resize(tier.leaf_slots(), padding);
    binary_root(hashes)
}

/// Root of a node over its children's `roots`, the hash slots past them up
/// to a power of two holding `empty`.
pub fn node_root(mut roots: Vec<Hash>, empty: Hash) -> Hash {
    roots.resize(roots.len().next_power_of_two(), empty);
    binary_root(roots)
}

/// Root of the whole tree of `shape` over `batch_roots` in order; nodes
/// short of children, and the slots past a node's children, hold empty
/// subtrees built from the root of an empty batch of the first tier.
pub fn tiered_root(batch_roots: &[Hash], shape: &TieredShape) -> Hash {
    let mut nodes = batch_roots.to_vec();
    for level in 0..shape.levels() {
        let (children, empty) = (shape.children(level), shape.empty_root(level));
        let count = nodes.len().div_ceil(children).max(1);
        nodes.resize(count * children, empty);
        nodes = nodes.chunks(children).map(|roots| node_root(roots.to_vec(), empty)).collect();
    }
    assert_eq!(nodes.len(), 1, "{} batches do not fit shape {shape}", batch_roots.len());
    nodes[0]
}
