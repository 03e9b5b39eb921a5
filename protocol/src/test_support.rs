//! Fixtures for tests of the crates that read these formats.

use zkpor_circuits::encoding::HashHex;

use crate::statement::{AssetTotals, StatementFile};

/// Sequence 3 of the tiny family: 2 users, BTC and USDT, its digest right.
pub fn two_asset_statement() -> StatementFile {
    let file = StatementFile {
        sequence: 3,
        family: "tiny".into(),
        root: format!("0x{}", "0000000000000001".repeat(4)).parse().expect("a root"),
        account_count: 2,
        batches: 1,
        digest: HashHex(Default::default()),
        assets: vec![
            AssetTotals {
                symbol: "BTC".into(),
                decimals: 8,
                price_usd: "91234.56".into(),
                equity: "1.5".into(),
                debt: "0.00000001".into(),
            },
            AssetTotals {
                symbol: "USDT".into(),
                decimals: 6,
                price_usd: "1".into(),
                equity: "250.5".into(),
                debt: "0".into(),
            },
        ],
    };
    StatementFile { digest: HashHex(file.statement().expect("a valid statement").digest()), ..file }
}
