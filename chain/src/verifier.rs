//! The generated plonky2 verifiers: the bytecode of those zkpor ships,
//! deploying one, and checking a proof with one as an `eth_call`.
//!
//! A verifier is generated per circuit shape by `zkpor contracts
//! gen-verifier` into `contracts/src/generated/` and compiled by forge into
//! `contracts/artifacts/`; the artifacts of the shipped shapes are embedded
//! here, so deploying them needs no toolchain.

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use anyhow::{Context, Result, bail, ensure};
use serde::Serialize;
use tracing::info;
use zkpor_circuits::Shape;

alloy::sol! {
    /// The interface of every generated verifier.
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    interface FinalProofVerifier {
        /// The proof failed the check numbered `code`.
        error InvalidProof(uint256 code);
        /// Whether `proof` is a valid final proof for `publicInputs`.
        function verifyProof(bytes calldata proof, uint64[] calldata publicInputs) external view returns (bool);
        /// The Fiat-Shamir challenges of a proof.
        function challenges(bytes calldata proof, uint64[] calldata publicInputs) external view returns (uint256[] memory);
        /// Per gate, its filtered constraints combined with powers of the alphas.
        function gateSums(bytes calldata proof, uint64[] calldata publicInputs) external view returns (uint256[] memory);
        /// Gas left after each phase of a verification.
        function profile(bytes calldata proof, uint64[] calldata publicInputs) external view returns (uint256[] memory);
        /// Length of an encoded proof.
        function PROOF_BYTES() external view returns (uint256);
        /// Digest of the final circuit it verifies.
        function CIRCUIT_DIGEST() external view returns (bytes32);
    }
}

/// The forge artifacts of the verifiers zkpor ships, by shape.
const SHIPPED: &[(&str, &str)] = &[
    ("b4-a2-k2-l1", include_str!("../../contracts/artifacts/FinalProofVerifier_b4_a2_k2_l1.json")),
    ("b1024-a4-k8-l1", include_str!("../../contracts/artifacts/FinalProofVerifier_b1024_a4_k8_l1.json")),
    ("b1024-a8-k8-l1", include_str!("../../contracts/artifacts/FinalProofVerifier_b1024_a8_k8_l1.json")),
];

/// The shapes whose verifier zkpor ships.
pub fn shipped_shapes() -> Vec<Shape> {
    SHIPPED.iter().map(|(shape, _)| shape.parse().expect("a shipped shape parses")).collect()
}

alloy::sol! {
    /// What every generated verifier exposes of its shape: the contract
    /// whose code, after a STOP byte, is the table of its circuit's
    /// constants (the runtime code of all generated verifiers is the same).
    #[sol(rpc)]
    interface TableStoreHolder {
        function TABLE_STORE() external view returns (address);
    }
}

/// The shipped shape whose verifier's constant table is `table`, if any.
pub fn shipped_shape_of_table(table: &[u8]) -> Option<Shape> {
    if table.is_empty() {
        return None;
    }
    let table = alloy::hex::encode(table);
    SHIPPED.iter().find_map(|(shape, json)| {
        let value: serde_json::Value = serde_json::from_str(json).ok()?;
        let creation = value["bytecode"]["object"].as_str()?;
        creation.contains(&table).then(|| shape.parse().expect("a shipped shape parses"))
    })
}

/// The shape of `registry`'s verifier, if it is one zkpor ships.
pub async fn registry_shape<P: Provider>(provider: &P, registry: Address) -> Result<Option<Shape>> {
    let verifier = crate::registry::LiabilityRegistry::new(registry, provider)
        .verifier()
        .call()
        .await
        .context("reading the registry's verifier")?;
    let Ok(store) = TableStoreHolder::new(verifier, provider).TABLE_STORE().call().await else {
        return Ok(None);
    };
    let code = provider.get_code_at(store).await.context("reading the verifier's constant table")?;
    Ok(code.split_first().and_then(|(_, table)| shipped_shape_of_table(table)))
}

/// A compiled verifier contract.
#[derive(Clone, Debug)]
pub struct VerifierArtifact {
    /// The contract's name.
    pub name: String,
    /// Its creation bytecode.
    pub bytecode: Bytes,
}

