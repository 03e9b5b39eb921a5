//! Bindings of the registry contract and conversions to zkpor's types.

use alloy::primitives::{Address as EvmAddress, B256, keccak256};
use zkpor_circuits::encoding::{Address, EncodingError, HashHex};

alloy::sol!(
    // The constructor's deploy binding takes its seven parameters and the provider.
    #[allow(missing_docs, clippy::too_many_arguments)]
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

pub use zkpor_protocol::states::{CommitState, RegistryStatus};

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
        assert_eq!(RegistryStatus::try_from(5).unwrap(), RegistryStatus::Expired);
        assert!(RegistryStatus::try_from(6).unwrap_err().to_string().contains("'6' is not a RegistryStatus"));
        assert_eq!(CommitState::try_from(1).unwrap(), CommitState::Committed);
        assert_eq!(CommitState::try_from(6).unwrap(), CommitState::Released);
        assert!(CommitState::try_from(7).is_err());
    }
}
