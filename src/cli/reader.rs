//! `zkpor root`: what anyone reads from the registry about a sequence.

use std::process::ExitCode;

use alloy::primitives::Address;
use alloy::primitives::utils::format_ether;
use alloy::providers::ProviderBuilder;
use anyhow::{Context, Result};
use serde::Serialize;
use zkpor_chain::reader::{SequenceReport, read_sequence};
use zkpor_chain::registry::RegistryStatus;
use zkpor_chain::verifier::{VerifierCheck, check_registry_verifier};

use crate::table::print_table;

/// Where to read the registry.
#[derive(Debug, clap::Args)]
pub struct RegistryArgs {
    /// JSON-RPC endpoint of the chain.
    #[arg(long, env = "ZKPOR_RPC")]
    pub rpc: String,
    /// The registry contract.
    #[arg(long, env = "ZKPOR_REGISTRY")]
    pub registry: Address,
}

impl RegistryArgs {
    /// The report of `sequence` (default: the latest verified), and the
    /// registry's verifier compared with this build's.
    pub fn read(&self, sequence: Option<u64>) -> Result<(SequenceReport, VerifierCheck)> {
        let rpc = self.rpc.parse().with_context(|| format!("--rpc '{}' is not a URL", self.rpc))?;
        let provider = ProviderBuilder::new().connect_http(rpc);
        super::runtime()?.block_on(async {
            let report = read_sequence(&provider, self.registry, sequence).await?;
            let verifier = check_registry_verifier(&provider, self.registry).await?;
            Ok((report, verifier))
        })
    }
}

/// What `zkpor root --json` prints.
#[derive(Serialize)]
struct RootReport {
    #[serde(flatten)]
    report: SequenceReport,
    verifier: VerifierCheck,
}

/// Prints the report of `sequence` (default: the latest verified); fails if
/// its statement does not hash to the stored digest.
pub fn root(registry: &RegistryArgs, sequence: Option<u64>, json: bool) -> Result<ExitCode> {
    let (report, verifier) = registry.read(sequence)?;
    let vouched = verifier.is_vouched();
    let checks_out = report.statement.is_some();
    if json {
        println!("{}", serde_json::to_string_pretty(&RootReport { report, verifier })?);
    } else {
        print_report(&report);
        match &verifier {
            VerifierCheck::Vouched { family } => {
                println!("  verifier    this build's verifier of family {family} (checked here)")
            }
            VerifierCheck::NotVouched { family, reason } => {
                println!("  verifier    NOT VOUCHED FOR (family {family}): {reason}");
                eprintln!("warning: the registry's verifier is not one this build generates; its roots prove nothing");
            }
        }
    }
    Ok(if checks_out && vouched { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Unix seconds as a UTC date and time.
fn utc(seconds: u64) -> String {
    // Days to a civil date (the proleptic Gregorian calendar).
    let days = (seconds / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let time = seconds % 86_400;
    format!("{year}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC", time / 3600, time / 60 % 60, time % 60)
}

/// Wei as ETH, without trailing zeros.
pub fn eth(wei: alloy::primitives::U256) -> String {
    let text = format_ether(wei);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The report as text.
pub fn print_report(report: &SequenceReport) {
    println!("sequence {}: {}", report.sequence, report.status);
    println!("  root        {}", report.root);
    println!("  digest      {}", report.digest);
    match (&report.statement, &report.statement_error) {
        (Some(statement), _) => {
            println!(
                "  statement   hashes to the digest (checked here), {} accounts, {} assets, family {}",
                statement.account_count,
                statement.assets.len(),
                statement.family
            );
            let rows: Vec<[String; 4]> = statement
                .assets
                .iter()
                .map(|a| [a.symbol.clone(), a.price_usd.clone(), a.equity.clone(), a.debt.clone()])
                .collect();
            print_table(&["asset", "price_usd", "equity", "debt"], &rows);
        }
        (None, error) => println!("  statement   DOES NOT CHECK OUT: {}", error.as_deref().unwrap_or("unknown")),
    }
    println!("  posted in   block {} with a reward of {} ETH", report.posted_block, eth(report.reward));
    if report.status == RegistryStatus::Verified {
        let time = report.verified_at.map(|t| format!(" at {}", utc(t))).unwrap_or_default();
        println!("  verified in block {}{time}, round {}", report.verified_block.unwrap_or_default(), report.round);
        for (i, prover) in report.provers.iter().enumerate() {
            println!("  {} {prover}", if i == 0 { "proved by  " } else { "           " });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds_read_as_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_795_923_813), "2026-11-29 03:43:33 UTC");
    }
}
