//! The binary Merkle tree over account leaves, computed natively.
//!
//! Batches are subtrees of height `log2 B`, aggregation nodes add `log2 K`
//! levels each, so the whole account tree is one binary tree of height
//! [`crate::Shape::depth`] with `node = Poseidon(left ‖ right)`. Slots past
//! the last account hold padding leaves; their subtrees have fixed roots
//! ([`empty_roots`]) and are never stored.

use plonky2::hash::poseidon::PoseidonHash;
use plonky2::plonk::config::Hasher;

use crate::Hash;
use crate::account::AccountLeaf;

/// `Poseidon(left ‖ right)`.
pub fn node_hash(left: Hash, right: Hash) -> Hash {
    let mut inputs = [Default::default(); 8];
    inputs[..4].copy_from_slice(&left.elements);
    inputs[4..].copy_from_slice(&right.elements);
    PoseidonHash::hash_no_pad(&inputs)
}

/// Roots of all-padding subtrees of height `0..=depth` for `assets` slots.
pub fn empty_roots(assets: usize, depth: usize) -> Vec<Hash> {
    empty_roots_over(AccountLeaf::padding(assets).hash(), depth)
}

/// Roots of subtrees of height `0..=depth` whose every leaf is `padding`.
pub fn empty_roots_over(padding: Hash, depth: usize) -> Vec<Hash> {
    let mut roots = vec![padding];
    for height in 0..depth {
        roots.push(node_hash(roots[height], roots[height]));
    }
    roots
}

/// Recomputes a root from a leaf, its index and its siblings (lowest first).
pub fn root_from_path(leaf: Hash, index: u64, siblings: &[Hash]) -> Hash {
    siblings.iter().enumerate().fold(leaf, |node, (height, sibling)| {
        if (index >> height) & 1 == 0 { node_hash(node, *sibling) } else { node_hash(*sibling, node) }
    })
}

/// A tree of fixed height whose leaves are filled from the left: only the
/// non-padding prefix of every level is stored.
#[derive(Clone, Debug)]
pub struct AccountTree {
    levels: Vec<Vec<Hash>>,
    empty: Vec<Hash>,
}

impl AccountTree {
    /// Builds the tree of height `depth` over `leaves` (at most `2^depth`),
    /// padded with the padding leaf of `assets` slots.
    pub fn new(leaves: Vec<Hash>, assets: usize, depth: usize) -> Self {
        Self::padded_with(leaves, AccountLeaf::padding(assets).hash(), depth)
    }

    /// Builds the tree of height `depth` over `leaves` (at most `2^depth`),
    /// padded with the leaf hash `padding`.
    pub fn padded_with(leaves: Vec<Hash>, padding: Hash, depth: usize) -> Self {
        assert!(leaves.len() as u128 <= 1u128 << depth, "{} leaves exceed a tree of height {depth}", leaves.len());
        let empty = empty_roots_over(padding, depth);
        let mut levels = vec![leaves];
        for height in 0..depth {
            let below = &levels[height];
            let level =
                below.chunks(2).map(|pair| node_hash(pair[0], pair.get(1).copied().unwrap_or(empty[height]))).collect();
            levels.push(level);
        }
        AccountTree { levels, empty }
    }

    /// Height of the tree.
    pub fn depth(&self) -> usize {
        self.levels.len() - 1
    }

    /// The root.
    pub fn root(&self) -> Hash {
        self.node(self.depth(), 0)
    }

    /// The node at `height` (0 = leaves) and `index`, padding included.
    pub fn node(&self, height: usize, index: u64) -> Hash {
        usize::try_from(index).ok().and_then(|i| self.levels[height].get(i)).copied().unwrap_or(self.empty[height])
    }

    /// The stored (non-padding) nodes of one level.
    pub fn level(&self, height: usize) -> &[Hash] {
        &self.levels[height]
    }

    /// Root of the all-padding subtree of `height`.
    pub fn empty_root(&self, height: usize) -> Hash {
        self.empty[height]
    }

    /// The siblings of leaf `index`, lowest first.
    pub fn path(&self, index: u64) -> Vec<Hash> {
        (0..self.depth()).map(|height| self.node(height, (index >> height) ^ 1)).collect()
    }
}

#[cfg(test)]
mod tests {
    use plonky2::field::types::Field;

    use super::*;
    use crate::F;

    fn leaf(n: u64) -> Hash {
        Hash { elements: [F::from_canonical_u64(n), F::ONE, F::ZERO, F::ZERO] }
    }

    #[test]
    fn paths_lead_to_the_root() {
        let leaves: Vec<Hash> = (1..=5).map(leaf).collect();
        let tree = AccountTree::new(leaves.clone(), 2, 4);
        for (index, leaf) in leaves.iter().enumerate() {
            assert_eq!(root_from_path(*leaf, index as u64, &tree.path(index as u64)), tree.root());
        }
        let padding = AccountLeaf::padding(2).hash();
        assert_eq!(root_from_path(padding, 11, &tree.path(11)), tree.root());
        assert_ne!(root_from_path(leaves[0], 1, &tree.path(0)), tree.root(), "the index matters");
    }

    #[test]
    fn padding_subtrees_use_empty_roots() {
        let full: Vec<Hash> = (1..=3).map(leaf).chain([AccountLeaf::padding(2).hash()]).collect();
        let sparse = AccountTree::new((1..=3).map(leaf).collect(), 2, 2);
        let dense = AccountTree::new(full, 2, 2);
        assert_eq!(sparse.root(), dense.root());
        assert_eq!(AccountTree::new(vec![], 2, 3).root(), empty_roots(2, 3)[3]);
    }
}
