//! `zkpor bench tiers`: a realistic many-asset snapshot proven end to end
//! with the sparse, tiered circuits, in this process.
//!
//! It writes (or reads) a snapshot, turns every user into a sparse leaf of
//! the smallest tier that holds them, builds the circuits, proves every
//! batch and aggregation level, then the statement and final proofs, checks
//! the top proof's root and totals against the native computation and
//! verifies the final proof. It prints where the time and memory went.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use plonky2::util::timing::TimingTree;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpor_circuits::encoding::Address;
use zkpor_circuits::sparse::circuits::TieredCircuits;
use zkpor_circuits::sparse::proof_store::{NoStore, ProofKey, ProofStore};
use zkpor_circuits::sparse::shape::DEFAULT_MAX_CHILDREN;
use zkpor_circuits::sparse::tier::TierSet;
use zkpor_circuits::sparse::tree_prover::{TieredProofDone, prove_tiered_tree};
use zkpor_exchange::pipeline::{Silent, check_top, wrap_top};
use zkpor_exchange::proof_dir::ProofDirectory;
use zkpor_exchange::tiered::committed::{TieredCommitted, default_tiers};
use zkpor_exchange::tiered::pipeline::prove_beside_builds;
use zkpor_snapshot::{LoadOptions, Snapshot};

use super::{Measured, gib, measure, snapshot_dir};
use crate::cli::exchange::SynthProfile;
use crate::table::print_table;

/// `zkpor bench tiers` arguments.
#[derive(Debug, Args)]
pub struct TiersArgs {
    /// Prove this snapshot directory instead of a generated one.
    #[arg(long, conflicts_with_all = ["accounts", "assets", "seed"])]
    snapshot: Option<PathBuf>,
    /// The snapshot to generate otherwise (`zkpor exchange synth`'s profile).
    #[command(flatten)]
    generate: SynthProfile,
    /// Prove on these tiers (as `exchange prove --tiers` takes them) instead
    /// of the snapshot's default tiers.
    #[arg(long)]
    tiers: Option<String>,
    /// Most children an aggregation node verifies.
    #[arg(long, default_value_t = DEFAULT_MAX_CHILDREN)]
    max_children: usize,
    /// Keep every finished proof in this directory, and reuse the proofs an
    /// earlier, interrupted run of the same snapshot kept there.
    #[arg(long)]
    proofs: Option<PathBuf>,
    /// Before proving the tree, prove one full batch of the busiest tier and
    /// one aggregation node with plonky2's step timings logged: where a
    /// proof's time goes.
    #[arg(long)]
    pub profile: bool,
}

