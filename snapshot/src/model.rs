//! The validated snapshot and the records it is made of.

use std::path::Path;

use crate::decimal::Price;
use crate::error::{Location, SnapshotErrors};
use crate::holdings::Balances;

/// One asset of `assets.csv`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Asset {
    /// Ticker such as `BTC`: 1 to [`MAX_SYMBOL_BYTES`](crate::bounds::MAX_SYMBOL_BYTES)
    /// bytes of `[A-Za-z0-9._-]`, unique in the snapshot.
    pub symbol: String,
    /// Fractional digits of one whole unit: balances are stored in units of
    /// `10^-decimals`. At most [`MAX_DECIMALS`](crate::bounds::MAX_DECIMALS).
    pub decimals: u32,
    /// USD price of one whole unit.
    pub price: Price,
}

/// One user's balances.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// The user id, unique in the snapshot.
    pub id: String,
    /// Balance per asset, indexed like [`Snapshot::assets`], in the asset's
    /// smallest units; negative is debt, positive equity.
    pub balances: Balances,
    /// Where the account was read (or, when built in memory, where errors
    /// about it are reported).
    pub origin: Location,
}

impl Account {
    /// The positive part of the balance of asset `asset`, in smallest units.
    ///
    /// # Panics
    /// If `asset` is not an index into [`Account::balances`].
    pub fn equity(&self, asset: usize) -> u64 {
        self.balances.get(asset).max(0).unsigned_abs()
    }

    /// The negative part of the balance of asset `asset` as a non-negative
    /// number of smallest units.
    ///
    /// # Panics
    /// If `asset` is not an index into [`Account::balances`].
    pub fn debt(&self, asset: usize) -> u64 {
        self.balances.get(asset).min(0).unsigned_abs()
    }
}

/// Limits that depend on how the snapshot will be used.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Most assets the circuit family can hold; `None` for no limit. A
    /// snapshot listing more is refused once, at the first asset past it.
    pub max_assets: Option<usize>,
}

/// A snapshot that passed every rule: all bounds respected, unique ids,
/// no account with a negative net value.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub(crate) assets: Vec<Asset>,
    pub(crate) accounts: Vec<Account>,
    pub(crate) price_scale: u32,
    pub(crate) unit_prices: Vec<u64>,
    pub(crate) equity_totals: Vec<u64>,
    pub(crate) debt_totals: Vec<u64>,
}

impl Snapshot {
    /// Reads and validates the snapshot in directory `dir`: `assets.csv` and
    /// every `balances*.csv`, in sorted file-name order.
    ///
    /// # Errors
    /// Every problem found (see [`SnapshotErrors`]), each located at the file
    /// and line where it occurs; file names in the errors are `dir` joined
    /// with the file's name. Checking goes on past a bad cell, row or file
    /// wherever the rest can still be judged.
    pub fn load(dir: &Path, options: &LoadOptions) -> Result<Snapshot, SnapshotErrors> {
        crate::load::load(dir, options)
    }

    /// Validates already-parsed data with the same rules as [`Snapshot::load`].
    ///
    /// Errors about asset `i` are located at `assets.csv` line `i + 2` (as if
    /// read from a file with a header), errors about an account at its
    /// [`Account::origin`], and an empty account list is an error on
    /// `balances*.csv`.
    ///
    /// # Errors
    /// Every rule violation found, as for [`Snapshot::load`]; an account
    /// whose number of balances differs from the number of assets is one too.
    pub fn new(assets: Vec<Asset>, accounts: Vec<Account>, options: &LoadOptions) -> Result<Snapshot, SnapshotErrors> {
        crate::validate::validate(assets, accounts, options)
    }

    /// The assets, in `assets.csv` order.
    pub fn assets(&self) -> &[Asset] {
        &self.assets
    }

    /// The accounts, in file order (files in sorted name order).
    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// The common price scale `S`: the largest `decimals + price fraction
    /// digits` over all assets (0 without assets). Values in
    /// [`Snapshot::unit_prices`] and [`Snapshot::net_value`] are in units of
    /// `10^-S` USD.
    pub fn price_scale(&self) -> u32 {
        self.price_scale
    }

    /// Per asset, the USD value of one smallest unit times `10^S`, exact;
    /// each at most [`MAX_UNIT_PRICE`](crate::bounds::MAX_UNIT_PRICE).
    pub fn unit_prices(&self) -> &[u64] {
        &self.unit_prices
    }

    /// Per asset, the sum of all positive balances, in smallest units; each
    /// at most [`MAX_TOTAL_UNITS`](crate::bounds::MAX_TOTAL_UNITS).
    pub fn equity_totals(&self) -> &[u64] {
        &self.equity_totals
    }

    /// Per asset, the sum of all debts (absolute values of negative
    /// balances), in smallest units; each at most
    /// [`MAX_TOTAL_UNITS`](crate::bounds::MAX_TOTAL_UNITS).
    pub fn debt_totals(&self) -> &[u64] {
        &self.debt_totals
    }

    /// The account's net value `sum_i balance_i * unit_price_i`, in units of
    /// `10^-S` USD (see [`Snapshot::price_scale`]). Non-negative for every
    /// account of the snapshot.
    ///
    /// # Panics
    /// If the account has not one balance per asset of this snapshot, or its
    /// value does not fit `i128` (impossible for balances within
    /// [`MAX_BALANCE_UNITS`](crate::bounds::MAX_BALANCE_UNITS)).
    pub fn net_value(&self, account: &Account) -> i128 {
        assert_eq!(
            account.balances.asset_count(),
            self.assets.len(),
            "account '{}' does not belong to this snapshot",
            account.id
        );
        crate::validate::net_value(&account.balances, &self.unit_prices).expect("net value of an account fits i128")
    }
}
