//! Submissions and the sender's transactions on SQLite and PostgreSQL alike:
//! a proven sequence gets one submission; a nonce is recorded once, with
//! each replacement as an attempt, and found again after a restart.

use zkpor_store::{NewTx, StateChange, SubmissionState, TxAttempt, TxOutcome, TxPurpose, TxStatus};

mod common;
use common::{MINUTE, completion, each_database, sequence};

fn attempt(number: u32, fee: u128) -> TxAttempt {
    TxAttempt {
        attempt: number,
        hash: format!("0x{number:064x}"),
        max_fee_per_gas: fee,
        max_priority_fee_per_gas: fee / 10,
        gas_limit: 100_000,
        raw: vec![number as u8; 3],
        sent_ms: 7,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_proven_sequence_gets_one_submission_whose_state_is_kept() {
    each_database(async |store| {
        store.insert_sequence(&sequence(1, 3)).await.unwrap();
        store.insert_sequence(&sequence(2, 3)).await.unwrap();
        assert!(store.proven_without_submission().await.unwrap().is_empty(), "nothing proven yet");
        // Sequence 2: its one batch, then its final task.
        while let Some(lease) = store.lease("w", u64::MAX, MINUTE, 1).await.unwrap() {
            if lease.key.sequence == 2 {
                store.complete(&completion(&lease), 1).await.unwrap();
            }
        }
        assert_eq!(store.proven_without_submission().await.unwrap(), vec![2]);

        let ready = SubmissionState::ProofReady;
        assert!(store.insert_submission(2, b"proof", "0xab", ready, None, 40).await.unwrap());
        assert!(!store.insert_submission(2, b"other", "0xcd", ready, None, 41).await.unwrap(), "one per sequence");
        assert!(store.proven_without_submission().await.unwrap().is_empty());

        let committing = StateChange { new_round: true, ..StateChange::to(SubmissionState::Committing).in_round(1) };
        store.update_submission(2, &committing).await.unwrap();
        let waiting = StateChange::to(SubmissionState::Waiting).because("T1 closed before our commit was mined");
        store.update_submission(2, &waiting).await.unwrap();
        let submission = store.submission(2).await.unwrap().unwrap();
        assert_eq!(submission.calldata, b"proof");
        assert_eq!((submission.state, submission.round, submission.rounds), (SubmissionState::Waiting, 1, 1));
        assert_eq!(submission.reason.as_deref(), Some("T1 closed before our commit was mined"));
        assert_eq!(submission.ready_block, 40);

        let verified = StateChange { done_block: Some(55), ..StateChange::to(SubmissionState::VerifiedByOthers) };
        store.update_submission(2, &verified).await.unwrap();
        assert!(store.open_submissions().await.unwrap().is_empty(), "a final state leaves nothing to do");
        let all = store.submissions().await.unwrap();
        assert_eq!((all[0].done_block, all[0].reason.clone()), (Some(55), None));
        assert!(store.update_submission(9, &waiting).await.is_err(), "no submission for 9");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_nonce_is_recorded_once_with_its_replacements_and_its_outcome() {
    each_database(async |store| {
        let account = "0x00000000000000000000000000000000000000aa";
        assert_eq!(store.next_recorded_nonce(account).await.unwrap(), None);
        let commit =
            NewTx { account: account.into(), nonce: 4, purpose: TxPurpose::Commit, sequence: Some(2), round: Some(1) };
        assert!(store.record_transaction(&commit, &attempt(1, 100)).await.unwrap());
        let reveal = NewTx { purpose: TxPurpose::Reveal, ..commit.clone() };
        assert!(!store.record_transaction(&reveal, &attempt(1, 100)).await.unwrap(), "nonce 4 is taken");
        let deposit = NewTx { nonce: 5, purpose: TxPurpose::Deposit, sequence: None, round: None, ..commit.clone() };
        assert!(store.record_transaction(&deposit, &attempt(1, 100)).await.unwrap());
        store.record_attempt(account, 4, &attempt(2, 125)).await.unwrap();
        assert!(store.record_attempt(account, 4, &attempt(2, 150)).await.is_err(), "attempt 2 exists");
        assert_eq!(store.next_recorded_nonce(account).await.unwrap(), Some(6));

        let pending = store.pending_transactions(account).await.unwrap();
        assert_eq!(pending.len(), 2);
        assert_eq!(pending[0].tx, commit);
        assert_eq!(pending[0].attempts.len(), 2);
        assert_eq!(pending[0].latest().max_fee_per_gas, 125);
        assert_eq!(pending[1].tx.purpose, TxPurpose::Deposit);

        let mined = TxOutcome {
            status: TxStatus::Mined,
            mined_hash: Some(attempt(2, 0).hash),
            block: Some(12),
            gas_used: Some(51_000),
        };
        store.finish_transaction(account, 4, &mined).await.unwrap();
        let record = store.transaction(account, 4).await.unwrap().unwrap();
        assert_eq!((record.status, record.block, record.gas_used), (TxStatus::Mined, Some(12), Some(51_000)));
        assert_eq!(store.pending_transactions(account).await.unwrap().len(), 1);
        assert_eq!(store.transactions(account).await.unwrap().len(), 2);
        assert!(store.pending_transactions("0xbb").await.unwrap().is_empty(), "accounts are apart");
        let counts = store.transaction_counts().await.unwrap();
        assert_eq!(counts.iter().map(|c| c.count).sum::<u64>(), 2);
    })
    .await;
}
