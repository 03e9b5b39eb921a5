//! Helpers shared by the store's tests.
#![allow(dead_code)]

use zkpor_circuits::Shape;
use zkpor_circuits::encoding::{Address, HashHex};
use zkpor_circuits::layout::TreeLayout;
use zkpor_store::scratch::ScratchDatabase;
use zkpor_store::{Completion, NewSequence, NewTask, SequenceInfo, Store};
use zkpor_tasks::TaskGraph;

pub const MINUTE: i64 = 60_000;

/// A tiny-shape sequence of `accounts` accounts (the store neither proves
/// nor checks, so the inputs are placeholders).
pub fn sequence(number: u64, accounts: usize) -> NewSequence {
    let shape = Shape::TINY;
    let graph = TaskGraph::new(number, TreeLayout::new(shape, accounts));
    let tasks = NewTask::all_of(&graph, |key| Ok::<_, ()>(vec![key.index as u64])).unwrap();
    NewSequence {
        info: SequenceInfo {
            sequence: number,
            shape,
            source: "test".into(),
            submitter: Address([1; 20]),
            prices: vec![3, 5],
            account_count: accounts as u64,
            root: HashHex(Default::default()),
            digest: HashHex(Default::default()),
        },
        batches: vec![Vec::new(); graph.layout().batches()],
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
