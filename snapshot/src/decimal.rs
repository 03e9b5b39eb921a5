//! Exact decimal numbers: balances as integer smallest units and prices as
//! normalized mantissa/exponent pairs. No floating point anywhere.
//!
//! Accepted syntax (no surrounding whitespace, no exponent, no thousands
//! separators): an optional sign (balances only), one or more ASCII digits,
//! and optionally a `.` followed by one or more digits. `.5` and `5.` are
//! rejected. Trailing zeros of the fraction do not count as fractional digits,
//! so `1.50` has one fractional digit.

use std::fmt;
use std::str::FromStr;

use crate::bounds::MAX_PRICE_FRACTION_DIGITS;

/// Why a decimal number could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    /// The text is not a plain decimal number.
    #[error("not a decimal number")]
    NotANumber,
    /// The number has more significant fractional digits than allowed.
    #[error("{found} fractional digits but at most {allowed} are allowed")]
    TooManyFractionDigits {
        /// Fractional digits in the text, trailing zeros not counted.
        found: u32,
        /// Most fractional digits allowed.
        allowed: u32,
    },
    /// The number does not fit the integer type that holds it.
    #[error("number too large")]
    Overflow,
}

/// A syntactically valid decimal split into its parts.
struct Parts<'a> {
    negative: bool,
    integer: &'a [u8],
    /// Fraction digits with trailing zeros removed.
    fraction: &'a [u8],
}

/// Splits `text` into sign, integer digits and significant fraction digits.
fn split(text: &str, allow_sign: bool) -> Result<Parts<'_>, DecimalError> {
    let bytes = text.as_bytes();
    let (negative, rest) = match bytes.first() {
        Some(b'-') if allow_sign => (true, &bytes[1..]),
        Some(b'+') if allow_sign => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    let (integer, fraction) = match rest.iter().position(|&b| b == b'.') {
        Some(dot) => (&rest[..dot], &rest[dot + 1..]),
        None => (rest, &rest[rest.len()..]),
    };
    let has_dot = integer.len() != rest.len();
    if integer.is_empty()
        || (has_dot && fraction.is_empty())
        || !integer.iter().all(u8::is_ascii_digit)
        || !fraction.iter().all(u8::is_ascii_digit)
    {
        return Err(DecimalError::NotANumber);
    }
    let significant = fraction.len() - fraction.iter().rev().take_while(|&&b| b == b'0').count();
    Ok(Parts { negative, integer, fraction: &fraction[..significant] })
}

/// Number of significant fraction digits, as `u32` (saturating: such a long
/// fraction is rejected anyway).
fn fraction_len(parts: &Parts<'_>) -> u32 {
    u32::try_from(parts.fraction.len()).unwrap_or(u32::MAX)
}

/// The digits of `parts` (integer then significant fraction) as one integer.
fn mantissa(parts: &Parts<'_>) -> Result<u128, DecimalError> {
    parts
        .integer
        .iter()
        .chain(parts.fraction)
        .try_fold(0u128, |acc, &digit| acc.checked_mul(10)?.checked_add(u128::from(digit - b'0')))
        .ok_or(DecimalError::Overflow)
}

/// Parses a signed decimal into integer units of `10^-decimals`, exactly.
///
/// `"-1.2"` with 8 decimals gives `-120000000`. A leading `+` is accepted,
/// leading zeros are accepted, the empty string is not (callers decide what
/// an empty cell means).
///
/// # Errors
/// [`DecimalError::NotANumber`] for anything but the syntax above,
/// [`DecimalError::TooManyFractionDigits`] for more significant fractional
/// digits than `decimals`, [`DecimalError::Overflow`] for a value outside
/// `i128`.
pub fn parse_units(text: &str, decimals: u32) -> Result<i128, DecimalError> {
    let parts = split(text, true)?;
    let found = fraction_len(&parts);
    if found > decimals {
        return Err(DecimalError::TooManyFractionDigits { found, allowed: decimals });
    }
    let digits = mantissa(&parts)?;
    let magnitude = if digits == 0 {
        0
    } else {
        10u128
            .checked_pow(decimals - found)
            .and_then(|scale| digits.checked_mul(scale))
            .ok_or(DecimalError::Overflow)?
    };
    if parts.negative { 0i128.checked_sub_unsigned(magnitude) } else { i128::try_from(magnitude).ok() }
        .ok_or(DecimalError::Overflow)
}

