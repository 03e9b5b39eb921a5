//! `zkpor bench submit`: how fast proven sequences get on chain, and how
//! many one agent carries at once.
//!
//! `N` sequences of one batch, on a circuit family (the tiny one by
//! default), are proven up front into a scratch SQLite store for anvil's
//! second account; the registry of the family (with its shipped verifier)
//! is deployed on a fresh anvil, the sequences posted and the stake
//! deposited. Then the manager and sender start on that store while a
//! block is mined every `--block-ms`: every sequence goes through commit,
//! T1, reveal, T2 and reward claim at once. For each, the blocks from the
//! manager taking its proof in to its verification and to its reward are
//! counted, against the floors the windows set: a commit mined in the next
//! block, T1 blocks later the reveal (verified: `T1 + 1`), T2 blocks later
//! the claim (`T1 + T2 + 1`).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::network::EthereumWallet;
use alloy::primitives::{B256, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, Result, ensure};
use clap::Args;
use tokio::sync::watch;
use zkpor_chain::anvil::{mine, spawn_anvil};
use zkpor_chain::config::ChainConfig;
use zkpor_chain::deploy::{RegistryParams, deploy_registry};
use zkpor_chain::registry::{LiabilityRegistry, from_evm_address, hash_to_b256};
use zkpor_chain::statement::OnChainStatement;
use zkpor_chain::verifier::{VerifierArtifact, deploy_verifier};
use zkpor_circuits::Family;
use zkpor_generator::source::config::LocalSnapshot;
use zkpor_generator::source::local::commit_snapshot;
use zkpor_manager::Manager;
use zkpor_store::scratch::ScratchDatabase;
use zkpor_store::{Store, SubmissionState, TxPurpose};

use super::dispatch::{generator, prove_all, write_snapshot};
use crate::cli::circuit_dir::CircuitDirArgs;
use crate::table::print_table;

const ETHER: u64 = 1_000_000_000_000_000_000;

/// What `zkpor bench submit` measures.
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// Sequences carried at once.
    #[arg(long, default_value_t = 8)]
    sequences: u64,
    /// The circuit family (one whose verifier zkpor ships).
    #[arg(long, default_value = "tiny")]
    family: Family,
    /// The registry's commit window T1, in blocks.
    #[arg(long, default_value_t = 5)]
    commit_window: u64,
    /// The registry's reveal window T2, in blocks.
    #[arg(long, default_value_t = 10)]
    reveal_window: u64,
    /// Milliseconds between blocks.
    #[arg(long, default_value_t = 250)]
    block_ms: u64,
    /// Blocks before a transaction counts as final.
    #[arg(long, default_value_t = 1)]
    confirmations: u64,
    /// Where the family's circuits are read from and kept.
    #[command(flatten)]
    circuit_dir: CircuitDirArgs,
}

/// Runs the benchmark and prints its figures.
pub fn run(args: SubmitArgs) -> Result<ExitCode> {
    ensure!(args.sequences >= 1, "--sequences must be at least 1");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(measure(args))?;
    Ok(ExitCode::SUCCESS)
}

fn wallet(anvil: &alloy::node_bindings::AnvilInstance, account: usize) -> DynProvider {
    let signer: PrivateKeySigner = anvil.keys()[account].clone().into();
    ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(anvil.endpoint_url()).erased()
}

