//! Proves a tiered account tree in this process: the batches in order (each
//! of some tier), then every aggregation level up to the top proof. A node
//! short of children takes proofs of empty subtrees, which are real proofs
//! of padding users; the hash slots past a node's children hold the root of
//! an empty subtree without a proof.
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
use super::shape::TieredShape;
use super::tree::node_root;
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
    let mut run = Run {
        circuits,
        prices,
        commitment: prices_commitment(prices),
        store,
        on_done: &mut on_done,
        empties: Vec::new(),
    };
    let shape = circuits.shape();
    let total = batches.len();
    let mut level_proofs: Vec<(usize, NodeProof)> = Vec::with_capacity(total);
    for (index, batch) in batches.enumerate() {
        let (tier, witness) = batch?;
        let circuit = circuits.batch(tier)?;
        let proof = run.obtain(
            ProofKey::Batch(index),
            circuit.data(),
            || witness.root(),
            || circuit.prove(&witness).with_context(|| format!("batch {index}")),
            TieredProofDone::Batch { index, of: total },
        )?;
        level_proofs.push((tier, proof));
    }

    for level in 0..shape.levels() {
        let children = shape.children(level);
        let nodes = level_proofs.len().div_ceil(children).max(1);
        // Batch proofs name their tier's circuit; empty ones are of tier 0.
        let empty = if nodes * children > level_proofs.len() { Some((0, run.empty(level)?)) } else { None };
        let aggregation = circuits.aggregation(level)?;
        let padding = shape.empty_root(level);
        let mut next = Vec::with_capacity(nodes);
        for index in 0..nodes {
            let node_children: Vec<(usize, &NodeProof)> = (0..children)
                .map(|slot| {
                    let (circuit, proof) = level_proofs
                        .get(index * children + slot)
                        .or(empty.as_ref())
                        .expect("an empty proof where a node lacks children");
                    (*circuit, proof)
                })
                .collect();
            let root = || node_root(node_children.iter().map(|(_, proof)| root_of(proof, circuits)).collect(), padding);
            let proof = run.obtain(
                ProofKey::Node { level, index },
                aggregation.data(),
                root,
                || aggregation.prove_indexed(&node_children).with_context(|| format!("node {index} of level {level}")),
                TieredProofDone::Aggregation { level, index, of: nodes },
            )?;
            next.push((0, proof));
        }
        level_proofs = next;
    }
    ensure!(level_proofs.len() == 1, "{total} batches do not fit shape {shape}");
    Ok(level_proofs.pop().expect("one top proof").1)
}

/// How many aggregation and empty-subtree proofs [`prove_tiered_tree`]
/// makes above `batches` batch proofs in a tree of `shape`.
pub fn aggregation_proofs(batches: usize, shape: &TieredShape) -> usize {
    let (mut proofs, mut count, mut empties) = (0, batches, 0);
    for level in 0..shape.levels() {
        let children = shape.children(level);
        let nodes = count.div_ceil(children).max(1);
        if nodes * children > count {
            // The empty subtrees of every level up to this one.
            empties = level + 1;
        }
        proofs += nodes;
        count = nodes;
    }
    proofs + empties
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
    /// Proofs of empty subtrees made so far, by level (0: an empty batch).
    empties: Vec<NodeProof>,
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
        if let Some(proof) = self.reuse(key, circuit, root)? {
            return Ok(proof);
        }
        let proof = prove()?;
        self.keep(key, &proof, done)?;
        Ok(proof)
    }

    /// The stored proof of `key`, if there is one that checks out against
    /// `root` (computed only then).
    fn reuse(
        &mut self,
        key: ProofKey,
        circuit: &CircuitData<F, C, D>,
        root: impl FnOnce() -> Hash,
    ) -> Result<Option<NodeProof>> {
        let Some(bytes) = self.store.load(key).with_context(|| format!("reading the stored proof {key}"))? else {
            return Ok(None);
        };
        match self.check(bytes, circuit, root()) {
            Ok(proof) => {
                (self.on_done)(TieredProofDone::Reused(key));
                Ok(Some(proof))
            }
            Err(err) => {
                tracing::warn!(%key, "a stored proof is not reused: {err:#}");
                Ok(None)
            }
        }
    }

    /// Keeps a proof just made in the store and reports it.
    fn keep(&mut self, key: ProofKey, proof: &NodeProof, done: TieredProofDone) -> Result<()> {
        self.store.save(key, &proof.to_bytes()).with_context(|| format!("keeping the proof {key}"))?;
        (self.on_done)(done);
        Ok(())
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

    /// The proof of an empty subtree under a node of `level` (0: an empty
    /// batch of the first tier), made once and kept for the run.
    fn empty(&mut self, level: usize) -> Result<NodeProof> {
        while self.empties.len() <= level {
            let proof = match self.empties.last() {
                None => self.empty_batch()?,
                Some(lower) => {
                    let lower = lower.clone();
                    self.empty_above(self.empties.len() - 1, &lower)?
                }
            };
            self.empties.push(proof);
        }
        Ok(self.empties[level].clone())
    }

    /// The proof of a batch of the first tier without users.
    fn empty_batch(&mut self) -> Result<NodeProof> {
        let tier = self.circuits.tiers().tier(0);
        let witness = TierBatchWitness::new(tier, self.prices, &[])?;
        let circuit = self.circuits.batch(0)?;
        self.obtain(
            ProofKey::Empty(0),
            circuit.data(),
            || witness.root(),
            || circuit.prove(&witness).context("an empty batch"),
            TieredProofDone::Empty { level: 0 },
        )
    }

    /// The empty node of `level`, all of whose children are `lower`.
    fn empty_above(&mut self, level: usize, lower: &NodeProof) -> Result<NodeProof> {
        let aggregation = self.circuits.aggregation(level)?;
        let shape = self.circuits.shape();
        let children = shape.children(level);
        let padding = shape.empty_root(level);
        let circuits = self.circuits;
        let root = || node_root(vec![root_of(lower, circuits); children], padding);
        self.obtain(
            ProofKey::Empty(level + 1),
            aggregation.data(),
            root,
            || aggregation.prove(&vec![lower; children]).context("an empty subtree"),
            TieredProofDone::Empty { level: level + 1 },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sparse::tier::{Tier, TierSet};

    #[test]
    fn counts_the_proofs_above_the_batches() {
        let tiers = TierSet::new(4, 12, vec![Tier { slots: 4, batch_size: 6 }]).unwrap();
        let proofs = |batches, children: &[usize]| {
            let shape = TieredShape::new(tiers.clone(), children.to_vec()).unwrap();
            aggregation_proofs(batches, &shape)
        };
        // 3 batches under nodes of two: two nodes, then the top; an empty
        // batch fills the second node.
        assert_eq!(proofs(3, &[2, 2]), 4);
        assert_eq!(proofs(8, &[8]), 1);
        assert_eq!(proofs(64, &[8, 8]), 9);
        assert_eq!(proofs(1, &[1]), 1);
        // 19 batches under nodes of twelve: two nodes and an empty batch,
        // then a top of two.
        assert_eq!(proofs(19, &[12, 2]), 4);
        // 991 batches: 83 nodes, 7, 1; empty subtrees of levels 0 and 1.
        assert_eq!(proofs(991, &[12, 12, 7]), 83 + 7 + 1 + 2);
    }
}
