//! `zkpor verify` and `zkpor verify-user`: what anyone can check.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use zkpor_circuits::encoding::HashHex;
use zkpor_exchange::user_proof::UserProof;
use zkpor_exchange::verify::verify_output;

use zkpor_chain::registry::RegistryStatus;
use zkpor_chain::verifier::VerifierCheck;

use super::reader::RegistryArgs;
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

/// Checks a user's proof against `root`, the root its sequence has in
/// `registry`, or the root in the file; against the registry it also fails
/// while the sequence is not verified.
pub fn verify_user(file: &Path, root: Option<&str>, registry: Option<&RegistryArgs>) -> Result<ExitCode> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let proof: UserProof = serde_json::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
    let mut expected = root.map(|r| r.parse::<HashHex>().context("--root")).transpose()?;
    let mut on_chain = None;
    if let Some(registry) = registry {
        let (report, verifier) = registry.read(Some(proof.sequence))?;
        if let VerifierCheck::NotVouched { reason, .. } = verifier {
            eprintln!("FAILED: the registry's verifier is not one this build generates: {reason}");
            return Ok(ExitCode::FAILURE);
        }
        let Some(statement) = &report.statement else {
            eprintln!(
                "FAILED: sequence {}'s statement on chain does not hash to its digest: {}",
                proof.sequence,
                report.statement_error.as_deref().unwrap_or_default()
            );
            return Ok(ExitCode::FAILURE);
        };
        let posted: Vec<(&str, u32)> = statement.assets.iter().map(|a| (a.symbol.as_str(), a.decimals)).collect();
        if let Err(mismatch) = proof.check_asset_names(&posted) {
            eprintln!("FAILED: {mismatch} (sequence {}'s statement on chain)", proof.sequence);
            return Ok(ExitCode::FAILURE);
        }
        expected = Some(report.root);
        on_chain = Some(report);
    }
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
            for (symbol, equity, debt) in proof.listed_balances() {
                println!("  {symbol:<8} equity {equity} debt {debt}");
            }
            println!("  (every asset not listed: zero)");
            match on_chain {
                Some(report) if report.status != RegistryStatus::Verified => {
                    eprintln!(
                        "NOT YET: the root is sequence {}'s on chain, but the sequence is {}, not verified",
                        report.sequence, report.status
                    );
                    Ok(ExitCode::FAILURE)
                }
                Some(report) => {
                    println!(
                        "  the root is sequence {}'s on chain, verified in block {}",
                        report.sequence,
                        report.verified_block.unwrap_or_default()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                None => Ok(ExitCode::SUCCESS),
            }
        }
        Err(err) => {
            eprintln!("FAILED: {err}");
            Ok(ExitCode::FAILURE)
        }
    }
}
