//! `zkpor bench proving`: a realistic many-asset snapshot proven end to end
//! on a circuit family, in this process.
//!
//! It writes (or reads) a snapshot, commits it to the family's tree (every
//! user a leaf of the smallest tier that holds them), builds the circuits
//! beside the proofs, proves every batch and node, then the statement and
//! final proofs, checks the top proof's root and totals against the
//! committed statement and verifies the final proof. It prints where the
//! time and memory went: per phase, per tier, and each proof's rows and
//! bytes. Peak memory is the process's peak resident set, reset at the
//! start of each phase (Linux `/proc/self/clear_refs`); the circuits are
//! built on a thread of their own during the first phases, so those peaks
//! hold the builds too.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use plonky2::util::timing::TimingTree;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpor_circuits::encoding::Address;
use zkpor_circuits::proof_store::{NoStore, ProofKey, ProofStore};
use zkpor_circuits::tree_prover::{ProofDone, prove_tree};
use zkpor_circuits::{Family, FamilyCircuits};
use zkpor_exchange::committed::{CommittedSnapshot, load_options};
use zkpor_exchange::pipeline::{Silent, check_top, prove_beside_builds, wrap_top};
use zkpor_exchange::proof_dir::ProofDirectory;
use zkpor_snapshot::Snapshot;

use super::{BenchSnapshot, Measured, gib, peak_memory, reset_peak_memory};
use crate::table::print_table;

/// Seed of the users' nonces when no `--proofs` directory keeps one.
const NONCE_SEED: u64 = 0x7e5;

/// The address the final proof is bound to.
const SUBMITTER: Address = Address([0x5a; 20]);

/// `zkpor bench proving` arguments.
#[derive(Debug, Args)]
pub struct ProvingArgs {
    /// The snapshot and the family (`tiny` holds 4 assets: pass `--assets
    /// 4` or fewer with it).
    #[command(flatten)]
    input: BenchSnapshot,
    /// Keep every finished proof in this directory, and reuse the proofs an
    /// earlier, interrupted run of the same snapshot kept there.
    #[arg(long)]
    proofs: Option<PathBuf>,
    /// Before proving the tree, prove one full batch of the busiest tier and
    /// one node over copies of it with plonky2's step timings logged: where
    /// a proof's time goes.
    #[arg(long)]
    pub profile: bool,
    #[command(flatten)]
    circuit_dir: crate::cli::circuit_dir::CircuitDirArgs,
}

/// The phase of the batch proofs, also shown per user.
const BATCH_PHASE: &str = "batch proofs";

/// Consecutive phases of a run, each with its wall time and peak resident
/// memory.
struct Laps {
    started: Instant,
    phases: Vec<(String, Measured)>,
}

impl Laps {
    /// Starts the first phase.
    fn start() -> Self {
        reset_peak_memory();
        Laps { started: Instant::now(), phases: Vec::new() }
    }

    /// Ends the current phase as `name` and starts the next one.
    fn lap(&mut self, name: impl Into<String>) {
        self.phases.push((name.into(), Measured { time: self.started.elapsed(), peak: peak_memory() }));
        reset_peak_memory();
        self.started = Instant::now();
    }
}

/// Bytes of a batch proof and of a proof of the node over batches, as the
/// tree prover saved or reused them.
#[derive(Default)]
struct ProofSizes {
    batch: Option<usize>,
    node: Option<usize>,
}

/// A proof store that notes the size of the proofs going through it.
struct Sizing<'a> {
    inner: &'a mut dyn ProofStore,
    sizes: ProofSizes,
}

impl Sizing<'_> {
    /// Notes a proof of `key` of `bytes` bytes: a proof loaded but not
    /// reused is followed by the save of a new one, which replaces it.
    fn note(&mut self, key: ProofKey, bytes: usize) {
        match key {
            ProofKey::Batch(_) => self.sizes.batch = Some(bytes),
            ProofKey::Node { level: 0, .. } => self.sizes.node = Some(bytes),
            ProofKey::Node { .. } => {}
        }
    }
}

impl ProofStore for Sizing<'_> {
    fn load(&mut self, key: ProofKey) -> Result<Option<Vec<u8>>> {
        let loaded = self.inner.load(key)?;
        if let Some(bytes) = &loaded {
            self.note(key, bytes.len());
        }
        Ok(loaded)
    }

    fn save(&mut self, key: ProofKey, proof: &[u8]) -> Result<()> {
        self.note(key, proof.len());
        self.inner.save(key, proof)
    }
}

