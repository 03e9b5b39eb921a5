//! `zkpor contracts ...` against a real anvil: deploying the verifier with
//! the registry, checking a proving run's proof on chain, and that proof
//! verifying a sequence through the registry's two-step submission.

use std::path::Path;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;
use zkpor_chain::anvil::spawn_anvil;
use zkpor_chain::registry::{LiabilityRegistry, SequenceStatus, hash_to_b256};
use zkpor_chain::statement::OnChainStatement;
use zkpor_exchange::published::PublishedOutput;

fn zkpor() -> Command {
    Command::cargo_bin("zkpor").unwrap()
}

fn provider_for(anvil: &alloy::node_bindings::AnvilInstance, account: usize) -> DynProvider {
    let signer: PrivateKeySigner = anvil.keys()[account].clone().into();
    ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(anvil.endpoint_url()).erased()
}

fn key_of(anvil: &alloy::node_bindings::AnvilInstance, account: usize) -> String {
    alloy::hex::encode(anvil.keys()[account].to_bytes())
}

fn json_of(command: &mut Command) -> serde_json::Value {
    let output = command.assert().success().get_output().stdout.clone();
    serde_json::from_slice(&output).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_takes_a_shipped_verifier_or_an_existing_one() -> anyhow::Result<()> {
    let anvil = spawn_anvil()?;
    let key = key_of(&anvil, 0);
    let provider = provider_for(&anvil, 0);

    let json = json_of(
        zkpor()
            .args(["contracts", "deploy", "--rpc", anvil.endpoint().as_str(), "--shape", "tiny"])
            .args(["--commit-window", "7"])
            .env("ZKPOR_KEY", &key),
    );
    let registry: Address = json["registry"].as_str().unwrap().parse()?;
    let verifier: Address = json["verifier"].as_str().unwrap().parse()?;
    assert!(!provider.get_code_at(registry).await?.is_empty(), "the registry has code");
    assert!(!provider.get_code_at(verifier).await?.is_empty(), "the verifier has code");
    assert_eq!(LiabilityRegistry::new(registry, &provider).verifier().call().await?, verifier);
    assert_eq!(LiabilityRegistry::new(registry, &provider).commitWindow().call().await?, 7);
    assert_eq!(json["owner"].as_str().unwrap().parse::<Address>()?, anvil.addresses()[0]);
    assert_eq!(json["chain_id"], anvil.chain_id());

    // A second registry on the same verifier.
    let json = json_of(
        zkpor()
            .args(["contracts", "deploy", "--rpc", anvil.endpoint().as_str(), "--verifier"])
            .arg(verifier.to_string())
            .env("ZKPOR_KEY", &key),
    );
    assert_eq!(json["verifier"].as_str().unwrap().parse::<Address>()?, verifier);

    zkpor()
        .args(["contracts", "deploy", "--rpc", anvil.endpoint().as_str()])
        .env("ZKPOR_KEY", &key)
        .assert()
        .failure()
        .stderr(contains("--shape <SHAPE>"));
    zkpor()
        .args(["contracts", "deploy", "--rpc", anvil.endpoint().as_str(), "--shape", "b8-a2-k2-l1"])
        .env("ZKPOR_KEY", &key)
        .assert()
        .failure()
        .stderr(contains("zkpor ships verifiers for the shapes").and(contains("gen-verifier --shape b8-a2-k2-l1")));
    zkpor()
        .args(["contracts", "deploy", "--rpc", anvil.endpoint().as_str(), "--verifier"])
        .arg(anvil.addresses()[5].to_string())
        .env("ZKPOR_KEY", &key)
        .assert()
        .failure()
        .stderr(contains("no contract at the verifier address"));
    zkpor()
        .args(["contracts", "deploy", "--rpc", anvil.endpoint().as_str(), "--key", "nonsense", "--shape", "tiny"])
        .assert()
        .failure()
        .stderr(contains("--key is not a hex private key"));
    Ok(())
}

/// A snapshot the tiny shape holds: 2 assets, 3 accounts.
fn write_snapshot(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("assets.csv"), "symbol,decimals,price_usd\nBTC,8,91234.56\nUSDT,6,1\n").unwrap();
    std::fs::write(dir.join("balances.csv"), "id,BTC,USDT\nalice,0.5,-1200\nbob,,250.5\ncarol,0.00000001,\n").unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_proving_runs_proof_verifies_on_chain_and_through_the_registry() -> anyhow::Result<()> {
    let anvil = spawn_anvil()?;
    let prover = anvil.addresses()[1];
    let dir = tempfile::tempdir()?;
    let snapshot = dir.path().join("snapshot");
    write_snapshot(&snapshot);
    let out = dir.path().join("out");
    zkpor()
        .args(["exchange", "prove"])
        .arg(&snapshot)
        .args(["--shape", "tiny", "--seed", "3", "--sequence", "1", "--submitter"])
        .arg(prover.to_string())
        .arg("--out")
        .arg(&out)
        .assert()
        .success();

    let deployment = json_of(
        zkpor()
            .args(["contracts", "deploy", "--rpc", anvil.endpoint().as_str(), "--shape", "tiny"])
            .args(["--min-stake", "0.001", "--commit-window", "2", "--reveal-window", "5"])
            .env("ZKPOR_KEY", key_of(&anvil, 0)),
    );
    let registry_address: Address = deployment["registry"].as_str().unwrap().parse()?;

    // The on-chain check, through the registry's verifier.
    let report = json_of(
        zkpor()
            .args(["contracts", "verify-proof", "--rpc", anvil.endpoint().as_str(), "--registry"])
            .arg(registry_address.to_string())
            .arg(&out),
    );
    assert_eq!(report["verdict"], "valid", "{report}");
    assert_eq!(report["sequence"], 1);
    let gas = report["gas"].as_u64().unwrap();
    assert!(gas < 16_777_216, "{gas} gas is over the transaction limit");

    // A tampered copy: rejected, with the reason.
    let tampered = dir.path().join("tampered");
    std::fs::create_dir(&tampered)?;
    for entry in std::fs::read_dir(&out)? {
        let entry = entry?;
        std::fs::copy(entry.path(), tampered.join(entry.file_name()))?;
    }
    let mut calldata = std::fs::read(tampered.join("final.calldata"))?;
    let last = calldata.len() - 1;
    calldata[last] ^= 1;
    std::fs::write(tampered.join("final.calldata"), &calldata)?;
    let output = zkpor()
        .args(["contracts", "verify-proof", "--rpc", anvil.endpoint().as_str(), "--verifier"])
        .arg(deployment["verifier"].as_str().unwrap())
        .arg(&tampered)
        .assert()
        .failure()
        .get_output()
        .stdout
        .clone();
    let report: serde_json::Value = serde_json::from_slice(&output)?;
    assert_eq!(report["verdict"], "invalid", "{report}");
    assert_eq!(report["reason"], "the proof-of-work witness is insufficient", "{report}");

    // The sequencer posts the statement; the prover commits, then reveals.
    let output = PublishedOutput::read(&out)?;
    let proof = output.calldata()?;
    let sequencer = LiabilityRegistry::new(registry_address, provider_for(&anvil, 0));
    let receipt = sequencer
        .postSequence(
            hash_to_b256(output.statement.root),
            hash_to_b256(output.statement.digest),
            output.statement.account_count,
            OnChainStatement::from_file(&output.statement).unwrap().encode().into(),
        )
        .value(U256::from(10u64).pow(U256::from(15)))
        .send()
        .await?
        .get_receipt()
        .await?;
    assert!(receipt.status());

    let registry = LiabilityRegistry::new(registry_address, provider_for(&anvil, 1));
    registry.deposit().value(U256::from(10u64).pow(U256::from(16))).send().await?.get_receipt().await?;
    let hash: B256 = keccak256([proof.as_slice(), prover.as_slice()].concat());
    registry.submitProofHash(U256::from(1), hash).send().await?.get_receipt().await?;
    let provider = provider_for(&anvil, 0);
    let _: serde_json::Value = provider.raw_request("anvil_mine".into(), (U256::from(2),)).await?;
    let call = registry.submitProof(U256::from(1), Bytes::from(proof));
    assert!(call.call().await?, "the registry judges the proof valid");
    let receipt = call.gas(16_777_216).send().await?.get_receipt().await?;
    assert!(receipt.status());
    eprintln!("submitProof: {} gas", receipt.gas_used);
    let status = SequenceStatus::try_from(registry.status(U256::from(1)).call().await?)?;
    assert_eq!(status, SequenceStatus::Verified);
    Ok(())
}
