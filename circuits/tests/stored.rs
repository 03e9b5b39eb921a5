//! A family's circuits written to disk and read back: a tree proven on the
//! circuits read verifies on the circuits built and on the verifier data
//! read alone; files of another build or cut short are refused and built
//! again.

mod common;

use std::fs;
use std::time::{Duration, SystemTime};

use common::{ASSETS, family, slot, slot_prices};
use zkpor_circuits::aggregation::NodeKind;
use zkpor_circuits::batch::TierBatchWitness;
use zkpor_circuits::circuits::BuildStep;
use zkpor_circuits::encoding::Address;
use zkpor_circuits::final_wrap::FinalInputs;
use zkpor_circuits::leaf::Leaf;
use zkpor_circuits::proof_store::MemoryStore;
use zkpor_circuits::stored::{CircuitDirectory, file_name};
use zkpor_circuits::tree_prover::prove_tree;
use zkpor_circuits::{FamilyCircuits, FamilyVerifiers};

fn every_step(circuits: &FamilyCircuits) -> Vec<BuildStep> {
    let tiers = circuits.family().tiers().tiers().len();
    let mut steps: Vec<BuildStep> = (0..tiers).map(BuildStep::Tier).collect();
    steps.extend([NodeKind::OverBatches, NodeKind::OverNodes, NodeKind::Top].map(BuildStep::Node));
    steps.extend([BuildStep::Statement, BuildStep::Final]);
    steps
}

/// `steps` in file-name order (tier circuits are read and built two at a
/// time, in either order).
fn sorted(mut steps: Vec<BuildStep>) -> Vec<BuildStep> {
    steps.sort_by_key(|&step| file_name(step));
    steps
}

fn modified(path: &std::path::Path) -> SystemTime {
    fs::metadata(path).unwrap().modified().unwrap()
}

#[test]
fn circuits_read_back_from_disk_prove_what_the_built_ones_verify() {
    let root = tempfile::tempdir().unwrap();
    let files = CircuitDirectory::new(root.path()).family(&family());

    let (built, provenance) = FamilyCircuits::load_or_build(&family(), Some(&files), |_| {}).unwrap();
    assert!(provenance.read.is_empty(), "nothing to read yet: {provenance:?}");
    assert_eq!(sorted(provenance.built), sorted(every_step(&built)));
    let manifest = files.manifest().unwrap().expect("a manifest once every circuit is written");
    assert_eq!(manifest.digest, built.digest().unwrap().to_string());
    assert_eq!(manifest.circuits.len(), every_step(&built).len());
    let written = modified(&files.dir().join("manifest.json"));

    let (read, provenance) = FamilyCircuits::load_or_build(&family(), Some(&files), |_| {}).unwrap();
    assert!(provenance.built.is_empty(), "everything is on disk: {provenance:?}");
    assert_eq!(sorted(provenance.read), sorted(every_step(&read)));
    assert_eq!(read.digest().unwrap(), built.digest().unwrap());
    assert_eq!(modified(&files.dir().join("manifest.json")), written, "an unchanged manifest is not rewritten");

    // A tree of two batches proven on the circuits read from disk, through
    // the statement and the final wrap, verifies on the circuits built.
    let tiers = read.family().tiers();
    let prices = slot_prices();
    let batches: Vec<_> = [(0, vec![vec![slot(0, 7)], vec![slot(1, 3), slot(0, -1)]]), (1, vec![vec![slot(2, 4)]])]
        .into_iter()
        .enumerate()
        .map(|(index, (tier, holdings))| {
            let leaves: Vec<Leaf> = holdings
                .iter()
                .enumerate()
                .map(|(user, held)| {
                    Leaf::new(common::id(&format!("b{index}u{user}")), held, tiers.tier(tier).slots, ASSETS).unwrap()
                })
                .collect();
            Ok((tier, TierBatchWitness::new(tiers.tier(tier), &prices, &leaves).unwrap()))
        })
        .collect();
    let top = prove_tree(&read, batches.into_iter(), &prices, &mut MemoryStore::default(), |_| {}).unwrap();
    built.top().unwrap().data().verify(top.clone()).expect("the top proof verifies on the built top circuit");

    let statement = common::statement_of(&top);
    let statement_proof = read.statement().unwrap().prove(&top, &statement).unwrap();
    let submitter = Address([7; 20]);
    let final_proof = read.final_wrap().unwrap().prove(&statement_proof, 3, submitter).unwrap();
    let expected = FinalInputs { root: statement.root, digest: statement.digest(), sequence: 3, submitter };
    built.final_wrap().unwrap().verify(&final_proof, &expected).expect("the final proof verifies on the built circuit");

    // The verifier data alone, as an agent reads it from its own file: every
    // circuit a task is proven on (not the statement's), the same digest,
    // the same proofs.
    let kept = fs::metadata(files.dir().join("verifiers.bin")).unwrap().len();
    assert!(kept < 1 << 20, "the verifier data file is small: {kept} bytes");
    let (verifiers, provenance) = FamilyVerifiers::load_or_build(&family(), Some(&files), |_| {}).unwrap();
    assert!(provenance.built.is_empty(), "{provenance:?}");
    let proven_by_tasks: Vec<_> = every_step(&built).into_iter().filter(|s| *s != BuildStep::Statement).collect();
    assert_eq!(sorted(provenance.read), sorted(proven_by_tasks));
    assert_eq!(verifiers.digest(), built.digest().unwrap());
    verifiers.node(NodeKind::Top).data.verify(top).expect("the top proof verifies on the top's verifier data");
    let parsed = verifiers.final_proof(final_proof.to_bytes()).unwrap();
    verifiers.final_wrap().verify(parsed).expect("the final proof verifies on the final verifier data");
}

