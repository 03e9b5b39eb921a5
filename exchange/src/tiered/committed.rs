//! A snapshot committed to a tiered tree: every user gets a secret nonce and
//! the sparse leaf of the smallest tier that holds them; users are laid out
//! tier by tier, each tier's users cut into that tier's batches.

use std::ops::Range;

use anyhow::{Context, Result, ensure};
use rand::Rng;
use zkpor_circuits::account::{Nonce, draw_nonce};
use zkpor_circuits::merkle::AccountTree;
use zkpor_circuits::sparse::batch::TierBatchWitness;
use zkpor_circuits::sparse::leaf::{Slot, SparseLeaf};
use zkpor_circuits::sparse::shape::TieredShape;
use zkpor_circuits::sparse::tier::{Tier, TierSet};
use zkpor_circuits::statement::Statement;
use zkpor_snapshot::{Account, Asset, Snapshot};

/// One batch of the tree: a tier and the users it holds, as positions in
/// tree order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TierBatch {
    /// Index of the tier in the shape's tier set.
    pub tier: usize,
    /// Its users, as a range of tree positions.
    pub users: Range<usize>,
}

/// A snapshot with its tiered tree and statement.
pub struct TieredCommitted {
    shape: TieredShape,
    /// The snapshot's assets (its balances are not kept: the leaves hold them).
    assets: Vec<Asset>,
    /// Per tree position: the user's id.
    ids: Vec<String>,
    /// Per tree position: the secret nonce.
    nonces: Vec<Nonce>,
    /// Per tree position: the leaf.
    leaves: Vec<SparseLeaf>,
    batches: Vec<TierBatch>,
    batch_trees: Vec<AccountTree>,
    upper: AccountTree,
    statement: Statement,
}

impl TieredCommitted {
    /// Draws a nonce per account (in file order), puts each user in the
    /// smallest tier of `tiers` that holds them, and builds the tree with
    /// `arity` children per aggregation node.
    pub fn new<R: Rng + ?Sized>(snapshot: Snapshot, tiers: TierSet, arity: usize, rng: &mut R) -> Result<Self> {
        let assets = snapshot.assets().len();
        ensure!(tiers.assets() == assets, "the tier set is for {} assets, the snapshot lists {assets}", tiers.assets());
        let mut by_tier: Vec<Vec<(usize, Nonce, SparseLeaf)>> = vec![Vec::new(); tiers.tiers().len()];
        for (index, account) in snapshot.accounts().iter().enumerate() {
            let (nonce, id_hash) = draw_nonce(&account.id, rng);
            let holdings = holdings(account);
            let tier = tiers.tier_for(holdings.len()).expect("the last tier has a slot per asset");
            let leaf = SparseLeaf::new(id_hash, &holdings, tiers.tier(tier).slots, assets)
                .with_context(|| format!("account '{}' ({})", account.id, account.origin))?;
            by_tier[tier].push((index, nonce, leaf));
        }

        let mut batches = Vec::new();
        let (mut ids, mut nonces, mut leaves) = (Vec::new(), Vec::new(), Vec::new());
        for (tier, users) in by_tier.into_iter().enumerate() {
            let size = tiers.tier(tier).batch_size;
            for start in (0..users.len()).step_by(size) {
                let begin = leaves.len() + start;
                batches.push(TierBatch { tier, users: begin..begin + size.min(users.len() - start) });
            }
            for (account, nonce, leaf) in users {
                ids.push(snapshot.accounts()[account].id.clone());
                nonces.push(nonce);
                leaves.push(leaf);
            }
        }
        let shape = TieredShape::fit(tiers, arity, batches.len())?;
        let batch_trees: Vec<AccountTree> = batches
            .iter()
            .map(|batch| {
                let tier = shape.tiers().tier(batch.tier);
                let hashes = leaves[batch.users.clone()].iter().map(SparseLeaf::hash).collect();
                AccountTree::padded_with(hashes, shape.padding_leaf(tier), shape.batch_depth(tier))
            })
            .collect();
        let roots = batch_trees.iter().map(AccountTree::root).collect();
        let upper = AccountTree::padded_with(roots, shape.empty_batch_root(), shape.upper_depth());
        let statement = Statement {
            root: upper.root(),
            account_count: leaves.len() as u64,
            prices: snapshot.unit_prices().to_vec(),
            equity: snapshot.equity_totals().to_vec(),
            debt: snapshot.debt_totals().to_vec(),
        };
        let assets = snapshot.assets().to_vec();
        Ok(TieredCommitted { shape, assets, ids, nonces, leaves, batches, batch_trees, upper, statement })
    }

    /// The shape of the tree.
    pub fn shape(&self) -> &TieredShape {
        &self.shape
    }

    /// The snapshot's assets.
    pub fn assets(&self) -> &[Asset] {
        &self.assets
    }

