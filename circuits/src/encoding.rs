//! How field values leave the circuits: 32-byte hashes as hex, EVM addresses
//! as field limbs.
//!
//! A hash (four Goldilocks elements `h0..h3`) is written as the 32 bytes
//! `h0 ‖ h1 ‖ h2 ‖ h3`, each element as 8 big-endian bytes; the contract
//! splits a `bytes32` the same way. Every element must be canonical (< p).

use std::fmt;
use std::str::FromStr;

use plonky2::field::types::{Field, Field64, PrimeField64};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{F, Hash};

/// Why a hex string is not an acceptable hash or address.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum EncodingError {
    /// Wrong length or not hexadecimal.
    #[error("'{text}' is not {expected}")]
    Format {
        /// The rejected text.
        text: String,
        /// What was expected.
        expected: &'static str,
    },
    /// An element is not below the field modulus.
    #[error("'{0}' has a 64-bit word that is not a canonical field element (>= p)")]
    NonCanonical(String),
}

/// A Poseidon hash as `0x` followed by 64 hex digits, see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HashHex(pub Hash);

impl HashHex {
    /// The 32 bytes of the hash.
    pub fn to_bytes(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (chunk, element) in out.chunks_exact_mut(8).zip(self.0.elements) {
            chunk.copy_from_slice(&element.to_canonical_u64().to_be_bytes());
        }
        out
    }

    /// The hash encoded by 32 bytes; fails on a non-canonical element.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self, EncodingError> {
        let mut elements = [F::ZERO; 4];
        for (element, chunk) in elements.iter_mut().zip(bytes.chunks_exact(8)) {
            let word = u64::from_be_bytes(chunk.try_into().expect("8-byte chunk"));
            if word >= F::ORDER {
                return Err(EncodingError::NonCanonical(format!("0x{}", hex::encode(bytes))));
            }
            *element = F::from_canonical_u64(word);
        }
        Ok(HashHex(Hash { elements }))
    }
}

impl fmt::Display for HashHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.to_bytes()))
    }
}

impl FromStr for HashHex {
    type Err = EncodingError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bytes = parse_hex::<32>(text, "a 32-byte hash (0x + 64 hex digits)")?;
        HashHex::from_bytes(bytes)
    }
}

impl TryFrom<String> for HashHex {
    type Error = EncodingError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<HashHex> for String {
    fn from(hash: HashHex) -> String {
        hash.to_string()
    }
}

/// An EVM address: the proof submitter bound into the final proof.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Address(pub [u8; 20]);

/// Number of field elements an address takes: five 32-bit limbs.
pub const ADDRESS_LIMBS: usize = 5;

impl Address {
    /// The address as five field elements, big-endian 32-bit limbs (the
    /// first limb holds bytes 0..4).
    pub fn to_limbs(self) -> [F; ADDRESS_LIMBS] {
        let mut limbs = [F::ZERO; ADDRESS_LIMBS];
        for (limb, chunk) in limbs.iter_mut().zip(self.0.chunks_exact(4)) {
            *limb = F::from_canonical_u32(u32::from_be_bytes(chunk.try_into().expect("4-byte chunk")));
        }
        limbs
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl FromStr for Address {
    type Err = EncodingError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_hex::<20>(text, "an address (0x + 40 hex digits)").map(Address)
    }
}

impl TryFrom<String> for Address {
    type Error = EncodingError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Address> for String {
    fn from(address: Address) -> String {
        address.to_string()
    }
}

fn parse_hex<const N: usize>(text: &str, expected: &'static str) -> Result<[u8; N], EncodingError> {
    let error = || EncodingError::Format { text: text.to_string(), expected };
    let digits = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")).ok_or_else(error)?;
    if digits.len() != 2 * N {
        return Err(error());
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(digits, &mut out).map_err(|_| error())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_round_trips_through_hex() {
        let hash = Hash { elements: [1, 2, 3, F::ORDER - 1].map(F::from_canonical_u64) };
        let text = HashHex(hash).to_string();
        let expected = ["0000000000000001", "0000000000000002", "0000000000000003", "ffffffff00000000"].concat();
        assert_eq!(text, format!("0x{expected}"));
        assert_eq!(text.parse::<HashHex>().unwrap().0, hash);
    }

    #[test]
    fn rejects_non_canonical_and_malformed_hashes() {
        let too_big = format!("0x{}{}", "ff".repeat(8), "00".repeat(24));
        assert!(matches!(too_big.parse::<HashHex>(), Err(EncodingError::NonCanonical(_))));
        assert!(matches!("0x1234".parse::<HashHex>(), Err(EncodingError::Format { .. })));
        let not_hex = format!("0x{}zz", "00".repeat(31));
        assert!(matches!(not_hex.parse::<HashHex>(), Err(EncodingError::Format { .. })));
    }

    #[test]
    fn address_limbs_are_big_endian_words() {
        let address: Address = "0x0102030405060708090a0b0c0d0e0f1011121314".parse().unwrap();
        assert_eq!(address.to_limbs()[0], F::from_canonical_u32(0x01020304));
        assert_eq!(address.to_limbs()[4], F::from_canonical_u32(0x11121314));
        assert_eq!(address.to_string(), "0x0102030405060708090a0b0c0d0e0f1011121314");
        assert!("0x01".parse::<Address>().is_err());
    }
}
