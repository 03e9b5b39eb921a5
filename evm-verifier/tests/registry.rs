//! The registry with the real generated verifier on anvil: a real proof
//! verifies a sequence through the two-step submission; a tampered proof and
//! a proof copied from another prover are slashed instead.

mod common;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address as EvmAddress, B256, Bytes, U256, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use common::{TRANSACTION_GAS_LIMIT, prove};
use zkpor_chain::anvil::spawn_anvil;
use zkpor_chain::deploy::{RegistryParams, deploy_registry};
use zkpor_chain::registry::{LiabilityRegistry, RegistryStatus, from_evm_address, hash_to_b256};
use zkpor_chain::statement::{OnChainStatement, StatementAsset, symbol_to_bytes32};
use zkpor_chain::verifier::{VerifierArtifact, deploy_verifier};
use zkpor_circuits::encoding::HashHex;
use zkpor_evm_verifier::fixtures::SampleProof;

const COMMIT_WINDOW: u64 = 3;
const REVEAL_WINDOW: u64 = 6;

struct Deployed {
    _anvil: alloy::node_bindings::AnvilInstance,
    registry: EvmAddress,
    /// Providers signing as the sequencer (0) and as provers (1, 2).
    accounts: Vec<(EvmAddress, DynProvider)>,
}

impl Deployed {
    async fn start() -> Deployed {
        let anvil = spawn_anvil().unwrap();
        let accounts: Vec<(EvmAddress, DynProvider)> = (0..3)
            .map(|i| {
                let signer: PrivateKeySigner = anvil.keys()[i].clone().into();
                let provider = ProviderBuilder::new()
                    .wallet(EthereumWallet::from(signer))
                    .connect_http(anvil.endpoint_url())
                    .erased();
                (anvil.addresses()[i], provider)
            })
            .collect();
        let owner = &accounts[0].1;
        let verifier = deploy_verifier(owner, &VerifierArtifact::shipped("tiny").unwrap()).await.unwrap();
        let shipped = zkpor_chain::verifier::shipped_family("tiny").unwrap();
        let params = RegistryParams {
            verifier,
            family: shipped.name,
            family_digest: shipped.digest,
            sequencer: accounts[0].0,
            min_stake: U256::from(1_000_000u64),
            commit_window: COMMIT_WINDOW,
            reveal_window: REVEAL_WINDOW,
        };
        let registry = deploy_registry(owner, &params).await.unwrap().registry;
        for (_, provider) in &accounts[1..] {
            let receipt = LiabilityRegistry::new(registry, provider)
                .deposit()
                .value(U256::from(5_000_000u64))
                .send()
                .await
                .unwrap()
                .get_receipt()
                .await
                .unwrap();
            assert!(receipt.status());
        }
        Deployed { _anvil: anvil, registry, accounts }
    }

    fn registry(&self, account: usize) -> LiabilityRegistry::LiabilityRegistryInstance<&DynProvider> {
        LiabilityRegistry::new(self.registry, &self.accounts[account].1)
    }

    /// Posts the sample's statement as the next sequence, with a reward.
    async fn post(&self, sample: &SampleProof) -> U256 {
        let statement = OnChainStatement {
            family: "tiny".into(),
            batches: 1,
            assets: (0..2)
                .map(|a| StatementAsset {
                    symbol: symbol_to_bytes32(["AAA", "BBB"][a]).unwrap(),
                    decimals: 0,
                    priceFractionDigits: 0,
                    priceMantissa: sample.statement.prices[a] as u128,
                    equity: sample.statement.equity[a],
                    debt: sample.statement.debt[a],
                })
                .collect(),
        };
        let registry = self.registry(0);
        let receipt = registry
            .postSequence(
                hash_to_b256(HashHex(sample.statement.root)),
                hash_to_b256(HashHex(sample.statement.digest())),
                sample.statement.account_count,
                statement.encode().into(),
            )
            .value(U256::from(1000u64))
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(receipt.status());
        registry.sequenceCount().call().await.unwrap()
    }

