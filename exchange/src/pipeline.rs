//! `zkpor exchange prove` without the files: from a validated snapshot to a
//! verified final proof in this process, the family's circuits built beside
//! the proofs, keeping every finished tree proof so that a killed run
//! resumes where it stopped.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use tracing::{debug, info, info_span};
use zkpor_circuits::FamilyCircuits;
use zkpor_circuits::encoding::Address;
use zkpor_circuits::family::Family;
use zkpor_circuits::final_wrap::{FinalInputs, FinalProof};
use zkpor_circuits::node::{NodeInputs, NodeProof};
use zkpor_circuits::proof_store::{NoStore, ProofKey, ProofStore};
use zkpor_circuits::statement::{Statement, padded};
use zkpor_circuits::stored::{CircuitDirectory, FamilyFiles};
use zkpor_circuits::tree_prover::{ProofDone, node_proofs, prove_tree};
use zkpor_evm_verifier::calldata::encode;
use zkpor_evm_verifier::layout::ProofLayout;
use zkpor_snapshot::Snapshot;

use crate::committed::CommittedSnapshot;
use crate::proof_dir::ProofDirectory;

/// How to prove.
#[derive(Clone, Debug)]
pub struct ProveOptions {
    /// The circuit family.
    pub family: Family,
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
    /// Where the family's circuits are read from and written to; `None`
    /// builds them in memory only.
    pub circuit_dir: Option<CircuitDirectory>,
}

/// The phases of a proving run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Building the circuits, until the first batch can be proven.
    Circuits,
    /// Proving the batches.
    Batches,
    /// Proving the nodes above them.
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
    /// Until the first batch circuit is built (the others are built beside
    /// the proofs).
    pub circuits: Duration,
    /// All batch proofs.
    pub batches: Duration,
    /// All node proofs.
    pub aggregation: Duration,
    /// Statement and final proofs, and the final check.
    pub final_wrap: Duration,
}

/// A finished proving run.
pub struct Proven {
    /// The snapshot, its tree and statement.
    pub committed: CommittedSnapshot,
    /// The final proof.
    pub final_proof: FinalProof,
    /// The final proof encoded for the EVM verifier (`zkpor-evm-verifier`).
    pub calldata: Vec<u8>,
    /// What the final proof claims.
    pub inputs: FinalInputs,
    /// How long each phase took.
    pub times: PhaseTimes,
    /// How long building every circuit took, beside the proofs.
    pub build_time: Duration,
    /// Tree proofs an interrupted run had finished, checked and reused.
    pub reused_proofs: usize,
}

/// Proves a validated snapshot end to end on its family's circuits.
pub fn prove(snapshot: Snapshot, options: &ProveOptions, progress: &dyn Progress) -> Result<Proven> {
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
    let committed = CommittedSnapshot::new(snapshot, &options.family, &mut rng)?;
    let family = committed.family().clone();
    info!(
        family = family.name(),
        accounts = committed.statement().account_count,
        batches = committed.batches().len(),
        "proving"
    );
    let mut times = PhaseTimes::default();

    let started = Instant::now();
    let files = options.circuit_dir.as_ref().map(|dir| dir.family(&family));
    let built = prove_beside_builds(&family, files.as_ref(), |circuits| {
        wait_for_first_circuit(circuits, &committed, progress)?;
        times.circuits = started.elapsed();
        let (top, reused) = prove_nodes(circuits, &committed, store.as_mut(), progress, &mut times)?;
        check_top(&top, committed.statement(), family.assets())?;
        let started = Instant::now();
        let final_proof =
            wrap_top(circuits, &top, committed.statement(), options.sequence, options.submitter, progress)?;
        times.final_wrap = started.elapsed();
        Ok((final_proof, reused))
    })?;
    let ((final_proof, inputs, calldata), reused_proofs) = built.value;
    info!(?times, build = ?built.build_time, "proven");
    Ok(Proven { committed, final_proof, calldata, inputs, times, build_time: built.build_time, reused_proofs })
}

/// What [`prove_beside_builds`] returns.
pub struct BuiltBeside<T> {
    /// What the proving returned.
    pub value: T,
    /// How long building every circuit took, beside the proving.
    pub build_time: Duration,
}

/// Builds the circuits of `family` on a thread of their own (tier circuits,
/// the nodes, then the statement and final circuits), or reads them from
/// `files` where an earlier run wrote them, while `prove` runs on this one
/// with them, each waited for when first asked for. Building a circuit is
/// mostly single-threaded, so on a machine of few cores most of it fits
/// beside the batch proofs, which need only the tier circuits.
pub fn prove_beside_builds<T>(
    family: &Family,
    files: Option<&FamilyFiles>,
    prove: impl FnOnce(&FamilyCircuits) -> Result<T>,
) -> Result<BuiltBeside<T>> {
    let circuits = FamilyCircuits::pending(family);
    let started = Instant::now();
    std::thread::scope(|scope| {
        let builder = std::thread::Builder::new()
            .name("circuit builder".into())
            .spawn_scoped(scope, || -> Result<Duration> {
                let _span = info_span!("build_circuits", family = family.name()).entered();
                let provenance = circuits.build_all(files, |step| debug!(%step, "building"))?;
                info!(read = provenance.read.len(), built = provenance.built.len(), "circuits ready");
                Ok(started.elapsed())
            })
            .context("starting the circuit builder")?;
        let proven = prove(&circuits);
        if proven.is_err() {
            circuits.stop();
        }
        let built = builder.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let value = proven?;
        let build_time = built.context("building the circuits")?;
        Ok(BuiltBeside { value, build_time })
    })
}

