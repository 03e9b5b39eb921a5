//! Tiers: users grouped by how many assets they hold.
//!
//! Each tier has a slot count `S` and a batch size `B`; a batch of a tier
//! proves `B` users of at most `S` non-zero balances. `B` is as many users
//! as the rows hold, not a power of two: the batch's tree is padded with
//! padding users' leaves up to one, and subtrees of padding alone cost the
//! circuit nothing. Every tier's batch
//! circuit is padded to the same number of rows, so that one aggregation
//! circuit can verify a batch proof of any tier (see
//! [`crate::aggregation`]). The last tier has one slot per asset, so every
//! user fits somewhere.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::batch::largest_batch_size;
use crate::shape::MAX_BATCH_SIZE;

/// Most asset indices the sparse circuits accept (indices are range-checked
/// in 10 bits).
pub const MAX_SPARSE_ASSETS: usize = 1024;

/// One tier: `slots` balances per user, `batch_size` users per batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tier {
    /// Slots per user (`S`).
    pub slots: usize,
    /// Users per batch (`B`).
    pub batch_size: usize,
}

impl Tier {
    /// Leaves of a batch's binary tree: `B` rounded up to a power of two,
    /// those past the users holding the padding user's leaf.
    pub fn leaf_slots(&self) -> usize {
        self.batch_size.next_power_of_two()
    }

    /// Height of a batch's tree: `⌈log2 B⌉`.
    pub fn depth(&self) -> usize {
        self.leaf_slots().trailing_zeros() as usize
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s{}-b{}", self.slots, self.batch_size)
    }
}

/// The tiers of one deployment and the row count every tier's batch
/// circuit is padded to. Read from text or JSON, it is checked as
/// [`TierSet::new`] checks it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "TierSetFields")]
pub struct TierSet {
    assets: usize,
    degree_bits: usize,
    tiers: Vec<Tier>,
}

/// A tier set as read, before [`TierSet::new`] checks it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TierSetFields {
    assets: usize,
    degree_bits: usize,
    tiers: Vec<Tier>,
}

impl TryFrom<TierSetFields> for TierSet {
    type Error = TierSetError;

    fn try_from(fields: TierSetFields) -> Result<Self, TierSetError> {
        TierSet::new(fields.assets, fields.degree_bits, fields.tiers)
    }
}

/// Why a tier set is not acceptable.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TierSetError {
    /// The asset count is out of range.
    #[error("{0} assets: the sparse circuits take 2..={MAX_SPARSE_ASSETS}")]
    Assets(usize),
    /// No tiers, or tiers not strictly increasing in slots.
    #[error("tiers must be given in strictly increasing slot counts, got {0}")]
    Order(String),
    /// A tier's parameters are out of range.
    #[error("tier {tier}: {why}")]
    Tier {
        /// The tier.
        tier: Tier,
        /// What is wrong.
        why: String,
    },
    /// The largest tier cannot hold a user of every asset.
    #[error("the largest tier has {slots} slots; it must have one per asset ({assets})")]
    Coverage {
        /// Slots of the largest tier.
        slots: usize,
        /// Assets.
        assets: usize,
    },
    /// Not even two users of a tier's slot count fit the rows.
    #[error("not even two users of {slots} slots fit a batch circuit of 2^{degree_bits} rows over {assets} assets")]
    TooWide {
        /// Slots of the tier.
        slots: usize,
        /// Rows (log2) of the batch circuits.
        degree_bits: usize,
        /// Assets.
        assets: usize,
    },
    /// Text that is not `<log2 rows>:s<slots>-b<batch size>,...`.
    #[error("'{0}' is not a tier set such as 11:s2-b4,s4-b2 (log2 of the rows, then each tier's slots and batch size)")]
    Syntax(String),
    /// Rows out of range.
    #[error("2^{0} rows: batch circuits take 2^{MIN_DEGREE_BITS}..=2^{MAX_DEGREE_BITS}")]
    DegreeBits(usize),
}

/// Fewest rows (log2) a tier's batch circuit can have.
pub const MIN_DEGREE_BITS: usize = 8;
/// Most rows (log2) a tier's batch circuit can have.
pub const MAX_DEGREE_BITS: usize = 20;

impl TierSet {
    /// Rows (log2) of every batch circuit in [`TierSet::fit`]'s tier sets.
    pub const DEGREE_BITS: usize = 14;

    /// Most tiers [`TierSet::trimmed_for`] chooses among (it costs all
    /// `2^(tiers - 1)` subsets).
    pub const MAX_TRIMMED_TIERS: usize = 16;

