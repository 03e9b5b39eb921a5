//! The verifiers zkpor ships are exactly what their families' circuits
//! generate, `families.json` records their digests, and one verifier of the
//! standard family checks real proofs of sequences of 1 and of 512 assets.

mod common;

use std::path::Path;
use std::sync::OnceLock;

use alloy::primitives::B256;
use common::TRANSACTION_GAS_LIMIT;
use zkpor_chain::verifier::{ProofCheck, VerifierArtifact, check_proof, deploy_verifier, shipped_families};
use zkpor_circuits::encoding::Address;
use zkpor_circuits::{Family, FamilyCircuits};
use zkpor_evm_verifier::fixtures::{prove_accounts, sample_accounts};
use zkpor_evm_verifier::{contract_name, verifier_for};

fn standard() -> &'static FamilyCircuits {
    static CIRCUITS: OnceLock<FamilyCircuits> = OnceLock::new();
    CIRCUITS.get_or_init(|| common::circuits_of(&Family::standard()))
}

fn assert_generated(circuits: &FamilyCircuits) {
    let family = circuits.family();
    let name = contract_name(family);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../contracts/src/generated/{name}.sol"));
    let checked_in = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let generated = verifier_for(circuits).unwrap().source;
    let regenerate = format!(
        "run `zkpor contracts gen-verifier --family {}`, then `npm run artifacts:export` in contracts/",
        family.name()
    );
    assert!(
        checked_in == generated,
        "{} is not what the circuits of {} generate: {regenerate}",
        path.display(),
        family.name()
    );
    let recorded = shipped_families().into_iter().find(|f| f.name == family.name()).expect("a shipped family");
    assert_eq!(recorded.contract, name);
    assert_eq!(recorded.digest, B256::from(circuits.digest().unwrap().0), "families.json is stale: {regenerate}");
}

#[test]
fn shipped_verifiers_are_generated_from_their_families_circuits() {
    let names: Vec<String> = shipped_families().into_iter().map(|f| f.name).collect();
    assert_eq!(names, ["standard", "tiny"]);
    assert_generated(common::tiny());
    assert_generated(standard());
}

#[tokio::test(flavor = "multi_thread")]
async fn one_standard_verifier_checks_sequences_of_one_and_of_the_most_assets() {
    let circuits = standard();
    let anvil = zkpor_chain::anvil::spawn_anvil().unwrap();
    let signer: alloy::signers::local::PrivateKeySigner = anvil.keys()[0].clone().into();
    let provider = alloy::providers::ProviderBuilder::new()
        .wallet(alloy::network::EthereumWallet::from(signer))
        .connect_http(anvil.endpoint_url());
    let verifier = deploy_verifier(&provider, &VerifierArtifact::shipped("standard").unwrap()).await.unwrap();
    for assets in [1, Family::standard().assets()] {
        let prices: Vec<u64> = (0..assets as u64).map(|a| 1 + a * 7).collect();
        let users = sample_accounts(assets, 3, 7);
        let sample = prove_accounts(circuits, &prices, &users, 12, Address([0x77; 20]), 7).unwrap();
        match check_proof(&provider, verifier, &sample.calldata, &sample.public_inputs()).await.unwrap() {
            ProofCheck::Valid { gas } => {
                eprintln!("standard, {assets} assets: a real proof verified with {gas} gas");
                assert!(gas < TRANSACTION_GAS_LIMIT);
            }
            invalid => panic!("standard, {assets} assets: {invalid:?}"),
        }
        if assets == 1 {
            // The tiny family's verifier knows nothing of this circuit.
            let tiny = deploy_verifier(&provider, &VerifierArtifact::shipped("tiny").unwrap()).await.unwrap();
            let check = check_proof(&provider, tiny, &sample.calldata, &sample.public_inputs()).await.unwrap();
            assert!(matches!(check, ProofCheck::Invalid { .. }), "{check:?}");
        }
    }
}
