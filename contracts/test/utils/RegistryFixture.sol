// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.30;

import {LiabilityRegistry} from "../../src/LiabilityRegistry.sol";
import {IPlonky2Verifier} from "../../src/IPlonky2Verifier.sol";
import {MockVerifier} from "../mocks/MockVerifier.sol";
import {TestBase} from "./TestBase.sol";

/// @notice A registry with a mock verifier and helpers to drive it.
abstract contract RegistryFixture is TestBase {
    uint64 internal constant T1 = 10;
    uint64 internal constant T2 = 20;
    uint256 internal constant MIN_STAKE = 1 ether;
    bytes32 internal constant ROOT =
        bytes32(uint256(0x0102030405060708_1112131415161718_2122232425262728_3132333435363738));
    bytes32 internal constant DIGEST =
        bytes32(uint256(0x0a0b0c0d0e0f1011_1a1b1c1d1e1f2021_2a2b2c2d2e2f3031_3a3b3c3d3e3f4041));

    LiabilityRegistry internal registry;
    MockVerifier internal verifier;
    address internal owner = address(this);
    address internal sequencer = vm.addr(1);
    address internal alice = vm.addr(2);
    address internal bob = vm.addr(3);
    address internal carol = vm.addr(4);
    address internal treasury = vm.addr(5);

    function setUp() public virtual {
        vm.roll(100);
        verifier = new MockVerifier();
        registry = new LiabilityRegistry(
            IPlonky2Verifier(address(verifier)), FAMILY, FAMILY_DIGEST, sequencer, MIN_STAKE, T1, T2
        );
        registry.setSlashRecipient(treasury);
        vm.label(sequencer, "sequencer");
        vm.label(alice, "alice");
        vm.label(bob, "bob");
        vm.label(carol, "carol");
        for (uint256 i = 2; i <= 4; ++i) {
            vm.deal(vm.addr(i), 100 ether);
        }
        vm.deal(sequencer, 1000 ether);
    }

    function post(uint256 reward) internal returns (uint256 sequence) {
        vm.prank(sequencer);
        return registry.postSequence{value: reward}(ROOT, DIGEST, 1000, hex"01");
    }

    function stake(address prover, uint256 amount) internal {
        vm.prank(prover);
        registry.deposit{value: amount}();
    }

    /// @dev A proof the mock verifier accepts for `prover` on `sequence`.
    function validProof(uint256 sequence, address prover) internal returns (bytes memory proof) {
        proof = abi.encodePacked("valid proof", sequence, prover);
        verifier.accept(proof, registry.publicInputs(sequence, prover));
    }

    function invalidProof(uint256 sequence, address prover) internal pure returns (bytes memory) {
        return abi.encodePacked("forged proof", sequence, prover);
    }

    function commit(address prover, uint256 sequence, bytes memory proof) internal {
        vm.prank(prover);
        registry.submitProofHash(sequence, keccak256(abi.encodePacked(proof, prover)));
    }

    function reveal(address prover, uint256 sequence, bytes memory proof) internal returns (bool) {
        vm.prank(prover);
        return registry.submitProof(sequence, proof);
    }

    function rollTo(uint256 height) internal {
        vm.roll(height);
    }

    function windowsOf(uint256 sequence) internal view returns (uint64 start, uint64 commitEnd, uint64 revealEnd) {
        (, start, commitEnd, revealEnd) = registry.windows(sequence);
    }

    function statusOf(uint256 sequence) internal view returns (uint256) {
        return uint256(registry.status(sequence));
    }

    function assertAccounted() internal view {
        assertEq(
            address(registry).balance,
            registry.totalStaked() + registry.unpaidRewards() + registry.slashedFunds(),
            "balance = stakes + unpaid rewards + slashed funds"
        );
    }
}