impl VerifierArtifact {
    /// The shipped verifier of `shape`; fails, saying how to make one, for
    /// a shape zkpor does not ship.
    pub fn shipped(shape: &Shape) -> Result<Self> {
        let name = shape.to_string();
        let Some((_, json)) = SHIPPED.iter().find(|(s, _)| *s == name) else {
            let shipped: Vec<&str> = SHIPPED.iter().map(|(s, _)| *s).collect();
            bail!(
                "zkpor ships verifiers for the shapes {}, not {name}: generate one with `zkpor contracts gen-verifier \
                 --shape {name}`, build it with forge in contracts/ and pass its artifact with --verifier-artifact",
                shipped.join(", ")
            );
        };
        Self::from_json(json).with_context(|| format!("the embedded verifier artifact of {name}"))
    }

    /// A verifier from a forge artifact file (`contracts/out/<Name>.sol/<Name>.json`
    /// or `contracts/artifacts/<Name>.json`).
    pub fn from_file(path: &std::path::Path) -> Result<Self> {
        let json = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::from_json(&json).with_context(|| format!("reading the artifact {}", path.display()))
    }

    fn from_json(json: &str) -> Result<Self> {
        let value: serde_json::Value = serde_json::from_str(json).context("not JSON")?;
        let code = value["bytecode"]["object"].as_str().context("no bytecode.object")?;
        let bytecode: Bytes = code.parse().context("bytecode.object is not hex")?;
        ensure!(!bytecode.is_empty(), "the artifact has empty bytecode");
        let name = value["contractName"].as_str().unwrap_or("FinalProofVerifier").to_string();
        Ok(VerifierArtifact { name, bytecode })
    }
}

/// Deploys `artifact` from the provider's default signer.
pub async fn deploy_verifier<P: Provider>(provider: &P, artifact: &VerifierArtifact) -> Result<Address> {
    let pending = provider
        .send_transaction(TransactionRequest::default().with_deploy_code(artifact.bytecode.clone()))
        .await
        .context("sending the verifier's deployment")?;
    let (address, receipt) = crate::deploy::created_contract(pending, "verifier").await?;
    info!(%address, name = %artifact.name, gas = receipt.gas_used, "verifier deployed");
    Ok(address)
}

/// What a verifier said of a proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum ProofCheck {
    /// The proof verifies; `gas` is what a transaction calling the verifier
    /// with it costs (calldata included).
    Valid {
        /// Gas of a `verifyProof` transaction.
        gas: u64,
    },
    /// The verifier rejected the proof with `InvalidProof(code)`.
    Invalid {
        /// The failure code.
        code: u64,
        /// What it means.
        reason: String,
    },
}

/// Checks `proof` (the verifier's calldata encoding) for `public_inputs` with
/// the verifier at `verifier`, as an `eth_call`.
pub async fn check_proof<P: Provider>(
    provider: &P,
    verifier: Address,
    proof: &[u8],
    public_inputs: &[u64],
) -> Result<ProofCheck> {
    let code = provider.get_code_at(verifier).await.context("reading the verifier's code")?;
    ensure!(!code.is_empty(), "there is no contract at the verifier address {verifier}");
    let contract = FinalProofVerifier::new(verifier, provider);
    let call = contract.verifyProof(Bytes::copy_from_slice(proof), public_inputs.to_vec());
    match call.call().await {
        Ok(true) => {
            let gas = call.estimate_gas().await.context("estimating the verification's gas")?;
            Ok(ProofCheck::Valid { gas })
        }
        Ok(false) => bail!("the verifier at {verifier} returned false, which zkpor's verifiers never do"),
        Err(err) => match err.as_decoded_interface_error::<FinalProofVerifier::FinalProofVerifierErrors>() {
            Some(FinalProofVerifier::FinalProofVerifierErrors::InvalidProof(e)) => {
                let code = u64::try_from(e.code).unwrap_or(u64::MAX);
                Ok(ProofCheck::Invalid { code, reason: zkpor_evm_verifier::failure::describe(code) })
            }
            None => Err(err).with_context(|| format!("calling the verifier at {verifier}")),
        },
    }
}

/// The failure code of a rejected proof, `None` for an accepted one.
pub fn failure_code(check: &ProofCheck) -> Option<u64> {
    match check {
        ProofCheck::Valid { .. } => None,
        ProofCheck::Invalid { code, .. } => Some(*code),
    }
}

/// Reads a `uint256[]` view of a verifier as u64 words (challenges, gate
/// sums, profiles are all below 2^64).
pub fn words(values: &[U256]) -> Vec<u64> {
    values.iter().map(|v| v.to::<u64>()).collect()
}
