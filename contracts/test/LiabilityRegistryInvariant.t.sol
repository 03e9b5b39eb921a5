// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.30;

import {LiabilityRegistry} from "../src/LiabilityRegistry.sol";
import {IPlonky2Verifier} from "../src/IPlonky2Verifier.sol";
import {MockVerifier} from "./mocks/MockVerifier.sol";
import {TestBase} from "./utils/TestBase.sol";

/// @notice Drives the registry with random actions of a sequencer and four
/// provers, and remembers every sequence it saw verified.
contract RegistryHandler is TestBase {
    uint256 internal constant MIN_STAKE = 1 ether;
    uint256 internal constant MAX_SEQUENCES = 6;

    LiabilityRegistry public immutable registry;
    MockVerifier public immutable verifier;
    address public immutable sequencer;
    address[] public actors;

    struct Snapshot {
        bytes32 root;
        bytes32 digest;
        address prover;
        uint64 verifiedBlock;
    }

    /// Sequences seen verified, and what they looked like then.
    uint256[] public verified;
    mapping(uint256 => Snapshot) public snapshots;
    /// The proof each actor committed per sequence and round.
    mapping(uint256 => mapping(uint32 => mapping(address => bytes))) internal committed;

    /// Commits made, so reveals pick one that exists.
    struct Made {
        uint256 sequence;
        address prover;
    }

    Made[] internal made;

    constructor(LiabilityRegistry registry_, MockVerifier verifier_, address sequencer_) {
        registry = registry_;
        verifier = verifier_;
        sequencer = sequencer_;
        for (uint256 i = 0; i < 4; ++i) {
            actors.push(vm.addr(0xa11ce + i));
            vm.deal(actors[i], 1000 ether);
        }
        vm.deal(sequencer, 1000 ether);
    }

    function verifiedCount() external view returns (uint256) {
        return verified.length;
    }

    function post(uint256 reward, uint256 rootSeed) external {
        if (registry.sequenceCount() >= MAX_SEQUENCES) return;
        reward = bound(reward, 0, 10) * 0.1 ether;
        bytes32 root = bytes32(uint256(keccak256(abi.encode(rootSeed))) >> 32); // canonical: top word < p
        vm.prank(sequencer);
        registry.postSequence{value: reward}(root, keccak256(abi.encode(root)) >> 32, 1, hex"01");
    }

    function deposit(uint256 actor, uint256 amount) external {
        vm.prank(_actor(actor));
        // Whole stakes: the fuzzer favours small numbers, which would never stake enough.
        registry.deposit{value: bound(amount, 1, 3) * MIN_STAKE}();
    }

    function withdraw(uint256 actor, uint256 amount) external {
        address who = _actor(actor);
        uint256 stake = registry.stakeOf(who);
        if (stake == 0) return;
        amount = bound(amount, 1, stake);
        if (registry.openCommits(who) != 0 && stake - amount < registry.minStake()) return;
        vm.prank(who);
        registry.withdraw(amount);
    }

    function commit(uint256 actor, uint256 sequence, bool honest) external {
        address who = _actor(actor);
        sequence = _sequence(sequence);
        if (sequence == 0) return;
        LiabilityRegistry.Status status = registry.status(sequence);
        if (status != LiabilityRegistry.Status.Posted && status != LiabilityRegistry.Status.Committing) return;
        if (registry.stakeOf(who) < MIN_STAKE) return;
        (uint32 round,, LiabilityRegistry.CommitState state) = registry.commitOf(sequence, who);
        if (state != LiabilityRegistry.CommitState.None) return;
        bytes memory proof = abi.encodePacked(honest ? "valid" : "forged", sequence, round, who);
        if (honest) verifier.accept(proof, registry.publicInputs(sequence, who));
        committed[sequence][round][who] = proof;
        made.push(Made(sequence, who));
        vm.prank(who);
        registry.submitProofHash(sequence, keccak256(abi.encodePacked(proof, who)));
    }

    /// Reveals one of the commits made, waiting for its window if it is early.
    function reveal(uint256 index, uint256 wait) external {
        if (made.length == 0) return;
        Made memory pick = made[index % made.length];
        (uint256 sequence, address who) = (pick.sequence, pick.prover);
        (uint32 round,, LiabilityRegistry.CommitState state) = registry.commitOf(sequence, who);
        (, uint64 start, uint64 commitEnd, uint64 revealEnd) = registry.windows(sequence);
        if (state != LiabilityRegistry.CommitState.Committed || start == 0) return;
        if (block.number < commitEnd) vm.roll(commitEnd + bound(wait, 0, revealEnd - commitEnd - 1));
        if (block.number >= revealEnd) return;
        vm.prank(who);
        registry.submitProof(sequence, committed[sequence][round][who]);
        _remember(sequence);
    }

    function settle(uint256 sequence) external {
        sequence = _sequence(sequence);
        if (sequence == 0) return;
        try registry.settle(sequence) {} catch {}
    }

    function claim(uint256 actor, uint256 sequence) external {
        sequence = _sequence(sequence);
        if (sequence == 0) return;
        vm.prank(_actor(actor));
        try registry.claimReward(sequence) {} catch {}
    }

    function withdrawSlashed() external {
        if (registry.slashedFunds() == 0) return;
        vm.prank(registry.slashRecipient());
        registry.withdrawSlashed();
    }

    function advance(uint256 blocks) external {
        vm.roll(block.number + bound(blocks, 1, 12));
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }

    function _sequence(uint256 seed) internal view returns (uint256) {
        uint256 count = registry.sequenceCount();
        return count == 0 ? 0 : 1 + seed % count;
    }

    function _remember(uint256 sequence) internal {
        if (snapshots[sequence].verifiedBlock != 0) return;
        LiabilityRegistry.Sequence memory s = registry.sequenceInfo(sequence);
        if (s.verifiedBlock == 0) return;
        snapshots[sequence] = Snapshot(s.root, s.digest, s.prover, s.verifiedBlock);
        verified.push(sequence);
    }
}

