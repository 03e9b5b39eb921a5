//! The inclusion proof a user receives, and its check.
//!
//! It lists the slots of the user's leaf exactly as the leaf hashes them (the
//! assets the user holds and, for a user holding fewer than their tier's slot
//! count, zero slots of other assets), the tier, the batch and the position in
//! it, and the sibling path from the leaf to the root: first through the
//! batch, then through every node level, with the node reached at each step
//! so that a failed check says where the path breaks.
//!
//! No family is needed to check it: a leaf is hashed in the leaf domain and
//! every node in the node domain ([`zkpor_circuits::hash`]), and a batch's
//! root is always a node (a batch holds at least two places), so a path from
//! the user's leaf to the root can only run through the leaf's place in a
//! batch of the proven tree.

use plonky2::field::types::Field;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use zkpor_circuits::encoding::HashHex;
use zkpor_circuits::identity::{Nonce, id_hash};
use zkpor_circuits::leaf::{leaf_hash, signed_field};
use zkpor_circuits::merkle::root_from_path;
use zkpor_circuits::{F, Hash};
use zkpor_snapshot::bounds::MAX_BALANCE_UNITS;
use zkpor_snapshot::decimal::parse_units;

/// A user's inclusion proof (`zkpor exchange user-proof` prints it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserProof {
    /// The sequence whose root this proof leads to.
    pub sequence: u64,
    /// The circuit family it was proven on.
    pub family: String,
    /// The root the path leads to.
    pub root: HashHex,
    /// The user's id.
    pub id: String,
    /// The user's secret nonce: keep it private.
    pub nonce: Nonce,
    /// Index of the user's tier in the family's tiers.
    pub tier: usize,
    /// Position of the user's batch among all batches.
    pub batch: u64,
    /// Position of the user inside the batch.
    pub position: u64,
    /// The leaf's slots in order: every asset the user holds, and zero slots
    /// of other assets up to the tier's slot count. Assets not listed are
    /// zero for this user.
    pub slots: Vec<SlotBalance>,
    /// Siblings from the leaf up to the root.
    pub path: InclusionPath,
}

/// One slot of a user's leaf.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotBalance {
    /// Index of the asset in the statement's asset list (indices past it are
    /// the family's unused asset slots, always zero).
    pub asset: u16,
    /// Ticker symbol, empty for an unused asset slot.
    pub symbol: String,
    /// Fractional digits of the asset's smallest unit.
    pub decimals: u32,
    /// What the exchange owes the user, exact, in whole units.
    pub equity: String,
    /// What the user owes the exchange, exact, in whole units.
    pub debt: String,
}

/// The sibling path, lowest first, split at the batch and at every node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionPath {
    /// Siblings inside the batch.
    pub batch: Vec<HashHex>,
    /// The batch root they lead to.
    pub batch_root: HashHex,
    /// One entry per node level, from the batches up.
    pub levels: Vec<LevelPath>,
}

/// The part of the path inside one node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelPath {
    /// The slot of the subtree below among the node's children.
    pub slot: u64,
    /// Siblings inside the node.
    pub siblings: Vec<HashHex>,
    /// The node they lead to (the root, for the last level).
    pub node: HashHex,
}

/// Why an inclusion proof does not check out.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum InclusionError {
    /// A balance cannot be read.
    #[error("balance of {symbol}: {reason}")]
    Balance {
        /// The asset.
        symbol: String,
        /// What is wrong.
        reason: String,
    },
    /// The slots do not form a leaf.
    #[error("slots: {reason}")]
    Slots {
        /// What is wrong.
        reason: String,
    },
    /// A part of the path is too short for its position, or longer than
    /// any tree's.
    #[error(
        "the {part} path has {found} siblings: position {position} needs at least {needed}, and no path has more than {MAX_SIBLINGS}"
    )]
    PathLength {
        /// Which part.
        part: String,
        /// The position the path starts from.
        position: u64,
        /// Siblings the position needs at least.
        needed: usize,
        /// Siblings given.
        found: usize,
    },
    /// The path breaks inside one part.
    #[error("the {part} path leads to {computed}, not to the {part} node {claimed} in the proof: the {blame} is wrong")]
    Broken {
        /// Which part.
        part: String,
        /// Node computed from below.
        computed: HashHex,
        /// Node the proof claims.
        claimed: HashHex,
        /// What must have been changed.
        blame: &'static str,
    },
    /// The path is consistent but does not lead to the expected root.
    #[error("the proof leads to root {computed}, but the expected root is {expected}")]
    Root {
        /// Root computed from the proof.
        computed: HashHex,
        /// Root it had to reach.
        expected: HashHex,
    },
}

