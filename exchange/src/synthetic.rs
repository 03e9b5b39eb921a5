//! Synthetic snapshots for demonstrations and tests: a reproducible set of
//! users holding up to four assets (BTC, USDT, ETH, SOL, in that order),
//! most of them a few assets, one in ten owing USDT against the rest.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result, ensure};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use zkpor_snapshot::decimal::format_units;

/// Symbol, decimals, price in USD and largest holding in smallest units.
const ASSETS: [(&str, u32, &str, u64); 4] = [
    ("BTC", 8, "91234.56", 500_000_000),
    ("USDT", 6, "1", 250_000_000_000),
    ("ETH", 8, "3050.12", 5_000_000_000),
    ("SOL", 6, "142.5", 900_000_000),
];

/// Writes a snapshot of `accounts` users holding the first `assets` of
/// BTC, USDT, ETH and SOL (at most 4) to `dir`, the same for the same `seed`.
pub fn write_synthetic(dir: &Path, accounts: usize, assets: usize, seed: u64) -> Result<()> {
    ensure!((1..=ASSETS.len()).contains(&assets), "a synthetic snapshot holds 1 to {} assets", ASSETS.len());
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let listed = &ASSETS[..assets];
    let mut text = String::from("symbol,decimals,price_usd\n");
    for (symbol, decimals, price, _) in listed {
        writeln!(text, "{symbol},{decimals},{price}")?;
    }
    std::fs::write(dir.join("assets.csv"), text).context("writing assets.csv")?;

    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut balances = String::from("id");
    for (symbol, ..) in listed {
        write!(balances, ",{symbol}")?;
    }
    balances.push('\n');
    for user in 0..accounts {
        let mut units: Vec<i128> =
            listed.iter().map(|(.., max)| if rng.gen_bool(0.6) { rng.gen_range(1..=*max).into() } else { 0 }).collect();
        if assets > 1 && rng.gen_bool(0.1) {
            // Debt in USDT worth at most 40% of the user's other holdings.
            let worth: f64 = listed
                .iter()
                .zip(&units)
                .enumerate()
                .filter(|(asset, _)| *asset != 1)
                .map(|(_, ((_, decimals, price, _), &u))| {
                    u as f64 / 10f64.powi(*decimals as i32) * price.parse::<f64>().unwrap_or(0.0)
                })
                .sum();
            let debt = (worth * 0.4 * 1e6) as i128;
            units[1] = if debt > 0 { -rng.gen_range(1..=debt) } else { 0 };
        }
        write!(balances, "user{user:06}")?;
        for ((_, decimals, ..), value) in listed.iter().zip(&units) {
            if *value == 0 {
                balances.push(',');
            } else {
                write!(balances, ",{}", format_units(*value, *decimals))?;
            }
        }
        balances.push('\n');
    }
    std::fs::write(dir.join("balances.csv"), balances).context("writing balances.csv")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use zkpor_snapshot::Snapshot;

    use super::*;
    use crate::pipeline::load_options;

    #[test]
    fn a_synthetic_snapshot_is_valid_reproducible_and_has_debts() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        write_synthetic(a.path(), 500, 4, 9).unwrap();
        write_synthetic(b.path(), 500, 4, 9).unwrap();
        let read = |dir: &Path| std::fs::read_to_string(dir.join("balances.csv")).unwrap();
        assert_eq!(read(a.path()), read(b.path()));
        let snapshot = Snapshot::load(a.path(), &load_options(None)).unwrap();
        assert_eq!((snapshot.accounts().len(), snapshot.assets().len()), (500, 4));
        assert!(snapshot.debt_totals()[1] > 0, "some users owe USDT");
        write_synthetic(a.path(), 10, 2, 1).unwrap();
        assert_eq!(Snapshot::load(a.path(), &load_options(None)).unwrap().assets().len(), 2);
        assert!(write_synthetic(a.path(), 10, 5, 1).is_err());
    }
}
