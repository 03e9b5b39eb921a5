//! Binary Merkle trees over the account tree's hashes, computed natively.
//!
//! `node = hash(Node, left ‖ right)` ([`crate::hash::node_hash`]). A batch's
//! leaves are a binary tree padded with its tier's padding leaf; every node
//! above the batches is a binary tree over its children's roots padded with
//! the empty root. Subtrees of padding alone have fixed roots and are never
//! stored.

use crate::Hash;
use crate::hash::node_hash;

/// Roots of subtrees of height `0..=depth` whose every leaf is `padding`.
pub fn padded_roots(padding: Hash, depth: usize) -> Vec<Hash> {
    let mut roots = vec![padding];
    for height in 0..depth {
        roots.push(node_hash(roots[height], roots[height]));
    }
    roots
}

/// Root of the binary tree over `nodes` followed by copies of `padding` up
/// to the next power of two.
pub fn padded_root(mut nodes: Vec<Hash>, padding: Hash) -> Hash {
    assert!(!nodes.is_empty(), "a Merkle tree needs a node");
    nodes.resize(nodes.len().next_power_of_two(), padding);
    while nodes.len() > 1 {
        nodes = nodes.chunks(2).map(|pair| node_hash(pair[0], pair[1])).collect();
    }
    nodes[0]
}

/// Recomputes a root from a leaf, its index and its siblings (lowest first).
pub fn root_from_path(leaf: Hash, index: u64, siblings: &[Hash]) -> Hash {
    siblings.iter().enumerate().fold(leaf, |node, (height, sibling)| {
        if (index >> height) & 1 == 0 { node_hash(node, *sibling) } else { node_hash(*sibling, node) }
    })
}

/// A binary tree of fixed height whose leaves are filled from the left:
/// only the non-padding prefix of every level is stored.
#[derive(Clone, Debug)]
pub struct BinaryTree {
    levels: Vec<Vec<Hash>>,
    padding: Vec<Hash>,
}

impl BinaryTree {
    /// Builds the tree of height `depth` over `leaves` (at most `2^depth`),
    /// padded with the leaf hash `padding`.
    pub fn new(leaves: Vec<Hash>, padding: Hash, depth: usize) -> Self {
        assert!(leaves.len() as u128 <= 1u128 << depth, "{} leaves exceed a tree of height {depth}", leaves.len());
        let padding = padded_roots(padding, depth);
        let mut levels = vec![leaves];
        for height in 0..depth {
            let below = &levels[height];
            let level = below
                .chunks(2)
                .map(|pair| node_hash(pair[0], pair.get(1).copied().unwrap_or(padding[height])))
                .collect();
            levels.push(level);
        }
        BinaryTree { levels, padding }
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
        usize::try_from(index).ok().and_then(|i| self.levels[height].get(i)).copied().unwrap_or(self.padding[height])
    }

    /// The stored (non-padding) nodes of one level.
    pub fn level(&self, height: usize) -> &[Hash] {
        &self.levels[height]
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
        let padding = leaf(99);
        let leaves: Vec<Hash> = (1..=5).map(leaf).collect();
        let tree = BinaryTree::new(leaves.clone(), padding, 4);
        for (index, leaf) in leaves.iter().enumerate() {
            assert_eq!(root_from_path(*leaf, index as u64, &tree.path(index as u64)), tree.root());
        }
        assert_eq!(root_from_path(padding, 11, &tree.path(11)), tree.root());
        assert_ne!(root_from_path(leaves[0], 1, &tree.path(0)), tree.root(), "the index matters");
        assert_eq!(tree.root(), padded_root([leaves, vec![padding; 11]].concat(), padding));
    }

    #[test]
    fn padding_subtrees_use_their_fixed_roots() {
        let padding = leaf(99);
        let full: Vec<Hash> = (1..=3).map(leaf).chain([padding]).collect();
        assert_eq!(
            BinaryTree::new((1..=3).map(leaf).collect(), padding, 2).root(),
            BinaryTree::new(full, padding, 2).root()
        );
        assert_eq!(BinaryTree::new(vec![], padding, 3).root(), padded_roots(padding, 3)[3]);
    }
}
