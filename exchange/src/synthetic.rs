//! Synthetic snapshots, reproducible from a seed:
//!
//! - [`write_synthetic`]: a demonstration set of users holding up to four
//!   assets (BTC, USDT, ETH, SOL, in that order), one in ten owing USDT
//!   against the rest;
//! - [`write_realistic`]: an exchange-like profile over many assets (220 on
//!   a large exchange): see [`write_realistic`] for the distribution.

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

/// Writes a snapshot of `accounts` users over `assets` assets shaped like a
/// large exchange's, the same for the same `seed`:
///
/// - assets: `BTC`, `ETH`, `USDT`, `USDC`, `SOL`, then `TKN006`...; prices
///   log-spread from about 90,000 USD down to 0.0001 USD, each with the
///   decimals that keep 100,000 USD of it under 2^40 smallest units (at
///   most 8), so per-asset totals stay within the bounds up to 2^20 users;
/// - how many assets a user holds: 1 to 20 for 98.9% of users (1 + a
///   geometric draw of mean 3, capped at 20), 21 to 99 for 1%, 100 to all
///   of them for 0.1%; which ones: the popular first (weights `1/(i+1)`,
///   the first always popular);
/// - holdings: worth 1 to 100,000 USD each, log-uniform;
/// - debt: one user in ten owes one or two of its non-held assets, worth
///   at most 40% of its holdings (so every net value stays positive).
pub fn write_realistic(dir: &Path, accounts: usize, assets: usize, seed: u64) -> Result<()> {
    ensure!(assets >= 2, "a realistic snapshot needs at least 2 assets");
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let listed = realistic_assets(assets);
    let mut text = String::from("symbol,decimals,price_usd\n");
    for asset in &listed {
        writeln!(text, "{},{},{}", asset.symbol, asset.decimals, asset.price)?;
    }
    std::fs::write(dir.join("assets.csv"), text).context("writing assets.csv")?;

    let path = dir.join("balances.csv");
    let file = std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut header = String::from("id");
    for asset in &listed {
        write!(header, ",{}", asset.symbol)?;
    }
    std::io::Write::write_all(&mut out, format!("{header}\n").as_bytes())?;
    let popularity: Vec<f64> = (0..assets).map(|i| 1.0 / (i as f64 + 1.0)).collect();
    let total: f64 = popularity.iter().sum();
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut units = vec![0i128; assets];
    let mut line = String::new();
    for user in 0..accounts {
        units.iter_mut().for_each(|u| *u = 0);
        let roll: f64 = rng.r#gen();
        let held = if roll < 0.001 {
            rng.gen_range(100.min(assets)..=assets)
        } else if roll < 0.011 {
            rng.gen_range(21.min(assets)..=99.min(assets))
        } else {
            let mut k = 1;
            while k < 20.min(assets) && rng.gen_bool(2.0 / 3.0) {
                k += 1;
            }
            k
        };
        let mut worth = 0.0;
        let mut chosen = 0;
        while chosen < held {
            let asset = pick(&popularity, total, &mut rng);
            if units[asset] != 0 {
                if held * 2 > assets {
                    // Dense holders: take the next free asset instead of redrawing.
                    let free =
                        (0..assets).map(|i| (asset + i) % assets).find(|&i| units[i] == 0).expect("a free asset");
                    chosen += hold(&listed[free], &mut units[free], &mut worth, &mut rng);
                }
                continue;
            }
            chosen += hold(&listed[asset], &mut units[asset], &mut worth, &mut rng);
        }
        if rng.gen_bool(0.1) && held < assets {
            let owed = if rng.gen_bool(0.5) { 1 } else { 2 };
            let budget = worth * 0.4 / owed as f64;
            for _ in 0..owed {
                let asset = pick(&popularity, total, &mut rng);
                let info = &listed[asset];
                let most = (budget / info.price_f64 * 10f64.powi(info.decimals as i32)) as i128;
                if units[asset] == 0 && most >= 1 {
                    units[asset] = -rng.gen_range(1..=most);
                }
            }
        }
        line.clear();
        write!(line, "user{user:08}")?;
        for (asset, value) in listed.iter().zip(&units) {
            line.push(',');
            if *value != 0 {
                line.push_str(&format_units(*value, asset.decimals));
            }
        }
        line.push('\n');
        std::io::Write::write_all(&mut out, line.as_bytes())?;
    }
    std::io::Write::flush(&mut out).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// One asset of the realistic profile.
struct RealisticAsset {
    symbol: String,
    decimals: u32,
    price: String,
    price_f64: f64,
}

/// `count` assets, prices log-spread from about 90,000 USD to 0.0001 USD.
fn realistic_assets(count: usize) -> Vec<RealisticAsset> {
    const NAMED: [&str; 5] = ["BTC", "ETH", "USDT", "USDC", "SOL"];
    const FIXED: [f64; 5] = [91234.56, 3050.12, 1.0, 1.0, 142.5];
    (0..count)
        .map(|i| {
            let price = match FIXED.get(i) {
                Some(&p) => p,
                None => 10f64.powf(3.0 - 7.0 * (i - 5) as f64 / (count.max(7) - 6) as f64),
            };
            // Four significant digits, at most 8 after the point.
            let digits = (3 - price.log10().floor() as i32).clamp(0, 8) as usize;
            let price_text = format!("{price:.digits$}");
            let price_f64: f64 = price_text.parse().expect("a price");
            // Decimals keeping 100,000 USD of the asset under 2^40 units.
            let decimals = ((2f64.powi(40) * price_f64 / 1e5).log10().floor() as i32).clamp(0, 8) as u32;
            let symbol = NAMED.get(i).map(|s| s.to_string()).unwrap_or(format!("TKN{i:03}"));
            RealisticAsset { symbol, decimals, price: trim_price(&price_text), price_f64 }
        })
        .collect()
}

/// `"1.5000"` as `"1.5"`, `"2.000"` as `"2"`.
fn trim_price(text: &str) -> String {
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text.to_string() }
}

