//! The store that answers any user's inclusion proof in a tiered tree: one
//! SQLite file with every user's slots and placement, each batch's subtree as
//! one record of its non-padding nodes, and the tree above the batch roots
//! (read once when the store is opened). A user's proof takes two reads.

use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use sqlx::{Row, SqlitePool};
use zkpor_circuits::Hash;
use zkpor_circuits::encoding::HashHex;
use zkpor_circuits::merkle::{AccountTree, empty_roots_over};
use zkpor_circuits::sparse::leaf::Slot;
use zkpor_circuits::sparse::shape::TieredShape;
use zkpor_snapshot::decimal::format_units;

use super::committed::TieredCommitted;
use super::user_proof::{SlotBalance, TieredUserProof};
use crate::published::{StatementFile, StatementShape};
use crate::user_proof::{InclusionPath, LevelPath};
use crate::user_store::{begin_store, blob32, create_store, insert_rows, open_store, user_row};

/// Version of the tiered store's layout, kept in its `meta` table.
pub(crate) const TIERED_FORMAT: &str = "tiered-1";

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
    "CREATE TABLE batch_trees (batch INTEGER PRIMARY KEY, leaves INTEGER NOT NULL, nodes BLOB NOT NULL)",
    "CREATE TABLE upper_tree (leaves INTEGER NOT NULL, nodes BLOB NOT NULL)",
];

/// Bytes of one stored slot: the asset index (2) and the balance (8).
const SLOT_BYTES: usize = 10;

/// An open tiered user-proof store.
pub struct TieredUserStore {
    pool: SqlitePool,
    statement: StatementFile,
    shape: TieredShape,
    /// Per tier: roots of all-padding subtrees inside a batch.
    batch_empty: Vec<Vec<Hash>>,
    /// The tree above the batch roots.
    upper: StoredTree,
}

