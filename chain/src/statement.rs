//! The statement a sequence emits on chain (`postSequence`'s `statement`).
//!
//! `abi.encode(uint8 version, string shape, StatementAsset[] assets)`, version
//! 1, one entry per asset in statement order. The contract stores only root
//! and digest; readers decode this, rebuild the statement's field elements
//! (unit prices from decimals and price) and check that they hash to the
//! stored digest.

use alloy::sol_types::{SolType, sol_data};
use anyhow::{Context, Result, ensure};
use zkpor_circuits::encoding::HashHex;
use zkpor_exchange::published::{AssetTotals, StatementFile, StatementShape};
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
        let shape = file.shape.dense("posting a statement on chain")?;
        Ok(OnChainStatement { shape: shape.to_string(), assets })
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
            root,
            account_count,
            digest,
            assets,
            shape: StatementShape::Dense(
                self.shape.parse().with_context(|| format!("the statement's shape '{}'", self.shape))?,
            ),
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
        let statement = OnChainStatement { shape: "b1024-a4-k8-l1".into(), assets: vec![asset.clone(); 3] };
        let bytes = statement.encode();
        assert_eq!(bytes.len(), 32 * (6 + 6 * 3), "5 head words, the shape, 6 words per asset");
        assert_eq!(OnChainStatement::decode(&bytes).unwrap(), statement);
        assert_eq!(symbol_from_bytes32(asset.symbol).unwrap(), "BTC");
        assert!(symbol_to_bytes32(&"X".repeat(33)).is_err());
    }

    #[test]
    fn a_statement_file_round_trips_and_its_digest_is_checked() {
        let file = StatementFile {
            sequence: 3,
            root: format!("0x{}", "0000000000000001".repeat(4)).parse().unwrap(),
            account_count: 2,
            digest: format!("0x{}", "0000000000000000".repeat(4)).parse().unwrap(),
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
            shape: StatementShape::Dense("tiny".parse().unwrap()),
        };
        let digest = HashHex(file.statement().unwrap().digest());
        let file = StatementFile { digest, ..file };
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
        let other = Encoding::abi_encode_params(&(2u8, String::from("tiny"), Vec::<StatementAsset>::new()));
        assert!(OnChainStatement::decode(&other).unwrap_err().to_string().contains("version 2"));
        assert!(OnChainStatement::decode(&[1, 2, 3]).is_err());
    }
}
