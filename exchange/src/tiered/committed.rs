//! A snapshot committed to a tiered tree: every user gets a secret nonce and
//! the sparse leaf of the smallest tier that holds them; users are laid out
//! tier by tier, each tier's users cut into that tier's batches.

use std::ops::Range;

use anyhow::{Context, Result, ensure};
use rand::Rng;
use zkpor_circuits::Hash;
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

/// A user waiting for their tier to settle: account index, nonce, id hash
/// and non-zero holdings.
type PlacedUser = (usize, Nonce, Hash, Vec<Slot>);

impl TieredCommitted {
    /// Draws a nonce per account (in file order), puts each user in the
    /// smallest tier of `tiers` that holds them, lifts users into the free
    /// places of higher tiers' batches where that saves a batch
    /// ([`lift_into_free_places`]), and builds the tree with at most
    /// `max_children` children per aggregation node.
    pub fn new<R: Rng + ?Sized>(snapshot: Snapshot, tiers: TierSet, max_children: usize, rng: &mut R) -> Result<Self> {
        let assets = snapshot.assets().len();
        ensure!(tiers.assets() == assets, "the tier set is for {} assets, the snapshot lists {assets}", tiers.assets());
        // Each user by tier; the leaves are made once every user's tier is
        // settled.
        let mut by_tier: Vec<Vec<PlacedUser>> = vec![Vec::new(); tiers.tiers().len()];
        for (index, account) in snapshot.accounts().iter().enumerate() {
            let (nonce, id_hash) = draw_nonce(&account.id, rng);
            let holdings = holdings(account);
            let tier = tiers.tier_for(holdings.len()).expect("the last tier has a slot per asset");
            by_tier[tier].push((index, nonce, id_hash, holdings));
        }
        let sizes: Vec<usize> = tiers.tiers().iter().map(|tier| tier.batch_size).collect();
        lift_into_free_places(&mut by_tier, &sizes);

        let mut batches = Vec::new();
        let (mut ids, mut nonces, mut leaves) = (Vec::new(), Vec::new(), Vec::new());
        for (tier, users) in by_tier.into_iter().enumerate() {
            let Tier { slots, batch_size: size } = tiers.tier(tier);
            for start in (0..users.len()).step_by(size) {
                let begin = leaves.len() + start;
                batches.push(TierBatch { tier, users: begin..begin + size.min(users.len() - start) });
            }
            for (index, nonce, id_hash, holdings) in users {
                let account = &snapshot.accounts()[index];
                let leaf = SparseLeaf::new(id_hash, &holdings, slots, assets)
                    .with_context(|| format!("account '{}' ({})", account.id, account.origin))?;
                ids.push(account.id.clone());
                nonces.push(nonce);
                leaves.push(leaf);
            }
        }
        let shape = TieredShape::fit(tiers, max_children, batches.len())?;
        let batch_trees: Vec<AccountTree> = batches
            .iter()
            .map(|batch| {
                let tier = shape.tiers().tier(batch.tier);
                let hashes = leaves[batch.users.clone()].iter().map(SparseLeaf::hash).collect();
                AccountTree::padded_with(hashes, shape.padding_leaf(tier), shape.batch_depth(tier))
            })
            .collect();
        let upper = upper_tree(&shape, batch_trees.iter().map(AccountTree::root));
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

    /// The tree above the batch roots: its leaves are the batch roots, each
    /// at its [`TieredShape::batch_slot`], and empty batch roots.
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

/// Lifts users into the free places of the last batches of higher tiers
/// where that saves batches of their own tier: for each tier from the
/// lowest, if the free places above hold the users of its last, partly
/// filled batch (and any whole batches more), its last users move there,
/// filling the lowest tiers first (their places are of no use to the tiers
/// above them). A user in a higher tier than they need only has more
/// padding slots; no batch is added anywhere. `by_tier` holds each tier's
/// users in order, `sizes` each tier's batch size.
pub fn lift_into_free_places<T>(by_tier: &mut [Vec<T>], sizes: &[usize]) {
    let free = |users: usize, size: usize| users.div_ceil(size) * size - users;
    for tier in 0..by_tier.len() {
        let (size, count) = (sizes[tier], by_tier[tier].len());
        let rest = count % size;
        let above: usize = (tier + 1..by_tier.len()).map(|up| free(by_tier[up].len(), sizes[up])).sum();
        if rest == 0 || above < rest {
            continue;
        }
        let moving = rest + (above - rest).min(count - rest) / size * size;
        let mut movers = by_tier[tier].split_off(count - moving);
        for up in tier + 1..by_tier.len() {
            let take = free(by_tier[up].len(), sizes[up]).min(movers.len());
            by_tier[up].extend(movers.drain(..take));
        }
    }
}

/// The binary tree above the batch roots of `shape`, each root at its
/// batch's slot.
fn upper_tree(shape: &TieredShape, roots: impl ExactSizeIterator<Item = Hash>) -> AccountTree {
    let empty = shape.empty_batch_root();
    let mut leaves = Vec::new();
    for (batch, root) in roots.enumerate() {
        let slot = usize::try_from(shape.batch_slot(batch as u64)).expect("a slot of a tree held in memory");
        if leaves.len() <= slot {
            leaves.resize(slot + 1, empty);
        }
        leaves[slot] = root;
    }
    AccountTree::padded_with(leaves, empty, shape.upper_depth())
}

/// An account's non-zero balances as slots.
fn holdings(account: &Account) -> Vec<Slot> {
    account.balances.nonzero().map(|(asset, balance)| Slot { asset: asset as u16, balance }).collect()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;
    use zkpor_circuits::sparse::tree::{batch_root, tiered_root};

    use super::*;
    use crate::tiered::test_support::snapshot_of;

    #[test]
    fn users_are_lifted_into_free_places_above_only_where_a_batch_is_saved() {
        let counts = |by_tier: &[Vec<u32>]| by_tier.iter().map(Vec::len).collect::<Vec<_>>();
        // Tier 0 ends in a batch of 3 (of 4); tiers 1 and 2 have 1 and 2
        // free places: its last three users move up, lowest tier first.
        let mut by_tier = vec![(0..7).collect::<Vec<u32>>(), vec![10, 11, 12], vec![20, 21, 22, 23, 24, 25]];
        lift_into_free_places(&mut by_tier, &[4, 4, 4]);
        assert_eq!(by_tier, vec![vec![0, 1, 2, 3], vec![10, 11, 12, 4], vec![20, 21, 22, 23, 24, 25, 5, 6]]);
        // Two free places above cannot take a last batch of three: nobody moves.
        let mut by_tier = vec![(0..7).collect::<Vec<u32>>(), vec![10, 11]];
        lift_into_free_places(&mut by_tier, &[4, 4]);
        assert_eq!(counts(&by_tier), vec![7, 2]);
        // Room for the last batch and a whole one more: both move, and the
        // tier is left empty.
        let mut by_tier = vec![vec![0, 1, 2], vec![10]];
        lift_into_free_places(&mut by_tier, &[2, 8]);
        assert_eq!(by_tier, vec![vec![], vec![10, 0, 1, 2]]);
    }

    #[test]
    fn a_small_snapshot_gets_the_fitted_tiers_without_those_that_do_not_pay() {
        let balances: Vec<Vec<i64>> = vec![vec![5, 0, 0, 0], vec![1, 2, 3, 0], vec![0, 0, 0, 7]];
        let snapshot = snapshot_of(&balances);
        // Fitted: s2 (two users) and s4 (one); one batch of the last tier
        // holds all three for one circuit instead of two.
        let fitted = TierSet::fit(4).unwrap();
        assert_eq!(fitted.tiers().len(), 2);
        assert_eq!(default_tiers(&snapshot).unwrap().tiers(), &fitted.tiers()[1..]);
    }

    /// Each batch's root, computed from its tier and users.
    fn batch_roots(committed: &TieredCommitted) -> Vec<Hash> {
        let leaves: Vec<SparseLeaf> = committed.users().map(|(_, _, leaf)| leaf.clone()).collect();
        let tiers = committed.shape().tiers();
        committed
            .batches()
            .iter()
            .map(|batch| batch_root(tiers.tier(batch.tier), &leaves[batch.users.clone()]))
            .collect()
    }

    #[test]
    fn users_go_to_the_smallest_tier_and_the_root_is_the_circuits_tree() {
        let tier = |slots, batch_size| Tier { slots, batch_size };
        let tiers = TierSet::new(4, 11, vec![tier(1, 2), tier(2, 4), tier(4, 2)]).unwrap();
        // Tier 0: five users (three batches, the last with a free place);
        // tiers 1 and 2 full, so nobody can be lifted.
        let balances: Vec<Vec<i64>> = vec![
            vec![5, 0, 0, 0],
            vec![1, 2, 0, 0],
            vec![0, 0, 0, 7],
            vec![1, 1, 1, 1],
            vec![0, 3, 0, 0],
            vec![0, 1, 1, 0],
            vec![2, 0, 3, 4],
            vec![1, 0, 0, 1],
            vec![0, 0, 0, 1],
            vec![0, 0, 2, 2],
            vec![9, 0, 0, 0],
        ];
        let committed =
            TieredCommitted::new(snapshot_of(&balances), tiers.clone(), 2, &mut ChaCha20Rng::seed_from_u64(3)).unwrap();
        let placed: Vec<(usize, Range<usize>)> =
            committed.batches().iter().map(|b| (b.tier, b.users.clone())).collect();
        assert_eq!(placed, vec![(0, 0..2), (0, 2..4), (0, 4..5), (1, 5..9), (2, 9..11)]);
        let ids: Vec<&str> = committed.users().map(|(id, _, _)| id).collect();
        assert_eq!(
            ids,
            ["user0", "user2", "user4", "user8", "user10", "user1", "user5", "user7", "user9", "user3", "user6"]
        );

        let roots = batch_roots(&committed);
        assert_eq!(committed.shape().to_string(), format!("tiers {tiers} over 4 assets, children 2-2-2"));
        let expected = tiered_root(&roots, committed.shape());
        assert_eq!(committed.statement().root, expected);
        assert_eq!(committed.statement().account_count, 11);

        // Nodes of three children: the fourth batch starts the second node,
        // which takes an empty batch, and each node hashes a fourth, empty
        // slot.
        let wider =
            TieredCommitted::new(snapshot_of(&balances), tiers.clone(), 3, &mut ChaCha20Rng::seed_from_u64(3)).unwrap();
        assert_eq!(wider.shape().to_string(), format!("tiers {tiers} over 4 assets, children 3-2"));
        assert_eq!(wider.statement().root, tiered_root(&roots, wider.shape()));
        assert_ne!(wider.statement().root, expected);
    }

    #[test]
    fn users_lifted_to_a_higher_tier_get_its_slots() {
        let tier = |slots, batch_size| Tier { slots, batch_size };
        let tiers = TierSet::new(4, 11, vec![tier(1, 2), tier(2, 4), tier(4, 2)]).unwrap();
        // Three users of one asset (two batches of tier 0) fit the three
        // free places of tier 1's batch: tier 0 is left without a batch.
        let balances: Vec<Vec<i64>> =
            vec![vec![5, 0, 0, 0], vec![1, 2, 0, 0], vec![0, 0, 0, 7], vec![1, 1, 1, 1], vec![0, 3, 0, 0]];
        let committed =
            TieredCommitted::new(snapshot_of(&balances), tiers.clone(), 2, &mut ChaCha20Rng::seed_from_u64(3)).unwrap();
        let placed: Vec<(usize, Range<usize>)> =
            committed.batches().iter().map(|b| (b.tier, b.users.clone())).collect();
        assert_eq!(placed, vec![(1, 0..4), (2, 4..5)]);
        let users: Vec<(&str, usize)> = committed.users().map(|(id, _, leaf)| (id, leaf.slots.len())).collect();
        assert_eq!(users, [("user1", 2), ("user0", 2), ("user2", 2), ("user4", 2), ("user3", 4)]);
        let roots = batch_roots(&committed);
        assert_eq!(committed.statement().root, tiered_root(&roots, committed.shape()));
        assert_eq!(committed.statement().equity[0], 7);
    }
}
