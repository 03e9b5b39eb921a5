//! `zkpor exchange prove` on the sparse, tiered circuits, as a newcomer runs
//! it: prove, verify, fetch and check a user's proof, refuse bad tiers, and
//! resume a run that was killed.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::str::contains;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/basic");
/// Tiers small enough for CI: 25 of the sample's users hold at most 2 of
/// its 4 assets, 5 hold 3 or 4. Batches of six and three users: their trees
/// hold padding leaves past the users, up to eight and four.
const TIERS: &str = "11:s2-b6,s4-b3";

fn zkpor() -> Command {
    Command::cargo_bin("zkpor").unwrap()
}

fn prove_args(out: &Path) -> Vec<String> {
    ["exchange", "prove", SAMPLE, "--tiers", TIERS, "--out"]
        .into_iter()
        .map(String::from)
        .chain([out.display().to_string()])
        .collect()
}

/// The sample proven on tiered circuits, once per test binary.
fn proven() -> &'static Path {
    static OUT: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &OUT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        zkpor()
            .args(prove_args(&out))
            .args(["--seed", "1"])
            .assert()
            .success()
            .stdout(contains("proved 30 accounts with shape tiers 11:s2-b6,s4-b3 over 4 assets, children 6"));
        assert!(!dir.path().join("out.proofs").exists(), "the proofs of a finished run are removed");
        (dir, out)
    })
    .1
}

fn user_proof(out: &Path, id: &str) -> String {
    let output = zkpor().args(["exchange", "user-proof"]).arg(out).args(["--id", id]).assert().success();
    String::from_utf8(output.get_output().stdout.clone()).unwrap()
}

#[test]
fn a_tiered_output_verifies_and_answers_its_users() {
    let out = proven();
    zkpor()
        .arg("verify")
        .arg(out)
        .assert()
        .success()
        .stdout(contains("OK: the final proof verifies"))
        .stdout(contains("accounts 30"));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bob.json");
    let proof = user_proof(out, "bob");
    std::fs::write(&file, &proof).unwrap();
    zkpor()
        .arg("verify-user")
        .arg(&file)
        .assert()
        .success()
        .stdout(contains("'bob' is included"))
        .stdout(contains("USDT     equity 0 debt 2500"));

    // Bob's debt forgotten: the leaf no longer hashes into the tree.
    let forged = proof.replacen("\"debt\": \"2500\"", "\"debt\": \"0\"", 1);
    assert_ne!(forged, proof);
    std::fs::write(&file, forged).unwrap();
    zkpor().arg("verify-user").arg(&file).assert().failure().stderr(contains("the batch path leads to"));

    zkpor()
        .args(["exchange", "user-proof"])
        .arg(out)
        .args(["--id", "nobody-here"])
        .assert()
        .failure()
        .stderr(contains("no user 'nobody-here'"));
}

#[test]
fn bad_tiers_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let refuse = |tiers: &str, why: &str| {
        zkpor()
            .args(["exchange", "prove", SAMPLE, "--tiers", tiers, "--out"])
            .arg(&out)
            .assert()
            .failure()
            .stderr(contains(why));
        assert!(!out.exists());
    };
    refuse("11:s2-b8", "the largest tier has 2 slots; it must have one per asset (4)");
    refuse("11:s2-b8,s4-b1", "batch size must be in 2..=16384");
    refuse("s2-b8,s4-b4", "is not a tier set such as");
    refuse("8:s2-b1024,s4-b4", "lower its batch size");

    // The sample fits the dense circuits, which keep no proofs to resume from.
    zkpor()
        .args(["exchange", "prove", SAMPLE, "--proofs"])
        .arg(dir.path().join("kept"))
        .arg("--out")
        .arg(&out)
        .assert()
        .failure()
        .stderr(contains("--proofs keeps the proofs of a run on the tiered circuits"));
    assert!(!out.exists());
}

#[test]
fn a_killed_tiered_run_resumes_from_its_finished_proofs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let proofs = dir.path().join("kept");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("zkpor"))
        .args(prove_args(&out))
        .arg("--proofs")
        .arg(&proofs)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !proofs.join("batch-1.proof").exists() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before its second batch");
        assert!(started.elapsed() < Duration::from_secs(900), "no batch proof after 15 minutes");
        std::thread::sleep(Duration::from_millis(200));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!out.exists(), "a killed run writes no output");
    assert!(proofs.join("nonce-seed").exists());

    zkpor()
        .args(prove_args(&out))
        .arg("--proofs")
        .arg(&proofs)
        .assert()
        .success()
        .stdout(contains("tree proofs of the interrupted run reused"));
    assert!(!proofs.exists());
    let proof = user_proof(&out, "carol");
    let file = dir.path().join("carol.json");
    std::fs::write(&file, proof).unwrap();
    zkpor().arg("verify-user").arg(&file).assert().success();
}
