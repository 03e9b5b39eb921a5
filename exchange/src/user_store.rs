//! The store that answers any user's inclusion proof: one SQLite file with
//! every user's leaf data and every non-padding node of the account tree.

use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use sqlx::query_builder::Separated;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use zkpor_circuits::account::{AccountLeaf, id_hash};
use zkpor_circuits::encoding::HashHex;
use zkpor_circuits::merkle::{AccountTree, empty_roots};
use zkpor_circuits::{Hash, Shape};
use zkpor_snapshot::decimal::format_units;

use crate::committed::CommittedSnapshot;
use crate::published::StatementFile;
use crate::tiered::user_store::{TIERED_FORMAT, TieredUserStore};
use crate::user_proof::{AnyUserProof, InclusionPath, LevelPath, UserBalance, UserProof};

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
    shape: Shape,
    empty: Vec<Hash>,
}

impl UserStore {
    /// Writes a new store at `path` (which must not exist) for a committed
    /// snapshot described by `statement`.
    pub async fn create(path: &Path, committed: &CommittedSnapshot, statement: &StatementFile) -> Result<()> {
        let pool = create_store(path).await?;
        let mut tx = pool.begin().await?;
        begin_store(&mut tx, SCHEMA, FORMAT, statement).await?;

        let users = committed.snapshot().accounts().iter().zip(committed.nonces()).zip(committed.leaves()).enumerate();
        insert_rows(
            &mut tx,
            "users (id, leaf_index, nonce, equity, debt)",
            users,
            |mut row, (index, ((account, nonce), leaf))| {
                row.push_bind(account.id.as_str())
                    .push_bind(index as i64)
                    .push_bind(nonce.to_bytes().to_vec())
                    .push_bind(words(&leaf.equity))
                    .push_bind(words(&leaf.debt));
            },
        )
        .await
        .context("storing the users")?;
        insert_tree(&mut tx, committed.tree()).await?;
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
        let (pool, statement) = open_store(path, FORMAT).await?;
        let shape = statement.shape.dense("this store")?;
        let empty = empty_roots(shape.assets(), shape.depth());
        Ok(UserStore { pool, statement, shape, empty })
    }

    /// The dense shape of the store's tree.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// The statement the store belongs to.
    pub fn statement(&self) -> &StatementFile {
        &self.statement
    }

    /// The inclusion proof of user `id`.
    pub async fn user_proof(&self, id: &str) -> Result<UserProof> {
        let row = user_row(&self.pool, "leaf_index, nonce, equity, debt", id).await?;
        let leaf_index = u64::try_from(row.get::<i64, _>("leaf_index"))?;
        let nonce = HashHex::from_bytes(blob32(row.get("nonce"))?)?;
        let equity = from_words(row.get("equity"))?;
        let debt = from_words(row.get("debt"))?;

        let shape = self.shape;
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
        let size = self.shape.batch_size() as u64;
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
        tree_node(&self.pool, height, index, self.empty[height]).await
    }
}

/// The inclusion proof of user `id` from the store at `path`, of whichever
/// kind of tree the store holds.
pub async fn any_user_proof(path: &Path, id: &str) -> Result<AnyUserProof> {
    if store_format(path).await? == TIERED_FORMAT {
        Ok(AnyUserProof::Tiered(TieredUserStore::open(path).await?.user_proof(id).await?))
    } else {
        Ok(AnyUserProof::Dense(UserStore::open(path).await?.user_proof(id).await?))
    }
}

/// A new, empty store file at `path` (which must not exist), written fast
/// and unsafely: it is renamed into place only once complete.
pub(crate) async fn create_store(path: &Path) -> Result<SqlitePool> {
    ensure!(!path.exists(), "{} already exists", path.display());
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Off)
        .synchronous(SqliteSynchronous::Off);
    Ok(SqlitePoolOptions::new().max_connections(1).connect_with(options).await?)
}

/// Creates the tables of `schema` and the `meta` entries of a store.
pub(crate) async fn begin_store(
    tx: &mut SqliteConnection,
    schema: &[&str],
    format: &str,
    statement: &StatementFile,
) -> Result<()> {
    for table in schema {
        sqlx::query(table).execute(&mut *tx).await?;
    }
    insert_meta(tx, "format", format).await?;
    insert_meta(tx, "statement", &serde_json::to_string(statement)?).await
}