/// Writes `magnitude * 10^-decimals` exactly, trailing fractional zeros
/// dropped, with a leading `-` when `negative` and the value is not zero.
fn write_scaled(out: &mut String, negative: bool, magnitude: u128, decimals: u32) {
    if magnitude == 0 {
        out.push('0');
        return;
    }
    if negative {
        out.push('-');
    }
    let digits = magnitude.to_string();
    let decimals = decimals as usize;
    if decimals == 0 {
        out.push_str(&digits);
        return;
    }
    let (integer, fraction) = if digits.len() > decimals {
        let split = digits.len() - decimals;
        (&digits[..split], &digits[split..])
    } else {
        ("0", digits.as_str())
    };
    out.push_str(integer);
    let fraction = fraction.trim_end_matches('0');
    if !fraction.is_empty() {
        out.push('.');
        // Leading zeros of a value below one unit.
        out.extend(std::iter::repeat_n('0', decimals - digits.len().min(decimals)));
        out.push_str(fraction);
    }
}

/// Formats integer units of `10^-decimals` as an exact decimal, trailing
/// fractional zeros dropped: `(-120000000, 8)` gives `"-1.2"`,
/// `(1000000000, 6)` gives `"1000"`, `(5, 8)` gives `"0.00000005"`.
pub fn format_units(units: i128, decimals: u32) -> String {
    let mut out = String::new();
    write_scaled(&mut out, units < 0, units.unsigned_abs(), decimals);
    out
}

/// A non-negative exact decimal price, `mantissa * 10^-fraction_digits`.
///
/// Always normalized: the mantissa has no trailing zero when
/// `fraction_digits > 0`, zero is `0 * 10^0`, and `fraction_digits` is at
/// most [`MAX_PRICE_FRACTION_DIGITS`]. Two prices are equal exactly when
/// their values are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Price {
    mantissa: u128,
    fraction_digits: u32,
}

impl Price {
    /// Parses an unsigned plain decimal such as `"91234.56"` or `"1"`.
    ///
    /// # Errors
    /// Signs, exponents, `.5` and `5.` are [`DecimalError::NotANumber`]; more
    /// than [`MAX_PRICE_FRACTION_DIGITS`] significant fractional digits is
    /// [`DecimalError::TooManyFractionDigits`]; a mantissa beyond `u128` is
    /// [`DecimalError::Overflow`].
    pub fn parse(text: &str) -> Result<Price, DecimalError> {
        let parts = split(text, false)?;
        let found = fraction_len(&parts);
        if found > MAX_PRICE_FRACTION_DIGITS {
            return Err(DecimalError::TooManyFractionDigits { found, allowed: MAX_PRICE_FRACTION_DIGITS });
        }
        let mantissa = mantissa(&parts)?;
        Ok(Price { mantissa, fraction_digits: if mantissa == 0 { 0 } else { found } })
    }

    /// The price's digits as an integer: 9123456 for 91234.56.
    pub fn mantissa(&self) -> u128 {
        self.mantissa
    }

    /// Digits after the decimal point: 2 for 91234.56, 0 for 100.
    pub fn fraction_digits(&self) -> u32 {
        self.fraction_digits
    }
}

impl fmt::Display for Price {
    /// The exact normalized decimal: `"91234.56"`, `"1"`, `"0.00001234"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        write_scaled(&mut out, false, self.mantissa, self.fraction_digits);
        f.write_str(&out)
    }
}

