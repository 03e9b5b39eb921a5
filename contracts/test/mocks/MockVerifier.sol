// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.30;

import {IPlonky2Verifier} from "../../src/IPlonky2Verifier.sol";

/// @notice Test-only stand-in for the plonky2 verifier: accepts exactly the
/// (proof, public inputs) pairs a test registered, so a test also checks the
/// registry passes the right public inputs. It can be told to revert or to
/// burn all the gas it gets, to test how the registry treats those.
contract MockVerifier is IPlonky2Verifier {
    enum Mode {
        Normal,
        Revert,
        BurnGas
    }

    mapping(bytes32 => bool) public accepted;
    Mode public mode;

    function accept(bytes calldata proof, uint64[] calldata publicInputs) external {
        accepted[keccak256(abi.encode(proof, publicInputs))] = true;
    }

    function setMode(Mode mode_) external {
        mode = mode_;
    }

    function verifyProof(bytes calldata proof, uint64[] calldata publicInputs) external view returns (bool) {
        if (mode == Mode.Revert) revert("mock verifier: malformed proof");
        if (mode == Mode.BurnGas) {
            while (true) {}
        }
        return accepted[keccak256(abi.encode(proof, publicInputs))];
    }
}
