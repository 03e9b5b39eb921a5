//! The shape of a deployment: batch size, asset slots, aggregation arity and
//! number of aggregation levels. Every circuit, and the on-chain verifier, is
//! built for one shape.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Most accounts in one batch: with balances below 2^48, a batch total stays
/// below 2^62, so sums inside a batch can never wrap the field.
pub const MAX_BATCH_SIZE: usize = 1 << 14;
/// Most asset slots: keeps the solvency columns far below p/2 (see
/// [`crate::gadgets::solvency`]).
pub const MAX_ASSETS: usize = 1024;
/// Most children per aggregation node.
pub const MAX_ARITY: usize = 64;
/// Most aggregation levels.
pub const MAX_LEVELS: usize = 8;

/// Asset counts `Shape::fit` chooses from, smallest first.
pub const ASSET_SLOT_CHOICES: [usize; 5] = [4, 8, 16, 32, 64];

/// The circuit shape `(B, A, K, L)`: `B` accounts per batch, `A` asset slots
/// per account, `K` children per aggregation node and `L` aggregation levels,
/// so it holds up to `B·K^L` accounts.
///
/// Written as `b1024-a8-k8-l2`; the presets [`Shape::TINY`] (`tiny`) and
/// [`Shape::fit`]'s choices have names too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Shape {
    batch_size: usize,
    assets: usize,
    arity: usize,
    levels: usize,
}

/// Why a shape is not acceptable.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ShapeError {
    /// Not of the form `b<B>-a<A>-k<K>-l<L>` nor a preset name.
    #[error("'{0}' is not a shape: expected b<B>-a<A>-k<K>-l<L> (e.g. b1024-a8-k8-l2) or 'tiny'")]
    Syntax(String),
    /// A parameter is out of range.
    #[error("invalid shape {what}: {why}")]
    Invalid {
        /// Which parameter.
        what: &'static str,
        /// Why it is rejected.
        why: String,
    },
}

impl Shape {
    /// The shape the tests use: 4 accounts per batch, 2 assets, 2 children per
    /// node, 1 level (8 accounts).
    pub const TINY: Shape = Shape { batch_size: 4, assets: 2, arity: 2, levels: 1 };

    /// A shape from its four parameters, checked.
    pub fn new(batch_size: usize, assets: usize, arity: usize, levels: usize) -> Result<Self, ShapeError> {
        let invalid = |what, why: String| Err(ShapeError::Invalid { what, why });
        if !batch_size.is_power_of_two() || !(2..=MAX_BATCH_SIZE).contains(&batch_size) {
            return invalid("batch size", format!("{batch_size} must be a power of two in 2..={MAX_BATCH_SIZE}"));
        }
        if !(1..=MAX_ASSETS).contains(&assets) {
            return invalid("asset count", format!("{assets} must be in 1..={MAX_ASSETS}"));
        }
        if !arity.is_power_of_two() || !(2..=MAX_ARITY).contains(&arity) {
            return invalid("arity", format!("{arity} must be a power of two in 2..={MAX_ARITY}"));
        }
        if !(1..=MAX_LEVELS).contains(&levels) {
            return invalid("level count", format!("{levels} must be in 1..={MAX_LEVELS}"));
        }
        let shape = Shape { batch_size, assets, arity, levels };
        if shape.depth() > 48 {
            return invalid("depth", format!("tree depth {} exceeds 48", shape.depth()));
        }
        Ok(shape)
    }

    /// The documented rule `zkpor exchange prove` uses without `--shape`:
    /// `B = 1024`, `K = 8`, `A` the smallest of [`ASSET_SLOT_CHOICES`] that
    /// holds the assets, `L` the smallest level count (at least 1) with
    /// `1024·8^L >= accounts`.
    pub fn fit(assets: usize, accounts: usize) -> Result<Self, ShapeError> {
        let Some(&slots) = ASSET_SLOT_CHOICES.iter().find(|&&a| a >= assets) else {
            return Err(ShapeError::Invalid {
                what: "asset count",
                why: format!(
                    "{assets} assets exceed the largest automatic choice {}; pass --shape",
                    ASSET_SLOT_CHOICES[ASSET_SLOT_CHOICES.len() - 1]
                ),
            });
        };
        let mut levels = 1;
        while 1024usize.saturating_mul(8usize.saturating_pow(levels as u32)) < accounts {
            levels += 1;
        }
        Shape::new(1024, slots, 8, levels)
    }

    /// Accounts per batch (`B`).
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Asset slots per account (`A`).
    pub fn assets(&self) -> usize {
        self.assets
    }

    /// Children per aggregation node (`K`).
    pub fn arity(&self) -> usize {
        self.arity
    }