pub fn run(args: TiersArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let (_generated, dir) = snapshot_dir(args.snapshot.as_deref(), &args.generate)?;
    let prepare_started = Instant::now();
    let snapshot = Snapshot::load(&dir, &LoadOptions::default())
        .map_err(|errors| anyhow::anyhow!("{errors}"))
        .with_context(|| format!("loading {}", dir.display()))?;
    let assets = snapshot.assets().len();
    let tiers = match &args.tiers {
        Some(text) => TierSet::parse(text, assets).context("--tiers")?,
        None => default_tiers(&snapshot)?,
    };
    let committed =
        TieredCommitted::new(snapshot, tiers.clone(), args.max_children, &mut ChaCha20Rng::seed_from_u64(0x7e5))?;
    let prepare = prepare_started.elapsed();
    let batches = committed.batches();
    let shape = committed.shape().clone();
    let mut users = vec![0usize; tiers.tiers().len()];
    for batch in batches {
        users[batch.tier] += batch.users.len();
    }
    let users_total = committed.statement().account_count as usize;
    eprintln!(
        "{users_total} users in {} batches, shape {shape}; building circuits beside the proofs ...",
        batches.len()
    );

    let prices = committed.statement().prices.clone();
    let (mut first_circuit, mut profiled) = (Duration::ZERO, Duration::ZERO);
    let mut batch_times = vec![Duration::ZERO; tiers.tiers().len()];
    let mut batch_counts = vec![0usize; tiers.tiers().len()];
    let mut batches_done: Option<Duration> = None;
    let mut batches_reused = 0usize;
    let tree_started = Instant::now();
    let mut last = Instant::now();
    let witnesses = (0..batches.len()).map(|index| committed.batch_witness(index));
    let mut store: Box<dyn ProofStore> = match &args.proofs {
        Some(dir) => Box::new(ProofDirectory::open(dir)?),
        None => Box::new(NoStore),
    };
    let (built, tree) = measure(|| {
        prove_beside_builds(&shape, |circuits| {
            circuits.batch(batches.first().map_or(0, |batch| batch.tier))?;
            first_circuit = tree_started.elapsed();
            if args.profile {
                let started = Instant::now();
                profile(circuits, &committed)?;
                profiled = started.elapsed();
            }
            last = Instant::now();
            prove_tiered_tree(circuits, witnesses, &prices, store.as_mut(), |done| {
                let last_batch = batches.len() - 1;
                match done {
                    TieredProofDone::Batch { index, of } => {
                        let tier = batches[index].tier;
                        batch_times[tier] += last.elapsed();
                        batch_counts[tier] += 1;
                        eprintln!(
                            "batch {}/{of} (tier {}) {:.2} s",
                            index + 1,
                            tiers.tier(tier),
                            last.elapsed().as_secs_f64()
                        );
                    }
                    TieredProofDone::Aggregation { level, index, of } => {
                        eprintln!("node {}/{of} of level {level} {:.2} s", index + 1, last.elapsed().as_secs_f64());
                    }
                    TieredProofDone::Empty { level } => {
                        eprintln!("empty subtree of level {level} {:.2} s", last.elapsed().as_secs_f64());
                    }
                    TieredProofDone::Reused(key) => {
                        batches_reused += usize::from(matches!(key, ProofKey::Batch(_)));
                        let dir = args.proofs.as_deref().map(|d| d.display().to_string()).unwrap_or_default();
                        eprintln!("{key}: reused from {dir}");
                    }
                }
                if matches!(done, TieredProofDone::Batch { index, .. } | TieredProofDone::Reused(ProofKey::Batch(index)) if index == last_batch)
                {
                    batches_done = Some(tree_started.elapsed());
                }
                last = Instant::now();
            })
        })
    })?;
    let top = built.value;
    let batch_phase = batches_done.context("the last batch was neither proven nor reused")? - first_circuit - profiled;
    let aggregation_phase = tree.time - first_circuit - profiled - batch_phase;

    check_top(&top, committed.statement(), assets)?;

    let submitter = Address([0x5a; 20]);
    let (final_proof, wrap) = measure(|| {
        let (proof, _, _) = wrap_top(&built.wrap, &top, committed.statement(), 1, submitter, &Silent)?;
        Ok(proof)
    })?;
    let end_to_end = started.elapsed();

    let tier_rows: Vec<[String; 6]> = tiers
        .tiers()
        .iter()
        .enumerate()
        .map(|(index, tier)| {
            let count = batch_counts[index];
            let per_batch = if count == 0 { None } else { Some(batch_times[index] / count as u32) };
            [
                tier.to_string(),
                users[index].to_string(),
                count.to_string(),
                per_batch.map_or("-".into(), |t| format!("{:.2} s", t.as_secs_f64())),
                per_batch.map_or("-".into(), |t| format!("{:.2} ms", t.as_secs_f64() * 1e3 / tier.batch_size as f64)),
                format!("{:.1} s", batch_times[index].as_secs_f64()),
            ]
        })
        .collect();
    println!();
    print_table(&["tier", "users", "batches", "per batch", "per user (full batch)", "total"], &tier_rows);
    println!();
    let rows = vec![[
        users_total.to_string(),
        assets.to_string(),
        if batches_reused == 0 {
            batches.len().to_string()
        } else {
            format!("{} ({batches_reused} reused)", batches.len())
        },
        format!("{:.1} s", prepare.as_secs_f64()),
        format!("{:.1} s ({:.1} s beside)", first_circuit.as_secs_f64(), built.build_time.as_secs_f64()),
        if batches_reused == 0 {
            format!(
                "{:.1} s ({:.2} ms/user)",
                batch_phase.as_secs_f64(),
                batch_phase.as_secs_f64() * 1e3 / users_total as f64
            )
        } else {
            format!("{:.1} s", batch_phase.as_secs_f64())
        },
        format!("{:.1} s", aggregation_phase.as_secs_f64()),
        format!("{:.1} s", wrap.time.as_secs_f64()),
        format!("{:.1} s", end_to_end.as_secs_f64()),
        [&tree, &wrap].map(|m: &Measured| gib(m.peak)).join(" / "),
        final_proof.to_bytes().len().to_string(),
    ]];
    print_table(
        &[
            "users",
            "assets",
            "batches",
            "snapshot",
            "circuits (first / all)",
            "batch proofs",
            "aggregation",
            "final wrap",
            "end to end",
            "peak memory (circuits and tree / final)",
            "final proof bytes",
        ],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}

/// Proves one batch of the tier with the most users, then one aggregation
/// node of copies of it, logging plonky2's step timings.
fn profile(circuits: &TieredCircuits, committed: &TieredCommitted) -> Result<()> {
    let (index, _) = committed.batches().iter().enumerate().max_by_key(|(_, b)| b.users.len()).context("no batches")?;
    let (tier, witness) = committed.batch_witness(index)?;
    let mut timing = TimingTree::new(&format!("one batch of tier {}", committed.batch_tier(index)), log::Level::Info);
    let batch = circuits.batch(tier)?.prove_timed(&witness, &mut timing)?;
    timing.print();
    let children = vec![(tier, &batch); circuits.shape().children(0)];
    let mut timing = TimingTree::new("one aggregation node", log::Level::Info);
    circuits.aggregation(0)?.prove_timed(&children, &mut timing)?;
    timing.print();
    Ok(())
}
