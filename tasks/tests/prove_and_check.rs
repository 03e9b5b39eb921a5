//! Every task of a small tree on the tiny family proven as a worker would,
//! each proof checked as the agent would, and proofs the agent must refuse.

use std::collections::HashMap;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpor_circuits::encoding::Address;
use zkpor_circuits::stored::CircuitDirectory;
use zkpor_circuits::{Family, FamilyCircuits, FamilyVerifiers};
use zkpor_exchange::committed::{CommittedSnapshot, load_options};
use zkpor_protocol::witness::UserWire;
use zkpor_snapshot::Snapshot;
use zkpor_tasks::{
    ChildProof, ExpectedProof, ProofBytes, ProofCircuit, Rejection, TaskInput, TaskKey, TaskKind, TaskSpec,
    TreeToProve, check_proof, prove_task,
};

/// 300 users of two assets and one of three: two batches of tier 0 and one
/// of tier 1 (the last twelve lifted into it) on the tiny family.
fn committed(family: &Family) -> CommittedSnapshot {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("assets.csv"), "symbol,decimals,price_usd\nBTC,8,91234.56\nUSDT,6,1\nETH,8,3000\n")
        .unwrap();
    let mut balances = String::from("id,BTC,USDT,ETH\n");
    for i in 0..300 {
        balances += &format!("user{i},0.{:08},{},\n", 1000 + i, 100 + i);
    }
    balances += "whale,1,-5000,2\n";
    std::fs::write(dir.path().join("balances.csv"), balances).unwrap();
    let snapshot = Snapshot::load(dir.path(), &load_options(family)).unwrap();
    CommittedSnapshot::new(snapshot, family, &mut ChaCha20Rng::seed_from_u64(1)).unwrap()
}

/// Checks `proof` as the agent does: with the verifier data of `circuits`.
fn check(circuits: &FamilyCircuits, expected: &ExpectedProof, proof: &[u8]) -> Result<(), Rejection> {
    check_proof(&FamilyVerifiers::of(circuits).unwrap(), expected, proof).unwrap()
}

#[test]
fn a_tree_proven_task_by_task_checks_out_and_forgeries_do_not() {
    let family = Family::tiny();
    let files = CircuitDirectory::at_default_location().map(|directory| directory.family(&family));
    let (circuits, _) = FamilyCircuits::load_or_build(&family, files.as_ref(), |_| {}).unwrap();
    let committed = committed(&family);
    let batches: Vec<(usize, Vec<_>)> = (0..committed.batches().len())
        .map(|i| (committed.batches()[i].tier, committed.batch_leaves(i).to_vec()))
        .collect();
    assert_eq!(batches.iter().map(|(tier, _)| *tier).collect::<Vec<_>>(), [0, 0, 1]);
    let tree = TreeToProve { family: &family, batches: &batches, statement: committed.statement() };
    let graph = tree.graph(4);
    let submitter = Address([5; 20]);
    let expected = tree.expected(&graph, submitter).unwrap();
    let statement = committed.statement_file(4);

    let mut proofs: HashMap<TaskKey, Vec<u8>> = HashMap::new();
    for task in graph.tasks() {
        let inputs = graph.inputs(&task);
        let input = match task.kind {
            TaskKind::Batch => {
                let (tier, leaves) = &batches[task.index as usize];
                let users = leaves.iter().map(UserWire::from).collect();
                TaskInput::Batch { tier: *tier, prices: committed.statement().prices.clone(), users }
            }
            TaskKind::Node => TaskInput::Node {
                node: graph.node_kind(&task).unwrap(),
                children: inputs
                    .iter()
                    .map(|input| ChildProof { circuit: input.circuit, proof: ProofBytes(proofs[&input.task].clone()) })
                    .collect(),
            },
            TaskKind::Final => TaskInput::Final {
                statement: statement.clone(),
                top: ProofBytes(proofs[&inputs[0].task].clone()),
                submitter,
            },
        };
        let spec = TaskSpec { key: task, family: family.clone(), input };
        // The spec survives the wire.
        let spec: TaskSpec = serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
        let proof = prove_task(&circuits, &spec).unwrap();
        check(&circuits, &expected[&task], &proof).unwrap_or_else(|e| panic!("{task}: {e}"));
        proofs.insert(task, proof);
    }
    assert_eq!(proofs.len(), 7, "3 batches, 2 nodes over them, the top, the final proof");

    let key = |text: &str| text.parse::<TaskKey>().unwrap();
    let (batch0, batch1, batch2) = (key("s4-batch-0-0"), key("s4-batch-0-1"), key("s4-batch-0-2"));
    // A valid proof of another task of the same circuit: a mismatch.
    assert_eq!(check(&circuits, &expected[&batch0], &proofs[&batch1]), Err(Rejection::Mismatch));
    let (node0, node1) = (key("s4-node-0-0"), key("s4-node-0-1"));
    assert_eq!(check(&circuits, &expected[&node0], &proofs[&node1]), Err(Rejection::Mismatch));
    // A proof of another circuit, garbage, a flipped byte: refused.
    assert!(matches!(
        check(&circuits, &expected[&batch0], &proofs[&batch2]),
        Err(Rejection::Malformed(_) | Rejection::Invalid(_))
    ));
    assert!(matches!(
        check(&circuits, &expected[&batch0], &proofs[&node0]),
        Err(Rejection::Malformed(_) | Rejection::Invalid(_))
    ));
    assert!(matches!(check(&circuits, &expected[&batch0], b"not a proof"), Err(Rejection::Malformed(_))));
    let mut flipped = proofs[&batch0].clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 1;
    assert!(check(&circuits, &expected[&batch0], &flipped).is_err());
    // A batch proven at other prices: the prices commitment differs.
    let mut cheap = committed.statement().prices.clone();
    cheap[0] -= 1;
    let (tier, leaves) = &batches[0];
    let users = leaves.iter().map(UserWire::from).collect();
    let spec =
        TaskSpec { key: batch0, family: family.clone(), input: TaskInput::Batch { tier: *tier, prices: cheap, users } };
    let repriced = prove_task(&circuits, &spec).unwrap();
    assert_eq!(check(&circuits, &expected[&batch0], &repriced), Err(Rejection::Mismatch));
    // The final proof checks only for its own sequence and submitter.
    let last = graph.final_task();
    let other = tree.expected(&graph, Address([6; 20])).unwrap();
    assert_eq!(check(&circuits, &other[&last], &proofs[&last]), Err(Rejection::Mismatch));
    assert!(matches!(other[&last].circuit, ProofCircuit::Final));
}