    /// A checked tier set.
    pub fn new(assets: usize, degree_bits: usize, tiers: Vec<Tier>) -> Result<Self, TierSetError> {
        if !(2..=MAX_SPARSE_ASSETS).contains(&assets) {
            return Err(TierSetError::Assets(assets));
        }
        if !(MIN_DEGREE_BITS..=MAX_DEGREE_BITS).contains(&degree_bits) {
            return Err(TierSetError::DegreeBits(degree_bits));
        }
        let listed = || tiers.iter().map(Tier::to_string).collect::<Vec<_>>().join(", ");
        if tiers.is_empty() || tiers.windows(2).any(|pair| pair[0].slots >= pair[1].slots) {
            return Err(TierSetError::Order(listed()));
        }
        for &tier in &tiers {
            let invalid = |why: String| Err(TierSetError::Tier { tier, why });
            if !(1..=assets).contains(&tier.slots) {
                return invalid(format!("slots must be in 1..={assets}"));
            }
            if !(2..=MAX_BATCH_SIZE).contains(&tier.batch_size) {
                return invalid(format!("batch size must be in 2..={MAX_BATCH_SIZE}"));
            }
        }
        let largest = tiers[tiers.len() - 1].slots;
        if largest != assets {
            return Err(TierSetError::Coverage { slots: largest, assets });
        }
        Ok(TierSet { assets, degree_bits, tiers })
    }

    /// Slot counts of the default tiers below the last one, which has one
    /// slot per asset.
    pub const DEFAULT_SLOTS: [usize; 6] = [2, 6, 16, 32, 64, 128];

    /// The documented tier rule for `assets` assets, every batch circuit at
    /// 2^14 rows ([`TierSet::fit_rows`]).
    pub fn fit(assets: usize) -> Result<Self, TierSetError> {
        Self::fit_rows(assets, Self::DEGREE_BITS)
    }

    /// The tier rule for `assets` assets and batch circuits of
    /// `2^degree_bits` rows: the slot counts of [`TierSet::DEFAULT_SLOTS`]
    /// below `assets` and a last tier of one slot per asset, each with as
    /// many users as its circuit fits in the rows ([`largest_batch_size`]),
    /// two tiers at a time.
    pub fn fit_rows(assets: usize, degree_bits: usize) -> Result<Self, TierSetError> {
        if !(2..=MAX_SPARSE_ASSETS).contains(&assets) {
            return Err(TierSetError::Assets(assets));
        }
        if !(MIN_DEGREE_BITS..=MAX_DEGREE_BITS).contains(&degree_bits) {
            return Err(TierSetError::DegreeBits(degree_bits));
        }
        let slot_counts: Vec<usize> =
            Self::DEFAULT_SLOTS.into_iter().filter(|&slots| slots < assets).chain([assets]).collect();
        // Two threads take the tiers in turn from a shared counter; each
        // returns the sizes it fitted, by tier.
        let next = AtomicUsize::new(0);
        let mut fitted = vec![None; slot_counts.len()];
        std::thread::scope(|scope| {
            let fit_in_turn = || {
                let mut sizes = Vec::new();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&slots) = slot_counts.get(index) else { break };
                    sizes.push((index, largest_batch_size(assets, degree_bits, slots)));
                }
                sizes
            };
            let workers = [scope.spawn(fit_in_turn), scope.spawn(fit_in_turn)];
            for worker in workers {
                for (index, size) in worker.join().expect("laying out a tier circuit panicked") {
                    fitted[index] = size;
                }
            }
        });
        let tiers = slot_counts
            .iter()
            .zip(fitted)
            .map(|(&slots, batch_size)| {
                let batch_size = batch_size.ok_or(TierSetError::TooWide { slots, degree_bits, assets })?;
                Ok(Tier { slots, batch_size })
            })
            .collect::<Result<_, _>>()?;
        TierSet::new(assets, degree_bits, tiers)
    }

    /// Assets of the snapshot (`A`).
    pub fn assets(&self) -> usize {
        self.assets
    }

    /// Every batch circuit has `2^degree_bits` rows.
    pub fn degree_bits(&self) -> usize {
        self.degree_bits
    }

    /// The tiers, smallest first.
    pub fn tiers(&self) -> &[Tier] {
        &self.tiers
    }

    /// The tier at `index`.
    pub fn tier(&self, index: usize) -> Tier {
        self.tiers[index]
    }

    /// Reads `<log2 rows>:s<slots>-b<batch size>,...` (as [`fmt::Display`]
    /// writes it) for a snapshot of `assets` assets.
    pub fn parse(text: &str, assets: usize) -> Result<Self, TierSetError> {
        let syntax = || TierSetError::Syntax(text.to_string());
        let (rows, tiers) = text.trim().split_once(':').ok_or_else(syntax)?;
        let degree_bits = rows.trim().parse().map_err(|_| syntax())?;
        let tiers = tiers
            .split(',')
            .map(|tier| {
                let (slots, batch_size) = tier.trim().strip_prefix('s')?.split_once("-b")?;
                Some(Tier { slots: slots.parse().ok()?, batch_size: batch_size.parse().ok()? })
            })
            .collect::<Option<Vec<Tier>>>()
            .ok_or_else(syntax)?;
        TierSet::new(assets, degree_bits, tiers)
    }

    /// The smallest tier that holds a user of `held` non-zero balances.
    pub fn tier_for(&self, held: usize) -> Option<usize> {
        self.tiers.iter().position(|tier| tier.slots >= held)
    }

    /// The subset of these tiers that proves these users at the least cost,
    /// given how many non-zero balances each user holds (`held`, one entry
    /// per user). Every tier's batch circuit has the same rows, so a batch
    /// proof of any tier costs the same, and building a tier's circuit costs
    /// about one batch proof: the cost of a subset is its batches plus its
    /// tiers. A dropped tier's users go to the next tier kept; the last tier
    /// is always kept, so everyone still fits. Of equally cheap subsets, the
    /// one with the most tiers wins, then the one keeping the smaller tiers.
    ///
    /// On a large snapshot every tier pays for itself; on a small one, tiers
    /// with a few users each cost a nearly empty batch and a circuit, and
    /// merging them saves both. Every subset is costed, so a set of more than
    /// [`TierSet::MAX_TRIMMED_TIERS`] tiers is returned as it is.
    pub fn trimmed_for(&self, held: impl IntoIterator<Item = usize>) -> TierSet {
        if self.tiers.len() > Self::MAX_TRIMMED_TIERS {
            return self.clone();
        }
        let mut users = vec![0usize; self.tiers.len()];
        for count in held {
            if let Some(tier) = self.tier_for(count) {
                users[tier] += 1;
            }
        }
        let last = self.tiers.len() - 1;
        let cost = |kept: u32| {
            let mut cost = 0;
            let mut waiting = 0;
            for (index, tier) in self.tiers.iter().enumerate() {
                waiting += users[index];
                if index == last || kept & (1 << index) != 0 {
                    cost += waiting.div_ceil(tier.batch_size) + 1;
                    waiting = 0;
                }
            }
            cost
        };
        let all = (1u32 << last) - 1;
        let best =
            (0..=all).min_by_key(|&kept| (cost(kept), std::cmp::Reverse(kept.count_ones()), kept)).unwrap_or(all);
        let tiers =
            (0..self.tiers.len()).filter(|&i| i == last || best & (1 << i) != 0).map(|i| self.tiers[i]).collect();
        TierSet { assets: self.assets, degree_bits: self.degree_bits, tiers }
    }
}

