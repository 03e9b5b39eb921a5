//! What to do next for one of our sequences, decided from what the chain
//! says about it. Pure: the drainers read the chain, ask [`next_step`], and
//! act; so every rule that keeps us from being slashed by our own mistake is
//! here, in one place, and tested without a chain.

use alloy::primitives::B256;
use zkpor_chain::registry::{CommitState, RegistryStatus};

/// The registry's view of a sequence, at one block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OnChain {
    /// The block the view was read at.
    pub block: u64,
    /// The sequence's status at that block.
    pub status: RegistryStatus,
    /// Its current round.
    pub round: u32,
    /// First block after T1; 0 before the round's first commit.
    pub commit_end: u64,
    /// First block after T2; 0 before the round's first commit.
    pub reveal_end: u64,
    /// Our commit in the current round, if we made one.
    pub ours: Option<OurCommit>,
}

/// Our commit in a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OurCommit {
    /// The hash committed.
    pub proof_hash: B256,
    /// Where it stands.
    pub state: CommitState,
}

/// The next thing to do for a sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Commit our proof hash in `round` (T1 open or not started).
    Commit {
        /// The round.
        round: u32,
    },
    /// Committed: the reveal may go from block `from` (T1 over) on.
    WaitToReveal {
        /// The first block of T2.
        from: u64,
    },
    /// Reveal our proof now, inside T2, which ends before block `until`.
    Reveal {
        /// The round.
        round: u32,
        /// First block after T2.
        until: u64,
    },
    /// This round is not ours to take part in any more (T1 closed without
    /// our commit, or our reveal already failed): look again at block
    /// `until`, when it has ended.
    WaitForRound {
        /// First block after the round's T2.
        until: u64,
    },
    /// T2 ended without a valid proof: settle the round, which opens a
    /// fresh one.
    Settle,
    /// Our valid proof's share of the reward awaits claiming (T2 is over).
    ClaimReward,
    /// Nothing more to do.
    Finished(Finished),
}

/// Why nothing more is to be done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finished {
    /// Verified with our valid proof, and our reward paid.
    Rewarded,
    /// Verified without a valid proof of ours in the winning round.
    VerifiedByOthers,
    /// The registry has no such sequence.
    NotPosted,
    /// Our commit in this round is of another proof than ours (another
    /// agent with our key, or a proof lost and made again): revealing ours
    /// would fail; the round decides that commit's fate.
    ForeignCommit,
}

