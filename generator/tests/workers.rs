//! Prover workers over HTTP prove a sequence end to end, on SQLite and on
//! PostgreSQL: batches in parallel, then the node and the final proof, each
//! proof checked before it is stored.

mod common;

use std::time::Duration;

use common::{SUBMITTER, TestAgent, circuits, prove_with_workers};
use zkpor_circuits::final_wrap::FinalInputs;
use zkpor_store::ProvingState;
use zkpor_store::scratch::ScratchDatabase;

#[tokio::test(flavor = "multi_thread")]
async fn two_workers_prove_a_sequence_on_either_database() {
    for database in ScratchDatabase::both().await.unwrap() {
        let dialect = database.dialect();
        // 6 users: one batch, a node over it, the top node, the final proof.
        let agent = TestAgent::start(database, 6, 3).await;
        let accepted = prove_with_workers(&[(&agent, 0), (&agent, 1)], &agent, Duration::from_secs(300)).await;
        assert_eq!(agent.status().await, ProvingState::Proven, "{dialect:?}");
        assert_eq!(accepted, 4, "{dialect:?}: a batch, the node over it, the top, the final proof");

        // The final proof is a real one for the sequence's statement and submitter.
        let store = agent.generator.store();
        let sequence = store.sequence(1).await.unwrap().unwrap().info;
        let proof = store.final_proof(1).await.unwrap().unwrap();
        let set = circuits().get(&sequence.family).unwrap();
        let proof = set.final_wrap().unwrap().proof_from_bytes(proof).unwrap();
        let inputs =
            FinalInputs { root: sequence.root.0, digest: sequence.digest.0, sequence: 1, submitter: SUBMITTER };
        set.final_wrap().unwrap().verify(&proof, &inputs).unwrap();

        // Metrics tell what happened.
        let metrics = reqwest::get(agent.url.join("metrics").unwrap()).await.unwrap().text().await.unwrap();
        assert!(metrics.contains(r#"zkpor_tasks{kind="final",status="done"} 1"#), "{metrics}");
        assert!(metrics.contains("zkpor_leases_in_flight 0"), "{metrics}");
        assert!(metrics.contains(r#"zkpor_sequences{status="proven"} 1"#), "{metrics}");
        assert!(metrics.contains("zkpor_seconds_since_last_accepted_proof"), "{metrics}");
        assert!(metrics.contains("zkpor_proving_seconds_bucket"), "{metrics}");
        assert!(metrics.contains(r#"zkpor_proof_check_seconds_count{kind="batch"} 1"#), "{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_agents_sharing_a_postgres_database_prove_each_task_once() {
    let first = TestAgent::start(ScratchDatabase::postgres().await.unwrap(), 8, 3).await;
    let second = first.another().await;
    let workers = [(&first, 0), (&first, 1), (&second, 2), (&second, 0)];
    let accepted = prove_with_workers(&workers, &second, Duration::from_secs(300)).await;
    assert_eq!(accepted, 4, "a batch, the node over it, the top, the final proof: each proven once");
    assert!(first.generator.store().task_errors(1).await.unwrap().is_empty());
    assert_eq!(first.status().await, ProvingState::Proven);
}
