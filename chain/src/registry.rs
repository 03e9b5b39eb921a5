//! Bindings of the registry contract and conversions to zkpor's types.

use alloy::primitives::{Address as EvmAddress, B256, keccak256};
use zkpor_circuits::encoding::{Address, EncodingError, HashHex};

alloy::sol!(
    #[allow(missing_docs)]
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    LiabilityRegistry,
    "../contracts/artifacts/LiabilityRegistry.json"
);

pub use LiabilityRegistry::{LiabilityRegistryErrors, LiabilityRegistryEvents};

/// What a prover commits to before revealing `proof`: `keccak256(proof ‖ prover)`,
/// as the registry's `proofHashOf` computes it.
pub fn proof_hash(proof: &[u8], prover: EvmAddress) -> B256 {
    keccak256([proof, prover.as_slice()].concat())
}

/// A zkpor hash as the contract's `bytes32`.
pub fn hash_to_b256(hash: HashHex) -> B256 {
    B256::from(hash.to_bytes())
}

/// A contract `bytes32` as a zkpor hash; fails on a non-canonical word.
pub fn b256_to_hash(value: B256) -> Result<HashHex, EncodingError> {
    HashHex::from_bytes(value.0)
}

/// A zkpor address as an EVM address.
pub fn to_evm_address(address: Address) -> EvmAddress {
    EvmAddress::from(address.0)
}

/// An EVM address as a zkpor address.
pub fn from_evm_address(address: EvmAddress) -> Address {
    Address(address.0.0)
}

/// `TryFrom<u8>` for an enum that mirrors a Solidity enum: the variants in
/// the contract's declaration order.
macro_rules! solidity_enum {
    ($name:ident, $what:literal, [$($variant:ident),+]) => {
        impl TryFrom<u8> for $name {
            type Error = anyhow::Error;

            fn try_from(value: u8) -> anyhow::Result<Self> {
                const VARIANTS: &[$name] = &[$($name::$variant),+];
                VARIANTS.get(usize::from(value)).copied().ok_or_else(|| anyhow::anyhow!("unknown {} {value}", $what))
            }
        }
    };
}

/// Where a sequence stands (the contract's `Status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SequenceStatus {
    /// Never posted.
    None,
    /// Posted; no commit in the current round yet.
    Posted,
    /// The commit window T1 is open.
    Committing,
    /// The reveal window T2 is open and nothing is verified yet.
    Revealing,
    /// A valid proof was revealed.
    Verified,
    /// T2 ended without a valid proof; `settle` reopens it.
    Expired,
}

solidity_enum!(SequenceStatus, "sequence status", [None, Posted, Committing, Revealing, Verified, Expired]);

impl std::fmt::Display for SequenceStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SequenceStatus::None => "not posted",
            SequenceStatus::Posted => "posted",
            SequenceStatus::Committing => "committing",
            SequenceStatus::Revealing => "revealing",
            SequenceStatus::Verified => "verified",
            SequenceStatus::Expired => "expired, awaiting settle",
        })
    }
}

/// Where a prover's commit in one round stands (the contract's
/// `CommitState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitState {
    /// No commit.
    None,
    /// Committed, waiting for its reveal.
    Committed,
    /// Revealed and valid; reward not claimed yet.
    Valid,
    /// Revealed and invalid: slashed.
    Invalid,
    /// Valid and paid.
    Rewarded,
    /// Never revealed in a round that failed: slashed.
    Slashed,
    /// Never revealed in a round another prover won: released.
    Released,
}

solidity_enum!(CommitState, "commit state", [None, Committed, Valid, Invalid, Rewarded, Slashed, Released]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_addresses_convert_both_ways() {
        let hash: HashHex = format!("0x{}", "0102030405060708".repeat(4)).parse().unwrap();
        let word = hash_to_b256(hash);
        assert_eq!(word.0[0], 1);
        assert_eq!(b256_to_hash(word).unwrap(), hash);
        assert!(b256_to_hash(B256::repeat_byte(0xff)).is_err(), "words >= p are refused");
        let address: Address = "0x00000000000000000000000000000000000000aa".parse().unwrap();
        assert_eq!(from_evm_address(to_evm_address(address)), address);
    }

    #[test]
    fn enums_decode_in_the_contracts_order() {
        assert_eq!(SequenceStatus::try_from(5).unwrap(), SequenceStatus::Expired);
        assert!(SequenceStatus::try_from(6).unwrap_err().to_string().contains("unknown sequence status 6"));
        assert_eq!(CommitState::try_from(1).unwrap(), CommitState::Committed);
        assert_eq!(CommitState::try_from(6).unwrap(), CommitState::Released);
        assert!(CommitState::try_from(7).is_err());
    }
}
