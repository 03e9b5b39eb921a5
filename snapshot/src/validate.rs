//! The semantic rules of a snapshot, shared by the CSV loader and
//! [`Snapshot::new`]: asset rules (symbols, decimals, unit prices,
//! `max_assets`) when the validator is built, account rules (ids, balance
//! bounds, net value, per-asset totals) as accounts are pushed one by one.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::Path;

use crate::bounds::{MAX_BALANCE_UNITS, MAX_DECIMALS, MAX_ID_BYTES, MAX_SYMBOL_BYTES, MAX_TOTAL_UNITS, MAX_UNIT_PRICE};
use crate::decimal::format_units;
use crate::error::{ErrorSink, Location, SnapshotErrors, quote};
use crate::holdings::Balances;
use crate::ids::IdIndex;
use crate::model::{Account, Asset, LoadOptions, Snapshot};
use crate::pricing::{price_scale, unit_price};

/// Validates in-memory data (see [`Snapshot::new`]).
pub(crate) fn validate(
    assets: Vec<Asset>,
    accounts: Vec<Account>,
    options: &LoadOptions,
) -> Result<Snapshot, SnapshotErrors> {
    let mut errors = ErrorSink::default();
    let located = assets.into_iter().enumerate().map(|(i, asset)| {
        let origin = Location { file: "assets.csv".into(), line: i + 2 };
        (asset, origin)
    });
    let mut validator = Validator::new(located.collect(), options, &mut errors);
    if accounts.is_empty() {
        errors.in_file(Path::new("balances*.csv"), no_accounts_message());
    }
    for account in accounts {
        validator.push(account, true, &mut errors);
    }
    validator.finish(errors)
}

/// The message for a snapshot without accounts.
pub(crate) fn no_accounts_message() -> String {
    "snapshot has no accounts".to_owned()
}

/// `units` as `i64` when its absolute value is within [`MAX_BALANCE_UNITS`].
pub(crate) fn balance_in_bounds(units: i128) -> Option<i64> {
    if units.unsigned_abs() <= u128::from(MAX_BALANCE_UNITS) { i64::try_from(units).ok() } else { None }
}

/// The error for a balance beyond [`MAX_BALANCE_UNITS`]; `shown` is how the
/// value is shown (the cell text, or the value).
pub(crate) fn balance_bound_message(asset: &Asset, shown: &str) -> String {
    format!(
        "{}: {shown} is beyond the balance bound: at most {MAX_BALANCE_UNITS} smallest units{} \
         in absolute value",
        asset.symbol,
        in_whole_units(MAX_BALANCE_UNITS, asset),
    )
}

/// ` (1.5 BTC)` for `units` of `asset`, or nothing when the asset's decimals
/// are themselves invalid.
fn in_whole_units(units: u64, asset: &Asset) -> String {
    if asset.decimals <= MAX_DECIMALS {
        format!(" ({} {})", format_units(units.into(), asset.decimals), asset.symbol)
    } else {
        String::new()
    }
}

/// `sum_i balances[i] * unit_prices[i]`, or `None` when it overflows `i128`.
pub(crate) fn net_value(balances: &Balances, unit_prices: &[u64]) -> Option<i128> {
    balances.nonzero().try_fold(0i128, |sum, (asset, units)| {
        sum.checked_add(i128::from(units).checked_mul(i128::from(unit_prices[asset]))?)
    })
}

fn valid_symbol_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// Rule violations of one id, if any.
fn id_problem(id: &str) -> Option<String> {
    if id.is_empty() {
        Some("empty id".to_owned())
    } else if id.len() > MAX_ID_BYTES {
        Some(format!("id {} is {} bytes long, more than the maximum of {MAX_ID_BYTES}", quote(id), id.len()))
    } else if id.chars().any(char::is_control) {
        Some(format!("id {} contains a control character", quote(id)))
    } else {
        None
    }
}

