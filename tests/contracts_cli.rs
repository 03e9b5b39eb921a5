//! `zkpor contracts deploy` against a real anvil.

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, Bytes};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use assert_cmd::Command;
use predicates::str::contains;
use zkpor_chain::anvil::spawn_anvil;

#[tokio::test(flavor = "multi_thread")]
async fn deploy_prints_the_registry_address_as_json() -> anyhow::Result<()> {
    let anvil = spawn_anvil()?;
    let key = alloy::hex::encode(anvil.keys()[0].to_bytes());
    let signer: PrivateKeySigner = anvil.keys()[0].clone().into();
    let provider = ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(anvil.endpoint_url());
    // Something with code where the verifier goes.
    let init_code = Bytes::from_static(&[0x60, 0x01, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, 0x01, 0x60, 0x00, 0xf3, 0x00]);
    let verifier = provider
        .send_transaction(TransactionRequest::default().with_deploy_code(init_code))
        .await?
        .get_receipt()
        .await?
        .contract_address
        .unwrap();

    let output = Command::cargo_bin("zkpor")?
        .args(["contracts", "deploy", "--rpc", anvil.endpoint().as_str(), "--verifier"])
        .arg(verifier.to_string())
        .args(["--commit-window", "7"])
        .env("ZKPOR_KEY", &key)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&output)?;
    let registry: Address = json["registry"].as_str().unwrap().parse()?;
    assert!(!provider.get_code_at(registry).await?.is_empty(), "the registry has code");
    assert_eq!(json["owner"].as_str().unwrap().parse::<Address>()?, anvil.addresses()[0]);
    assert_eq!(json["chain_id"], anvil.chain_id());

    Command::cargo_bin("zkpor")?
        .args(["contracts", "deploy", "--rpc", anvil.endpoint().as_str()])
        .env("ZKPOR_KEY", &key)
        .assert()
        .failure()
        .stderr(contains("--verifier is required"));
    Command::cargo_bin("zkpor")?
        .args(["contracts", "deploy", "--rpc", anvil.endpoint().as_str(), "--key", "nonsense", "--verifier"])
        .arg(verifier.to_string())
        .assert()
        .failure()
        .stderr(contains("--key is not a hex private key"));
    Ok(())
}
