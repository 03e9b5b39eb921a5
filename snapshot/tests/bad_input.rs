//! Every kind of bad input is rejected with its file, line and a specific
//! message; every error is reported, up to the cap.

use std::fmt::Write as _;
use std::path::Path;

use tempfile::TempDir;
use zkpor_snapshot::bounds::{
    MAX_BALANCE_UNITS, MAX_ID_BYTES, MAX_REPORTED_ERRORS, MAX_SYMBOL_BYTES, MAX_TOTAL_UNITS, MAX_UNIT_PRICE,
};
use zkpor_snapshot::decimal::format_units;
use zkpor_snapshot::{LoadOptions, Snapshot, SnapshotErrors};

const ASSETS: &str = "symbol,decimals,price_usd\nBTC,8,91234.56\nETH,8,3050.12\nUSDT,6,1\n";

/// Writes `files` (name, content) into a fresh directory.
fn write_snapshot(files: &[(&str, &[u8])]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    dir
}

fn load_with(files: &[(&str, &str)], options: &LoadOptions) -> (TempDir, Result<Snapshot, SnapshotErrors>) {
    let bytes: Vec<(&str, &[u8])> = files.iter().map(|(n, c)| (*n, c.as_bytes())).collect();
    let dir = write_snapshot(&bytes);
    let result = Snapshot::load(dir.path(), options);
    (dir, result)
}

/// Loads `files`, which must fail, and returns the errors.
fn errors(files: &[(&str, &str)]) -> SnapshotErrors {
    errors_with(files, &LoadOptions::default())
}

fn errors_with(files: &[(&str, &str)], options: &LoadOptions) -> SnapshotErrors {
    let (dir, result) = load_with(files, options);
    let errors = result.expect_err("the snapshot must be rejected");
    for error in errors.errors() {
        assert!(error.file.starts_with(dir.path()), "{} is not in the snapshot directory", error.file.display());
    }
    errors
}

/// Loads `files`, which must succeed.
fn load_ok(files: &[(&str, &str)]) -> Snapshot {
    let (_dir, result) = load_with(files, &LoadOptions::default());
    result.unwrap_or_else(|errors| panic!("unexpected errors:\n{errors}"))
}

/// Asserts one of the errors is in file `file` at `line` and its message
/// contains `message`.
fn assert_error(errors: &SnapshotErrors, file: &str, line: Option<usize>, message: &str) {
    let found = errors
        .errors()
        .iter()
        .any(|e| e.file.file_name() == Some(file.as_ref()) && e.line == line && e.message.contains(message));
    assert!(found, "no error {file}:{line:?}: {message:?} among:\n{errors}");
}

/// Asserts the errors are exactly `expected` (file name, line, message
/// substring), in order.
fn assert_errors(errors: &SnapshotErrors, expected: &[(&str, Option<usize>, &str)]) {
    assert_eq!(errors.total(), expected.len(), "{errors}");
    assert_eq!(errors.errors().len(), expected.len(), "{errors}");
    for (error, &(file, line, message)) in errors.errors().iter().zip(expected) {
        assert_eq!(error.file.file_name(), Some(file.as_ref()), "{error}");
        assert_eq!(error.line, line, "{error}");
        assert!(error.message.contains(message), "{error:?} does not contain {message:?}");
    }
}

#[test]
fn unknown_symbol_column() {
    let errors = errors(&[("assets.csv", ASSETS), ("balances.csv", "id,BTC,XRP\nalice,1,2\n")]);
    assert_errors(&errors, &[("balances.csv", Some(1), "unknown asset 'XRP' (not in assets.csv)")]);
}

#[test]
fn duplicate_column() {
    let errors = errors(&[("assets.csv", ASSETS), ("balances.csv", "id,BTC,ETH,BTC\nalice,1,2,3\n")]);
    assert_errors(&errors, &[("balances.csv", Some(1), "duplicate column 'BTC'")]);
}

#[test]
fn duplicate_id_in_one_file() {
    let errors = errors(&[("assets.csv", ASSETS), ("balances.csv", "id,BTC\nalice,1\nbob,2\nalice,3\n")]);
    assert_errors(&errors, &[("balances.csv", Some(4), "duplicate id 'alice' (first seen at balances.csv:2)")]);
}