/// Checks assets once, then accounts as they are pushed, and builds the
/// [`Snapshot`].
#[derive(Debug)]
pub(crate) struct Validator {
    assets: Vec<Asset>,
    /// Symbol to index of its first occurrence.
    symbols: HashMap<String, usize>,
    /// Per asset: decimals within [`MAX_DECIMALS`], so its balances can be
    /// parsed and shown.
    usable: Vec<bool>,
    /// Every asset usable and its unit price within bounds, so net values
    /// mean something.
    prices_ok: bool,
    price_scale: u32,
    unit_prices: Vec<u64>,
    accounts: Vec<Account>,
    ids: IdIndex,
    equity_totals: Vec<u64>,
    debt_totals: Vec<u64>,
    /// Per asset, whether the equity / debt total bound was already reported.
    total_reported: Vec<[bool; 2]>,
}

impl Validator {
    /// Checks the assets (each with the location errors about it are
    /// reported at) and prepares to receive accounts.
    pub(crate) fn new(assets: Vec<(Asset, Location)>, options: &LoadOptions, errors: &mut ErrorSink) -> Validator {
        let usable: Vec<bool> = assets.iter().map(|(a, _)| a.decimals <= MAX_DECIMALS).collect();
        let price_scale = price_scale(assets.iter().zip(&usable).filter(|&(_, &ok)| ok).map(|((a, _), _)| a));
        let mut symbols: HashMap<String, usize> = HashMap::new();
        let mut first_seen: Vec<&Location> = Vec::new();
        let mut unit_prices = Vec::with_capacity(assets.len());
        let mut prices_ok = usable.iter().all(|&ok| ok);
        for (index, (asset, origin)) in assets.iter().enumerate() {
            if let Some(max) = options.max_assets.filter(|&max| index == max) {
                errors.at(
                    origin,
                    format!(
                        "asset {} is asset number {}, but the circuit family holds at most {max} \
                         assets (the snapshot lists {})",
                        quote(&asset.symbol),
                        index + 1,
                        assets.len()
                    ),
                );
            }
            if let Some(problem) = symbol_problem(&asset.symbol) {
                errors.at(origin, problem);
            }
            match symbols.entry(asset.symbol.clone()) {
                Entry::Occupied(entry) => errors.at(
                    origin,
                    format!(
                        "duplicate symbol {} (first seen at {})",
                        quote(&asset.symbol),
                        first_seen[*entry.get()].short()
                    ),
                ),
                Entry::Vacant(entry) => {
                    entry.insert(index);
                }
            }
            first_seen.push(origin);
            if !usable[index] {
                errors.at(origin, format!("decimals: {} is more than the maximum of {MAX_DECIMALS}", asset.decimals));
                unit_prices.push(0);
                continue;
            }
            let price = unit_price(asset, price_scale);
            match price.and_then(|p| u64::try_from(p).ok()).filter(|&p| p <= MAX_UNIT_PRICE) {
                Some(price) => unit_prices.push(price),
                None => {
                    prices_ok = false;
                    unit_prices.push(0);
                    let shown = price.map_or_else(|| "more than 2^128".to_owned(), |p| p.to_string());
                    errors.at(
                        origin,
                        format!(
                            "price_usd: unit price of {} ({} USD at {} decimals) is {shown} at \
                             price scale S = {price_scale} (USD per smallest unit times 10^S), \
                             beyond the bound of {MAX_UNIT_PRICE}; S is the largest decimals + \
                             price fraction digits over all assets, so fewer decimals or fewer \
                             price digits fix it",
                            quote(&asset.symbol),
                            asset.price,
                            asset.decimals,
                        ),
                    );
                }
            }
        }
        let count = assets.len();
        Validator {
            assets: assets.into_iter().map(|(asset, _)| asset).collect(),
            symbols,
            usable,
            prices_ok,
            price_scale,
            unit_prices,
            accounts: Vec::new(),
            ids: IdIndex::default(),
            equity_totals: vec![0; count],
            debt_totals: vec![0; count],
            total_reported: vec![[false; 2]; count],
        }
    }