/// An asset index drawn by popularity.
fn pick(popularity: &[f64], total: f64, rng: &mut ChaCha20Rng) -> usize {
    let mut at = rng.gen_range(0.0..total);
    for (i, weight) in popularity.iter().enumerate() {
        if at < *weight {
            return i;
        }
        at -= weight;
    }
    popularity.len() - 1
}

/// Gives the user a holding of `asset` worth 1 to 100,000 USD; 1 if it
/// holds it now.
fn hold(asset: &RealisticAsset, units: &mut i128, worth: &mut f64, rng: &mut ChaCha20Rng) -> usize {
    let usd = 10f64.powf(rng.gen_range(0.0..5.0));
    let amount = ((usd / asset.price_f64) * 10f64.powi(asset.decimals as i32)) as i128;
    *units = amount.max(1);
    *worth += *units as f64 / 10f64.powi(asset.decimals as i32) * asset.price_f64;
    1
}

#[cfg(test)]
mod tests {
    use zkpor_snapshot::Snapshot;

    use super::*;
    use zkpor_circuits::family::Family;

    use crate::committed::load_options;

    #[test]
    fn a_synthetic_snapshot_is_valid_reproducible_and_has_debts() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        write_synthetic(a.path(), 500, 4, 9).unwrap();
        write_synthetic(b.path(), 500, 4, 9).unwrap();
        let read = |dir: &Path| std::fs::read_to_string(dir.join("balances.csv")).unwrap();
        assert_eq!(read(a.path()), read(b.path()));
        let snapshot = Snapshot::load(a.path(), &load_options(&Family::standard())).unwrap();
        assert_eq!((snapshot.accounts().len(), snapshot.assets().len()), (500, 4));
        assert!(snapshot.debt_totals()[1] > 0, "some users owe USDT");
        write_synthetic(a.path(), 10, 2, 1).unwrap();
        assert_eq!(Snapshot::load(a.path(), &load_options(&Family::standard())).unwrap().assets().len(), 2);
        assert!(write_synthetic(a.path(), 10, 5, 1).is_err());
    }

    #[test]
    fn the_realistic_profile_is_valid_and_shaped_like_an_exchange() {
        let dir = tempfile::tempdir().unwrap();
        write_realistic(dir.path(), 3000, 220, 11).unwrap();
        let snapshot =
            Snapshot::load(dir.path(), &crate::committed::load_options(&zkpor_circuits::Family::standard())).unwrap();
        assert_eq!((snapshot.accounts().len(), snapshot.assets().len()), (3000, 220));
        let held: Vec<usize> = snapshot
            .accounts()
            .iter()
            .map(|a| (0..220).filter(|&i| a.equity(i) > 0 || a.debt(i) > 0).count())
            .collect();
        let mut sorted = held.clone();
        sorted.sort_unstable();
        assert!((1..=5).contains(&sorted[1500]), "median assets held: {}", sorted[1500]);
        assert!(sorted[2900] <= 22, "most hold at most 20 (+ debts): {}", sorted[2900]);
        assert!(held.iter().any(|&h| h >= 100), "a few hold 100+ assets");
        let debtors = snapshot.accounts().iter().filter(|a| (0..220).any(|i| a.debt(i) > 0)).count();
        assert!((200..=400).contains(&debtors), "about one in ten owes: {debtors}");
        let other = tempfile::tempdir().unwrap();
        write_realistic(other.path(), 3000, 220, 11).unwrap();
        let read = |d: &Path| std::fs::read(d.join("balances.csv")).unwrap();
        assert_eq!(read(dir.path()), read(other.path()), "reproducible");
    }
}
