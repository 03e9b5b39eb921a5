//! `zkpor contracts ...` against a real anvil: deploying a family's verifier
//! with the registry, checking a proving run's proof on chain, and that proof
//! verifying a sequence through the registry's two-step submission; and the
//! generated verifiers and family digests the build ships.

use std::path::Path;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;
use zkpor_chain::anvil::spawn_anvil;
use zkpor_chain::registry::{LiabilityRegistry, RegistryStatus, hash_to_b256};
use zkpor_chain::statement::OnChainStatement;
use zkpor_chain::verifier::shipped_family;
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
async fn deploy_takes_a_familys_shipped_verifier_or_an_existing_one() -> anyhow::Result<()> {
    let anvil = spawn_anvil()?;
    let key = key_of(&anvil, 0);
    let provider = provider_for(&anvil, 0);

    let json = json_of(
        zkpor()
            .args(["contracts", "deploy", "--rpc", anvil.endpoint().as_str(), "--family", "tiny"])
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
    let tiny = shipped_family("tiny").unwrap();
    assert_eq!(json["family"], "tiny");
    assert_eq!(json["family_digest"].as_str().unwrap().parse::<B256>()?, tiny.digest);
    let recorded = LiabilityRegistry::new(registry, &provider);
    assert_eq!((recorded.family().call().await?, recorded.familyDigest().call().await?), ("tiny".into(), tiny.digest));

    // A second registry on the same verifier.
    let json = json_of(
        zkpor()
            .args(["contracts", "deploy", "--rpc", anvil.endpoint().as_str(), "--family", "tiny", "--verifier"])
            .arg(verifier.to_string())
            .env("ZKPOR_KEY", &key),
    );
    assert_eq!(json["verifier"].as_str().unwrap().parse::<Address>()?, verifier);

    // Without --family: the standard family, which exchanges deploy.
    let json =
        json_of(zkpor().args(["contracts", "deploy", "--rpc", anvil.endpoint().as_str()]).env("ZKPOR_KEY", &key));
    assert_eq!(json["family"], "standard");
    assert_eq!(json["family_digest"].as_str().unwrap().parse::<B256>()?, shipped_family("standard").unwrap().digest);
    zkpor()
        .args(["contracts", "deploy", "--rpc", anvil.endpoint().as_str(), "--family", "b8-a2-k2-l1"])
        .env("ZKPOR_KEY", &key)
        .assert()
        .failure()
        .stderr(contains("no family is named 'b8-a2-k2-l1'").and(contains("'standard'")));
    zkpor()
        .args(["contracts", "deploy", "--rpc", anvil.endpoint().as_str(), "--verifier"])
        .arg(anvil.addresses()[5].to_string())
        .env("ZKPOR_KEY", &key)
        .assert()
        .failure()
        .stderr(contains("no contract at the verifier address"));
    zkpor()
        .args(["contracts", "deploy", "--rpc", anvil.endpoint().as_str(), "--key", "nonsense", "--family", "tiny"])
        .assert()
        .failure()
        .stderr(contains("--key is not a hex private key"));
    Ok(())
}

/// A snapshot the tiny family holds: 2 assets, 3 accounts.
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
        .args(["--family", "tiny", "--seed", "3", "--sequence", "1", "--submitter"])
        .arg(prover.to_string())
        .arg("--out")
        .arg(&out)
        .assert()
        .success();

    let deployment = json_of(
        zkpor()
            .args(["contracts", "deploy", "--rpc", anvil.endpoint().as_str(), "--family", "tiny"])
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
    assert_eq!(report["registry_verifier"]["verdict"], "vouched", "{report}");
    assert_eq!(report["sequence"], 1);

    // A registry that records the standard family but runs the tiny
    // family's verifier: the proof checks, but nothing it verifies is
    // vouched for by this build.
    let mislabelled = json_of(
        zkpor()
            .args(["contracts", "deploy", "--rpc", anvil.endpoint().as_str(), "--family", "standard", "--verifier"])
            .arg(deployment["verifier"].as_str().unwrap())
            .env("ZKPOR_KEY", key_of(&anvil, 0)),
    );
    let assert = zkpor()
        .args(["contracts", "verify-proof", "--rpc", anvil.endpoint().as_str(), "--registry"])
        .arg(mislabelled["registry"].as_str().unwrap())
        .arg(&out)
        .assert()
        .success()
        .stderr(contains("not vouched for"));
    let report: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout)?;
    assert_eq!(report["registry_verifier"]["verdict"], "not_vouched", "{report}");
    let reason = report["registry_verifier"]["reason"].as_str().unwrap();
    assert!(reason.contains("runs other code than this build's verifier of 'standard'"), "{reason}");
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

    post_and_reveal(&anvil, registry_address, &out, 1).await
}

