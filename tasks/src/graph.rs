//! The tasks of one sequence and their dependencies.
//!
//! For a tree layout with `L` aggregation levels: one batch task per batch
//! (tier 0); the proofs of empty subtrees that padding needs (tiers
//! `0..E`, each built from the one below); one node task per aggregation
//! node (tiers `1..=L`, children from the tier below or the empty proof of
//! that tier); one final task on the top node. A task is ready when every
//! task it takes a proof from is done.

use std::collections::BTreeMap;

use zkpor_circuits::layout::{Child, TreeLayout};

use crate::key::{TaskKey, TaskKind};

/// The task graph of one sequence's proof tree.
#[derive(Clone, Debug)]
pub struct TaskGraph {
    sequence: u64,
    layout: TreeLayout,
}

impl TaskGraph {
    /// The graph of `sequence`, whose tree has `layout`.
    pub fn new(sequence: u64, layout: TreeLayout) -> Self {
        TaskGraph { sequence, layout }
    }

    /// The layout.
    pub fn layout(&self) -> &TreeLayout {
        &self.layout
    }

    fn key(&self, kind: TaskKind, tier: usize, index: usize) -> TaskKey {
        TaskKey { sequence: self.sequence, kind, tier: tier as u32, index: index as u32 }
    }

    /// The final task.
    pub fn final_task(&self) -> TaskKey {
        self.key(TaskKind::Final, self.layout.levels() + 1, 0)
    }

    /// Every task, in an order where each comes after the tasks it takes
    /// proofs from.
    pub fn tasks(&self) -> Vec<TaskKey> {
        let layout = &self.layout;
        let mut tasks: Vec<TaskKey> = (0..layout.batches()).map(|i| self.key(TaskKind::Batch, 0, i)).collect();
        tasks.extend((0..layout.empty_proofs()).map(|t| self.key(TaskKind::Empty, t, 0)));
        for tier in 1..=layout.levels() {
            tasks.extend((0..layout.nodes(tier)).map(|i| self.key(TaskKind::Node, tier, i)));
        }
        tasks.push(self.final_task());
        tasks
    }

    /// The proofs a task takes, in the order its circuit takes them (the
    /// empty proof of a tier repeated where the layout pads).
    pub fn inputs(&self, task: &TaskKey) -> Vec<TaskKey> {
        let tier = task.tier as usize;
        match task.kind {
            TaskKind::Batch => Vec::new(),
            TaskKind::Empty if tier == 0 => Vec::new(),
            TaskKind::Empty => vec![self.key(TaskKind::Empty, tier - 1, 0); self.layout.shape().arity()],
            TaskKind::Node => self
                .layout
                .children(tier, task.index as usize)
                .into_iter()
                .map(|child| match child {
                    Child::Node(i) if tier == 1 => self.key(TaskKind::Batch, 0, i),
                    Child::Node(i) => self.key(TaskKind::Node, tier - 1, i),
                    Child::Empty => self.key(TaskKind::Empty, tier - 1, 0),
                })
                .collect(),
            TaskKind::Final => vec![self.key(TaskKind::Node, self.layout.levels(), 0)],
        }
    }

    /// The distinct tasks a task waits for.
    pub fn dependencies(&self, task: &TaskKey) -> Vec<TaskKey> {
        let mut inputs = self.inputs(task);
        inputs.sort();
        inputs.dedup();
        inputs
    }

    /// For every task, the tasks that wait for it.
    pub fn dependents(&self) -> BTreeMap<TaskKey, Vec<TaskKey>> {
        let mut out: BTreeMap<TaskKey, Vec<TaskKey>> = self.tasks().into_iter().map(|t| (t, Vec::new())).collect();
        for task in self.tasks() {
            for dependency in self.dependencies(&task) {
                out.get_mut(&dependency).expect("a dependency is a task of the graph").push(task);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use zkpor_circuits::Shape;

    use super::*;

    fn graph(shape: &str, accounts: usize) -> TaskGraph {
        TaskGraph::new(3, TreeLayout::new(shape.parse::<Shape>().unwrap(), accounts))
    }

    fn ids(keys: &[TaskKey]) -> Vec<String> {
        keys.iter().map(TaskKey::to_string).collect()
    }

    #[test]
    fn one_batch_in_a_two_level_tree_pads_every_tier_below_the_top() {
        let g = graph("b4-a2-k2-l2", 3);
        assert_eq!(
            ids(&g.tasks()),
            ["s3-batch-0-0", "s3-empty-0-0", "s3-empty-1-0", "s3-node-1-0", "s3-node-2-0", "s3-final-3-0"]
        );
        let node = "s3-node-1-0".parse().unwrap();
        assert_eq!(ids(&g.inputs(&node)), ["s3-batch-0-0", "s3-empty-0-0"]);
        let top = "s3-node-2-0".parse().unwrap();
        assert_eq!(ids(&g.inputs(&top)), ["s3-node-1-0", "s3-empty-1-0"]);
        let empty = "s3-empty-1-0".parse().unwrap();
        assert_eq!(ids(&g.inputs(&empty)), ["s3-empty-0-0", "s3-empty-0-0"]);
        assert_eq!(ids(&g.dependencies(&empty)), ["s3-empty-0-0"]);
        assert_eq!(ids(&g.inputs(&g.final_task())), ["s3-node-2-0"]);
    }

    #[test]
    fn a_full_tree_needs_no_empty_proofs() {
        let g = graph("b4-a2-k2-l1", 8);
        assert_eq!(ids(&g.tasks()), ["s3-batch-0-0", "s3-batch-0-1", "s3-node-1-0", "s3-final-2-0"]);
        let dependents = g.dependents();
        assert_eq!(ids(&dependents[&"s3-batch-0-1".parse().unwrap()]), ["s3-node-1-0"]);
        assert_eq!(ids(&dependents[&"s3-node-1-0".parse().unwrap()]), ["s3-final-2-0"]);
        assert!(dependents[&g.final_task()].is_empty());
    }

    #[test]
    fn every_task_comes_after_what_it_waits_for() {
        let g = graph("b4-a2-k4-l2", 4 * 5);
        let order = g.tasks();
        for (position, task) in order.iter().enumerate() {
            for dependency in g.dependencies(task) {
                let at = order.iter().position(|t| *t == dependency).expect("a task of the graph");
                assert!(at < position, "{task} comes before {dependency}");
            }
        }
        assert_eq!(g.dependencies(&"s3-node-1-1".parse().unwrap()).len(), 2, "batch 4 and the empty batch");
    }
}
