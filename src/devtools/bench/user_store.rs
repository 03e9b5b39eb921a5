//! `zkpor bench user-store`: how fast the user-proof store answers a user,
//! at exchange scale, without proving anything.
//!
//! It writes (or reads) a snapshot, commits it to its family's tree, writes the
//! store `exchange prove` would publish, then asks it for random users'
//! inclusion proofs, checking each, and prints the latency distribution.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use clap::Args;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use zkpor_exchange::committed::{CommittedSnapshot, load_options};
use zkpor_exchange::user_store::UserStore;
use zkpor_snapshot::Snapshot;

use super::{BenchSnapshot, gib, measure, ms};
use crate::table::print_table;

/// `zkpor bench user-store` arguments.
#[derive(Debug, Args)]
pub struct UserStoreArgs {
    /// The snapshot, and the family whose tree the users are committed to.
    #[command(flatten)]
    input: BenchSnapshot,
    /// Inclusion proofs to ask for.
    #[arg(long, default_value_t = 10_000)]
    lookups: usize,
}

/// Runs the benchmark and prints its figures.
pub fn run(args: UserStoreArgs) -> Result<ExitCode> {
    let (_generated, dir) = args.input.dir()?;
    let family = &args.input.family;
    let (snapshot, load) = measure(|| {
        Snapshot::load(&dir, &load_options(family))
            .map_err(|errors| anyhow::anyhow!("{errors}"))
            .with_context(|| format!("loading {}", dir.display()))
    })?;
    eprintln!("committing {} users to the tree of family {} ...", snapshot.accounts().len(), family.name());
    let (committed, commit) = measure(|| CommittedSnapshot::new(snapshot, family, &mut ChaCha20Rng::seed_from_u64(1)))?;
    let ids: Vec<String> = committed.users().map(|(id, _, _)| id.to_string()).collect();
    ensure!(!ids.is_empty(), "the snapshot has no users");
    let root = committed.statement().root;

    let store_dir = tempfile::tempdir().context("creating a directory for the store")?;
    let path = store_dir.path().join("users.sqlite");
    let runtime = crate::cli::runtime()?;
    eprintln!("writing the store ...");
    let ((), write) = measure(|| runtime.block_on(UserStore::create(&path, &committed, &committed.statement_file(1))))?;
    let store_bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or_default();
    drop(committed);

    let store = runtime.block_on(UserStore::open(&path))?;
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let mut latencies = Vec::with_capacity(args.lookups);
    for _ in 0..args.lookups {
        let id = &ids[rng.gen_range(0..ids.len())];
        let started = Instant::now();
        let proof = runtime.block_on(store.user_proof(id))?;
        latencies.push(started.elapsed());
        proof.verify(Some(root)).with_context(|| format!("the store's proof of '{id}'"))?;
    }
    latencies.sort_unstable();
    let at = |fraction: f64| latencies[((latencies.len() - 1) as f64 * fraction) as usize];
    let mean = latencies.iter().sum::<Duration>() / latencies.len() as u32;

    println!();
    print_table(
        &["users", "load", "commit", "write store", "store size", "peak memory (load/commit/write)"],
        &[[
            ids.len().to_string(),
            format!("{:.1} s", load.time.as_secs_f64()),
            format!("{:.1} s", commit.time.as_secs_f64()),
            format!("{:.1} s", write.time.as_secs_f64()),
            format!("{:.0} MiB", store_bytes as f64 / (1 << 20) as f64),
            [&load, &commit, &write].map(|m| gib(m.peak)).join(" / "),
        ]],
    );
    println!();
    print_table(
        &["lookups (checked)", "mean ms", "p50 ms", "p99 ms", "max ms"],
        &[[latencies.len().to_string(), ms(mean), ms(at(0.5)), ms(at(0.99)), ms(at(1.0))]],
    );
    Ok(ExitCode::SUCCESS)
}