    /// Aggregation levels (`L`).
    pub fn levels(&self) -> usize {
        self.levels
    }

    /// Number of batches the shape holds (`K^L`).
    pub fn batch_capacity(&self) -> usize {
        self.arity.pow(self.levels as u32)
    }

    /// Number of accounts the shape holds (`B·K^L`).
    pub fn capacity(&self) -> u64 {
        self.batch_size as u64 * self.batch_capacity() as u64
    }

    /// Height of a batch tree (`log2 B`).
    pub fn batch_depth(&self) -> usize {
        self.batch_size.trailing_zeros() as usize
    }

    /// Height added by one aggregation level (`log2 K`).
    pub fn arity_depth(&self) -> usize {
        self.arity.trailing_zeros() as usize
    }

    /// Height of the whole account tree: the length of every inclusion path.
    pub fn depth(&self) -> usize {
        self.batch_depth() + self.levels * self.arity_depth()
    }

    /// Whether a snapshot with this many assets and accounts fits.
    pub fn check_fits(&self, assets: usize, accounts: usize) -> Result<(), ShapeError> {
        if assets > self.assets {
            return Err(ShapeError::Invalid {
                what: "fit",
                why: format!("the snapshot has {assets} assets but shape {self} holds {}", self.assets),
            });
        }
        if accounts as u64 > self.capacity() {
            return Err(ShapeError::Invalid {
                what: "fit",
                why: format!("the snapshot has {accounts} accounts but shape {self} holds {}", self.capacity()),
            });
        }
        Ok(())
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b{}-a{}-k{}-l{}", self.batch_size, self.assets, self.arity, self.levels)
    }
}

impl FromStr for Shape {
    type Err = ShapeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == "tiny" {
            return Ok(Shape::TINY);
        }
        let syntax = || ShapeError::Syntax(text.to_string());
        let mut values = [0usize; 4];
        let parts: Vec<&str> = text.split('-').collect();
        if parts.len() != 4 {
            return Err(syntax());
        }
        for ((part, prefix), value) in parts.iter().zip(["b", "a", "k", "l"]).zip(values.iter_mut()) {
            let digits = part.strip_prefix(prefix).ok_or_else(syntax)?;
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(syntax());
            }
            *value = digits.parse().map_err(|_| syntax())?;
        }
        Shape::new(values[0], values[1], values[2], values[3])
    }
}

impl TryFrom<String> for Shape {
    type Error = ShapeError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Shape> for String {
    fn from(shape: Shape) -> String {
        shape.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let shape: Shape = "b1024-a8-k8-l2".parse().unwrap();
        assert_eq!(shape.to_string(), "b1024-a8-k8-l2");
        assert_eq!(shape.capacity(), 1024 * 64);
        assert_eq!(shape.depth(), 10 + 6);
        assert_eq!("tiny".parse::<Shape>().unwrap(), Shape::TINY);
    }

    #[test]
    fn rejects_bad_shapes() {
        assert!(matches!("b1000-a8-k8-l2".parse::<Shape>(), Err(ShapeError::Invalid { what: "batch size", .. })));
        assert!(matches!("b1024-a0-k8-l2".parse::<Shape>(), Err(ShapeError::Invalid { what: "asset count", .. })));
        assert!(matches!("b1024-a8-k3-l2".parse::<Shape>(), Err(ShapeError::Invalid { what: "arity", .. })));
        assert!(matches!("b1024-a8-k8-l0".parse::<Shape>(), Err(ShapeError::Invalid { what: "level count", .. })));
        assert!(matches!("b1024-a8".parse::<Shape>(), Err(ShapeError::Syntax(_))));
        assert!(matches!("b1024-a8-k8-l+2".parse::<Shape>(), Err(ShapeError::Syntax(_))));
    }

    #[test]
    fn fit_follows_the_documented_rule() {
        assert_eq!(Shape::fit(3, 30).unwrap().to_string(), "b1024-a4-k8-l1");
        assert_eq!(Shape::fit(8, 8192).unwrap().to_string(), "b1024-a8-k8-l1");
        assert_eq!(Shape::fit(9, 8193).unwrap().to_string(), "b1024-a16-k8-l2");
        assert!(Shape::fit(65, 10).is_err());
    }

    #[test]
    fn check_fits_names_the_problem() {
        let err = Shape::TINY.check_fits(3, 2).unwrap_err().to_string();
        assert!(err.contains("3 assets") && err.contains("holds 2"), "{err}");
        let err = Shape::TINY.check_fits(2, 9).unwrap_err().to_string();
        assert!(err.contains("9 accounts") && err.contains("holds 8"), "{err}");
    }
}