/// Waits for the batch circuit of the first batch's tier: the proving
/// starts there while the other circuits are still being built.
fn wait_for_first_circuit(
    circuits: &FamilyCircuits,
    committed: &CommittedSnapshot,
    progress: &dyn Progress,
) -> Result<()> {
    progress.begin(Phase::Circuits, 1);
    let tier = committed.batches().first().map_or(0, |batch| batch.tier);
    progress.start_step(&format!(
        "batch circuit of tier {} (the others are built beside the proofs)",
        circuits.family().tiers().tier(tier)
    ));
    circuits.tier(tier)?;
    progress.finish_step();
    progress.end();
    Ok(())
}

/// Proves (or reuses) every batch and node proof, timing both phases;
/// returns the top proof and how many proofs were reused.
fn prove_nodes(
    circuits: &FamilyCircuits,
    committed: &CommittedSnapshot,
    store: &mut dyn ProofStore,
    progress: &dyn Progress,
    times: &mut PhaseTimes,
) -> Result<(NodeProof, usize)> {
    let mut reused = 0;
    let batches = committed.batches().len();
    let started = Instant::now();
    let mut batches_done = started;
    progress.begin(Phase::Batches, batches as u64);
    progress.start_step(&format!("batch 1/{batches} (tier {})", committed.batch_tier(0)));
    let witnesses = (0..batches).map(|index| committed.batch_witness(index));
    let prices = committed.slot_prices();
    let node_steps = node_proofs(circuits, batches) as u64;
    let top = prove_tree(circuits, witnesses, &prices, store, |done| {
        reused += usize::from(matches!(done, ProofDone::Reused(_)));
        let batch = match done {
            ProofDone::Batch { index, .. } | ProofDone::Reused(ProofKey::Batch(index)) => Some(index),
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
                progress.begin(Phase::Aggregation, node_steps);
                progress.start_step("aggregating");
            }
            None => progress.start_step(&match done {
                ProofDone::Node { level, index, of } => format!("level {level} node {}/{of} done", index + 1),
                ProofDone::Reused(key) => format!("{key} reused"),
                ProofDone::Batch { .. } => unreachable!("batches are handled above"),
            }),
        }
    })
    .context("proving the tree")?;
    progress.end();
    times.batches = batches_done - started;
    times.aggregation = batches_done.elapsed();
    Ok((top, reused))
}

/// The top proof of a tree over `assets` asset slots must state exactly the
/// committed `statement` (its real assets first, zero past them).
pub fn check_top(top: &NodeProof, statement: &Statement, assets: usize) -> Result<()> {
    let inputs = NodeInputs::of(top, assets);
    let (equity, debt) = inputs.totals();
    ensure!(
        inputs.root_hash() == statement.root
            && equity == padded(&statement.equity, assets)
            && debt == padded(&statement.debt, assets)
            && inputs.count() == statement.account_count,
        "internal error: the proven tree differs from the committed one"
    );
    Ok(())
}

/// Statement proof, final proof for `sequence` and `submitter`, a check of
/// the latter and its EVM encoding.
pub fn wrap_top(
    circuits: &FamilyCircuits,
    top: &NodeProof,
    statement: &Statement,
    sequence: u64,
    submitter: Address,
    progress: &dyn Progress,
) -> Result<(FinalProof, FinalInputs, Vec<u8>)> {
    progress.begin(Phase::Final, 3);
    progress.start_step("statement proof");
    let statement_proof = circuits.statement()?.prove(top, statement)?;
    progress.finish_step();
    progress.start_step("final wrap (Keccak)");
    let final_wrap = circuits.final_wrap()?;
    let final_proof = final_wrap.prove(&statement_proof, sequence, submitter)?;
    progress.finish_step();
    let inputs = FinalInputs { root: statement.root, digest: statement.digest(), sequence, submitter };
    progress.start_step("checking the final proof");
    final_wrap.verify(&final_proof, &inputs).context("internal error: the final proof does not verify")?;
    let layout = ProofLayout::new(&final_wrap.data().common)?;
    let calldata = encode(&final_proof, &layout).context("internal error: encoding the final proof for the EVM")?;
    progress.finish_step();
    progress.end();
    Ok((final_proof, inputs, calldata))
}
