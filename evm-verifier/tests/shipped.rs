//! The verifiers zkpor ships are exactly what their shapes' circuits
//! generate, and a real proof of a realistic shape verifies with one on
//! chain.

mod common;

use std::path::Path;
use std::sync::OnceLock;

use common::TRANSACTION_GAS_LIMIT;
use zkpor_chain::verifier::{ProofCheck, VerifierArtifact, check_proof, deploy_verifier, shipped_shapes};
use zkpor_circuits::encoding::Address;
use zkpor_circuits::{CircuitSet, Shape};
use zkpor_evm_verifier::fixtures::{prove_accounts, sample_accounts};
use zkpor_evm_verifier::{contract_name, verifier_for};

/// The realistic shape proven here: the sample snapshot's.
const REALISTIC: &str = "b1024-a4-k8-l1";

fn realistic() -> &'static CircuitSet {
    static CIRCUITS: OnceLock<CircuitSet> = OnceLock::new();
    CIRCUITS.get_or_init(|| CircuitSet::build(&REALISTIC.parse().unwrap()))
}

fn assert_generated(shape: &Shape, circuits: &CircuitSet) {
    let name = contract_name(shape);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../contracts/src/generated/{name}.sol"));
    let checked_in = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let generated = verifier_for(shape, circuits).unwrap().source;
    assert!(
        checked_in == generated,
        "{} is not what the circuits of {shape} generate: run `zkpor contracts gen-verifier --shape {shape}`, \
         then `npm run artifacts:export` in contracts/",
        path.display()
    );
}

#[test]
fn shipped_verifiers_are_generated_from_their_circuits() {
    let shapes = shipped_shapes();
    assert!(shapes.contains(&Shape::TINY) && shapes.contains(&REALISTIC.parse().unwrap()));
    for shape in shapes {
        if shape.to_string() == REALISTIC {
            assert_generated(&shape, realistic());
        } else {
            assert_generated(&shape, &CircuitSet::build(&shape));
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_real_proof_of_a_realistic_shape_verifies_on_chain() {
    let circuits = realistic();
    let shape = *circuits.shape();
    let prices = [912_345_600, 30_501_200, 10_000, 1];
    let sample = prove_accounts(circuits, &prices, &sample_accounts(4, 5, 7), 12, Address([0x77; 20]), 7).unwrap();

    let anvil = zkpor_chain::anvil::spawn_anvil().unwrap();
    let signer: alloy::signers::local::PrivateKeySigner = anvil.keys()[0].clone().into();
    let provider = alloy::providers::ProviderBuilder::new()
        .wallet(alloy::network::EthereumWallet::from(signer))
        .connect_http(anvil.endpoint_url());
    let verifier = deploy_verifier(&provider, &VerifierArtifact::shipped(&shape).unwrap()).await.unwrap();
    match check_proof(&provider, verifier, &sample.calldata, &sample.public_inputs()).await.unwrap() {
        ProofCheck::Valid { gas } => {
            eprintln!("{shape}: a real proof verified with {gas} gas");
            assert!(gas < TRANSACTION_GAS_LIMIT);
        }
        invalid => panic!("{shape}: {invalid:?}"),
    }
    // The tiny shape's verifier knows nothing of this circuit.
    let tiny = deploy_verifier(&provider, &VerifierArtifact::shipped(&Shape::TINY).unwrap()).await.unwrap();
    let check = check_proof(&provider, tiny, &sample.calldata, &sample.public_inputs()).await.unwrap();
    assert!(matches!(check, ProofCheck::Invalid { .. }), "{check:?}");
}