#[test]
fn a_circuit_file_from_another_build_is_rebuilt() {
    let root = tempfile::tempdir().unwrap();
    let files = CircuitDirectory::new(root.path()).family(&family());
    let (built, _) = FamilyCircuits::load_or_build(&family(), Some(&files), |_| {}).unwrap();
    let tier = |index| files.dir().join(file_name(BuildStep::Tier(index)));

    // Tier 1's circuit where tier 0's should be, and the top node cut short.
    fs::copy(tier(1), tier(0)).unwrap();
    let top = files.dir().join(file_name(BuildStep::Node(NodeKind::Top)));
    let bytes = fs::read(&top).unwrap();
    fs::write(&top, &bytes[..bytes.len() / 2]).unwrap();

    let (again, provenance) = FamilyCircuits::load_or_build(&family(), Some(&files), |_| {}).unwrap();
    assert_eq!(
        sorted(provenance.built.clone()),
        sorted(vec![BuildStep::Tier(0), BuildStep::Node(NodeKind::Top)]),
        "{provenance:?}"
    );
    assert_eq!(again.digest().unwrap(), built.digest().unwrap());

    // Both are whole again.
    let (_, provenance) = FamilyCircuits::load_or_build(&family(), Some(&files), |_| {}).unwrap();
    assert!(provenance.built.is_empty(), "{provenance:?}");

    // The verifier data file cut short: an agent takes the verifier data
    // from the circuits (the statement's among them) and writes it again.
    let verifiers = files.dir().join("verifiers.bin");
    let whole = fs::read(&verifiers).unwrap();
    fs::write(&verifiers, &whole[..whole.len() / 2]).unwrap();
    let (read, provenance) = FamilyVerifiers::load_or_build(&family(), Some(&files), |_| {}).unwrap();
    assert!(provenance.built.is_empty() && provenance.read.contains(&BuildStep::Statement), "{provenance:?}");
    assert_eq!(read.digest(), built.digest().unwrap());
    assert_eq!(fs::read(&verifiers).unwrap(), whole, "the verifier data is written again");
    let (_, provenance) = FamilyVerifiers::load_or_build(&family(), Some(&files), |_| {}).unwrap();
    assert!(!provenance.read.contains(&BuildStep::Statement), "read from the verifier data file: {provenance:?}");

    // A manifest recording other verifier data: the file is refused too.
    let manifest_path = files.dir().join("manifest.json");
    let manifest = fs::read_to_string(&manifest_path).unwrap();
    let recorded = files.manifest().unwrap().unwrap().verifiers;
    fs::write(&manifest_path, manifest.replace(&recorded, &format!("0x{}", "0".repeat(64)))).unwrap();
    let (_, provenance) = FamilyVerifiers::load_or_build(&family(), Some(&files), |_| {}).unwrap();
    assert!(provenance.read.contains(&BuildStep::Statement), "{provenance:?}");
    assert_eq!(files.manifest().unwrap().unwrap().verifiers, recorded, "the manifest is written again");

    // Processes that find no complete build wait for the one building and
    // read what it wrote instead of building the family too.
    let complete = fs::read(&manifest_path).unwrap();
    fs::remove_file(&manifest_path).unwrap();
    let building = files.lock_for_build().unwrap();
    let agent = {
        let files = files.clone();
        std::thread::spawn(move || FamilyVerifiers::load_or_build(&family(), Some(&files), |_| {}).unwrap().1)
    };
    let worker = {
        let files = files.clone();
        std::thread::spawn(move || FamilyCircuits::load_or_build(&family(), Some(&files), |_| {}).unwrap().1)
    };
    std::thread::sleep(Duration::from_millis(500));
    fs::write(&manifest_path, complete).unwrap();
    drop(building);
    let (agent, worker) = (agent.join().unwrap(), worker.join().unwrap());
    assert!(agent.built.is_empty() && !agent.read.contains(&BuildStep::Statement), "{agent:?}");
    assert!(worker.built.is_empty(), "{worker:?}");

    // Another family's folder is another folder.
    let other = CircuitDirectory::new(root.path()).family(&common::family_with(4));
    assert_ne!(other.dir(), files.dir());
}
