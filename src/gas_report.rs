//! `zkpor contracts gas-report`: what verifying a final proof on chain costs.
//!
//! For each shape it builds the circuits, proves a few made-up accounts,
//! starts anvil (from `contracts/node_modules`), deploys the shipped verifier
//! and a registry, and measures: a `verifyProof` transaction, its split into
//! intrinsic, calldata and execution gas, the execution per phase (the
//! verifier's `profile` view), and a full `submitProof` through the registry.

use std::process::ExitCode;

use alloy::network::EthereumWallet;
use alloy::primitives::{Bytes, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, Result, bail, ensure};
use zkpor_chain::anvil::{mine, spawn_anvil};
use zkpor_chain::deploy::{RegistryParams, deploy_registry};
use zkpor_chain::registry::{LiabilityRegistry, from_evm_address, hash_to_b256, proof_hash};
use zkpor_chain::statement::{OnChainStatement, StatementAsset, symbol_to_bytes32};
use zkpor_chain::verifier::{FinalProofVerifier, ProofCheck, VerifierArtifact, check_proof, deploy_verifier, words};
use zkpor_circuits::encoding::HashHex;
use zkpor_circuits::{CircuitSet, Shape};
use zkpor_evm_verifier::PROFILE_PHASES;
use zkpor_evm_verifier::fixtures::{SampleProof, prove_accounts, sample_accounts};

use crate::table::print_table;

/// The most gas one transaction may use (EIP-7825).
pub const TRANSACTION_GAS_LIMIT: u64 = 16_777_216;

/// What one shape measured.
struct GasFigures {
    shape: Shape,
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

pub fn run(shapes: Vec<Shape>) -> Result<ExitCode> {
    let shapes = if shapes.is_empty() { vec![Shape::TINY] } else { shapes };
    let mut all = Vec::new();
    for shape in shapes {
        let artifact = VerifierArtifact::shipped(&shape)?;
        let spinner = crate::progress::spinner(&format!("{shape}: building circuits"));
        let circuits =
            CircuitSet::build_reporting(&shape, |step| spinner.set_message(format!("{shape}: building the {step}")));
        spinner.set_message(format!("{shape}: proving made-up accounts"));
        let runtime = crate::cli::runtime()?;
        let figures = runtime.block_on(async {
            let chain = LocalChain::start().await?;
            let submitter = from_evm_address(chain.prover_address);
            let accounts = sample_accounts(shape.assets(), 5.min(shape.capacity() as usize), 1);
            let prices: Vec<u64> = (1..=shape.assets() as u64).map(|a| 1000 * a).collect();
            let sample = prove_accounts(&circuits, &prices, &accounts, 1, submitter, 1)?;
            spinner.set_message(format!("{shape}: measuring on anvil"));
            measure(shape, &chain, &artifact, &sample).await
        })?;
        spinner.finish_and_clear();
        all.push(figures);
    }
    print_figures(&all);
    let over: Vec<String> = all
        .iter()
        .filter(|f| f.verify_transaction.max(f.submit_proof) >= TRANSACTION_GAS_LIMIT)
        .map(|f| f.shape.to_string())
        .collect();
    if !over.is_empty() {
        bail!("over the per-transaction gas limit of {TRANSACTION_GAS_LIMIT}: {}", over.join(", "));
    }
    Ok(ExitCode::SUCCESS)
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
    shape: Shape,
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
        bail!("{shape}: the shipped verifier rejects a real proof");
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
    let submit_proof = submit_through_registry(chain, verifier, sample).await?;
    Ok(GasFigures {
        shape,
        calldata_bytes: sample.calldata.len(),
        code_bytes,
        verify_transaction,
        calldata_gas,
        phases,
        submit_proof,
    })
}

/// Posts the sample's statement, commits and reveals its proof; the gas of
/// the reveal.
async fn submit_through_registry(
    chain: &LocalChain,
    verifier: alloy::primitives::Address,
    sample: &SampleProof,
) -> Result<u64> {
    let params = RegistryParams {
        verifier,
        sequencer: chain.owner_address,
        min_stake: U256::from(1u64),
        commit_window: 1,
        reveal_window: 5,
    };
    let registry = deploy_registry(&chain.owner, &params).await?.registry;
    let statement = &sample.statement;
    let encoded = OnChainStatement {
        shape: format!("{} assets", statement.prices.len()),
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
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    for f in all {
        println!(
            "{}: proof calldata {} bytes, verifier code {} bytes",
            f.shape,
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