#[test]
fn duplicate_id_across_files() {
    let errors = errors(&[
        ("assets.csv", ASSETS),
        ("balances_1.csv", "id,BTC\ncarol,1\nalice,1\n"),
        ("balances_2.csv", "id,ETH\nalice,2\ndave,1\ncarol,1\n"),
    ]);
    assert_errors(
        &errors,
        &[
            ("balances_2.csv", Some(2), "duplicate id 'alice' (first seen at balances_1.csv:3)"),
            ("balances_2.csv", Some(4), "duplicate id 'carol' (first seen at balances_1.csv:2)"),
        ],
    );
}

#[test]
fn non_numeric_cells() {
    let errors = errors(&[
        ("assets.csv", ASSETS),
        ("balances.csv", "id,BTC,ETH\na,1.2.3,1\nb,1e5,1\nc,.5,1\nd,5.,1\ne,1,abc\nf,1,\"1,5\"\ng,--1,\n"),
    ]);
    assert_errors(
        &errors,
        &[
            ("balances.csv", Some(2), "BTC: '1.2.3' is not a decimal number"),
            ("balances.csv", Some(3), "BTC: '1e5' is not a decimal number"),
            ("balances.csv", Some(4), "BTC: '.5' is not a decimal number"),
            ("balances.csv", Some(5), "BTC: '5.' is not a decimal number"),
            ("balances.csv", Some(6), "ETH: 'abc' is not a decimal number"),
            ("balances.csv", Some(7), "ETH: '1,5' is not a decimal number"),
            ("balances.csv", Some(8), "BTC: '--1' is not a decimal number"),
        ],
    );
}

#[test]
fn every_bad_cell_of_a_row_is_reported() {
    let errors = errors(&[("assets.csv", ASSETS), ("balances.csv", "id,BTC,ETH,USDT\na,x,y,0.1234567\n")]);
    assert_errors(
        &errors,
        &[
            ("balances.csv", Some(2), "BTC: 'x' is not a decimal number"),
            ("balances.csv", Some(2), "ETH: 'y' is not a decimal number"),
            ("balances.csv", Some(2), "USDT: '0.1234567' has 7 fractional digits but USDT has 6 decimals"),
        ],
    );
}

#[test]
fn empty_id() {
    let errors = errors(&[("assets.csv", ASSETS), ("balances.csv", "id,BTC\nalice,1\n  ,2\n,3\n")]);
    assert_errors(&errors, &[("balances.csv", Some(3), "empty id"), ("balances.csv", Some(4), "empty id")]);
}

#[test]
fn id_too_long_or_with_control_characters() {
    let long = "x".repeat(MAX_ID_BYTES + 1);
    let at_limit = "y".repeat(MAX_ID_BYTES);
    let content = format!("id,BTC\n{long},1\n{at_limit},1\n\"a\tb\",1\n");
    let errors = errors(&[("assets.csv", ASSETS), ("balances.csv", &content)]);
    assert_errors(
        &errors,
        &[
            ("balances.csv", Some(2), &format!("bytes long, more than the maximum of {MAX_ID_BYTES}")),
            ("balances.csv", Some(4), "id 'a\\tb' contains a control character"),
        ],
    );
}

#[test]
fn wrong_number_of_fields() {
    let errors =
        errors(&[("assets.csv", ASSETS), ("balances.csv", "id,BTC,ETH\nalice,1\nbob,1,2,3\ncarol,1,2\ndave\n")]);
    assert_errors(
        &errors,
        &[
            ("balances.csv", Some(2), "row has 2 fields but the header has 3"),
            ("balances.csv", Some(3), "row has 4 fields but the header has 3"),
            ("balances.csv", Some(5), "row has 1 fields but the header has 3"),
        ],
    );
}

#[test]
fn more_fraction_digits_than_decimals() {
    let errors = errors(&[
        ("assets.csv", ASSETS),
        ("balances.csv", "id,BTC,USDT\nalice,0.123456789,1\nbob,0.12345678,1.0000001\n"),
    ]);
    assert_errors(
        &errors,
        &[
            ("balances.csv", Some(2), "BTC: '0.123456789' has 9 fractional digits but BTC has 8 decimals"),
            ("balances.csv", Some(3), "USDT: '1.0000001' has 7 fractional digits but USDT has 6 decimals"),
        ],
    );
}

#[test]
fn trailing_fraction_zeros_do_not_count_as_digits() {
    let snapshot = load_ok(&[("assets.csv", ASSETS), ("balances.csv", "id,USDT\nalice,1.50000000000\n")]);
    assert_eq!(snapshot.accounts()[0].balances.to_dense(), vec![0, 0, 1_500_000]);
}

