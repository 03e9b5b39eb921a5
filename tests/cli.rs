//! The `zkpor` command as a newcomer meets it: the README's flow on the
//! sample snapshot, and the errors bad input and tampering get.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/basic");
/// A shape small enough for CI that holds the sample (4 assets, 30 accounts).
const SHAPE: &str = "b16-a4-k2-l1";

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
            .args(["exchange", "prove", SAMPLE, "--shape", SHAPE, "--seed", "1", "--sequence", "2"])
            .args(["--submitter", "0x00000000000000000000000000000000000000aa", "--out"])
            .arg(&out)
            .assert()
            .success()
            .stdout(contains("proved 30 accounts with shape b16-a4-k2-l1"));
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
    assert!(out.contains("30 accounts, 4 assets, fits shape b1024-a4-k8-l1"), "{out}");
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

    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("zkpor"))
        .args(["exchange", "check", SAMPLE])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
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
fn prove_refuses_a_shape_the_snapshot_does_not_fit_before_proving() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    zkpor()
        .args(["exchange", "prove", SAMPLE, "--shape", "b4-a2-k2-l1", "--out"])
        .arg(&out)
        .assert()
        .failure()
        .stderr(contains("assets.csv:4: asset 'USDT' is asset number 3 but the circuit shape holds at most 2 assets"));
    zkpor()
        .args(["exchange", "prove", SAMPLE, "--shape", "b4-a4-k2-l1", "--out"])
        .arg(&out)
        .assert()
        .failure()
        .stderr(contains("the snapshot has 30 accounts but shape b4-a4-k2-l1 holds 8"));
    zkpor()
        .args(["exchange", "prove", SAMPLE, "--shape", "b1000-a4-k2-l1", "--out"])
        .arg(&out)
        .assert()
        .failure()
        .stderr(contains("must be a power of two"));
    assert!(!out.exists());
}

#[test]
fn prove_refuses_an_output_directory_with_content() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("precious.txt"), "keep").unwrap();
    zkpor()
        .args(["exchange", "prove", SAMPLE, "--shape", SHAPE, "--out"])
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

    let statement: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("statement.json")).unwrap()).unwrap();
    let root = statement["root"].as_str().unwrap();
    zkpor().arg("verify-user").arg(&file).args(["--root", root]).assert().success();
}

#[test]
fn verify_user_says_which_part_fails() {
    let out = proven();
    let proof = stdout_of(zkpor().args(["exchange", "user-proof"]).arg(out).args(["--id", "bob"]));
    let dir = tempfile::tempdir().unwrap();

    let inflated = dir.path().join("inflated.json");
    let mut value: serde_json::Value = serde_json::from_str(&proof).unwrap();
    value["balances"][2]["equity"] = "1000000".into();
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