impl TieredUserStore {
    /// Writes a new store at `path` (which must not exist) for a committed
    /// tiered tree described by `statement`.
    pub async fn create(path: &Path, committed: &TieredCommitted, statement: &StatementFile) -> Result<()> {
        let pool = create_store(path).await?;
        let mut tx = pool.begin().await?;
        begin_store(&mut tx, SCHEMA, TIERED_FORMAT, statement).await?;
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
            sqlx::query("INSERT INTO batch_trees (batch, leaves, nodes) VALUES (?, ?, ?)")
                .bind(batch_index as i64)
                .bind(tree.level(0).len() as i64)
                .bind(tree_bytes(tree))
                .execute(&mut *tx)
                .await
                .with_context(|| format!("storing the tree of batch {batch_index}"))?;
        }
        let upper = committed.upper_tree();
        sqlx::query("INSERT INTO upper_tree (leaves, nodes) VALUES (?, ?)")
            .bind(upper.level(0).len() as i64)
            .bind(tree_bytes(upper))
            .execute(&mut *tx)
            .await
            .context("storing the tree above the batches")?;
        tx.commit().await?;
        pool.close().await;
        Ok(())
    }

    /// Opens the store at `path`, read-only.
    pub async fn open(path: &Path) -> Result<Self> {
        let (pool, statement) = open_store(path, TIERED_FORMAT).await?;
        let StatementShape::Tiered(shape) = statement.shape.clone() else {
            bail!("{} is a tiered store but its statement has a dense shape", path.display());
        };
        let batch_empty = shape
            .tiers()
            .tiers()
            .iter()
            .map(|&tier| empty_roots_over(shape.padding_leaf(tier), shape.batch_depth(tier)))
            .collect();
        let row = sqlx::query("SELECT leaves, nodes FROM upper_tree")
            .fetch_one(&pool)
            .await
            .with_context(|| format!("reading the tree above the batches in {}", path.display()))?;
        let empty = empty_roots_over(shape.empty_batch_root(), shape.upper_depth());
        let upper = StoredTree::new(row.get("leaves"), row.get("nodes"), empty)?;
        Ok(TieredUserStore { pool, statement, shape, batch_empty, upper })
    }

    /// The statement the store belongs to.
    pub fn statement(&self) -> &StatementFile {
        &self.statement
    }

    /// The inclusion proof of user `id`.
    pub async fn user_proof(&self, id: &str) -> Result<TieredUserProof> {
        let row = user_row(&self.pool, "tier, batch, position, nonce, slots", id).await?;
        let tier_index = usize::try_from(row.get::<i64, _>("tier"))?;
        let batch = u64::try_from(row.get::<i64, _>("batch"))?;
        let position = u64::try_from(row.get::<i64, _>("position"))?;
        let nonce = HashHex::from_bytes(blob32(row.get("nonce"))?)?;
        let slots = slots_from(row.get("slots"))?;
        ensure!(tier_index < self.batch_empty.len(), "user '{id}' is stored in tier {tier_index}, past the tier set");
        let tier = self.shape.tiers().tier(tier_index);

        let row = sqlx::query("SELECT leaves, nodes FROM batch_trees WHERE batch = ?")
            .bind(i64::try_from(batch)?)
            .fetch_optional(&self.pool)
            .await?
            .with_context(|| format!("user '{id}' is stored in batch {batch}, which has no tree"))?;
        let batch_tree = StoredTree::new(row.get("leaves"), row.get("nodes"), self.batch_empty[tier_index].clone())?;
        let batch_depth = self.shape.batch_depth(tier);
        let siblings = (0..batch_depth).map(|height| batch_tree.sibling(height, position)).collect::<Result<_>>()?;
        let batch_root = batch_tree.node(batch_depth, 0)?;
        let slot = self.shape.batch_slot(batch);
        let mut low = 0;
        let levels = (0..self.shape.levels())
            .map(|level| {
                let top = low + self.shape.level_depth(level);
                let part = LevelPath {
                    siblings: (low..top).map(|height| self.upper.sibling(height, slot)).collect::<Result<_>>()?,
                    node: self.upper.node(top, slot >> top)?,
                };
                low = top;
                Ok(part)
            })
            .collect::<Result<_>>()?;
        let assets = &self.statement.assets;
        let slots = slots
            .iter()
            .map(|slot| {
                let asset = assets.get(usize::from(slot.asset)).with_context(|| {
                    format!("user '{id}' holds asset {} of the {} listed", slot.asset, assets.len())
                })?;
                Ok(SlotBalance {
                    asset: slot.asset,
                    symbol: asset.symbol.clone(),
                    decimals: asset.decimals,
                    equity: format_units(slot.equity().into(), asset.decimals),
                    debt: format_units(slot.debt().into(), asset.decimals),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(TieredUserProof {
            sequence: self.statement.sequence,
            shape: self.shape.clone(),
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
}

/// A tree read from the store: the non-padding nodes of each level, level
/// after level, over `leaves` leaves; padding nodes are the `empty` roots.
struct StoredTree {
    /// Per height: where its nodes start in `nodes`, and how many there are.
    levels: Vec<(usize, usize)>,
    /// The stored nodes, 32 bytes each, decoded when asked for.
    nodes: Vec<u8>,
    empty: Vec<Hash>,
}

impl StoredTree {
    fn new(leaves: i64, bytes: Vec<u8>, empty: Vec<Hash>) -> Result<Self> {
        let mut count = usize::try_from(leaves).context("a negative leaf count")?;
        let mut levels = Vec::with_capacity(empty.len());
        let mut start = 0;
        for _ in 0..empty.len() {
            levels.push((start, count));
            start += count;
            count = count.div_ceil(2);
        }
        ensure!(bytes.len() == start * 32, "a tree record of {} bytes, {} nodes expected", bytes.len(), start);
        Ok(StoredTree { levels, nodes: bytes, empty })
    }

    /// The node at `height` and `index`, padding included.
    fn node(&self, height: usize, index: u64) -> Result<HashHex> {
        let (start, count) = self.levels[height];
        match usize::try_from(index) {
            Ok(index) if index < count => {
                let at = (start + index) * 32;
                Ok(HashHex::from_bytes(self.nodes[at..at + 32].try_into().expect("32 bytes"))?)
            }
            _ => Ok(HashHex(self.empty[height])),
        }
    }

    /// The sibling at `height` of the path of leaf `leaf`.
    fn sibling(&self, height: usize, leaf: u64) -> Result<HashHex> {
        self.node(height, (leaf >> height) ^ 1)
    }
}

/// The non-padding nodes of `tree`, level after level, as bytes.
fn tree_bytes(tree: &AccountTree) -> Vec<u8> {
    (0..=tree.depth()).flat_map(|height| tree.level(height).iter().flat_map(|hash| HashHex(*hash).to_bytes())).collect()
}

fn slot_bytes(slots: &[Slot]) -> Vec<u8> {
    slots.iter().flat_map(|slot| slot.asset.to_le_bytes().into_iter().chain(slot.balance.to_le_bytes())).collect()
}

fn slots_from(bytes: Vec<u8>) -> Result<Vec<Slot>> {
    ensure!(bytes.len() % SLOT_BYTES == 0, "a slot record of {} bytes", bytes.len());
    Ok(bytes
        .chunks_exact(SLOT_BYTES)
        .map(|chunk| Slot {
            asset: u16::from_le_bytes([chunk[0], chunk[1]]),
            balance: i64::from_le_bytes(chunk[2..].try_into().expect("8 bytes")),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;
    use zkpor_circuits::sparse::tier::{Tier, TierSet};

    use super::*;
    use crate::published::PublishedTree;
    use crate::tiered::test_support::snapshot_of;
    use crate::user_proof::InclusionError;

    fn committed() -> TieredCommitted {
        committed_with(2)
    }

    fn committed_with(max_children: usize) -> TieredCommitted {
        let tier = |slots, batch_size| Tier { slots, batch_size };
        let tiers = TierSet::new(4, 11, vec![tier(1, 2), tier(2, 4), tier(4, 2)]).unwrap();
        let balances = vec![
            vec![5, 0, 0, 0],
            vec![3, -2, 0, 0],
            vec![0, 0, 0, 7],
            vec![1, 1, 1, -1],
            vec![0, 3, 0, 0],
            vec![0, 0, 9, 0],
            vec![2, 0, 0, 0],
        ];
        TieredCommitted::new(snapshot_of(&balances), tiers, max_children, &mut ChaCha20Rng::seed_from_u64(9)).unwrap()
    }

    async fn store(committed: &TieredCommitted) -> (tempfile::TempDir, TieredUserStore) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.sqlite");
        TieredUserStore::create(&path, committed, &committed.statement_file(3)).await.unwrap();
        (dir, TieredUserStore::open(&path).await.unwrap())
    }

    #[tokio::test]
    async fn every_users_proof_leads_to_the_committed_root() {
        // Nodes of two children, and one node of three whose fourth hash
        // slot is an empty batch without a proof.
        for (max_children, children) in [(2, "2-2"), (3, "3")] {
            let committed = committed_with(max_children);
            assert!(committed.shape().to_string().ends_with(&format!("children {children}")), "{}", committed.shape());
            every_users_proof_leads_to_the_root_of(&committed).await;
        }
    }

    async fn every_users_proof_leads_to_the_root_of(committed: &TieredCommitted) {
        let (_dir, store) = store(committed).await;
        let root = committed.statement().root;
        for (id, _, leaf) in committed.users() {
            let proof = store.user_proof(id).await.unwrap();
            assert_eq!(proof.verify(Some(root)), Ok(root), "{id}");
            assert_eq!(proof.leaf(), Ok(leaf.hash()));
            assert_eq!(proof.sequence, 3);
            let json = serde_json::to_string(&proof).unwrap();
            assert_eq!(crate::user_proof::AnyUserProof::from_json(&json).unwrap().verify(None), Ok(root));
        }
        let error = store.user_proof("nobody").await.unwrap_err().to_string();
        assert!(error.contains("no user 'nobody'"), "{error}");
    }

    #[tokio::test]
    async fn a_changed_proof_fails_and_says_where() {
        let committed = committed();
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
        assert!(matches!(fewer.verify(None), Err(InclusionError::Slots { .. })));

        let mut unordered = proof.clone();
        unordered.slots.swap(0, 1);
        assert!(matches!(unordered.verify(None), Err(InclusionError::Slots { .. })));

        let mut other_tier = proof.clone();
        other_tier.tier = 9;
        assert!(matches!(other_tier.verify(None), Err(InclusionError::Slots { .. })));

        let mut elsewhere = proof.clone();
        elsewhere.position = 2;
        assert!(matches!(elsewhere.verify(None), Err(InclusionError::Placement { .. })));

        let mut other_batch = proof.clone();
        other_batch.batch ^= 1;
        broken(other_batch.verify(None), "level 0");

        let mut short = proof.clone();
        short.path.batch.clear();
        assert!(matches!(short.verify(None), Err(InclusionError::PathLength { .. })));

        let wrong_root = store.user_proof("user0").await.unwrap().verify(Some(Hash::default()));
        assert!(matches!(wrong_root, Err(InclusionError::Root { .. })));
    }
}