#[test]
fn balance_beyond_bound() {
    let max_btc = format_units(MAX_BALANCE_UNITS.into(), 8);
    assert_eq!(max_btc, "2814749.76710655");
    let content = "id,BTC,USDT\nalice,2814749.76710656,1\nbob,-2814749.76710656,1\n\
                   carol,1,99999999999999999999999999999999999999999999\n";
    let errors = errors(&[("assets.csv", ASSETS), ("balances.csv", content)]);
    let bound = format!(
        "is beyond the balance bound: at most {MAX_BALANCE_UNITS} smallest units ({max_btc} BTC) in absolute value"
    );
    assert_errors(
        &errors,
        &[
            ("balances.csv", Some(2), &format!("BTC: '2814749.76710656' {bound}")),
            ("balances.csv", Some(3), &format!("BTC: '-2814749.76710656' {bound}")),
            (
                "balances.csv",
                Some(4),
                "USDT: '99999999999999999999999999999999999999999999' is beyond the balance bound: at most 281474976710655 smallest units (281474976.710655 USDT)",
            ),
        ],
    );
}

#[test]
fn balance_exactly_at_bound_loads() {
    let content = "id,BTC,ETH\nalice,2814749.76710655,\nbob,2814749.76710655,-2814749.76710655\n";
    let snapshot = load_ok(&[("assets.csv", ASSETS), ("balances.csv", content)]);
    let max = MAX_BALANCE_UNITS as i64;
    assert_eq!(snapshot.accounts()[1].balances.to_dense(), vec![max, -max, 0]);
    assert_eq!(snapshot.equity_totals(), &[2 * MAX_BALANCE_UNITS, 0, 0]);
    assert_eq!(snapshot.debt_totals(), &[0, MAX_BALANCE_UNITS, 0]);
}

#[test]
fn price_beyond_unit_price_bound() {
    // A huge price at 0 decimals.
    let over = (MAX_UNIT_PRICE + 1).to_string();
    let assets = format!("symbol,decimals,price_usd\nUSDT,0,1\nGOLD,0,{over}\nOK,0,{MAX_UNIT_PRICE}\n");
    let errors = errors(&[("assets.csv", &assets), ("balances.csv", "id,USDT\na,1\n")]);
    assert_errors(
        &errors,
        &[(
            "assets.csv",
            Some(3),
            &format!("price_usd: unit price of 'GOLD' ({over} USD at 0 decimals) is {over} at price scale S = 0"),
        )],
    );
    assert!(errors.errors()[0].message.contains("fewer decimals or fewer price digits"));
    assert!(errors.errors()[0].message.contains(&format!("beyond the bound of {MAX_UNIT_PRICE}")));
}

#[test]
fn price_scale_of_other_assets_pushes_a_price_beyond_the_bound() {
    // SHIB makes S = 18 + 18 = 36; BTC's unit price becomes 9123456 * 10^26.
    let assets = "symbol,decimals,price_usd\nBTC,8,91234.56\nSHIB,18,0.000012345678901234\n";
    let errors = errors(&[("assets.csv", assets), ("balances.csv", "id,BTC\na,1\n")]);
    assert_errors(
        &errors,
        &[(
            "assets.csv",
            Some(2),
            "price_usd: unit price of 'BTC' (91234.56 USD at 8 decimals) is 912345600000000000000000000000000 at price scale S = 36",
        )],
    );
}

#[test]
fn unit_price_overflowing_u128_is_beyond_the_bound() {
    let assets = "symbol,decimals,price_usd\nA,0,100000000000000000000\nB,18,0.000000000000000001\n";
    let errors = errors(&[("assets.csv", assets), ("balances.csv", "id,A\na,1\n")]);
    assert_errors(
        &errors,
        &[(
            "assets.csv",
            Some(2),
            "unit price of 'A' (100000000000000000000 USD at 0 decimals) is more than 2^128 at price scale S = 36",
        )],
    );
}

#[test]
fn negative_net_value() {
    // -0.0001 BTC + 9 USDT = -9.123456 + 9 = -0.123456 USD.
    let errors = errors(&[
        ("assets.csv", ASSETS),
        ("balances.csv", "id,BTC,USDT\nalice,1,\nbob,-0.0001,9\ncarol,-1,91234.56\n"),
    ]);
    assert_errors(&errors, &[("balances.csv", Some(3), "account 'bob' has negative net value -0.123456 USD")]);
}

