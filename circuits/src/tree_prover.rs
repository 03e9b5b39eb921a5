//! Proves a whole account tree in this process, tier by tier, following a
//! [`TreeLayout`]: batches, empty proofs where a node lacks children, then
//! every aggregation level up to the top proof.

use anyhow::{Context, Result};

use crate::batch::BatchWitness;
use crate::circuit_set::TreeCircuits;
use crate::layout::{Child, TreeLayout};
use crate::node::NodeProof;

/// A proof the tree prover just finished, for progress reporting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProofDone {
    /// Batch proof `index` of `of`.
    Batch { index: usize, of: usize },
    /// The empty proof of a tier (a subtree of padding accounts).
    Empty { tier: usize },
    /// Node `index` of `of` at tier `tier` (aggregation level `tier − 1`).
    Aggregation { tier: usize, index: usize, of: usize },
}

/// Proves every tier and returns the top proof. `batch(i)` supplies the
/// witness of batch `i`; `on_done` hears of every finished proof.
pub fn prove_tree(
    circuits: &TreeCircuits,
    layout: &TreeLayout,
    prices: &[u64],
    mut batch: impl FnMut(usize) -> Result<BatchWitness>,
    mut on_done: impl FnMut(ProofDone),
) -> Result<NodeProof> {
    let shape = *circuits.shape();
    let mut tier_proofs = Vec::with_capacity(layout.batches());
    for index in 0..layout.batches() {
        let witness = batch(index)?;
        tier_proofs.push(circuits.batch().prove(&witness).with_context(|| format!("batch {index}"))?);
        on_done(ProofDone::Batch { index, of: layout.batches() });
    }

    let mut empty: Option<NodeProof> = None;
    for tier in 1..=layout.levels() {
        let below = tier - 1;
        // An empty proof of this tier is needed here or to build one higher up.
        let wanted = (below..layout.levels()).any(|t| layout.needs_empty(t));
        empty = if !wanted {
            None
        } else if below == 0 {
            let proof = circuits.batch().prove(&BatchWitness::new(&shape, prices, &[])?).context("empty batch")?;
            on_done(ProofDone::Empty { tier: 0 });
            Some(proof)
        } else {
            let lower = empty.as_ref().expect("the empty proof of the tier below");
            let proof = circuits
                .aggregation(below - 1)
                .prove(&vec![lower; shape.arity()])
                .with_context(|| format!("empty proof of tier {below}"))?;
            on_done(ProofDone::Empty { tier: below });
            Some(proof)
        };

        let count = layout.nodes(tier);
        let mut next = Vec::with_capacity(count);
        for index in 0..count {
            let children: Vec<&NodeProof> = layout
                .children(tier, index)
                .into_iter()
                .map(|child| match child {
                    Child::Node(i) => &tier_proofs[i],
                    Child::Empty => empty.as_ref().expect("an empty proof where the layout needs one"),
                })
                .collect();
            let proof =
                circuits.aggregation(below).prove(&children).with_context(|| format!("node {index} of tier {tier}"))?;
            next.push(proof);
            on_done(ProofDone::Aggregation { tier, index, of: count });
        }
        tier_proofs = next;
    }
    Ok(tier_proofs.pop().expect("the top tier has one node"))
}
