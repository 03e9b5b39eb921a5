//! `zkpor contracts gas-report`: what verifying a final proof on chain costs.
//!
//! For each circuit family it builds the circuits, proves a few made-up
//! accounts, starts anvil (from `contracts/node_modules`), deploys the
//! shipped verifier and a registry of the family, and measures: a
//! `verifyProof` transaction, its split into intrinsic, calldata and
//! execution gas, the execution per phase (the verifier's `profile` view),
//! and a full `submitProof` through the registry.

use std::process::ExitCode;

use alloy::network::EthereumWallet;
use alloy::primitives::{B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, Result, bail, ensure};
use zkpor_chain::anvil::{mine, spawn_anvil};
use zkpor_chain::deploy::{RegistryParams, deploy_registry};
use zkpor_chain::registry::{LiabilityRegistry, from_evm_address, hash_to_b256, proof_hash};
use zkpor_chain::statement::{OnChainStatement, StatementAsset, symbol_to_bytes32};
use zkpor_chain::verifier::{FinalProofVerifier, ProofCheck, VerifierArtifact, check_proof, deploy_verifier, words};
use zkpor_circuits::encoding::HashHex;
use zkpor_circuits::{Family, FamilyCircuits};
use zkpor_evm_verifier::PROFILE_PHASES;
use zkpor_evm_verifier::fixtures::{SampleProof, prove_accounts, sample_accounts};

use crate::table::print_table;

/// The most gas one transaction may use (EIP-7825).
pub const TRANSACTION_GAS_LIMIT: u64 = 16_777_216;

/// Made-up accounts proven per family.
const SAMPLE_USERS: usize = 5;

/// What one family measured.
struct GasFigures {
    family: String,
    calldata_bytes: usize,
    code_bytes: usize,
    verify_transaction: u64,
    calldata_gas: u64,
    phases: Vec<u64>,
    submit_proof: u64,
}

impl GasFigures {
    fn execution(&self) -> u64 {
        self.verify_transaction - 21_000 - self.calldata_gas
    }
}

