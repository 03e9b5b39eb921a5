//! A snapshot committed to its family's tree: every user gets a secret nonce
//! and the leaf of the smallest tier that holds them; users are laid out
//! tier by tier, each tier's users cut into that tier's batches, and the
//! batches go under the family's nodes ([`TreeShape`]).

use std::ops::Range;

use anyhow::{Context, Result, ensure};
use rand::Rng;
use zkpor_circuits::Hash;
use zkpor_circuits::batch::TierBatchWitness;
use zkpor_circuits::family::Family;
use zkpor_circuits::identity::{Nonce, draw_nonce};
use zkpor_circuits::leaf::{Leaf, Slot};
use zkpor_circuits::merkle::BinaryTree;
use zkpor_circuits::statement::{Statement, asset_code, padded};
use zkpor_circuits::tier::Tier;
use zkpor_circuits::tree::{TreeShape, UpperTree};
use zkpor_protocol::statement::StatementFile;
use zkpor_snapshot::{Account, Asset, LoadOptions, Snapshot};

/// One batch of the tree: a tier and the users it holds, as positions in
/// tree order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TierBatch {
    /// Index of the tier in the family's tiers.
    pub tier: usize,
    /// Its users, as a range of tree positions.
    pub users: Range<usize>,
}

/// A snapshot with its tree and statement.
pub struct CommittedSnapshot {
    family: Family,
    /// The snapshot's assets (its balances are not kept: the leaves hold them).
    assets: Vec<Asset>,
    /// Per tree position: the user's id.
    ids: Vec<String>,
    /// Per tree position: the secret nonce.
    nonces: Vec<Nonce>,
    /// Per tree position: the leaf.
    leaves: Vec<Leaf>,
    batches: Vec<TierBatch>,
    batch_trees: Vec<BinaryTree>,
    upper: UpperTree,
    statement: Statement,
}

/// A user waiting for their tier to settle: account index, nonce, id hash
/// and non-zero holdings.
type PlacedUser = (usize, Nonce, Hash, Vec<Slot>);

impl CommittedSnapshot {
    /// Draws a nonce per account (in file order), puts each user in the
    /// smallest tier of `family` that holds them, lifts users into the free
    /// places of higher tiers' batches where that saves a batch
    /// ([`lift_into_free_places`]), and builds the tree.
    pub fn new<R: Rng + ?Sized>(snapshot: Snapshot, family: &Family, rng: &mut R) -> Result<Self> {
        check_fits(&snapshot, family)?;
        let tiers = family.tiers();
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
                let leaf = Leaf::new(id_hash, &holdings, slots, family.assets())
                    .with_context(|| format!("account '{}' ({})", account.id, account.origin))?;
                ids.push(account.id.clone());
                nonces.push(nonce);
                leaves.push(leaf);
            }
        }
        if batches.is_empty() {
            // A tree without users still has one batch: of padding users.
            batches.push(TierBatch { tier: 0, users: 0..0 });
        }
        let batch_trees: Vec<BinaryTree> = batches
            .iter()
            .map(|batch| {
                let tier = tiers.tier(batch.tier);
                let hashes = leaves[batch.users.clone()].iter().map(Leaf::hash).collect();
                BinaryTree::new(hashes, Leaf::padding(tier.slots).hash(), tier.depth())
            })
            .collect();
        let shape = TreeShape::new(family, batches.len());
        let upper = UpperTree::new(shape, batch_trees.iter().map(BinaryTree::root).collect());
        let assets = snapshot.assets().to_vec();
        let statement = Statement {
            root: upper.root(),
            account_count: leaves.len() as u64,
            assets: assets.iter().map(|asset| asset_code(&asset.symbol, asset.decimals)).collect(),
            prices: snapshot.unit_prices().to_vec(),
            equity: snapshot.equity_totals().to_vec(),
            debt: snapshot.debt_totals().to_vec(),
        };
        Ok(CommittedSnapshot {
            family: family.clone(),
            assets,
            ids,
            nonces,
            leaves,
            batches,
            batch_trees,
            upper,
            statement,
        })
    }

    /// The family the tree is built for.
    pub fn family(&self) -> &Family {
        &self.family
    }

    /// The snapshot's assets.
    pub fn assets(&self) -> &[Asset] {
        &self.assets
    }

    /// The statement the tree proves.
    pub fn statement(&self) -> &Statement {
        &self.statement
    }

    /// `statement.json` of this tree as sequence `sequence`.
    pub fn statement_file(&self, sequence: u64) -> StatementFile {
        StatementFile::new(&self.assets, &self.statement, self.family.name(), self.batches.len() as u64, sequence)
    }

    /// The unit prices of the family's asset slots: the snapshot's, then
    /// zero.
    pub fn slot_prices(&self) -> Vec<u64> {
        padded(&self.statement.prices, self.family.assets())
    }

    /// The batches in tree order.
    pub fn batches(&self) -> &[TierBatch] {
        &self.batches
    }

    /// The binary tree of batch `index`.
    pub fn batch_tree(&self, index: usize) -> &BinaryTree {
        &self.batch_trees[index]
    }

    /// The tree above the batch roots.
    pub fn upper_tree(&self) -> &UpperTree {
        &self.upper
    }

    /// The tier of batch `index`.
    pub fn batch_tier(&self, index: usize) -> Tier {
        self.family.tiers().tier(self.batches[index].tier)
    }

    /// The users in tree order: the id, the nonce and the leaf.
    pub fn users(&self) -> impl Iterator<Item = (&str, &Nonce, &Leaf)> {
        self.ids.iter().zip(&self.nonces).zip(&self.leaves).map(|((id, nonce), leaf)| (id.as_str(), nonce, leaf))
    }

    /// The leaves of batch `index`.
    pub fn batch_leaves(&self, index: usize) -> &[Leaf] {
        &self.leaves[self.batches[index].users.clone()]
    }

    /// The witness of batch `index`, with its tier's index.
    pub fn batch_witness(&self, index: usize) -> Result<(usize, TierBatchWitness)> {
        let batch = self.batches.get(index).with_context(|| format!("batch {index} is past the last batch"))?;
        let tier = self.family.tiers().tier(batch.tier);
        let witness = TierBatchWitness::new(tier, &self.slot_prices(), &self.leaves[batch.users.clone()])?;
        Ok((batch.tier, witness))
    }
}

