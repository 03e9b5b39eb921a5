//! The public inputs each task's proof must state, computed natively from the
//! committed tree: the agent checks every returned proof against them.

use plonky2::field::types::Field;
use zkpor_circuits::account::AccountLeaf;
use zkpor_circuits::final_wrap::FinalInputs;
use zkpor_circuits::merkle::AccountTree;
use zkpor_circuits::node::NodeInputs;
use zkpor_circuits::statement::prices_commitment;
use zkpor_circuits::{F, Shape};

use crate::key::{TaskKey, TaskKind};
use crate::spec::canonical;

/// What the agent knows of a committed tree.
pub struct CommittedTree<'a> {
    /// The circuit shape.
    pub shape: Shape,
    /// Every account's leaf, in tree order.
    pub leaves: &'a [AccountLeaf],
    /// The tree over them.
    pub tree: &'a AccountTree,
    /// Unit price per asset slot.
    pub prices: &'a [u64],
    /// What the final proof must claim.
    pub final_inputs: FinalInputs,
}

impl CommittedTree<'_> {
    /// The public inputs `task`'s proof must have, as canonical words.
    pub fn expected_inputs(&self, task: &TaskKey) -> anyhow::Result<Vec<u64>> {
        let tier = task.tier as usize;
        let shape = &self.shape;
        let height = shape.batch_depth() + tier * shape.arity_depth();
        let assets = shape.assets();
        let prices = prices_commitment(self.prices).elements;
        let inputs = match task.kind {
            TaskKind::Final => return Ok(canonical(&self.final_inputs.to_fields()?)),
            TaskKind::Empty => NodeInputs {
                root: self.tree.empty_root(height).elements,
                prices_commitment: prices,
                account_count: F::ZERO,
                equity: vec![F::ZERO; assets],
                debt: vec![F::ZERO; assets],
            },
            TaskKind::Batch | TaskKind::Node => {
                let span = shape.batch_size() * shape.arity().pow(tier as u32);
                let start = (task.index as usize * span).min(self.leaves.len());
                let end = (start + span).min(self.leaves.len());
                let accounts = &self.leaves[start..end];
                let total = |pick: fn(&AccountLeaf) -> &Vec<u64>| -> Vec<F> {
                    (0..assets)
                        .map(|a| F::from_canonical_u64(accounts.iter().map(|leaf| pick(leaf)[a]).sum()))
                        .collect()
                };
                NodeInputs {
                    root: self.tree.node(height, task.index as u64).elements,
                    prices_commitment: prices,
                    account_count: F::from_canonical_usize(accounts.len()),
                    equity: total(|leaf| &leaf.equity),
                    debt: total(|leaf| &leaf.debt),
                }
            }
        };
        Ok(canonical(&inputs.to_vec()))
    }
}