/// Opens the store at `path` read-only, checking it has `format`.
pub(crate) async fn open_store(path: &Path, format: &str) -> Result<(SqlitePool, StatementFile)> {
    let pool = read_only(path).await?;
    let found = meta(&pool, "format").await?;
    ensure!(found == format, "{} has format {found}, expected format {format}", path.display());
    let statement: StatementFile = serde_json::from_str(&meta(&pool, "statement").await?)
        .with_context(|| format!("the statement in {}", path.display()))?;
    Ok((pool, statement))
}

async fn read_only(path: &Path) -> Result<SqlitePool> {
    ensure!(path.is_file(), "{} does not exist", path.display());
    let options = SqliteConnectOptions::new().filename(path).read_only(true);
    SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .with_context(|| format!("opening {}", path.display()))
}

async fn store_format(path: &Path) -> Result<String> {
    let pool = read_only(path).await?;
    let format = meta(&pool, "format").await;
    pool.close().await;
    format
}

/// Inserts every stored (non-padding) node of `tree` into the `nodes`
/// table.
async fn insert_tree(tx: &mut SqliteConnection, tree: &AccountTree) -> Result<()> {
    let nodes =
        (0..=tree.depth()).flat_map(|height| tree.level(height).iter().enumerate().map(move |node| (height, node)));
    insert_rows(tx, "nodes (height, idx, hash)", nodes, |mut row, (height, (index, hash))| {
        row.push_bind(height as i64).push_bind(index as i64).push_bind(HashHex(*hash).to_bytes().to_vec());
    })
    .await
    .context("storing the account tree")
}

/// Rows written by one `INSERT`: one statement per row would spend most of
/// a large store's write in per-statement overhead (2 minutes instead of 5 s
/// for 2^20 users). At most 6 values a row stays far below SQLite's limit
/// of bound values per statement.
const ROWS_PER_INSERT: usize = 512;

/// Inserts `rows` into `table` (`name (column, ...)`), [`ROWS_PER_INSERT`]
/// to a statement; `bind` binds one row's values in column order.
pub(crate) async fn insert_rows<'a, T>(
    tx: &mut SqliteConnection,
    table: &str,
    rows: impl IntoIterator<Item = T>,
    mut bind: impl FnMut(Separated<'_, 'a, Sqlite, &'static str>, T),
) -> Result<()> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut insert = QueryBuilder::<Sqlite>::new(format!("INSERT INTO {table} "));
        insert.push_values(rows.by_ref().take(ROWS_PER_INSERT), &mut bind);
        insert.build().execute(&mut *tx).await?;
    }
    Ok(())
}

/// The node at `height` and `index` of the `nodes` table, or `empty` where
/// only padding lies below.
async fn tree_node(pool: &SqlitePool, height: usize, index: u64, empty: Hash) -> Result<Hash> {
    let row = sqlx::query("SELECT hash FROM nodes WHERE height = ? AND idx = ?")
        .bind(height as i64)
        .bind(i64::try_from(index)?)
        .fetch_optional(pool)
        .await?;
    match row {
        Some(row) => Ok(HashHex::from_bytes(blob32(row.get("hash"))?)?.0),
        None => Ok(empty),
    }
}

/// The `columns` of user `id`'s row, or an error naming the user.
pub(crate) async fn user_row(pool: &SqlitePool, columns: &str, id: &str) -> Result<SqliteRow> {
    sqlx::query(&format!("SELECT {columns} FROM users WHERE id = ?"))
        .bind(id)
        .fetch_optional(pool)
        .await?
        .with_context(|| format!("no user '{id}' in this snapshot"))
}

async fn insert_meta(tx: &mut SqliteConnection, key: &str, value: &str) -> Result<()> {
    sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?)").bind(key).bind(value).execute(tx).await?;
    Ok(())
}

pub(crate) async fn meta(pool: &SqlitePool, key: &str) -> Result<String> {
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

pub(crate) fn blob32(bytes: Vec<u8>) -> Result<[u8; 32]> {
    bytes.try_into().map_err(|b: Vec<u8>| anyhow::anyhow!("a hash record of {} bytes", b.len()))
}
