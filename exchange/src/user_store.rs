//! The store that answers any user's inclusion proof: one SQLite file with
//! every user's leaf data and every non-padding node of the account tree.

use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqliteConnection};
use zkpor_circuits::Hash;
use zkpor_circuits::account::{AccountLeaf, id_hash};
use zkpor_circuits::encoding::HashHex;
use zkpor_circuits::merkle::empty_roots;
use zkpor_snapshot::decimal::format_units;

use crate::committed::CommittedSnapshot;
use crate::published::StatementFile;
use crate::user_proof::{InclusionPath, LevelPath, UserBalance, UserProof};

/// Version of the store's layout, kept in its `meta` table.
const FORMAT: &str = "1";

const SCHEMA: &[&str] = &[
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE users (
        id TEXT PRIMARY KEY,
        leaf_index INTEGER NOT NULL,
        nonce BLOB NOT NULL,
        equity BLOB NOT NULL,
        debt BLOB NOT NULL
    ) WITHOUT ROWID",
    "CREATE TABLE nodes (
        height INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        hash BLOB NOT NULL,
        PRIMARY KEY (height, idx)
    ) WITHOUT ROWID",
    "CREATE UNIQUE INDEX users_by_leaf ON users (leaf_index)",
];

/// An open user-proof store.
pub struct UserStore {
    pool: SqlitePool,
    statement: StatementFile,
    empty: Vec<Hash>,
}

