//! Circuit families: the circuits of one deployment, fixed for its life.
//!
//! A family fixes the most assets a sequence may list, the tiers (slot
//! counts and batch sizes, every batch circuit at the same rows), the
//! children of each of the three node circuits and their rows, and the most
//! users. Every sequence of a deployment, whatever its users and its asset
//! list, is proven on the circuits of its family ([`crate::circuits`]), and
//! every final proof verifies on the one verifier generated from the
//! family's final circuit. The family's digest is that final circuit's
//! digest ([`crate::circuits::FamilyCircuits::digest`]): it changes with any
//! circuit of the family.
//!
//! Two families ship: [`Family::standard`] (512 assets, what exchanges use)
//! and [`Family::tiny`] (4 assets, small circuits for tests and demos).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::aggregation::MAX_CHILDREN;
use crate::tier::{Tier, TierSet};

/// The parameters of one family. Read from JSON, they are checked as
/// [`Family::new`] checks them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "FamilyFields")]
pub struct Family {
    name: String,
    tiers: TierSet,
    /// Children of a node over batches.
    batch_children: usize,
    /// Children of a node over nodes.
    node_children: usize,
    /// Children of the top node.
    top_children: usize,
    /// Rows (log2) of both node circuits below the top.
    node_degree_bits: usize,
    /// The user count of a statement is below `2^user_bits`.
    user_bits: usize,
}

/// A family as read, before [`Family::new`] checks it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FamilyFields {
    name: String,
    tiers: TierSet,
    batch_children: usize,
    node_children: usize,
    top_children: usize,
    node_degree_bits: usize,
    user_bits: usize,
}

impl TryFrom<FamilyFields> for Family {
    type Error = FamilyError;

    fn try_from(f: FamilyFields) -> Result<Self, FamilyError> {
        Family::new(
            &f.name,
            f.tiers,
            f.batch_children,
            f.node_children,
            f.top_children,
            f.node_degree_bits,
            f.user_bits,
        )
    }
}

/// Why a family's parameters are not acceptable.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum FamilyError {
    /// No shipped family has this name.
    #[error("no family is named '{0}': zkpor ships 'standard' (512 assets) and 'tiny' (4 assets, for tests)")]
    Unknown(String),
    /// A node circuit's children are out of range.
    #[error("{what} takes {children} children: a node takes 1..={MAX_CHILDREN} (2.. below the top)")]
    Children {
        /// Which node.
        what: &'static str,
        /// The children asked for.
        children: usize,
    },
    /// The user bound is out of range.
    #[error("{0} bits of users: a family takes 20..=32")]
    UserBits(usize),
}

/// Users per batch of the standard family's tiers, fitted once by
/// [`TierSet::fit_rows`]`(512, 14)` on this code's batch circuit.
const STANDARD_TIERS: [(usize, usize); 8] =
    [(2, 2295), (6, 1139), (16, 499), (32, 267), (64, 137), (128, 69), (256, 34), (512, 16)];

/// Users per batch of the tiny family's tiers, fitted by
/// [`TierSet::fit_rows`]`(4, 10)`.
const TINY_TIERS: [(usize, usize); 2] = [(2, 144), (4, 89)];

impl Family {
    /// A family from its parameters, checked.
    pub fn new(
        name: &str,
        tiers: TierSet,
        batch_children: usize,
        node_children: usize,
        top_children: usize,
        node_degree_bits: usize,
        user_bits: usize,
    ) -> Result<Self, FamilyError> {
        for (what, children, least) in [
            ("the node over batches", batch_children, 2),
            ("the node over nodes", node_children, 2),
            ("the top node", top_children, 1),
        ] {
            if !(least..=MAX_CHILDREN).contains(&children) {
                return Err(FamilyError::Children { what, children });
            }
        }
        if !(20..=32).contains(&user_bits) {
            return Err(FamilyError::UserBits(user_bits));
        }
        Ok(Family {
            name: name.to_string(),
            tiers,
            batch_children,
            node_children,
            top_children,
            node_degree_bits,
            user_bits,
        })
    }

