//! Every task of a tiny tree proven as a worker would, each proof checked as
//! the agent would, and proofs the agent must refuse.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::collections::HashMap;
use zkpor_circuits::account::{AccountLeaf, draw_nonce};
use zkpor_circuits::encoding::Address;
use zkpor_circuits::final_wrap::FinalInputs;
use zkpor_circuits::layout::TreeLayout;
use zkpor_circuits::merkle::AccountTree;
use zkpor_circuits::statement::Statement;
use zkpor_circuits::{CircuitSet, Shape};
use zkpor_tasks::expected::CommittedTree;
use zkpor_tasks::{
    AccountWire, ProofBytes, Rejection, TaskGraph, TaskKey, TaskKind, TaskSpec, check_proof, prove_task,
};

#[test]
fn a_tree_proven_task_by_task_checks_out_and_forgeries_do_not() {
    // Shape tiny with levels 2, so that empty proofs of two tiers are needed.
    let shape: Shape = "b4-a2-k2-l2".parse().unwrap();
    let circuits = CircuitSet::build(&shape);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let leaves: Vec<AccountLeaf> = (0..5u64)
        .map(|i| AccountLeaf {
            id_hash: draw_nonce(&format!("u{i}"), &mut rng).1,
            equity: vec![10 + i, 3],
            debt: vec![i, 0],
        })
        .collect();
    let prices = vec![7, 11];
    let tree = AccountTree::new(leaves.iter().map(AccountLeaf::hash).collect(), 2, shape.depth());
    let statement = Statement {
        root: tree.root(),
        account_count: 5,
        prices: prices.clone(),
        equity: vec![60, 15],
        debt: vec![10, 0],
    };
    let submitter = Address([5; 20]);
    let final_inputs = FinalInputs { root: tree.root(), digest: statement.digest(), sequence: 4, submitter };
    let committed = CommittedTree { shape, leaves: &leaves, tree: &tree, prices: &prices, final_inputs };
    let graph = TaskGraph::new(4, TreeLayout::new(shape, leaves.len()));

    let mut proofs: HashMap<TaskKey, Vec<u8>> = HashMap::new();
    for task in graph.tasks() {
        let accounts = match task.kind {
            TaskKind::Batch => {
                let start = task.index as usize * shape.batch_size();
                leaves[start..(start + shape.batch_size()).min(leaves.len())].iter().map(AccountWire::from).collect()
            }
            _ => Vec::new(),
        };
        let inputs = graph.inputs(&task).iter().map(|input| ProofBytes(proofs[input].clone())).collect();
        let spec = TaskSpec::assemble(task, shape, &prices, accounts, inputs, submitter).unwrap();
        // The spec survives the wire.
        let spec: TaskSpec = serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
        let proof = prove_task(&circuits, &spec).unwrap();
        let expected = committed.expected_inputs(&task).unwrap();
        check_proof(&circuits, &task, &expected, &proof).unwrap_or_else(|e| panic!("{task}: {e}"));
        proofs.insert(task, proof);
    }
    assert_eq!(proofs.len(), 7, "2 batches, 2 empty proofs, 2 nodes, the final proof");

    // A valid proof of another task: a mismatch.
    let batch0: TaskKey = "s4-batch-0-0".parse().unwrap();
    let batch1: TaskKey = "s4-batch-0-1".parse().unwrap();
    let expected0 = committed.expected_inputs(&batch0).unwrap();
    assert_eq!(check_proof(&circuits, &batch0, &expected0, &proofs[&batch1]), Err(Rejection::Mismatch));
    // A proof of another circuit, garbage, and a flipped byte: refused.
    let node: TaskKey = "s4-node-1-0".parse().unwrap();
    assert!(matches!(
        check_proof(&circuits, &batch0, &expected0, &proofs[&node]),
        Err(Rejection::Malformed(_) | Rejection::Invalid(_))
    ));
    assert!(matches!(check_proof(&circuits, &batch0, &expected0, b"not a proof"), Err(Rejection::Malformed(_))));
    let mut flipped = proofs[&batch0].clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 1;
    assert!(check_proof(&circuits, &batch0, &expected0, &flipped).is_err());
    // The final proof checks only for its own sequence and submitter.
    let last = graph.final_task();
    let mut other = committed.final_inputs;
    other.submitter = Address([6; 20]);
    let other_expected = CommittedTree { final_inputs: other, ..committed }.expected_inputs(&last).unwrap();
    assert_eq!(check_proof(&circuits, &last, &other_expected, &proofs[&last]), Err(Rejection::Mismatch));
}