/// @notice What holds after any sequence of actions.
contract LiabilityRegistryInvariantTest is TestBase {
    LiabilityRegistry internal registry;
    RegistryHandler internal handler;

    function setUp() public {
        vm.roll(100);
        MockVerifier verifier = new MockVerifier();
        address sequencer = vm.addr(0x5e9);
        registry =
            new LiabilityRegistry(IPlonky2Verifier(address(verifier)), FAMILY, FAMILY_DIGEST, sequencer, 1 ether, 5, 8);
        handler = new RegistryHandler(registry, verifier, sequencer);
        registry.setSlashRecipient(vm.addr(0x7ea5));
        targetContract(address(handler));
    }

    function invariant_balanceIsStakesPlusUnpaidRewardsPlusSlashedFunds() public view {
        assertEq(
            address(registry).balance,
            registry.totalStaked() + registry.unpaidRewards() + registry.slashedFunds(),
            "every wei is accounted for"
        );
    }

    function invariant_totalStakedIsTheSumOfStakes() public view {
        uint256 sum;
        for (uint256 i = 0; i < 4; ++i) {
            sum += registry.stakeOf(handler.actors(i));
        }
        assertEq(registry.totalStaked(), sum, "total staked");
    }

    function invariant_aVerifiedSequenceNeverChanges() public view {
        for (uint256 i = 0; i < handler.verifiedCount(); ++i) {
            uint256 sequence = handler.verified(i);
            (bytes32 root, bytes32 digest, address prover, uint64 verifiedBlock) = handler.snapshots(sequence);
            LiabilityRegistry.Sequence memory now_ = registry.sequenceInfo(sequence);
            assertTrue(registry.status(sequence) == LiabilityRegistry.Status.Verified, "still verified");
            assertEq(now_.root, root, "root");
            assertEq(now_.digest, digest, "digest");
            assertEq(now_.prover, prover, "prover");
            assertEq(now_.verifiedBlock, verifiedBlock, "verified block");
        }
    }

    /// The handler reaches verification, slashing and settling (random
    /// campaigns do too: they were checked to verify and slash).
    function test_theHandlerReachesEveryState() public {
        handler.post(10, 1);
        handler.deposit(0, 3);
        handler.deposit(1, 3);
        handler.deposit(2, 3);
        handler.commit(0, 0, true);
        handler.commit(1, 0, false);
        handler.commit(2, 0, true);
        handler.reveal(1, 0);
        handler.reveal(0, 0);
        assertEq(handler.verifiedCount(), 1, "verified");
        assertTrue(registry.slashedFunds() > 0, "slashed");
        handler.advance(11); // 12 blocks
        handler.advance(11);
        handler.settle(0);
        handler.claim(0, 0);
        handler.withdrawSlashed();
        assertEq(registry.openCommits(handler.actors(2)), 0, "released by settle");
        assertEq(registry.unpaidRewards(), 0, "reward paid");
    }

    function invariant_rewardsNeverOverpay() public view {
        for (uint256 sequence = 1; sequence <= registry.sequenceCount(); ++sequence) {
            LiabilityRegistry.Sequence memory s = registry.sequenceInfo(sequence);
            assertTrue(s.rewardPaid <= s.reward, "paid at most the reward");
        }
    }
}
