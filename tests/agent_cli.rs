//! `zkpor agent` and `zkpor prover` as processes, as an operator runs them:
//! an agent on a configuration file, a prover worker proving a sequence over
//! HTTP, offline export, proving and import of a task, and the errors a
//! wrong token or a bad configuration get.

use std::path::Path;
use std::time::{Duration, Instant};

use predicates::str::contains;

mod common;
use common::{TOKEN, bench_output, free_port, row, start_agent, start_prover, status, write_snapshot, zkpor};

/// Writes an agent configuration in `dir` serving on `port`, proving each
/// `(directory, sequence)` snapshot on the tiny family; its path.
fn write_config(dir: &Path, port: u16, snapshots: &[(&str, u64)]) -> std::path::PathBuf {
    let mut text = format!(
        r#"
database_url = "sqlite://{db}"
[api]
listen = "127.0.0.1:{port}"
[leases]
duration_secs = 10
reap_interval_secs = 1
[[workers]]
name = "rig"
token = "{TOKEN}"
[source]
submitter = "0x00000000000000000000000000000000000000aa"
"#,
        db = dir.join("agent.sqlite").display()
    );
    for (path, sequence) in snapshots {
        text += &format!(
            "[[source.snapshots]]\npath = \"{path}\"\nsequence = {sequence}\nfamily = \"tiny\"\nseed = {sequence}\n"
        );
    }
    let config = dir.join("agent.toml");
    std::fs::write(&config, text).unwrap();
    config
}

#[test]
fn an_agent_and_a_prover_process_prove_sequences_online_and_offline() {
    let dir = tempfile::tempdir().unwrap();
    write_snapshot(&dir.path().join("first"), 6);
    write_snapshot(&dir.path().join("second"), 2);
    let port = free_port();
    let config = write_config(dir.path(), port, &[("first", 1), ("second", 2)]);
    let agent = start_agent(&config, port);
    let url = format!("http://127.0.0.1:{port}");

    // A wrong token is refused outright.
    zkpor()
        .args(["prover", "--agent", &url, "--token", "not-the-token-at-all"])
        .assert()
        .failure()
        .stderr(contains("the agent refuses this worker: unknown token"));

    // Sequence 2's batch goes offline: exported, proven from the file, imported.
    let task_file = dir.path().join("task.json");
    let proof_file = dir.path().join("proof.json");
    zkpor()
        .args(["agent", "--config"])
        .arg(&config)
        .args(["export-task", "s2-batch-0-0", "--out"])
        .arg(&task_file)
        .assert()
        .success()
        .stderr(contains("leased to the offline prover"));
    zkpor()
        .args(["agent", "--config"])
        .arg(&config)
        .args(["export-task", "s2-batch-0-0"])
        .assert()
        .failure()
        .stderr(contains("task s2-batch-0-0 is not ready to lease (it is leased)"));
    zkpor().args(["prover", "prove-task"]).arg(&task_file).arg("--out").arg(&proof_file).assert().success();
    zkpor()
        .args(["agent", "--config"])
        .arg(&config)
        .arg("import-proof")
        .arg(&proof_file)
        .assert()
        .success()
        .stdout(contains("proof of s2-batch-0-0 accepted"));

    // A worker proves the rest: sequence 1's 4 tasks (one batch, the two node
    // levels of the tiny family, the final), sequence 2's other 3.
    zkpor()
        .args(["prover", "--agent", &url, "--max-tasks", "7", "--idle-wait", "1"])
        .env("ZKPOR_WORKER_TOKEN", TOKEN)
        .timeout(Duration::from_secs(300))
        .assert()
        .success()
        .stderr(contains("worker done: 7 accepted, 0 rejected"));
    let report = status(&config);
    assert_eq!(row(&report, "1").unwrap(), ["1", "tiny", "6", "proven"], "{report}");
    assert_eq!(row(&report, "2").unwrap(), ["2", "tiny", "2", "proven"], "{report}");
    assert_eq!(row(&report, "offline").unwrap(), ["offline", "1", "0", "0"], "{report}");
    assert_eq!(row(&report, "rig").unwrap(), ["rig", "7", "0", "0"], "{report}");
    drop(agent);
}

#[test]
fn an_agent_killed_mid_sequence_resumes_without_losing_or_redoing_a_proof() {
    let dir = tempfile::tempdir().unwrap();
    write_snapshot(&dir.path().join("snapshot"), 6);
    let port = free_port();
    let config = write_config(dir.path(), port, &[("snapshot", 1)]);
    let agent = start_agent(&config, port);
    let mut prover = start_prover(port);
    let accepted = |config: &Path| row(&status(config), "rig").map_or(0, |words| words[1].parse::<u32>().unwrap());
    let deadline = Instant::now() + Duration::from_secs(300);
    while accepted(&config) < 2 {
        assert!(Instant::now() < deadline, "the batch and the first node were not proven");
        std::thread::sleep(Duration::from_millis(200));
    }
    // SIGKILL while the worker proves the top node, then start again.
    drop(agent);
    let _agent = start_agent(&config, port);
    while row(&status(&config), "1").is_none_or(|words| words[3] != "proven") {
        assert!(Instant::now() < deadline, "the sequence was not proven after the restart");
        assert!(prover.0.try_wait().unwrap().is_none(), "the worker gave up");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Each of the 4 tasks proven and accepted once: nothing lost, nothing redone.
    assert_eq!(row(&status(&config), "rig").unwrap()[1..4], ["4", "0", "0"]);
    let _ = prover.0.kill();
}

#[test]
fn a_bad_configuration_is_refused_with_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("agent.toml");
    let refused = |config: &Path, message: &str| {
        zkpor().args(["agent", "--config"]).arg(config).arg("status").assert().failure().stderr(contains(message));
    };
    let submitter = "[source]\nsubmitter = \"0x00000000000000000000000000000000000000aa\"\n";
    std::fs::write(&config, format!("{submitter}[leases]\nmax_failures = 0\n")).unwrap();
    refused(&config, "leases.max_failures");
    refused(&dir.path().join("missing.toml"), "no configuration file at");
    std::fs::write(&config, format!("database_url = \"mysql://x\"\n{submitter}")).unwrap();
    refused(&config, "is not a database URL");
    zkpor().args(["prover"]).assert().failure().stderr(contains("--agent URL is required"));
}

/// The dispatch benchmark runs on both databases and prints its table (two
/// batches a sequence here; the figures that count come from the defaults).
#[test]
fn the_dispatch_benchmark_measures_both_databases() {
    let table = bench_output(
        &["dispatch", "--family", "tiny", "--batches", "2", "--sequences", "2", "--workers", "2"],
        &["sqlite    direct", "sqlite    http", "postgres  direct", "postgres  http"],
    );
    assert!(table.contains("agent cost (ms/task)"), "{table}");
}
