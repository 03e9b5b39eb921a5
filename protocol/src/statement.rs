//! `statement.json`: a sequence's statement in readable form, amounts as
//! exact decimals in each asset's own units, and its check against the
//! digest.

use anyhow::{Context, Result, bail, ensure};
use serde::{Deserialize, Serialize};
use zkpor_circuits::encoding::HashHex;
use zkpor_circuits::statement::{Statement, asset_code};
use zkpor_snapshot::decimal::{Price, format_units, parse_units};
use zkpor_snapshot::{Asset, unit_prices};

/// File name of the readable statement.
pub const STATEMENT_FILE: &str = "statement.json";

/// `statement.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementFile {
    /// The sequence number.
    pub sequence: u64,
    /// The circuit family it is proven on.
    pub family: String,
    /// Root of the account tree.
    pub root: HashHex,
    /// Number of users.
    pub account_count: u64,
    /// Batches of users at the bottom of the tree.
    pub batches: u64,
    /// Poseidon digest of the statement (see the design notes).
    pub digest: HashHex,
    /// Per real asset: price and totals.
    pub assets: Vec<AssetTotals>,
}

/// One asset of [`StatementFile`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetTotals {
    /// Ticker symbol.
    pub symbol: String,
    /// Fractional digits of the asset's smallest unit.
    pub decimals: u32,
    /// Price of one whole unit in USD, exact.
    pub price_usd: String,
    /// Sum of all positive balances, exact, in whole units.
    pub equity: String,
    /// Sum of all debts, exact, in whole units.
    pub debt: String,
}

impl StatementFile {
    /// The file describing `statement` over `assets` (the statement's real
    /// assets, in order), a tree of `batches` batches proven on `family`, as
    /// sequence `sequence`.
    pub fn new(assets: &[Asset], statement: &Statement, family: &str, batches: u64, sequence: u64) -> Self {
        let assets = assets
            .iter()
            .enumerate()
            .map(|(i, asset)| AssetTotals {
                symbol: asset.symbol.clone(),
                decimals: asset.decimals,
                price_usd: asset.price.to_string(),
                equity: format_units(statement.equity[i].into(), asset.decimals),
                debt: format_units(statement.debt[i].into(), asset.decimals),
            })
            .collect();
        StatementFile {
            sequence,
            family: family.to_string(),
            root: HashHex(statement.root),
            account_count: statement.account_count,
            batches,
            digest: HashHex(statement.digest()),
            assets,
        }
    }

    /// The statement these fields describe, rebuilt exactly (asset codes,
    /// prices at the common scale, totals in smallest units), without
    /// trusting `digest`.
    pub fn statement(&self) -> Result<Statement> {
        ensure!(!self.assets.is_empty(), "a statement lists at least one asset");
        let mut assets = Vec::with_capacity(self.assets.len());
        let (mut equity, mut debt) = (Vec::new(), Vec::new());
        for entry in &self.assets {
            let price: Price = entry
                .price_usd
                .parse()
                .with_context(|| format!("asset {}: price_usd '{}'", entry.symbol, entry.price_usd))?;
            assets.push(Asset { symbol: entry.symbol.clone(), decimals: entry.decimals, price });
            equity.push(
                total_units(&entry.equity, entry.decimals)
                    .with_context(|| format!("asset {}: equity", entry.symbol))?,
            );
            debt.push(
                total_units(&entry.debt, entry.decimals).with_context(|| format!("asset {}: debt", entry.symbol))?,
            );
        }
        let prices = unit_prices(&assets).context("asset prices")?;
        Ok(Statement {
            root: self.root.0,
            account_count: self.account_count,
            assets: assets.iter().map(|asset| asset_code(&asset.symbol, asset.decimals)).collect(),
            prices: prices.unit_prices,
            equity,
            debt,
        })
    }

    /// The statement, after checking that it hashes to `digest`.
    pub fn checked_statement(&self) -> Result<Statement> {
        let statement = self.statement()?;
        let digest = HashHex(statement.digest());
        if digest != self.digest {
            bail!("the statement's content hashes to {digest}, not to its digest field {}", self.digest);
        }
        Ok(statement)
    }

    /// Each asset's symbol and decimals, in order.
    pub fn asset_names(&self) -> Vec<(&str, u32)> {
        self.assets.iter().map(|asset| (asset.symbol.as_str(), asset.decimals)).collect()
    }
}

fn total_units(text: &str, decimals: u32) -> Result<u64> {
    let units = parse_units(text, decimals)?;
    u64::try_from(units).map_err(|_| anyhow::anyhow!("'{text}' is not a non-negative total below 2^64"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> StatementFile {
        crate::test_support::two_asset_statement()
    }

    #[test]
    fn the_digest_covers_every_field_a_reader_sees() {
        let file = file();
        file.checked_statement().unwrap();
        let statement = file.statement().unwrap();
        assert_eq!((statement.equity.clone(), statement.debt.clone()), (vec![150_000_000, 250_500_000], vec![1, 0]));
        for changed in [
            StatementFile { account_count: 3, ..file.clone() },
            {
                let mut other = file.clone();
                other.assets[1].symbol = "USDC".into();
                other
            },
            {
                let mut other = file.clone();
                other.assets[0].decimals = 9;
                other.assets[0].equity = "1.50".into();
                other
            },
            {
                let mut other = file.clone();
                other.assets.pop();
                other
            },
        ] {
            let err = changed.checked_statement().unwrap_err().to_string();
            assert!(err.contains("not to its digest field"), "{err}");
        }
        let json = serde_json::to_string(&file).unwrap();
        assert_eq!(serde_json::from_str::<StatementFile>(&json).unwrap(), file);
    }

    #[test]
    fn bad_fields_are_named() {
        let mut file = file();
        file.assets[0].equity = "-1".into();
        assert!(format!("{:#}", file.statement().unwrap_err()).contains("asset BTC: equity"));
        let mut file = self::tests::file();
        file.assets.clear();
        assert!(file.statement().unwrap_err().to_string().contains("at least one asset"));
    }
}
