//! The public inputs shared by batch and aggregation proofs: one node of the
//! account tree and what lies below it.
//!
//! Layout: `root[4] ‖ prices_commitment[4] ‖ account_count ‖ equity[A] ‖ debt[A]`,
//! `A` the family's most assets. Proofs of the nodes below the top carry
//! the verifier data of a circuit after these ([`crate::aggregation`]).

use plonky2::field::types::PrimeField64;
use plonky2::hash::hash_types::{HashOut, HashOutTarget};
use plonky2::iop::target::Target;
use plonky2::plonk::proof::ProofWithPublicInputs;

use crate::{C, D, F, Hash};

/// A batch or aggregation proof.
pub type NodeProof = ProofWithPublicInputs<F, C, D>;

/// The public inputs of a node proof, over field values (`T = F`) or circuit
/// targets (`T = Target`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeInputs<T> {
    /// Root of the subtree.
    pub root: [T; 4],
    /// The prices commitment: every node of one statement must agree on it.
    pub prices_commitment: [T; 4],
    /// Real (non-padding) users in the subtree.
    pub account_count: T,
    /// Equity total per asset.
    pub equity: Vec<T>,
    /// Debt total per asset.
    pub debt: Vec<T>,
}

impl<T: Copy> NodeInputs<T> {
    /// Number of public inputs for `assets` assets.
    pub fn len(assets: usize) -> usize {
        9 + 2 * assets
    }

    /// Reads the layout from the first [`Self::len`] elements of a
    /// public-input slice.
    pub fn from_slice(inputs: &[T], assets: usize) -> Self {
        assert!(inputs.len() >= Self::len(assets), "node public inputs for {assets} assets");
        let inputs = &inputs[..Self::len(assets)];
        NodeInputs {
            root: inputs[0..4].try_into().expect("4 elements"),
            prices_commitment: inputs[4..8].try_into().expect("4 elements"),
            account_count: inputs[8],
            equity: inputs[9..9 + assets].to_vec(),
            debt: inputs[9 + assets..].to_vec(),
        }
    }

    /// The flat public-input vector.
    pub fn to_vec(&self) -> Vec<T> {
        let mut out = Vec::with_capacity(Self::len(self.equity.len()));
        out.extend(self.root);
        out.extend(self.prices_commitment);
        out.push(self.account_count);
        out.extend(&self.equity);
        out.extend(&self.debt);
        out
    }
}

impl NodeInputs<Target> {
    /// The root as a hash target.
    pub fn root_target(&self) -> HashOutTarget {
        HashOutTarget::from(self.root)
    }

    /// The prices commitment as a hash target.
    pub fn prices_commitment_target(&self) -> HashOutTarget {
        HashOutTarget::from(self.prices_commitment)
    }
}

impl NodeInputs<F> {
    /// The public inputs of a node proof.
    pub fn of(proof: &NodeProof, assets: usize) -> Self {
        Self::from_slice(&proof.public_inputs, assets)
    }

    /// The subtree root.
    pub fn root_hash(&self) -> Hash {
        HashOut { elements: self.root }
    }

    /// The prices commitment.
    pub fn prices_commitment_hash(&self) -> Hash {
        HashOut { elements: self.prices_commitment }
    }

    /// The account count as an integer.
    pub fn count(&self) -> u64 {
        self.account_count.to_canonical_u64()
    }

    /// Totals as integers.
    pub fn totals(&self) -> (Vec<u64>, Vec<u64>) {
        let ints = |v: &[F]| v.iter().map(|x| x.to_canonical_u64()).collect();
        (ints(&self.equity), ints(&self.debt))
    }
}
