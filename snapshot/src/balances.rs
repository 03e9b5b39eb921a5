//! Reader of the `balances*.csv` files: finding them, mapping header columns
//! to assets, parsing cells into smallest units, and handing each account to
//! the validator as soon as its row is read.

use std::path::{Path, PathBuf};

use crate::assets::AssetsFile;
use crate::csvfile::{CsvFile, field};
use crate::decimal::{DecimalError, parse_units};
use crate::error::{ErrorSink, quote};
use crate::holdings::Balances;
use crate::model::{Account, Asset};
use crate::validate::{Validator, balance_bound_message, balance_in_bounds};

/// Names of balances files: `balances*.csv`.
pub(crate) const FILE_PATTERN: &str = "balances*.csv";
const PREFIX: &str = "balances";
const SUFFIX: &str = ".csv";

/// The balances files of `dir`, sorted by name; `None` when the directory
/// cannot be listed (reported).
pub(crate) fn find_files(dir: &Path, errors: &mut ErrorSink) -> Option<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            errors.in_file(dir, format!("cannot read snapshot directory: {error}"));
            return None;
        }
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                errors.in_file(dir, format!("cannot read snapshot directory: {error}"));
                return None;
            }
        };
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.len() >= PREFIX.len() + SUFFIX.len()
            && name.starts_with(PREFIX)
            && name.ends_with(SUFFIX)
            && entry.path().is_file()
        {
            names.push(name.to_owned());
        }
    }
    names.sort();
    Some(names.into_iter().map(|name| dir.join(name)).collect())
}

/// What a header column holds.
#[derive(Clone, Copy, Debug)]
enum Column {
    /// Balances of this asset index.
    Asset(usize),
    /// A column whose cells cannot be read (bad column, reported; or an asset
    /// whose own row in `assets.csv` is bad).
    Skip,
}

/// Reads one balances file, pushing every account to `validator`. Returns
/// how many data rows the file has.
pub(crate) fn read(path: &Path, assets_file: &AssetsFile, validator: &mut Validator, errors: &mut ErrorSink) -> usize {
    let Some(mut file) = CsvFile::open(path, errors) else {
        return 0;
    };
    if !file.header("id,<symbol>,...", errors) {
        return 0;
    }
    let columns = read_header(&file, assets_file, validator, errors);
    let all_columns_read = columns.iter().all(|c| matches!(c, Column::Asset(_)));
    let mut rows = 0;
    while file.next(errors) {
        rows += 1;
        read_row(&file, &columns, all_columns_read, validator, errors);
    }
    rows
}

/// Maps the header's columns (after `id`) to assets, reporting bad columns.
fn read_header(file: &CsvFile, assets_file: &AssetsFile, validator: &Validator, errors: &mut ErrorSink) -> Vec<Column> {
    let header = file.record();
    let origin = file.location();
    match field(header, 0) {
        Some("id") => {}
        Some(found) => errors.at(&origin, format!("first header column must be 'id', found {}", quote(found))),
        None => errors.at(&origin, "first header column is not valid UTF-8".to_owned()),
    }
    let mut seen: Vec<&str> = Vec::new();
    let mut columns = Vec::with_capacity(header.len().saturating_sub(1));
    for index in 1..header.len() {
        let column = match field(header, index) {
            None => {
                errors.at(&origin, format!("header column {} is not valid UTF-8", index + 1));
                Column::Skip
            }
            Some("") => {
                errors.at(&origin, format!("header column {} is empty", index + 1));
                Column::Skip
            }
            Some(name) if seen.contains(&name) => {
                errors.at(&origin, format!("duplicate column {}", quote(name)));
                Column::Skip
            }
            Some(name) => {
                seen.push(name);
                match validator.asset_index(name) {
                    Some(asset) if validator.asset_usable(asset) => Column::Asset(asset),
                    // Its assets.csv row has an error already.
                    Some(_) => Column::Skip,
                    None if !assets_file.complete || assets_file.broken_symbols.contains(name) => Column::Skip,
                    None => {
                        errors.at(&origin, format!("unknown asset {} (not in assets.csv)", quote(name)));
                        Column::Skip
                    }
                }
            }
        };
        columns.push(column);
    }
    columns
}

/// Reads one data row and pushes its account.
fn read_row(
    file: &CsvFile,
    columns: &[Column],
    all_columns_read: bool,
    validator: &mut Validator,
    errors: &mut ErrorSink,
) {
    let record = file.record();
    let origin = file.location();
    if record.len() != columns.len() + 1 {
        errors.at(&origin, format!("row has {} fields but the header has {}", record.len(), columns.len() + 1));
        return;
    }
    let Some(id) = field(record, 0) else {
        errors.at(&origin, "id is not valid UTF-8".to_owned());
        return;
    };
    let mut balances = vec![0i64; validator.assets().len()];
    let mut complete = all_columns_read;
    for (index, column) in columns.iter().enumerate() {
        let Column::Asset(asset_index) = *column else {
            continue;
        };
        let asset = &validator.assets()[asset_index];
        let parsed = match field(record, index + 1) {
            None => Err(format!("{}: cell is not valid UTF-8", asset.symbol)),
            Some("") => Ok(0),
            Some(text) => parse_cell(text, asset),
        };
        match parsed {
            Ok(units) => balances[asset_index] = units,
            Err(message) => {
                errors.at(&origin, message);
                complete = false;
            }
        }
    }
    let account = Account { id: id.to_owned(), balances: Balances::from_dense(&balances), origin };
    validator.push(account, complete, errors);
}

/// A non-empty balance cell of `asset`, in smallest units within the bound.
fn parse_cell(text: &str, asset: &Asset) -> Result<i64, String> {
    let symbol = &asset.symbol;
    let shown = quote(text);
    match parse_units(text, asset.decimals) {
        Ok(units) => balance_in_bounds(units).ok_or_else(|| balance_bound_message(asset, &shown)),
        Err(DecimalError::Overflow) => Err(balance_bound_message(asset, &shown)),
        Err(DecimalError::NotANumber) => Err(format!("{symbol}: {shown} is not a decimal number")),
        Err(DecimalError::TooManyFractionDigits { found, allowed }) => {
            Err(format!("{symbol}: {shown} has {found} fractional digits but {symbol} has {allowed} decimals"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decimal::Price;

    fn btc() -> Asset {
        Asset { symbol: "BTC".to_owned(), decimals: 8, price: Price::parse("91234.56").unwrap() }
    }

    #[test]
    fn parses_cells_with_specific_messages() {
        assert_eq!(parse_cell("-1.2", &btc()), Ok(-120_000_000));
        assert_eq!(parse_cell("1.2.3", &btc()), Err("BTC: '1.2.3' is not a decimal number".to_owned()));
        assert_eq!(
            parse_cell("0.123456789", &btc()),
            Err("BTC: '0.123456789' has 9 fractional digits but BTC has 8 decimals".to_owned())
        );
        assert_eq!(parse_cell("2814749.76710655", &btc()), Ok((1 << 48) - 1));
        let beyond = parse_cell("-2814749.76710656", &btc()).unwrap_err();
        assert_eq!(
            beyond,
            "BTC: '-2814749.76710656' is beyond the balance bound: at most 281474976710655 \
             smallest units (2814749.76710655 BTC) in absolute value"
        );
        let huge = parse_cell(&"9".repeat(50), &btc()).unwrap_err();
        assert!(huge.contains("is beyond the balance bound"), "{huge}");
    }
}
