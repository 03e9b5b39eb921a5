//! Tiers: users grouped by how many assets they hold.
//!
//! Each tier has a slot count `S` and a batch size `B`; a batch of a tier
//! proves `B` users of at most `S` non-zero balances. `B` is as many users
//! as the rows hold, not a power of two: the batch's tree is padded with
//! padding users' leaves up to one, and subtrees of padding alone cost the
//! circuit nothing. Every tier's batch circuit is padded to the same number
//! of rows, so that one aggregation circuit can verify a batch proof of any
//! tier (see [`crate::aggregation`]). The last tier has one slot per asset
//! of the family, so every user fits somewhere.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::batch::largest_batch_size;

/// Most assets a family can hold (asset indices are range-checked in at most
/// 10 bits).
pub const MAX_ASSETS: usize = 1024;

/// Most users in one batch: with balances below 2^48, every per-asset total
/// of a batch stays below 2^60 ([`crate::gadgets::totals::TOTAL_BITS`]).
pub const MAX_BATCH_SIZE: usize = 1 << 12;

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
    #[error("{0} assets: a family holds 2..={MAX_ASSETS}")]
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
    /// A checked tier set.
    pub fn new(assets: usize, degree_bits: usize, tiers: Vec<Tier>) -> Result<Self, TierSetError> {
        if !(2..=MAX_ASSETS).contains(&assets) {
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
    pub const DEFAULT_SLOTS: [usize; 7] = [2, 6, 16, 32, 64, 128, 256];

    /// The slot counts of [`TierSet::DEFAULT_SLOTS`] below `assets`, then
    /// `assets`.
    pub fn default_slots(assets: usize) -> Vec<usize> {
        Self::DEFAULT_SLOTS.into_iter().filter(|&slots| slots < assets).chain([assets]).collect()
    }

    /// The tier rule for `assets` assets and batch circuits of
    /// `2^degree_bits` rows: the slot counts of [`TierSet::default_slots`],
    /// each with as many users as its circuit fits in the rows
    /// ([`largest_batch_size`]), two tiers at a time. A family fixes its
    /// tiers once (`crate::family`); this is how they were found.
    pub fn fit_rows(assets: usize, degree_bits: usize) -> Result<Self, TierSetError> {
        if !(2..=MAX_ASSETS).contains(&assets) {
            return Err(TierSetError::Assets(assets));
        }
        if !(MIN_DEGREE_BITS..=MAX_DEGREE_BITS).contains(&degree_bits) {
            return Err(TierSetError::DegreeBits(degree_bits));
        }
        let slot_counts = Self::default_slots(assets);
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

    /// Assets of the family (`A`): every batch's asset table has this many rows.
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
    /// writes it) for a family of `assets` assets.
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
}

impl fmt::Display for TierSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tiers: Vec<String> = self.tiers.iter().map(Tier::to_string).collect();
        write!(f, "{}:{}", self.degree_bits, tiers.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{laid_out_tier_rows, tier_row_budget};

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
        let small = TierSet::fit_rows(4, 11).unwrap();
        assert_eq!(small.tiers().iter().map(|t| t.slots).collect::<Vec<_>>(), vec![2, 4]);
        assert_filled(&small);
        assert_eq!(small.tier_for(1), Some(0));
        assert_eq!(small.tier_for(3), Some(1));
        assert_eq!(small.tier_for(5), None);
        assert!(small.tier(0).batch_size > small.tier(1).batch_size, "{small}");
        assert_eq!(TierSet::default_slots(512), vec![2, 6, 16, 32, 64, 128, 256, 512]);
        assert_eq!(TierSet::default_slots(220), vec![2, 6, 16, 32, 64, 128, 220]);
    }

    #[test]
    fn fit_refuses_rows_too_few_for_two_users() {
        assert_eq!(
            TierSet::fit_rows(1024, MIN_DEGREE_BITS),
            Err(TierSetError::TooWide { slots: 2, degree_bits: MIN_DEGREE_BITS, assets: 1024 })
        );
    }

    #[test]
    fn rejects_bad_sets() {
        let tier = |slots, batch_size| Tier { slots, batch_size };
        assert!(matches!(TierSet::new(4, 12, vec![tier(2, 4), tier(2, 4)]), Err(TierSetError::Order(_))));
        assert!(matches!(TierSet::new(4, 12, vec![tier(2, 1), tier(4, 4)]), Err(TierSetError::Tier { .. })));
        assert!(
            matches!(
                TierSet::new(4, 12, vec![tier(2, MAX_BATCH_SIZE + 1), tier(4, 4)]),
                Err(TierSetError::Tier { .. })
            ),
            "a batch whose totals could pass 2^60"
        );
        assert!(TierSet::new(4, 12, vec![tier(2, 3), tier(4, 5)]).is_ok(), "any batch size of two or more");
        assert!(matches!(TierSet::new(4, 12, vec![tier(2, 4)]), Err(TierSetError::Coverage { .. })));
        assert!(matches!(TierSet::new(1, 12, vec![tier(1, 4)]), Err(TierSetError::Assets(1))));
        assert!(matches!(TierSet::new(4, 30, vec![tier(4, 4)]), Err(TierSetError::DegreeBits(30))));
    }

    #[test]
    fn text_and_json_are_checked_round_trips() {
        let set =
            TierSet::new(8, 11, vec![Tier { slots: 2, batch_size: 40 }, Tier { slots: 8, batch_size: 9 }]).unwrap();
        assert_eq!(TierSet::parse(&set.to_string(), 8).unwrap(), set);
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