    /// The family exchanges deploy: up to 512 assets (Binance lists about
    /// 316, OKX 220), eight tiers of batch circuits at 2^14 rows, nodes of
    /// six children at 2^15 rows, a top of three, up to 2^30 users.
    pub fn standard() -> Self {
        let tiers = STANDARD_TIERS.iter().map(|&(slots, batch_size)| Tier { slots, batch_size }).collect();
        let tiers = TierSet::new(512, 14, tiers).expect("the standard tiers are valid");
        Family::new("standard", tiers, 6, 6, 3, 15, 30).expect("the standard family is valid")
    }

    /// A family of small circuits for tests and demonstrations: 4 assets,
    /// batch circuits of 2^10 rows, nodes of two children.
    pub fn tiny() -> Self {
        let tiers = TINY_TIERS.iter().map(|&(slots, batch_size)| Tier { slots, batch_size }).collect();
        let tiers = TierSet::new(4, 10, tiers).expect("the tiny tiers are valid");
        Family::new("tiny", tiers, 2, 2, 2, 14, 30).expect("the tiny family is valid")
    }

    /// The families zkpor ships.
    pub fn shipped() -> Vec<Family> {
        vec![Family::standard(), Family::tiny()]
    }

    /// The family's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Most assets a sequence may list: every batch's asset table and every
    /// node's totals have this many slots.
    pub fn assets(&self) -> usize {
        self.tiers.assets()
    }

    /// The tiers.
    pub fn tiers(&self) -> &TierSet {
        &self.tiers
    }

    /// Children of a node over batches.
    pub fn batch_children(&self) -> usize {
        self.batch_children
    }

    /// Children of a node over nodes.
    pub fn node_children(&self) -> usize {
        self.node_children
    }

    /// Children of the top node.
    pub fn top_children(&self) -> usize {
        self.top_children
    }

    /// Rows (log2) of the two node circuits below the top.
    pub fn node_degree_bits(&self) -> usize {
        self.node_degree_bits
    }

    /// A statement's user count is below `2^user_bits`.
    pub fn user_bits(&self) -> usize {
        self.user_bits
    }

    /// The most users a statement may count.
    pub fn max_users(&self) -> u64 {
        (1u64 << self.user_bits) - 1
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (up to {} assets, tiers {}, nodes of {}/{}/{} children at 2^{} rows, up to 2^{} users)",
            self.name,
            self.assets(),
            self.tiers,
            self.batch_children,
            self.node_children,
            self.top_children,
            self.node_degree_bits,
            self.user_bits
        )
    }
}

impl FromStr for Family {
    type Err = FamilyError;

    /// A shipped family by name.
    fn from_str(name: &str) -> Result<Self, FamilyError> {
        Family::shipped()
            .into_iter()
            .find(|family| family.name == name)
            .ok_or_else(|| FamilyError::Unknown(name.into()))
    }
}

/// Serializes a shipped family as its name, and reads one back by name
/// (`#[serde(with = "zkpor_circuits::family::by_name")]`): what task specs,
/// configuration files and stores carry.
pub mod by_name {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Family;

    /// Writes the family's name.
    pub fn serialize<S: Serializer>(family: &Family, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(family.name())
    }

    /// Reads a shipped family by name.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Family, D::Error> {
        String::deserialize(deserializer)?.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_families_are_found_by_name() {
        assert_eq!("standard".parse::<Family>().unwrap(), Family::standard());
        assert_eq!("tiny".parse::<Family>().unwrap().assets(), 4);
        assert!(matches!("huge".parse::<Family>(), Err(FamilyError::Unknown(_))));
        assert_eq!(Family::standard().assets(), 512);
    }

    #[test]
    fn parameters_are_checked() {
        let tiers = Family::tiny().tiers().clone();
        assert!(matches!(Family::new("x", tiers.clone(), 1, 2, 2, 14, 30), Err(FamilyError::Children { .. })));
        assert!(matches!(Family::new("x", tiers.clone(), 2, 16, 2, 14, 30), Err(FamilyError::Children { .. })));
        assert_eq!(Family::new("x", tiers, 2, 2, 2, 14, 40), Err(FamilyError::UserBits(40)));
        let json = serde_json::to_string(&Family::standard()).unwrap();
        assert_eq!(serde_json::from_str::<Family>(&json).unwrap(), Family::standard());
        let bad = json.replace("\"top_children\":3", "\"top_children\":0");
        assert!(serde_json::from_str::<Family>(&bad).unwrap_err().to_string().contains("top node takes 0 children"));
    }
}