impl FromStr for Price {
    type Err = DecimalError;

    /// Same as [`Price::parse`].
    fn from_str(text: &str) -> Result<Price, DecimalError> {
        Price::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounds::MAX_BALANCE_UNITS;

    #[test]
    fn parses_plain_and_signed_numbers() {
        assert_eq!(parse_units("0.5", 8), Ok(50_000_000));
        assert_eq!(parse_units("-1.2", 8), Ok(-120_000_000));
        assert_eq!(parse_units("+3", 2), Ok(300));
        assert_eq!(parse_units("1000", 6), Ok(1_000_000_000));
        assert_eq!(parse_units("0", 0), Ok(0));
        assert_eq!(parse_units("-0", 8), Ok(0));
        assert_eq!(parse_units("-0.0", 8), Ok(0));
        assert_eq!(parse_units("0.00000001", 8), Ok(1));
        assert_eq!(parse_units("7", 0), Ok(7));
    }

    #[test]
    fn accepts_leading_zeros_and_trailing_fraction_zeros() {
        assert_eq!(parse_units("007", 2), Ok(700));
        assert_eq!(parse_units("-00.10", 2), Ok(-10));
        // Trailing zeros are not significant digits.
        assert_eq!(parse_units("1.000000000000", 0), Ok(1));
        assert_eq!(parse_units("2.50", 1), Ok(25));
    }

    #[test]
    fn rejects_malformed_numbers() {
        for text in [
            "", " 1", "1 ", "1.", ".5", "-.5", "-", "+", "1e5", "1E5", "1,000", "1.2.3", "--1", "+-1", "abc", "0x10",
            "1_000", "١", "inf", "NaN", "1. 5", "- 1",
        ] {
            assert_eq!(parse_units(text, 8), Err(DecimalError::NotANumber), "{text:?}");
        }
    }

    #[test]
    fn rejects_too_many_fraction_digits() {
        assert_eq!(parse_units("0.123456789", 8), Err(DecimalError::TooManyFractionDigits { found: 9, allowed: 8 }));
        assert_eq!(parse_units("-1.5", 0), Err(DecimalError::TooManyFractionDigits { found: 1, allowed: 0 }));
        // The syntax is checked before the digits are counted.
        assert_eq!(parse_units("1.2345x", 2), Err(DecimalError::NotANumber));
    }

    #[test]
    fn detects_overflow_exactly_at_i128_limits() {
        let max = i128::MAX.to_string();
        let min = i128::MIN.to_string();
        assert_eq!(parse_units(&max, 0), Ok(i128::MAX));
        assert_eq!(parse_units(&min, 0), Ok(i128::MIN));
        let above = (i128::MAX as u128 + 1).to_string();
        assert_eq!(parse_units(&above, 0), Err(DecimalError::Overflow));
        let below = format!("-{}", i128::MIN.unsigned_abs() + 1);
        assert_eq!(parse_units(&below, 0), Err(DecimalError::Overflow));
        assert_eq!(parse_units("1", 39), Err(DecimalError::Overflow));
        assert_eq!(parse_units(&"9".repeat(60), 0), Err(DecimalError::Overflow));
        // Many leading zeros are harmless; zero needs no scaling.
        assert_eq!(parse_units(&format!("{}1", "0".repeat(100)), 2), Ok(100));
        assert_eq!(parse_units("0", u32::MAX), Ok(0));
    }

    #[test]
    fn max_balance_bound_round_trips() {
        let text = format_units(i128::from(MAX_BALANCE_UNITS), 8);
        assert_eq!(text, "2814749.76710655");
        assert_eq!(parse_units(&text, 8), Ok(i128::from(MAX_BALANCE_UNITS)));
        assert_eq!(parse_units("2814749.76710656", 8), Ok(i128::from(MAX_BALANCE_UNITS) + 1));
    }

    #[test]
    fn formats_exactly() {
        assert_eq!(format_units(-120_000_000, 8), "-1.2");
        assert_eq!(format_units(1_000_000_000, 6), "1000");
        assert_eq!(format_units(0, 8), "0");
        assert_eq!(format_units(5, 8), "0.00000005");
        assert_eq!(format_units(-5, 8), "-0.00000005");
        assert_eq!(format_units(123, 0), "123");
        assert_eq!(format_units(-1234, 2), "-12.34");
        assert_eq!(format_units(100_000_000, 8), "1");
        assert_eq!(format_units(10, 1), "1");
        assert_eq!(format_units(1, 1), "0.1");
        assert_eq!(format_units(i128::MIN, 0), i128::MIN.to_string());
        assert_eq!(format_units(i128::MIN, 38), "-1.70141183460469231731687303715884105728");
    }

    #[test]
    fn format_and_parse_round_trip() {
        for units in [0i128, 1, -1, 9, 10, 99, 100, 12_345_678_901, -987_654_321] {
            for decimals in [0, 1, 2, 8, 18] {
                let text = format_units(units, decimals);
                assert_eq!(parse_units(&text, decimals), Ok(units), "{text}");
            }
        }
    }

    #[test]
    fn parses_and_normalizes_prices() {
        let p = Price::parse("91234.56").unwrap();
        assert_eq!((p.mantissa(), p.fraction_digits()), (9_123_456, 2));
        assert_eq!(p.to_string(), "91234.56");
        let p = Price::parse("187.500").unwrap();
        assert_eq!((p.mantissa(), p.fraction_digits()), (1875, 1));
        assert_eq!(p.to_string(), "187.5");
        let p = Price::parse("1.0").unwrap();
        assert_eq!((p.mantissa(), p.fraction_digits()), (1, 0));
        assert_eq!(p.to_string(), "1");
        let p = Price::parse("100").unwrap();
        assert_eq!((p.mantissa(), p.fraction_digits()), (100, 0));
        let p = Price::parse("0.00001234").unwrap();
        assert_eq!((p.mantissa(), p.fraction_digits()), (1234, 8));
        assert_eq!(p.to_string(), "0.00001234");
        assert_eq!("0.000".parse::<Price>(), Ok(Price::parse("0").unwrap()));
        assert_eq!(Price::parse("0").unwrap().fraction_digits(), 0);
        assert_eq!(Price::parse("2.50"), Price::parse("002.5"));
    }

    #[test]
    fn rejects_bad_prices() {
        for text in ["", "-1", "+1", "1e3", ".5", "5.", " 1", "1,5", "$1"] {
            assert_eq!(Price::parse(text), Err(DecimalError::NotANumber), "{text:?}");
        }
        let at_limit = format!("0.{}1", "0".repeat(MAX_PRICE_FRACTION_DIGITS as usize - 1));
        assert_eq!(Price::parse(&at_limit).unwrap().fraction_digits(), MAX_PRICE_FRACTION_DIGITS);
        let beyond = format!("0.{}1", "0".repeat(MAX_PRICE_FRACTION_DIGITS as usize));
        assert_eq!(
            Price::parse(&beyond),
            Err(DecimalError::TooManyFractionDigits {
                found: MAX_PRICE_FRACTION_DIGITS + 1,
                allowed: MAX_PRICE_FRACTION_DIGITS
            })
        );
        assert_eq!(Price::parse(&u128::MAX.to_string()).unwrap().mantissa(), u128::MAX);
        assert_eq!(Price::parse(&format!("{}0", u128::MAX)), Err(DecimalError::Overflow));
    }

    #[test]
    fn decimal_errors_have_readable_messages() {
        assert_eq!(DecimalError::NotANumber.to_string(), "not a decimal number");
        assert_eq!(
            DecimalError::TooManyFractionDigits { found: 9, allowed: 8 }.to_string(),
            "9 fractional digits but at most 8 are allowed"
        );
        assert_eq!(DecimalError::Overflow.to_string(), "number too large");
    }
}
