//! `zkpor root`: what anyone reads from the registry about a sequence.

use std::process::ExitCode;

use alloy::primitives::Address;
use alloy::primitives::utils::format_ether;
use alloy::providers::ProviderBuilder;
use anyhow::{Context, Result};
use zkpor_chain::reader::{SequenceReport, read_sequence};
use zkpor_chain::registry::SequenceStatus;

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
    /// The report of `sequence` (default: the latest verified).
    pub fn read(&self, sequence: Option<u64>) -> Result<SequenceReport> {
        let rpc = self.rpc.parse().with_context(|| format!("--rpc '{}' is not a URL", self.rpc))?;
        let provider = ProviderBuilder::new().connect_http(rpc);
        super::runtime()?.block_on(read_sequence(&provider, self.registry, sequence))
    }
}

/// Prints the report of `sequence` (default: the latest verified); fails if
/// its statement does not hash to the stored digest.
pub fn root(registry: &RegistryArgs, sequence: Option<u64>, json: bool) -> Result<ExitCode> {
    let report = registry.read(sequence)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(if report.statement.is_some() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
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
                "  statement   hashes to the digest (checked here), {} accounts, shape {}",
                statement.account_count, statement.shape
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
    if report.status == SequenceStatus::Verified {
        let time = report.verified_at.map(|t| format!(" at {t} (Unix time)")).unwrap_or_default();
        println!("  verified in block {}{time}, round {}", report.verified_block.unwrap_or_default(), report.round);
        for (i, prover) in report.provers.iter().enumerate() {
            println!("  {} {prover}", if i == 0 { "proved by  " } else { "           " });
        }
    }
}