    async fn commit(&self, account: usize, sequence: U256, proof: &[u8]) {
        let hash: B256 = keccak256([proof, self.accounts[account].0.as_slice()].concat());
        let registry = self.registry(account);
        assert_eq!(
            registry.proofHashOf(Bytes::copy_from_slice(proof), self.accounts[account].0).call().await.unwrap(),
            hash
        );
        let receipt = registry.submitProofHash(sequence, hash).send().await.unwrap().get_receipt().await.unwrap();
        assert!(receipt.status());
    }

    /// Reveals; returns whether the registry judged the proof valid, and the gas used.
    async fn reveal(&self, account: usize, sequence: U256, proof: &[u8]) -> (bool, u64) {
        let registry = self.registry(account);
        let call = registry.submitProof(sequence, Bytes::copy_from_slice(proof));
        let valid = call.call().await.unwrap();
        let receipt = call.gas(TRANSACTION_GAS_LIMIT).send().await.unwrap().get_receipt().await.unwrap();
        assert!(receipt.status(), "submitProof reverted");
        (valid, receipt.gas_used)
    }

    async fn mine(&self, blocks: u64) {
        let provider = &self.accounts[0].1;
        let _: serde_json::Value = provider.raw_request("anvil_mine".into(), (U256::from(blocks),)).await.unwrap();
    }

    async fn status(&self, sequence: U256) -> RegistryStatus {
        RegistryStatus::try_from(self.registry(0).status(sequence).call().await.unwrap()).unwrap()
    }

    async fn stake(&self, account: usize) -> U256 {
        self.registry(0).stakeOf(self.accounts[account].0).call().await.unwrap()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_real_proof_verifies_a_sequence_and_a_copied_one_is_slashed() {
    let chain = Deployed::start().await;
    let honest = from_evm_address(chain.accounts[1].0);
    let sample = prove(3, 1, honest, 21);
    let sequence = chain.post(&sample).await;
    assert_eq!(sequence, U256::from(1));

    // Prover 2 copies prover 1's proof: its commit is to the same bytes.
    chain.commit(1, sequence, &sample.calldata).await;
    chain.commit(2, sequence, &sample.calldata).await;
    chain.mine(COMMIT_WINDOW).await;
    assert_eq!(chain.status(sequence).await, RegistryStatus::Revealing);

    let stake_before = chain.stake(2).await;
    let (valid, gas) = chain.reveal(2, sequence, &sample.calldata).await;
    assert!(!valid, "a proof bound to another submitter is invalid");
    assert!(chain.stake(2).await < stake_before, "the copier is slashed");
    assert_eq!(chain.status(sequence).await, RegistryStatus::Revealing);
    eprintln!("submitProof with a copied proof (rejected): {gas} gas");

    let (valid, gas) = chain.reveal(1, sequence, &sample.calldata).await;
    assert!(valid);
    eprintln!("submitProof with a real proof: {gas} gas");
    assert!(gas < TRANSACTION_GAS_LIMIT);
    assert_eq!(chain.status(sequence).await, RegistryStatus::Verified);
    let info = chain.registry(0).sequenceInfo(sequence).call().await.unwrap();
    assert_eq!(info.prover, chain.accounts[1].0);
    assert_eq!(chain.registry(0).latestVerifiedSequence().call().await.unwrap(), sequence);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_proof_is_slashed_and_verifies_nothing() {
    let chain = Deployed::start().await;
    let prover = from_evm_address(chain.accounts[1].0);
    let sample = prove(2, 1, prover, 22);
    let sequence = chain.post(&sample).await;

    let mut tampered = sample.calldata.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    chain.commit(1, sequence, &tampered).await;
    chain.mine(COMMIT_WINDOW).await;
    let stake_before = chain.stake(1).await;
    let (valid, _) = chain.reveal(1, sequence, &tampered).await;
    assert!(!valid);
    assert!(chain.stake(1).await < stake_before, "the prover is slashed");
    assert_eq!(chain.status(sequence).await, RegistryStatus::Revealing, "the sequence is not verified");

    // After the window the round expires with nothing verified.
    chain.mine(REVEAL_WINDOW).await;
    assert_eq!(chain.status(sequence).await, RegistryStatus::Expired);
}
