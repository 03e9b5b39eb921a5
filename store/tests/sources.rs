//! What a chain-following source needs, on SQLite and PostgreSQL alike: a
//! sequence a reorg took away is forgotten with everything it had (its
//! number free again) unless its proof already went on chain; refused
//! witnesses are recorded, replaced and cleared.

use zkpor_circuits::encoding::HashHex;
use zkpor_store::{FailureKind, StateChange, SubmissionState};

mod common;
use common::{MINUTE, completion, each_database, sequence};

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_sequence_leaves_nothing_behind_and_can_come_back() {
    each_database(async |store| {
        store.insert_sequence(&sequence(1, 7)).await.unwrap();
        store.insert_sequence(&sequence(2, 3)).await.unwrap();
        // Some of sequence 1's work: a proof, a failed attempt, a lease held.
        let first = store.lease("w", u64::MAX, MINUTE, 1).await.unwrap().unwrap();
        store.complete(&completion(&first), 1).await.unwrap();
        let second = store.lease("w", u64::MAX, MINUTE, 1).await.unwrap().unwrap();
        store.fail(&second.key, &second.lease_id, FailureKind::Error, "boom", 3, 2).await.unwrap();
        let held = store.lease("w", u64::MAX, MINUTE, 3).await.unwrap().unwrap();
        assert_eq!(held.key.sequence, 1);

        assert!(store.drop_sequence(1).await.unwrap());
        assert!(store.sequence(1).await.unwrap().is_none());
        assert!(!store.drop_sequence(1).await.unwrap(), "unknown now");
        while let Some(lease) = store.lease("w", u64::MAX, MINUTE, 4).await.unwrap() {
            assert_eq!(lease.key.sequence, 2, "nothing of sequence 1 is leased any more");
        }
        assert!(store.complete(&completion(&held), 5).await.is_err(), "its lease is gone");
        assert!(store.insert_sequence(&sequence(1, 3)).await.unwrap(), "the number is free again");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sequence_whose_proof_went_on_chain_is_not_dropped() {
    each_database(async |store| {
        store.insert_sequence(&sequence(4, 3)).await.unwrap();
        while let Some(lease) = store.lease("w", u64::MAX, MINUTE, 1).await.unwrap() {
            store.complete(&completion(&lease), 1).await.unwrap();
        }
        store.insert_submission(4, b"proof", "0xab", SubmissionState::ProofReady, None, 2).await.unwrap();
        store.update_submission(4, &StateChange::to(SubmissionState::Committing)).await.unwrap();
        assert!(!store.drop_sequence(4).await.unwrap());
        assert!(store.sequence(4).await.unwrap().is_some());
        store.update_submission(4, &StateChange::to(SubmissionState::Waiting)).await.unwrap();
        assert!(store.drop_sequence(4).await.unwrap(), "waiting: nothing of ours is on chain for it");
        assert!(store.submission(4).await.unwrap().is_none());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_witnesses_are_recorded_replaced_and_cleared() {
    each_database(async |store| {
        let root: HashHex = format!("0x{}", "0000000000000003".repeat(4)).parse().unwrap();
        store.record_refusal(2, root, "root mismatch").await.unwrap();
        store.record_refusal(1, root, "unreachable").await.unwrap();
        store.record_refusal(2, root, "totals differ").await.unwrap();
        let refused = store.refused_sequences().await.unwrap();
        assert_eq!(
            refused.iter().map(|r| (r.sequence, r.reason.as_str())).collect::<Vec<_>>(),
            [(1, "unreachable"), (2, "totals differ")]
        );
        assert_eq!(refused[0].root, root);
        store.clear_refusal(1).await.unwrap();
        assert_eq!(store.refused_sequences().await.unwrap().len(), 1);
    })
    .await;
}