    /// The assets being validated against.
    pub(crate) fn assets(&self) -> &[Asset] {
        &self.assets
    }

    /// The index of the (first) asset with symbol `symbol`.
    pub(crate) fn asset_index(&self, symbol: &str) -> Option<usize> {
        self.symbols.get(symbol).copied()
    }

    /// Whether balances of asset `index` can be parsed (its decimals are
    /// valid).
    pub(crate) fn asset_usable(&self, index: usize) -> bool {
        self.usable[index]
    }

    /// Checks one account and keeps it. `complete` is false when some of its
    /// balances could not be read (they are 0 in `account`): then only the id
    /// and the balances present are checked, not the net value or totals.
    pub(crate) fn push(&mut self, account: Account, complete: bool, errors: &mut ErrorSink) {
        let origin = &account.origin;
        match id_problem(&account.id) {
            Some(problem) => errors.at(origin, problem),
            None => {
                if let Some(first) = self.ids.insert(&account.id, self.accounts.len(), &self.accounts) {
                    errors.at(
                        origin,
                        format!(
                            "duplicate id {} (first seen at {})",
                            quote(&account.id),
                            self.accounts[first].origin.short()
                        ),
                    );
                }
            }
        }
        if account.balances.asset_count() != self.assets.len() {
            errors.at(
                origin,
                format!(
                    "account {} has {} balances but the snapshot has {} assets",
                    quote(&account.id),
                    account.balances.asset_count(),
                    self.assets.len()
                ),
            );
        } else if self.check_balances(&account, errors) && complete {
            self.check_net_value(&account, errors);
            self.add_to_totals(&account, errors);
        }
        self.accounts.push(account);
    }

    /// Reports balances beyond [`MAX_BALANCE_UNITS`]; true when there are none.
    fn check_balances(&self, account: &Account, errors: &mut ErrorSink) -> bool {
        let mut ok = true;
        for (index, units) in account.balances.nonzero() {
            let asset = &self.assets[index];
            if balance_in_bounds(units.into()).is_none() {
                ok = false;
                let shown = if asset.decimals <= MAX_DECIMALS {
                    format!("balance {}", format_units(units.into(), asset.decimals))
                } else {
                    format!("balance of {units} smallest units")
                };
                errors.at(&account.origin, balance_bound_message(asset, &shown));
            }
        }
        ok
    }

    fn check_net_value(&self, account: &Account, errors: &mut ErrorSink) {
        if !self.prices_ok {
            return;
        }
        match net_value(&account.balances, &self.unit_prices) {
            Some(net) if net >= 0 => {}
            Some(net) => errors.at(
                &account.origin,
                format!(
                    "account {} has negative net value {} USD",
                    quote(&account.id),
                    format_units(net, self.price_scale)
                ),
            ),
            None => {
                errors.at(&account.origin, format!("net value of account {} does not fit 128 bits", quote(&account.id)))
            }
        }
    }

    /// Adds the account to the per-asset totals, reporting each asset and kind
    /// the first time its total goes beyond [`MAX_TOTAL_UNITS`].
    fn add_to_totals(&mut self, account: &Account, errors: &mut ErrorSink) {
        for (index, units) in account.balances.nonzero() {
            let asset = &self.assets[index];
            let parts = [
                (&mut self.equity_totals[index], units.max(0).unsigned_abs(), "equity"),
                (&mut self.debt_totals[index], units.min(0).unsigned_abs(), "debt"),
            ];
            for (kind, (total, amount, name)) in parts.into_iter().enumerate() {
                *total = total.saturating_add(amount);
                if *total > MAX_TOTAL_UNITS && !self.total_reported[index][kind] {
                    self.total_reported[index][kind] = true;
                    errors.at(
                        &account.origin,
                        format!(
                            "{}: total {name} of the accounts up to this one exceeds the bound \
                             of {MAX_TOTAL_UNITS} smallest units{}",
                            asset.symbol,
                            in_whole_units(MAX_TOTAL_UNITS, asset),
                        ),
                    );
                }
            }
        }
    }

