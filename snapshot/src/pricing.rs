//! Unit prices: what one smallest unit of each asset is worth, as an integer
//! at the snapshot's common price scale.
//!
//! For asset `i` with price `m_i / 10^(s_i)` USD and `d_i` decimals, the
//! scale is `S = max_i (d_i + s_i)` and the unit price is
//! `m_i · 10^(S − d_i − s_i)`, the USD value of one smallest unit times
//! `10^S`. These integers are what the circuits and the statement use.

use thiserror::Error;

use crate::bounds::{MAX_DECIMALS, MAX_UNIT_PRICE};
use crate::model::Asset;

/// The unit prices of a list of assets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitPrices {
    /// The common scale `S`.
    pub scale: u32,
    /// One unit price per asset, in asset order.
    pub unit_prices: Vec<u64>,
}

/// Why an asset list has no valid unit prices.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum PriceError {
    /// Decimals past [`MAX_DECIMALS`].
    #[error("asset '{symbol}' has {decimals} decimals, more than the maximum of {MAX_DECIMALS}")]
    Decimals {
        /// The asset.
        symbol: String,
        /// Its decimals.
        decimals: u32,
    },
    /// A unit price past [`MAX_UNIT_PRICE`].
    #[error("the unit price of '{symbol}' at price scale {scale} is beyond the bound of {MAX_UNIT_PRICE}")]
    Bound {
        /// The asset.
        symbol: String,
        /// The common scale.
        scale: u32,
    },
}

/// `max (decimals + price fraction digits)` over `assets` (0 for none).
pub fn price_scale<'a>(assets: impl IntoIterator<Item = &'a Asset>) -> u32 {
    assets.into_iter().map(|a| a.decimals + a.price.fraction_digits()).max().unwrap_or(0)
}

/// The unit price of `asset` at `scale`, or `None` past `u128` or when the
/// scale is below the asset's own digits.
pub fn unit_price(asset: &Asset, scale: u32) -> Option<u128> {
    let exponent = scale.checked_sub(asset.decimals + asset.price.fraction_digits())?;
    asset.price.mantissa().checked_mul(10u128.checked_pow(exponent)?)
}

/// The scale and unit prices of `assets`, every one within the bounds.
pub fn unit_prices(assets: &[Asset]) -> Result<UnitPrices, PriceError> {
    if let Some(asset) = assets.iter().find(|a| a.decimals > MAX_DECIMALS) {
        return Err(PriceError::Decimals { symbol: asset.symbol.clone(), decimals: asset.decimals });
    }
    let scale = price_scale(assets);
    let unit_prices = assets
        .iter()
        .map(|asset| {
            unit_price(asset, scale)
                .and_then(|p| u64::try_from(p).ok())
                .filter(|&p| p <= MAX_UNIT_PRICE)
                .ok_or_else(|| PriceError::Bound { symbol: asset.symbol.clone(), scale })
        })
        .collect::<Result<_, _>>()?;
    Ok(UnitPrices { scale, unit_prices })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(symbol: &str, decimals: u32, price: &str) -> Asset {
        Asset { symbol: symbol.into(), decimals, price: price.parse().unwrap() }
    }

    #[test]
    fn common_scale_and_unit_prices() {
        let prices = unit_prices(&[asset("BTC", 8, "91234.56"), asset("USDT", 6, "1")]).unwrap();
        assert_eq!(prices.scale, 10);
        assert_eq!(prices.unit_prices, vec![9_123_456, 10_000]);
    }

    #[test]
    fn bounds_are_errors() {
        let err = unit_prices(&[asset("A", 0, "5000000000"), asset("B", 18, "0.5")]).unwrap_err();
        assert_eq!(err, PriceError::Bound { symbol: "A".into(), scale: 19 });
        let err = unit_prices(&[asset("C", 19, "1")]).unwrap_err();
        assert!(matches!(err, PriceError::Decimals { decimals: 19, .. }));
    }
}