/// How to load a snapshot for `family`: at most its assets.
pub fn load_options(family: &Family) -> LoadOptions {
    LoadOptions { max_assets: Some(family.assets()) }
}

/// Whether `snapshot` fits `family`: at most its assets and its users.
pub fn check_fits(snapshot: &Snapshot, family: &Family) -> Result<()> {
    let assets = snapshot.assets().len();
    ensure!(
        assets <= family.assets(),
        "the snapshot lists {assets} assets, but family {} holds at most {}; drop delisted assets or deploy a family of more",
        family.name(),
        family.assets()
    );
    let users = snapshot.accounts().len() as u64;
    ensure!(
        users <= family.max_users(),
        "the snapshot has {users} users, but family {} holds at most {}",
        family.name(),
        family.max_users()
    );
    Ok(())
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

/// An account's non-zero balances as slots.
fn holdings(account: &Account) -> Vec<Slot> {
    account.balances.nonzero().map(|(asset, balance)| Slot { asset: asset as u16, balance }).collect()
}

#[cfg(test)]
pub(crate) mod test_support {
    use zkpor_circuits::family::Family;
    use zkpor_circuits::tier::{Tier, TierSet};
    use zkpor_snapshot::decimal::Price;
    use zkpor_snapshot::{Account, Asset, LoadOptions, Location, Snapshot};

    /// A snapshot of users `user0`, `user1`, ... with these balances in
    /// assets `A0`, `A1`, ... (no decimals, price 1).
    pub(crate) fn snapshot_of(balances: &[Vec<i64>]) -> Snapshot {
        let assets = (0..balances[0].len())
            .map(|a| Asset { symbol: format!("A{a}"), decimals: 0, price: Price::parse("1").unwrap() })
            .collect();
        let accounts = balances
            .iter()
            .enumerate()
            .map(|(i, balances)| Account {
                id: format!("user{i}"),
                balances: balances.clone().into(),
                origin: Location { file: "balances.csv".into(), line: i + 2 },
            })
            .collect();
        Snapshot::new(assets, accounts, &LoadOptions::default()).unwrap()
    }

    /// A family of 4 assets in tiers of 1, 2 and 4 slots (batches of 2, 4
    /// and 2 users) under nodes of `children` children, for native tests.
    pub(crate) fn family(children: usize) -> Family {
        let tier = |slots, batch_size| Tier { slots, batch_size };
        let tiers = TierSet::new(4, 10, vec![tier(1, 2), tier(2, 4), tier(4, 2)]).unwrap();
        Family::new("test", tiers, children, children, children, 14, 30).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;
    use zkpor_circuits::merkle::padded_root;

    use super::test_support::{family, snapshot_of};
    use super::*;

    #[test]
    fn the_snapshot_total_bound_is_the_one_every_node_proves() {
        use zkpor_circuits::gadgets::totals::TOTAL_BITS;
        assert_eq!(zkpor_snapshot::bounds::MAX_TOTAL_UNITS, (1 << TOTAL_BITS) - 1);
    }

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

    /// Each batch's root, computed from its tier and users.
    fn batch_roots(committed: &CommittedSnapshot) -> Vec<Hash> {
        (0..committed.batches().len())
            .map(|index| {
                let tier = committed.batch_tier(index);
                let mut leaves: Vec<Hash> = committed.batch_leaves(index).iter().map(Leaf::hash).collect();
                leaves.resize(tier.batch_size, Leaf::padding(tier.slots).hash());
                padded_root(leaves, Leaf::padding(tier.slots).hash())
            })
            .collect()
    }

    fn balances() -> Vec<Vec<i64>> {
        vec![
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
        ]
    }

    #[test]
    fn users_go_to_the_smallest_tier_and_the_root_is_the_circuits_tree() {
        // Tier 0: five users (three batches, the last with a free place);
        // tiers 1 and 2 full, so nobody can be lifted.
        let committed =
            CommittedSnapshot::new(snapshot_of(&balances()), &family(2), &mut ChaCha20Rng::seed_from_u64(3)).unwrap();
        let placed: Vec<(usize, Range<usize>)> =
            committed.batches().iter().map(|b| (b.tier, b.users.clone())).collect();
        assert_eq!(placed, vec![(0, 0..2), (0, 2..4), (0, 4..5), (1, 5..9), (2, 9..11)]);
        let ids: Vec<&str> = committed.users().map(|(id, _, _)| id).collect();
        assert_eq!(
            ids,
            ["user0", "user2", "user4", "user8", "user10", "user1", "user5", "user7", "user9", "user3", "user6"]
        );
        let roots = batch_roots(&committed);
        let shape = TreeShape::new(&family(2), roots.len());
        assert_eq!(shape.slots, vec![2, 2, 2]);
        assert_eq!(committed.statement().root, UpperTree::new(shape, roots.clone()).root());
        assert_eq!(committed.statement().account_count, 11);
        assert_eq!(committed.statement().assets.len(), 4);

        // Nodes of three children: another tree, another root.
        let wider =
            CommittedSnapshot::new(snapshot_of(&balances()), &family(3), &mut ChaCha20Rng::seed_from_u64(3)).unwrap();
        assert_eq!(wider.statement().root, UpperTree::new(TreeShape::new(&family(3), 5), roots).root());
        assert_ne!(wider.statement().root, committed.statement().root);
    }

    #[test]
    fn users_lifted_to_a_higher_tier_get_its_slots() {
        // Three users of one asset (two batches of tier 0) fit the three
        // free places of tier 1's batch: tier 0 is left without a batch.
        let balances: Vec<Vec<i64>> =
            vec![vec![5, 0, 0, 0], vec![1, 2, 0, 0], vec![0, 0, 0, 7], vec![1, 1, 1, 1], vec![0, 3, 0, 0]];
        let committed =
            CommittedSnapshot::new(snapshot_of(&balances), &family(2), &mut ChaCha20Rng::seed_from_u64(3)).unwrap();
        let placed: Vec<(usize, Range<usize>)> =
            committed.batches().iter().map(|b| (b.tier, b.users.clone())).collect();
        assert_eq!(placed, vec![(1, 0..4), (2, 4..5)]);
        let users: Vec<(&str, usize)> = committed.users().map(|(id, _, leaf)| (id, leaf.slots.len())).collect();
        assert_eq!(users, [("user1", 2), ("user0", 2), ("user2", 2), ("user4", 2), ("user3", 4)]);
        assert_eq!(committed.statement().equity[0], 7);
    }

    #[test]
    fn a_snapshot_the_family_cannot_hold_is_refused() {
        let wide: Vec<Vec<i64>> = vec![vec![1, 0, 0, 0, 0]];
        let err = CommittedSnapshot::new(snapshot_of(&wide), &family(2), &mut ChaCha20Rng::seed_from_u64(3))
            .err()
            .expect("five assets do not fit");
        assert!(err.to_string().contains("lists 5 assets, but family test holds at most 4"), "{err}");
        // Fewer assets than the family holds: the rest are padding.
        let narrow: Vec<Vec<i64>> = vec![vec![1], vec![2]];
        let committed =
            CommittedSnapshot::new(snapshot_of(&narrow), &family(2), &mut ChaCha20Rng::seed_from_u64(3)).unwrap();
        assert_eq!(committed.statement().assets.len(), 1);
        assert_eq!(committed.slot_prices(), vec![1, 0, 0, 0]);
    }
}