#[test]
fn zero_price_assets_count_nothing() {
    let assets = "symbol,decimals,price_usd\nUSDT,6,1\nJUNK,2,0\n";
    let errors = errors(&[("assets.csv", assets), ("balances.csv", "id,USDT,JUNK\na,1,-5\nb,0,5\nc,-0.000001,5\n")]);
    assert_errors(&errors, &[("balances.csv", Some(4), "account 'c' has negative net value -0.000001 USD")]);
}

#[test]
fn missing_assets_file() {
    let errors = errors(&[("balances.csv", "id,BTC,XRP\nalice,1,2\n")]);
    // Without assets.csv no column can be called unknown: one error only.
    assert_errors(&errors, &[("assets.csv", None, "file not found")]);
    assert_eq!(errors.errors()[0].message, "file not found");
}

#[test]
fn missing_directory() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let errors = Snapshot::load(&missing, &LoadOptions::default()).unwrap_err();
    assert_error(&errors, "assets.csv", None, "file not found");
    assert_error(&errors, "nope", None, "cannot read snapshot directory");
    assert_eq!(errors.errors()[0].file, missing);
}

#[test]
fn no_balances_files() {
    let errors = errors(&[("assets.csv", ASSETS), ("balance.csv", "id,BTC\na,1\n"), ("balances.txt", "")]);
    assert_errors(
        &errors,
        &[("balances*.csv", None, "no balances file found (expected at least one file named balances*.csv)")],
    );
}

#[test]
fn zero_accounts() {
    let errors = errors(&[("assets.csv", ASSETS), ("balances_1.csv", "id,BTC\n"), ("balances_2.csv", "id,BTC\n\n\n")]);
    assert_errors(&errors, &[("balances*.csv", None, "snapshot has no accounts")]);
}

#[test]
fn empty_files() {
    let errors = errors(&[("assets.csv", ""), ("balances.csv", "")]);
    assert_errors(
        &errors,
        &[
            ("assets.csv", None, "file is empty (expected the header 'symbol,decimals,price_usd')"),
            // Errors are sorted by path, and '*' sorts before '.'.
            ("balances*.csv", None, "snapshot has no accounts"),
            ("balances.csv", None, "file is empty (expected the header 'id,<symbol>,...')"),
        ],
    );
}

#[test]
fn more_assets_than_the_circuit_family_holds() {
    let mut assets = String::from("symbol,decimals,price_usd\n");
    for symbol in ["BTC", "ETH", "USDT", "SOL", "BNB", "ADA", "DOT", "TRX", "XRP", "LTC"] {
        writeln!(assets, "{symbol},2,1").unwrap();
    }
    let files = [("assets.csv", assets.as_str()), ("balances.csv", "id,BTC\na,1\n")];
    let errors = errors_with(&files, &LoadOptions { max_assets: Some(8) });
    assert_errors(
        &errors,
        &[(
            "assets.csv",
            Some(10),
            "asset 'XRP' is asset number 9, but the circuit family holds at most 8 assets (the snapshot lists 10)",
        )],
    );
    let (_dir, ok) = load_with(&files, &LoadOptions { max_assets: Some(10) });
    assert_eq!(ok.unwrap().assets().len(), 10);
}

#[test]
fn bad_assets_header() {
    let errors = errors(&[("assets.csv", "symbol,decimals,price\nBTC,8,1\n"), ("balances.csv", "id,BTC\na,1\n")]);
    assert_errors(
        &errors,
        &[("assets.csv", Some(1), "header must be exactly 'symbol,decimals,price_usd', found 'symbol,decimals,price'")],
    );
}

#[test]
fn bad_balances_header() {
    let errors = errors(&[("assets.csv", ASSETS), ("balances.csv", "user,BTC,\na,1,\n")]);
    assert_errors(
        &errors,
        &[
            ("balances.csv", Some(1), "first header column must be 'id', found 'user'"),
            ("balances.csv", Some(1), "header column 3 is empty"),
        ],
    );
}

#[test]
fn duplicate_symbol() {
    let assets = "symbol,decimals,price_usd\nBTC,8,1\nETH,8,1\nBTC,8,2\n";
    let errors = errors(&[("assets.csv", assets), ("balances.csv", "id,BTC\na,1\n")]);
    assert_errors(&errors, &[("assets.csv", Some(4), "duplicate symbol 'BTC' (first seen at assets.csv:2)")]);
}

