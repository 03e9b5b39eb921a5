//! `zkpor exchange prove` without the files: from a validated snapshot to a
//! verified final proof, everything in this process on all cores.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use tracing::info;
use zkpor_circuits::circuit_set::{TreeCircuits, WrapCircuits};
use zkpor_circuits::encoding::Address;
use zkpor_circuits::final_wrap::{FinalInputs, FinalProof};
use zkpor_circuits::node::{NodeInputs, NodeProof};
use zkpor_circuits::shape::ASSET_SLOT_CHOICES;
use zkpor_circuits::statement::Statement;
use zkpor_circuits::tree_prover::{ProofDone, prove_tree};
use zkpor_circuits::{CircuitSet, Shape};
use zkpor_evm_verifier::calldata::encode;
use zkpor_evm_verifier::layout::ProofLayout;
use zkpor_snapshot::{LoadOptions, Snapshot};

use crate::committed::CommittedSnapshot;

/// How to prove.
#[derive(Clone, Debug, Default)]
pub struct ProveOptions {
    /// The shape; `None` picks one with [`Shape::fit`].
    pub shape: Option<Shape>,
    /// The sequence number the final proof is for.
    pub sequence: u64,
    /// The address the final proof is bound to.
    pub submitter: Address,
    /// Seed for the users' nonces; `None` draws them from the OS.
    pub seed: Option<u64>,
}

/// The phases of a proving run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Building the circuits of the shape.
    Circuits,
    /// Proving the batches.
    Batches,
    /// Proving the aggregation levels, padding proofs included.
    Aggregation,
    /// Proving the statement and the final wrap, then checking the result.
    Final,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Phase::Circuits => "circuits",
            Phase::Batches => "batches",
            Phase::Aggregation => "aggregation",
            Phase::Final => "final",
        })
    }
}

/// Where progress goes (a terminal's progress bars, or nowhere).
pub trait Progress {
    /// `phase` begins and will take `steps` steps.
    fn begin(&self, phase: Phase, steps: u64);
    /// The next step, described by `message`, begins.
    fn start_step(&self, message: &str);
    /// The current step is done.
    fn finish_step(&self);
    /// The current phase is over.
    fn end(&self);
}

/// Progress that goes nowhere.
pub struct Silent;

impl Progress for Silent {
    fn begin(&self, _: Phase, _: u64) {}
    fn start_step(&self, _: &str) {}
    fn finish_step(&self) {}
    fn end(&self) {}
}

/// Wall time of each phase.
#[derive(Clone, Debug, Default)]
pub struct PhaseTimes {
    /// Building the circuits; on the tiered circuits, until the first batch
    /// circuit is built (the others are built beside the proofs).
    pub circuits: Duration,
    /// All batch proofs.
    pub batches: Duration,
    /// All aggregation proofs (padding included).
    pub aggregation: Duration,
    /// Statement and final proofs, and the final check.
    pub final_wrap: Duration,
}

/// A finished proving run over a tree of type `Tree` (dense or tiered).
pub struct Proven<Tree = CommittedSnapshot> {
    /// The snapshot, its tree and statement.
    pub committed: Tree,
    /// The final proof.
    pub final_proof: FinalProof,
    /// The final proof encoded for the EVM verifier (`zkpor-evm-verifier`).
    pub calldata: Vec<u8>,
    /// What the final proof claims.
    pub inputs: FinalInputs,
    /// How long each phase took.
    pub times: PhaseTimes,
    /// Tree proofs an interrupted run had finished, checked and reused.
    pub reused_proofs: usize,
}

/// How to load a snapshot for `shape`: at most its asset slots, or the
/// largest automatic choice.
pub fn load_options(shape: Option<Shape>) -> LoadOptions {
    let most = ASSET_SLOT_CHOICES[ASSET_SLOT_CHOICES.len() - 1];
    LoadOptions { max_assets: Some(shape.map_or(most, |s| s.assets())) }
}

/// The shape a run uses: `requested`, or the documented automatic choice.
pub fn choose_shape(requested: Option<Shape>, snapshot: &Snapshot) -> Result<Shape> {
    let (assets, accounts) = (snapshot.assets().len(), snapshot.accounts().len());
    let shape = match requested {
        Some(shape) => shape,
        None => Shape::fit(assets, accounts)?,
    };
    shape.check_fits(assets, accounts)?;
    Ok(shape)
}

