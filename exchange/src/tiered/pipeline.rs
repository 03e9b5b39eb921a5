//! `zkpor exchange prove` on the sparse, tiered circuits: from a validated
//! snapshot to a verified final proof in this process, the circuits built
//! beside the proofs, keeping every finished tree proof so that a killed run
//! resumes where it stopped.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use tracing::{info, info_span};
use zkpor_circuits::circuit_set::WrapCircuits;
use zkpor_circuits::encoding::Address;
use zkpor_circuits::node::NodeProof;
use zkpor_circuits::sparse::circuits::TieredCircuits;
use zkpor_circuits::sparse::proof_store::{NoStore, ProofKey, ProofStore};
use zkpor_circuits::sparse::shape::{DEFAULT_MAX_CHILDREN, TieredShape};
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
    let committed = TieredCommitted::new(snapshot, tiers, DEFAULT_MAX_CHILDREN, &mut rng)?;
    let shape = committed.shape().clone();
    info!(%shape, accounts = committed.statement().account_count, batches = committed.batches().len(), "proving");
    let mut times = PhaseTimes::default();

    let started = Instant::now();
    let built = prove_beside_builds(&shape, |circuits| {
        wait_for_first_circuit(circuits, &committed, progress)?;
        times.circuits = started.elapsed();
        prove_tree(circuits, &committed, store.as_mut(), progress, &mut times)
    })?;
    let (top, reused_proofs) = built.value;
    info!(build = ?built.build_time, "the circuits were built beside the proofs");
    check_top(&top, committed.statement(), shape.assets())?;

    let started = Instant::now();
    let (final_proof, inputs, calldata) =
        wrap_top(&built.wrap, &top, committed.statement(), options.sequence, options.submitter, progress)?;
    times.final_wrap = started.elapsed();
    info!(?times, "proven");
    Ok(Proven { committed, final_proof, calldata, inputs, times, reused_proofs })
}

/// What [`prove_beside_builds`] returns.
pub struct BuiltBeside<T> {
    /// What the proving returned.
    pub value: T,
    /// The statement and final circuits over the top of the tree.
    pub wrap: WrapCircuits,
    /// How long building every circuit took, beside the proving.
    pub build_time: Duration,
}

/// Builds the circuits of `shape` on a thread of their own (tier circuits,
/// aggregation levels, then the statement and final circuits) while `prove`
/// runs on this one with the tree circuits, each waited for when first
/// asked for. Building a circuit is mostly single-threaded, so on a machine
/// of few cores most of it fits beside the batch proofs, which need only
/// the tier circuits. The tree circuits are dropped on return.
pub fn prove_beside_builds<T>(
    shape: &TieredShape,
    prove: impl FnOnce(&TieredCircuits) -> Result<T>,
) -> Result<BuiltBeside<T>> {
    let circuits = TieredCircuits::pending(shape);
    let started = Instant::now();
    std::thread::scope(|scope| {
        let builder = std::thread::Builder::new()
            .name("circuit builder".into())
            .spawn_scoped(scope, || -> Result<(WrapCircuits, Duration)> {
                let _span = info_span!("build_circuits", %shape).entered();
                circuits.build_all(|step| info!(?step, "building"))?;
                let wrap = WrapCircuits::over(shape.assets(), circuits.top()?, |step| info!(%step, "building"));
                Ok((wrap, started.elapsed()))
            })
            .context("starting the circuit builder")?;
        let proven = prove(&circuits);
        if proven.is_err() {
            circuits.stop();
        }
        let built = builder.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let value = proven?;
        let (wrap, build_time) = built.context("building the circuits")?;
        Ok(BuiltBeside { value, wrap, build_time })
    })
}

/// Waits for the batch circuit of the first batch's tier: the proving
/// starts there while the other circuits are still being built.
fn wait_for_first_circuit(
    circuits: &TieredCircuits,
    committed: &TieredCommitted,
    progress: &dyn Progress,
) -> Result<()> {
    progress.begin(Phase::Circuits, 1);
    let tier = committed.batches().first().map_or(0, |batch| batch.tier);
    progress.start_step(&format!(
        "batch circuit of tier {} (the others are built beside the proofs)",
        committed.shape().tiers().tier(tier)
    ));
    circuits.batch(tier)?;
    progress.finish_step();
    progress.end();
    Ok(())
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
    let aggregation_steps = aggregation_proofs(batches, circuits.shape()) as u64;
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
