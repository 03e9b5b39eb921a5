//! Account leaves: what one user contributes to the tree.
//!
//! `leaf = Poseidon(id_hash ‖ equity[0..A] ‖ debt[0..A])`, where
//! `id_hash = Poseidon(nonce[0..4] ‖ len ‖ id bytes in 7-byte words)` hides
//! the user id behind a secret nonce that only that user receives. Padding
//! accounts have `id_hash = 0` and zero balances; a real account always has a
//! non-zero first `id_hash` element, which is how the circuits count accounts.

use plonky2::field::types::{Field, Sample};
use plonky2::hash::poseidon::PoseidonHash;
use plonky2::plonk::config::Hasher;
use rand::Rng;

use crate::encoding::HashHex;
use crate::{F, Hash};

/// A user's secret nonce: four field elements, written like a hash.
pub type Nonce = HashHex;

/// One account as the circuits see it: the hidden id and, per asset slot, the
/// equity and debt in smallest units (each below 2^48).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountLeaf {
    /// `Poseidon(nonce ‖ id)`; zero for padding.
    pub id_hash: Hash,
    /// Equity per asset slot.
    pub equity: Vec<u64>,
    /// Debt per asset slot.
    pub debt: Vec<u64>,
}

impl AccountLeaf {
    /// The padding account of a shape with `assets` slots.
    pub fn padding(assets: usize) -> Self {
        AccountLeaf { id_hash: Hash::default(), equity: vec![0; assets], debt: vec![0; assets] }
    }

    /// The leaf hash.
    pub fn hash(&self) -> Hash {
        leaf_hash(self.id_hash, &to_fields(&self.equity), &to_fields(&self.debt))
    }
}

/// `Poseidon(id_hash ‖ equity ‖ debt)` over raw field values.
pub fn leaf_hash(id_hash: Hash, equity: &[F], debt: &[F]) -> Hash {
    let inputs: Vec<F> = id_hash.elements.iter().chain(equity).chain(debt).copied().collect();
    PoseidonHash::hash_no_pad(&inputs)
}

/// `Poseidon(nonce ‖ len ‖ id bytes)`, the id as 7-byte little-endian words.
pub fn id_hash(id: &str, nonce: &Nonce) -> Hash {
    let bytes = id.as_bytes();
    let mut inputs = nonce.0.elements.to_vec();
    inputs.push(F::from_canonical_usize(bytes.len()));
    inputs.extend(bytes.chunks(7).map(|chunk| {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        F::from_canonical_u64(u64::from_le_bytes(word))
    }));
    PoseidonHash::hash_no_pad(&inputs)
}

/// Draws a fresh nonce for `id`, redrawing in the (2^-64) case where the id
/// hash would start with zero and so be counted as padding.
pub fn draw_nonce<R: Rng + ?Sized>(id: &str, rng: &mut R) -> (Nonce, Hash) {
    loop {
        let nonce = HashHex(Hash { elements: std::array::from_fn(|_| F::sample(rng)) });
        let hash = id_hash(id, &nonce);
        if hash.elements[0] != F::ZERO {
            return (nonce, hash);
        }
    }
}

/// Values in smallest units as field elements.
pub fn to_fields(values: &[u64]) -> Vec<F> {
    values.iter().map(|&v| F::from_canonical_u64(v)).collect()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    use super::*;

    #[test]
    fn id_hash_depends_on_id_and_nonce() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let (nonce, hash) = draw_nonce("alice", &mut rng);
        assert_eq!(id_hash("alice", &nonce), hash);
        assert_ne!(id_hash("alicf", &nonce), hash);
        assert_ne!(id_hash("alice\0", &nonce), hash, "the length is hashed");
        let (other, _) = draw_nonce("alice", &mut rng);
        assert_ne!(id_hash("alice", &other), hash);
    }

    #[test]
    fn leaf_hash_covers_every_value() {
        let leaf = AccountLeaf { id_hash: Hash::default(), equity: vec![1, 2], debt: vec![0, 3] };
        let mut changed = leaf.clone();
        changed.debt[1] = 4;
        assert_ne!(leaf.hash(), changed.hash());
        let mut swapped = leaf.clone();
        swapped.equity.swap(0, 1);
        assert_ne!(leaf.hash(), swapped.hash());
    }
}
