//! `zkpor dev`, the whole network on one machine, as a newcomer runs it
//! (tiny family, a few users), and kept running with one agent on PostgreSQL
//! and the other on SQLite while a reader uses `zkpor root` and
//! `zkpor verify-user` and a front end fetches a user's proof over HTTP.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

mod common;
use common::{Running, status, zkpor};

/// The front end's token `zkpor dev` configures.
const FRONTEND_TOKEN: &str = "dev-frontend-token-0000";

/// One network at a time: two would share the two cores with a dozen
/// processes.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The small network (tiny family, eight users, four assets); T1 long
/// enough for the slower agent to commit on a loaded 2-core machine.
const TINY: [&str; 5] = ["--small", "--commit-window", "30", "--reveal-window", "5"];

#[test]
fn zkpor_dev_runs_the_network_end_to_end() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let output = zkpor().arg("dev").args(TINY).timeout(Duration::from_secs(900)).assert().success();
    let text = String::from_utf8(output.get_output().stdout.clone()).unwrap();
    for expected in [
        "deployed with the verifier of family tiny",
        "exchange posted sequence 1",
        "agent-a fetched sequence 1's witness and checked it against the posted root",
        "agent-b proved sequence 1",
        "sequence 1 verified on chain",
        "agent-a claimed its share of the reward",
        "agent-b claimed its share of the reward",
        "statement   hashes to the digest (checked here), 8 accounts, 4 assets, family tiny",
        "user00000000's inclusion proof, fetched from the exchange's front-end endpoint, leads to the verified root",
        "Summary",
    ] {
        assert!(text.contains(expected), "no '{expected}' in:\n{text}");
    }
    let posting = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|w| w[..].starts_with(&["exchange", "post"]));
    assert!(posting.is_some_and(|w| w[2].parse::<u64>().is_ok()), "the posting's gas in:\n{text}");
}

/// Reads `zkpor dev`'s output until it says everything keeps running;
/// returns the value printed after `key` in the summary.
fn summary_value(lines: &[String], key: &str) -> String {
    let line =
        lines.iter().find(|l| l.starts_with(&format!("{key} "))).unwrap_or_else(|| panic!("no {key}: {lines:?}"));
    line.split_whitespace().last().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
#[allow(clippy::await_holding_lock, reason = "the lock only keeps the two networks of this file apart")]
async fn two_agents_on_postgres_and_sqlite_an_exchange_and_a_reader() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let database = format!("postgres://postgres@127.0.0.1:5432/zkpor_dev_{}", std::process::id());
    let mut dev = Running(
        Command::new(assert_cmd::cargo::cargo_bin("zkpor"))
            .arg("dev")
            .args(TINY)
            .args(["--keep-running", "--agent-b-database", &database, "--dir"])
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let (send, receive) = mpsc::channel();
    let stdout = dev.0.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    while !lines.last().is_some_and(|l: &String| l.starts_with("Press Ctrl-C")) {
        let line = receive.recv_timeout(Duration::from_secs(600)).unwrap_or_else(|_| panic!("zkpor dev: {lines:#?}"));
        lines.push(line);
    }
    let rpc = summary_value(&lines, "rpc");
    let registry = summary_value(&lines, "registry");

    // The reader.
    let root = zkpor().args(["root", "--rpc", &rpc, "--registry", &registry]).assert().success();
    let text = String::from_utf8(root.get_output().stdout.clone()).unwrap();
    assert!(text.contains("sequence 1: verified") && text.contains("hashes to the digest"), "{text}");
    assert!(text.contains("this build's verifier of family tiny (checked here)"), "{text}");
    let json = zkpor().args(["root", "--json", "--rpc", &rpc, "--registry", &registry]).assert().success();
    let report: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    assert_eq!(report["provers"].as_array().unwrap().len(), 2, "both agents proved it: {report}");
    assert_eq!(report["statement"]["account_count"], 8);
    assert_eq!(report["statement"]["family"], "tiny");
    assert_eq!(report["verifier"], serde_json::json!({"verdict": "vouched", "family": "tiny"}), "{report}");

    // A user's proof from the exchange's front-end endpoint.
    let config = std::fs::read_to_string(dir.path().join("exchange.toml")).unwrap();
    let listen = config.lines().find_map(|l| l.strip_prefix("listen = ")).unwrap().trim_matches('"').to_string();
    let url = format!("http://{listen}/v1/users/user00000003/proof");
    let client = reqwest::Client::new();
    assert_eq!(client.get(&url).send().await.unwrap().status(), 401, "no token");
    let as_agent = client.get(&url).bearer_auth("agent-a-exchange-token").send().await.unwrap();
    assert_eq!(as_agent.status(), 403, "agents may not read user proofs");
    let proof = client.get(&url).bearer_auth(FRONTEND_TOKEN).send().await.unwrap();
    assert_eq!(proof.status(), 200);
    let file = dir.path().join("user00000003.json");
    std::fs::write(&file, proof.bytes().await.unwrap()).unwrap();
    let verify =
        zkpor().arg("verify-user").arg(&file).args(["--rpc", &rpc, "--registry", &registry]).assert().success();
    let text = String::from_utf8(verify.get_output().stdout.clone()).unwrap();
    assert!(text.contains("verified in block"), "{text}");

    // A proof whose balance was raised (in a slot of its leaf that holds no
    // debt) does not lead to the on-chain root: its batch path breaks.
    let mut forged: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let no_debt = |slot: &&mut serde_json::Value| {
        slot["debt"].as_str().is_some_and(|debt| debt.trim_matches(|c| c == '0' || c == '.').is_empty())
    };
    let slots = forged["slots"].as_array_mut().expect("the proof lists its leaf's slots");
    let slot = slots.iter_mut().find(no_debt).expect("a slot without debt");
    slot["equity"] = serde_json::Value::from("1000000");
    std::fs::write(&file, forged.to_string()).unwrap();
    let refused =
        zkpor().arg("verify-user").arg(&file).args(["--rpc", &rpc, "--registry", &registry]).assert().failure();
    let error = String::from_utf8(refused.get_output().stderr.clone()).unwrap();
    assert!(error.contains("the id, nonce, slots, position or batch path is wrong"), "{error}");

    // Each agent's database tells the same story, PostgreSQL and SQLite, once
    // the agent has seen its claim mined (the chain may show it a moment
    // before the agent records it).
    for agent in ["agent-a", "agent-b"] {
        let config = dir.path().join(format!("{agent}.toml"));
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let report = loop {
            let report = status(&config);
            if report.contains("rewarded") || std::time::Instant::now() > deadline {
                break report;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        let submission = report.lines().find(|l| l.contains("rewarded")).unwrap_or_else(|| panic!("{agent}: {report}"));
        assert!(submission.trim_start().starts_with('1'), "{agent}: {report}");
    }
    assert!(std::fs::read_to_string(dir.path().join("agent-b.toml")).unwrap().contains(&database));

    assert!(dev.terminate(), "zkpor dev exits cleanly on SIGTERM");
    <sqlx::Postgres as sqlx::migrate::MigrateDatabase>::force_drop_database(&database).await.unwrap();
    assert!(Path::new(dir.path()).join("logs/exchange.log").is_file(), "--dir is kept");
}
