//! The files a proving run publishes, and their formats.
//!
//! An output directory holds:
//! - `statement.json`: the statement in readable form ([`StatementFile`]);
//! - `final.proof`: the final proof, plonky2's binary serialization;
//! - `final.calldata`: the same proof encoded for the EVM verifier, the
//!   bytes `submitProof` takes;
//! - `final.json`: what the final proof is bound to ([`FinalProofFile`]);
//! - `users.sqlite`: the store that answers inclusion proofs
//!   ([`crate::user_store`]).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use serde::{Deserialize, Serialize};
use zkpor_circuits::Shape;
use zkpor_circuits::encoding::{Address, HashHex};
use zkpor_circuits::final_wrap::FinalInputs;
use zkpor_circuits::sparse::shape::TieredShape;
use zkpor_circuits::statement::Statement;
use zkpor_snapshot::decimal::{Price, format_units, parse_units};
use zkpor_snapshot::{Asset, unit_prices};

use crate::committed::{CommittedSnapshot, padded};
use crate::pipeline::Proven;
use crate::tiered::committed::TieredCommitted;
use crate::tiered::user_store::TieredUserStore;
use crate::user_store::UserStore;

/// File name of the readable statement.
pub const STATEMENT_FILE: &str = "statement.json";
/// File name of the final proof.
pub const FINAL_PROOF_FILE: &str = "final.proof";
/// File name of the final proof's EVM encoding.
pub const FINAL_CALLDATA_FILE: &str = "final.calldata";
/// File name of the final proof's bindings.
pub const FINAL_META_FILE: &str = "final.json";
/// File name of the user-proof store.
pub const USER_STORE_FILE: &str = "users.sqlite";

/// `statement.json`: the statement with amounts as exact decimals in each
/// asset's own units.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementFile {
    /// The sequence number.
    pub sequence: u64,
    /// Root of the account tree.
    pub root: HashHex,
    /// Number of accounts.
    pub account_count: u64,
    /// Poseidon digest of the statement (see the design notes).
    pub digest: HashHex,
    /// Per asset: price and totals.
    pub assets: Vec<AssetTotals>,
    /// The circuits' shape: a dense shape such as `b1024-a8-k8-l2` (asset
    /// slots past the listed assets are zero), or a tiered shape.
    pub shape: StatementShape,
}

/// The shape of the circuits a statement was proven with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatementShape {
    /// Dense leaves of one slot per asset, written as text.
    Dense(Shape),
    /// Sparse leaves in tiers, written as an object.
    Tiered(TieredShape),
}

impl StatementShape {
    /// Asset slots of the statement: the listed assets and the zero slots
    /// after them.
    pub fn asset_slots(&self) -> usize {
        match self {
            StatementShape::Dense(shape) => shape.assets(),
            StatementShape::Tiered(shape) => shape.assets(),
        }
    }

    /// The dense shape, or an error naming `what` needs one.
    pub fn dense(&self, what: &str) -> Result<Shape> {
        match self {
            StatementShape::Dense(shape) => Ok(*shape),
            StatementShape::Tiered(_) => bail!("{what} works on dense shapes only, this statement is tiered"),
        }
    }
}

impl std::fmt::Display for StatementShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StatementShape::Dense(shape) => shape.fmt(f),
            StatementShape::Tiered(shape) => shape.fmt(f),
        }
    }
}

impl Serialize for StatementShape {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            StatementShape::Dense(shape) => shape.serialize(serializer),
            StatementShape::Tiered(shape) => shape.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for StatementShape {
    /// A string is a dense shape, an object a tiered one; each is checked.
    fn deserialize<De: serde::Deserializer<'de>>(deserializer: De) -> Result<Self, De::Error> {
        struct ShapeVisitor;
        impl<'de> serde::de::Visitor<'de> for ShapeVisitor {
            type Value = StatementShape;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a dense shape such as \"b1024-a8-k8-l2\" or a tiered shape object")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<StatementShape, E> {
                text.parse().map(StatementShape::Dense).map_err(E::custom)
            }

            fn visit_map<M: serde::de::MapAccess<'de>>(self, map: M) -> Result<StatementShape, M::Error> {
                TieredShape::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(StatementShape::Tiered)
            }
        }
        deserializer.deserialize_any(ShapeVisitor)
    }
}

/// One asset of [`StatementFile`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetTotals {
    /// Ticker symbol.
    pub symbol: String,
    /// Fractional digits of the asset's smallest unit.
    pub decimals: u32,
    /// Price of one whole unit in USD, exact.
    pub price_usd: String,
    /// Sum of all positive balances, exact, in whole units.
    pub equity: String,
    /// Sum of all debts, exact, in whole units.
    pub debt: String,
}

