//! Prover workers over HTTP prove a sequence end to end, on SQLite and on
//! PostgreSQL: batches in parallel, then the node and the final proof, each
//! proof checked before it is stored.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{SUBMITTER, TestAgent, circuits, prove_with_workers, prove_with_workers_on};
use zkpor_circuits::aggregation::NodeKind;
use zkpor_circuits::circuits::BuildStep;
use zkpor_circuits::final_wrap::FinalInputs;
use zkpor_circuits::stored::{CircuitDirectory, file_name};
use zkpor_circuits::{Family, FamilyCircuits};
use zkpor_store::ProvingState;
use zkpor_store::scratch::ScratchDatabase;
use zkpor_tasks::CircuitCache;

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

/// A worker whose circuit directory holds the tiny family's files with tier
/// 1's circuit in tier 0's place and the top node cut short builds what it
/// cannot use (everything above tier 0 too, as those circuits pin its
/// verifier data), gets every proof accepted, and leaves the files as an
/// undamaged build writes them.
#[tokio::test(flavor = "multi_thread")]
async fn a_worker_with_damaged_circuit_files_rebuilds_them_and_its_proofs_are_accepted() {
    let family = Family::tiny();
    let shared = CircuitDirectory::at_default_location().expect("a home directory").family(&family);
    tokio::task::spawn_blocking({
        let shared = shared.clone();
        move || FamilyCircuits::load_or_build(&Family::tiny(), Some(&shared), |_| {}).map(|_| ())
    })
    .await
    .unwrap()
    .unwrap();
    let root = tempfile::tempdir().unwrap();
    let damaged = CircuitDirectory::new(root.path()).family(&family);
    std::fs::create_dir_all(damaged.dir()).unwrap();
    for entry in std::fs::read_dir(shared.dir()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, damaged.dir().join(path.file_name().unwrap())).unwrap();
    }
    let file = |files: &zkpor_circuits::stored::FamilyFiles, step| files.dir().join(file_name(step));
    std::fs::copy(file(&shared, BuildStep::Tier(1)), file(&damaged, BuildStep::Tier(0))).unwrap();
    let top = std::fs::read(file(&shared, BuildStep::Node(NodeKind::Top))).unwrap();
    std::fs::write(file(&damaged, BuildStep::Node(NodeKind::Top)), &top[..top.len() / 3]).unwrap();

    let agent = TestAgent::start(ScratchDatabase::sqlite().unwrap(), 6, 3).await;
    let cache = Arc::new(CircuitCache::on(Some(CircuitDirectory::new(root.path()))));
    let accepted = prove_with_workers_on(&cache, &[(&agent, 0)], &agent, Duration::from_secs(300)).await;
    assert_eq!(agent.status().await, ProvingState::Proven);
    assert_eq!(accepted, 4, "a batch, the node over it, the top, the final proof");
    cache.wait_until_built();
    for step in [BuildStep::Tier(0), BuildStep::Node(NodeKind::Top)] {
        assert!(
            std::fs::read(file(&damaged, step)).unwrap() == std::fs::read(file(&shared, step)).unwrap(),
            "{step} is written again as an undamaged build writes it"
        );
    }
}
