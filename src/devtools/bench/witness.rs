//! `zkpor bench witness`: what the exchange's witness endpoint costs on the
//! wire and how fast it serves, at exchange scale.
//!
//! It writes (or reads) a snapshot, commits it to its family's tree, writes
//! it into an exchange archive as posted sequence 1 (what `exchange publish`
//! leaves), serves the archive on a local port with `exchange serve`'s
//! router (the chain replaced by an answer that sequence 1 is posted with
//! the archive's root), and has `--clients` agents fetch every batch of the
//! sequence at once over HTTP, each response parsed and counted.

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, ensure};
use clap::Args;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpor_circuits::encoding::HashHex;
use zkpor_exchange::archive::SequenceArchive;
use zkpor_exchange::committed::{CommittedSnapshot, load_options};
use zkpor_exchange::server::config::{Client, ExchangeConfig, RateLimits};
use zkpor_exchange::server::{PostedRoots, serve};
use zkpor_protocol::witness::{ServedSequence, WitnessBatch};
use zkpor_snapshot::Snapshot;

use super::{BenchSnapshot, measure};
use crate::table::print_table;

/// The token the benchmark's agents present.
const TOKEN: &str = "bench-agent-token-0000";

/// `zkpor bench witness` arguments.
#[derive(Debug, Args)]
pub struct WitnessArgs {
    /// The snapshot, and the family whose tree the users are committed to.
    #[command(flatten)]
    input: BenchSnapshot,
    /// Agents fetching batches at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    clients: u16,
}

/// A chain on which sequence 1 is posted with the archive's root.
struct Posted(HashHex);

impl PostedRoots for Posted {
    fn posted_root(&self, sequence: u64) -> Pin<Box<dyn Future<Output = Result<Option<HashHex>>> + Send + '_>> {
        Box::pin(async move { Ok((sequence == 1).then_some(self.0)) })
    }
}

/// What the clients fetched.
#[derive(Default)]
struct Fetched {
    batches: AtomicU64,
    users: AtomicU64,
    bytes: AtomicU64,
}

/// Runs the benchmark and prints its figures.
pub fn run(args: WitnessArgs) -> Result<ExitCode> {
    let (_generated, dir) = args.input.dir()?;
    let family = &args.input.family;
    let snapshot = Snapshot::load(&dir, &load_options(family))
        .map_err(|errors| anyhow::anyhow!("{errors}"))
        .with_context(|| format!("loading {}", dir.display()))?;
    eprintln!("committing {} users to the tree of family {} ...", snapshot.accounts().len(), family.name());
    let committed = CommittedSnapshot::new(snapshot, family, &mut ChaCha20Rng::seed_from_u64(1))?;
    let users = committed.users().count() as u64;

    let archive_dir = tempfile::tempdir().context("creating a directory for the archive")?;
    let archive = SequenceArchive::new(archive_dir.path());
    let runtime = crate::cli::runtime()?;
    eprintln!("writing the archive ...");
    let (root, write) = measure(|| {
        runtime.block_on(async {
            let pending = archive.write_pending(&committed, 1).await?;
            archive.settle(&pending, 1).await?;
            Ok(pending.statement.root)
        })
    })?;
    drop(committed);

    let config = ExchangeConfig {
        archive: archive_dir.path().to_path_buf(),
        listen: "127.0.0.1:0".parse().expect("an address"),
        rpc_url: "http://127.0.0.1:1".into(),
        registry: Default::default(),
        tls: None,
        limits: RateLimits { per_second: u32::MAX, burst: u32::MAX },
        agents: vec![Client { name: "bench".into(), token: TOKEN.into() }],
        frontends: Vec::new(),
    };
    let (fetched, elapsed, batches) = runtime.block_on(async move {
        let (port_tx, port_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let started = move |address: std::net::SocketAddr| {
                let _ = port_tx.send(address.port());
            };
            if let Err(error) = serve(&config, Box::new(Posted(root)), started, std::future::pending()).await {
                eprintln!("the endpoint stopped: {error:#}");
            }
        });
        let url = format!("http://127.0.0.1:{}", port_rx.await.context("the endpoint did not start")?);
        let http = reqwest::Client::new();
        let served: Vec<ServedSequence> =
            http.get(format!("{url}/v1/sequences")).bearer_auth(TOKEN).send().await?.error_for_status()?.json().await?;
        let sequence = served.first().context("the endpoint serves no sequence")?;
        ensure!(sequence.account_count == users, "the endpoint serves {} users, not {users}", sequence.account_count);
        let batches = sequence.batches;

        let fetched = Arc::new(Fetched::default());
        let next = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let clients: Vec<_> = (0..args.clients)
            .map(|_| {
                let (http, url, fetched, next) = (http.clone(), url.clone(), fetched.clone(), next.clone());
                tokio::spawn(async move {
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        if index >= batches {
                            return Ok::<_, anyhow::Error>(());
                        }
                        let response = http
                            .get(format!("{url}/v1/sequences/1/batches/{index}"))
                            .bearer_auth(TOKEN)
                            .send()
                            .await?
                            .error_for_status()
                            .with_context(|| format!("batch {index}"))?;
                        let body = response.bytes().await?;
                        let batch: WitnessBatch =
                            serde_json::from_slice(&body).with_context(|| format!("parsing batch {index}"))?;
                        ensure!(batch.batch == index, "asked for batch {index}, got batch {}", batch.batch);
                        fetched.batches.fetch_add(1, Ordering::Relaxed);
                        fetched.users.fetch_add(batch.users.len() as u64, Ordering::Relaxed);
                        fetched.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for client in clients {
            client.await.context("a client panicked")??;
        }
        Ok::<_, anyhow::Error>((fetched, started.elapsed(), batches))
    })?;

    let fetched_users = fetched.users.load(Ordering::Relaxed);
    ensure!(fetched_users == users, "the batches carry {fetched_users} users, the sequence {users}");
    let bytes = fetched.bytes.load(Ordering::Relaxed);
    let seconds = elapsed.as_secs_f64();
    println!();
    print_table(
        &[
            "users",
            "batches",
            "archive written",
            "clients",
            "fetched in",
            "bytes per user",
            "batches/s",
            "users/s",
            "MiB/s",
        ],
        &[[
            users.to_string(),
            batches.to_string(),
            format!("{:.1} s", write.time.as_secs_f64()),
            args.clients.to_string(),
            format!("{seconds:.2} s"),
            format!("{:.1}", bytes as f64 / users as f64),
            format!("{:.1}", fetched.batches.load(Ordering::Relaxed) as f64 / seconds),
            format!("{:.0}", users as f64 / seconds),
            format!("{:.1}", bytes as f64 / seconds / (1 << 20) as f64),
        ]],
    );
    Ok(ExitCode::SUCCESS)
}