/// The next step for a sequence whose view is `chain`, our proof hashing to
/// `our_hash`; a commit is only sent while at least `commit_margin` blocks of
/// T1 are left for it to be mined in.
pub fn next_step(chain: &OnChain, our_hash: B256, commit_margin: u64) -> Step {
    let ours = chain.ours.filter(|commit| commit.state != CommitState::None);
    if ours.is_some_and(|commit| commit.proof_hash != our_hash && commit.state == CommitState::Committed) {
        return Step::Finished(Finished::ForeignCommit);
    }
    match chain.status {
        RegistryStatus::None => Step::Finished(Finished::NotPosted),
        RegistryStatus::Verified => match ours.map(|commit| commit.state) {
            // The reward is final once T2 is over.
            Some(CommitState::Valid) if chain.block >= chain.reveal_end => Step::ClaimReward,
            Some(CommitState::Valid) => Step::WaitForRound { until: chain.reveal_end },
            Some(CommitState::Rewarded) => Step::Finished(Finished::Rewarded),
            _ => Step::Finished(Finished::VerifiedByOthers),
        },
        RegistryStatus::Expired => Step::Settle,
        RegistryStatus::Posted => Step::Commit { round: chain.round },
        RegistryStatus::Committing => match ours {
            Some(_) => Step::WaitToReveal { from: chain.commit_end },
            None if chain.block.saturating_add(commit_margin) < chain.commit_end => Step::Commit { round: chain.round },
            None => Step::WaitForRound { until: chain.reveal_end },
        },
        RegistryStatus::Revealing => match ours.map(|commit| commit.state) {
            Some(CommitState::Committed) => Step::Reveal { round: chain.round, until: chain.reveal_end },
            // Too late to commit: no reveal is sent, so nothing is slashed.
            _ => Step::WaitForRound { until: chain.reveal_end },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: B256 = B256::repeat_byte(0x11);
    const OTHER: B256 = B256::repeat_byte(0x22);

    fn view(block: u64, status: RegistryStatus, ours: Option<(B256, CommitState)>) -> OnChain {
        let (commit_end, reveal_end) = match status {
            RegistryStatus::Posted | RegistryStatus::None => (0, 0),
            _ => (110, 120),
        };
        OnChain {
            block,
            status,
            round: 2,
            commit_end,
            reveal_end,
            ours: ours.map(|(proof_hash, state)| OurCommit { proof_hash, state }),
        }
    }

    #[test]
    fn a_posted_sequence_or_an_open_commit_window_gets_our_commit() {
        assert_eq!(next_step(&view(50, RegistryStatus::Posted, None), OURS, 3), Step::Commit { round: 2 });
        assert_eq!(next_step(&view(100, RegistryStatus::Committing, None), OURS, 3), Step::Commit { round: 2 });
        // Too close to the end of T1 for the commit to be mined in time.
        assert_eq!(next_step(&view(107, RegistryStatus::Committing, None), OURS, 3), Step::WaitForRound { until: 120 });
    }

    #[test]
    fn a_commit_is_revealed_only_inside_the_reveal_window() {
        let committed = Some((OURS, CommitState::Committed));
        assert_eq!(
            next_step(&view(105, RegistryStatus::Committing, committed), OURS, 3),
            Step::WaitToReveal { from: 110 }
        );
        assert_eq!(
            next_step(&view(112, RegistryStatus::Revealing, committed), OURS, 3),
            Step::Reveal { round: 2, until: 120 }
        );
    }

    #[test]
    fn without_a_commit_in_t1_no_reveal_is_sent() {
        assert_eq!(next_step(&view(112, RegistryStatus::Revealing, None), OURS, 3), Step::WaitForRound { until: 120 });
        let slashed = Some((OURS, CommitState::Invalid));
        assert_eq!(
            next_step(&view(112, RegistryStatus::Revealing, slashed), OURS, 3),
            Step::WaitForRound { until: 120 }
        );
    }

    #[test]
    fn a_failed_round_is_settled_and_a_verified_one_ends_our_work() {
        assert_eq!(next_step(&view(130, RegistryStatus::Expired, None), OURS, 3), Step::Settle);
        let valid = Some((OURS, CommitState::Valid));
        assert_eq!(next_step(&view(130, RegistryStatus::Verified, valid), OURS, 3), Step::ClaimReward);
        assert_eq!(
            next_step(&view(115, RegistryStatus::Verified, valid), OURS, 3),
            Step::WaitForRound { until: 120 },
            "the reward is claimed once T2 is over"
        );
        let paid = Some((OURS, CommitState::Rewarded));
        assert_eq!(next_step(&view(130, RegistryStatus::Verified, paid), OURS, 3), Step::Finished(Finished::Rewarded));
        assert_eq!(
            next_step(&view(130, RegistryStatus::Verified, None), OURS, 3),
            Step::Finished(Finished::VerifiedByOthers)
        );
        assert_eq!(next_step(&view(1, RegistryStatus::None, None), OURS, 3), Step::Finished(Finished::NotPosted));
    }

    #[test]
    fn a_commit_of_another_proof_is_never_revealed() {
        let foreign = Some((OTHER, CommitState::Committed));
        for status in [RegistryStatus::Committing, RegistryStatus::Revealing] {
            assert_eq!(next_step(&view(112, status, foreign), OURS, 3), Step::Finished(Finished::ForeignCommit));
        }
    }
}
