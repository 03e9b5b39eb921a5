//! The generated plonky2 verifiers: the bytecode of those zkpor ships (one
//! per shipped circuit family), deploying one, checking a proof with one as
//! an `eth_call`, and checking that a registry's verifier is the one this
//! build generates for the registry's family.
//!
//! A verifier is generated per family by `zkpor contracts gen-verifier` into
//! `contracts/src/generated/` and compiled by forge into
//! `contracts/artifacts/`, with the family's digest in
//! `contracts/artifacts/families.json`; the artifacts of the shipped families
//! are embedded here, so deploying them needs no toolchain.

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use anyhow::{Context, Result, bail, ensure};
use serde::{Deserialize, Serialize};
use tracing::info;

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
        /// The contract whose code, after a STOP byte, is the table of the
        /// circuit's constants.
        function TABLE_STORE() external view returns (address);
    }
}

/// The forge artifacts of the verifiers zkpor ships, by family.
const SHIPPED: &[(&str, &str)] = &[
    ("standard", include_str!("../../contracts/artifacts/FinalProofVerifier_standard.json")),
    ("tiny", include_str!("../../contracts/artifacts/FinalProofVerifier_tiny.json")),
];

/// The digests of the shipped families, as generated with their verifiers.
const FAMILIES: &str = include_str!("../../contracts/artifacts/families.json");

/// One shipped family in `families.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShippedFamily {
    /// The family's name.
    pub name: String,
    /// Its digest (the final circuit's), as the verifier exposes it.
    pub digest: B256,
    /// Its verifier contract's name.
    pub contract: String,
}

/// The families whose verifier zkpor ships.
pub fn shipped_families() -> Vec<ShippedFamily> {
    serde_json::from_str(FAMILIES).expect("the embedded families.json parses")
}

/// The shipped family named `name`.
pub fn shipped_family(name: &str) -> Option<ShippedFamily> {
    shipped_families().into_iter().find(|family| family.name == name)
}

/// Whether a registry's verifier is the one this build generates for the
/// registry's family.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum VerifierCheck {
    /// It is: the registry's family, its digest, the verifier's runtime code
    /// and its constant table are all this build's.
    Vouched {
        /// The family.
        family: String,
    },
    /// It is not, or cannot be told: a root it verified is not vouched for
    /// by this build.
    NotVouched {
        /// The family the registry names.
        family: String,
        /// Why.
        reason: String,
    },
}

impl VerifierCheck {
    /// Whether the verifier is vouched for.
    pub fn is_vouched(&self) -> bool {
        matches!(self, VerifierCheck::Vouched { .. })
    }
}

/// The family `registry` records and its digest.
pub async fn registry_family<P: Provider>(provider: &P, registry: Address) -> Result<(String, B256)> {
    let contract = crate::registry::LiabilityRegistry::new(registry, provider);
    let family = contract.family().call().await.context("reading the registry's family")?;
    let digest = contract.familyDigest().call().await.context("reading the registry's family digest")?;
    Ok((family, digest))
}

