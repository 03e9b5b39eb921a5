//! Proves a tiered account tree in this process: the batches in order (each
//! of some tier), then every aggregation level up to the top proof. A node
//! short of children takes proofs of empty subtrees, which are real proofs
//! of padding users.
//!
//! Every finished proof goes to a [`ProofStore`]; a later run over the same
//! snapshot reuses each stored proof that verifies against its circuit and
//! carries the root and prices commitment that run expects, and proves the
//! rest. An interrupted run thus resumes where it stopped.

use anyhow::{Context, Result, ensure};
use plonky2::plonk::circuit_data::CircuitData;

use super::batch::TierBatchWitness;
use super::circuits::TieredCircuits;
use super::proof_store::{ProofKey, ProofStore};
use super::tree::binary_root;
use crate::node::{NodeInputs, NodeProof};
use crate::statement::prices_commitment;
use crate::{C, D, F, Hash};

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
    /// A proof of an earlier run, checked and reused.
    Reused(ProofKey),
}

/// Proves `batches` tier-tagged witnesses and every level above them;
/// `prices` are the batch prices; finished proofs go to `store`, which is
/// also where proofs of an earlier run are looked for; `on_done` hears of
/// every proof made or reused.
pub fn prove_tiered_tree(
    circuits: &TieredCircuits,
    batches: impl ExactSizeIterator<Item = Result<(usize, TierBatchWitness)>>,
    prices: &[u64],
    store: &mut dyn ProofStore,
    mut on_done: impl FnMut(TieredProofDone),
) -> Result<NodeProof> {
    let mut run = Run { circuits, prices, commitment: prices_commitment(prices), store, on_done: &mut on_done };
    let arity = circuits.arity();
    let total = batches.len();
    let mut level_proofs: Vec<(usize, NodeProof)> = Vec::with_capacity(total);
    for (index, batch) in batches.enumerate() {
        let (tier, witness) = batch?;
        let circuit = circuits.batch(tier);
        let proof = run.obtain(
            ProofKey::Batch(index),
            circuit.data(),
            || witness.root(),
            || circuit.prove(&witness).with_context(|| format!("batch {index}")),
            TieredProofDone::Batch { index, of: total },
        )?;
        level_proofs.push((tier, proof));
    }

    let mut empty: Option<(usize, NodeProof)> = None;
    for level in 0..circuits.levels() {
        let nodes = level_proofs.len().div_ceil(arity).max(1);
        if empty.is_none() && nodes * arity > level_proofs.len() {
            empty = Some((0, run.empty(level)?));
        }
        let aggregation = circuits.aggregation(level);
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
            let root = || binary_root(children.iter().map(|(_, proof)| root_of(proof, circuits)).collect());
            let proof = run.obtain(
                ProofKey::Node { level, index },
                aggregation.data(),
                root,
                || aggregation.prove_indexed(&children).with_context(|| format!("node {index} of level {level}")),
                TieredProofDone::Aggregation { level, index, of: nodes },
            )?;
            next.push((0, proof));
        }
        level_proofs = next;
        // The empty proof of the next level up, if one was needed here.
        if let Some((_, lower)) = empty.take()
            && level + 1 < circuits.levels()
        {
            empty = Some((0, run.empty_above(level, &lower)?));
        }
    }
    ensure!(level_proofs.len() == 1, "{total} batches do not fit {} levels", circuits.levels());
    Ok(level_proofs.pop().expect("one top proof").1)
}

/// How many aggregation and empty-subtree proofs [`prove_tiered_tree`]
/// makes above `batches` batch proofs at `arity` over `levels` levels.
pub fn aggregation_proofs(batches: usize, arity: usize, levels: usize) -> usize {
    let (mut proofs, mut count, mut short) = (0, batches, false);
    for _ in 0..levels {
        let nodes = count.div_ceil(arity).max(1);
        short |= nodes * arity > count;
        proofs += nodes;
        count = nodes;
    }
    // One empty proof per level once any node lacks children.
    proofs + if short { levels } else { 0 }
}