#[test]
fn bad_symbols() {
    let long = "S".repeat(MAX_SYMBOL_BYTES + 1);
    let ok_long = "T".repeat(MAX_SYMBOL_BYTES);
    let assets =
        format!("symbol,decimals,price_usd\nB TC,8,1\n,2,1\n{long},2,1\n{ok_long},2,1\nA.b_c-9,2,1\nÉTH,2,1\n");
    let errors = errors(&[("assets.csv", &assets), ("balances.csv", "id,A.b_c-9\na,1\n")]);
    assert_errors(
        &errors,
        &[
            ("assets.csv", Some(2), "symbol 'B TC' may only contain A-Z, a-z, 0-9, '.', '_' and '-'"),
            ("assets.csv", Some(3), "empty symbol"),
            (
                "assets.csv",
                Some(4),
                &format!("is {} bytes long, more than the maximum of {MAX_SYMBOL_BYTES}", MAX_SYMBOL_BYTES + 1),
            ),
            ("assets.csv", Some(7), "symbol 'ÉTH' may only contain"),
        ],
    );
}

#[test]
fn bad_decimals() {
    let assets = "symbol,decimals,price_usd\nA,x,1\nB,19,1\nC,-1,1\nD,,1\nE,8.0,1\nF,18,1\n";
    let errors = errors(&[("assets.csv", assets), ("balances.csv", "id,F\na,0.0001\n")]);
    assert_errors(
        &errors,
        &[
            ("assets.csv", Some(2), "decimals: 'x' is not an integer from 0 to 18"),
            ("assets.csv", Some(3), "decimals: 19 is more than the maximum of 18"),
            ("assets.csv", Some(4), "decimals: '-1' is not an integer from 0 to 18"),
            ("assets.csv", Some(5), "decimals: '' is not an integer from 0 to 18"),
            ("assets.csv", Some(6), "decimals: '8.0' is not an integer from 0 to 18"),
        ],
    );
}

#[test]
fn bad_prices() {
    let too_precise = format!("0.{}1", "0".repeat(18));
    let assets = format!(
        "symbol,decimals,price_usd\nA,2,-5\nB,2,abc\nC,2,1e3\nD,2,{too_precise}\nE,2,\nF,2,+1\nG,2,1.\nH,2,0\n"
    );
    let errors = errors(&[("assets.csv", &assets), ("balances.csv", "id,H\na,1\n")]);
    assert_errors(
        &errors,
        &[
            ("assets.csv", Some(2), "price_usd: '-5' is negative"),
            ("assets.csv", Some(3), "price_usd: 'abc' is not a decimal number"),
            ("assets.csv", Some(4), "price_usd: '1e3' is not a decimal number"),
            (
                "assets.csv",
                Some(5),
                &format!("price_usd: '{too_precise}' has 19 fractional digits but at most 18 are allowed"),
            ),
            ("assets.csv", Some(6), "price_usd: '' is not a decimal number"),
            ("assets.csv", Some(7), "price_usd: '+1' is not a decimal number"),
            ("assets.csv", Some(8), "price_usd: '1.' is not a decimal number"),
        ],
    );
}

#[test]
fn bad_asset_rows_do_not_cause_unknown_column_errors() {
    let assets = "symbol,decimals,price_usd\nBTC,8,1\nETH,x,1\nSOL\n";
    let errors = errors(&[("assets.csv", assets), ("balances.csv", "id,BTC,ETH,SOL\na,1,zzz,2\n")]);
    assert_errors(
        &errors,
        &[
            ("assets.csv", Some(3), "decimals: 'x' is not an integer"),
            ("assets.csv", Some(4), "row has 1 fields but the header has 3"),
        ],
    );
}

