//! `zkpor exchange prove` on the sparse, tiered circuits: from a validated
//! snapshot to a verified final proof in this process, keeping every
//! finished tree proof so that a killed run resumes where it stopped.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use tracing::info;
use zkpor_circuits::circuit_set::WrapCircuits;
use zkpor_circuits::encoding::Address;
use zkpor_circuits::node::NodeProof;
use zkpor_circuits::sparse::circuits::{TieredBuildStep, TieredCircuits};
use zkpor_circuits::sparse::proof_store::{NoStore, ProofKey, ProofStore};
use zkpor_circuits::sparse::shape::DEFAULT_ARITY;
use zkpor_circuits::sparse::tier::TierSet;
use zkpor_circuits::sparse::tree_prover::{TieredProofDone, aggregation_proofs, prove_tiered_tree};
use zkpor_snapshot::Snapshot;

use super::committed::{TieredCommitted, default_tiers};
use crate::pipeline::{Phase, PhaseTimes, Progress, Proven, check_top, wrap_top};
use crate::proof_dir::ProofDirectory;

/// How to prove on the tiered circuits.
#[derive(Clone, Debug, Default)]
pub struct TieredProveOptions {
    /// The tiers; `None` takes [`default_tiers`] of the snapshot.
    pub tiers: Option<TierSet>,
    /// The sequence number the final proof is for.
    pub sequence: u64,
    /// The address the final proof is bound to.
    pub submitter: Address,
    /// Seed for the users' nonces; `None` draws one from the OS (or takes
    /// the one an interrupted run left in `proofs`).
    pub seed: Option<u64>,
    /// Where finished tree proofs are kept and an interrupted run's proofs
    /// are looked for; `None` keeps nothing.
    pub proofs: Option<PathBuf>,
}

/// Proves a validated snapshot end to end on the tiered circuits.
pub fn prove_tiered(
    snapshot: Snapshot,
    options: &TieredProveOptions,
    progress: &dyn Progress,
) -> Result<Proven<TieredCommitted>> {
    let tiers = match &options.tiers {
        Some(tiers) => tiers.clone(),
        None => default_tiers(&snapshot)?,
    };
    let (mut store, seed): (Box<dyn ProofStore>, Option<u64>) = match &options.proofs {
        Some(dir) => {
            let dir = ProofDirectory::open(dir)?;
            let seed = dir.nonce_seed(options.seed)?;
            (Box::new(dir), Some(seed))
        }
        None => (Box::new(NoStore), options.seed),
    };
    let mut rng = match seed {
        Some(seed) => ChaCha20Rng::seed_from_u64(seed),
        None => ChaCha20Rng::from_entropy(),
    };
    let committed = TieredCommitted::new(snapshot, tiers, DEFAULT_ARITY, &mut rng)?;
    let shape = committed.shape().clone();
    info!(%shape, accounts = committed.statement().account_count, batches = committed.batches().len(), "proving");
    let mut times = PhaseTimes::default();

    let started = Instant::now();
    let (tree, wrap) = build_circuits(&committed, progress)?;
    times.circuits = started.elapsed();

    let (top, reused_proofs) = prove_tree(&tree, &committed, store.as_mut(), progress, &mut times)?;
    drop(tree);
    check_top(&top, committed.statement(), shape.assets())?;

    let started = Instant::now();
    let (final_proof, inputs, calldata) =
        wrap_top(&wrap, &top, committed.statement(), options.sequence, options.submitter, progress)?;
    times.final_wrap = started.elapsed();
    info!(?times, "proven");
    Ok(Proven { committed, final_proof, calldata, inputs, times, reused_proofs })
}

/// Every tier's batch circuit, the aggregation levels and the wrap.
fn build_circuits(committed: &TieredCommitted, progress: &dyn Progress) -> Result<(TieredCircuits, WrapCircuits)> {
    let shape = committed.shape();
    progress.begin(Phase::Circuits, (shape.tiers().tiers().len() + shape.levels() + 2) as u64);
    let mut first = true;
    let mut step = |message: String| {
        if !std::mem::take(&mut first) {
            progress.finish_step();
        }
        progress.start_step(&message);
    };
    let tree = TieredCircuits::build(shape.tiers(), shape.arity(), shape.levels(), |built| {
        step(match built {
            TieredBuildStep::Tier(index) => format!("batch circuit of tier {}", shape.tiers().tier(index)),
            TieredBuildStep::Aggregation(level) => format!("aggregation circuit, level {level}"),
        })
    })?;
    let wrap = WrapCircuits::over(shape.assets(), tree.top(), |built| step(built.to_string()));
    progress.finish_step();
    progress.end();
    Ok((tree, wrap))
}

/// Proves (or reuses) every batch and aggregation proof, timing both phases;
/// returns the top proof and how many proofs were reused.
fn prove_tree(
    circuits: &TieredCircuits,
    committed: &TieredCommitted,
    store: &mut dyn ProofStore,
    progress: &dyn Progress,
    times: &mut PhaseTimes,
) -> Result<(NodeProof, usize)> {
    let mut reused = 0;
    let batches = committed.batches().len();
    let started = Instant::now();
    let mut batches_done = started;
    progress.begin(Phase::Batches, batches as u64);
    progress.start_step(&format!("batch 1/{batches}"));
    let witnesses = (0..batches).map(|index| committed.batch_witness(index));
    let prices = &committed.statement().prices;
    let aggregation_steps = aggregation_proofs(batches, circuits.arity(), circuits.levels()) as u64;
    let top = prove_tiered_tree(circuits, witnesses, prices, store, |done| {
        reused += usize::from(matches!(done, TieredProofDone::Reused(_)));
        let batch = match done {
            TieredProofDone::Batch { index, .. } | TieredProofDone::Reused(ProofKey::Batch(index)) => Some(index),
            _ => None,
        };
        progress.finish_step();
        match batch {
            Some(index) if index + 1 < batches => {
                let tier = committed.batch_tier(index + 1);
                progress.start_step(&format!("batch {}/{batches} (tier {tier})", index + 2));
            }
            Some(_) => {
                progress.end();
                batches_done = Instant::now();
                progress.begin(Phase::Aggregation, aggregation_steps);
                progress.start_step("aggregating");
            }
            None => progress.start_step(&match done {
                TieredProofDone::Aggregation { level, index, of } => {
                    format!("level {level} node {}/{of} done", index + 1)
                }
                TieredProofDone::Empty { level } => format!("empty subtree of level {level} done"),
                TieredProofDone::Reused(key) => format!("{key} reused"),
                TieredProofDone::Batch { .. } => unreachable!("batches are handled above"),
            }),
        }
    })
    .context("proving the tree")?;
    progress.end();
    times.batches = batches_done - started;
    times.aggregation = batches_done.elapsed();
    Ok((top, reused))
}
