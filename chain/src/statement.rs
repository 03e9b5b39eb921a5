//! The statement a sequence emits on chain (`postSequence`'s `statement`).
//!
//! `abi.encode(uint8 version, string family, uint64 batches, StatementAsset[] assets)`,
//! version 2, one entry per real asset of the sequence in statement order
//! (never the family's unused asset slots). The contract stores only root
//! and digest; readers decode this, rebuild the statement's field elements
//! (asset codes from symbols and decimals, unit prices from decimals and
//! price) and check that they hash to the stored digest.

use alloy::sol_types::{SolType, sol_data};
use anyhow::{Context, Result, ensure};
use zkpor_circuits::encoding::HashHex;
use zkpor_protocol::statement::{AssetTotals, StatementFile};
use zkpor_snapshot::decimal::{Price, format_units, parse_units};

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

/// `(uint8, string, uint64, StatementAsset[])`, encoded as function parameters.
type Encoding = (sol_data::Uint<8>, sol_data::String, sol_data::Uint<64>, sol_data::Array<StatementAsset>);

/// The encoding version this code writes and reads.
pub const STATEMENT_VERSION: u8 = 2;

/// A decoded on-chain statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnChainStatement {
    /// The circuit family it is proven on.
    pub family: String,
    /// Batches at the bottom of the tree.
    pub batches: u64,
    /// The real assets.
    pub assets: Vec<StatementAsset>,
}

impl OnChainStatement {
    /// `abi.encode(version, family, batches, assets)`.
    pub fn encode(&self) -> Vec<u8> {
        Encoding::abi_encode_params(&(STATEMENT_VERSION, self.family.clone(), self.batches, self.assets.clone()))
    }

    /// Decodes what `postSequence` emitted.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let (version, family, batches, assets) =
            Encoding::abi_decode_params(bytes).context("decoding the statement")?;
        ensure!(version == STATEMENT_VERSION, "statement encoding version {version}, expected {STATEMENT_VERSION}");
        Ok(OnChainStatement { family, batches, assets })
    }

    /// The on-chain form of a statement file: exact prices and totals in
    /// smallest units.
    pub fn from_file(file: &StatementFile) -> Result<Self> {
        let assets = file
            .assets
            .iter()
            .map(|asset| {
                let what = |field: &str| format!("asset {}: {field}", asset.symbol);
                let price: Price = asset.price_usd.parse().with_context(|| what("price_usd"))?;
                Ok(StatementAsset {
                    symbol: symbol_to_bytes32(&asset.symbol)?,
                    decimals: u8::try_from(asset.decimals).with_context(|| what("decimals"))?,
                    priceFractionDigits: u8::try_from(price.fraction_digits()).with_context(|| what("price"))?,
                    priceMantissa: price.mantissa(),
                    equity: total_units(&asset.equity, asset.decimals).with_context(|| what("equity"))?,
                    debt: total_units(&asset.debt, asset.decimals).with_context(|| what("debt"))?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(OnChainStatement { family: file.family.clone(), batches: file.batches, assets })
    }

    /// The statement file of a posted sequence, after checking that its
    /// content hashes to `digest` (the one the registry stores): what a
    /// reader or an agent may trust.
    pub fn to_checked_file(
        &self,
        sequence: u64,
        root: HashHex,
        account_count: u64,
        digest: HashHex,
    ) -> Result<StatementFile> {
        let assets = self
            .assets
            .iter()
            .map(|asset| {
                let symbol = symbol_from_bytes32(asset.symbol)?;
                let decimals = u32::from(asset.decimals);
                let mantissa = i128::try_from(asset.priceMantissa)
                    .with_context(|| format!("asset {symbol}: price mantissa {} is too large", asset.priceMantissa))?;
                Ok(AssetTotals {
                    price_usd: format_units(mantissa, u32::from(asset.priceFractionDigits)),
                    equity: format_units(asset.equity.into(), decimals),
                    debt: format_units(asset.debt.into(), decimals),
                    symbol,
                    decimals,
                })
            })
            .collect::<Result<_>>()?;
        let file = StatementFile {
            sequence,
            family: self.family.clone(),
            root,
            account_count,
            batches: self.batches,
            digest,
            assets,
        };
        file.checked_statement().context("the statement emitted on chain does not match the registry's digest")?;
        Ok(file)
    }
}

fn total_units(text: &str, decimals: u32) -> Result<u64> {
    let units = parse_units(text, decimals)?;
    u64::try_from(units).with_context(|| format!("'{text}' is not a total between 0 and 2^64"))
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
        let statement = OnChainStatement { family: "standard".into(), batches: 15, assets: vec![asset.clone(); 3] };
        let bytes = statement.encode();
        assert_eq!(bytes.len(), 32 * (7 + 6 * 3), "6 head words, the family, 6 words per asset");
        assert_eq!(OnChainStatement::decode(&bytes).unwrap(), statement);
        assert_eq!(symbol_from_bytes32(asset.symbol).unwrap(), "BTC");
        assert!(symbol_to_bytes32(&"X".repeat(33)).is_err());
    }

    #[test]
    fn a_statement_file_round_trips_and_its_digest_is_checked() {
        let file = zkpor_protocol::test_support::two_asset_statement();
        let digest = file.digest;
        let on_chain = OnChainStatement::from_file(&file).unwrap();
        assert_eq!((on_chain.assets[0].priceMantissa, on_chain.assets[0].priceFractionDigits), (9_123_456, 2));
        assert_eq!((on_chain.assets[0].equity, on_chain.assets[0].debt), (150_000_000, 1));
        let decoded = OnChainStatement::decode(&on_chain.encode()).unwrap();
        assert_eq!(decoded.to_checked_file(3, file.root, 2, digest).unwrap(), file);

        let mut inflated = decoded.clone();
        inflated.assets[1].equity += 1;
        let err = format!("{:#}", inflated.to_checked_file(3, file.root, 2, digest).unwrap_err());
        assert!(err.contains("does not match the registry's digest"), "{err}");
        let err = format!("{:#}", decoded.to_checked_file(3, file.root, 3, digest).unwrap_err());
        assert!(err.contains("does not match"), "another account count: {err}");
    }

    #[test]
    fn refuses_other_versions_and_garbage() {
        let other = Encoding::abi_encode_params(&(1u8, String::from("tiny"), 1u64, Vec::<StatementAsset>::new()));
        assert!(OnChainStatement::decode(&other).unwrap_err().to_string().contains("version 1"));
        assert!(OnChainStatement::decode(&[1, 2, 3]).is_err());
    }
}