/// Compares `registry`'s verifier with the one this build generates for the
/// family the registry records: the family and its digest must be a
/// shipped family's, the verifier's runtime code the artifact's (its one
/// immutable, the table's address, aside), the table's code what the
/// artifact deploys, and the verifier's `CIRCUIT_DIGEST` the family's.
pub async fn check_registry_verifier<P: Provider>(provider: &P, registry: Address) -> Result<VerifierCheck> {
    let (family, digest) = registry_family(provider, registry).await?;
    let not = |reason: String| Ok(VerifierCheck::NotVouched { family: family.clone(), reason });
    let Some(shipped) = shipped_family(&family) else {
        let known: Vec<String> = shipped_families().into_iter().map(|f| f.name).collect();
        return not(format!("this build knows the families {}, not '{family}'", known.join(", ")));
    };
    if shipped.digest != digest {
        return not(format!("the registry records digest {digest} for '{family}', this build's is {}", shipped.digest));
    }
    let verifier = crate::registry::LiabilityRegistry::new(registry, provider)
        .verifier()
        .call()
        .await
        .context("reading the registry's verifier")?;
    let artifact = VerifierArtifact::shipped(&family)?;
    let code = provider.get_code_at(verifier).await.context("reading the verifier's code")?;
    if !artifact.runtime_matches(&code) {
        return not(format!("the verifier at {verifier} runs other code than this build's verifier of '{family}'"));
    }
    let contract = FinalProofVerifier::new(verifier, provider);
    let circuit = contract.CIRCUIT_DIGEST().call().await.context("reading the verifier's circuit digest")?;
    if circuit != digest {
        return not(format!("the verifier checks proofs of circuit {circuit}, not of the family's {digest}"));
    }
    let store = contract.TABLE_STORE().call().await.context("reading the verifier's constant table")?;
    let table = provider.get_code_at(store).await.context("reading the verifier's constant table")?;
    if table.is_empty() || !artifact.deploys_table(&table) {
        return not(format!("the verifier's constant table at {store} is not this build's for '{family}'"));
    }
    Ok(VerifierCheck::Vouched { family })
}

/// A compiled verifier contract.
#[derive(Clone, Debug)]
pub struct VerifierArtifact {
    /// The contract's name.
    pub name: String,
    /// Its creation bytecode.
    pub bytecode: Bytes,
    /// Its runtime bytecode, immutables zero.
    pub runtime: Bytes,
    /// Where the runtime code holds immutables: (start, length) in bytes.
    pub immutables: Vec<(usize, usize)>,
}

impl VerifierArtifact {
    /// The shipped verifier of family `family`; fails, saying how to make
    /// one, for a family zkpor does not ship.
    pub fn shipped(family: &str) -> Result<Self> {
        let Some((_, json)) = SHIPPED.iter().find(|(name, _)| *name == family) else {
            let shipped: Vec<&str> = SHIPPED.iter().map(|(name, _)| *name).collect();
            bail!(
                "zkpor ships verifiers for the families {}, not '{family}': generate one with `zkpor contracts \
                 gen-verifier --family NAME`, build it with forge in contracts/ and pass its artifact with \
                 --verifier-artifact",
                shipped.join(", ")
            );
        };
        Self::from_json(json).with_context(|| format!("the embedded verifier artifact of family {family}"))
    }

    /// Whether `code` is this artifact's runtime code, the immutables aside.
    pub fn runtime_matches(&self, code: &[u8]) -> bool {
        if code.len() != self.runtime.len() {
            return false;
        }
        let mut code = code.to_vec();
        for &(start, length) in &self.immutables {
            if let Some(part) = code.get_mut(start..start + length) {
                part.fill(0);
            }
        }
        code == self.runtime.as_ref()
    }

    /// Whether `table`, the code of a verifier's constant table, is the one
    /// this artifact's constructor deploys (its bytes after the STOP byte
    /// are part of the creation code).
    pub fn deploys_table(&self, table: &[u8]) -> bool {
        let Some((_, constants)) = table.split_first() else { return false };
        !constants.is_empty() && self.bytecode.windows(constants.len()).any(|window| window == constants)
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
        let runtime: Bytes = value["deployedBytecode"]["object"]
            .as_str()
            .unwrap_or("0x")
            .parse()
            .context("deployedBytecode.object is not hex")?;
        let mut immutables = Vec::new();
        if let Some(references) = value["deployedBytecode"]["immutableReferences"].as_object() {
            for places in references.values() {
                for place in places.as_array().into_iter().flatten() {
                    let field = |name: &str| place[name].as_u64().map(|v| v as usize);
                    immutables.push((
                        field("start").context("an immutable reference without start")?,
                        field("length").context("an immutable reference without length")?,
                    ));
                }
            }
        }
        let name = value["contractName"].as_str().unwrap_or("FinalProofVerifier").to_string();
        Ok(VerifierArtifact { name, bytecode, runtime, immutables })
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
