//! `zkpor verify` and `zkpor verify-user`: what anyone can check.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use zkpor_circuits::encoding::HashHex;
use zkpor_exchange::published::read_json;
use zkpor_exchange::user_proof::UserProof;
use zkpor_exchange::verify::verify_output;

use crate::progress::spinner;

pub fn verify(out: &Path) -> Result<ExitCode> {
    let spinner = spinner("rebuilding circuits");
    let result = verify_output(out, |step| spinner.set_message(format!("rebuilding the {step}")));
    spinner.finish_and_clear();
    match result {
        Ok(verified) => {
            let statement = &verified.statement;
            println!(
                "OK: the final proof verifies for sequence {} and submitter {}",
                verified.inputs.sequence, verified.inputs.submitter
            );
            println!("  root     {}", statement.root);
            println!("  digest   {} (matches statement.json)", statement.digest);
            println!("  accounts {}", statement.account_count);
            for asset in &statement.assets {
                println!(
                    "  {:<8} equity {} debt {} at {} USD",
                    asset.symbol, asset.equity, asset.debt, asset.price_usd
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            eprintln!("FAILED: {err:#}");
            Ok(ExitCode::FAILURE)
        }
    }
}

pub fn verify_user(file: &Path, root: Option<&str>) -> Result<ExitCode> {
    let proof: UserProof = read_json(file)?;
    let expected = root.map(|r| r.parse::<HashHex>().context("--root")).transpose()?;
    let started = Instant::now();
    let result = proof.verify(expected.map(|h| h.0));
    let elapsed = started.elapsed();
    match result {
        Ok(root) => {
            println!(
                "OK: '{}' is included in root {} (sequence {}), checked in {elapsed:.2?}",
                proof.id,
                HashHex(root),
                proof.sequence
            );
            for balance in &proof.balances {
                println!("  {:<8} equity {} debt {}", balance.symbol, balance.equity, balance.debt);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            eprintln!("FAILED: {err}");
            Ok(ExitCode::FAILURE)
        }
    }
}
