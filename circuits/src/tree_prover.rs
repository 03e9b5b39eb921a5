//! Proves a family's tree in this process: the batches in order (each of
//! some tier), then every node level up to the top proof.
//!
//! Every finished proof goes to a [`ProofStore`]; a later run over the same
//! snapshot reuses each stored proof that verifies against its circuit and
//! carries the root and prices commitment that run expects, and proves the
//! rest. An interrupted run thus resumes where it stopped.

use anyhow::{Context, Result, ensure};
use plonky2::plonk::circuit_data::CircuitData;

use crate::aggregation::{NodeKind, node_root};
use crate::batch::TierBatchWitness;
use crate::circuits::FamilyCircuits;
use crate::node::{NodeInputs, NodeProof};
use crate::proof_store::{ProofKey, ProofStore};
use crate::statement::prices_commitment;
use crate::tree::TreeShape;
use crate::{C, D, F, Hash};

/// A proof the tree prover just finished, for progress reporting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProofDone {
    /// Batch `index` of `of`.
    Batch {
        /// Position of the batch.
        index: usize,
        /// Batches in all.
        of: usize,
    },
    /// Node `index` of `of` at node level `level`.
    Node {
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

/// Proves `batches` tier-tagged witnesses and every node level above them;
/// `prices` are the batch prices (the family's asset slots); finished
/// proofs go to `store`, which is also where proofs of an earlier run are
/// looked for; `on_done` hears of every proof made or reused. Returns the
/// top proof.
pub fn prove_tree(
    circuits: &FamilyCircuits,
    batches: impl ExactSizeIterator<Item = Result<(usize, TierBatchWitness)>>,
    prices: &[u64],
    store: &mut dyn ProofStore,
    mut on_done: impl FnMut(ProofDone),
) -> Result<NodeProof> {
    let shape = TreeShape::new(circuits.family(), batches.len());
    let mut run = Run { circuits, commitment: prices_commitment(prices), store, on_done: &mut on_done };
    let total = batches.len();
    // Per subtree of the level below: the index of its circuit and its proof.
    let mut below: Vec<(usize, NodeProof)> = Vec::with_capacity(total);
    for (index, batch) in batches.enumerate() {
        let (tier, witness) = batch?;
        let circuit = circuits.tier(tier)?;
        let proof = run.obtain(
            ProofKey::Batch(index),
            circuit.data(),
            || witness.root(),
            || circuit.prove(&witness).with_context(|| format!("batch {index}")),
            ProofDone::Batch { index, of: total },
        )?;
        below.push((tier, proof));
    }
    ensure!(!below.is_empty(), "a tree needs a batch");

    for level in 0..shape.levels() {
        let kind = shape.kind(level);
        let node = circuits.node(kind)?;
        let nodes = shape.nodes(level);
        let mut proofs = Vec::with_capacity(nodes);
        for index in 0..nodes {
            let children: Vec<(usize, &NodeProof)> =
                below[shape.children(level, index)].iter().map(|(circuit, proof)| (*circuit, proof)).collect();
            let root = || {
                let roots: Vec<Hash> = children.iter().map(|(_, proof)| root_of(proof, circuits)).collect();
                node_root(&roots, shape.slots[level])
            };
            let proof = run.obtain(
                ProofKey::Node { level, index },
                node.data(),
                root,
                || node.prove(&children).with_context(|| format!("node {index} of level {level}")),
                ProofDone::Node { level, index, of: nodes },
            )?;
            proofs.push((child_index(kind), proof));
        }
        below = proofs;
    }
    ensure!(below.len() == 1, "{total} batches did not end in one top proof");
    Ok(below.pop().expect("one top proof").1)
}

/// The index by which the node above names a proof of `kind`.
fn child_index(kind: NodeKind) -> usize {
    match kind {
        NodeKind::OverBatches | NodeKind::Top => crate::aggregation::NodeChild::OverBatches.index(),
        NodeKind::OverNodes => crate::aggregation::NodeChild::OverNodes.index(),
    }
}

/// Node proofs [`prove_tree`] makes above `batches` batches.
pub fn node_proofs(circuits: &FamilyCircuits, batches: usize) -> usize {
    let shape = TreeShape::new(circuits.family(), batches);
    (0..shape.levels()).map(|level| shape.nodes(level)).sum()
}

fn root_of(proof: &NodeProof, circuits: &FamilyCircuits) -> Hash {
    NodeInputs::of(proof, circuits.family().assets()).root_hash()
}

/// One proving run: the circuits, the store and the listener.
struct Run<'a> {
    circuits: &'a FamilyCircuits,
    commitment: Hash,
    store: &'a mut dyn ProofStore,
    on_done: &'a mut dyn FnMut(ProofDone),
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
        done: ProofDone,
    ) -> Result<NodeProof> {
        if let Some(bytes) = self.store.load(key).with_context(|| format!("reading the stored proof {key}"))? {
            match self.check(bytes, circuit, root()) {
                Ok(proof) => {
                    (self.on_done)(ProofDone::Reused(key));
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
        let inputs = NodeInputs::of(&proof, self.circuits.family().assets());
        ensure!(inputs.root_hash() == root, "it has another root");
        ensure!(inputs.prices_commitment_hash() == self.commitment, "it was made at other prices");
        circuit.verify(proof.clone()).context("it does not verify")?;
        Ok(proof)
    }
}