impl UserStore {
    /// Writes a new store at `path` (which must not exist) for a committed
    /// snapshot described by `statement`.
    pub async fn create(path: &Path, committed: &CommittedSnapshot, statement: &StatementFile) -> Result<()> {
        ensure!(!path.exists(), "{} already exists", path.display());
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Off)
            .synchronous(SqliteSynchronous::Off);
        let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
        let mut tx = pool.begin().await?;
        for statement in SCHEMA {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        insert_meta(&mut tx, "format", FORMAT).await?;
        insert_meta(&mut tx, "statement", &serde_json::to_string(statement)?).await?;

        let accounts = committed.snapshot().accounts();
        for (index, ((account, nonce), leaf)) in
            accounts.iter().zip(committed.nonces()).zip(committed.leaves()).enumerate()
        {
            sqlx::query("INSERT INTO users (id, leaf_index, nonce, equity, debt) VALUES (?, ?, ?, ?, ?)")
                .bind(&account.id)
                .bind(index as i64)
                .bind(nonce.to_bytes().to_vec())
                .bind(words(&leaf.equity))
                .bind(words(&leaf.debt))
                .execute(&mut *tx)
                .await
                .with_context(|| format!("storing account '{}'", account.id))?;
        }
        let tree = committed.tree();
        for height in 0..=tree.depth() {
            for (index, hash) in tree.level(height).iter().enumerate() {
                sqlx::query("INSERT INTO nodes (height, idx, hash) VALUES (?, ?, ?)")
                    .bind(height as i64)
                    .bind(index as i64)
                    .bind(HashHex(*hash).to_bytes().to_vec())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        pool.close().await;
        Ok(())
    }

    /// Rewrites the sequence number of the store at `path`: an exchange
    /// writes its store before posting, and learns the number the registry
    /// gave the sequence only then.
    pub async fn set_sequence(path: &Path, sequence: u64) -> Result<()> {
        let options = SqliteConnectOptions::new().filename(path);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .with_context(|| format!("opening {}", path.display()))?;
        let mut statement: StatementFile = serde_json::from_str(&meta(&pool, "statement").await?)?;
        statement.sequence = sequence;
        sqlx::query("UPDATE meta SET value = ? WHERE key = 'statement'")
            .bind(serde_json::to_string(&statement)?)
            .execute(&pool)
            .await
            .with_context(|| format!("updating {}", path.display()))?;
        pool.close().await;
        Ok(())
    }

    /// Opens the store at `path`, read-only.
    pub async fn open(path: &Path) -> Result<Self> {
        ensure!(path.is_file(), "{} does not exist", path.display());
        let options = SqliteConnectOptions::new().filename(path).read_only(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .with_context(|| format!("opening {}", path.display()))?;
        let format = meta(&pool, "format").await?;
        ensure!(format == FORMAT, "{} has format {format}, this zkpor reads format {FORMAT}", path.display());
        let statement: StatementFile = serde_json::from_str(&meta(&pool, "statement").await?)?;
        let empty = empty_roots(statement.shape.assets(), statement.shape.depth());
        Ok(UserStore { pool, statement, empty })
    }

    /// The statement the store belongs to.
    pub fn statement(&self) -> &StatementFile {
        &self.statement
    }

    /// The inclusion proof of user `id`.
    pub async fn user_proof(&self, id: &str) -> Result<UserProof> {
        let Some(row) = sqlx::query("SELECT leaf_index, nonce, equity, debt FROM users WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        else {
            bail!("no user '{id}' in this snapshot");
        };
        let leaf_index = u64::try_from(row.get::<i64, _>("leaf_index"))?;
        let nonce = HashHex::from_bytes(blob32(row.get("nonce"))?)?;
        let equity = from_words(row.get("equity"))?;
        let debt = from_words(row.get("debt"))?;

        let shape = self.statement.shape;
        let mut siblings = Vec::with_capacity(shape.depth());
        for height in 0..shape.depth() {
            siblings.push(HashHex(self.node(height, (leaf_index >> height) ^ 1).await?));
        }
        let node_above = |height: usize| async move { self.node(height, leaf_index >> height).await.map(HashHex) };
        let batch_depth = shape.batch_depth();
        let mut levels = Vec::with_capacity(shape.levels());
        for level in 0..shape.levels() {
            let low = batch_depth + level * shape.arity_depth();
            let high = low + shape.arity_depth();
            levels.push(LevelPath { siblings: siblings[low..high].to_vec(), node: node_above(high).await? });
        }
        let balances = self
            .statement
            .assets
            .iter()
            .enumerate()
            .map(|(i, asset)| UserBalance {
                symbol: asset.symbol.clone(),
                decimals: asset.decimals,
                equity: format_units(equity[i].into(), asset.decimals),
                debt: format_units(debt[i].into(), asset.decimals),
            })
            .collect();
        Ok(UserProof {
            sequence: self.statement.sequence,
            shape,
            root: self.statement.root,
            id: id.to_string(),
            nonce,
            leaf_index,
            balances,
            path: InclusionPath {
                batch: siblings[..batch_depth].to_vec(),
                batch_root: node_above(batch_depth).await?,
                levels,
            },
        })
    }

    /// The leaves of batch `index` (the shape's batch size, the last batch
    /// shorter), ids hidden behind their hashes: what a prover of the batch
    /// receives.
    pub async fn batch_leaves(&self, index: u64) -> Result<Vec<AccountLeaf>> {
        let size = self.statement.shape.batch_size() as u64;
        let start = index.checked_mul(size).filter(|&s| s < self.statement.account_count.max(1));
        let Some(start) = start else {
            bail!("batch {index} is past the last account ({} accounts)", self.statement.account_count);
        };
        let rows = sqlx::query(
            "SELECT id, nonce, equity, debt FROM users WHERE leaf_index >= ? AND leaf_index < ? ORDER BY leaf_index",
        )
        .bind(i64::try_from(start)?)
        .bind(i64::try_from(start + size)?)
        .fetch_all(&self.pool)
        .await
        .with_context(|| format!("reading the accounts of batch {index}"))?;
        rows.iter()
            .map(|row| {
                let id: String = row.get("id");
                let nonce = HashHex::from_bytes(blob32(row.get("nonce"))?)?;
                Ok(AccountLeaf {
                    id_hash: id_hash(&id, &nonce),
                    equity: from_words(row.get("equity"))?,
                    debt: from_words(row.get("debt"))?,
                })
            })
            .collect()
    }

    async fn node(&self, height: usize, index: u64) -> Result<Hash> {
        let row = sqlx::query("SELECT hash FROM nodes WHERE height = ? AND idx = ?")
            .bind(height as i64)
            .bind(i64::try_from(index)?)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => Ok(HashHex::from_bytes(blob32(row.get("hash"))?)?.0),
            None => Ok(self.empty[height]),
        }
    }
}

async fn insert_meta(tx: &mut SqliteConnection, key: &str, value: &str) -> Result<()> {
    sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?)").bind(key).bind(value).execute(tx).await?;
    Ok(())
}

async fn meta(pool: &SqlitePool, key: &str) -> Result<String> {
    let row = sqlx::query("SELECT value FROM meta WHERE key = ?")
        .bind(key)
        .fetch_optional(pool)
        .await?
        .with_context(|| format!("the store has no '{key}' entry"))?;
    Ok(row.get("value"))
}

fn words(values: &[u64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn from_words(bytes: Vec<u8>) -> Result<Vec<u64>> {
    ensure!(bytes.len() % 8 == 0, "a balance record of {} bytes", bytes.len());
    Ok(bytes.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))).collect())
}

fn blob32(bytes: Vec<u8>) -> Result<[u8; 32]> {
    bytes.try_into().map_err(|b: Vec<u8>| anyhow::anyhow!("a hash record of {} bytes", b.len()))
}
