// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.30;

import {LiabilityRegistry} from "../src/LiabilityRegistry.sol";
import {RegistryFixture} from "./utils/RegistryFixture.sol";

/// @notice The timing and ordering rules under random block heights, window
/// lengths, reveal orders and reward amounts.
contract LiabilityRegistryFuzzTest is RegistryFixture {
    function testFuzz_commitsAreAcceptedExactlyDuringTheCommitWindow(uint256 start, uint256 delay) public {
        start = bound(start, 101, 10_000_000);
        delay = bound(delay, 0, 2 * (T1 + T2));
        uint256 seq = post(0);
        stake(alice, MIN_STAKE);
        stake(bob, MIN_STAKE);
        rollTo(start);
        commit(alice, seq, hex"aa");
        rollTo(start + delay);
        if (delay < T1) {
            commit(bob, seq, hex"bb");
            (, bytes32 hash,) = registry.commitOf(seq, bob);
            assertEq(hash, keccak256(abi.encodePacked(hex"bb", bob)), "accepted in T1");
        } else if (delay < T1 + T2) {
            vm.prank(bob);
            vm.expectRevert(
                abi.encodeWithSelector(LiabilityRegistry.CommitWindowClosed.selector, seq, uint64(start + T1))
            );
            registry.submitProofHash(seq, bytes32(uint256(2)));
        } else {
            vm.prank(bob);
            vm.expectRevert(
                abi.encodeWithSelector(LiabilityRegistry.RoundExpired.selector, seq, uint64(start + T1 + T2))
            );
            registry.submitProofHash(seq, bytes32(uint256(2)));
        }
    }

    function testFuzz_revealsAreAcceptedExactlyDuringTheRevealWindow(uint256 start, uint256 delay) public {
        start = bound(start, 101, 10_000_000);
        delay = bound(delay, 0, T1 + T2 + 10);
        uint256 seq = post(0);
        stake(alice, MIN_STAKE);
        rollTo(start);
        bytes memory proof = validProof(seq, alice);
        commit(alice, seq, proof);
        rollTo(start + delay);
        vm.prank(alice);
        if (delay < T1) {
            vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.RevealTooEarly.selector, seq, uint64(start + T1)));
            registry.submitProof(seq, proof);
        } else if (delay < T1 + T2) {
            assertTrue(registry.submitProof(seq, proof), "accepted in T2");
        } else {
            vm.expectRevert(
                abi.encodeWithSelector(LiabilityRegistry.RevealTooLate.selector, seq, uint64(start + T1 + T2))
            );
            registry.submitProof(seq, proof);
        }
    }

    function testFuzz_windowsFollowTheParametersOfTheRoundsOpening(uint64 t1, uint64 t2, uint64 later) public {
        t1 = uint64(bound(t1, 1, registry.MAX_WINDOW()));
        t2 = uint64(bound(t2, 1, registry.MAX_WINDOW()));
        registry.setWindows(t1, t2);
        uint256 seq = post(0);
        stake(alice, MIN_STAKE);
        commit(alice, seq, hex"aa");
        registry.setWindows(uint64(bound(later, 1, 5)), 1); // does not move an open round
        (uint64 start, uint64 commitEnd, uint64 revealEnd) = windowsOf(seq);
        assertEq(commitEnd, start + t1, "T1");
        assertEq(revealEnd, start + t1 + t2, "T2");
    }

    /// Up to 8 provers commit in one order and reveal in another; some proofs
    /// are forged. The first valid reveal wins, forgers are slashed, and the
    /// reward is paid out to the wei among the valid ones.
    function testFuzz_revealOrderDecidesOnlyWhoIsFirst(uint256 seed, uint256 count, uint256 forgedMask, uint96 reward)
        public
    {
        count = bound(count, 1, 8);
        reward = uint96(bound(reward, 0, 500 ether));
        uint256 seq = post(reward);
        address[] memory provers = new address[](count);
        bytes[] memory proofs = new bytes[](count);
        for (uint256 i = 0; i < count; ++i) {
            provers[i] = vm.addr(100 + i);
            vm.deal(provers[i], MIN_STAKE);
            stake(provers[i], MIN_STAKE);
            proofs[i] = (forgedMask >> i) & 1 == 1 ? invalidProof(seq, provers[i]) : validProof(seq, provers[i]);
        }
        uint256[] memory commitOrder = _permutation(count, seed);
        uint256[] memory revealOrder = _permutation(count, uint256(keccak256(abi.encode(seed))));
        for (uint256 i = 0; i < count; ++i) {
            uint256 p = commitOrder[i];
            commit(provers[p], seq, proofs[p]);
        }
        rollTo(100 + T1 + (seed % T2));
        address first;
        uint256 valid;
        for (uint256 i = 0; i < count; ++i) {
            uint256 p = revealOrder[i];
            bool ok = reveal(provers[p], seq, proofs[p]);
            assertEq(ok, (forgedMask >> p) & 1 == 0, "verifier decides");
            if (ok) {
                valid += 1;
                if (first == address(0)) first = provers[p];
            } else {
                assertEq(registry.stakeOf(provers[p]), 0, "forger slashed");
            }
        }
        rollTo(100 + T1 + T2);
        if (valid == 0) {
            assertEq(statusOf(seq), uint256(LiabilityRegistry.Status.Expired), "nobody proved");
            registry.settle(seq);
            assertEq(statusOf(seq), uint256(LiabilityRegistry.Status.Posted), "reopened");
        } else {
            assertEq(registry.sequenceInfo(seq).prover, first, "first valid reveal wins");
            uint256 paid;
            for (uint256 i = 0; i < count; ++i) {
                if ((forgedMask >> i) & 1 == 0) {
                    vm.prank(provers[i]);
                    paid += registry.claimReward(seq);
                }
            }
            assertEq(paid, reward, "paid to the wei");
        }
        assertAccounted();
    }

    /// Rounds fail and are settled until one succeeds.
    function testFuzz_failedRoundsReopenUntilAProofArrives(uint256 failures, uint256 gap) public {
        failures = bound(failures, 0, 5);
        uint256 seq = post(1 ether);
        stake(alice, 10 ether);
        uint256 height = 100;
        for (uint256 round = 1; round <= failures; ++round) {
            commit(alice, seq, hex"0bad");
            height += T1 + T2 + bound(gap, 0, 1000);
            rollTo(height);
            registry.settle(seq);
            (uint32 current,,,) = registry.windows(seq);
            assertEq(current, round + 1, "next round");
        }
        assertEq(registry.stakeOf(alice), 10 ether - failures * MIN_STAKE, "one slash per failed round");
        bytes memory proof = validProof(seq, alice);
        commit(alice, seq, proof);
        rollTo(height + T1);
        assertTrue(reveal(alice, seq, proof), "finally verified");
        rollTo(height + T1 + T2);
        vm.prank(alice);
        assertEq(registry.claimReward(seq), 1 ether, "reward intact");
        assertAccounted();
    }

    function _permutation(uint256 n, uint256 seed) internal pure returns (uint256[] memory order) {
        order = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            order[i] = i;
        }
        for (uint256 i = n; i > 1; --i) {
            seed = uint256(keccak256(abi.encode(seed)));
            uint256 j = seed % i;
            (order[i - 1], order[j]) = (order[j], order[i - 1]);
        }
    }
}
