//! The sample snapshot `samples/basic` used by the README loads.

use std::path::Path;

use zkpor_snapshot::decimal::format_units;
use zkpor_snapshot::{LoadOptions, Snapshot};

#[test]
fn sample_snapshot_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/basic");
    let snapshot = Snapshot::load(&dir, &LoadOptions { max_assets: Some(4) })
        .unwrap_or_else(|errors| panic!("samples/basic is invalid:\n{errors}"));
    let symbols: Vec<&str> = snapshot.assets().iter().map(|a| a.symbol.as_str()).collect();
    assert_eq!(symbols, ["BTC", "ETH", "USDT", "SOL"]);
    assert_eq!(snapshot.accounts().len(), 30);
    assert_eq!(snapshot.price_scale(), 10);
    assert_eq!(snapshot.unit_prices(), &[9_123_456, 305_012, 10_000, 1_875]);
    assert_eq!(snapshot.equity_totals(), &[125_574_144_568, 5_875_000_001, 3_045_322_418_902, 666_873_456_790]);
    assert_eq!(snapshot.debt_totals(), &[10_000_000, 300_000_000, 2_950_000_000, 20_000_000_000]);
    let with_debt = snapshot.accounts().iter().filter(|a| (0..4).any(|i| a.debt(i) > 0)).count();
    assert_eq!(with_debt, 6);
    let whale = snapshot.accounts().iter().find(|a| a.id == "walter").unwrap();
    assert_eq!(format_units(snapshot.net_value(whale), 10), "116043200");
    let bob = snapshot.accounts().iter().find(|a| a.id == "bob").unwrap();
    assert_eq!(format_units(snapshot.net_value(bob), 10), "35501.2");
    for account in snapshot.accounts() {
        assert!(snapshot.net_value(account) >= 0, "{}", account.id);
    }
}