/// Measures the gas of each of `families` (the tiny one if none), prints
/// the figures, and fails if a transaction needs more than
/// [`TRANSACTION_GAS_LIMIT`].
pub fn run(families: Vec<Family>) -> Result<ExitCode> {
    let families = if families.is_empty() { vec![Family::tiny()] } else { families };
    let mut all = Vec::new();
    for family in families {
        let name = family.name().to_string();
        let artifact = VerifierArtifact::shipped(&name)?;
        let spinner = crate::progress::spinner(&format!("{name}: building circuits"));
        let circuits =
            FamilyCircuits::build(&family, |step| spinner.set_message(format!("{name}: building the {step}")))?;
        let digest = B256::from(circuits.digest()?.0);
        spinner.set_message(format!("{name}: proving made-up accounts"));
        let runtime = crate::cli::runtime()?;
        let figures = runtime.block_on(async {
            let chain = LocalChain::start().await?;
            let submitter = from_evm_address(chain.prover_address);
            let accounts = sample_accounts(family.assets(), SAMPLE_USERS, 1);
            let prices: Vec<u64> = (1..=family.assets() as u64).map(|a| 1000 * a).collect();
            let sample = prove_accounts(&circuits, &prices, &accounts, 1, submitter, 1)?;
            spinner.set_message(format!("{name}: measuring on anvil"));
            let batches = batches_of(&family, &accounts)?;
            measure(&family, digest, batches, &chain, &artifact, &sample).await
        })?;
        spinner.finish_and_clear();
        all.push(figures);
    }
    print_figures(&all);
    let over: Vec<&str> = all
        .iter()
        .filter(|f| f.verify_transaction.max(f.submit_proof) >= TRANSACTION_GAS_LIMIT)
        .map(|f| f.family.as_str())
        .collect();
    if !over.is_empty() {
        bail!("over the per-transaction gas limit of {TRANSACTION_GAS_LIMIT}: {}", over.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

/// The batches [`prove_accounts`] proves `accounts` in: each user in the
/// smallest tier of `family` that holds their non-zero balances, each
/// tier's users cut into its batches (one batch if there are no users).
fn batches_of(family: &Family, accounts: &[Vec<i64>]) -> Result<u64> {
    let tiers = family.tiers();
    let mut users = vec![0usize; tiers.tiers().len()];
    for balances in accounts {
        let held = balances.iter().filter(|&&balance| balance != 0).count();
        users[tiers.tier_for(held).context("no tier holds a user")?] += 1;
    }
    let batches: usize = users.iter().enumerate().map(|(tier, &n)| n.div_ceil(tiers.tier(tier).batch_size)).sum();
    Ok(batches.max(1) as u64)
}

/// Anvil, signing as the deployer and sequencer (account 0) or a prover (1).
struct LocalChain {
    _anvil: alloy::node_bindings::AnvilInstance,
    owner: DynProvider,
    owner_address: alloy::primitives::Address,
    prover: DynProvider,
    prover_address: alloy::primitives::Address,
}

impl LocalChain {
    async fn start() -> Result<Self> {
        let anvil = spawn_anvil()?;
        let provider = |i: usize| -> DynProvider {
            let signer: PrivateKeySigner = anvil.keys()[i].clone().into();
            ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(anvil.endpoint_url()).erased()
        };
        let (owner, owner_address) = (provider(0), anvil.addresses()[0]);
        let (prover, prover_address) = (provider(1), anvil.addresses()[1]);
        Ok(LocalChain { _anvil: anvil, owner, owner_address, prover, prover_address })
    }
}

async fn measure(
    family: &Family,
    digest: B256,
    batches: u64,
    chain: &LocalChain,
    artifact: &VerifierArtifact,
    sample: &SampleProof,
) -> Result<GasFigures> {
    let verifier = deploy_verifier(&chain.owner, artifact).await?;
    let code_bytes = chain.owner.get_code_at(verifier).await?.len();
    let inputs = sample.public_inputs();
    let ProofCheck::Valid { gas: verify_transaction } =
        check_proof(&chain.owner, verifier, &sample.calldata, &inputs).await?
    else {
        bail!("{}: the shipped verifier rejects a real proof", family.name());
    };
    let call =
        FinalProofVerifier::verifyProofCall { proof: sample.calldata.clone().into(), publicInputs: inputs.clone() };
    let calldata_gas = alloy::sol_types::SolCall::abi_encode(&call).iter().map(|&b| if b == 0 { 4 } else { 16 }).sum();
    let profile = FinalProofVerifier::new(verifier, &chain.owner)
        .profile(sample.calldata.clone().into(), inputs)
        .gas(TRANSACTION_GAS_LIMIT)
        .call()
        .await
        .context("reading the verifier's profile")?;
    let gas_left = words(&profile);
    ensure!(gas_left.len() == PROFILE_PHASES.len() + 1, "the profile has {} checkpoints", gas_left.len());
    let phases = gas_left.windows(2).map(|w| w[0] - w[1]).collect();
    let submit_proof = submit_through_registry(chain, verifier, family, digest, batches, sample).await?;
    Ok(GasFigures {
        family: family.name().to_string(),
        calldata_bytes: sample.calldata.len(),
        code_bytes,
        verify_transaction,
        calldata_gas,
        phases,
        submit_proof,
    })
}

/// Deploys a registry of `family` (of digest `family_digest`) on
/// `verifier`, posts the sample's statement (over `batches` batches),
/// commits and reveals its proof; the gas of the reveal.
async fn submit_through_registry(
    chain: &LocalChain,
    verifier: alloy::primitives::Address,
    family: &Family,
    family_digest: B256,
    batches: u64,
    sample: &SampleProof,
) -> Result<u64> {
    let params = RegistryParams {
        verifier,
        family: family.name().to_string(),
        family_digest,
        sequencer: chain.owner_address,
        min_stake: U256::from(1u64),
        commit_window: 1,
        reveal_window: 5,
    };
    let registry = deploy_registry(&chain.owner, &params).await?.registry;
    let statement = &sample.statement;
    let encoded = OnChainStatement {
        family: family.name().to_string(),
        batches,
        assets: statement
            .prices
            .iter()
            .zip(statement.equity.iter().zip(&statement.debt))
            .enumerate()
            .map(|(i, (&price, (&equity, &debt)))| {
                Ok(StatementAsset {
                    symbol: symbol_to_bytes32(&format!("ASSET{i}"))?,
                    decimals: 0,
                    priceFractionDigits: 0,
                    priceMantissa: price.into(),
                    equity,
                    debt,
                })
            })
            .collect::<Result<_>>()?,
    };
    let sequencer = LiabilityRegistry::new(registry, &chain.owner);
    let root = hash_to_b256(HashHex(statement.root));
    let digest = hash_to_b256(HashHex(statement.digest()));
    sequencer
        .postSequence(root, digest, statement.account_count, encoded.encode().into())
        .send()
        .await?
        .get_receipt()
        .await?;
    let prover = LiabilityRegistry::new(registry, &chain.prover);
    prover.deposit().value(U256::from(1u64)).send().await?.get_receipt().await?;
    let sequence = U256::from(sample.inputs.sequence);
    prover
        .submitProofHash(sequence, proof_hash(&sample.calldata, chain.prover_address))
        .send()
        .await?
        .get_receipt()
        .await?;
    mine(&chain.owner, 1).await?;
    let reveal = prover.submitProof(sequence, Bytes::copy_from_slice(&sample.calldata));
    ensure!(reveal.call().await?, "the registry judges the real proof invalid");
    let receipt = reveal.gas(TRANSACTION_GAS_LIMIT).send().await?.get_receipt().await?;
    ensure!(receipt.status(), "submitProof reverted");
    Ok(receipt.gas_used)
}

fn print_figures(all: &[GasFigures]) {
    let thousands = |n: u64| {
        let digits = n.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    for f in all {
        println!(
            "{}: proof calldata {} bytes, verifier code {} bytes",
            f.family,
            thousands(f.calldata_bytes as u64),
            thousands(f.code_bytes as u64)
        );
        let mut rows = vec![
            ["verifyProof transaction".to_string(), thousands(f.verify_transaction)],
            ["  intrinsic".to_string(), thousands(21_000)],
            ["  calldata".to_string(), thousands(f.calldata_gas)],
            ["  execution".to_string(), thousands(f.execution())],
        ];
        rows.extend(PROFILE_PHASES.iter().zip(&f.phases).map(|(name, gas)| [format!("    {name}"), thousands(*gas)]));
        rows.push(["submitProof through the registry".to_string(), thousands(f.submit_proof)]);
        rows.push(["per-transaction limit".to_string(), thousands(TRANSACTION_GAS_LIMIT)]);
        print_table(&["", "gas"], &rows);
        println!();
    }
}