    /// The snapshot, or every error found.
    pub(crate) fn finish(self, errors: ErrorSink) -> Result<Snapshot, SnapshotErrors> {
        errors.finish(|| Snapshot {
            assets: self.assets,
            accounts: self.accounts,
            price_scale: self.price_scale,
            unit_prices: self.unit_prices,
            equity_totals: self.equity_totals,
            debt_totals: self.debt_totals,
        })
    }
}

/// Rule violations of one symbol, if any.
fn symbol_problem(symbol: &str) -> Option<String> {
    if symbol.is_empty() {
        Some("empty symbol".to_owned())
    } else if symbol.len() > MAX_SYMBOL_BYTES {
        Some(format!(
            "symbol {} is {} bytes long, more than the maximum of {MAX_SYMBOL_BYTES}",
            quote(symbol),
            symbol.len()
        ))
    } else if !symbol.chars().all(valid_symbol_char) {
        Some(format!("symbol {} may only contain A-Z, a-z, 0-9, '.', '_' and '-'", quote(symbol)))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decimal::Price;

    fn asset(symbol: &str, decimals: u32, price: &str) -> Asset {
        Asset { symbol: symbol.to_owned(), decimals, price: Price::parse(price).unwrap() }
    }

    fn account(id: &str, line: usize, balances: Vec<i64>) -> Account {
        Account {
            id: id.to_owned(),
            balances: balances.into(),
            origin: Location { file: "mem/balances.csv".into(), line },
        }
    }

    fn messages(result: Result<Snapshot, SnapshotErrors>) -> Vec<String> {
        result.unwrap_err().errors().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn computes_scale_unit_prices_totals_and_net_values() {
        let assets = vec![asset("BTC", 8, "91234.56"), asset("USDT", 6, "1")];
        let accounts =
            vec![account("alice", 2, vec![50_000_000, -1_000_000]), account("bob", 3, vec![-1, 5_000_000_000])];
        let snapshot = Snapshot::new(assets, accounts, &LoadOptions::default()).unwrap();
        assert_eq!(snapshot.price_scale(), 10);
        // 1 sat = 0.0009123456 USD; 1 micro-USDT = 0.000001 USD.
        assert_eq!(snapshot.unit_prices(), &[9_123_456, 10_000]);
        assert_eq!(snapshot.equity_totals(), &[50_000_000, 5_000_000_000]);
        assert_eq!(snapshot.debt_totals(), &[1, 1_000_000]);
        let alice = &snapshot.accounts()[0];
        // 0.5 BTC - 1 USDT = 45617.28 - 1 USD.
        assert_eq!(snapshot.net_value(alice), 456_162_800_000_000);
        assert_eq!(format_units(snapshot.net_value(alice), 10), "45616.28");
    }

    #[test]
    fn empty_asset_list_has_scale_zero() {
        let snapshot = Snapshot::new(vec![], vec![account("a", 2, vec![])], &LoadOptions::default()).unwrap();
        assert_eq!(snapshot.price_scale(), 0);
        assert_eq!(snapshot.net_value(&snapshot.accounts()[0]), 0);
    }

    #[test]
    fn reports_in_memory_rule_violations_at_origins() {
        let assets = vec![asset("BTC", 8, "2"), asset("B TC", 2, "1"), asset("BTC", 19, "1")];
        let accounts = vec![
            account("a", 2, vec![-1, 0, 0]),
            account("a", 3, vec![0, 0, 0]),
            account("", 4, vec![0, 0, 0]),
            account("b", 5, vec![0]),
            account("c", 6, vec![i64::MIN, 0, 0]),
            account(&"x".repeat(MAX_ID_BYTES + 1), 7, vec![0, 0, 0]),
            account("tab\there", 8, vec![0, 0, 0]),
        ];
        let got = messages(Snapshot::new(assets, accounts, &LoadOptions { max_assets: Some(2) }));
        let expected = [
            "assets.csv:3: symbol 'B TC' may only contain A-Z, a-z, 0-9, '.', '_' and '-'",
            "assets.csv:4: asset 'BTC' is asset number 3, but the circuit family holds at most 2 \
             assets (the snapshot lists 3)",
            "assets.csv:4: duplicate symbol 'BTC' (first seen at assets.csv:2)",
            "assets.csv:4: decimals: 19 is more than the maximum of 18",
            "mem/balances.csv:3: duplicate id 'a' (first seen at balances.csv:2)",
            "mem/balances.csv:4: empty id",
            "mem/balances.csv:5: account 'b' has 1 balances but the snapshot has 3 assets",
            "mem/balances.csv:6: BTC: balance -92233720368.54775808 is beyond the balance \
             bound: at most 281474976710655 smallest units (2814749.76710655 BTC) in absolute \
             value",
            "mem/balances.csv:7: id 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\
             xxxx...' is 129 bytes long, more than the maximum of 128",
            "mem/balances.csv:8: id 'tab\\there' contains a control character",
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn net_value_is_checked_only_with_valid_prices() {
        // The second asset's decimals are invalid, so net values are unknown:
        // no negative-net error, only the decimals error.
        let assets = vec![asset("A", 0, "1"), asset("B", 40, "1")];
        let got = messages(Snapshot::new(assets, vec![account("a", 2, vec![-1, 0])], &LoadOptions::default()));
        assert_eq!(got, ["assets.csv:3: decimals: 40 is more than the maximum of 18"]);
    }

    #[test]
    fn unit_price_bound_is_exact() {
        let max = MAX_UNIT_PRICE.to_string();
        let ok =
            Snapshot::new(vec![asset("A", 0, &max)], vec![account("a", 2, vec![1])], &LoadOptions::default()).unwrap();
        assert_eq!(ok.unit_prices(), &[MAX_UNIT_PRICE]);
        let above = (MAX_UNIT_PRICE + 1).to_string();
        let got = messages(Snapshot::new(
            vec![asset("A", 0, &above)],
            vec![account("a", 2, vec![1])],
            &LoadOptions::default(),
        ));
        assert_eq!(got.len(), 1);
        assert!(got[0].starts_with("assets.csv:2: price_usd: unit price of 'A'"), "{}", got[0]);
        // Another asset's scale pushes a modest price over the bound.
        let got = messages(Snapshot::new(
            vec![asset("A", 0, "5000000000"), asset("B", 18, "0.000001")],
            vec![account("a", 2, vec![1, 1])],
            &LoadOptions::default(),
        ));
        assert_eq!(got.len(), 1);
        assert!(got[0].contains("is 5000000000000000000000000000000000 at price scale S = 24"), "{}", got[0]);
    }

    #[test]
    fn net_value_overflow_is_none() {
        assert_eq!(net_value(&vec![i64::MAX, i64::MAX].into(), &[u64::MAX, u64::MAX]), None);
        assert_eq!(net_value(&vec![-2, 0, 3].into(), &[5, u64::MAX, 7]), Some(11));
    }

    #[test]
    fn balance_bound_helper_is_exact() {
        let max = i128::from(MAX_BALANCE_UNITS);
        assert_eq!(balance_in_bounds(max), Some(MAX_BALANCE_UNITS as i64));
        assert_eq!(balance_in_bounds(-max), Some(-(MAX_BALANCE_UNITS as i64)));
        assert_eq!(balance_in_bounds(max + 1), None);
        assert_eq!(balance_in_bounds(-max - 1), None);
    }
}