fn root_of(proof: &NodeProof, circuits: &TieredCircuits) -> Hash {
    NodeInputs::of(proof, circuits.tiers().assets()).root_hash()
}

/// One proving run: the circuits, the store and the listener.
struct Run<'a> {
    circuits: &'a TieredCircuits,
    prices: &'a [u64],
    commitment: Hash,
    store: &'a mut dyn ProofStore,
    on_done: &'a mut dyn FnMut(TieredProofDone),
}

impl Run<'_> {
    /// The stored proof of `key` if it checks out against the expected
    /// `root` (computed only when there is a stored proof), else a new one,
    /// kept.
    fn obtain(
        &mut self,
        key: ProofKey,
        circuit: &CircuitData<F, C, D>,
        root: impl FnOnce() -> Hash,
        prove: impl FnOnce() -> Result<NodeProof>,
        done: TieredProofDone,
    ) -> Result<NodeProof> {
        if let Some(bytes) = self.store.load(key).with_context(|| format!("reading the stored proof {key}"))? {
            match self.check(bytes, circuit, root()) {
                Ok(proof) => {
                    (self.on_done)(TieredProofDone::Reused(key));
                    return Ok(proof);
                }
                Err(err) => tracing::warn!(%key, "a stored proof is not reused: {err:#}"),
            }
        }
        let proof = prove()?;
        self.store.save(key, &proof.to_bytes()).with_context(|| format!("keeping the proof {key}"))?;
        (self.on_done)(done);
        Ok(proof)
    }

    /// A stored proof that verifies and carries `root` and this run's prices.
    fn check(&self, bytes: Vec<u8>, circuit: &CircuitData<F, C, D>, root: Hash) -> Result<NodeProof> {
        let proof = NodeProof::from_bytes(bytes, &circuit.common).context("not a proof of this circuit")?;
        let inputs = NodeInputs::of(&proof, self.circuits.tiers().assets());
        ensure!(inputs.root_hash() == root, "it has another root");
        ensure!(inputs.prices_commitment_hash() == self.commitment, "it was made at other prices");
        circuit.verify(proof.clone()).context("it does not verify")?;
        Ok(proof)
    }

    /// The proof of an empty subtree whose root is at `level` (0: an empty
    /// batch of the first tier).
    fn empty(&mut self, level: usize) -> Result<NodeProof> {
        let tier = self.circuits.tiers().tier(0);
        let witness = TierBatchWitness::new(tier, self.prices, &[])?;
        let circuit = self.circuits.batch(0);
        let mut proof = self.obtain(
            ProofKey::Empty(0),
            circuit.data(),
            || witness.root(),
            || circuit.prove(&witness).context("an empty batch"),
            TieredProofDone::Empty { level: 0 },
        )?;
        for below in 0..level {
            proof = self.empty_above(below, &proof)?;
        }
        Ok(proof)
    }

    /// The empty subtree one level above `lower`, the empty proof at `level`.
    fn empty_above(&mut self, level: usize, lower: &NodeProof) -> Result<NodeProof> {
        let aggregation = self.circuits.aggregation(level);
        let arity = self.circuits.arity();
        let circuits = self.circuits;
        let root = || binary_root(vec![root_of(lower, circuits); arity]);
        self.obtain(
            ProofKey::Empty(level + 1),
            aggregation.data(),
            root,
            || aggregation.prove(&vec![lower; arity]).context("an empty subtree"),
            TieredProofDone::Empty { level: level + 1 },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_proofs_above_the_batches() {
        // 3 batches at arity 2: two nodes, then the top; an empty batch and
        // an empty level-1 subtree fill the gaps.
        assert_eq!(aggregation_proofs(3, 2, 2), 5);
        assert_eq!(aggregation_proofs(8, 8, 1), 1);
        assert_eq!(aggregation_proofs(64, 8, 2), 9);
        assert_eq!(aggregation_proofs(1, 8, 1), 2);
        assert_eq!(aggregation_proofs(9, 8, 3), 2 + 1 + 1 + 3);
    }
}