#[test]
fn totals_beyond_bound_are_reported_once_per_asset_and_kind() {
    // Each account holds the largest balance; the total passes the bound with
    // account number MAX_TOTAL_UNITS / MAX_BALANCE_UNITS + 1.
    let crossing = (MAX_TOTAL_UNITS / MAX_BALANCE_UNITS + 1) as usize;
    let max = MAX_BALANCE_UNITS;
    let mut content = String::from("id,A,B\n");
    for i in 1..=crossing + 10 {
        writeln!(content, "u{i},{max},-{max}").unwrap();
    }
    let assets = "symbol,decimals,price_usd\nA,0,1\nB,0,0\n";
    let errors = errors(&[("assets.csv", assets), ("balances.csv", &content)]);
    let line = crossing + 1;
    assert_errors(
        &errors,
        &[
            (
                "balances.csv",
                Some(line),
                &format!(
                    "A: total equity of the accounts up to this one exceeds the bound of {MAX_TOTAL_UNITS} smallest units"
                ),
            ),
            (
                "balances.csv",
                Some(line),
                &format!(
                    "B: total debt of the accounts up to this one exceeds the bound of {MAX_TOTAL_UNITS} smallest units ({MAX_TOTAL_UNITS} B)"
                ),
            ),
        ],
    );
    // One account fewer stays within the bound.
    let just_below: String = content.lines().take(crossing).map(|l| format!("{l}\n")).collect();
    let snapshot = load_ok(&[("assets.csv", assets), ("balances.csv", &just_below)]);
    assert_eq!(snapshot.equity_totals(), &[(crossing as u64 - 1) * max, 0]);
}

#[test]
fn non_utf8_cells() {
    let dir =
        write_snapshot(&[("assets.csv", ASSETS.as_bytes()), ("balances.csv", b"id,BTC\n\xFFbob,1\ncarol,\xFE\n")]);
    let errors = Snapshot::load(dir.path(), &LoadOptions::default()).unwrap_err();
    assert_errors(
        &errors,
        &[
            ("balances.csv", Some(2), "id is not valid UTF-8"),
            ("balances.csv", Some(3), "BTC: cell is not valid UTF-8"),
        ],
    );
}

#[test]
fn all_errors_in_all_files_are_reported() {
    let assets = "symbol,decimals,price_usd\nBTC,8,91234.56\nETH,eight,3050.12\nUSDT,6,-1\nSOL,9,187.5\n";
    let errors = errors(&[
        ("assets.csv", assets),
        ("balances_1.csv", "id,BTC,SOL\nalice,1.2.3,1\nbob,1,\nbob,2,\n"),
        ("balances_2.csv", "id,SOL,DOGE\n\ncarol,-1,5\ndave,1\nalice,0.0000000001,\n"),
        ("balances_3.csv", "id,BTC,SOL\nerin,-1,1\n"),
    ]);
    assert_errors(
        &errors,
        &[
            ("assets.csv", Some(3), "decimals: 'eight' is not an integer from 0 to 18"),
            ("assets.csv", Some(4), "price_usd: '-1' is negative"),
            ("balances_1.csv", Some(2), "BTC: '1.2.3' is not a decimal number"),
            ("balances_1.csv", Some(4), "duplicate id 'bob' (first seen at balances_1.csv:3)"),
            ("balances_2.csv", Some(1), "unknown asset 'DOGE' (not in assets.csv)"),
            ("balances_2.csv", Some(4), "row has 2 fields but the header has 3"),
            ("balances_2.csv", Some(5), "SOL: '0.0000000001' has 10 fractional digits but SOL has 9 decimals"),
            ("balances_2.csv", Some(5), "duplicate id 'alice' (first seen at balances_1.csv:2)"),
            // carol's net value (-1 SOL and an unreadable DOGE column) is not
            // judged; erin's is (BTC and SOL are valid assets).
            ("balances_3.csv", Some(2), "account 'erin' has negative net value -91047.06 USD"),
        ],
    );
}

#[test]
fn reported_errors_are_capped_but_all_counted() {
    let total = MAX_REPORTED_ERRORS + 50;
    let mut content = String::from("id,BTC\n");
    for i in 0..total {
        writeln!(content, "user{i},not-a-number").unwrap();
    }
    let errors = errors(&[("assets.csv", ASSETS), ("balances.csv", &content)]);
    assert_eq!(errors.total(), total);
    assert_eq!(errors.errors().len(), MAX_REPORTED_ERRORS);
    for (i, error) in errors.errors().iter().enumerate() {
        assert_eq!(error.line, Some(i + 2));
    }
    let text = errors.to_string();
    assert_eq!(text.lines().count(), MAX_REPORTED_ERRORS + 2, "{text}");
    assert!(text.contains("\n... and 50 more errors\n"), "{text}");
    assert!(text.ends_with(&format!("{total} errors in snapshot")), "{text}");
    let first = format!("{}:2: BTC: 'not-a-number' is not a decimal number\n", errors.errors()[0].file.display());
    assert!(text.starts_with(&first), "{text}");
}

