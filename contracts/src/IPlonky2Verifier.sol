// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.30;

/// @title IPlonky2Verifier
/// @notice Checks a zkpor final proof (plonky2, Keccak configuration) on chain.
/// @dev The public inputs are Goldilocks field elements in the order of the
/// final circuit: root[4], digest[4], sequence, submitter[5] (see
/// LiabilityRegistry.publicInputs). A verifier may return false or revert on a
/// proof it rejects; the registry treats both as invalid.
interface IPlonky2Verifier {
    /// @notice Whether `proof` is a valid final proof for `publicInputs`.
    function verifyProof(bytes calldata proof, uint64[] calldata publicInputs) external view returns (bool);
}
