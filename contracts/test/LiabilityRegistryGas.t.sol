// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.30;

import {LiabilityRegistry} from "../src/LiabilityRegistry.sol";
import {IPlonky2Verifier} from "../src/IPlonky2Verifier.sol";
import {AcceptingVerifier} from "./mocks/AcceptingVerifier.sol";
import {TestBase} from "./utils/TestBase.sol";

/// @notice Gas of the registry's operations, written to snapshots/ by
/// `vm.snapshotGasLastCall` (the verifier is a no-op stand-in). Run with
/// `forge test --match-contract Gas --isolate` so every call is a transaction
/// of its own: cold storage, base cost and calldata included.
contract LiabilityRegistryGasTest is TestBase {
    /// One asset of the statement emitted by `postSequence`.
    struct StatementAsset {
        bytes32 symbol;
        uint8 decimals;
        uint8 priceFractionDigits;
        uint128 priceMantissa;
        uint64 equity;
        uint64 debt;
    }

    /// The size of a real final proof as the verifier reads it
    /// (`final.calldata`, docs/verifier.md).
    uint256 internal constant PROOF_BYTES = 59_432;

    LiabilityRegistry internal registry;
    address internal sequencer = vm.addr(1);

    function setUp() public {
        vm.roll(100);
        registry = new LiabilityRegistry(
            IPlonky2Verifier(address(new AcceptingVerifier())), FAMILY, FAMILY_DIGEST, sequencer, 1 ether, 10, 20
        );
        vm.deal(sequencer, 100 ether);
    }

    function statement(uint256 assets) internal pure returns (bytes memory) {
        StatementAsset[] memory list = new StatementAsset[](assets);
        for (uint256 i = 0; i < assets; ++i) {
            list[i] = StatementAsset(
                bytes32(bytes("TOKEN")), 8, 2, uint128(9_123_456 + i), uint64(1e15 + i), uint64(1e9 + i)
            );
        }
        return abi.encode(uint8(1), "b1024-a256-k8-l3", list);
    }

    function test_gasPostSequence() public {
        bytes memory eight = statement(8);
        bytes memory wide = statement(220);
        vm.prank(sequencer);
        registry.postSequence{value: 1 ether}(bytes32(uint256(1)), bytes32(uint256(2)), 1_000_000, eight);
        vm.snapshotGasLastCall("postSequence, 8 assets");
        vm.prank(sequencer);
        registry.postSequence{value: 1 ether}(bytes32(uint256(1)), bytes32(uint256(2)), 1_000_000, wide);
        vm.snapshotGasLastCall("postSequence, 220 assets");
        assertTrue(eight.length == 32 * (6 + 6 * 8) && wide.length == 32 * (6 + 6 * 220), "statement sizes");
    }

    function test_gasCommitRevealSettle() public {
        vm.prank(sequencer);
        registry.postSequence{value: 1 ether}(bytes32(uint256(1)), bytes32(uint256(2)), 1, hex"01");
        // Pseudo-random bytes: a real proof has few zero bytes, and calldata
        // pricing depends on that.
        bytes memory proof = new bytes(PROOF_BYTES);
        for (uint256 i = 0; i < PROOF_BYTES; ++i) {
            proof[i] = bytes1(uint8(uint256(keccak256(abi.encode(i))) | 1));
        }
        address[] memory provers = new address[](2);
        for (uint256 i = 0; i < 2; ++i) {
            provers[i] = vm.addr(10 + i);
            vm.deal(provers[i], 2 ether);
            vm.prank(provers[i]);
            registry.deposit{value: 1 ether}();
        }
        vm.prank(provers[0]);
        registry.submitProofHash(1, keccak256(abi.encodePacked(proof, provers[0])));
        vm.snapshotGasLastCall("submitProofHash, first commit (opens T1)");
        vm.prank(provers[1]);
        registry.submitProofHash(1, keccak256(abi.encodePacked(proof, provers[1])));
        vm.snapshotGasLastCall("submitProofHash, later commit");
        vm.roll(110);
        vm.prank(provers[0]);
        registry.submitProof(1, proof);
        vm.snapshotGasLastCall("submitProof, 59432-byte proof, first valid (verifier excluded)");
        vm.prank(provers[1]);
        registry.submitProof(1, proof);
        vm.snapshotGasLastCall("submitProof, 59432-byte proof, later valid (verifier excluded)");
        vm.roll(130);
        registry.settle(1);
        vm.snapshotGasLastCall("settle, verified round");
        vm.prank(provers[0]);
        registry.claimReward(1);
        vm.snapshotGasLastCall("claimReward");
    }

    function test_gasSettleFailedRound() public {
        vm.prank(sequencer);
        registry.postSequence(bytes32(uint256(1)), bytes32(uint256(2)), 1, hex"01");
        for (uint256 i = 0; i < 8; ++i) {
            address prover = vm.addr(100 + i);
            vm.deal(prover, 1 ether);
            vm.prank(prover);
            registry.deposit{value: 1 ether}();
            vm.prank(prover);
            registry.submitProofHash(1, bytes32(i + 1));
        }
        vm.roll(130);
        registry.settle(1);
        vm.snapshotGasLastCall("settle, failed round, 8 committers slashed");
    }
}
