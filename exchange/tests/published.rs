//! A proving run of the sample snapshot: the files it writes, the user
//! proofs it answers, and how each check reports tampering.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpor_circuits::Family;
use zkpor_circuits::encoding::{Address, HashHex};
use zkpor_circuits::stored::CircuitDirectory;
use zkpor_exchange::committed::CommittedSnapshot;
use zkpor_exchange::pipeline::{ProveOptions, Proven, Silent, prove};
use zkpor_exchange::published::{
    FINAL_META_FILE, FINAL_PROOF_FILE, STATEMENT_FILE, StatementFile, USER_STORE_FILE, read_json, write_output,
};
use zkpor_exchange::user_proof::{InclusionError, UserProof};
use zkpor_exchange::user_store::UserStore;
use zkpor_exchange::verify::verify_output;
use zkpor_snapshot::{LoadOptions, Snapshot};

fn sample() -> Snapshot {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/basic");
    Snapshot::load(&dir, &LoadOptions::default()).expect("the sample snapshot is valid")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// The circuit directory the other tests and the `zkpor` processes use, so
/// that the tiny family is built once per machine.
fn circuits() -> Option<CircuitDirectory> {
    CircuitDirectory::at_default_location()
}

struct Run {
    _root: tempfile::TempDir,
    out: PathBuf,
    proven: Proven,
}

/// One proving run shared by the tests of this file.
fn run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        let options = ProveOptions {
            family: Family::tiny(),
            sequence: 4,
            submitter: Address([0xab; 20]),
            seed: Some(1),
            proofs: None,
            circuit_dir: circuits(),
        };
        let proven = prove(sample(), &options, &Silent).unwrap();
        runtime().block_on(write_output(&out, &proven)).unwrap();
        Run { _root: root, out, proven }
    })
}

fn output() -> &'static Path {
    &run().out
}

fn copy_output(to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(output()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn user_proof(id: &str) -> UserProof {
    let store = output().join(USER_STORE_FILE);
    runtime().block_on(async {
        let store = UserStore::open(&store).await.unwrap();
        store.user_proof(id).await.unwrap()
    })
}

#[test]
fn the_output_verifies_and_describes_the_snapshot() {
    let verified = verify_output(output(), |_| {}).unwrap();
    assert_eq!(verified.inputs.sequence, 4);
    assert_eq!(verified.inputs.submitter, Address([0xab; 20]));
    let statement = &verified.statement;
    assert_eq!(statement.account_count, 30);
    assert_eq!((statement.family.as_str(), statement.assets.len()), ("tiny", 4));
    let btc = &statement.assets[0];
    assert_eq!((btc.symbol.as_str(), btc.decimals, btc.price_usd.as_str()), ("BTC", 8, "91234.56"));
    let snapshot = sample();
    assert_eq!(btc.equity, zkpor_snapshot::decimal::format_units(snapshot.equity_totals()[0].into(), 8));
}

#[test]
fn every_user_gets_a_proof_that_checks_against_the_root() {
    let statement: StatementFile = read_json(&output().join(STATEMENT_FILE)).unwrap();
    for account in sample().accounts() {
        let proof = user_proof(&account.id);
        let started = std::time::Instant::now();
        let root = proof.verify(Some(statement.root.0)).unwrap();
        assert!(started.elapsed().as_millis() < 50, "a user proof checks in milliseconds");
        assert_eq!(HashHex(root), statement.root);
    }
}

#[test]
fn a_user_proof_names_the_part_that_fails() {
    let proof = user_proof("alice");
    assert_eq!((proof.slots[0].symbol.as_str(), proof.slots[0].equity.as_str()), ("BTC", "0.5"));

    let mut richer = proof.clone();
    richer.slots[0].equity = "0.6".into();
    assert!(matches!(richer.verify(None), Err(InclusionError::Broken { ref part, .. }) if part == "batch"));

    let mut wrong_nonce = proof.clone();
    wrong_nonce.nonce = proof.path.batch_root;
    assert!(matches!(wrong_nonce.verify(None), Err(InclusionError::Broken { ref part, .. }) if part == "batch"));

    let mut bad_level = proof.clone();
    bad_level.path.levels[0].siblings[0] = proof.path.batch_root;
    assert!(matches!(bad_level.verify(None), Err(InclusionError::Broken { ref part, .. }) if part == "level 0"));

    let mut short = proof.clone();
    short.path.batch.pop();
    assert!(matches!(short.verify(None), Err(InclusionError::PathLength { .. } | InclusionError::Broken { .. })));

    let mut long = proof.clone();
    long.path.batch.extend(vec![proof.path.batch_root; 17]);
    assert!(matches!(long.verify(None), Err(InclusionError::PathLength { .. })));

    let other_root = proof.path.batch_root.0;
    assert!(matches!(proof.verify(Some(other_root)), Err(InclusionError::Root { .. })));

    let mut too_big = proof.clone();
    too_big.slots[1].debt = "3000000".into();
    let err = too_big.verify(None).unwrap_err();
    assert!(err.to_string().contains("balance of ETH"), "{err}");

    let mut moved = proof;
    moved.position += 1;
    assert!(moved.verify(None).is_err());
}

#[test]
fn an_unknown_user_is_a_clear_error() {
    let store = output().join(USER_STORE_FILE);
    let err =
        runtime().block_on(async { UserStore::open(&store).await?.user_proof("no such user").await }).unwrap_err();
    assert_eq!(err.to_string(), "no user 'no such user' in this snapshot");
}

#[test]
fn a_statement_with_one_total_changed_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    copy_output(dir.path());
    let path = dir.path().join(STATEMENT_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut statement: StatementFile = serde_json::from_str(&text).unwrap();
    statement.assets[2].debt = "2950.000001".into();
    std::fs::write(&path, serde_json::to_string(&statement).unwrap()).unwrap();
    let err = verify_output(dir.path(), |_| {}).unwrap_err();
    assert!(format!("{err:#}").contains("hashes to"), "{err:#}");
}

#[test]
fn a_proof_bound_to_another_submitter_or_damaged_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    copy_output(dir.path());
    let meta_path = dir.path().join(FINAL_META_FILE);
    let meta = std::fs::read_to_string(&meta_path).unwrap();
    std::fs::write(&meta_path, meta.replace(&"ab".repeat(20), &"cd".repeat(20))).unwrap();
    let err = verify_output(dir.path(), |_| {}).unwrap_err();
    assert!(format!("{err:#}").contains("submitter"), "{err:#}");

    std::fs::write(&meta_path, meta).unwrap();
    let proof_path = dir.path().join(FINAL_PROOF_FILE);
    let mut bytes = std::fs::read(&proof_path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&proof_path, bytes).unwrap();
    assert!(verify_output(dir.path(), |_| {}).is_err());
}

#[test]
fn the_same_seed_gives_the_same_root_and_another_seed_another() {
    let root = |seed| {
        let committed =
            CommittedSnapshot::new(sample(), &Family::tiny(), &mut ChaCha20Rng::seed_from_u64(seed)).unwrap();
        committed.statement().root
    };
    assert_eq!(root(9), root(9));
    assert_ne!(root(9), root(10));
}

#[test]
fn output_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let taken = dir.path().join("taken");
    std::fs::create_dir(&taken).unwrap();
    std::fs::write(taken.join("keep.txt"), "mine").unwrap();
    let err = runtime().block_on(write_output(&taken, &run().proven)).unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
    assert_eq!(std::fs::read_dir(&taken).unwrap().count(), 1, "nothing was added");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no staging directory left behind");
}
