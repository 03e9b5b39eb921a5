//! The `zkpor` command as a newcomer meets it: the README's flow on the
//! sample snapshot (proven on the tiny family), the errors bad input and
//! tampering get, and a killed run that resumes from its finished proofs.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/basic");
/// The family small enough for CI that holds the sample (4 assets, 30 accounts).
const FAMILY: &str = "tiny";

fn zkpor() -> Command {
    Command::cargo_bin("zkpor").unwrap()
}

fn stdout_of(command: &mut Command) -> String {
    String::from_utf8(command.assert().success().get_output().stdout.clone()).unwrap()
}

/// `zkpor exchange prove` of the sample, once per test binary.
fn proven() -> &'static Path {
    static OUT: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &OUT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        zkpor()
            .args(["exchange", "prove", SAMPLE, "--family", FAMILY, "--seed", "1", "--sequence", "2"])
            .args(["--submitter", "0x00000000000000000000000000000000000000aa", "--out"])
            .arg(&out)
            .arg("--circuit-dir")
            .arg(dir.path().join("circuits"))
            .assert()
            .success()
            .stdout(contains("proved 30 accounts over 4 assets on family tiny"));
        assert!(!dir.path().join("out.proofs").exists(), "the proofs of a finished run are removed");
        (dir, out)
    })
    .1
}

fn write_snapshot(dir: &Path, assets: &str, balances: &[(&str, &str)]) {
    std::fs::write(dir.join("assets.csv"), assets).unwrap();
    for (name, text) in balances {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

#[test]
fn check_prints_accounts_assets_and_exact_totals() {
    let out = stdout_of(zkpor().args(["exchange", "check", SAMPLE]));
    assert!(out.contains("30 accounts, 4 assets, fits family standard (up to 512 assets)"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["BTC", "8", "91234.56", "1255.74144568", "0.1"]),
        "{out}"
    );
}

/// A reader that stops early (`zkpor exchange check DIR | head`) ends the
/// report quietly, as with other Unix tools, not with a panic.
#[cfg(unix)]
#[test]
fn check_ends_quietly_when_its_reader_goes_away() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;

    // The reading end is closed before the child starts, so its first write
    // meets a pipe with no reader: with `Stdio::piped()` a fast child could
    // fill the pipe's buffer and exit before the test closed it.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = std::process::Command::new(assert_cmd::cargo::cargo_bin("zkpor"))
        .args(["exchange", "check", SAMPLE])
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.signal(), Some(13), "ended by SIGPIPE: {:?}, {stderr}", output.status);
}

#[test]
fn check_reports_every_bad_row_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write_snapshot(
        dir.path(),
        "symbol,decimals,price_usd\nBTC,8,100\nUSDT,6,1\n",
        &[
            ("balances_a.csv", "id,BTC,USDT\nalice,1.2.3,5\nbob,0.1,-20\n"),
            ("balances_b.csv", "id,USDT,XRP\ncarol,1,2\n"),
        ],
    );
    let assert = zkpor().args(["exchange", "check"]).arg(dir.path()).assert().failure();
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    for expected in [
        "balances_a.csv:2: BTC: '1.2.3' is not a decimal number",
        "balances_a.csv:3: account 'bob' has negative net value -10 USD",
        "balances_b.csv:1: unknown asset 'XRP' (not in assets.csv)",
    ] {
        assert!(stderr.contains(expected), "missing '{expected}' in:\n{stderr}");
    }
}

#[test]
fn prove_refuses_bad_input_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    write_snapshot(dir.path(), "symbol,decimals,price_usd\nBTC,8,100\n", &[("balances.csv", "id,BTC\n,1\n")]);
    let out = dir.path().join("out");
    zkpor()
        .args(["exchange", "prove"])
        .arg(dir.path())
        .arg("--out")
        .arg(&out)
        .assert()
        .failure()
        .stderr(contains("balances.csv:2: empty id"));
    assert!(!out.exists());
}