/// Proves a validated snapshot end to end.
pub fn prove(snapshot: Snapshot, options: &ProveOptions, progress: &dyn Progress) -> Result<Proven> {
    let shape = choose_shape(options.shape, &snapshot)?;
    let mut rng = match options.seed {
        Some(seed) => ChaCha20Rng::seed_from_u64(seed),
        None => ChaCha20Rng::from_entropy(),
    };
    let committed = CommittedSnapshot::new(snapshot, shape, &mut rng)?;
    info!(%shape, accounts = committed.statement().account_count, batches = committed.layout().batches(), "proving");
    let mut times = PhaseTimes::default();

    let started = Instant::now();
    let (tree, wrap) = build_circuits(&shape, progress).into_parts();
    times.circuits = started.elapsed();

    let top = prove_tiers(&tree, &committed, progress, &mut times)?;
    drop(tree);
    check_top(&top, committed.statement(), shape.assets())?;

    let started = Instant::now();
    let (final_proof, inputs, calldata) =
        wrap_top(&wrap, &top, committed.statement(), options.sequence, options.submitter, progress)?;
    times.final_wrap = started.elapsed();
    info!(?times, "proven");
    Ok(Proven { committed, final_proof, calldata, inputs, times, reused_proofs: 0 })
}

fn build_circuits(shape: &Shape, progress: &dyn Progress) -> CircuitSet {
    progress.begin(Phase::Circuits, 3 + shape.levels() as u64);
    let mut first = true;
    let circuits = CircuitSet::build_reporting(shape, |step| {
        if !std::mem::take(&mut first) {
            progress.finish_step();
        }
        progress.start_step(&step.to_string());
    });
    progress.finish_step();
    progress.end();
    circuits
}

/// Proves batches and aggregation levels, timing both phases.
fn prove_tiers(
    tree: &TreeCircuits,
    committed: &CommittedSnapshot,
    progress: &dyn Progress,
    times: &mut PhaseTimes,
) -> Result<NodeProof> {
    let layout = committed.layout();
    let started = Instant::now();
    let mut batches_done = started;
    progress.begin(Phase::Batches, layout.batches() as u64);
    progress.start_step(&format!("batch 1/{}", layout.batches()));
    let aggregation_steps = (layout.total_proofs() - layout.batches()) as u64;
    let prices = &committed.statement().prices;
    let top = prove_tree(
        tree,
        &layout,
        prices,
        |i| committed.batch_witness(i),
        |done| {
            progress.finish_step();
            match done {
                ProofDone::Batch { index, of } if index + 1 < of => {
                    progress.start_step(&format!("batch {}/{of}", index + 2))
                }
                ProofDone::Batch { .. } => {
                    progress.end();
                    batches_done = Instant::now();
                    progress.begin(Phase::Aggregation, aggregation_steps);
                    progress.start_step("aggregating");
                }
                ProofDone::Empty { tier } => progress.start_step(&format!("padding proof of tier {tier} done")),
                ProofDone::Aggregation { tier, index, of } => {
                    progress.start_step(&format!("level {} node {}/{of} done", tier - 1, index + 1))
                }
            }
        },
    )?;
    progress.end();
    times.batches = batches_done - started;
    times.aggregation = batches_done.elapsed();
    Ok(top)
}

/// The top proof of a tree of `assets` asset slots must state exactly the
/// committed `statement`.
pub fn check_top(top: &NodeProof, statement: &Statement, assets: usize) -> Result<()> {
    let inputs = NodeInputs::of(top, assets);
    let (equity, debt) = inputs.totals();
    ensure!(
        inputs.root_hash() == statement.root
            && equity == statement.equity
            && debt == statement.debt
            && inputs.count() == statement.account_count,
        "internal error: the proven tree differs from the committed one"
    );
    Ok(())
}

/// Statement proof, final proof for `sequence` and `submitter`, a check of
/// the latter and its EVM encoding.
pub fn wrap_top(
    wrap: &WrapCircuits,
    top: &NodeProof,
    statement: &Statement,
    sequence: u64,
    submitter: Address,
    progress: &dyn Progress,
) -> Result<(FinalProof, FinalInputs, Vec<u8>)> {
    progress.begin(Phase::Final, 3);
    progress.start_step("statement proof");
    let statement_proof = wrap.statement().prove(top, &statement.prices)?;
    progress.finish_step();
    progress.start_step("final wrap (Keccak)");
    let final_proof = wrap.final_wrap().prove(&statement_proof, sequence, submitter)?;
    progress.finish_step();
    let inputs = FinalInputs { root: statement.root, digest: statement.digest(), sequence, submitter };
    progress.start_step("checking the final proof");
    wrap.final_wrap().verify(&final_proof, &inputs).context("internal error: the final proof does not verify")?;
    let layout = ProofLayout::new(&wrap.final_wrap().data().common)?;
    let calldata = encode(&final_proof, &layout).context("internal error: encoding the final proof for the EVM")?;
    progress.finish_step();
    progress.end();
    Ok((final_proof, inputs, calldata))
}
