//! Which proofs a tree needs: how many nodes each tier has, which children
//! every aggregation node takes, and where proofs of empty subtrees fill in.
//!
//! Tier 0 holds the batch proofs; tier `t + 1` holds the nodes of aggregation
//! level `t`; tier `L` has exactly one node, the top.

use crate::Shape;

/// A child slot of an aggregation node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Child {
    /// The node of the tier below at this index.
    Node(usize),
    /// A subtree of padding accounts only: the empty proof of the tier below.
    Empty,
}

/// The proof tree of one snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeLayout {
    shape: Shape,
    batches: usize,
}

impl TreeLayout {
    /// The layout for `accounts` accounts, which must fit the shape.
    pub fn new(shape: Shape, accounts: usize) -> Self {
        assert!(accounts as u64 <= shape.capacity(), "{accounts} accounts exceed shape {shape}");
        TreeLayout { shape, batches: accounts.div_ceil(shape.batch_size()).max(1) }
    }

    /// The shape.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// Number of batch proofs.
    pub fn batches(&self) -> usize {
        self.batches
    }

    /// Number of tiers above the batches (`L`).
    pub fn levels(&self) -> usize {
        self.shape.levels()
    }

    /// Number of proofs in tier `tier` (0 = batches, `L` = top).
    pub fn nodes(&self, tier: usize) -> usize {
        (0..tier).fold(self.batches, |count, _| count.div_ceil(self.shape.arity()))
    }

    /// The children of node `index` of tier `tier` (at least 1).
    pub fn children(&self, tier: usize, index: usize) -> Vec<Child> {
        assert!((1..=self.levels()).contains(&tier), "tier {tier} has no children");
        let below = self.nodes(tier - 1);
        let arity = self.shape.arity();
        (index * arity..(index + 1) * arity).map(|i| if i < below { Child::Node(i) } else { Child::Empty }).collect()
    }

    /// Whether some node takes an empty proof of tier `tier` as a child.
    pub fn needs_empty(&self, tier: usize) -> bool {
        tier < self.levels() && self.nodes(tier) % self.shape.arity() != 0
    }

    /// Total proofs to make: batches, aggregation nodes and the empty proofs
    /// they need (statement and final not included).
    pub fn total_proofs(&self) -> usize {
        let nodes: usize = (0..=self.levels()).map(|t| self.nodes(t)).sum();
        nodes + self.empty_proofs()
    }

    /// Empty proofs needed: an empty proof of tier `t` needs one of every
    /// tier below it.
    pub fn empty_proofs(&self) -> usize {
        (0..self.levels()).rev().find(|&t| self.needs_empty(t)).map_or(0, |highest| highest + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_batch_in_a_tall_tree() {
        let layout = TreeLayout::new(Shape::new(4, 2, 2, 3).unwrap(), 3);
        assert_eq!((0..=3).map(|t| layout.nodes(t)).collect::<Vec<_>>(), vec![1, 1, 1, 1]);
        assert_eq!(layout.children(1, 0), vec![Child::Node(0), Child::Empty]);
        assert!(layout.needs_empty(0) && layout.needs_empty(2) && !layout.needs_empty(3));
        assert_eq!(layout.empty_proofs(), 3);
        assert_eq!(layout.total_proofs(), 4 + 3);
    }

    #[test]
    fn full_tree_needs_no_padding() {
        let layout = TreeLayout::new(Shape::new(4, 2, 2, 2).unwrap(), 16);
        assert_eq!(layout.batches(), 4);
        assert_eq!(layout.nodes(1), 2);
        assert_eq!(layout.children(2, 0), vec![Child::Node(0), Child::Node(1)]);
        assert_eq!(layout.empty_proofs(), 0);
    }

    #[test]
    fn partial_last_node() {
        let layout = TreeLayout::new(Shape::new(4, 2, 4, 2).unwrap(), 4 * 5);
        assert_eq!(layout.nodes(1), 2);
        assert_eq!(layout.children(1, 1), vec![Child::Node(4), Child::Empty, Child::Empty, Child::Empty]);
        assert_eq!(layout.children(2, 0), vec![Child::Node(0), Child::Node(1), Child::Empty, Child::Empty]);
        assert_eq!(layout.empty_proofs(), 2);
    }

    #[test]
    fn no_accounts_still_has_one_batch() {
        assert_eq!(TreeLayout::new(Shape::TINY, 0).batches(), 1);
    }
}
