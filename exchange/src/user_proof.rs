//! The inclusion proof a user receives, and its check.
//!
//! It carries the user's balances, their secret nonce and the sibling path
//! from their leaf to the root: first through their batch, then through every
//! aggregation level, with the node reached at the top of each part so that
//! a failed check says where the path breaks.

use serde::{Deserialize, Serialize};
use thiserror::Error;
use zkpor_circuits::account::{AccountLeaf, Nonce, id_hash};
use zkpor_circuits::encoding::HashHex;
use zkpor_circuits::merkle::root_from_path;
use zkpor_circuits::{Hash, Shape};
use zkpor_snapshot::bounds::MAX_BALANCE_UNITS;
use zkpor_snapshot::decimal::parse_units;

use crate::committed::padded;

/// A user's inclusion proof (`zkpor exchange user-proof` prints it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserProof {
    /// The sequence whose root this proof leads to.
    pub sequence: u64,
    /// The circuit shape of that sequence.
    pub shape: Shape,
    /// The root the path leads to.
    pub root: HashHex,
    /// The user's id.
    pub id: String,
    /// The user's secret nonce: keep it private.
    pub nonce: Nonce,
    /// Position of the user's leaf in the tree.
    pub leaf_index: u64,
    /// The user's equity and debt per asset, in the statement's asset order.
    pub balances: Vec<UserBalance>,
    /// Siblings from the leaf up to the root.
    pub path: InclusionPath,
}

/// One asset of a user's balances.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserBalance {
    /// Ticker symbol.
    pub symbol: String,
    /// Fractional digits of the asset's smallest unit.
    pub decimals: u32,
    /// What the exchange owes the user, exact, in whole units.
    pub equity: String,
    /// What the user owes the exchange, exact, in whole units.
    pub debt: String,
}

/// The sibling path, lowest first, split at batch and level boundaries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionPath {
    /// Siblings inside the batch (`log2 B` of them).
    pub batch: Vec<HashHex>,
    /// The batch root they lead to.
    pub batch_root: HashHex,
    /// One entry per aggregation level.
    pub levels: Vec<LevelPath>,
}

/// The part of the path inside one aggregation level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelPath {
    /// Siblings inside the level (`log2 K` of them).
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
    /// More assets than the shape has slots.
    #[error("{found} assets but shape {shape} has {slots} slots")]
    TooManyAssets {
        /// Assets listed.
        found: usize,
        /// Slots of the shape.
        slots: usize,
        /// The shape.
        shape: Shape,
    },
    /// The leaf index is past the tree.
    #[error("leaf index {index} is past the tree's {capacity} leaves")]
    LeafIndex {
        /// The index.
        index: u64,
        /// Leaves in the tree.
        capacity: u64,
    },
    /// A part of the path has the wrong length.
    #[error("the {part} path has {found} siblings, the shape needs {expected}")]
    PathLength {
        /// Which part.
        part: String,
        /// Siblings needed.
        expected: usize,
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
    /// The user's leaf, rebuilt from id, nonce and balances.
    pub fn leaf(&self) -> Result<AccountLeaf, InclusionError> {
        let slots = self.shape.assets();
        if self.balances.len() > slots {
            return Err(InclusionError::TooManyAssets { found: self.balances.len(), slots, shape: self.shape });
        }
        let units = |balance: &UserBalance, text: &str| -> Result<u64, InclusionError> {
            let error = |reason: String| InclusionError::Balance { symbol: balance.symbol.clone(), reason };
            let value = parse_units(text, balance.decimals).map_err(|e| error(format!("'{text}': {e}")))?;
            u64::try_from(value)
                .ok()
                .filter(|v| *v <= MAX_BALANCE_UNITS)
                .ok_or_else(|| error(format!("'{text}' is not between 0 and the bound of {MAX_BALANCE_UNITS} units")))
        };
        let mut equity = Vec::with_capacity(slots);
        let mut debt = Vec::with_capacity(slots);
        for balance in &self.balances {
            equity.push(units(balance, &balance.equity)?);
            debt.push(units(balance, &balance.debt)?);
        }
        Ok(AccountLeaf {
            id_hash: id_hash(&self.id, &self.nonce),
            equity: padded(&equity, slots),
            debt: padded(&debt, slots),
        })
    }

    /// Checks the proof part by part and returns the root it leads to, which
    /// must be `expected` (the root in the file when `None`).
    pub fn verify(&self, expected: Option<Hash>) -> Result<Hash, InclusionError> {
        let shape = self.shape;
        let leaf = self.leaf()?.hash();
        if self.leaf_index >= shape.capacity() {
            return Err(InclusionError::LeafIndex { index: self.leaf_index, capacity: shape.capacity() });
        }
        let batch_size = shape.batch_size() as u64;
        let arity = shape.arity() as u64;
        let check_length = |part: String, expected: usize, found: usize| {
            if expected == found { Ok(()) } else { Err(InclusionError::PathLength { part, expected, found }) }
        };

        check_length("batch".into(), shape.batch_depth(), self.path.batch.len())?;
        let siblings: Vec<Hash> = self.path.batch.iter().map(|h| h.0).collect();
        let mut node = root_from_path(leaf, self.leaf_index % batch_size, &siblings);
        check_node("batch".into(), node, self.path.batch_root, "id, nonce, balances or batch path")?;

        check_length("level count".into(), shape.levels(), self.path.levels.len())?;
        let mut position = self.leaf_index / batch_size;
        for (level, part) in self.path.levels.iter().enumerate() {
            let name = format!("level {level}");
            check_length(name.clone(), shape.arity_depth(), part.siblings.len())?;
            let siblings: Vec<Hash> = part.siblings.iter().map(|h| h.0).collect();
            node = root_from_path(node, position % arity, &siblings);
            check_node(name, node, part.node, "path of this level")?;
            position /= arity;
        }
        let expected = expected.unwrap_or(self.root.0);
        if node != expected {
            return Err(InclusionError::Root { computed: HashHex(node), expected: HashHex(expected) });
        }
        Ok(node)
    }
}

fn check_node(part: String, computed: Hash, claimed: HashHex, blame: &'static str) -> Result<(), InclusionError> {
    if computed == claimed.0 {
        Ok(())
    } else {
        Err(InclusionError::Broken { part, computed: HashHex(computed), claimed, blame })
    }
}
