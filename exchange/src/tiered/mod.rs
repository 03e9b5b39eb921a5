//! The exchange side on the sparse, tiered circuits (snapshots of many
//! assets, see `docs/circuits.md`):
//!
//! - [`committed`]: a snapshot turned into a tiered tree with a secret nonce
//!   per user, and the statement it proves;
//! - [`pipeline`]: proves that tree end to end, resumably;
//! - [`user_store`]: what answers any user's inclusion proof later.

pub mod committed;
pub mod pipeline;
pub mod user_proof;
pub mod user_store;

#[cfg(test)]
pub(crate) mod test_support {
    use zkpor_snapshot::decimal::Price;
    use zkpor_snapshot::{Account, Asset, LoadOptions, Location, Snapshot};

    /// A snapshot of users `user0`, `user1`, ... with these balances in
    /// assets `A0`, `A1`, ... (no decimals, price 1).
    pub(crate) fn snapshot_of(balances: &[Vec<i64>]) -> Snapshot {
        let assets = (0..balances[0].len())
            .map(|a| Asset { symbol: format!("A{a}"), decimals: 0, price: Price::parse("1").unwrap() })
            .collect();
        let accounts = balances
            .iter()
            .enumerate()
            .map(|(i, balances)| Account {
                id: format!("user{i}"),
                balances: balances.clone().into(),
                origin: Location { file: "balances.csv".into(), line: i + 2 },
            })
            .collect();
        Snapshot::new(assets, accounts, &LoadOptions::default()).unwrap()
    }
}
