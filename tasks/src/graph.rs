//! The tasks of one sequence and their dependencies.
//!
//! For a family's tree over some batches ([`TreeShape`]): one batch task
//! per batch (level 0), one node task per node of each node level (children
//! from the level below, at most the level's slots, the last node taking
//! what is left), one final task on the top node. No proofs of empty
//! subtrees are needed: a node's absent slots are masked in the circuit. A
//! task is ready when every task it takes a proof from is done.

use std::collections::BTreeMap;

use zkpor_circuits::aggregation::NodeKind;
use zkpor_circuits::family::Family;
use zkpor_circuits::tree::TreeShape;

use crate::key::{TaskKey, TaskKind};

/// The task graph of one sequence's proof tree.
#[derive(Clone, Debug)]
pub struct TaskGraph {
    sequence: u64,
    shape: TreeShape,
    /// Per batch, the index of its tier.
    tiers: Vec<usize>,
}

/// A proof a task takes: the task that makes it, and the index of the
/// circuit it is a proof of among those the taking node's slots verify
/// against (a tier under a node over batches, a node circuit above).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskInput {
    /// The task whose proof it is.
    pub task: TaskKey,
    /// The circuit index.
    pub circuit: usize,
}

impl TaskGraph {
    /// The graph of `sequence`, whose tree on `family` has one batch per
    /// entry of `tiers`, each naming the batch's tier.
    pub fn new(sequence: u64, family: &Family, tiers: Vec<usize>) -> Self {
        let shape = TreeShape::new(family, tiers.len());
        let mut tiers = tiers;
        tiers.resize(shape.batches, 0);
        TaskGraph { sequence, shape, tiers }
    }

    /// The tree's shape.
    pub fn shape(&self) -> &TreeShape {
        &self.shape
    }

    /// Per batch, its tier.
    pub fn tiers(&self) -> &[usize] {
        &self.tiers
    }

    /// Which node circuit proves `task` (a node task).
    pub fn node_kind(&self, task: &TaskKey) -> Option<NodeKind> {
        (task.kind == TaskKind::Node && (task.level as usize) < self.shape.levels())
            .then(|| self.shape.kind(task.level as usize))
    }

    fn key(&self, kind: TaskKind, level: usize, index: usize) -> TaskKey {
        TaskKey { sequence: self.sequence, kind, level: level as u32, index: index as u32 }
    }

    /// The final task.
    pub fn final_task(&self) -> TaskKey {
        self.key(TaskKind::Final, self.shape.levels(), 0)
    }

    /// The top node's task.
    pub fn top_task(&self) -> TaskKey {
        self.key(TaskKind::Node, self.shape.top_level(), 0)
    }

    /// Every task, in an order where each comes after the tasks it takes
    /// proofs from.
    pub fn tasks(&self) -> Vec<TaskKey> {
        let shape = &self.shape;
        let mut tasks: Vec<TaskKey> = (0..shape.batches).map(|i| self.key(TaskKind::Batch, 0, i)).collect();
        for level in 0..shape.levels() {
            tasks.extend((0..shape.nodes(level)).map(|i| self.key(TaskKind::Node, level, i)));
        }
        tasks.push(self.final_task());
        tasks
    }

    /// The proofs a task takes, in the order its circuit takes them.
    pub fn inputs(&self, task: &TaskKey) -> Vec<TaskInput> {
        let level = task.level as usize;
        match task.kind {
            TaskKind::Batch => Vec::new(),
            TaskKind::Node if level == 0 => self
                .shape
                .children(0, task.index as usize)
                .map(|batch| TaskInput { task: self.key(TaskKind::Batch, 0, batch), circuit: self.tiers[batch] })
                .collect(),
            TaskKind::Node => {
                let circuit = self.shape.child_kind(level).index();
                self.shape
                    .children(level, task.index as usize)
                    .map(|node| TaskInput { task: self.key(TaskKind::Node, level - 1, node), circuit })
                    .collect()
            }
            TaskKind::Final => vec![TaskInput { task: self.top_task(), circuit: 0 }],
        }
    }

    /// The distinct tasks a task waits for.
    pub fn dependencies(&self, task: &TaskKey) -> Vec<TaskKey> {
        let mut inputs: Vec<TaskKey> = self.inputs(task).into_iter().map(|input| input.task).collect();
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
    use super::*;

    fn ids(keys: impl IntoIterator<Item = TaskKey>) -> Vec<String> {
        keys.into_iter().map(|key| key.to_string()).collect()
    }

    #[test]
    fn one_batch_needs_a_node_and_the_top() {
        let g = TaskGraph::new(3, &Family::tiny(), vec![1]);
        assert_eq!(ids(g.tasks()), ["s3-batch-0-0", "s3-node-0-0", "s3-node-1-0", "s3-final-2-0"]);
        let node = "s3-node-0-0".parse().unwrap();
        assert_eq!(g.inputs(&node), vec![TaskInput { task: "s3-batch-0-0".parse().unwrap(), circuit: 1 }]);
        assert_eq!(g.node_kind(&node), Some(NodeKind::OverBatches));
        assert_eq!(g.node_kind(&g.top_task()), Some(NodeKind::Top));
        assert_eq!(ids(g.dependencies(&g.final_task())), ["s3-node-1-0"]);
    }

    #[test]
    fn nodes_over_nodes_name_their_childrens_circuit() {
        // Tiny: two children per node and two under the top.
        let g = TaskGraph::new(3, &Family::tiny(), vec![0, 0, 1, 1, 1]);
        assert_eq!(g.shape().slots, vec![2, 2, 2]);
        assert_eq!(g.node_kind(&"s3-node-1-0".parse().unwrap()), Some(NodeKind::OverNodes));
        let inputs = g.inputs(&"s3-node-1-1".parse().unwrap());
        assert_eq!(inputs, vec![TaskInput { task: "s3-node-0-2".parse().unwrap(), circuit: 0 }]);
        let top = g.inputs(&g.top_task());
        assert_eq!(
            top.iter().map(|i| (i.task.to_string(), i.circuit)).collect::<Vec<_>>(),
            [("s3-node-1-0".to_string(), 1), ("s3-node-1-1".to_string(), 1)]
        );
        let under_first = g.inputs(&"s3-node-0-1".parse().unwrap());
        assert_eq!(under_first.iter().map(|i| i.circuit).collect::<Vec<_>>(), [1, 1], "batches 2 and 3 are tier 1");
    }

    #[test]
    fn every_task_comes_after_what_it_waits_for() {
        let g = TaskGraph::new(3, &Family::standard(), vec![0; 200]);
        let order = g.tasks();
        for (position, task) in order.iter().enumerate() {
            for dependency in g.dependencies(task) {
                let at = order.iter().position(|t| *t == dependency).expect("a task of the graph");
                assert!(at < position, "{task} comes before {dependency}");
            }
        }
        let dependents = g.dependents();
        assert!(dependents[&g.final_task()].is_empty());
        assert_eq!(ids(dependents[&g.top_task()].clone()), ["s3-final-4-0"]);
    }
}