#[test]
fn prove_refuses_a_family_the_snapshot_does_not_fit_before_proving() {
    let dir = tempfile::tempdir().unwrap();
    write_snapshot(
        dir.path(),
        "symbol,decimals,price_usd\nA,0,1\nB,0,1\nC,0,1\nD,0,1\nE,0,1\n",
        &[("balances.csv", "id,A,B,C,D,E\nalice,1,2,3,4,5\n")],
    );
    let out = dir.path().join("out");
    zkpor()
        .args(["exchange", "prove"])
        .arg(dir.path())
        .args(["--family", "tiny", "--out"])
        .arg(&out)
        .assert()
        .failure()
        .stderr(contains("asset 'E' is asset number 5, but the circuit family holds at most 4 assets"));
    zkpor()
        .args(["exchange", "prove", SAMPLE, "--family", "huge", "--out"])
        .arg(&out)
        .assert()
        .failure()
        .stderr(contains("no family is named 'huge'"));
    assert!(!out.exists());
}

#[test]
fn prove_refuses_an_output_directory_with_content() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("precious.txt"), "keep").unwrap();
    zkpor()
        .args(["exchange", "prove", SAMPLE, "--family", FAMILY, "--out"])
        .arg(dir.path())
        .assert()
        .failure()
        .stderr(contains("already exists and is not empty"));
}

#[test]
fn the_readme_flow_verifies_the_proof_and_a_user() {
    let out = proven();
    let verified = stdout_of(zkpor().arg("verify").arg(out));
    assert!(verified.contains("OK: the final proof verifies for sequence 2"), "{verified}");

    let proof = stdout_of(zkpor().args(["exchange", "user-proof"]).arg(out).args(["--id", "alice"]));
    let file = out.parent().unwrap().join("alice.json");
    std::fs::write(&file, &proof).unwrap();
    let checked = stdout_of(zkpor().arg("verify-user").arg(&file));
    assert!(checked.contains("OK: 'alice' is included in root 0x"), "{checked}");
    assert!(checked.contains("USDT     equity 1500 debt 0"), "{checked}");

    let statement: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("statement.json")).unwrap()).unwrap();
    let root = statement["root"].as_str().unwrap();
    zkpor().arg("verify-user").arg(&file).args(["--root", root]).assert().success();
}

#[test]
fn a_second_run_reads_the_circuits_the_first_kept() {
    let first = proven();
    let circuits = first.parent().unwrap().join("circuits");
    let kept: Vec<PathBuf> = std::fs::read_dir(&circuits).unwrap().map(|entry| entry.unwrap().path()).collect();
    assert!(
        kept.len() == 1 && kept[0].join("manifest.json").exists(),
        "one folder of the tiny family's circuits: {kept:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = zkpor()
        .args(["-v", "exchange", "prove", SAMPLE, "--family", FAMILY, "--seed", "1", "--sequence", "2"])
        .args(["--submitter", "0x00000000000000000000000000000000000000aa", "--out"])
        .arg(&out)
        .arg("--circuit-dir")
        .arg(&circuits)
        .assert()
        .success();
    let log = String::from_utf8_lossy(&output.get_output().stderr).to_string();
    assert!(log.contains("circuits ready read=7 built=0"), "{log}");
    let statement = |out: &Path| std::fs::read_to_string(out.join("statement.json")).unwrap();
    assert_eq!(statement(&out), statement(first), "the same statement, proven on the circuits read back");

    // `circuits family --build` reads them too, and finds the shipped digest.
    let output = zkpor()
        .args(["circuits", "family", "--family", FAMILY, "--build", "--circuit-dir"])
        .arg(&circuits)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&output.get_output().stderr).to_string();
    assert!(stderr.contains("family tiny: 7 circuits read, 0 built"), "{stderr}");
}

