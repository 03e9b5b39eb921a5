//! The store that answers any user's inclusion proof, and serves agents the
//! batches' users: one SQLite file with every user's slots and placement,
//! each batch's subtree as one record of its non-padding nodes, and the
//! roots of every node above the batches (read once when the store is
//! opened). A user's proof takes two reads.

use std::path::Path;

use anyhow::{Context, Result, ensure};
use sqlx::query_builder::Separated;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use zkpor_circuits::Hash;
use zkpor_circuits::encoding::HashHex;
use zkpor_circuits::family::Family;
use zkpor_circuits::identity::id_hash;
use zkpor_circuits::leaf::{Leaf, Slot};
use zkpor_circuits::merkle::{BinaryTree, root_from_path};
use zkpor_circuits::tree::{TreeShape, UpperTree};
use zkpor_protocol::statement::StatementFile;
use zkpor_protocol::witness::{UserWire, WitnessBatch};
use zkpor_snapshot::decimal::format_units;

use crate::committed::CommittedSnapshot;
use crate::user_proof::{InclusionPath, LevelPath, SlotBalance, UserProof};

/// Version of the store's layout, kept in its `meta` table.
const FORMAT: &str = "family-1";

const SCHEMA: &[&str] = &[
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE users (
        id TEXT PRIMARY KEY,
        tier INTEGER NOT NULL,
        batch INTEGER NOT NULL,
        position INTEGER NOT NULL,
        nonce BLOB NOT NULL,
        slots BLOB NOT NULL
    ) WITHOUT ROWID",
    "CREATE INDEX users_by_place ON users (batch, position)",
    "CREATE TABLE batch_trees (batch INTEGER PRIMARY KEY, tier INTEGER NOT NULL, leaves INTEGER NOT NULL, nodes BLOB NOT NULL)",
    "CREATE TABLE node_roots (level INTEGER PRIMARY KEY, roots BLOB NOT NULL)",
];

/// Bytes of one stored slot: the asset index (2) and the balance (8).
const SLOT_BYTES: usize = 10;

/// An open user-proof store.
pub struct UserStore {
    pool: SqlitePool,
    statement: StatementFile,
    family: Family,
    upper: UpperTree,
}

