//! `zkpor bench`: proving time, peak memory and proof sizes per shape.
//!
//! For each shape it builds the circuits, proves one full batch of synthetic
//! accounts, one aggregation node per level (its `K` children are copies of
//! the proof below, which costs the same as distinct ones), then the statement
//! and final proofs. Peak memory is the process's peak resident set, reset
//! before each phase (Linux `/proc/self/clear_refs`).

use std::process::ExitCode;

use anyhow::Result;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use zkpor_circuits::account::{AccountLeaf, draw_nonce};
use zkpor_circuits::batch::BatchWitness;
use zkpor_circuits::encoding::Address;
use zkpor_circuits::node::NodeProof;
use zkpor_circuits::{CircuitSet, Shape};

use super::{Measured, gib, measure};
use crate::table::print_table;

/// What one shape measured.
struct Figures {
    shape: Shape,
    build: Measured,
    batch: Measured,
    aggregation: Measured,
    final_wrap: Measured,
    batch_rows: usize,
    aggregation_rows: usize,
    final_rows: usize,
    batch_bytes: usize,
    aggregation_bytes: usize,
    final_bytes: usize,
}

pub fn run(shapes: Vec<Shape>) -> Result<ExitCode> {
    let shapes = if shapes.is_empty() { vec!["b1024-a8-k8-l1".parse()?, "b1024-a32-k8-l1".parse()?] } else { shapes };
    let mut rows = Vec::new();
    for shape in shapes {
        eprintln!("measuring {shape} ...");
        let figures = bench_shape(shape)?;
        rows.push(figures);
        print_figures(&rows);
    }
    Ok(ExitCode::SUCCESS)
}

fn bench_shape(shape: Shape) -> Result<Figures> {
    let (circuits, build) = measure(|| Ok(CircuitSet::build(&shape)))?;
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let prices: Vec<u64> = (0..shape.assets()).map(|_| rng.gen_range(1..1 << 40)).collect();
    let accounts: Vec<AccountLeaf> = (0..shape.batch_size()).map(|i| synthetic_account(i, &shape, &mut rng)).collect();
    let witness = BatchWitness::new(&shape, &prices, &accounts)?;

    let (batch_proof, batch) = measure(|| circuits.batch().prove(&witness))?;
    let mut below = batch_proof.clone();
    let mut level_zero: Option<(NodeProof, Measured)> = None;
    for level in 0..shape.levels() {
        let children = vec![&below; shape.arity()];
        let (proof, measured) = measure(|| circuits.aggregation(level).prove(&children))?;
        below = proof.clone();
        level_zero.get_or_insert((proof, measured));
    }
    let (aggregation_proof, aggregation) = level_zero.expect("at least one level");
    let batch_rows = circuits.batch().data().common.degree();
    let aggregation_rows = circuits.aggregation(0).data().common.degree();
    // A final-task worker holds only the wrap circuits.
    let (tree, wrap) = circuits.into_parts();
    drop(tree);
    let (final_proof, final_wrap) = measure(|| {
        let statement = wrap.statement().prove(&below, &prices)?;
        wrap.final_wrap().prove(&statement, 1, Address::default())
    })?;
    Ok(Figures {
        shape,
        build,
        batch,
        aggregation,
        final_wrap,
        batch_rows,
        aggregation_rows,
        final_rows: wrap.final_wrap().data().common.degree(),
        batch_bytes: batch_proof.to_bytes().len(),
        aggregation_bytes: aggregation_proof.to_bytes().len(),
        final_bytes: final_proof.to_bytes().len(),
    })
}

/// An account holding every asset, some of it owed back: always solvent.
fn synthetic_account(index: usize, shape: &Shape, rng: &mut ChaCha20Rng) -> AccountLeaf {
    let (_, id_hash) = draw_nonce(&format!("bench-{index}"), rng);
    let equity: Vec<u64> = (0..shape.assets()).map(|_| rng.gen_range(0..1 << 40)).collect();
    let debt = equity.iter().map(|&e| if rng.gen_bool(0.1) { e / 2 } else { 0 }).collect();
    AccountLeaf { id_hash, equity, debt }
}

fn print_figures(all: &[Figures]) {
    let header = [
        "shape",
        "batch proof",
        "per account",
        "aggregation node",
        "final wrap",
        "peak memory (build/batch/agg/final)",
        "rows (batch/agg/final)",
        "proof bytes (batch/agg/final)",
    ];
    let rows: Vec<[String; 8]> = all
        .iter()
        .map(|f| {
            [
                f.shape.to_string(),
                format!("{:.2} s", f.batch.time.as_secs_f64()),
                format!("{:.2} ms", f.batch.time.as_secs_f64() * 1e3 / f.shape.batch_size() as f64),
                format!("{:.2} s", f.aggregation.time.as_secs_f64()),
                format!("{:.2} s", f.final_wrap.time.as_secs_f64()),
                [&f.build, &f.batch, &f.aggregation, &f.final_wrap].map(|m| gib(m.peak)).join(" / "),
                format!("2^{} / 2^{} / 2^{}", log2(f.batch_rows), log2(f.aggregation_rows), log2(f.final_rows)),
                format!("{} / {} / {}", f.batch_bytes, f.aggregation_bytes, f.final_bytes),
            ]
        })
        .collect();
    println!();
    print_table(&header, &rows);
    for f in all {
        println!("{}: circuits built in {:.1} s", f.shape, f.build.time.as_secs_f64());
    }
}

fn log2(n: usize) -> u32 {
    n.trailing_zeros()
}
