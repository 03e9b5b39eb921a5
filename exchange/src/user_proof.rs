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
use crate::tiered::user_proof::TieredUserProof;

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
    /// The slots of a tiered proof do not form a leaf of its tier.
    #[error("slots: {reason}")]
    Slots {
        /// What is wrong.
        reason: String,
    },
    /// A tiered proof's batch or position is past the tree.
    #[error("batch {batch} position {position} is past the tree's {batches} batches of {batch_size}")]
    Placement {
        /// The batch.
        batch: u64,
        /// The position in it.
        position: u64,
        /// Batches the tree holds.
        batches: u64,
        /// Users per batch of the tier.
        batch_size: usize,
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
        let units = |balance: &UserBalance, text: &str| amount_units(&balance.symbol, balance.decimals, text);
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
        let position = PathPosition {
            in_batch: self.leaf_index % batch_size,
            batch_depth: shape.batch_depth(),
            batch: self.leaf_index / batch_size,
            levels: vec![LevelSpan { children: shape.arity() as u64, depth: shape.arity_depth() }; shape.levels()],
        };
        position.walk(leaf, &self.path, expected.unwrap_or(self.root.0))
    }
}

/// Where a leaf sits in a tree of batches under aggregation levels, and the
/// path lengths that follow from it.
#[derive(Clone, Debug)]
pub(crate) struct PathPosition {
    /// Position inside the batch.
    pub in_batch: u64,
    /// Height of the batch's subtree.
    pub batch_depth: usize,
    /// Position of the batch among all batches.
    pub batch: u64,
    /// The aggregation levels, from the batches up.
    pub levels: Vec<LevelSpan>,
}

/// One aggregation level of a path: a node's children, and the height of
/// the binary tree it hashes them in.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LevelSpan {
    /// Children per node: a position's child slot is the position modulo it.
    pub children: u64,
    /// Height the level adds.
    pub depth: usize,
}

impl PathPosition {
    /// Hashes `leaf` up `path` part by part, checking each part's length
    /// and the node it claims, and the root against `expected`.
    pub fn walk(&self, leaf: Hash, path: &InclusionPath, expected: Hash) -> Result<Hash, InclusionError> {
        let check_length = |part: String, expected: usize, found: usize| {
            if expected == found { Ok(()) } else { Err(InclusionError::PathLength { part, expected, found }) }
        };
        check_length("batch".into(), self.batch_depth, path.batch.len())?;
        let siblings: Vec<Hash> = path.batch.iter().map(|h| h.0).collect();
        let mut node = root_from_path(leaf, self.in_batch, &siblings);
        check_node("batch".into(), node, path.batch_root, "id, nonce, balances or batch path")?;

        check_length("level count".into(), self.levels.len(), path.levels.len())?;
        let mut position = self.batch;
        for (level, (span, part)) in self.levels.iter().zip(&path.levels).enumerate() {
            let name = format!("level {level}");
            check_length(name.clone(), span.depth, part.siblings.len())?;
            let siblings: Vec<Hash> = part.siblings.iter().map(|h| h.0).collect();
            node = root_from_path(node, position % span.children, &siblings);
            check_node(name, node, part.node, "path of this level")?;
            position /= span.children;
        }
        if node != expected {
            return Err(InclusionError::Root { computed: HashHex(node), expected: HashHex(expected) });
        }
        Ok(node)
    }
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

/// A user's inclusion proof of either kind of tree, as read from a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum AnyUserProof {
    /// A proof into a dense tree.
    Dense(UserProof),
    /// A proof into a tiered tree.
    Tiered(TieredUserProof),
}

impl AnyUserProof {
    /// Reads a proof: a `shape` that is text makes it dense, an object
    /// tiered; errors name the field at fault.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        let value: serde_json::Value = serde_json::from_str(text)?;
        if value.get("shape").is_some_and(serde_json::Value::is_object) {
            serde_json::from_value(value).map(AnyUserProof::Tiered)
        } else {
            serde_json::from_value(value).map(AnyUserProof::Dense)
        }
    }

    /// The sequence the proof is for.
    pub fn sequence(&self) -> u64 {
        match self {
            AnyUserProof::Dense(proof) => proof.sequence,
            AnyUserProof::Tiered(proof) => proof.sequence,
        }
    }

    /// The user's id.
    pub fn id(&self) -> &str {
        match self {
            AnyUserProof::Dense(proof) => &proof.id,
            AnyUserProof::Tiered(proof) => &proof.id,
        }
    }

    /// The balances the proof lists, as (symbol, equity, debt): every asset
    /// of a dense proof, the slots of a tiered one.
    pub fn listed_balances(&self) -> Vec<(&str, &str, &str)> {
        match self {
            AnyUserProof::Dense(proof) => {
                proof.balances.iter().map(|b| (b.symbol.as_str(), b.equity.as_str(), b.debt.as_str())).collect()
            }
            AnyUserProof::Tiered(proof) => {
                proof.slots.iter().map(|s| (s.symbol.as_str(), s.equity.as_str(), s.debt.as_str())).collect()
            }
        }
    }

    /// Checks the proof; see [`UserProof::verify`].
    pub fn verify(&self, expected: Option<Hash>) -> Result<Hash, InclusionError> {
        match self {
            AnyUserProof::Dense(proof) => proof.verify(expected),
            AnyUserProof::Tiered(proof) => proof.verify(expected),
        }
    }

    /// Checks that the proof names its assets as the statement `posted`
    /// lists them (symbol and decimals, by position): a dense proof lists
    /// them all, a tiered one those of its slots.
    pub fn check_asset_names(&self, posted: &[(&str, u32)]) -> Result<(), String> {
        let claimed: Vec<(usize, &str, u32)> = match self {
            AnyUserProof::Dense(proof) => {
                if proof.balances.len() != posted.len() {
                    return Err(format!(
                        "the proof lists {} assets, the statement {}",
                        proof.balances.len(),
                        posted.len()
                    ));
                }
                proof.balances.iter().enumerate().map(|(i, b)| (i, b.symbol.as_str(), b.decimals)).collect()
            }
            AnyUserProof::Tiered(proof) => {
                proof.slots.iter().map(|s| (usize::from(s.asset), s.symbol.as_str(), s.decimals)).collect()
            }
        };
        for (index, symbol, decimals) in claimed {
            match posted.get(index) {
                Some(&(name, digits)) if (name, digits) == (symbol, decimals) => {}
                Some(&(name, digits)) => {
                    return Err(format!(
                        "the proof names asset {index} {symbol} with {decimals} decimals, the statement {name} with {digits}"
                    ));
                }
                None => {
                    return Err(format!(
                        "the proof names asset {index} {symbol}; the statement lists {}",
                        posted.len()
                    ));
                }
            }
        }
        Ok(())
    }
}