#[test]
fn verify_user_says_which_part_fails() {
    let out = proven();
    let proof = stdout_of(zkpor().args(["exchange", "user-proof"]).arg(out).args(["--id", "bob"]));
    let dir = tempfile::tempdir().unwrap();

    let inflated = dir.path().join("inflated.json");
    let mut value: serde_json::Value = serde_json::from_str(&proof).unwrap();
    assert_eq!(value["slots"][1]["symbol"], "ETH", "{proof}");
    value["slots"][1]["equity"] = "1000000".into();
    std::fs::write(&inflated, value.to_string()).unwrap();
    zkpor().arg("verify-user").arg(&inflated).assert().failure().stderr(contains("FAILED: the batch path leads to"));

    let plain = dir.path().join("bob.json");
    std::fs::write(&plain, &proof).unwrap();
    let other_root = format!("0x{}", "00".repeat(32));
    zkpor()
        .arg("verify-user")
        .arg(&plain)
        .args(["--root", &other_root])
        .assert()
        .failure()
        .stderr(contains("but the expected root is 0x0000"));

    // Bob's debt forgotten: the leaf no longer hashes into the tree.
    let forged = proof.replacen("\"debt\": \"2500\"", "\"debt\": \"0\"", 1);
    assert_ne!(forged, proof);
    std::fs::write(&plain, forged).unwrap();
    zkpor().arg("verify-user").arg(&plain).assert().failure().stderr(contains("the batch path leads to"));

    zkpor()
        .args(["exchange", "user-proof"])
        .arg(out)
        .args(["--id", "nobody"])
        .assert()
        .failure()
        .stderr(contains("no user 'nobody' in this snapshot"));
}

#[test]
fn verify_refuses_a_changed_statement() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(proven()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let path = dir.path().join("statement.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("\"debt\": \"0.1\"", "\"debt\": \"0\"", 1)).unwrap();
    zkpor().arg("verify").arg(dir.path()).assert().failure().stderr(contains("FAILED").and(contains("hashes to")));
}

#[test]
fn synth_writes_a_valid_reproducible_snapshot_and_refuses_a_full_directory() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for out in [&a, &b] {
        zkpor()
            .args(["exchange", "synth", "--accounts", "300", "--assets", "30", "--seed", "4", "--out"])
            .arg(out)
            .assert()
            .success();
    }
    assert_eq!(std::fs::read(a.join("balances.csv")).unwrap(), std::fs::read(b.join("balances.csv")).unwrap());
    let check = stdout_of(zkpor().args(["exchange", "check"]).arg(&a));
    assert!(check.contains("300 accounts, 30 assets"), "{check}");
    zkpor()
        .args(["exchange", "synth", "--accounts", "3", "--out"])
        .arg(&a)
        .assert()
        .failure()
        .stderr(predicates::str::contains("not empty"));
}

#[test]
fn a_killed_run_resumes_from_its_finished_proofs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let proofs = dir.path().join("kept");
    let args: Vec<std::ffi::OsString> = ["exchange", "prove", SAMPLE, "--family", FAMILY, "--proofs"]
        .into_iter()
        .map(Into::into)
        .chain([proofs.clone().into(), "--out".into(), out.clone().into()])
        .collect();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("zkpor"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !proofs.join("batch-0.proof").exists() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before its first batch was kept");
        assert!(started.elapsed() < Duration::from_secs(900), "no batch proof after 15 minutes");
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!out.exists(), "a killed run writes no output");
    assert!(proofs.join("nonce-seed").exists());

    zkpor().args(&args).assert().success().stdout(contains("tree proofs of the interrupted run reused"));
    assert!(!proofs.exists());
    let proof = stdout_of(zkpor().args(["exchange", "user-proof"]).arg(&out).args(["--id", "carol"]));
    let file = dir.path().join("carol.json");
    std::fs::write(&file, proof).unwrap();
    zkpor().arg("verify-user").arg(&file).assert().success();
}

#[test]
fn a_prover_refuses_a_kind_of_task_that_does_not_exist() {
    zkpor()
        .args(["prover", "--agent", "http://127.0.0.1:1", "--token", "t", "--kinds", "batch,witness"])
        .assert()
        .failure()
        .stderr(contains("'witness' is not a kind of task: batch, node or final"));
}

/// The witness endpoint benchmark serves a 220-asset exchange's batches and
/// counts every user it fetched (the figures that count come from larger
/// snapshots).
#[test]
fn the_witness_benchmark_serves_every_user_of_a_220_asset_exchange() {
    let out = stdout_of(zkpor().args(["bench", "witness", "--accounts", "300", "--assets", "220", "--clients", "2"]));
    assert!(out.contains("bytes per user") && out.contains("batches/s"), "{out}");
    let row: Vec<&str> = out.lines().last().unwrap().split_whitespace().collect();
    assert_eq!(row[0], "300", "every user fetched: {out}");
}
