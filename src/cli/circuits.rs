//! `zkpor circuits family`: the circuit families this build ships.

use std::process::ExitCode;

use anyhow::Result;
use serde::Serialize;
use zkpor_chain::verifier::shipped_family;
use zkpor_circuits::{Family, FamilyCircuits};

use super::circuit_dir::CircuitDirArgs;
use crate::table::print_table;

/// One family, as printed.
#[derive(Serialize)]
struct FamilyReport {
    #[serde(flatten)]
    family: Family,
    /// The most assets a sequence may list.
    assets: usize,
    /// The most users a sequence may count.
    max_users: u64,
    /// The digest `families.json` records (what the shipped verifier checks).
    recorded_digest: Option<String>,
    /// The digest of the circuits built here, with `--build`.
    built_digest: Option<String>,
}

/// Prints `family` (default: every shipped one); with `build`, reads or
/// builds the circuits in that circuit directory and prints their digest
/// beside the recorded one.
pub fn family(family: Option<Family>, build: Option<CircuitDirArgs>, json: bool) -> Result<ExitCode> {
    let families = family.map_or_else(Family::shipped, |family| vec![family]);
    let mut reports = Vec::with_capacity(families.len());
    let mut agree = true;
    for family in families {
        let recorded = shipped_family(family.name()).map(|shipped| format!("{:#x}", shipped.digest));
        let built = if let Some(circuit_dir) = &build {
            let files = circuit_dir.directory().map(|directory| directory.family(&family));
            let spinner = crate::progress::spinner(&format!("family {}: reading or building", family.name()));
            let (circuits, provenance) = FamilyCircuits::load_or_build(&family, files.as_ref(), |step| {
                spinner.set_message(format!("family {}: building {step}", family.name()))
            })?;
            spinner.finish_and_clear();
            eprintln!(
                "family {}: {} circuits read, {} built{}",
                family.name(),
                provenance.read.len(),
                provenance.built.len(),
                files.map(|files| format!(", kept in {}", files.dir().display())).unwrap_or_default()
            );
            Some(circuits.digest()?.to_string())
        } else {
            None
        };
        agree &= built.is_none() || built == recorded;
        reports.push(FamilyReport {
            assets: family.assets(),
            max_users: family.max_users(),
            recorded_digest: recorded,
            built_digest: built,
            family,
        });
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        for report in &reports {
            println!("{}", report.family);
            let rows: Vec<[String; 3]> = report
                .family
                .tiers()
                .tiers()
                .iter()
                .enumerate()
                .map(|(index, tier)| [index.to_string(), tier.slots.to_string(), tier.batch_size.to_string()])
                .collect();
            print_table(&["tier", "slots", "batch size"], &rows);
            println!(
                "  digest (recorded)  {}",
                report.recorded_digest.as_deref().unwrap_or("none: no verifier shipped")
            );
            if let Some(built) = &report.built_digest {
                println!("  digest (built)     {built}");
            }
        }
    }
    if !agree {
        eprintln!(
            "the circuits built here differ from the recorded ones: regenerate the verifier (zkpor contracts gen-verifier)"
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
