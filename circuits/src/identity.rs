//! Users' hidden ids.
//!
//! `id_hash = hash(Identity, nonce[0..4] ‖ len ‖ id bytes in 7-byte words)`
//! hides the user id behind a secret nonce that only that user receives.
//! A real user's id hash never starts with zero (the nonce is redrawn in
//! that 2^-64 case): the circuits count users by it, and padding users have
//! an id hash of zero.

use plonky2::field::types::{Field, Sample};
use rand::Rng;

use crate::encoding::HashHex;
use crate::hash::{Domain, hash};
use crate::{F, Hash};

/// A user's secret nonce: four field elements, written like a hash.
pub type Nonce = HashHex;

/// `hash(Identity, nonce ‖ len ‖ id bytes)`, the id as 7-byte little-endian
/// words.
pub fn id_hash(id: &str, nonce: &Nonce) -> Hash {
    let bytes = id.as_bytes();
    let mut inputs = nonce.0.elements.to_vec();
    inputs.push(F::from_canonical_usize(bytes.len()));
    inputs.extend(bytes.chunks(7).map(|chunk| {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        F::from_canonical_u64(u64::from_le_bytes(word))
    }));
    hash(Domain::Identity, &inputs)
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
}