impl StatementFile {
    /// The file describing `statement` over `assets`, proven with circuits
    /// of `shape`, as sequence `sequence`.
    pub fn new(assets: &[Asset], statement: &Statement, shape: StatementShape, sequence: u64) -> Self {
        let assets = assets
            .iter()
            .enumerate()
            .map(|(i, asset)| AssetTotals {
                symbol: asset.symbol.clone(),
                decimals: asset.decimals,
                price_usd: asset.price.to_string(),
                equity: format_units(statement.equity[i].into(), asset.decimals),
                debt: format_units(statement.debt[i].into(), asset.decimals),
            })
            .collect();
        StatementFile {
            sequence,
            root: HashHex(statement.root),
            account_count: statement.account_count,
            digest: HashHex(statement.digest()),
            assets,
            shape,
        }
    }

    /// The statement these fields describe, rebuilt exactly (prices at the
    /// common scale, totals in smallest units), without trusting `digest`.
    pub fn statement(&self) -> Result<Statement> {
        let slots = self.shape.asset_slots();
        ensure!(
            self.assets.len() <= slots,
            "{} assets listed but shape {} holds {slots}",
            self.assets.len(),
            self.shape
        );
        let mut assets = Vec::with_capacity(self.assets.len());
        let (mut equity, mut debt) = (Vec::new(), Vec::new());
        for entry in &self.assets {
            let price: Price = entry
                .price_usd
                .parse()
                .with_context(|| format!("asset {}: price_usd '{}'", entry.symbol, entry.price_usd))?;
            assets.push(Asset { symbol: entry.symbol.clone(), decimals: entry.decimals, price });
            equity.push(
                total_units(&entry.equity, entry.decimals)
                    .with_context(|| format!("asset {}: equity", entry.symbol))?,
            );
            debt.push(
                total_units(&entry.debt, entry.decimals).with_context(|| format!("asset {}: debt", entry.symbol))?,
            );
        }
        let prices = unit_prices(&assets).context("asset prices")?;
        Ok(Statement {
            root: self.root.0,
            account_count: self.account_count,
            prices: padded(&prices.unit_prices, slots),
            equity: padded(&equity, slots),
            debt: padded(&debt, slots),
        })
    }

    /// The statement, after checking that it hashes to `digest`.
    pub fn checked_statement(&self) -> Result<Statement> {
        let statement = self.statement()?;
        let digest = HashHex(statement.digest());
        if digest != self.digest {
            bail!("the statement's content hashes to {digest}, not to its digest field {}", self.digest);
        }
        Ok(statement)
    }
}

fn total_units(text: &str, decimals: u32) -> Result<u64> {
    let units = parse_units(text, decimals)?;
    u64::try_from(units).map_err(|_| anyhow::anyhow!("'{text}' is not a non-negative total below 2^64"))
}

/// `final.json`: what the final proof is bound to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinalProofFile {
    /// The sequence number it proves.
    pub sequence: u64,
    /// The address it is bound to.
    pub submitter: Address,
    /// The proof's file, relative to this file.
    pub proof: String,
    /// Size of the proof in bytes.
    pub proof_bytes: usize,
    /// The proof's EVM encoding's file, relative to this file.
    pub calldata: String,
    /// Size of the EVM encoding in bytes.
    pub calldata_bytes: usize,
}

/// A published output directory: its statement, the final proof's bindings
/// and what the proof claims.
#[derive(Clone, Debug)]
pub struct PublishedOutput {
    /// The directory.
    pub dir: PathBuf,
    /// `statement.json`, its digest checked.
    pub statement: StatementFile,
    /// `final.json`.
    pub meta: FinalProofFile,
    /// The public inputs of the final proof.
    pub inputs: FinalInputs,
}

impl PublishedOutput {
    /// Reads `dir`'s statement and final-proof bindings; fails if the
    /// statement does not hash to its digest or the two disagree on the
    /// sequence.
    pub fn read(dir: &Path) -> Result<Self> {
        let statement: StatementFile = read_json(&dir.join(STATEMENT_FILE))?;
        let content =
            statement.checked_statement().with_context(|| format!("{}", dir.join(STATEMENT_FILE).display()))?;
        let meta: FinalProofFile = read_json(&dir.join(FINAL_META_FILE))?;
        ensure!(
            meta.sequence == statement.sequence,
            "{FINAL_META_FILE} is for sequence {} but {STATEMENT_FILE} for sequence {}",
            meta.sequence,
            statement.sequence
        );
        let inputs = FinalInputs {
            root: content.root,
            digest: content.digest(),
            sequence: statement.sequence,
            submitter: meta.submitter,
        };
        Ok(PublishedOutput { dir: dir.to_path_buf(), statement, meta, inputs })
    }

