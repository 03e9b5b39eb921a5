//! Reader of `assets.csv`: the header and the syntax of each row. The rules
//! on the values (symbols, bounds, duplicates) are checked by the validator.

use std::collections::HashSet;
use std::path::Path;

use crate::bounds::{MAX_DECIMALS, MAX_UNIT_PRICE};
use crate::csvfile::{CsvFile, field, joined};
use crate::decimal::{DecimalError, Price};
use crate::error::{ErrorSink, Location, quote};
use crate::model::Asset;

/// The file's name in a snapshot directory.
pub(crate) const FILE_NAME: &str = "assets.csv";

/// The exact header of `assets.csv`.
const HEADER: [&str; 3] = ["symbol", "decimals", "price_usd"];

/// What was read from `assets.csv`.
#[derive(Debug, Default)]
pub(crate) struct AssetsFile {
    /// Syntactically valid rows, with their locations.
    pub(crate) assets: Vec<(Asset, Location)>,
    /// Symbols of rows that had errors: balances columns naming them are
    /// skipped without a second error.
    pub(crate) broken_symbols: HashSet<String>,
    /// False when the file is missing or its header is wrong, so no symbol
    /// can be called unknown.
    pub(crate) complete: bool,
}

/// Reads `path`, reporting every syntax error.
pub(crate) fn read(path: &Path, errors: &mut ErrorSink) -> AssetsFile {
    let mut result = AssetsFile::default();
    let Some(mut file) = CsvFile::open(path, errors) else {
        return result;
    };
    if !file.header(&HEADER.join(","), errors) {
        return result;
    }
    let header = file.record();
    if !(header.len() == HEADER.len() && HEADER.iter().enumerate().all(|(i, &name)| field(header, i) == Some(name))) {
        errors
            .at(&file.location(), format!("header must be exactly '{}', found '{}'", HEADER.join(","), joined(header)));
        return result;
    }
    result.complete = true;
    while file.next(errors) {
        read_row(&file, &mut result, errors);
    }
    result
}

fn read_row(file: &CsvFile, result: &mut AssetsFile, errors: &mut ErrorSink) {
    let record = file.record();
    let origin = file.location();
    let symbol = field(record, 0);
    if record.len() != HEADER.len() {
        errors.at(&origin, format!("row has {} fields but the header has {}", record.len(), HEADER.len()));
        result.broken_symbols.extend(symbol.map(str::to_owned));
        return;
    }
    let mut ok = true;
    let symbol = symbol.unwrap_or_else(|| {
        errors.at(&origin, "symbol is not valid UTF-8".to_owned());
        ok = false;
        ""
    });
    let decimals = parse_decimals(field(record, 1)).map_err(|message| errors.at(&origin, message));
    let price = parse_price(field(record, 2)).map_err(|message| errors.at(&origin, message));
    match (decimals, price) {
        (Ok(decimals), Ok(price)) if ok => {
            result.assets.push((Asset { symbol: symbol.to_owned(), decimals, price }, origin))
        }
        _ => {
            if !symbol.is_empty() {
                result.broken_symbols.insert(symbol.to_owned());
            }
        }
    }
}

/// The `decimals` cell: plain ASCII digits fitting `u32` (the range
/// `0..=MAX_DECIMALS` is the validator's rule).
fn parse_decimals(text: Option<&str>) -> Result<u32, String> {
    let text = text.ok_or_else(|| "decimals: cell is not valid UTF-8".to_owned())?;
    if !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && let Ok(decimals) = text.parse::<u32>()
    {
        return Ok(decimals);
    }
    Err(format!("decimals: {} is not an integer from 0 to {MAX_DECIMALS}", quote(text)))
}

/// The `price_usd` cell.
fn parse_price(text: Option<&str>) -> Result<Price, String> {
    let text = text.ok_or_else(|| "price_usd: cell is not valid UTF-8".to_owned())?;
    if let Some(magnitude) = text.strip_prefix('-')
        && Price::parse(magnitude).is_ok()
    {
        return Err(format!("price_usd: {} is negative", quote(text)));
    }
    Price::parse(text).map_err(|error| match error {
        DecimalError::NotANumber => format!("price_usd: {} is not a decimal number", quote(text)),
        DecimalError::TooManyFractionDigits { found, allowed } => {
            format!("price_usd: {} has {found} fractional digits but at most {allowed} are allowed", quote(text))
        }
        DecimalError::Overflow => format!(
            "price_usd: {} is too large (the price of one smallest unit must stay within \
             {MAX_UNIT_PRICE} at the snapshot's price scale)",
            quote(text)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_decimals_cells() {
        assert_eq!(parse_decimals(Some("8")), Ok(8));
        assert_eq!(parse_decimals(Some("08")), Ok(8));
        assert_eq!(parse_decimals(Some("40")), Ok(40)); // range is checked later
        for bad in ["", "+8", "-1", "8.0", "x", "99999999999"] {
            assert!(parse_decimals(Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(parse_decimals(Some("x")), Err("decimals: 'x' is not an integer from 0 to 18".to_owned()));
    }

    #[test]
    fn parses_price_cells() {
        assert_eq!(parse_price(Some("1.50")).unwrap().to_string(), "1.5");
        assert_eq!(parse_price(Some("-5")), Err("price_usd: '-5' is negative".to_owned()));
        assert_eq!(parse_price(Some("-x")), Err("price_usd: '-x' is not a decimal number".to_owned()));
        assert_eq!(parse_price(Some("1e3")), Err("price_usd: '1e3' is not a decimal number".to_owned()));
        assert!(parse_price(Some(&"9".repeat(40))).unwrap_err().contains("is too large"));
    }
}
