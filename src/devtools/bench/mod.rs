//! `zkpor bench`: what the system costs, measured.
//!
//! - [`proving`]: a realistic many-asset snapshot proven end to end on a
//!   circuit family: time and peak memory per phase and per tier, proof
//!   sizes;
//! - [`agent`]: one agent with its workers proving a sequence, against
//!   `exchange prove` of the same snapshot;
//! - [`dispatch`]: the agent's own cost per task (leasing, checking and
//!   storing proofs) with the proving taken out;
//! - [`submit`]: blocks from a stored final proof to its verification and
//!   reward on chain, with many sequences in flight;
//! - [`user_store`]: how fast the user-proof store answers a user;
//! - [`witness`]: the witness endpoint's bytes per user and batches per
//!   second.

pub mod agent;
pub mod dispatch;
pub mod proving;
pub mod submit;
pub mod user_store;
pub mod witness;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tempfile::TempDir;

use crate::cli::exchange::SynthProfile;

/// Wall time and peak resident memory of one phase.
struct Measured {
    time: Duration,
    peak: Option<u64>,
}

/// Runs `work` as one phase: the peak resident set is reset before it.
fn measure<T>(work: impl FnOnce() -> Result<T>) -> Result<(T, Measured)> {
    reset_peak_memory();
    let started = Instant::now();
    let value = work()?;
    Ok((value, Measured { time: started.elapsed(), peak: peak_memory() }))
}

/// Which snapshot a benchmark reads, and the circuit family it is for.
#[derive(Debug, clap::Args)]
pub struct BenchSnapshot {
    /// Use this snapshot directory instead of a generated one.
    #[arg(long, conflicts_with_all = ["accounts", "assets", "seed"])]
    snapshot: Option<PathBuf>,
    /// The snapshot to generate otherwise (`zkpor exchange synth`'s profile).
    #[command(flatten)]
    generate: SynthProfile,
    /// The circuit family.
    #[arg(long, default_value = "standard")]
    family: zkpor_circuits::Family,
}

impl BenchSnapshot {
    /// The snapshot's directory, and the temporary directory that holds a
    /// generated one (dropping it removes the snapshot).
    fn dir(&self) -> Result<(Option<TempDir>, PathBuf)> {
        snapshot_dir(self.snapshot.as_deref(), &self.generate)
    }
}

/// The snapshot directory a benchmark reads: `given`, or a new temporary
/// one (returned too, so that it lives as long as needed) with a snapshot of
/// `profile` written into it.
fn snapshot_dir(given: Option<&Path>, profile: &SynthProfile) -> Result<(Option<TempDir>, PathBuf)> {
    if let Some(dir) = given {
        return Ok((None, dir.to_path_buf()));
    }
    let generated = tempfile::tempdir().context("creating a directory for the snapshot")?;
    let SynthProfile { accounts, assets, seed } = *profile;
    eprintln!("writing {accounts} users over {assets} assets (seed {seed}) ...");
    zkpor_exchange::synthetic::write_realistic(generated.path(), accounts, assets, seed)?;
    let dir = generated.path().to_path_buf();
    Ok((Some(generated), dir))
}

/// Bytes in GiB, with two decimals.
fn gib(bytes: Option<u64>) -> String {
    bytes.map_or("n/a".into(), |b| format!("{:.2} GiB", b as f64 / (1u64 << 30) as f64))
}

fn reset_peak_memory() {
    // Writing 5 resets the peak resident set size (Linux >= 4.0).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Milliseconds, with two decimals.
fn ms(time: Duration) -> String {
    format!("{:.2}", time.as_secs_f64() * 1000.0)
}