    /// The final proof, plonky2's serialization.
    pub fn proof_bytes(&self) -> Result<Vec<u8>> {
        let path = self.dir.join(&self.meta.proof);
        fs::read(&path).with_context(|| format!("reading {}", path.display()))
    }

    /// The final proof encoded for the EVM verifier.
    pub fn calldata(&self) -> Result<Vec<u8>> {
        let path = self.dir.join(&self.meta.calldata);
        fs::read(&path).with_context(|| format!("reading {}", path.display()))
    }
}

/// Reads and parses a JSON file, naming it in errors.
pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// Writes `value` as pretty JSON, naming the file in errors.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}

/// Refuses an output directory that already has content.
pub fn check_output_free(out: &Path) -> Result<()> {
    if out.exists() {
        let empty = out.is_dir() && fs::read_dir(out).map(|mut d| d.next().is_none()).unwrap_or(false);
        ensure!(empty, "{} already exists and is not empty; choose another --out or remove it", out.display());
    }
    Ok(())
}

/// Writes every output file of `proven` into `out`, all or nothing: the
/// files are written to a hidden sibling directory that is renamed into
/// place at the end.
pub async fn write_output<Tree: PublishedTree>(out: &Path, proven: &Proven<Tree>) -> Result<()> {
    check_output_free(out)?;
    let staging = staging_dir(out)?;
    let result = write_files(&staging, proven).await;
    if let Err(err) = result {
        let _ = fs::remove_dir_all(&staging);
        return Err(err);
    }
    if out.exists() {
        fs::remove_dir(out).with_context(|| format!("replacing the empty directory {}", out.display()))?;
    }
    fs::rename(&staging, out).with_context(|| format!("moving {} to {}", staging.display(), out.display()))
}

fn staging_dir(out: &Path) -> Result<PathBuf> {
    let name = out.file_name().with_context(|| format!("{} has no directory name", out.display()))?;
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let staging = parent.join(format!(".{}.partial-{}", name.to_string_lossy(), std::process::id()));
    if staging.exists() {
        fs::remove_dir_all(&staging)?;
    }
    fs::create_dir(&staging).with_context(|| format!("creating {}", staging.display()))?;
    Ok(staging)
}

async fn write_files<Tree: PublishedTree>(dir: &Path, proven: &Proven<Tree>) -> Result<()> {
    let statement = proven.committed.statement_file(proven.inputs.sequence);
    write_json(&dir.join(STATEMENT_FILE), &statement)?;
    let proof = proven.final_proof.to_bytes();
    fs::write(dir.join(FINAL_PROOF_FILE), &proof).context("writing the final proof")?;
    fs::write(dir.join(FINAL_CALLDATA_FILE), &proven.calldata).context("writing the final proof's EVM encoding")?;
    let meta = FinalProofFile {
        sequence: proven.inputs.sequence,
        submitter: proven.inputs.submitter,
        proof: FINAL_PROOF_FILE.to_string(),
        proof_bytes: proof.len(),
        calldata: FINAL_CALLDATA_FILE.to_string(),
        calldata_bytes: proven.calldata.len(),
    };
    write_json(&dir.join(FINAL_META_FILE), &meta)?;
    proven.committed.create_user_store(&dir.join(USER_STORE_FILE), &statement).await
}

/// A committed tree whose proof can be published: it describes its
/// statement and writes the store of its users' inclusion proofs.
pub trait PublishedTree {
    /// `statement.json` of this tree as sequence `sequence`.
    fn statement_file(&self, sequence: u64) -> StatementFile;

    /// Writes the user-proof store at `path` (which must not exist).
    fn create_user_store(&self, path: &Path, statement: &StatementFile) -> impl Future<Output = Result<()>>;
}

impl PublishedTree for CommittedSnapshot {
    fn statement_file(&self, sequence: u64) -> StatementFile {
        StatementFile::new(self.snapshot().assets(), self.statement(), StatementShape::Dense(self.shape()), sequence)
    }

    async fn create_user_store(&self, path: &Path, statement: &StatementFile) -> Result<()> {
        UserStore::create(path, self, statement).await
    }
}

impl PublishedTree for TieredCommitted {
    fn statement_file(&self, sequence: u64) -> StatementFile {
        StatementFile::new(self.assets(), self.statement(), StatementShape::Tiered(self.shape().clone()), sequence)
    }

    async fn create_user_store(&self, path: &Path, statement: &StatementFile) -> Result<()> {
        TieredUserStore::create(path, self, statement).await
    }
}