/// The sequencer (account 0) posts the statement of the proving run in
/// `out` as sequence `sequence`; the prover (account 1) deposits, commits and,
/// after the commit window, reveals the proof: the sequence ends verified.
async fn post_and_reveal(
    anvil: &alloy::node_bindings::AnvilInstance,
    registry_address: Address,
    out: &Path,
    sequence: u64,
) -> anyhow::Result<()> {
    let prover = anvil.addresses()[1];
    let output = PublishedOutput::read(out)?;
    let proof = output.calldata()?;
    let sequencer = LiabilityRegistry::new(registry_address, provider_for(anvil, 0));
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

    let registry = LiabilityRegistry::new(registry_address, provider_for(anvil, 1));
    registry.deposit().value(U256::from(10u64).pow(U256::from(16))).send().await?.get_receipt().await?;
    let hash: B256 = keccak256([proof.as_slice(), prover.as_slice()].concat());
    registry.submitProofHash(U256::from(sequence), hash).send().await?.get_receipt().await?;
    let provider = provider_for(anvil, 0);
    let _: serde_json::Value = provider.raw_request("anvil_mine".into(), (U256::from(2),)).await?;
    let call = registry.submitProof(U256::from(sequence), Bytes::from(proof));
    assert!(call.call().await?, "the registry judges the proof valid");
    let receipt = call.gas(16_777_216).send().await?.get_receipt().await?;
    assert!(receipt.status());
    eprintln!("submitProof of sequence {sequence}: {} gas", receipt.gas_used);
    let status = RegistryStatus::try_from(registry.status(U256::from(sequence)).call().await?)?;
    assert_eq!(status, RegistryStatus::Verified);
    Ok(())
}

/// The exchange grows from 3 assets to 220 between sequences: both are
/// proven with `exchange prove`'s defaults (the standard family) and verify
/// through the one registry `contracts deploy` made with its defaults.
#[tokio::test(flavor = "multi_thread")]
async fn a_3_asset_and_a_220_asset_sequence_verify_through_one_standard_registry() -> anyhow::Result<()> {
    let anvil = spawn_anvil()?;
    let prover = anvil.addresses()[1];
    let deployment = json_of(
        zkpor()
            .args(["contracts", "deploy", "--rpc", anvil.endpoint().as_str()])
            .args(["--min-stake", "0.001", "--commit-window", "2", "--reveal-window", "5"])
            .env("ZKPOR_KEY", key_of(&anvil, 0)),
    );
    assert_eq!(deployment["family"], "standard");
    let registry: Address = deployment["registry"].as_str().unwrap().parse()?;
    let dir = tempfile::tempdir()?;

    let small = dir.path().join("small");
    std::fs::create_dir(&small)?;
    std::fs::write(small.join("assets.csv"), "symbol,decimals,price_usd\nBTC,8,91234.56\nETH,8,3050.12\nUSDT,6,1\n")?;
    let rows: String = (0..100).map(|i| format!("user{i},0.{:08},{},{}\n", 1000 + i, i % 7, 50 + i)).collect();
    std::fs::write(small.join("balances.csv"), format!("id,BTC,ETH,USDT\n{rows}"))?;
    let large = dir.path().join("large");
    zkpor()
        .args(["exchange", "synth", "--accounts", "40", "--assets", "220", "--seed", "5", "--out"])
        .arg(&large)
        .assert()
        .success();

    for (sequence, snapshot, assets) in [(1, &small, 3), (2, &large, 220)] {
        let out = dir.path().join(format!("out-{sequence}"));
        zkpor()
            .args(["exchange", "prove"])
            .arg(snapshot)
            .args(["--seed", "3", "--sequence", &sequence.to_string(), "--submitter"])
            .arg(prover.to_string())
            .arg("--out")
            .arg(&out)
            .assert()
            .success()
            .stdout(contains(format!("over {assets} assets on family standard")));
        post_and_reveal(&anvil, registry, &out, sequence).await?;
    }
    Ok(())
}

#[test]
fn gen_verifier_writes_the_shipped_verifier_and_records_the_familys_digest() {
    let dir = tempfile::tempdir().unwrap();
    let (out, families) = (dir.path().join("Verifier.sol"), dir.path().join("families.json"));
    zkpor()
        .args(["contracts", "gen-verifier", "--family", "tiny", "--out"])
        .arg(&out)
        .arg("--families")
        .arg(&families)
        .assert()
        .success()
        .stdout(contains("family tiny has digest 0x"));
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("contracts/src/generated/FinalProofVerifier_tiny.sol");
    assert!(std::fs::read(&out).unwrap() == std::fs::read(shipped).unwrap(), "the shipped tiny verifier is stale");
    let recorded: Vec<zkpor_chain::verifier::ShippedFamily> =
        serde_json::from_str(&std::fs::read_to_string(&families).unwrap()).unwrap();
    assert_eq!(recorded, vec![shipped_family("tiny").unwrap()]);
}

#[test]
fn circuits_family_prints_each_shipped_family_with_its_digest() {
    let output = zkpor().args(["circuits", "family"]).assert().success().get_output().stdout.clone();
    let text = String::from_utf8(output).unwrap();
    assert!(text.contains("standard (up to 512 assets"), "{text}");
    assert!(text.contains("tiny (up to 4 assets"), "{text}");
    assert!(text.contains(&format!("{:#x}", shipped_family("standard").unwrap().digest)), "{text}");
    let json = json_of(zkpor().args(["circuits", "family", "--family", "tiny", "--json"]));
    assert_eq!(json[0]["name"], "tiny");
    assert_eq!(json[0]["assets"], 4);
    zkpor().args(["circuits", "family", "--family", "huge"]).assert().failure().stderr(contains("no family is named"));
}