#[test]
fn valid_snapshot_with_two_files_has_exact_totals() {
    let snapshot = load_ok(&[
        ("assets.csv", ASSETS),
        ("balances_2.csv", "id,USDT,BTC\ncarol,-100.5,0.01\n\n dave , 7 ,\n"),
        ("balances_1.csv", "id,BTC,ETH,USDT\nalice,0.5,-1.2,1000\nbob,,2,\n"),
    ]);
    assert_eq!(snapshot.price_scale(), 10);
    assert_eq!(snapshot.unit_prices(), &[9_123_456, 305_012, 10_000]);
    let ids: Vec<&str> = snapshot.accounts().iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["alice", "bob", "carol", "dave"]);
    let lines: Vec<(String, usize)> = snapshot
        .accounts()
        .iter()
        .map(|a| (a.origin.file.file_name().unwrap().to_string_lossy().into_owned(), a.origin.line))
        .collect();
    assert_eq!(
        lines,
        [
            ("balances_1.csv".to_owned(), 2),
            ("balances_1.csv".to_owned(), 3),
            ("balances_2.csv".to_owned(), 2),
            ("balances_2.csv".to_owned(), 4),
        ]
    );
    assert_eq!(snapshot.accounts()[0].balances.to_dense(), vec![50_000_000, -120_000_000, 1_000_000_000]);
    assert_eq!(snapshot.accounts()[2].balances.to_dense(), vec![1_000_000, 0, -100_500_000]);
    assert_eq!(snapshot.equity_totals(), &[51_000_000, 200_000_000, 1_007_000_000]);
    assert_eq!(snapshot.debt_totals(), &[0, 120_000_000, 100_500_000]);
    assert_eq!(snapshot.accounts()[0].equity(0), 50_000_000);
    assert_eq!(snapshot.accounts()[0].debt(1), 120_000_000);
    assert_eq!(snapshot.accounts()[0].debt(0), 0);
    // alice: 45617.28 - 3660.144 + 1000 USD.
    let alice = snapshot.net_value(&snapshot.accounts()[0]);
    assert_eq!(format_units(alice, snapshot.price_scale()), "42957.136");
    // carol: 912.3456 - 100.5 USD.
    let carol = snapshot.net_value(&snapshot.accounts()[2]);
    assert_eq!(format_units(carol, snapshot.price_scale()), "811.8456");
}

#[test]
fn bom_whitespace_quotes_and_blank_lines_are_handled() {
    let assets = "\u{feff}symbol, decimals ,price_usd\r\n BTC ,8, 91234.56\r\n\r\nUSDT,6,1\r\n";
    let balances =
        "\u{feff}id, USDT,BTC\r\n\r\n\"alice\", 1 ,\"0.5\"\r\n\r\n\"bob, jr\" ,2,-0.00000001\r\ncarol,\" \",x\r\n";
    let errors = errors(&[("assets.csv", assets), ("balances.csv", balances)]);
    // Physical line numbers count the blank lines.
    assert_errors(&errors, &[("balances.csv", Some(6), "BTC: 'x' is not a decimal number")]);
    let fixed = balances.replace(",x\r\n", ",0\r\n");
    let snapshot = load_ok(&[("assets.csv", assets), ("balances.csv", &fixed)]);
    assert_eq!(snapshot.assets()[0].symbol, "BTC");
    let accounts = snapshot.accounts();
    assert_eq!(accounts.len(), 3);
    assert_eq!(accounts[0].id, "alice");
    assert_eq!(accounts[0].balances.to_dense(), vec![50_000_000, 1_000_000]);
    assert_eq!(accounts[1].id, "bob, jr");
    assert_eq!(accounts[1].origin.line, 5);
}

#[test]
fn error_paths_join_the_given_directory() {
    let dir = write_snapshot(&[("assets.csv", ASSETS.as_bytes()), ("balances.csv", b"id,BTC\na,x\n")]);
    let errors = Snapshot::load(dir.path(), &LoadOptions::default()).unwrap_err();
    let error = &errors.errors()[0];
    assert_eq!(error.file, dir.path().join("balances.csv"));
    assert_eq!(
        error.to_string(),
        format!("{}:2: BTC: 'x' is not a decimal number", Path::new(&dir.path().join("balances.csv")).display())
    );
}