async fn measure(args: SubmitArgs) -> Result<()> {
    let anvil = spawn_anvil()?;
    let account = anvil.addresses()[1];
    let dir = tempfile::tempdir()?;
    let snapshot = dir.path().join("snapshot");
    write_snapshot(&snapshot, &args.family, 1)?;
    let sequences = (1..=args.sequences)
        .map(|sequence| {
            let local = LocalSnapshot { path: snapshot.clone(), sequence, family: args.family.clone(), seed: Some(7) };
            commit_snapshot(&local, from_evm_address(account))
        })
        .collect::<Result<Vec<_>>>()?;
    let circuits = Arc::new(args.circuit_dir.cache());
    let scratch = ScratchDatabase::sqlite()?;
    let generator = generator(&scratch, &circuits, &args.family).await?;
    eprintln!("proving {} sequences on family {} ...", sequences.len(), args.family.name());
    let started = Instant::now();
    prove_all(&generator, &circuits, &sequences).await?;
    eprintln!("proven in {:.0?}", started.elapsed());
    let family_digest = B256::from(tokio::task::block_in_place(|| circuits.get(&args.family))?.digest()?.0);

    let owner = wallet(&anvil, 0);
    let verifier = deploy_verifier(&owner, &VerifierArtifact::shipped(args.family.name())?).await?;
    let params = RegistryParams {
        verifier,
        family: args.family.name().to_string(),
        family_digest,
        sequencer: anvil.addresses()[0],
        min_stake: U256::from(ETHER / 1000),
        commit_window: args.commit_window,
        reveal_window: args.reveal_window,
    };
    let registry = deploy_registry(&owner, &params).await?.registry;
    let sequencer = LiabilityRegistry::new(registry, owner.clone());
    for sequence in &sequences {
        let info = &sequence.info;
        let statement = OnChainStatement::from_file(&info.statement)?.encode();
        sequencer
            .postSequence(hash_to_b256(info.root), hash_to_b256(info.digest), info.account_count, statement.into())
            .value(U256::from(ETHER / 10))
            .send()
            .await?
            .get_receipt()
            .await?;
    }
    let stake = U256::from(ETHER / 100);
    LiabilityRegistry::new(registry, wallet(&anvil, 1)).deposit().value(stake).send().await?.get_receipt().await?;
    let _: serde_json::Value = owner.raw_request("evm_setAutomine".into(), (false,)).await?;

    let config = ChainConfig {
        rpc_url: anvil.endpoint(),
        registry,
        private_key: Some(alloy::hex::encode(anvil.keys()[1].to_bytes())),
        private_key_file: None,
        rpc_timeout_secs: 20,
        confirmations: args.confirmations,
        poll_interval_ms: 50,
        commit_margin_blocks: 1,
        gas_margin_percent: 20,
        max_fee_per_gas_gwei: 200,
        replace_after_secs: 60,
        fee_bump_percent: 15,
        stake_wei: stake,
    };
    let store = generator.store().clone();
    let manager = Manager::connect(&config, store.clone(), generator.verifiers().clone(), account).await?;
    let (stop, shutdown) = watch::channel(false);
    let miner = tokio::spawn({
        let (owner, mut shutdown, every) = (owner.clone(), shutdown.clone(), Duration::from_millis(args.block_ms));
        async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(every) => mine(&owner, 1).await?,
                    _ = shutdown.changed() => return anyhow::Ok(()),
                }
            }
        }
    });
    eprintln!(
        "submitting: a block every {} ms, T1 {} and T2 {} blocks",
        args.block_ms, args.commit_window, args.reveal_window
    );
    let started = Instant::now();
    let running = tokio::spawn(manager.run(shutdown));
    let peak = follow(&store, args.sequences as usize, started).await?;
    let wall = started.elapsed();
    stop.send(true).ok();
    running.await??;
    miner.await??;
    report(&store, &account.to_string(), &args, peak, wall).await
}

/// Waits until every submission is rewarded; the most carried at once
/// between proof and verification.
async fn follow(store: &Store, count: usize, started: Instant) -> Result<usize> {
    let mut peak = 0;
    loop {
        let submissions = store.submissions().await?;
        let carried = submissions
            .iter()
            .filter(|s| !matches!(s.state, SubmissionState::Rewarded | SubmissionState::Verified))
            .count();
        peak = peak.max(carried);
        if let Some(failed) = submissions.iter().find(|s| s.state == SubmissionState::Failed) {
            anyhow::bail!("sequence {} failed: {:?}", failed.sequence, failed.reason);
        }
        if submissions.len() == count && submissions.iter().all(|s| s.state == SubmissionState::Rewarded) {
            return Ok(peak);
        }
        ensure!(started.elapsed() < Duration::from_secs(900), "not every sequence was rewarded in 15 minutes");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn report(store: &Store, account: &str, args: &SubmitArgs, peak: usize, wall: Duration) -> Result<()> {
    let records = store.transactions(account).await?;
    let mut verified = Vec::new();
    let mut rewarded = Vec::new();
    let gas = |purpose: TxPurpose| -> Vec<u64> {
        records.iter().filter(|r| r.tx.purpose == purpose).filter_map(|r| r.gas_used).collect()
    };
    let (commits, reveals, claims) = (gas(TxPurpose::Commit), gas(TxPurpose::Reveal), gas(TxPurpose::Claim));
    for submission in store.submissions().await? {
        let done = submission.done_block.context("a rewarded submission without its block")?;
        verified.push(done - submission.ready_block);
        let claim = records
            .iter()
            .find(|r| r.tx.purpose == TxPurpose::Claim && r.tx.sequence == Some(submission.sequence))
            .and_then(|r| r.block)
            .context("a rewarded submission without its claim")?;
        rewarded.push(claim - submission.ready_block);
    }
    let spread = |values: &mut Vec<u64>| {
        values.sort_unstable();
        format!("{} / {} / {}", values[0], values[values.len() / 2], values[values.len() - 1])
    };
    let mean = |values: &[u64]| values.iter().sum::<u64>() / values.len().max(1) as u64;
    println!();
    print_table(
        &["measure", "min / median / max", "floor"],
        &[
            [
                "blocks from proof to verified".to_string(),
                spread(&mut verified),
                format!("{} (T1 + 1)", args.commit_window + 1),
            ],
            [
                "blocks from proof to reward claimed".to_string(),
                spread(&mut rewarded),
                format!("{} (T1 + T2 + 1)", args.commit_window + args.reveal_window + 1),
            ],
        ],
    );
    println!();
    println!(
        "{} sequences carried at once (peak {peak} between proof and verification), all rewarded in {:.1} s at {} ms per block, {} confirmation(s)",
        args.sequences,
        wall.as_secs_f64(),
        args.block_ms,
        args.confirmations
    );
    println!("gas per sequence: commit {}, reveal {}, claim {}", mean(&commits), mean(&reveals), mean(&claims));
    Ok(())
}
