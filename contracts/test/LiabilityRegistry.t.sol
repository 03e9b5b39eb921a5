// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

import {LiabilityRegistry} from "../src/LiabilityRegistry.sol";
import {IPlonky2Verifier} from "../src/IPlonky2Verifier.sol";
import {MockVerifier} from "./mocks/MockVerifier.sol";
import {RegistryFixture} from "./utils/RegistryFixture.sol";

/// @notice One test per rule of the registry, each revert included.
contract LiabilityRegistryTest is RegistryFixture {
    uint256 internal constant POSTED = uint256(LiabilityRegistry.Status.Posted);
    uint256 internal constant COMMITTING = uint256(LiabilityRegistry.Status.Committing);
    uint256 internal constant REVEALING = uint256(LiabilityRegistry.Status.Revealing);
    uint256 internal constant VERIFIED = uint256(LiabilityRegistry.Status.Verified);
    uint256 internal constant EXPIRED = uint256(LiabilityRegistry.Status.Expired);

    // ------------------------------------------------------------ set-up and roles

    function test_constructorRejectsZeroAddressesAndBadWindows() public {
        IPlonky2Verifier v = IPlonky2Verifier(address(verifier));
        vm.expectRevert(LiabilityRegistry.ZeroAddress.selector);
        new LiabilityRegistry(IPlonky2Verifier(address(0)), FAMILY, FAMILY_DIGEST, sequencer, MIN_STAKE, T1, T2);
        vm.expectRevert(LiabilityRegistry.ZeroAddress.selector);
        new LiabilityRegistry(v, FAMILY, FAMILY_DIGEST, address(0), MIN_STAKE, T1, T2);
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.InvalidWindow.selector, uint64(0)));
        new LiabilityRegistry(v, FAMILY, FAMILY_DIGEST, sequencer, MIN_STAKE, 0, T2);
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.InvalidWindow.selector, uint64(2_000_000)));
        new LiabilityRegistry(v, FAMILY, FAMILY_DIGEST, sequencer, MIN_STAKE, T1, 2_000_000);
        vm.expectRevert(LiabilityRegistry.EmptyFamily.selector);
        new LiabilityRegistry(v, "", FAMILY_DIGEST, sequencer, MIN_STAKE, T1, T2);
    }

    function test_recordsTheCircuitFamily() public view {
        assertEq(keccak256(bytes(registry.family())), keccak256(bytes(FAMILY)), "the family's name");
        assertEq(registry.familyDigest(), FAMILY_DIGEST, "the family's digest");
    }

    function test_onlyOwnerSetsParameters() public {
        bytes memory notOwner = abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice);
        vm.startPrank(alice);
        vm.expectRevert(notOwner);
        registry.setSequencer(alice);
        vm.expectRevert(notOwner);
        registry.setMinStake(0);
        vm.expectRevert(notOwner);
        registry.setSlashAmount(0);
        vm.expectRevert(notOwner);
        registry.setSlashRecipient(alice);
        vm.expectRevert(notOwner);
        registry.setWindows(1, 1);
        vm.expectRevert(notOwner);
        registry.setVerifierGasLimit(1_000_000);
        vm.stopPrank();

        registry.setSequencer(bob);
        registry.setMinStake(2 ether);
        registry.setSlashAmount(0.5 ether);
        registry.setWindows(3, 4);
        registry.setVerifierGasLimit(1_000_000);
        assertEq(registry.sequencer(), bob, "sequencer");
        assertEq(registry.minStake(), 2 ether, "min stake");
        assertEq(registry.slashAmount(), 0.5 ether, "slash amount");
        assertEq(registry.commitWindow(), 3, "T1");
        assertEq(registry.revealWindow(), 4, "T2");
        assertEq(registry.verifierGasLimit(), 1_000_000, "verifier gas");
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.InvalidGasLimit.selector, uint256(20_000_000)));
        registry.setVerifierGasLimit(20_000_000);
        vm.expectRevert(LiabilityRegistry.ZeroAddress.selector);
        registry.setSlashRecipient(address(0));
    }

    function test_ownershipMovesInTwoStepsAndCannotBeRenounced() public {
        vm.expectRevert(LiabilityRegistry.OwnershipCannotBeRenounced.selector);
        registry.renounceOwnership();
        registry.transferOwnership(alice);
        assertEq(registry.owner(), owner, "still the owner until accepted");
        vm.prank(alice);
        registry.acceptOwnership();
        assertEq(registry.owner(), alice, "new owner");
    }

    // ------------------------------------------------------------------- posting

    function test_onlyTheSequencerPosts() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.NotSequencer.selector, alice));
        registry.postSequence(ROOT, DIGEST, 1, hex"01");
    }

    function test_sequencesAreNumberedAndStored() public {
        vm.recordLogs();
        uint256 first = post(3 ether);
        uint256 second = post(0);
        assertEq(first, 1, "first sequence");
        assertEq(second, 2, "second sequence");
        assertEq(registry.sequenceCount(), 2, "count");
        LiabilityRegistry.Sequence memory s = registry.sequenceInfo(1);
        assertEq(s.root, ROOT, "root");
        assertEq(s.digest, DIGEST, "digest");
        assertEq(s.accountCount, 1000, "accounts");
        assertEq(s.postedBlock, 100, "posted block");
        assertEq(s.reward, 3 ether, "reward");
        assertEq(s.round, 1, "round");
        assertEq(statusOf(1), POSTED, "posted");
        assertEq(registry.unpaidRewards(), 3 ether, "reward is owed");
        assertEq(vm.getRecordedLogs()[0].topics[0], LiabilityRegistry.SequencePosted.selector, "event");
        assertAccounted();
    }

    function test_postEmitsTheStatement() public {
        vm.expectEmit(true, false, false, true);
        emit LiabilityRegistry.SequencePosted(1, ROOT, DIGEST, 7, 1 ether, hex"deadbeef");
        vm.prank(sequencer);
        registry.postSequence{value: 1 ether}(ROOT, DIGEST, 7, hex"deadbeef");
    }

    function test_postRejectsNonCanonicalHashesAndEmptyStatements() public {
        bytes32 bad = bytes32(uint256(0xFFFFFFFF00000001) << 128);
        vm.startPrank(sequencer);
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.NonCanonical.selector, bad));
        registry.postSequence(bad, DIGEST, 1, hex"01");
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.NonCanonical.selector, bad));
        registry.postSequence(ROOT, bad, 1, hex"01");
        vm.expectRevert(LiabilityRegistry.EmptyStatement.selector);
        registry.postSequence(ROOT, DIGEST, 1, "");
        vm.stopPrank();
    }

    function test_unknownSequencesAreRefused() public {
        post(0);
        stake(alice, MIN_STAKE);
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.UnknownSequence.selector, uint256(0)));
        registry.submitProofHash(0, bytes32(uint256(1)));
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.UnknownSequence.selector, uint256(2)));
        registry.submitProofHash(2, bytes32(uint256(1)));
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.UnknownSequence.selector, uint256(2)));
        registry.submitProof(2, hex"00");
        vm.stopPrank();
        assertEq(statusOf(2), uint256(LiabilityRegistry.Status.None), "never posted");
    }

    // --------------------------------------------------------------------- stake

    function test_depositAndWithdraw() public {
        vm.prank(alice);
        vm.expectRevert(LiabilityRegistry.ZeroAmount.selector);
        registry.deposit();
        stake(alice, 2 ether);
        assertEq(registry.stakeOf(alice), 2 ether, "staked");
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.InsufficientStake.selector, 2 ether, 3 ether));
        registry.withdraw(3 ether);
        uint256 before = alice.balance;
        vm.prank(alice);
        registry.withdraw(2 ether);
        assertEq(alice.balance - before, 2 ether, "paid back");
        assertEq(registry.totalStaked(), 0, "total");
        assertAccounted();
    }

    function test_anOpenCommitLocksTheMinimumStake() public {
        uint256 seq = post(1 ether);
        stake(alice, 3 ether);
        bytes memory proof = validProof(seq, alice);
        commit(alice, seq, proof);
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.StakeLocked.selector, uint256(1), MIN_STAKE));
        registry.withdraw(2.5 ether);
        registry.withdraw(2 ether); // down to the minimum is fine
        vm.stopPrank();
        (,, uint64 commitEnd,) = registry.windows(seq);
        rollTo(commitEnd);
        reveal(alice, seq, proof);
        vm.prank(alice);
        registry.withdraw(1 ether); // revealed: nothing to slash any more
        assertEq(registry.stakeOf(alice), 0, "all withdrawn");
    }

    // -------------------------------------------------------------------- commit

    function test_committingNeedsTheMinimumStake() public {
        uint256 seq = post(0);
        stake(alice, MIN_STAKE - 1);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.NotStaked.selector, MIN_STAKE - 1, MIN_STAKE));
        registry.submitProofHash(seq, bytes32(uint256(1)));
    }

    function test_theFirstCommitOpensTheCommitWindow() public {
        uint256 seq = post(0);
        stake(alice, MIN_STAKE);
        rollTo(150);
        vm.expectEmit(true, false, false, true);
        emit LiabilityRegistry.RoundOpened(seq, 1, 150, 150 + T1, 150 + T1 + T2);
        commit(alice, seq, hex"aa");
        (uint64 start, uint64 commitEnd, uint64 revealEnd) = windowsOf(seq);
        assertEq(start, 150, "T1 starts at the first commit");
        assertEq(commitEnd, 150 + T1, "T1 end");
        assertEq(revealEnd, 150 + T1 + T2, "T2 end");
        assertEq(statusOf(seq), COMMITTING, "committing");
        (uint32 round, bytes32 hash, LiabilityRegistry.CommitState state) = registry.commitOf(seq, alice);
        assertEq(round, 1, "round");
        assertEq(hash, keccak256(abi.encodePacked(hex"aa", alice)), "hash");
        assertTrue(state == LiabilityRegistry.CommitState.Committed, "committed");
        assertEq(registry.openCommits(alice), 1, "open commit");
    }

    function test_oneCommitPerProverPerRound() public {
        uint256 seq = post(0);
        stake(alice, MIN_STAKE);
        commit(alice, seq, hex"aa");
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.AlreadyCommitted.selector, seq, uint32(1)));
        registry.submitProofHash(seq, bytes32(uint256(2)));
    }

    function test_commitsAfterTheCommitWindowRevert() public {
        uint256 seq = post(0);
        stake(alice, MIN_STAKE);
        stake(bob, MIN_STAKE);
        stake(carol, MIN_STAKE);
        commit(alice, seq, hex"aa");
        rollTo(100 + T1 - 1);
        commit(bob, seq, hex"bb"); // last block of T1
        rollTo(100 + T1);
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.CommitWindowClosed.selector, seq, uint64(100 + T1)));
        registry.submitProofHash(seq, bytes32(uint256(3)));
    }

    function test_aRoundHoldsAtMost64Committers() public {
        uint256 seq = post(0);
        for (uint256 i = 0; i < registry.MAX_COMMITTERS(); ++i) {
            address prover = vm.addr(1000 + i);
            vm.deal(prover, MIN_STAKE);
            stake(prover, MIN_STAKE);
            commit(prover, seq, hex"01");
        }
        stake(alice, MIN_STAKE);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.RoundFull.selector, seq, uint32(1)));
        registry.submitProofHash(seq, bytes32(uint256(1)));
    }

    // -------------------------------------------------------------------- reveal

    function test_revealTimingIsEnforced() public {
        uint256 seq = post(0);
        stake(alice, MIN_STAKE);
        stake(bob, MIN_STAKE);
        bytes memory proof = validProof(seq, alice);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.RoundNotOpen.selector, seq));
        registry.submitProof(seq, proof);
        commit(alice, seq, proof);
        commit(bob, seq, invalidProof(seq, bob));
        rollTo(100 + T1 - 1);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.RevealTooEarly.selector, seq, uint64(100 + T1)));
        registry.submitProof(seq, proof);
        rollTo(100 + T1 + T2);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.RevealTooLate.selector, seq, uint64(100 + T1 + T2)));
        registry.submitProof(seq, proof);
        assertEq(statusOf(seq), EXPIRED, "expired");
    }

    function test_aRevealMustMatchTheSendersOwnCommit() public {
        uint256 seq = post(0);
        stake(alice, MIN_STAKE);
        stake(bob, MIN_STAKE);
        bytes memory proof = validProof(seq, alice);
        commit(alice, seq, proof);
        rollTo(100 + T1);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.NotCommitted.selector, seq, uint32(1)));
        registry.submitProof(seq, proof);
        bytes memory other = hex"0123";
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(
                LiabilityRegistry.ProofHashMismatch.selector,
                keccak256(abi.encodePacked(proof, alice)),
                keccak256(abi.encodePacked(other, alice))
            )
        );
        registry.submitProof(seq, other);
        assertTrue(reveal(alice, seq, proof), "valid");
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.AlreadyRevealed.selector, seq, uint32(1)));
        registry.submitProof(seq, proof);
    }

    function test_theFirstValidProofVerifiesAndPublishesTheRoot() public {
        uint256 seq = post(1 ether);
        stake(alice, MIN_STAKE);
        bytes memory proof = validProof(seq, alice);
        commit(alice, seq, proof);
        rollTo(100 + T1 + 3);
        assertEq(statusOf(seq), REVEALING, "revealing");
        vm.expectEmit(true, true, false, true);
        emit LiabilityRegistry.SequenceVerified(seq, alice, ROOT, DIGEST);
        assertTrue(reveal(alice, seq, proof), "accepted");
        assertEq(statusOf(seq), VERIFIED, "verified");
        LiabilityRegistry.Sequence memory s = registry.sequenceInfo(seq);
        assertEq(s.verifiedBlock, 100 + T1 + 3, "verified block");
        assertEq(s.prover, alice, "prover");
        assertEq(registry.latestVerifiedSequence(), seq, "latest verified");
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.AlreadyVerified.selector, seq));
        registry.submitProofHash(seq, bytes32(uint256(1)));
    }

    function test_anInvalidRevealIsSlashedNotReverted() public {
        uint256 seq = post(0);
        stake(alice, 3 ether);
        bytes memory forged = invalidProof(seq, alice);
        commit(alice, seq, forged);
        rollTo(100 + T1);
        vm.expectEmit(true, true, false, true);
        emit LiabilityRegistry.Slashed(seq, alice, MIN_STAKE);
        assertTrue(!reveal(alice, seq, forged), "rejected");
        assertEq(registry.stakeOf(alice), 2 ether, "slashed once");
        assertEq(registry.slashedFunds(), MIN_STAKE, "slashed funds");
        assertEq(registry.openCommits(alice), 0, "resolved");
        (,, LiabilityRegistry.CommitState state) = registry.commitOf(seq, alice);
        assertTrue(state == LiabilityRegistry.CommitState.Invalid, "invalid");
        assertEq(statusOf(seq), REVEALING, "not verified");
        assertAccounted();
    }

    function test_aProofCopiedFromAnotherProverIsSlashed() public {
        uint256 seq = post(1 ether);
        stake(alice, MIN_STAKE);
        stake(bob, MIN_STAKE);
        bytes memory proof = validProof(seq, alice);
        commit(alice, seq, proof);
        commit(bob, seq, proof); // bob copies alice's proof, committed under his own address
        rollTo(100 + T1);
        assertTrue(reveal(alice, seq, proof), "alice's proof is hers");
        assertTrue(!reveal(bob, seq, proof), "bound to alice, not to bob");
        assertEq(registry.stakeOf(bob), 0, "bob slashed");
    }

    function test_aRevertingVerifierCountsAsInvalid() public {
        uint256 seq = post(0);
        stake(alice, MIN_STAKE);
        bytes memory proof = validProof(seq, alice);
        commit(alice, seq, proof);
        rollTo(100 + T1);
        verifier.setMode(MockVerifier.Mode.Revert);
        assertTrue(!reveal(alice, seq, proof), "revert = invalid");
        assertEq(registry.stakeOf(alice), 0, "slashed");
    }

    function test_tooLittleGasRevertsInsteadOfSlashing() public {
        uint256 seq = post(0);
        stake(alice, MIN_STAKE);
        bytes memory proof = validProof(seq, alice);
        commit(alice, seq, proof);
        rollTo(100 + T1);
        vm.prank(alice);
        (bool ok, bytes memory reason) =
            address(registry).call{gas: 2_000_000}(abi.encodeCall(LiabilityRegistry.submitProof, (seq, proof)));
        assertTrue(!ok, "reverted");
        assertEq(bytes32(bytes4(reason)), bytes32(LiabilityRegistry.InsufficientGas.selector), "InsufficientGas");
        assertEq(registry.stakeOf(alice), MIN_STAKE, "not slashed");
        verifier.setMode(MockVerifier.Mode.BurnGas);
        assertTrue(!reveal(alice, seq, proof), "a verifier using all its gas rejects");
        assertEq(registry.stakeOf(alice), 0, "and that slash sticks");
    }

    // ------------------------------------------------------------------- rewards

    function test_validRevealersShareTheRewardAndTheFirstGetsTheRemainder() public {
        uint256 seq = post(10 ether + 1);
        stake(alice, MIN_STAKE);
        stake(bob, MIN_STAKE);
        stake(carol, MIN_STAKE);
        bytes memory a = validProof(seq, alice);
        bytes memory b = validProof(seq, bob);
        bytes memory c = invalidProof(seq, carol);
        commit(bob, seq, b);
        commit(alice, seq, a);
        commit(carol, seq, c);
        rollTo(100 + T1 + 1);
        reveal(alice, seq, a);
        reveal(carol, seq, c);
        reveal(bob, seq, b);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.RewardNotFinal.selector, seq, uint64(100 + T1 + T2)));
        registry.claimReward(seq);
        rollTo(100 + T1 + T2);
        vm.prank(alice);
        assertEq(registry.claimReward(seq), 5 ether + 1, "first prover: share + remainder");
        vm.prank(bob);
        assertEq(registry.claimReward(seq), 5 ether, "second prover: share");
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.NothingToClaim.selector, seq));
        registry.claimReward(seq);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.NothingToClaim.selector, seq));
        registry.claimReward(seq);
        assertEq(registry.unpaidRewards(), 0, "all paid");
        assertAccounted();
    }

    function test_noRewardBeforeVerification() public {
        uint256 seq = post(1 ether);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.NotVerified.selector, seq));
        registry.claimReward(seq);
    }

    // -------------------------------------------------------------------- settle

    function test_settleSlashesAFailedRoundAndReopensTheSequence() public {
        uint256 seq = post(1 ether);
        stake(alice, MIN_STAKE);
        stake(bob, MIN_STAKE);
        stake(carol, MIN_STAKE);
        commit(alice, seq, hex"aa"); // never reveals
        commit(bob, seq, invalidProof(seq, bob));
        rollTo(100 + T1);
        reveal(bob, seq, invalidProof(seq, bob)); // slashed now
        vm.expectRevert(
            abi.encodeWithSelector(LiabilityRegistry.NothingToSettle.selector, seq, LiabilityRegistry.Status.Revealing)
        );
        registry.settle(seq);
        rollTo(100 + T1 + T2);
        assertEq(statusOf(seq), EXPIRED, "expired");
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.RoundExpired.selector, seq, uint64(100 + T1 + T2)));
        registry.submitProofHash(seq, bytes32(uint256(9)));
        vm.prank(carol); // anyone may settle
        registry.settle(seq);
        assertEq(registry.stakeOf(alice), 0, "silent committer slashed");
        assertEq(registry.stakeOf(bob), 0, "invalid committer slashed once, not twice");
        assertEq(registry.slashedFunds(), 2 * MIN_STAKE, "two slashes");
        assertEq(registry.openCommits(alice), 0, "resolved");
        assertEq(statusOf(seq), POSTED, "reopened");
        (uint32 round, uint64 start,,) = registry.windows(seq);
        assertEq(round, 2, "round 2");
        assertEq(start, 0, "no window yet");

        // A fresh round opens with the next commit.
        bytes memory proof = validProof(seq, carol);
        rollTo(500);
        commit(carol, seq, proof);
        (, start,,) = registry.windows(seq);
        assertEq(start, 500, "fresh T1");
        rollTo(500 + T1);
        assertTrue(reveal(carol, seq, proof), "verified in round 2");
        rollTo(500 + T1 + T2);
        vm.prank(carol);
        assertEq(registry.claimReward(seq), 1 ether, "the whole reward");
        assertAccounted();
    }

    function test_settleReleasesUnrevealedCommitsOfAVerifiedRound() public {
        uint256 seq = post(0);
        stake(alice, MIN_STAKE);
        stake(bob, MIN_STAKE);
        bytes memory proof = validProof(seq, alice);
        commit(alice, seq, proof);
        commit(bob, seq, hex"bb");
        rollTo(100 + T1);
        reveal(alice, seq, proof);
        vm.expectRevert(
            abi.encodeWithSelector(LiabilityRegistry.NothingToSettle.selector, seq, LiabilityRegistry.Status.Verified)
        );
        registry.settle(seq);
        rollTo(100 + T1 + T2);
        registry.settle(seq);
        assertEq(registry.openCommits(bob), 0, "released");
        assertEq(registry.stakeOf(bob), MIN_STAKE, "not slashed");
        (,, LiabilityRegistry.CommitState state) = registry.commitOf(seq, bob);
        assertTrue(state == LiabilityRegistry.CommitState.Released, "released state");
        vm.expectRevert(
            abi.encodeWithSelector(LiabilityRegistry.NothingToSettle.selector, seq, LiabilityRegistry.Status.Verified)
        );
        registry.settle(seq);
    }

    function test_aVerifiedSequenceNeverChanges() public {
        uint256 seq = post(0);
        stake(alice, MIN_STAKE);
        stake(bob, MIN_STAKE);
        bytes memory a = validProof(seq, alice);
        bytes memory b = validProof(seq, bob);
        commit(alice, seq, a);
        commit(bob, seq, b);
        rollTo(100 + T1);
        reveal(alice, seq, a);
        rollTo(100 + T1 + 5);
        reveal(bob, seq, b);
        rollTo(100 + T1 + T2 + 100);
        registry.settle(seq);
        LiabilityRegistry.Sequence memory s = registry.sequenceInfo(seq);
        assertEq(s.root, ROOT, "root");
        assertEq(s.digest, DIGEST, "digest");
        assertEq(s.prover, alice, "first prover stays");
        assertEq(s.verifiedBlock, 100 + T1, "verified block stays");
        assertEq(s.round, 1, "no new round");
        assertEq(statusOf(seq), VERIFIED, "still verified");
    }

    function test_latestVerifiedIsTheHighestVerifiedSequence() public {
        uint256 first = post(0);
        uint256 second = post(0);
        stake(alice, 2 * MIN_STAKE);
        bytes memory p2 = validProof(second, alice);
        bytes memory p1 = validProof(first, alice);
        commit(alice, second, p2);
        commit(alice, first, p1);
        rollTo(100 + T1);
        reveal(alice, second, p2);
        reveal(alice, first, p1);
        assertEq(registry.latestVerifiedSequence(), second, "highest, not last");
    }

    // ------------------------------------------------------------ slashed funds

    function test_slashedFundsGoToTheConfiguredRecipient() public {
        uint256 seq = post(0);
        stake(alice, MIN_STAKE);
        commit(alice, seq, invalidProof(seq, alice));
        rollTo(100 + T1);
        reveal(alice, seq, invalidProof(seq, alice));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.NotSlashRecipient.selector, alice));
        registry.withdrawSlashed();
        uint256 before = treasury.balance;
        vm.prank(treasury);
        registry.withdrawSlashed();
        assertEq(treasury.balance - before, MIN_STAKE, "treasury paid");
        vm.prank(treasury);
        vm.expectRevert(LiabilityRegistry.ZeroAmount.selector);
        registry.withdrawSlashed();
        assertAccounted();
    }

    // -------------------------------------------------------------------- views

    function test_publicInputsSplitRootDigestAndAddressIntoWords() public {
        uint256 seq = post(0);
        address prover = 0x0102030405060708090a0B0c0d0e0f1011121314;
        uint64[] memory inputs = registry.publicInputs(seq, prover);
        assertEq(inputs.length, 14, "14 inputs");
        assertEq(inputs[0], 0x0102030405060708, "root word 0");
        assertEq(inputs[3], 0x3132333435363738, "root word 3");
        assertEq(inputs[4], 0x0a0b0c0d0e0f1011, "digest word 0");
        assertEq(inputs[8], seq, "sequence");
        assertEq(inputs[9], 0x01020304, "address limb 0");
        assertEq(inputs[13], 0x11121314, "address limb 4");
        assertEq(registry.proofHashOf(hex"abcd", prover), keccak256(abi.encodePacked(hex"abcd", prover)), "hash");
    }

    // --------------------------------------------------------------- reentrancy

    function test_withdrawCannotBeReentered() public {
        Reenterer attacker = new Reenterer(registry);
        vm.deal(address(attacker), 2 ether);
        attacker.stake(2 ether);
        vm.expectRevert(abi.encodeWithSelector(LiabilityRegistry.TransferFailed.selector, address(attacker), 1 ether));
        attacker.withdraw(1 ether);
        assertEq(registry.stakeOf(address(attacker)), 2 ether, "nothing left the contract");
        assertAccounted();
    }
}

/// @notice Tries to withdraw again from inside the payment.
contract Reenterer {
    LiabilityRegistry internal immutable registry;

    constructor(LiabilityRegistry registry_) {
        registry = registry_;
    }

    function stake(uint256 amount) external {
        registry.deposit{value: amount}();
    }

    function withdraw(uint256 amount) external {
        registry.withdraw(amount);
    }

    receive() external payable {
        registry.withdraw(msg.value);
    }
}
