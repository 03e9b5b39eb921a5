//! The store on SQLite and on PostgreSQL alike: a sequence's task graph,
//! leases, completions that ready what waited, failures, expiries, late
//! results, and concurrent leasing from several stores on one database.

use std::collections::HashSet;

use zkpor_circuits::aggregation::NodeKind;
use zkpor_store::scratch::ScratchDatabase;
use zkpor_store::{FailureKind, LeaseError, ProvingState};
use zkpor_tasks::{TaskInput, TaskKey, TaskKind};

mod common;
use common::{MINUTE, completion, each_database, sequence};

#[tokio::test(flavor = "multi_thread")]
async fn a_sequence_is_proven_task_by_task_in_dependency_order() {
    each_database(async |store| {
        // Two batches, the node over them, the top node, the final task.
        assert!(store.insert_sequence(&sequence(1, 2)).await.unwrap());
        assert!(!store.insert_sequence(&sequence(1, 2)).await.unwrap(), "a known sequence is not inserted twice");
        let now = 1_000_000;
        let a = store.lease("a", u64::MAX, MINUTE, now).await.unwrap().unwrap();
        let b = store.lease("b", u64::MAX, MINUTE, now).await.unwrap().unwrap();
        assert_eq!((a.key.kind, b.key.kind), (TaskKind::Batch, TaskKind::Batch));
        assert_ne!(a.key, b.key);
        assert_eq!(store.lease("c", u64::MAX, MINUTE, now).await.unwrap(), None, "the node waits for both batches");

        let done = store.complete(&completion(&a), now).await.unwrap();
        assert!(done.ready.is_empty());
        let done = store.complete(&completion(&b), now).await.unwrap();
        assert_eq!(done.ready, vec!["s1-node-0-0".parse::<TaskKey>().unwrap()]);

        let node = store.lease("c", u64::MAX, MINUTE, now).await.unwrap().unwrap();
        let spec = store.task_spec(&node.key).await.unwrap();
        assert_eq!(spec.key, node.key);
        let TaskInput::Node { node: kind, children } = &spec.input else { panic!("{spec:?}") };
        assert_eq!(*kind, NodeKind::OverBatches);
        assert_eq!(
            children.iter().map(|c| c.proof.0.clone()).collect::<Vec<_>>(),
            [b"s1-batch-0-0".to_vec(), b"s1-batch-0-1".to_vec()]
        );
        store.complete(&completion(&node), now).await.unwrap();
        let top = store.lease("c", u64::MAX, MINUTE, now).await.unwrap().unwrap();
        assert_eq!(top.key.to_string(), "s1-node-1-0");
        store.complete(&completion(&top), now).await.unwrap();
        let last = store.lease("c", u64::MAX, MINUTE, now).await.unwrap().unwrap();
        assert_eq!(last.key.kind, TaskKind::Final);
        assert!(store.complete(&completion(&last), now).await.unwrap().sequence_proven);
        assert_eq!(store.sequence(1).await.unwrap().unwrap().status, ProvingState::Proven);
        assert_eq!(store.final_proof(1).await.unwrap(), Some(last.key.to_string().into_bytes()));
        let stats = store.worker_stats().await.unwrap();
        assert_eq!(
            stats.iter().map(|w| (w.name.as_str(), w.accepted)).collect::<Vec<_>>(),
            [("a", 1), ("b", 1), ("c", 3)]
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lease_of_some_kinds_skips_the_others_even_when_they_are_more_urgent() {
    each_database(async |store| {
        // Sequence 1 waits at its final task; sequence 2 has two batches ready.
        for number in [1, 2] {
            store.insert_sequence(&sequence(number, 2)).await.unwrap();
        }
        let now = 1_000_000;
        loop {
            let lease = store.lease_of_kinds("a", &[TaskKind::Batch, TaskKind::Node], u64::MAX, MINUTE, now);
            let lease = lease.await.unwrap().unwrap();
            if lease.key.sequence == 2 {
                assert_eq!(lease.key.kind, TaskKind::Batch, "the batches of sequence 2 come after sequence 1's nodes");
                break;
            }
            store.complete(&completion(&lease), now).await.unwrap();
        }
        let final_task = store.lease_of_kinds("f", &[TaskKind::Final], u64::MAX, MINUTE, now).await.unwrap().unwrap();
        assert_eq!(final_task.key.to_string(), "s1-final-2-0");
        assert_eq!(store.lease_of_kinds("f", &[TaskKind::Final], u64::MAX, MINUTE, now).await.unwrap(), None);
        assert_eq!(store.lease_of_kinds("x", &[], u64::MAX, MINUTE, now).await.unwrap(), None, "no kind, no task");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_leases_go_back_late_results_change_nothing_and_failures_park() {
    each_database(async |store| {
        store.insert_sequence(&sequence(2, 1)).await.unwrap();
        let now = 1_000_000;
        let first = store.lease("slow", u64::MAX, MINUTE, now).await.unwrap().unwrap();
        assert_eq!(first.attempts, 1);
        assert_eq!(store.heartbeat(&first.key, &first.lease_id, MINUTE, now + 30_000).await.unwrap(), now + 90_000);
        assert!(matches!(
            store.heartbeat(&first.key, "not-the-lease", MINUTE, now).await,
            Err(LeaseError::NotHeld { .. })
        ));
        let unknown: TaskKey = "s2-batch-0-9".parse().unwrap();
        assert!(matches!(store.heartbeat(&unknown, "x", MINUTE, now).await, Err(LeaseError::UnknownTask(_))));

        // The lease runs out: the task goes to someone else.
        let later = now + 2 * MINUTE;
        let reaped = store.reap_expired(2, later).await.unwrap();
        assert_eq!(reaped.len(), 1);
        assert!(!reaped[0].parked);
        let second = store.lease("fast", u64::MAX, MINUTE, later).await.unwrap().unwrap();
        assert_eq!((second.key, second.attempts), (first.key, 2));
        // The slow worker's result arrives late: refused, nothing changes.
        let late = store.complete(&completion(&first), later).await;
        assert!(matches!(late, Err(LeaseError::NotHeld { ref status, .. }) if status == "leased"), "{late:?}");
        assert_eq!(store.task_status(&first.key).await.unwrap(), Some(zkpor_store::TaskState::Leased));

        // The fast worker returns a bad proof (held against the worker, not the
        // task), then an error: with the expired lease, the second failure parks it.
        let failed =
            store.fail(&second.key, &second.lease_id, FailureKind::Rejected, "forged", 2, later).await.unwrap();
        assert_eq!((failed.attempts, failed.parked), (2, false));
        let third = store.lease("fast", u64::MAX, MINUTE, later).await.unwrap().unwrap();
        let failed =
            store.fail(&third.key, &third.lease_id, FailureKind::Error, "out of memory", 2, later).await.unwrap();
        assert!(failed.parked);
        let row = store.sequence(2).await.unwrap().unwrap();
        assert_eq!(row.status, ProvingState::Failed);
        assert!(row.error.as_deref().unwrap().contains("failed 2 times, last: out of memory"), "{:?}", row.error);
        assert_eq!(
            store.lease("fast", u64::MAX, MINUTE, later).await.unwrap(),
            None,
            "a failed sequence leases nothing"
        );
        let errors = store.task_errors(2).await.unwrap();
        let reasons: Vec<&str> = errors.iter().map(|e| e.error.as_str()).collect();
        assert_eq!(reasons, ["the lease of slow expired", "forged", "out of memory"]);
        let stats = store.worker_stats().await.unwrap();
        let fast = stats.iter().find(|w| w.name == "fast").unwrap();
        assert_eq!((fast.accepted, fast.rejected, fast.failed), (0, 1, 1));
        // A replayed completion of a finished task is refused too.
        assert!(matches!(store.complete(&completion(&third), later).await, Err(LeaseError::NotHeld { .. })));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_leasing_never_hands_a_task_out_twice() {
    for db in ScratchDatabase::both().await.unwrap() {
        // Separate stores stand for separate agent processes.
        let stores = [db.open().await.unwrap(), db.open().await.unwrap()];
        for number in 10..16 {
            stores[0].insert_sequence(&sequence(number, 2)).await.unwrap();
        }
        let ready = 6 * 2;
        let mut leasers = Vec::new();
        for i in 0..8 {
            let store = stores[i % 2].clone();
            leasers.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                while let Some(lease) = store.lease(&format!("w{i}"), u64::MAX, MINUTE, 1).await.unwrap() {
                    mine.push(lease.key);
                }
                mine
            }));
        }
        let mut all = Vec::new();
        for leaser in leasers {
            all.extend(leaser.await.unwrap());
        }
        let distinct: HashSet<TaskKey> = all.iter().copied().collect();
        assert_eq!(all.len(), ready, "{:?}: every ready batch leased once", db.dialect());
        assert_eq!(distinct.len(), ready, "{:?}: no task leased twice", db.dialect());
    }
}