impl UserStore {
    /// Writes a new store at `path` (which must not exist) for a committed
    /// snapshot described by `statement`.
    pub async fn create(path: &Path, committed: &CommittedSnapshot, statement: &StatementFile) -> Result<()> {
        let pool = create_store(path).await?;
        let mut tx = pool.begin().await?;
        begin_store(&mut tx, statement, committed.family()).await?;
        let mut users = committed.users();
        for (batch_index, batch) in committed.batches().iter().enumerate() {
            let rows = (0..batch.users.len())
                .map(|position| users.next().map(|user| (position, user)))
                .collect::<Option<Vec<_>>>()
                .context("internal error: fewer users than batch places")?;
            let columns = "users (id, tier, batch, position, nonce, slots)";
            insert_rows(&mut tx, columns, rows, |mut row, (position, (id, nonce, leaf))| {
                row.push_bind(id)
                    .push_bind(batch.tier as i64)
                    .push_bind(batch_index as i64)
                    .push_bind(position as i64)
                    .push_bind(nonce.to_bytes().to_vec())
                    .push_bind(slot_bytes(&leaf.slots));
            })
            .await
            .with_context(|| format!("storing the users of batch {batch_index}"))?;
            let tree = committed.batch_tree(batch_index);
            sqlx::query("INSERT INTO batch_trees (batch, tier, leaves, nodes) VALUES (?, ?, ?, ?)")
                .bind(batch_index as i64)
                .bind(batch.tier as i64)
                .bind(tree.level(0).len() as i64)
                .bind(tree_bytes(tree))
                .execute(&mut *tx)
                .await
                .with_context(|| format!("storing the tree of batch {batch_index}"))?;
        }
        for (level, roots) in committed.upper_tree().roots().iter().enumerate() {
            sqlx::query("INSERT INTO node_roots (level, roots) VALUES (?, ?)")
                .bind(level as i64)
                .bind(roots.iter().flat_map(|root| HashHex(*root).to_bytes()).collect::<Vec<u8>>())
                .execute(&mut *tx)
                .await
                .context("storing the nodes above the batches")?;
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
        let found = meta(&pool, "format").await?;
        ensure!(found == FORMAT, "{} has format {found}, expected format {FORMAT}", path.display());
        let statement: StatementFile = serde_json::from_str(&meta(&pool, "statement").await?)
            .with_context(|| format!("the statement in {}", path.display()))?;
        let family: Family = serde_json::from_str(&meta(&pool, "family").await?)
            .with_context(|| format!("the family in {}", path.display()))?;
        ensure!(
            family.name() == statement.family,
            "{}: the statement is of family {}, the store of {}",
            path.display(),
            statement.family,
            family.name()
        );
        let rows = sqlx::query("SELECT roots FROM node_roots ORDER BY level")
            .fetch_all(&pool)
            .await
            .with_context(|| format!("reading the nodes above the batches in {}", path.display()))?;
        let roots = rows
            .into_iter()
            .map(|row| {
                let bytes: Vec<u8> = row.get("roots");
                ensure!(bytes.len().is_multiple_of(32), "a node record of {} bytes", bytes.len());
                bytes.chunks_exact(32).map(|chunk| Ok(HashHex::from_bytes(chunk.try_into()?)?.0)).collect()
            })
            .collect::<Result<Vec<Vec<Hash>>>>()?;
        let shape = TreeShape::new(&family, usize::try_from(statement.batches)?);
        let upper =
            UpperTree::from_roots(shape, roots).map_err(|reason| anyhow::anyhow!("{}: {reason}", path.display()))?;
        ensure!(
            HashHex(upper.root()) == statement.root,
            "{}: the stored tree has another root than its statement",
            path.display()
        );
        Ok(UserStore { pool, statement, family, upper })
    }

    /// The statement the store belongs to.
    pub fn statement(&self) -> &StatementFile {
        &self.statement
    }

    /// The family of the store's tree.
    pub fn family(&self) -> &Family {
        &self.family
    }

    /// The inclusion proof of user `id`.
    pub async fn user_proof(&self, id: &str) -> Result<UserProof> {
        let row = sqlx::query("SELECT tier, batch, position, nonce, slots FROM users WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .with_context(|| format!("no user '{id}' in this snapshot"))?;
        let tier_index = usize::try_from(row.get::<i64, _>("tier"))?;
        let batch = u64::try_from(row.get::<i64, _>("batch"))?;
        let position = u64::try_from(row.get::<i64, _>("position"))?;
        let nonce = HashHex::from_bytes(blob32(row.get("nonce"))?)?;
        let slots = slots_from(row.get("slots"))?;
        let (tree_tier, batch_tree) = self.batch_tree(batch).await?;
        ensure!(tree_tier == tier_index, "user '{id}' is stored in tier {tier_index}, their batch in tier {tree_tier}");
        let siblings = batch_tree.path(position).into_iter().map(HashHex).collect();
        let batch_root = HashHex(batch_tree.root());
        let mut node = batch_tree.root();
        let levels = self
            .upper
            .path(usize::try_from(batch)?)
            .into_iter()
            .map(|part| {
                node = root_from_path(node, part.slot as u64, &part.siblings);
                let siblings = part.siblings.into_iter().map(HashHex).collect();
                LevelPath { slot: part.slot as u64, siblings, node: HashHex(node) }
            })
            .collect();
        let assets = &self.statement.assets;
        let slots = slots
            .iter()
            .map(|slot| match assets.get(usize::from(slot.asset)) {
                Some(asset) => SlotBalance {
                    asset: slot.asset,
                    symbol: asset.symbol.clone(),
                    decimals: asset.decimals,
                    equity: format_units(slot.equity().into(), asset.decimals),
                    debt: format_units(slot.debt().into(), asset.decimals),
                },
                None => SlotBalance {
                    asset: slot.asset,
                    symbol: String::new(),
                    decimals: 0,
                    equity: "0".into(),
                    debt: "0".into(),
                },
            })
            .collect();
        Ok(UserProof {
            sequence: self.statement.sequence,
            family: self.statement.family.clone(),
            root: self.statement.root,
            id: id.to_string(),
            nonce,
            tier: tier_index,
            batch,
            position,
            slots,
            path: InclusionPath { batch: siblings, batch_root, levels },
        })
    }

    /// The users of batch `index`, ids hidden behind their hashes: what an
    /// agent proving the sequence receives.
    pub async fn witness_batch(&self, index: u64) -> Result<WitnessBatch> {
        let (tier, _) = self.batch_tree(index).await?;
        let rows = sqlx::query("SELECT id, nonce, slots FROM users WHERE batch = ? ORDER BY position")
            .bind(i64::try_from(index)?)
            .fetch_all(&self.pool)
            .await
            .with_context(|| format!("reading the users of batch {index}"))?;
        let users = rows
            .iter()
            .map(|row| {
                let id: String = row.get("id");
                let nonce = HashHex::from_bytes(blob32(row.get("nonce"))?)?;
                let slots = slots_from(row.get("slots"))?;
                Ok(UserWire::from(&Leaf { id_hash: id_hash(&id, &nonce), slots }))
            })
            .collect::<Result<_>>()?;
        Ok(WitnessBatch { sequence: self.statement.sequence, batch: index, tier, users })
    }

    /// Batch `index`'s tier and tree.
    async fn batch_tree(&self, index: u64) -> Result<(usize, BinaryTree)> {
        let row = sqlx::query("SELECT tier, leaves, nodes FROM batch_trees WHERE batch = ?")
            .bind(i64::try_from(index)?)
            .fetch_optional(&self.pool)
            .await?
            .with_context(|| format!("batch {index} is past the last batch ({} batches)", self.statement.batches))?;
        let tier_index = usize::try_from(row.get::<i64, _>("tier"))?;
        let tiers = self.family.tiers();
        ensure!(tier_index < tiers.tiers().len(), "batch {index} is stored in tier {tier_index}, past the tiers");
        let tier = tiers.tier(tier_index);
        let tree = stored_tree(row.get("leaves"), row.get("nodes"), Leaf::padding(tier.slots).hash(), tier.depth())?;
        Ok((tier_index, tree))
    }
}

/// A batch tree from its stored nodes, level after level: the leaves, the
/// rest rebuilt and checked.
fn stored_tree(leaves: i64, bytes: Vec<u8>, padding: Hash, depth: usize) -> Result<BinaryTree> {
    let count = usize::try_from(leaves).context("a negative leaf count")?;
    ensure!(bytes.len() >= count * 32, "a tree record of {} bytes for {count} leaves", bytes.len());
    let hashes = bytes[..count * 32]
        .chunks_exact(32)
        .map(|chunk| Ok(HashHex::from_bytes(chunk.try_into()?)?.0))
        .collect::<Result<Vec<Hash>>>()?;
    let tree = BinaryTree::new(hashes, padding, depth);
    ensure!(tree_bytes(&tree) == bytes, "a batch tree record that is not the tree of its leaves");
    Ok(tree)
}

/// The non-padding nodes of `tree`, level after level, as bytes.
fn tree_bytes(tree: &BinaryTree) -> Vec<u8> {
    (0..=tree.depth()).flat_map(|height| tree.level(height).iter().flat_map(|hash| HashHex(*hash).to_bytes())).collect()
}

fn slot_bytes(slots: &[Slot]) -> Vec<u8> {
    slots.iter().flat_map(|slot| slot.asset.to_le_bytes().into_iter().chain(slot.balance.to_le_bytes())).collect()
}

fn slots_from(bytes: Vec<u8>) -> Result<Vec<Slot>> {
    ensure!(bytes.len().is_multiple_of(SLOT_BYTES), "a slot record of {} bytes", bytes.len());
    Ok(bytes
        .chunks_exact(SLOT_BYTES)
        .map(|chunk| Slot {
            asset: u16::from_le_bytes([chunk[0], chunk[1]]),
            balance: i64::from_le_bytes(chunk[2..].try_into().expect("8 bytes")),
        })
        .collect())
}

/// A new, empty store file at `path` (which must not exist), written fast
/// and unsafely: it is renamed into place only once complete.
async fn create_store(path: &Path) -> Result<SqlitePool> {
    ensure!(!path.exists(), "{} already exists", path.display());
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Off)
        .synchronous(SqliteSynchronous::Off);
    Ok(SqlitePoolOptions::new().max_connections(1).connect_with(options).await?)
}

/// Creates the tables and the `meta` entries of a store: its format, the
/// statement and the family's parameters.
async fn begin_store(tx: &mut SqliteConnection, statement: &StatementFile, family: &Family) -> Result<()> {
    for table in SCHEMA {
        sqlx::query(table).execute(&mut *tx).await?;
    }
    insert_meta(tx, "format", FORMAT).await?;
    insert_meta(tx, "statement", &serde_json::to_string(statement)?).await?;
    insert_meta(tx, "family", &serde_json::to_string(family)?).await
}

/// Rows written by one `INSERT`: one statement per row would spend most of
/// a large store's write in per-statement overhead (2 minutes instead of 5 s
/// for 2^20 users). At most 6 values a row stays far below SQLite's limit
/// of bound values per statement.
const ROWS_PER_INSERT: usize = 512;

/// Inserts `rows` into `table` (`name (column, ...)`), [`ROWS_PER_INSERT`]
/// to a statement; `bind` binds one row's values in column order.
async fn insert_rows<'a, T>(
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

async fn insert_meta(tx: &mut SqliteConnection, key: &str, value: &str) -> Result<()> {
    sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?)").bind(key).bind(value).execute(tx).await?;
    Ok(())
}

