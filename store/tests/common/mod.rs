//! Helpers shared by the store's tests.
#![allow(dead_code)]

use std::collections::BTreeMap;

use zkpor_circuits::encoding::{Address, HashHex};
use zkpor_circuits::family::Family;
use zkpor_protocol::statement::StatementFile;
use zkpor_store::scratch::ScratchDatabase;
use zkpor_store::{Completion, NewSequence, NewTask, SequenceInfo, Store};
use zkpor_tasks::{ExpectedProof, ProofCircuit, TaskGraph};

pub const MINUTE: i64 = 60_000;

/// A sequence of `batches` batches on the tiny family (the store neither
/// proves nor checks, so the expected proofs are placeholders).
pub fn sequence(number: u64, batches: usize) -> NewSequence {
    let family = Family::tiny();
    let graph = TaskGraph::new(number, &family, vec![0; batches]);
    let expected: BTreeMap<_, _> = graph
        .tasks()
        .into_iter()
        .map(|key| (key, ExpectedProof { circuit: ProofCircuit::Tier { tier: 0 }, inputs: vec![key.index as u64] }))
        .collect();
    let tasks = NewTask::all_of(&graph, &expected).unwrap();
    let root = HashHex(Default::default());
    NewSequence {
        info: SequenceInfo {
            sequence: number,
            family: family.clone(),
            source: "test".into(),
            submitter: Address([1; 20]),
            prices: vec![3, 5],
            tiers: graph.tiers().to_vec(),
            account_count: batches as u64,
            root,
            digest: root,
            statement: StatementFile {
                sequence: number,
                family: family.name().to_string(),
                root,
                account_count: batches as u64,
                batches: batches as u64,
                digest: root,
                assets: Vec::new(),
            },
        },
        batches: vec![Vec::new(); batches],
        tasks,
    }
}

pub fn completion(lease: &zkpor_store::Lease) -> Completion {
    Completion {
        key: lease.key,
        lease_id: lease.lease_id.clone(),
        holder: lease.holder.clone(),
        proof: lease.key.to_string().into_bytes(),
        proving_ms: 5,
    }
}

pub async fn each_database(test: impl AsyncFn(Store)) {
    for db in ScratchDatabase::both().await.unwrap() {
        let store = db.open().await.unwrap();
        eprintln!("on {:?}", db.dialect());
        test(store.clone()).await;
        store.close().await;
    }
}