impl fmt::Display for TierSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tiers: Vec<String> = self.tiers.iter().map(Tier::to_string).collect();
        write!(f, "{}:{}", self.degree_bits, tiers.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::super::batch::{TierBatchCircuit, laid_out_tier_rows, tier_row_budget};
    use super::*;

    /// Each fitted tier fits its rows and leaves room for at most three
    /// more users.
    fn assert_filled(set: &TierSet) {
        let budget = tier_row_budget(set.assets(), set.degree_bits());
        for &tier in set.tiers() {
            let rows = |batch_size| laid_out_tier_rows(set.assets(), Tier { batch_size, ..tier });
            assert!(rows(tier.batch_size) <= budget, "{tier} does not fit");
            assert!(
                tier.batch_size == MAX_BATCH_SIZE || rows(tier.batch_size + 4) > budget,
                "{tier} leaves room for four more users"
            );
        }
    }

    #[test]
    fn fit_covers_every_asset_count_and_fills_the_rows() {
        let set = TierSet::fit(220).unwrap();
        let slots: Vec<usize> = set.tiers().iter().map(|t| t.slots).collect();
        assert_eq!(slots, vec![2, 6, 16, 32, 64, 128, 220]);
        assert_eq!(set.tier_for(1), Some(0));
        assert_eq!(set.tier_for(7), Some(2));
        assert_eq!(set.tier_for(220), Some(6));
        assert_eq!(set.tier_for(221), None);
        assert_filled(&set);
        // Fewer slots, more users; the one-slot tier takes more than the
        // power of two below what fits.
        assert!(set.tiers().windows(2).all(|pair| pair[0].batch_size > pair[1].batch_size), "{set}");
        assert!(set.tier(0).batch_size > 2048, "{set}");
        let small = TierSet::fit(4).unwrap();
        assert_eq!(small.tiers().iter().map(|t| t.slots).collect::<Vec<_>>(), vec![2, 4]);
        assert_filled(&small);
    }

    #[test]
    fn fitted_tiers_over_many_assets_build_at_their_rows() {
        // Building adds about one constant per asset (two to a row) past
        // the rows laid out: the fit leaves room for them.
        let set = TierSet::fit(1024).unwrap();
        let widest = set.tiers().len() - 1;
        let circuit = TierBatchCircuit::build(&set, widest).unwrap();
        assert_eq!(circuit.data().common.degree_bits(), TierSet::DEGREE_BITS);
    }

    #[test]
    fn fit_refuses_rows_too_few_for_two_users() {
        assert_eq!(
            TierSet::fit_rows(1024, MIN_DEGREE_BITS),
            Err(TierSetError::TooWide { slots: 2, degree_bits: MIN_DEGREE_BITS, assets: 1024 })
        );
    }

    #[test]
    fn trimming_drops_tiers_that_do_not_pay_for_their_circuit() {
        let tier = |slots, batch_size| Tier { slots, batch_size };
        let sizes = [(2, 2048), (6, 1024), (16, 512), (32, 256), (64, 128), (128, 64), (220, 32)];
        let set = TierSet::new(220, 14, sizes.into_iter().map(|(s, b)| tier(s, b)).collect()).unwrap();
        let slots = |set: &TierSet| set.tiers().iter().map(|t| t.slots).collect::<Vec<_>>();
        // Many users everywhere: every tier pays for itself.
        let held = |counts: &[(usize, usize)]| {
            counts.iter().flat_map(|&(held, users)| std::iter::repeat_n(held, users)).collect::<Vec<_>>()
        };
        let large = held(&[(1, 30_000), (5, 20_000), (10, 5_000), (20, 3_000), (50, 3_000), (100, 3_000), (200, 500)]);
        assert_eq!(slots(&set.trimmed_for(large)), vec![2, 6, 16, 32, 64, 128, 220]);
        // A few users in the wide tiers: 50 + 60 share one batch of s64, 70
        // + 12 fill three of the last tier, two circuits and a batch fewer
        // than with every tier kept.
        let small = held(&[(1, 8_000), (5, 6_000), (10, 1_500), (20, 50), (50, 60), (100, 70), (200, 12)]);
        let trimmed = set.trimmed_for(small.clone());
        assert_eq!(slots(&trimmed), vec![2, 6, 16, 64, 220]);
        assert_eq!(trimmed.degree_bits(), set.degree_bits());
        for held in small {
            assert!(trimmed.tier_for(held).is_some());
        }
        // Ten users are cheaper in one batch of the last tier than in a
        // circuit of their own; the last tier always stays.
        assert_eq!(slots(&set.trimmed_for(vec![1; 10])), vec![220]);
        assert_eq!(slots(&set.trimmed_for(vec![1; 100])), vec![2, 220]);
        assert_eq!(slots(&set.trimmed_for(vec![220; 10])), vec![220]);
        // Too many tiers to cost every subset: kept as they are.
        let tier = |slots| Tier { slots, batch_size: 2 };
        let many = TierSet::new(40, 12, (1..=40).map(tier).collect()).unwrap();
        assert_eq!(many.trimmed_for(vec![1; 10]), many);
    }

    #[test]
    fn rejects_bad_sets() {
        let tier = |slots, batch_size| Tier { slots, batch_size };
        assert!(matches!(TierSet::new(4, 12, vec![tier(2, 4), tier(2, 4)]), Err(TierSetError::Order(_))));
        assert!(matches!(TierSet::new(4, 12, vec![tier(2, 1), tier(4, 4)]), Err(TierSetError::Tier { .. })));
        assert!(TierSet::new(4, 12, vec![tier(2, 3), tier(4, 5)]).is_ok(), "any batch size of two or more");
        assert!(matches!(TierSet::new(4, 12, vec![tier(2, 4)]), Err(TierSetError::Coverage { .. })));
        assert!(matches!(TierSet::new(1, 12, vec![tier(1, 4)]), Err(TierSetError::Assets(1))));
        assert!(matches!(TierSet::new(4, 30, vec![tier(4, 4)]), Err(TierSetError::DegreeBits(30))));
    }

    #[test]
    fn text_and_json_are_checked_round_trips() {
        let set = TierSet::fit(220).unwrap();
        assert_eq!(TierSet::parse(&set.to_string(), 220).unwrap(), set);
        let json = serde_json::to_string(&set).unwrap();
        assert_eq!(serde_json::from_str::<TierSet>(&json).unwrap(), set);
        let unordered = json.replacen("\"slots\":2,", "\"slots\":300,", 1);
        let error = serde_json::from_str::<TierSet>(&unordered).unwrap_err().to_string();
        assert!(error.contains("strictly increasing"), "{error}");
        for bad in ["", "11", "11:s2b4", "x:s2-b4", "11:s2-b4,", "11:s2-b4,s4-bx"] {
            assert_eq!(TierSet::parse(bad, 4), Err(TierSetError::Syntax(bad.to_string())), "{bad}");
        }
        assert!(matches!(TierSet::parse("11:s2-b4,s3-b2", 4), Err(TierSetError::Coverage { .. })));
    }
}
