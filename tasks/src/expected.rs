//! What each task's proof must be: the circuit it is a proof of and the
//! public inputs it must state, computed natively from the checked witness.
//! The agent checks every returned proof against them ([`crate::check`]).

use std::collections::BTreeMap;

use anyhow::{Context, Result, ensure};
use plonky2::field::types::Field;
use serde::{Deserialize, Serialize};
use zkpor_circuits::aggregation::{NodeKind, node_root};
use zkpor_circuits::batch::TierBatchWitness;
use zkpor_circuits::encoding::Address;
use zkpor_circuits::family::Family;
use zkpor_circuits::final_wrap::FinalInputs;
use zkpor_circuits::leaf::Leaf;
use zkpor_circuits::node::NodeInputs;
use zkpor_circuits::statement::{Statement, padded, prices_commitment};
use zkpor_circuits::{F, Hash};

use crate::graph::TaskGraph;
use crate::key::{TaskKey, TaskKind};
use crate::spec::canonical;

/// Which circuit a task's proof is a proof of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "circuit", rename_all = "snake_case", deny_unknown_fields)]
pub enum ProofCircuit {
    /// The batch circuit of a tier, by index.
    Tier {
        /// The tier's index.
        tier: usize,
    },
    /// A node circuit.
    Node {
        /// Which one.
        node: NodeKind,
    },
    /// The final circuit.
    Final,
}

/// What a task's proof must be.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedProof {
    /// Its circuit.
    pub circuit: ProofCircuit,
    /// Its public inputs as canonical words: for a node below the top,
    /// those of its [`NodeInputs`], the verifier data it carries after them
    /// being the circuit's own ([`zkpor_circuits::aggregation::NodeCircuit::honest_tail`]).
    pub inputs: Vec<u64>,
}

/// A tree the agent is to have proven: a sequence's checked batches and
/// statement.
pub struct TreeToProve<'a> {
    /// The family.
    pub family: &'a Family,
    /// Per batch: its tier and its users, in tree order.
    pub batches: &'a [(usize, Vec<Leaf>)],
    /// The statement the tree proves.
    pub statement: &'a Statement,
}

impl TreeToProve<'_> {
    /// The graph of the tree as `sequence`.
    pub fn graph(&self, sequence: u64) -> TaskGraph {
        TaskGraph::new(sequence, self.family, self.batches.iter().map(|(tier, _)| *tier).collect())
    }

    /// What every task of `graph` must prove, the final proof bound to
    /// `submitter`.
    pub fn expected(&self, graph: &TaskGraph, submitter: Address) -> Result<BTreeMap<TaskKey, ExpectedProof>> {
        let assets = self.family.assets();
        let prices = padded(&self.statement.prices, assets);
        let commitment = prices_commitment(&prices);
        let shape = graph.shape();
        let mut out = BTreeMap::new();
        let mut below: Vec<NodeInputs<F>> = Vec::with_capacity(self.batches.len());
        for (index, (tier_index, leaves)) in self.batches.iter().enumerate() {
            let tier = self.family.tiers().tier(*tier_index);
            let witness = TierBatchWitness::new(tier, &prices, leaves).with_context(|| format!("batch {index}"))?;
            let mut equity = vec![0u64; assets];
            let mut debt = vec![0u64; assets];
            for slot in leaves.iter().flat_map(|leaf| &leaf.slots) {
                equity[usize::from(slot.asset)] += slot.equity();
                debt[usize::from(slot.asset)] += slot.debt();
            }
            let inputs = NodeInputs {
                root: witness.root().elements,
                prices_commitment: commitment.elements,
                account_count: F::from_canonical_usize(leaves.len()),
                equity: equity.into_iter().map(F::from_canonical_u64).collect(),
                debt: debt.into_iter().map(F::from_canonical_u64).collect(),
            };
            let key =
                TaskKey { sequence: graph.final_task().sequence, kind: TaskKind::Batch, level: 0, index: index as u32 };
            out.insert(
                key,
                ExpectedProof {
                    circuit: ProofCircuit::Tier { tier: *tier_index },
                    inputs: canonical(&inputs.to_vec()),
                },
            );
            below.push(inputs);
        }
        for level in 0..shape.levels() {
            let mut nodes = Vec::with_capacity(shape.nodes(level));
            for index in 0..shape.nodes(level) {
                let children = &below[shape.children(level, index)];
                let roots: Vec<Hash> = children.iter().map(NodeInputs::root_hash).collect();
                let sum = |pick: fn(&NodeInputs<F>) -> &Vec<F>| -> Vec<F> {
                    (0..assets).map(|a| children.iter().map(|child| pick(child)[a]).sum()).collect()
                };
                let inputs = NodeInputs {
                    root: node_root(&roots, shape.slots[level]).elements,
                    prices_commitment: commitment.elements,
                    account_count: children.iter().map(|child| child.account_count).sum(),
                    equity: sum(|child| &child.equity),
                    debt: sum(|child| &child.debt),
                };
                let key = TaskKey {
                    sequence: graph.final_task().sequence,
                    kind: TaskKind::Node,
                    level: level as u32,
                    index: index as u32,
                };
                let circuit = ProofCircuit::Node { node: shape.kind(level) };
                out.insert(key, ExpectedProof { circuit, inputs: canonical(&inputs.to_vec()) });
                nodes.push(inputs);
            }
            below = nodes;
        }
        let top = below.pop().context("a tree has a top node")?;
        ensure!(
            top.root_hash() == self.statement.root,
            "the batches rebuild another root than the statement's: the tree is not the committed one"
        );
        let sequence = graph.final_task().sequence;
        let final_inputs =
            FinalInputs { root: self.statement.root, digest: self.statement.digest(), sequence, submitter };
        out.insert(
            graph.final_task(),
            ExpectedProof { circuit: ProofCircuit::Final, inputs: canonical(&final_inputs.to_fields()?) },
        );
        Ok(out)
    }
}