    /// The statement the tree proves.
    pub fn statement(&self) -> &Statement {
        &self.statement
    }

    /// The batches in tree order.
    pub fn batches(&self) -> &[TierBatch] {
        &self.batches
    }

    /// The binary tree of batch `index`.
    pub fn batch_tree(&self, index: usize) -> &AccountTree {
        &self.batch_trees[index]
    }

    /// The tree above the batch roots: its leaves are the batch roots.
    pub fn upper_tree(&self) -> &AccountTree {
        &self.upper
    }

    /// The tier of batch `index`.
    pub fn batch_tier(&self, index: usize) -> Tier {
        self.shape.tiers().tier(self.batches[index].tier)
    }

    /// The users in tree order: the id, the nonce and the leaf.
    pub fn users(&self) -> impl Iterator<Item = (&str, &Nonce, &SparseLeaf)> {
        self.ids.iter().zip(&self.nonces).zip(&self.leaves).map(|((id, nonce), leaf)| (id.as_str(), nonce, leaf))
    }

    /// The witness of batch `index`, with its tier's index.
    pub fn batch_witness(&self, index: usize) -> Result<(usize, TierBatchWitness)> {
        let batch = self.batches.get(index).with_context(|| format!("batch {index} is past the last batch"))?;
        let tier = self.shape.tiers().tier(batch.tier);
        let witness = TierBatchWitness::new(tier, &self.statement.prices, &self.leaves[batch.users.clone()])?;
        Ok((batch.tier, witness))
    }
}

/// The tiers a snapshot is proven on by default: [`TierSet::fit`] of its
/// assets, less the tiers whose few users are cheaper to prove in the next
/// tier up ([`TierSet::trimmed_for`]).
pub fn default_tiers(snapshot: &Snapshot) -> Result<TierSet> {
    let tiers = TierSet::fit(snapshot.assets().len())?;
    Ok(tiers.trimmed_for(snapshot.accounts().iter().map(|account| account.balances.nonzero().len())))
}

/// An account's non-zero balances as slots.
fn holdings(account: &Account) -> Vec<Slot> {
    account.balances.nonzero().map(|(asset, balance)| Slot { asset: asset as u16, balance }).collect()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;
    use zkpor_circuits::sparse::tier::Tier;
    use zkpor_circuits::sparse::tree::{batch_root, tiered_root};

    use super::*;
    use crate::tiered::test_support::snapshot_of;

    #[test]
    fn a_small_snapshot_gets_the_fitted_tiers_without_those_that_do_not_pay() {
        let balances: Vec<Vec<i64>> = vec![vec![5, 0, 0, 0], vec![1, 2, 3, 0], vec![0, 0, 0, 7]];
        let snapshot = snapshot_of(&balances);
        // Fitted: s2-b2048 (two users) and s4-b1024 (one); one batch of the
        // last tier holds all three for one circuit instead of two.
        assert_eq!(TierSet::fit(4).unwrap().tiers().len(), 2);
        assert_eq!(default_tiers(&snapshot).unwrap().to_string(), "14:s4-b1024");
    }

    #[test]
    fn users_go_to_the_smallest_tier_and_the_root_is_the_circuits_tree() {
        let tier = |slots, batch_size| Tier { slots, batch_size };
        let tiers = TierSet::new(4, 11, vec![tier(1, 2), tier(2, 4), tier(4, 2)]).unwrap();
        let balances: Vec<Vec<i64>> =
            vec![vec![5, 0, 0, 0], vec![1, 2, 0, 0], vec![0, 0, 0, 7], vec![1, 1, 1, 1], vec![0, 3, 0, 0]];
        let snapshot = snapshot_of(&balances);
        let committed = TieredCommitted::new(snapshot, tiers.clone(), 2, &mut ChaCha20Rng::seed_from_u64(3)).unwrap();
        let placed: Vec<(usize, Range<usize>)> =
            committed.batches().iter().map(|b| (b.tier, b.users.clone())).collect();
        assert_eq!(placed, vec![(0, 0..2), (0, 2..3), (1, 3..4), (2, 4..5)]);
        let ids: Vec<&str> = committed.users().map(|(id, _, _)| id).collect();
        assert_eq!(ids, vec!["user0", "user2", "user4", "user1", "user3"]);

        let leaves: Vec<SparseLeaf> = committed.users().map(|(_, _, leaf)| leaf.clone()).collect();
        let roots: Vec<_> = committed
            .batches()
            .iter()
            .map(|batch| batch_root(tiers.tier(batch.tier), &leaves[batch.users.clone()]))
            .collect();
        let expected = tiered_root(&roots, batch_root(tiers.tier(0), &[]), 2, committed.shape().levels());
        assert_eq!(committed.statement().root, expected);
        assert_eq!(committed.statement().account_count, 5);
    }
}
