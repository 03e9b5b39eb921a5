//! Where the tree prover keeps finished proofs, so that a run that was
//! interrupted resumes from them instead of proving them again.
//!
//! A stored proof is only a hint: the prover reuses it only if it verifies
//! against its circuit and carries the root and prices commitment this run
//! expects (see [`crate::tree_prover`]); anything else is proven again.

use std::collections::HashMap;
use std::fmt;

use anyhow::Result;

/// Which proof of a tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProofKey {
    /// Batch `n`, in tree order.
    Batch(usize),
    /// Node `index` of node level `level` (0: the nodes over batches).
    Node {
        /// The level.
        level: usize,
        /// Position in the level.
        index: usize,
    },
}

impl fmt::Display for ProofKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProofKey::Batch(index) => write!(f, "batch-{index}"),
            ProofKey::Node { level, index } => write!(f, "node-{level}-{index}"),
        }
    }
}

/// Keeps proofs by key, as bytes.
pub trait ProofStore {
    /// The stored proof of `key`, if there is one.
    fn load(&mut self, key: ProofKey) -> Result<Option<Vec<u8>>>;
    /// Keeps a finished proof; once this returns, a later run finds it.
    fn save(&mut self, key: ProofKey, proof: &[u8]) -> Result<()>;
}

/// Keeps nothing: every proof is made.
#[derive(Debug, Default)]
pub struct NoStore;

impl ProofStore for NoStore {
    fn load(&mut self, _: ProofKey) -> Result<Option<Vec<u8>>> {
        Ok(None)
    }

    fn save(&mut self, _: ProofKey, _: &[u8]) -> Result<()> {
        Ok(())
    }
}

/// Keeps proofs in memory (tests, and runs that only want the top proof).
#[derive(Debug, Default)]
pub struct MemoryStore {
    /// The proofs kept so far.
    pub proofs: HashMap<ProofKey, Vec<u8>>,
}

impl ProofStore for MemoryStore {
    fn load(&mut self, key: ProofKey) -> Result<Option<Vec<u8>>> {
        Ok(self.proofs.get(&key).cloned())
    }

    fn save(&mut self, key: ProofKey, proof: &[u8]) -> Result<()> {
        self.proofs.insert(key, proof.to_vec());
        Ok(())
    }
}
