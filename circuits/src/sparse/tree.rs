//! The tiered account tree, computed natively: each batch is a binary tree
//! over its tier's leaves, and each aggregation node a binary tree over its
//! `K` children's roots, exactly as the circuits hash them. A user's path is
//! their batch path (of height `log2 B` of their tier) followed by the
//! aggregation paths above.

use super::leaf::SparseLeaf;
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

/// Root of one batch of `tier` holding `leaves`, padded with padding users.
pub fn batch_root(tier: Tier, leaves: &[SparseLeaf]) -> Hash {
    assert!(leaves.len() <= tier.batch_size, "{} users exceed tier {tier}", leaves.len());
    let padding = SparseLeaf::padding(tier.slots).hash();
    let mut hashes: Vec<Hash> = leaves.iter().map(SparseLeaf::hash).collect();
    hashes.resize(tier.batch_size, padding);
    binary_root(hashes)
}

/// Root of the whole tree over `batch_roots` in order, `levels` levels of
/// `arity` children; missing subtrees are empty, built from the root of an
/// empty batch of the first tier.
pub fn tiered_root(batch_roots: &[Hash], empty_batch_root: Hash, arity: usize, levels: usize) -> Hash {
    let mut nodes = batch_roots.to_vec();
    let mut empty = empty_batch_root;
    for _ in 0..levels {
        let count = nodes.len().div_ceil(arity).max(1);
        nodes.resize(count * arity, empty);
        nodes = nodes.chunks(arity).map(|children| binary_root(children.to_vec())).collect();
        empty = binary_root(vec![empty; arity]);
    }
    assert_eq!(nodes.len(), 1, "{} batches do not fit {levels} levels of {arity}", batch_roots.len());
    nodes[0]
}
