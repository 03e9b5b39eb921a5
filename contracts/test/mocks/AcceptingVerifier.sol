// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.30;

import {IPlonky2Verifier} from "../../src/IPlonky2Verifier.sol";

/// @notice Test-only: accepts every proof at no cost, so a gas measurement of
/// the registry leaves the verifier out.
contract AcceptingVerifier is IPlonky2Verifier {
    function verifyProof(bytes calldata, uint64[] calldata) external pure returns (bool) {
        return true;
    }
}
