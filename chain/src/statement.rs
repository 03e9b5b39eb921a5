//! The statement a sequence emits on chain (`postSequence`'s `statement`).
//!
//! `abi.encode(uint8 version, string shape, StatementAsset[] assets)`, version
//! 1, one entry per asset in statement order. The contract stores only root
//! and digest; readers decode this, rebuild the statement's field elements
//! (unit prices from decimals and price) and check that they hash to the
//! stored digest.

use alloy::sol_types::{SolType, sol_data};
use anyhow::{Context, Result, ensure};

alloy::sol! {
    /// One asset of an on-chain statement.
    #[derive(Debug, PartialEq, Eq)]
    struct StatementAsset {
        /// Ticker symbol, ASCII, right-padded with zero bytes.
        bytes32 symbol;
        /// Fractional digits of the smallest unit.
        uint8 decimals;
        /// Price in USD is `priceMantissa / 10^priceFractionDigits`.
        uint8 priceFractionDigits;
        uint128 priceMantissa;
        /// Equity total in smallest units.
        uint64 equity;
        /// Debt total in smallest units.
        uint64 debt;
    }
}

/// `(uint8, string, StatementAsset[])`, encoded as function parameters.
type Encoding = (sol_data::Uint<8>, sol_data::String, sol_data::Array<StatementAsset>);

/// The encoding version this code writes and reads.
pub const STATEMENT_VERSION: u8 = 1;

/// A decoded on-chain statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnChainStatement {
    /// The circuit shape, as `b<B>-a<A>-k<K>-l<L>`.
    pub shape: String,
    /// The assets.
    pub assets: Vec<StatementAsset>,
}

impl OnChainStatement {
    /// `abi.encode(version, shape, assets)`.
    pub fn encode(&self) -> Vec<u8> {
        Encoding::abi_encode_params(&(STATEMENT_VERSION, self.shape.clone(), self.assets.clone()))
    }

    /// Decodes what `postSequence` emitted.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let (version, shape, assets) = Encoding::abi_decode_params(bytes).context("decoding the statement")?;
        ensure!(version == STATEMENT_VERSION, "statement encoding version {version}, expected {STATEMENT_VERSION}");
        Ok(OnChainStatement { shape, assets })
    }
}

/// A symbol as the 32-byte field of [`StatementAsset`].
pub fn symbol_to_bytes32(symbol: &str) -> Result<alloy::primitives::B256> {
    ensure!(symbol.len() <= 32, "symbol '{symbol}' is longer than 32 bytes");
    let mut word = [0u8; 32];
    word[..symbol.len()].copy_from_slice(symbol.as_bytes());
    Ok(word.into())
}

/// The symbol of a [`StatementAsset`].
pub fn symbol_from_bytes32(word: alloy::primitives::B256) -> Result<String> {
    let end = word.iter().position(|&b| b == 0).unwrap_or(32);
    ensure!(word[end..].iter().all(|&b| b == 0), "symbol has bytes after its zero padding");
    String::from_utf8(word[..end].to_vec()).context("symbol is not UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_has_the_documented_size() {
        let asset = StatementAsset {
            symbol: symbol_to_bytes32("BTC").unwrap(),
            decimals: 8,
            priceFractionDigits: 2,
            priceMantissa: 9_123_456,
            equity: 125_574_144_568,
            debt: 10_000_000,
        };
        let statement = OnChainStatement { shape: "b1024-a4-k8-l1".into(), assets: vec![asset.clone(); 3] };
        let bytes = statement.encode();
        assert_eq!(bytes.len(), 32 * (6 + 6 * 3), "5 head words, the shape, 6 words per asset");
        assert_eq!(OnChainStatement::decode(&bytes).unwrap(), statement);
        assert_eq!(symbol_from_bytes32(asset.symbol).unwrap(), "BTC");
        assert!(symbol_to_bytes32(&"X".repeat(33)).is_err());
    }

    #[test]
    fn refuses_other_versions_and_garbage() {
        let other = Encoding::abi_encode_params(&(2u8, String::from("tiny"), Vec::<StatementAsset>::new()));
        assert!(OnChainStatement::decode(&other).unwrap_err().to_string().contains("version 2"));
        assert!(OnChainStatement::decode(&[1, 2, 3]).is_err());
    }
}
