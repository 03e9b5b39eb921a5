//! What the worker API refuses, and how: no or unknown tokens, malformed
//! requests, unknown tasks, oversized bodies, forged and mismatched proofs
//! (counted against the worker), replays, late results for a lease that
//! expired and went to someone else; a task that fails too often parks its
//! sequence. Also offline proving through task and proof files.

mod common;

use std::time::Duration;

use common::{TOKENS, TestAgent, circuits};
use reqwest::StatusCode;
use zkpor_prover::ClientError;
use zkpor_prover::offline::prove_task_file;
use zkpor_store::ProvingState;
use zkpor_store::scratch::ScratchDatabase;
use zkpor_tasks::protocol::{LeaseGrant, ProofFile, ProofResult};
use zkpor_tasks::{ProofBytes, TaskKey, TaskKind, prove_task};

async fn post(agent: &TestAgent, path: &str, token: Option<&str>, body: String) -> (StatusCode, String) {
    let mut request = reqwest::Client::new()
        .post(agent.url.join(path).unwrap())
        .header("content-type", "application/json")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// A real proof of `grant`'s task.
fn proof_of(grant: &LeaseGrant) -> Vec<u8> {
    prove_task(&circuits().get(&grant.spec.family).unwrap(), &grant.spec).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_without_a_valid_token_or_body_are_refused_with_the_reason() {
    let agent = TestAgent::start(ScratchDatabase::sqlite().unwrap(), 3, 3).await;
    let token = Some(TOKENS[0].1);
    let (status, body) = post(&agent, "v1/lease", None, "{}".into()).await;
    assert_eq!((status, body.contains("no bearer token")), (StatusCode::UNAUTHORIZED, true), "{body}");
    let (status, body) = post(&agent, "v1/lease", Some("not-a-known-token-at-all"), "{}".into()).await;
    assert_eq!((status, body.contains("unknown token")), (StatusCode::UNAUTHORIZED, true), "{body}");

    let (status, body) = post(&agent, "v1/tasks/s1-batch-0-9/heartbeat", token, r#"{"lease_id":"x"}"#.into()).await;
    assert_eq!((status, body.contains("there is no task s1-batch-0-9")), (StatusCode::NOT_FOUND, true), "{body}");
    let (status, body) = post(&agent, "v1/tasks/batch-zero/heartbeat", token, r#"{"lease_id":"x"}"#.into()).await;
    assert_eq!((status, body.contains("is not a task id")), (StatusCode::BAD_REQUEST, true), "{body}");
    let (status, body) = post(&agent, "v1/tasks/s1-batch-0-0/result", token, r#"{"lease":"x"}"#.into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("lease"), "the reason names the field: {body}");
    let (status, _) = post(&agent, "v1/tasks/s1-batch-0-0/result", token, "not json".into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let huge = format!(r#"{{"lease_id":"x","proof":"{}","proving_ms":1}}"#, "A".repeat(5 << 20));
    let (status, _) = post(&agent, "v1/tasks/s1-batch-0-0/result", token, huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _) = post(&agent, "v1/nothing", token, "{}".into()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_is_leased_only_the_kinds_of_task_it_takes() {
    let agent = TestAgent::start(ScratchDatabase::sqlite().unwrap(), 2, 3).await;
    let (batches_only, upper_only) = (agent.client(0), agent.client(1));
    let upper = [TaskKind::Node, TaskKind::Final];
    assert!(upper_only.lease(&upper).await.unwrap().is_none(), "only the batch is ready");
    let batch = batches_only.lease(&[TaskKind::Batch]).await.unwrap().unwrap();
    assert_eq!(batch.spec.key.kind, TaskKind::Batch);
    let proof = ProofResult { lease_id: batch.lease_id.clone(), proof: ProofBytes(proof_of(&batch)), proving_ms: 1 };
    let ack = batches_only.submit(&batch.spec.key, &proof).await.unwrap();
    assert!(!ack.ready.is_empty() && ack.ready.iter().all(|key| key.kind != TaskKind::Batch), "{:?}", ack.ready);
    assert!(batches_only.lease(&[TaskKind::Batch]).await.unwrap().is_none(), "no batch is left");
    let next = upper_only.lease(&upper).await.unwrap().unwrap();
    assert_eq!(next.spec.key, ack.ready[0]);

    let token = Some(TOKENS[0].1);
    let (status, body) = post(&agent, "v1/lease", token, r#"{"kinds":[]}"#.into()).await;
    assert_eq!((status, body.contains("at least one kind")), (StatusCode::BAD_REQUEST, true), "{body}");
    let (status, body) = post(&agent, "v1/lease", token, r#"{"kinds":["witness"]}"#.into()).await;
    assert_eq!((status, body.contains("kinds")), (StatusCode::BAD_REQUEST, true), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_mismatched_replayed_and_late_proofs_change_nothing() {
    // 150 users: two batches of the tiny family's lower tier.
    let agent = TestAgent::start(ScratchDatabase::sqlite().unwrap(), 150, 5).await;
    let (a, b) = (agent.client(0), agent.client(1));
    let first = a.lease(&TaskKind::ALL).await.unwrap().unwrap();
    let second = b.lease(&TaskKind::ALL).await.unwrap().unwrap();
    assert_ne!(first.spec.key, second.spec.key);
    let key = first.spec.key;

    // Garbage: rejected and counted against the worker, the task back in the queue.
    let garbage = ProofResult { lease_id: first.lease_id.clone(), proof: ProofBytes(vec![1, 2, 3]), proving_ms: 1 };
    let refused = a.submit(&key, &garbage).await.unwrap_err();
    assert!(
        matches!(refused, ClientError::Rejected(ref m) if m.contains("not a proof of this task's circuit")),
        "{refused}"
    );
    // A real proof of the other batch, for this one: a mismatch.
    let first = a.lease(&TaskKind::ALL).await.unwrap().unwrap();
    assert_eq!(first.spec.key, key, "the rejected task is ready again");
    let other = ProofResult { lease_id: first.lease_id.clone(), proof: ProofBytes(proof_of(&second)), proving_ms: 1 };
    let refused = a.submit(&key, &other).await.unwrap_err();
    assert!(matches!(refused, ClientError::Rejected(ref m) if m.contains("other public inputs")), "{refused}");
    // Someone else's lease id is not ours.
    let third = a.lease(&TaskKind::ALL).await.unwrap().unwrap();
    let stolen = ProofResult { lease_id: third.lease_id.clone(), proof: ProofBytes(proof_of(&third)), proving_ms: 1 };
    assert!(matches!(b.submit(&key, &stolen).await, Err(ClientError::LeaseLost(_))));
    // The right proof is accepted; sending it again is a replay.
    assert!(a.submit(&key, &stolen).await.is_ok());
    assert!(matches!(a.submit(&key, &stolen).await, Err(ClientError::LeaseLost(_))));

    // Worker b's lease expires; worker c takes the task over; b's late
    // result is discarded, c's accepted.
    agent.advance(Duration::from_secs(120));
    assert_eq!(agent.generator.reap().await.unwrap(), 1);
    let c = agent.client(2);
    let retry = c.lease(&TaskKind::ALL).await.unwrap().unwrap();
    assert_eq!(retry.spec.key, second.spec.key);
    let late = ProofResult { lease_id: second.lease_id.clone(), proof: ProofBytes(proof_of(&second)), proving_ms: 9 };
    assert!(matches!(b.submit(&second.spec.key, &late).await, Err(ClientError::LeaseLost(_))));
    assert!(matches!(b.heartbeat(&second.spec.key, &second.lease_id).await, Err(ClientError::LeaseLost(_))));
    let fresh = ProofResult { lease_id: retry.lease_id.clone(), proof: late.proof.clone(), proving_ms: 9 };
    let ack = c.submit(&retry.spec.key, &fresh).await.unwrap();
    assert_eq!(ack.ready, vec!["s1-node-0-0".parse::<TaskKey>().unwrap()]);

    let stats = agent.generator.store().worker_stats().await.unwrap();
    let counts: Vec<(&str, u64, u64, u64)> =
        stats.iter().map(|w| (w.name.as_str(), w.accepted, w.rejected, w.failed)).collect();
    assert_eq!(counts, [("rig-a", 1, 2, 0), ("rig-b", 0, 0, 1), ("rig-c", 1, 0, 0)]);
    let metrics = reqwest::get(agent.url.join("metrics").unwrap()).await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"zkpor_proofs_rejected_total{worker="rig-a"} 2"#), "{metrics}");
    assert!(metrics.contains(r#"zkpor_task_failures_total{worker="rig-b"} 1"#), "{metrics}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_that_keeps_failing_parks_its_sequence_with_the_errors() {
    let agent = TestAgent::start(ScratchDatabase::sqlite().unwrap(), 2, 2).await;
    let a = agent.client(0);
    let grant = a.lease(&TaskKind::ALL).await.unwrap().unwrap();
    let ack = a.fail(&grant.spec.key, &grant.lease_id, "out of memory").await.unwrap();
    assert_eq!((ack.attempts, ack.parked), (1, false));
    let again = a.lease(&TaskKind::ALL).await.unwrap().unwrap();
    assert_eq!(again.spec.key, grant.spec.key, "the failed task is ready again, first in line");
    let ack = a.fail(&again.spec.key, &again.lease_id, "out of memory again").await.unwrap();
    assert_eq!((ack.attempts, ack.parked), (2, true));
    assert_eq!(agent.status().await, ProvingState::Failed);
    let row = agent.generator.store().sequence(1).await.unwrap().unwrap();
    assert!(row.error.unwrap().contains("out of memory again"));
    assert!(a.lease(&TaskKind::ALL).await.unwrap().is_none(), "nothing of a failed sequence is leased");
    let errors = agent.generator.store().task_errors(1).await.unwrap();
    assert_eq!(errors.iter().map(|e| e.error.as_str()).collect::<Vec<_>>(), ["out of memory", "out of memory again"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_proving_through_files_meets_the_same_checks() {
    // 150 users: two batches of the tiny family's lower tier.
    let agent = TestAgent::start(ScratchDatabase::sqlite().unwrap(), 150, 3).await;
    let key: TaskKey = "s1-batch-0-0".parse().unwrap();
    let task = agent.generator.export_task(&key).await.unwrap();
    // Exported tasks are leased to the offline prover: not handed to workers.
    let leased = agent.client(0).lease(&TaskKind::ALL).await.unwrap().unwrap();
    assert_ne!(leased.spec.key, key);
    assert!(agent.generator.export_task(&key).await.is_err(), "a task is exported once");
    // The files survive a round trip through JSON.
    let task = serde_json::from_str(&serde_json::to_string(&task).unwrap()).unwrap();
    let proof: ProofFile = prove_task_file(&circuits(), &task).unwrap();
    let proof: ProofFile = serde_json::from_str(&serde_json::to_string(&proof).unwrap()).unwrap();
    // A tampered proof is refused like one over HTTP; the genuine one goes in once.
    let mut tampered = proof.clone();
    let middle = tampered.result.proof.0.len() / 2;
    tampered.result.proof.0[middle] ^= 1;
    assert!(agent.generator.import_proof(tampered).await.is_err());
    let again = agent.generator.export_task(&key).await.unwrap();
    let proof = ProofFile { task: key, result: ProofResult { lease_id: again.lease_id, ..proof.result } };
    agent.generator.import_proof(proof.clone()).await.unwrap();
    assert!(agent.generator.import_proof(proof).await.is_err(), "a replayed import is refused");
    assert_eq!(agent.generator.store().task_status(&key).await.unwrap(), Some(zkpor_store::TaskState::Done));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_whose_proofs_keep_failing_the_checks_is_quarantined_until_reset() {
    // Two batches: one for another worker, one for the re-admitted one.
    let agent = TestAgent::start(ScratchDatabase::sqlite().unwrap(), 150, 3).await;
    let bad = agent.client(0);
    for _ in 0..3 {
        let grant = bad.lease(&TaskKind::ALL).await.unwrap().unwrap();
        let garbage = ProofResult { lease_id: grant.lease_id, proof: ProofBytes(vec![0; 8]), proving_ms: 1 };
        assert!(matches!(bad.submit(&grant.spec.key, &garbage).await, Err(ClientError::Rejected(_))));
    }
    // Its rejections never failed the task or the sequence...
    assert_eq!(agent.status().await, ProvingState::Proving);
    // ...but it gets no more leases; others still do.
    let (status, body) = post(&agent, "v1/lease", Some(TOKENS[0].1), "{}".into()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("quarantined after 3 rejected proofs") && body.contains("reset-worker rig-a"), "{body}");
    assert!(agent.client(1).lease(&TaskKind::ALL).await.unwrap().is_some());
    assert!(agent.generator.store().reset_worker_rejections("rig-a").await.unwrap());
    assert!(bad.lease(&TaskKind::ALL).await.unwrap().is_some(), "re-admitted");
}
