//! Proves a tiered account tree in this process: the batches in order (each
//! of some tier), then every aggregation level up to the top proof. A node
//! short of children takes proofs of empty subtrees, which are real proofs
//! of padding users.

use anyhow::{Context, Result};

use super::batch::TierBatchWitness;
use super::circuits::TieredCircuits;
use crate::node::NodeProof;

/// A proof the tiered prover just finished, for progress reporting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TieredProofDone {
    /// Batch `index` of `of`.
    Batch {
        /// Position of the batch.
        index: usize,
        /// Batches in all.
        of: usize,
    },
    /// The proof of an empty subtree at a level (0: an empty batch).
    Empty {
        /// Its level.
        level: usize,
    },
    /// Node `index` of `of` at aggregation level `level`.
    Aggregation {
        /// The level.
        level: usize,
        /// Position of the node.
        index: usize,
        /// Nodes of the level.
        of: usize,
    },
}

/// Proves `batches` tier-tagged witnesses and every level above them;
/// `prices` are the batch prices (for the empty batch); `on_done` hears of
/// every finished proof.
pub fn prove_tiered_tree(
    circuits: &TieredCircuits,
    batches: impl ExactSizeIterator<Item = Result<(usize, TierBatchWitness)>>,
    prices: &[u64],
    mut on_done: impl FnMut(TieredProofDone),
) -> Result<NodeProof> {
    let arity = circuits.arity();
    let total = batches.len();
    let mut level_proofs: Vec<(usize, NodeProof)> = Vec::with_capacity(total);
    for (index, batch) in batches.enumerate() {
        let (tier, witness) = batch?;
        let proof = circuits.batch(tier).prove(&witness).with_context(|| format!("batch {index}"))?;
        level_proofs.push((tier, proof));
        on_done(TieredProofDone::Batch { index, of: total });
    }

    let mut empty: Option<(usize, NodeProof)> = None;
    for level in 0..circuits.levels() {
        let nodes = level_proofs.len().div_ceil(arity).max(1);
        if empty.is_none() && nodes * arity > level_proofs.len() {
            empty = Some(empty_proof(circuits, level, prices, &mut on_done)?);
        }
        let mut next = Vec::with_capacity(nodes);
        for index in 0..nodes {
            let children: Vec<(usize, &NodeProof)> = (0..arity)
                .map(|slot| {
                    let (circuit, proof) = level_proofs
                        .get(index * arity + slot)
                        .or(empty.as_ref())
                        .expect("an empty proof where a node lacks children");
                    (*circuit, proof)
                })
                .collect();
            let proof = circuits
                .aggregation(level)
                .prove_indexed(&children)
                .with_context(|| format!("node {index} of aggregation level {level}"))?;
            next.push((0, proof));
            on_done(TieredProofDone::Aggregation { level, index, of: nodes });
        }
        level_proofs = next;
        // The empty proof of the next level up, if one was needed here.
        if let Some((_, lower)) = empty.take()
            && level + 1 < circuits.levels()
        {
            let children: Vec<&NodeProof> = vec![&lower; arity];
            let proof = circuits.aggregation(level).prove(&children).context("an empty subtree")?;
            on_done(TieredProofDone::Empty { level: level + 1 });
            empty = Some((0, proof));
        }
    }
    anyhow::ensure!(level_proofs.len() == 1, "{} batches do not fit {} levels", total, circuits.levels());
    Ok(level_proofs.pop().expect("one top proof").1)
}

/// The proof of an empty subtree whose root is at `level` (0: an empty
/// batch of the first tier).
fn empty_proof(
    circuits: &TieredCircuits,
    level: usize,
    prices: &[u64],
    on_done: &mut impl FnMut(TieredProofDone),
) -> Result<(usize, NodeProof)> {
    let tier = circuits.tiers().tier(0);
    let mut proof = circuits.batch(0).prove(&TierBatchWitness::new(tier, prices, &[])?).context("an empty batch")?;
    on_done(TieredProofDone::Empty { level: 0 });
    for below in 0..level {
        let children = vec![&proof; circuits.arity()];
        proof = circuits.aggregation(below).prove(&children).context("an empty subtree")?;
        on_done(TieredProofDone::Empty { level: below + 1 });
    }
    Ok((0, proof))
}