async fn meta(pool: &SqlitePool, key: &str) -> Result<String> {
    let row: Option<SqliteRow> =
        sqlx::query("SELECT value FROM meta WHERE key = ?").bind(key).fetch_optional(pool).await?;
    Ok(row.with_context(|| format!("the store has no '{key}' entry"))?.get("value"))
}

fn blob32(bytes: Vec<u8>) -> Result<[u8; 32]> {
    bytes.try_into().map_err(|b: Vec<u8>| anyhow::anyhow!("a hash record of {} bytes", b.len()))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    use super::*;
    use crate::committed::test_support::{family, snapshot_of};
    use crate::user_proof::InclusionError;

    fn committed(children: usize) -> CommittedSnapshot {
        let balances = vec![
            vec![5, 0, 0, 0],
            vec![3, -2, 0, 0],
            vec![0, 0, 0, 7],
            vec![1, 1, 1, -1],
            vec![0, 3, 0, 0],
            vec![0, 0, 9, 0],
            vec![2, 0, 0, 0],
        ];
        CommittedSnapshot::new(snapshot_of(&balances), &family(children), &mut ChaCha20Rng::seed_from_u64(9)).unwrap()
    }

    async fn store(committed: &CommittedSnapshot) -> (tempfile::TempDir, UserStore) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.sqlite");
        UserStore::create(&path, committed, &committed.statement_file(3)).await.unwrap();
        (dir, UserStore::open(&path).await.unwrap())
    }

    #[tokio::test]
    async fn every_users_proof_leads_to_the_committed_root_and_batches_serve_their_users() {
        for children in [2, 3] {
            let committed = committed(children);
            let (_dir, store) = store(&committed).await;
            let root = committed.statement().root;
            for (id, _, leaf) in committed.users() {
                let proof = store.user_proof(id).await.unwrap();
                assert_eq!(proof.verify(Some(root)), Ok(root), "{id}");
                assert_eq!(proof.leaf(), Ok(leaf.hash()));
                assert_eq!(proof.sequence, 3);
                let json = serde_json::to_string(&proof).unwrap();
                assert_eq!(serde_json::from_str::<UserProof>(&json).unwrap().verify(None), Ok(root));
            }
            for index in 0..committed.batches().len() {
                let served = store.witness_batch(index as u64).await.unwrap();
                assert_eq!(served.tier, committed.batches()[index].tier);
                let expected: Vec<UserWire> = committed.batch_leaves(index).iter().map(UserWire::from).collect();
                assert_eq!(served.users, expected);
            }
            let error = store.user_proof("nobody").await.unwrap_err().to_string();
            assert!(error.contains("no user 'nobody'"), "{error}");
            let error = store.witness_batch(99).await.unwrap_err().to_string();
            assert!(error.contains("past the last batch"), "{error}");
        }
    }

    #[tokio::test]
    async fn a_changed_proof_fails_and_says_where() {
        let committed = committed(2);
        let (_dir, store) = store(&committed).await;
        let proof = store.user_proof("user3").await.unwrap();
        assert_eq!(proof.slots.len(), 4, "user3 holds every asset");
        let broken = |error: Result<Hash, InclusionError>, part: &str| match error {
            Err(InclusionError::Broken { part: found, .. }) => assert_eq!(found, part),
            other => panic!("expected a broken {part} path, got {other:?}"),
        };

        let mut richer = proof.clone();
        richer.slots[0].equity = "2".into();
        broken(richer.verify(None), "batch");

        let mut moved = store.user_proof("user1").await.unwrap();
        moved.slots[1].asset = 2;
        broken(moved.verify(None), "batch");

        let mut both = proof.clone();
        both.slots[3].equity = "1".into();
        assert!(matches!(both.verify(None), Err(InclusionError::Balance { .. })));

        let mut fewer = proof.clone();
        fewer.slots.pop();
        broken(fewer.verify(None), "batch");

        let mut unordered = proof.clone();
        unordered.slots.swap(0, 1);
        assert!(matches!(unordered.verify(None), Err(InclusionError::Slots { .. })));

        let mut elsewhere = proof.clone();
        elsewhere.position ^= 1;
        broken(elsewhere.verify(None), "batch");

        let mut other_slot = proof.clone();
        other_slot.path.levels[0].slot ^= 1;
        broken(other_slot.verify(None), "level 0");

        let mut later = None;
        for (id, _, _) in committed.users() {
            let proof = store.user_proof(id).await.unwrap();
            if proof.position > 0 {
                later = Some(proof);
            }
        }
        let mut short = later.expect("a user past the first place of a batch");
        short.path.batch.clear();
        assert!(matches!(short.verify(None), Err(InclusionError::PathLength { .. })));

        let wrong_root = store.user_proof("user0").await.unwrap().verify(Some(Hash::default()));
        assert!(matches!(wrong_root, Err(InclusionError::Root { .. })));
    }
}