impl UserProof {
    /// The user's leaf hash, rebuilt from id, nonce and slots: asset indices
    /// strictly increasing, each slot equity or debt, never both.
    pub fn leaf(&self) -> Result<Hash, InclusionError> {
        if self.slots.is_empty() {
            return Err(InclusionError::Slots { reason: "a leaf has at least one slot".into() });
        }
        let mut fields = Vec::with_capacity(self.slots.len());
        let mut previous: Option<u16> = None;
        for slot in &self.slots {
            if let Some(previous) = previous.filter(|&p| p >= slot.asset) {
                return Err(InclusionError::Slots {
                    reason: format!("asset index {} does not follow {previous} in increasing order", slot.asset),
                });
            }
            previous = Some(slot.asset);
            let equity = amount_units(&slot.symbol, slot.decimals, &slot.equity)?;
            let debt = amount_units(&slot.symbol, slot.decimals, &slot.debt)?;
            if equity != 0 && debt != 0 {
                return Err(InclusionError::Balance {
                    symbol: slot.symbol.clone(),
                    reason: "a slot holds either equity or debt, not both".into(),
                });
            }
            let balance = equity as i64 - debt as i64;
            fields.push((F::from_canonical_u16(slot.asset), signed_field(balance)));
        }
        Ok(leaf_hash(id_hash(&self.id, &self.nonce), &fields))
    }

    /// Checks the proof part by part and returns the root it leads to, which
    /// must be `expected` (the root in the file when `None`).
    pub fn verify(&self, expected: Option<Hash>) -> Result<Hash, InclusionError> {
        let leaf = self.leaf()?;
        let path = &self.path;
        check_length("batch", self.position, path.batch.len())?;
        let siblings: Vec<Hash> = path.batch.iter().map(|h| h.0).collect();
        let mut node = root_from_path(leaf, self.position, &siblings);
        check_node("batch".into(), node, path.batch_root, "id, nonce, slots, position or batch path")?;
        for (level, part) in path.levels.iter().enumerate() {
            let name = format!("level {level}");
            check_length(&name, part.slot, part.siblings.len())?;
            let siblings: Vec<Hash> = part.siblings.iter().map(|h| h.0).collect();
            node = root_from_path(node, part.slot, &siblings);
            check_node(name, node, part.node, "path or slot of this level")?;
        }
        let expected = expected.unwrap_or(self.root.0);
        if node != expected {
            return Err(InclusionError::Root { computed: HashHex(node), expected: HashHex(expected) });
        }
        Ok(node)
    }

    /// Checks that the proof names its assets as the statement `posted`
    /// lists them (symbol and decimals, by index); slots past the list must
    /// be zero and unnamed.
    pub fn check_asset_names(&self, posted: &[(&str, u32)]) -> Result<(), String> {
        for slot in &self.slots {
            match posted.get(usize::from(slot.asset)) {
                Some(&(name, digits)) if (name, digits) == (slot.symbol.as_str(), slot.decimals) => {}
                Some(&(name, digits)) => {
                    return Err(format!(
                        "the proof names asset {} {} with {} decimals, the statement {name} with {digits}",
                        slot.asset, slot.symbol, slot.decimals
                    ));
                }
                None if slot.symbol.is_empty() && is_zero(&slot.equity) && is_zero(&slot.debt) => {}
                None => {
                    return Err(format!(
                        "the proof gives a balance in asset {} {}; the statement lists {}",
                        slot.asset,
                        slot.symbol,
                        posted.len()
                    ));
                }
            }
        }
        Ok(())
    }

    /// The non-zero balances the proof lists, as (symbol, equity, debt).
    pub fn listed_balances(&self) -> Vec<(&str, &str, &str)> {
        self.slots
            .iter()
            .filter(|slot| !(is_zero(&slot.equity) && is_zero(&slot.debt)))
            .map(|slot| (slot.symbol.as_str(), slot.equity.as_str(), slot.debt.as_str()))
            .collect()
    }
}

fn is_zero(text: &str) -> bool {
    parse_units(text, 38).is_ok_and(|units| units == 0)
}

/// Most siblings in one part of a path: a batch's tree has at most 12
/// levels, a node's 4.
pub const MAX_SIBLINGS: usize = 16;

/// A position below `2^n` takes at least `n` siblings.
fn check_length(part: &str, position: u64, found: usize) -> Result<(), InclusionError> {
    let needed = (u64::BITS - position.leading_zeros()) as usize;
    if found < needed || found > MAX_SIBLINGS {
        return Err(InclusionError::PathLength { part: part.to_string(), position, needed, found });
    }
    Ok(())
}

/// An amount of `symbol` (of `decimals` digits) in smallest units, within
/// the balance bound.
pub(crate) fn amount_units(symbol: &str, decimals: u32, text: &str) -> Result<u64, InclusionError> {
    let error = |reason: String| InclusionError::Balance { symbol: symbol.to_string(), reason };
    let value = parse_units(text, decimals).map_err(|e| error(format!("'{text}': {e}")))?;
    u64::try_from(value)
        .ok()
        .filter(|v| *v <= MAX_BALANCE_UNITS)
        .ok_or_else(|| error(format!("'{text}' is not between 0 and the bound of {MAX_BALANCE_UNITS} units")))
}

fn check_node(part: String, computed: Hash, claimed: HashHex, blame: &'static str) -> Result<(), InclusionError> {
    if computed == claimed.0 {
        Ok(())
    } else {
        Err(InclusionError::Broken { part, computed: HashHex(computed), claimed, blame })
    }
}