/// Per tier: the batches proven and the time they took.
struct TierTimes {
    batches: Vec<usize>,
    times: Vec<Duration>,
}

/// Rows (log2) of every circuit of a family, once built.
struct Rows {
    batch: usize,
    node: usize,
    top: usize,
    statement: usize,
    final_wrap: usize,
}

impl Rows {
    fn of(circuits: &FamilyCircuits) -> Result<Self> {
        Ok(Rows {
            batch: circuits.family().tiers().degree_bits(),
            node: circuits.over_batches()?.data().common.degree_bits(),
            top: circuits.top()?.data().common.degree_bits(),
            statement: circuits.statement()?.data().common.degree_bits(),
            final_wrap: circuits.final_wrap()?.data().common.degree_bits(),
        })
    }
}

/// What the proving run measured, besides its phases.
struct Figures {
    sizes: ProofSizes,
    top_bytes: usize,
    final_bytes: usize,
    calldata_bytes: usize,
    rows: Rows,
    tiers: TierTimes,
    reused: usize,
}

/// Runs the benchmark and prints its figures.
pub fn run(args: ProvingArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let (_generated, dir) = args.input.dir()?;
    let family = args.input.family;
    let mut store: Box<dyn ProofStore> = Box::new(NoStore);
    let mut seed = NONCE_SEED;
    if let Some(proofs) = &args.proofs {
        let kept = ProofDirectory::open(proofs)?;
        seed = kept.nonce_seed(None)?;
        store = Box::new(kept);
    }

    let mut laps = Laps::start();
    let snapshot = Snapshot::load(&dir, &load_options(&family))
        .map_err(|errors| anyhow::anyhow!("{errors}"))
        .with_context(|| format!("loading {}", dir.display()))?;
    let assets = snapshot.assets().len();
    let committed = CommittedSnapshot::new(snapshot, &family, &mut ChaCha20Rng::seed_from_u64(seed))?;
    laps.lap("snapshot (load and commit)");
    let batches = committed.batches();
    let tier_count = family.tiers().tiers().len();
    let mut users = vec![0usize; tier_count];
    for batch in batches {
        users[batch.tier] += batch.users.len();
    }
    let users_total = committed.statement().account_count as usize;
    eprintln!(
        "{users_total} users in {} batches, family {}; building circuits beside the proofs ...",
        batches.len(),
        family.name()
    );

    let files = args.circuit_dir.directory().map(|dir| dir.family(&family));
    let built = prove_beside_builds(&family, files.as_ref(), |circuits| {
        circuits.tier(batches.first().map_or(0, |batch| batch.tier))?;
        laps.lap("circuits (until the first batch)");
        if args.profile {
            profile(circuits, &committed)?;
            laps.lap("profile");
        }
        let mut tiers = TierTimes { batches: vec![0; tier_count], times: vec![Duration::ZERO; tier_count] };
        let mut reused = 0usize;
        let mut sizing = Sizing { inner: store.as_mut(), sizes: ProofSizes::default() };
        let witnesses = (0..batches.len()).map(|index| committed.batch_witness(index));
        let mut last = Instant::now();
        let last_batch = batches.len() - 1;
        let top = prove_tree(circuits, witnesses, &committed.slot_prices(), &mut sizing, |done| {
            match done {
                ProofDone::Batch { index, of } => {
                    let tier = batches[index].tier;
                    tiers.times[tier] += last.elapsed();
                    tiers.batches[tier] += 1;
                    eprintln!(
                        "batch {}/{of} (tier {}) {:.2} s",
                        index + 1,
                        committed.batch_tier(index),
                        last.elapsed().as_secs_f64()
                    );
                }
                ProofDone::Node { level, index, of } => {
                    eprintln!("node {}/{of} of level {level} {:.2} s", index + 1, last.elapsed().as_secs_f64());
                }
                ProofDone::Reused(key) => {
                    reused += 1;
                    let dir = args.proofs.as_deref().map(|d| d.display().to_string()).unwrap_or_default();
                    eprintln!("{key}: reused from {dir}");
                }
            }
            if matches!(done, ProofDone::Batch { index, .. } | ProofDone::Reused(ProofKey::Batch(index)) if index == last_batch)
            {
                laps.lap(BATCH_PHASE);
            }
            last = Instant::now();
        })?;
        laps.lap("aggregation");
        check_top(&top, committed.statement(), family.assets())?;
        let rows = Rows::of(circuits)?;
        laps.lap("waiting for the last circuits");
        let (final_proof, _, calldata) = wrap_top(circuits, &top, committed.statement(), 1, SUBMITTER, &Silent)?;
        laps.lap("statement and final proofs");
        Ok(Figures {
            sizes: sizing.sizes,
            top_bytes: top.to_bytes().len(),
            final_bytes: final_proof.to_bytes().len(),
            calldata_bytes: calldata.len(),
            rows,
            tiers,
            reused,
        })
    })?;
    let figures = built.value;
    let end_to_end = started.elapsed();

    print_tiers(&family, &users, &figures.tiers);
    println!();
    print_phases(&laps.phases, users_total, figures.reused);
    println!();
    let bytes = |size: Option<usize>| size.map_or("-".into(), |b| b.to_string());
    let rows = &figures.rows;
    print_table(
        &["proof", "rows", "bytes"],
        &[
            ["batch".to_string(), format!("2^{}", rows.batch), bytes(figures.sizes.batch)],
            ["node over batches".to_string(), format!("2^{}", rows.node), bytes(figures.sizes.node)],
            ["top node".to_string(), format!("2^{}", rows.top), figures.top_bytes.to_string()],
            ["statement".to_string(), format!("2^{}", rows.statement), "-".to_string()],
            [
                "final".to_string(),
                format!("2^{}", rows.final_wrap),
                format!("{} ({} as calldata)", figures.final_bytes, figures.calldata_bytes),
            ],
        ],
    );
    println!();
    println!(
        "{users_total} users over {assets} assets in {} batches ({} reused proofs) on family {}: {:.1} s end to end, \
         every circuit built in {:.1} s beside the proofs",
        batches.len(),
        figures.reused,
        family.name(),
        end_to_end.as_secs_f64(),
        built.build_time.as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// The users, batches and batch proving times of each tier.
fn print_tiers(family: &Family, users: &[usize], times: &TierTimes) {
    let rows: Vec<[String; 6]> = family
        .tiers()
        .tiers()
        .iter()
        .enumerate()
        .map(|(index, tier)| {
            let count = times.batches[index];
            let per_batch = (count > 0).then(|| times.times[index] / count as u32);
            [
                tier.to_string(),
                users[index].to_string(),
                count.to_string(),
                per_batch.map_or("-".into(), |t| format!("{:.2} s", t.as_secs_f64())),
                per_batch.map_or("-".into(), |t| format!("{:.2} ms", t.as_secs_f64() * 1e3 / tier.batch_size as f64)),
                format!("{:.1} s", times.times[index].as_secs_f64()),
            ]
        })
        .collect();
    println!();
    print_table(&["tier", "users", "batches proven", "per batch", "per user (full batch)", "total"], &rows);
}

/// Each phase's wall time and peak memory; the batch phase per user too,
/// unless proofs were reused.
fn print_phases(phases: &[(String, Measured)], users: usize, reused: usize) {
    let rows: Vec<[String; 3]> = phases
        .iter()
        .map(|(name, measured)| {
            let seconds = measured.time.as_secs_f64();
            let time = if name == BATCH_PHASE && reused == 0 && users > 0 {
                format!("{seconds:.1} s ({:.2} ms/user)", seconds * 1e3 / users as f64)
            } else {
                format!("{seconds:.1} s")
            };
            [name.clone(), time, gib(measured.peak)]
        })
        .collect();
    print_table(&["phase", "wall time", "peak memory"], &rows);
}

/// Proves one batch of the tier with the most users, then one node over
/// batches of copies of it, logging plonky2's step timings.
fn profile(circuits: &FamilyCircuits, committed: &CommittedSnapshot) -> Result<()> {
    let (index, _) = committed.batches().iter().enumerate().max_by_key(|(_, b)| b.users.len()).context("no batches")?;
    let (tier, witness) = committed.batch_witness(index)?;
    let mut timing = TimingTree::new(&format!("one batch of tier {}", committed.batch_tier(index)), log::Level::Info);
    let batch = circuits.tier(tier)?.prove_timed(&witness, &mut timing)?;
    timing.print();
    let children = vec![(tier, &batch); circuits.family().batch_children()];
    let mut timing = TimingTree::new("one node over batches", log::Level::Info);
    circuits.over_batches()?.prove_timed(&children, &mut timing)?;
    timing.print();
    Ok(())
}
