//! The registry on a real anvil: deployed, a sequence posted and read back
//! through the bindings, its public inputs equal to the final circuit's.

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use plonky2::field::types::PrimeField64;
use zkpor_chain::anvil::spawn_anvil;
use zkpor_chain::deploy::{RegistryParams, deploy_registry};
use zkpor_chain::registry::{
    LiabilityRegistry, LiabilityRegistryErrors, RegistryStatus, b256_to_hash, from_evm_address, hash_to_b256,
};
use zkpor_chain::statement::{OnChainStatement, StatementAsset, symbol_to_bytes32};
use zkpor_circuits::encoding::HashHex;
use zkpor_circuits::final_wrap::FinalInputs;
use zkpor_circuits::statement::{Statement, asset_code};

/// Deploys a contract that only stops: something with code to stand in for
/// the verifier, which posting and reading never call.
async fn deploy_placeholder<P: Provider>(provider: &P) -> anyhow::Result<Address> {
    let init_code = Bytes::from_static(&[0x60, 0x01, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, 0x01, 0x60, 0x00, 0xf3, 0x00]);
    let receipt = provider
        .send_transaction(TransactionRequest::default().with_deploy_code(init_code))
        .await?
        .get_receipt()
        .await?;
    Ok(receipt.contract_address.expect("a created contract"))
}

#[tokio::test]
async fn deploys_posts_a_sequence_and_reads_it_back() -> anyhow::Result<()> {
    let anvil = spawn_anvil()?;
    let signer: PrivateKeySigner = anvil.keys()[0].clone().into();
    let sequencer = signer.address();
    let provider = ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(anvil.endpoint_url());

    let verifier = deploy_placeholder(&provider).await?;
    let params = RegistryParams {
        verifier,
        family: "tiny".into(),
        family_digest: alloy::primitives::B256::repeat_byte(7),
        sequencer,
        min_stake: U256::from(10u64).pow(U256::from(18)),
        commit_window: 5,
        reveal_window: 10,
    };
    let deployment = deploy_registry(&provider, &params).await?;
    assert_eq!(deployment.owner, sequencer);
    let registry = LiabilityRegistry::new(deployment.registry, &provider);
    assert_eq!(registry.commitWindow().call().await?, 5);
    assert_eq!(registry.minStake().call().await?, params.min_stake);
    assert_eq!(registry.family().call().await?, "tiny");
    assert_eq!(registry.familyDigest().call().await?, params.family_digest);
    assert_eq!((deployment.family.as_str(), deployment.family_digest), ("tiny", params.family_digest));

    let statement = Statement {
        root: "0x0000000000000001000000000000000200000000000000030000000000000004".parse::<HashHex>()?.0,
        account_count: 30,
        assets: vec![asset_code("BTC", 8)],
        prices: vec![9_123_456],
        equity: vec![125_574_144_568],
        debt: vec![10_000_000],
    };
    let digest = HashHex(statement.digest());
    let encoded = OnChainStatement {
        family: "tiny".into(),
        batches: 1,
        assets: vec![StatementAsset {
            symbol: symbol_to_bytes32("BTC")?,
            decimals: 8,
            priceFractionDigits: 2,
            priceMantissa: 9_123_456,
            equity: 125_574_144_568,
            debt: 10_000_000,
        }],
    };
    let reward = U256::from(5u64);
    let receipt = registry
        .postSequence(hash_to_b256(HashHex(statement.root)), hash_to_b256(digest), 30, encoded.encode().into())
        .value(reward)
        .send()
        .await?
        .get_receipt()
        .await?;
    assert!(receipt.status());

    assert_eq!(registry.sequenceCount().call().await?, U256::from(1));
    let status = RegistryStatus::try_from(registry.status(U256::from(1)).call().await?)?;
    assert_eq!(status, RegistryStatus::Posted);
    let info = registry.sequenceInfo(U256::from(1)).call().await?;
    assert_eq!(b256_to_hash(info.root)?.0, statement.root);
    assert_eq!(b256_to_hash(info.digest)?, digest);
    assert_eq!(info.accountCount, 30);
    assert_eq!(info.reward, reward);
    assert_eq!(info.postedBlock, receipt.block_number.unwrap());

    let posted = receipt.decoded_log::<LiabilityRegistry::SequencePosted>().expect("a SequencePosted event");
    assert_eq!(posted.sequence, U256::from(1));
    assert_eq!(OnChainStatement::decode(&posted.statement)?, encoded);

    // The public inputs the contract builds are the final circuit's.
    let prover = anvil.addresses()[3];
    let on_chain = registry.publicInputs(U256::from(1), prover).call().await?;
    let expected =
        FinalInputs { root: statement.root, digest: digest.0, sequence: 1, submitter: from_evm_address(prover) }
            .to_fields()?
            .iter()
            .map(|f| f.to_canonical_u64())
            .collect::<Vec<_>>();
    assert_eq!(on_chain, expected);

    // A revert decodes to the registry's own error.
    let stranger: PrivateKeySigner = anvil.keys()[1].clone().into();
    let stranger_provider =
        ProviderBuilder::new().wallet(EthereumWallet::from(stranger)).connect_http(anvil.endpoint_url());
    let err = LiabilityRegistry::new(deployment.registry, &stranger_provider)
        .postSequence(hash_to_b256(HashHex(statement.root)), hash_to_b256(digest), 1, vec![1u8].into())
        .call()
        .await
        .unwrap_err();
    let decoded = err.as_decoded_interface_error::<LiabilityRegistryErrors>().expect("a registry error");
    assert!(matches!(decoded, LiabilityRegistryErrors::NotSequencer(_)), "{decoded:?}");
    Ok(())
}

#[tokio::test]
async fn deploying_against_an_address_without_code_is_refused() -> anyhow::Result<()> {
    let anvil = spawn_anvil()?;
    let signer: PrivateKeySigner = anvil.keys()[0].clone().into();
    let provider = ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(anvil.endpoint_url());
    let params = RegistryParams {
        verifier: anvil.addresses()[5],
        family: "tiny".into(),
        family_digest: alloy::primitives::B256::ZERO,
        sequencer: anvil.addresses()[0],
        min_stake: U256::ZERO,
        commit_window: 5,
        reveal_window: 10,
    };
    let err = deploy_registry(&provider, &params).await.unwrap_err();
    assert!(err.to_string().contains("no contract at the verifier address"), "{err}");
    Ok(())
}
