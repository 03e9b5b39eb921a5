// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.30;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {IPlonky2Verifier} from "./IPlonky2Verifier.sol";

/// @title LiabilityRegistry
/// @notice Where an exchange anchors its liability statements and where provers
/// earn rewards for proving them.
///
/// The sequencer posts numbered sequences (root, statement digest, reward).
/// Staked provers prove a sequence in two steps: they commit
/// `keccak256(proof ‖ prover)` while the commit window (T1) is open, then
/// reveal the proof during the reveal window (T2). The first commit of a round
/// opens T1; T2 follows it. The first valid proof marks the sequence verified;
/// every committer with a valid reveal shares the reward equally. An invalid
/// reveal is slashed on the spot. If T2 ends without a valid proof, `settle`
/// slashes every committer that did not reveal a valid proof and reopens the
/// sequence for a fresh round. A verified sequence never changes.
///
/// Payments are pulled: provers withdraw stake and claim rewards, the slash
/// recipient withdraws slashed funds.
contract LiabilityRegistry is Ownable2Step, ReentrancyGuard {
    /// @notice The Goldilocks modulus: every word of a root or digest is below it.
    uint64 public constant GOLDILOCKS_MODULUS = 0xFFFFFFFF00000001;
    /// @notice Most committers in one round (bounds the loop in `settle`).
    uint256 public constant MAX_COMMITTERS = 64;
    /// @notice Number of public inputs of a final proof.
    uint256 public constant PUBLIC_INPUTS = 14;
    /// @notice Largest window length, in blocks.
    uint64 public constant MAX_WINDOW = 1_000_000;
    /// @notice Smallest and largest gas the verifier may be given.
    uint256 public constant MIN_VERIFIER_GAS = 100_000;
    uint256 public constant MAX_VERIFIER_GAS = 14_000_000;
    /// @dev Gas kept back from the verifier call for what follows it.
    uint256 internal constant VERIFIER_CALL_RESERVE = 100_000;

    /// @notice Where a sequence stands.
    enum Status {
        None, // never posted
        Posted, // no commit in the current round yet
        Committing, // T1 open
        Revealing, // T2 open, nothing verified yet
        Verified, // a valid proof was revealed
        Expired // T2 over without a valid proof: awaiting `settle`
    }

    /// @notice Where a prover's commit in one round stands.
    enum CommitState {
        None,
        Committed, // waiting for its reveal
        Valid, // revealed, valid, reward not claimed yet
        Invalid, // revealed, invalid: slashed
        Rewarded, // valid and paid
        Slashed, // never revealed in a round that failed
        Released // never revealed in a round another prover won
    }

    /// @notice One posted sequence.
    struct Sequence {
        bytes32 root;
        bytes32 digest;
        uint64 accountCount;
        uint64 postedBlock;
        uint32 round; // current round, from 1
        uint64 commitStart; // block of the round's first commit, 0 while none
        uint64 commitEnd; // first block after T1
        uint64 revealEnd; // first block after T2
        uint64 verifiedBlock; // 0 while unverified
        address prover; // first valid prover
        uint32 validProvers; // valid reveals in the verified round
        bool settled; // the verified round's open commits were released
        uint256 reward;
        uint256 rewardPaid;
    }

    struct Commit {
        bytes32 proofHash;
        CommitState state;
    }

    /// @notice The plonky2 verifier of the final circuit of the family.
    IPlonky2Verifier public immutable verifier;
    /// @notice The name of the circuit family every sequence is proven on
    /// (zkpor's `Family`, e.g. "standard"); readers compare the verifier with
    /// the one generated for it.
    string public family;
    /// @notice The family's digest: the circuit digest of its final circuit,
    /// which the verifier exposes as `CIRCUIT_DIGEST`.
    bytes32 public immutable familyDigest;
    /// @notice Who may post sequences.
    address public sequencer;
    /// @notice Stake a prover needs to commit.
    uint256 public minStake;
    /// @notice Stake taken from a prover per slash (at most what it has).
    uint256 public slashAmount;
    /// @notice Who receives slashed stake.
    address public slashRecipient;
    /// @notice Length of the commit window T1, in blocks.
    uint64 public commitWindow;
    /// @notice Length of the reveal window T2, in blocks.
    uint64 public revealWindow;
    /// @notice Gas given to the verifier for one proof.
    uint256 public verifierGasLimit;

    /// @notice Number of sequences posted; the latest is this number.
    uint256 public sequenceCount;
    /// @notice Highest sequence number that is verified (0 if none).
    uint256 public latestVerifiedSequence;
    /// @notice A prover's stake.
    mapping(address prover => uint256) public stakeOf;
    /// @notice A prover's commits that may still be slashed.
    mapping(address prover => uint256) public openCommits;
    /// @notice Sum of all stakes.
    uint256 public totalStaked;
    /// @notice Rewards posted and not yet paid out.
    uint256 public unpaidRewards;
    /// @notice Slashed stake not yet withdrawn by the slash recipient.
    uint256 public slashedFunds;

    mapping(uint256 sequence => Sequence) private _sequences;
    mapping(uint256 sequence => mapping(uint32 round => mapping(address prover => Commit))) private _commits;
    mapping(uint256 sequence => mapping(uint32 round => address[])) private _committers;

    event SequencePosted(
        uint256 indexed sequence, bytes32 root, bytes32 digest, uint64 accountCount, uint256 reward, bytes statement
    );
    event RoundOpened(uint256 indexed sequence, uint32 round, uint64 commitStart, uint64 commitEnd, uint64 revealEnd);
    event ProofHashSubmitted(uint256 indexed sequence, address indexed prover, uint32 round, bytes32 proofHash);
    event ProofAccepted(uint256 indexed sequence, address indexed prover, uint32 round);
    event ProofRejected(uint256 indexed sequence, address indexed prover, uint32 round);
    event SequenceVerified(uint256 indexed sequence, address indexed prover, bytes32 root, bytes32 digest);
    event RoundSettled(uint256 indexed sequence, uint32 round, bool failed);
    event Slashed(uint256 indexed sequence, address indexed prover, uint256 amount);
    event RewardClaimed(uint256 indexed sequence, address indexed prover, uint256 amount);
    event Deposited(address indexed prover, uint256 amount);
    event Withdrawn(address indexed prover, uint256 amount);
    event SlashedFundsWithdrawn(address indexed recipient, uint256 amount);
    event SequencerSet(address sequencer);
    event MinStakeSet(uint256 minStake);
    event SlashAmountSet(uint256 slashAmount);
    event SlashRecipientSet(address recipient);
    event WindowsSet(uint64 commitWindow, uint64 revealWindow);
    event VerifierGasLimitSet(uint256 gasLimit);

    error ZeroAddress();
    error InvalidWindow(uint64 blocks);
    error InvalidGasLimit(uint256 gasLimit);
    error OwnershipCannotBeRenounced();
    error NotSequencer(address caller);
    error NotSlashRecipient(address caller);
    error EmptyStatement();
    error EmptyFamily();
    error NonCanonical(bytes32 value);
    error UnknownSequence(uint256 sequence);
    error AlreadyVerified(uint256 sequence);
    error NotVerified(uint256 sequence);
    error CommitWindowClosed(uint256 sequence, uint64 commitEnd);
    error RoundExpired(uint256 sequence, uint64 revealEnd);
    error RoundNotOpen(uint256 sequence);
    error RevealTooEarly(uint256 sequence, uint64 revealStart);
    error RevealTooLate(uint256 sequence, uint64 revealEnd);
    error NotStaked(uint256 stake, uint256 minStake);
    error AlreadyCommitted(uint256 sequence, uint32 round);
    error RoundFull(uint256 sequence, uint32 round);
    error NotCommitted(uint256 sequence, uint32 round);
    error AlreadyRevealed(uint256 sequence, uint32 round);
    error ProofHashMismatch(bytes32 committed, bytes32 revealed);
    error InsufficientGas(uint256 needed, uint256 left);
    error NothingToSettle(uint256 sequence, Status status);
    error RewardNotFinal(uint256 sequence, uint64 revealEnd);
    error NothingToClaim(uint256 sequence);
    error InsufficientStake(uint256 stake, uint256 amount);
    error StakeLocked(uint256 openCommits, uint256 minStake);
    error ZeroAmount();
    error TransferFailed(address to, uint256 amount);

    modifier onlySequencer() {
        if (msg.sender != sequencer) revert NotSequencer(msg.sender);
        _;
    }

    /// @param verifier_ the plonky2 verifier of the final circuit (fixed for life)
    /// @param family_ the name of the circuit family the verifier is generated for
    /// @param familyDigest_ the family's digest (its final circuit's)
    /// @param sequencer_ who may post sequences
    /// @param minStake_ stake a prover needs to commit; also the default slash amount
    /// @param commitWindow_ T1 in blocks
    /// @param revealWindow_ T2 in blocks
    constructor(
        IPlonky2Verifier verifier_,
        string memory family_,
        bytes32 familyDigest_,
        address sequencer_,
        uint256 minStake_,
        uint64 commitWindow_,
        uint64 revealWindow_
    ) Ownable(msg.sender) {
        if (address(verifier_) == address(0)) revert ZeroAddress();
        if (bytes(family_).length == 0) revert EmptyFamily();
        verifier = verifier_;
        family = family_;
        familyDigest = familyDigest_;
        _setSequencer(sequencer_);
        _setWindows(commitWindow_, revealWindow_);
        minStake = minStake_;
        slashAmount = minStake_;
        slashRecipient = msg.sender;
        verifierGasLimit = 6_000_000;
        emit MinStakeSet(minStake_);
        emit SlashAmountSet(minStake_);
        emit SlashRecipientSet(msg.sender);
        emit VerifierGasLimitSet(verifierGasLimit);
    }

    // ---------------------------------------------------------------- owner

    /// @notice Appoints the sequencer.
    function setSequencer(address sequencer_) external onlyOwner {
        _setSequencer(sequencer_);
    }

    /// @notice Sets the stake a prover needs to commit.
    function setMinStake(uint256 minStake_) external onlyOwner {
        minStake = minStake_;
        emit MinStakeSet(minStake_);
    }

    /// @notice Sets the stake taken per slash.
    function setSlashAmount(uint256 slashAmount_) external onlyOwner {
        slashAmount = slashAmount_;
        emit SlashAmountSet(slashAmount_);
    }

    /// @notice Sets who receives slashed stake.
    function setSlashRecipient(address recipient) external onlyOwner {
        if (recipient == address(0)) revert ZeroAddress();
        slashRecipient = recipient;
        emit SlashRecipientSet(recipient);
    }

    /// @notice Sets T1 and T2 for rounds opened from now on.
    function setWindows(uint64 commitWindow_, uint64 revealWindow_) external onlyOwner {
        _setWindows(commitWindow_, revealWindow_);
    }

    /// @notice Sets the gas given to the verifier for one proof.
    function setVerifierGasLimit(uint256 gasLimit) external onlyOwner {
        if (gasLimit < MIN_VERIFIER_GAS || gasLimit > MAX_VERIFIER_GAS) revert InvalidGasLimit(gasLimit);
        verifierGasLimit = gasLimit;
        emit VerifierGasLimitSet(gasLimit);
    }

    /// @notice Disabled: the registry always needs an owner for its parameters.
    function renounceOwnership() public view override onlyOwner {
        revert OwnershipCannotBeRenounced();
    }

    // ------------------------------------------------------------ sequencer

    /// @notice Posts the next sequence: its tree root, statement digest and
    /// account count, with the encoded statement (emitted, not stored) and
    /// `msg.value` as its reward.
    /// @return sequence the new sequence number
    function postSequence(bytes32 root, bytes32 digest, uint64 accountCount, bytes calldata statement)
        external
        payable
        onlySequencer
        returns (uint256 sequence)
    {
        _requireCanonical(root);
        _requireCanonical(digest);
        if (statement.length == 0) revert EmptyStatement();
        sequence = ++sequenceCount;
        Sequence storage s = _sequences[sequence];
        s.root = root;
        s.digest = digest;
        s.accountCount = accountCount;
        s.postedBlock = uint64(block.number);
        s.round = 1;
        s.reward = msg.value;
        unpaidRewards += msg.value;
        emit SequencePosted(sequence, root, digest, accountCount, msg.value, statement);
    }

    // -------------------------------------------------------------- provers

    /// @notice Adds `msg.value` to the caller's stake.
    function deposit() external payable {
        if (msg.value == 0) revert ZeroAmount();
        stakeOf[msg.sender] += msg.value;
        totalStaked += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice Takes `amount` of the caller's stake back; with an open commit,
    /// the stake may not go below `minStake`.
    function withdraw(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        uint256 stake = stakeOf[msg.sender];
        if (amount > stake) revert InsufficientStake(stake, amount);
        uint256 open = openCommits[msg.sender];
        if (open != 0 && stake - amount < minStake) revert StakeLocked(open, minStake);
        stakeOf[msg.sender] = stake - amount;
        totalStaked -= amount;
        emit Withdrawn(msg.sender, amount);
        _send(msg.sender, amount);
    }

    /// @notice Step 1: commits `keccak256(proof ‖ msg.sender)` for a sequence.
    /// The first commit of a round opens its commit window.
    function submitProofHash(uint256 sequence, bytes32 proofHash) external {
        Sequence storage s = _sequence(sequence);
        if (s.verifiedBlock != 0) revert AlreadyVerified(sequence);
        uint256 stake = stakeOf[msg.sender];
        if (stake < minStake || stake == 0) revert NotStaked(stake, minStake);
        if (s.commitStart == 0) {
            s.commitStart = uint64(block.number);
            s.commitEnd = uint64(block.number) + commitWindow;
            s.revealEnd = s.commitEnd + revealWindow;
            emit RoundOpened(sequence, s.round, s.commitStart, s.commitEnd, s.revealEnd);
        } else if (block.number >= s.revealEnd) {
            revert RoundExpired(sequence, s.revealEnd);
        } else if (block.number >= s.commitEnd) {
            revert CommitWindowClosed(sequence, s.commitEnd);
        }
        uint32 round = s.round;
        Commit storage commit = _commits[sequence][round][msg.sender];
        if (commit.state != CommitState.None) revert AlreadyCommitted(sequence, round);
        address[] storage committers = _committers[sequence][round];
        if (committers.length >= MAX_COMMITTERS) revert RoundFull(sequence, round);
        commit.proofHash = proofHash;
        commit.state = CommitState.Committed;
        committers.push(msg.sender);
        openCommits[msg.sender] += 1;
        emit ProofHashSubmitted(sequence, msg.sender, round, proofHash);
    }

    /// @notice Step 2: reveals the committed proof during the reveal window.
    /// A valid proof verifies the sequence (if nothing did yet) and earns a
    /// share of the reward; an invalid one is slashed.
    /// @return valid whether the verifier accepted the proof
    function submitProof(uint256 sequence, bytes calldata proof) external returns (bool valid) {
        Sequence storage s = _sequence(sequence);
        if (s.commitStart == 0) revert RoundNotOpen(sequence);
        if (block.number < s.commitEnd) revert RevealTooEarly(sequence, s.commitEnd);
        if (block.number >= s.revealEnd) revert RevealTooLate(sequence, s.revealEnd);
        uint32 round = s.round;
        Commit storage commit = _commits[sequence][round][msg.sender];
        if (commit.state == CommitState.None) revert NotCommitted(sequence, round);
        if (commit.state != CommitState.Committed) revert AlreadyRevealed(sequence, round);
        bytes32 revealed = proofHashOf(proof, msg.sender);
        if (revealed != commit.proofHash) revert ProofHashMismatch(commit.proofHash, revealed);

        valid = _verify(sequence, proof);
        openCommits[msg.sender] -= 1;
        if (valid) {
            commit.state = CommitState.Valid;
            s.validProvers += 1;
            emit ProofAccepted(sequence, msg.sender, round);
            if (s.verifiedBlock == 0) {
                s.verifiedBlock = uint64(block.number);
                s.prover = msg.sender;
                if (sequence > latestVerifiedSequence) latestVerifiedSequence = sequence;
                emit SequenceVerified(sequence, msg.sender, s.root, s.digest);
            }
        } else {
            commit.state = CommitState.Invalid;
            emit ProofRejected(sequence, msg.sender, round);
            _slash(sequence, msg.sender);
        }
    }

    /// @notice Closes a round whose reveal window is over. A failed round
    /// slashes every committer without a valid reveal and reopens the
    /// sequence; a verified round releases the commits never revealed.
    /// Anyone may call it.
    function settle(uint256 sequence) external {
        Sequence storage s = _sequence(sequence);
        Status current = status(sequence);
        uint32 round = s.round;
        address[] storage committers = _committers[sequence][round];
        if (current == Status.Expired) {
            for (uint256 i = 0; i < committers.length; ++i) {
                Commit storage commit = _commits[sequence][round][committers[i]];
                if (commit.state == CommitState.Committed) {
                    commit.state = CommitState.Slashed;
                    openCommits[committers[i]] -= 1;
                    _slash(sequence, committers[i]);
                }
            }
            emit RoundSettled(sequence, round, true);
            s.round = round + 1;
            s.commitStart = 0;
            s.commitEnd = 0;
            s.revealEnd = 0;
        } else if (current == Status.Verified && block.number >= s.revealEnd && !s.settled) {
            s.settled = true;
            for (uint256 i = 0; i < committers.length; ++i) {
                Commit storage commit = _commits[sequence][round][committers[i]];
                if (commit.state == CommitState.Committed) {
                    commit.state = CommitState.Released;
                    openCommits[committers[i]] -= 1;
                }
            }
            emit RoundSettled(sequence, round, false);
        } else {
            revert NothingToSettle(sequence, current);
        }
    }

    /// @notice Pays the caller's share of a verified sequence's reward, once
    /// its reveal window is over. The first prover also gets the remainder of
    /// the division.
    function claimReward(uint256 sequence) external nonReentrant returns (uint256 amount) {
        Sequence storage s = _sequence(sequence);
        if (s.verifiedBlock == 0) revert NotVerified(sequence);
        if (block.number < s.revealEnd) revert RewardNotFinal(sequence, s.revealEnd);
        Commit storage commit = _commits[sequence][s.round][msg.sender];
        if (commit.state != CommitState.Valid) revert NothingToClaim(sequence);
        commit.state = CommitState.Rewarded;
        amount = s.reward / s.validProvers;
        if (msg.sender == s.prover) amount += s.reward % s.validProvers;
        s.rewardPaid += amount;
        unpaidRewards -= amount;
        emit RewardClaimed(sequence, msg.sender, amount);
        _send(msg.sender, amount);
    }

    /// @notice Sends all slashed stake to the slash recipient, who calls it.
    function withdrawSlashed() external nonReentrant {
        if (msg.sender != slashRecipient) revert NotSlashRecipient(msg.sender);
        uint256 amount = slashedFunds;
        if (amount == 0) revert ZeroAmount();
        slashedFunds = 0;
        emit SlashedFundsWithdrawn(msg.sender, amount);
        _send(msg.sender, amount);
    }

    // ---------------------------------------------------------------- views

    /// @notice Where `sequence` stands.
    function status(uint256 sequence) public view returns (Status) {
        if (sequence == 0 || sequence > sequenceCount) return Status.None;
        Sequence storage s = _sequences[sequence];
        if (s.verifiedBlock != 0) return Status.Verified;
        if (s.commitStart == 0) return Status.Posted;
        if (block.number < s.commitEnd) return Status.Committing;
        if (block.number < s.revealEnd) return Status.Revealing;
        return Status.Expired;
    }

    /// @notice Everything stored about a sequence.
    function sequenceInfo(uint256 sequence) external view returns (Sequence memory) {
        return _sequence(sequence);
    }

    /// @notice The current round's windows: T1 is [commitStart, commitEnd),
    /// T2 is [commitEnd, revealEnd); all zero before the round's first commit.
    function windows(uint256 sequence)
        external
        view
        returns (uint32 round, uint64 commitStart, uint64 commitEnd, uint64 revealEnd)
    {
        Sequence storage s = _sequence(sequence);
        return (s.round, s.commitStart, s.commitEnd, s.revealEnd);
    }

    /// @notice A prover's commit in the current round of a sequence.
    function commitOf(uint256 sequence, address prover)
        external
        view
        returns (uint32 round, bytes32 proofHash, CommitState state)
    {
        round = _sequence(sequence).round;
        Commit storage commit = _commits[sequence][round][prover];
        return (round, commit.proofHash, commit.state);
    }

    /// @notice A prover's commit in a given round.
    function commitInRound(uint256 sequence, uint32 round, address prover) external view returns (Commit memory) {
        return _commits[sequence][round][prover];
    }

    /// @notice Who committed in a round, in commit order.
    function committersOf(uint256 sequence, uint32 round) external view returns (address[] memory) {
        return _committers[sequence][round];
    }

    /// @notice The proof hash a prover commits: `keccak256(proof ‖ prover)`.
    function proofHashOf(bytes calldata proof, address prover) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(proof, prover));
    }

    /// @notice The final proof's public inputs for `prover` proving
    /// `sequence`: root[4] ‖ digest[4] ‖ sequence ‖ prover[5], each 32-byte
    /// value split into big-endian 64-bit words, the address into big-endian
    /// 32-bit words.
    function publicInputs(uint256 sequence, address prover) public view returns (uint64[] memory inputs) {
        Sequence storage s = _sequence(sequence);
        inputs = new uint64[](PUBLIC_INPUTS);
        _putWords(inputs, 0, s.root);
        _putWords(inputs, 4, s.digest);
        // Sequences are numbered one by one from 1: far below 2^64.
        // forge-lint: disable-next-line(unsafe-typecast)
        inputs[8] = uint64(sequence);
        uint160 bits = uint160(prover);
        for (uint256 i = 0; i < 5; ++i) {
            // Keeping the low 32 bits of each shifted value is the point: one word per limb.
            // forge-lint: disable-next-line(unsafe-typecast)
            inputs[9 + i] = uint64(uint32(bits >> (128 - 32 * i)));
        }
    }

    // ------------------------------------------------------------- internal

    function _sequence(uint256 sequence) internal view returns (Sequence storage s) {
        if (sequence == 0 || sequence > sequenceCount) revert UnknownSequence(sequence);
        return _sequences[sequence];
    }

    function _verify(uint256 sequence, bytes calldata proof) internal view returns (bool) {
        uint64[] memory inputs = publicInputs(sequence, msg.sender);
        uint256 limit = verifierGasLimit;
        // The verifier gets exactly `limit`: a caller cannot starve it into a
        // failure that would be taken for an invalid proof.
        uint256 needed = limit + limit / 63 + VERIFIER_CALL_RESERVE;
        if (gasleft() < needed) revert InsufficientGas(needed, gasleft());
        try verifier.verifyProof{gas: limit}(proof, inputs) returns (bool ok) {
            return ok;
        } catch {
            return false;
        }
    }

    function _slash(uint256 sequence, address prover) internal {
        uint256 stake = stakeOf[prover];
        uint256 amount = slashAmount < stake ? slashAmount : stake;
        stakeOf[prover] = stake - amount;
        totalStaked -= amount;
        slashedFunds += amount;
        emit Slashed(sequence, prover, amount);
    }

    function _send(address to, uint256 amount) internal {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed(to, amount);
    }

    function _setSequencer(address sequencer_) internal {
        if (sequencer_ == address(0)) revert ZeroAddress();
        sequencer = sequencer_;
        emit SequencerSet(sequencer_);
    }

    function _setWindows(uint64 commitWindow_, uint64 revealWindow_) internal {
        if (commitWindow_ == 0 || commitWindow_ > MAX_WINDOW) revert InvalidWindow(commitWindow_);
        if (revealWindow_ == 0 || revealWindow_ > MAX_WINDOW) revert InvalidWindow(revealWindow_);
        commitWindow = commitWindow_;
        revealWindow = revealWindow_;
        emit WindowsSet(commitWindow_, revealWindow_);
    }

    function _requireCanonical(bytes32 value) internal pure {
        for (uint256 i = 0; i < 4; ++i) {
            if (uint64(uint256(value) >> (192 - 64 * i)) >= GOLDILOCKS_MODULUS) revert NonCanonical(value);
        }
    }

    function _putWords(uint64[] memory inputs, uint256 at, bytes32 value) internal pure {
        for (uint256 i = 0; i < 4; ++i) {
            inputs[at + i] = uint64(uint256(value) >> (192 - 64 * i));
        }
    }
}
