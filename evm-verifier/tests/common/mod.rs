//! Shared by the verifier's tests: the tiny family's circuits, real proofs of
//! it, and anvil with its generated verifier deployed.

#![allow(dead_code)]

use std::sync::OnceLock;

use alloy::network::EthereumWallet;
use alloy::node_bindings::AnvilInstance;
use alloy::primitives::Address as EvmAddress;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use plonky2::field::types::Field64;
use zkpor_chain::anvil::spawn_anvil;
use zkpor_chain::verifier::{ProofCheck, VerifierArtifact, check_proof, deploy_verifier};
use zkpor_circuits::encoding::Address;
use zkpor_circuits::stored::CircuitDirectory;
use zkpor_circuits::{F, Family, FamilyCircuits};
use zkpor_evm_verifier::calldata::decode;
use zkpor_evm_verifier::fixtures::{SampleProof, prove_accounts, sample_accounts};
use zkpor_evm_verifier::layout::ProofLayout;

/// The per-transaction gas limit every verification must stay under.
pub const TRANSACTION_GAS_LIMIT: u64 = 16_777_216;

/// Unit prices of the sample's two assets.
pub const PRICES: [u64; 2] = [3, 20];

/// `family`'s circuits, read from the circuit directory the `zkpor`
/// processes use (built and kept there the first time), so that a family
/// is built once per machine, not once per test binary.
pub fn circuits_of(family: &Family) -> FamilyCircuits {
    let files = CircuitDirectory::at_default_location().map(|directory| directory.family(family));
    FamilyCircuits::load_or_build(family, files.as_ref(), |_| {}).unwrap().0
}

pub fn tiny() -> &'static FamilyCircuits {
    static CIRCUITS: OnceLock<FamilyCircuits> = OnceLock::new();
    CIRCUITS.get_or_init(|| circuits_of(&Family::tiny()))
}

/// The tiny family's final circuit.
pub fn final_wrap() -> &'static zkpor_circuits::final_wrap::FinalCircuit {
    tiny().final_wrap().unwrap()
}

pub fn layout() -> ProofLayout {
    ProofLayout::new(&final_wrap().data().common).unwrap()
}

/// A proof of three accounts for sequence 3, bound to 0x4242...
pub fn sample() -> &'static SampleProof {
    static SAMPLE: OnceLock<SampleProof> = OnceLock::new();
    SAMPLE.get_or_init(|| prove(3, 3, Address([0x42; 20]), 1))
}

/// A proof of `accounts` made-up accounts.
pub fn prove(accounts: usize, sequence: u64, submitter: Address, seed: u64) -> SampleProof {
    prove_accounts(tiny(), &PRICES, &sample_accounts(2, accounts, seed), sequence, submitter, seed).unwrap()
}

/// Anvil with the shipped tiny verifier deployed.
pub struct Chain {
    pub anvil: AnvilInstance,
    pub provider: DynProvider,
    pub verifier: EvmAddress,
}

impl Chain {
    pub async fn start() -> Chain {
        let anvil = spawn_anvil().unwrap();
        let signer: PrivateKeySigner = anvil.keys()[0].clone().into();
        let provider =
            ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(anvil.endpoint_url()).erased();
        let verifier = deploy_verifier(&provider, &VerifierArtifact::shipped("tiny").unwrap()).await.unwrap();
        Chain { anvil, provider, verifier }
    }

    pub async fn check(&self, calldata: &[u8], inputs: &[u64]) -> ProofCheck {
        check_proof(&self.provider, self.verifier, calldata, inputs).await.unwrap()
    }
}

/// Whether plonky2's own verifier accepts `calldata` for `inputs`; a byte
/// string that does not decode to a proof is not one.
pub fn plonky2_accepts(calldata: &[u8], inputs: &[u64]) -> bool {
    match decode(calldata, inputs, &layout()) {
        Ok(proof) => final_wrap().data().verify(proof).is_ok(),
        Err(_) => false,
    }
}

/// `F::ORDER` as the byte string of a field element.
pub fn modulus_bytes() -> [u8; 8] {
    F::ORDER.to_be_bytes()
}
