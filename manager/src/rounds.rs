//! Routing each open submission the sender does not hold, from the chain's
//! view of its sequence and our pending transactions: to commit (the first
//! round, or a fresh round after one passed without verification), to watch
//! a commit, to reveal; settling an expired round, claiming our reward, and
//! recording what is final. A pending commit or reveal (a crash left it) is
//! watched, never sent again.

use std::collections::HashMap;

use alloy::primitives::{B256, Bytes, U256};
use alloy::sol_types::SolCall;
use anyhow::{Context, Result};
use tracing::{info, warn};
use zkpor_chain::registry::{CommitState, LiabilityRegistry, hash_to_b256};
use zkpor_chain::verifier::{ProofCheck, check_proof};
use zkpor_sender::{
    Call, CommitMessage, Finished, OnChain, ProofToSend, RevealMessage, SendError, Step, TxProgress, WatchMessage,
    next_step,
};
use zkpor_store::{StateChange, Submission, SubmissionState, TxPurpose, TxRecord};

use crate::Manager;

impl Manager {
    pub(crate) async fn route(&self, pending: &[(TxRecord, TxProgress)]) -> Result<()> {
        let in_flight: HashMap<u64, &TxRecord> = pending
            .iter()
            .filter(|(_, progress)| *progress == TxProgress::Pending)
            .filter_map(|(record, _)| record.tx.sequence.map(|sequence| (sequence, record)))
            .collect();
        for submission in self.store.open_submissions().await? {
            let sequence = submission.sequence;
            if self.sender.holds(sequence) {
                continue;
            }
            if let Err(error) = self.route_one(&submission, in_flight.get(&sequence).copied()).await {
                warn!(sequence, error = format!("{error:#}"), "routing a submission; trying again next tick");
            }
        }
        Ok(())
    }

    async fn route_one(&self, submission: &Submission, pending: Option<&TxRecord>) -> Result<()> {
        let sequence = submission.sequence;
        let proof_hash = submission.proof_hash.parse::<B256>().context("a stored proof hash")?;
        // The calldata is copied only for a sequence handed to the sender.
        let proof = || ProofToSend { sequence, calldata: Bytes::from(submission.calldata.clone()), proof_hash };
        if let Some(record) = pending {
            let round = record.tx.round.unwrap_or(submission.round);
            match record.tx.purpose {
                TxPurpose::Commit => {
                    info!(sequence, nonce = record.tx.nonce, "watching our pending commit");
                    self.sender.watch(WatchMessage { proof: proof(), round, commit_nonce: Some(record.tx.nonce) })?;
                }
                TxPurpose::Reveal => {
                    info!(sequence, nonce = record.tx.nonce, "watching our pending reveal");
                    self.sender.reveal(RevealMessage { proof: proof(), round, reveal_nonce: Some(record.tx.nonce) })?;
                }
                // A settle or claim of ours is under way: its outcome decides.
                TxPurpose::Settle | TxPurpose::Claim | TxPurpose::Deposit => {}
            }
            return Ok(());
        }
        let view = self.registry.sequence(sequence).await?;
        match next_step(&view, proof_hash, self.settings.commit_margin) {
            Step::Commit { .. } => {
                if submission.rounds == 0
                    && let Some(reason) = self.refusal_before_first_commit(submission).await?
                {
                    warn!(sequence, %reason, "not committing");
                    return self.record(submission, StateChange::to(SubmissionState::Failed).because(reason)).await;
                }
                self.sender.commit(CommitMessage { proof: proof() })?;
            }
            Step::WaitToReveal { .. } => {
                self.sender.watch(WatchMessage { proof: proof(), round: view.round, commit_nonce: None })?;
            }
            Step::Reveal { round, .. } => {
                self.sender.reveal(RevealMessage { proof: proof(), round, reveal_nonce: None })?;
            }
            Step::WaitForRound { until } => self.wait_for_round(submission, &view, until).await?,
            Step::Settle => self.settle(submission, &view).await?,
            Step::ClaimReward => self.claim(submission, &view).await?,
            Step::Finished(finished) => self.finish(submission, &view, finished).await?,
        }
        Ok(())
    }

    /// Writes `change` unless the submission already says so.
    async fn record(&self, submission: &Submission, change: StateChange) -> Result<()> {
        let same = submission.state == change.state
            && submission.reason == change.reason
            && change.round.is_none_or(|round| round == submission.round)
            && change.done_block.is_none_or(|block| Some(block) == submission.done_block);
        if !same {
            info!(sequence = submission.sequence, state = %change.state, reason = ?change.reason, "submission");
            self.store.update_submission(submission.sequence, &change).await?;
        }
        Ok(())
    }

    /// Why we must not commit at all: the sequence posted on chain is not the
    /// one we proved, or the registry's verifier would reject our proof (an
    /// invalid reveal is slashed; better never to commit).
    async fn refusal_before_first_commit(&self, submission: &Submission) -> Result<Option<String>> {
        let sequence = submission.sequence;
        let ours = self.store.sequence(sequence).await?.context("a submission's sequence is missing")?;
        let contract = self.registry.contract();
        let posted = contract.sequenceInfo(U256::from(sequence)).call().await.context("reading the sequence")?;
        if posted.root != hash_to_b256(ours.info.root) || posted.digest != hash_to_b256(ours.info.digest) {
            return Ok(Some(format!(
                "the sequence posted on chain (root {}, digest {}) is not the one we proved (root {}, digest {})",
                posted.root, posted.digest, ours.info.root, ours.info.digest
            )));
        }
        let verifier = contract.verifier().call().await.context("reading the registry's verifier")?;
        let inputs = contract
            .publicInputs(U256::from(sequence), self.transactor.account())
            .call()
            .await
            .context("reading the public inputs")?;
        match check_proof(contract.provider(), verifier, &submission.calldata, &inputs).await? {
            ProofCheck::Valid { gas } => {
                info!(sequence, gas, "our proof verifies with the registry's verifier");
                Ok(None)
            }
            ProofCheck::Invalid { code, reason } => Ok(Some(format!(
                "the registry's verifier rejects our proof (check {code}: {reason}); not committed, so nothing is slashed"
            ))),
        }
    }

    async fn wait_for_round(&self, submission: &Submission, view: &OnChain, until: u64) -> Result<()> {
        let change = match view.ours.map(|commit| commit.state) {
            Some(CommitState::Valid) => StateChange::to(SubmissionState::Verified)
                .because(format!("our reward can be claimed from block {until}, when T2 ends")),
            Some(CommitState::Invalid) => StateChange::to(SubmissionState::Waiting).because(format!(
                "our reveal in round {} was invalid; a fresh round may open after block {until}",
                view.round
            )),
            _ => StateChange::to(SubmissionState::Waiting).because(format!(
                "round {} closed its commit window without our commit; it ends at block {until}",
                view.round
            )),
        };
        self.record(submission, change).await
    }

    /// Sends `call` for `submission`; a predicted revert (another prover
    /// got there first) is only logged.
    async fn send_for(&self, submission: &Submission, purpose: TxPurpose, round: u32, input: Vec<u8>) -> Result<bool> {
        let call = Call::about(*self.registry.contract().address(), purpose, submission.sequence, round, input);
        match self.transactor.send(&call).await {
            Ok(record) => {
                info!(sequence = submission.sequence, %purpose, nonce = record.tx.nonce, "sent");
                Ok(true)
            }
            Err(SendError::WouldRevert { reason, .. }) => {
                info!(sequence = submission.sequence, %purpose, %reason, "not sent");
                Ok(false)
            }
            Err(SendError::Chain(error)) => Err(error),
        }
    }

    async fn settle(&self, submission: &Submission, view: &OnChain) -> Result<()> {
        let input = LiabilityRegistry::settleCall { sequence: U256::from(submission.sequence) }.abi_encode();
        self.send_for(submission, TxPurpose::Settle, view.round, input).await?;
        let reason = format!("round {} ended without a valid proof: settling it to open a fresh round", view.round);
        self.record(submission, StateChange::to(SubmissionState::Waiting).because(reason)).await
    }

    async fn claim(&self, submission: &Submission, view: &OnChain) -> Result<()> {
        let input = LiabilityRegistry::claimRewardCall { sequence: U256::from(submission.sequence) }.abi_encode();
        self.send_for(submission, TxPurpose::Claim, view.round, input).await?;
        self.record(submission, StateChange::to(SubmissionState::Verified).because("claiming our reward")).await
    }

    async fn finish(&self, submission: &Submission, view: &OnChain, finished: Finished) -> Result<()> {
        let verified_block = || async {
            let info = self.registry.contract().sequenceInfo(U256::from(submission.sequence)).call().await;
            info.map(|info| Some(info.verifiedBlock)).context("reading the sequence")
        };
        let change = match finished {
            Finished::Rewarded => {
                StateChange { done_block: verified_block().await?, ..StateChange::to(SubmissionState::Rewarded) }
            }
            Finished::VerifiedByOthers => StateChange {
                done_block: verified_block().await?,
                ..StateChange::to(SubmissionState::VerifiedByOthers)
            },
            Finished::NotPosted => {
                StateChange::to(SubmissionState::Waiting).because("the sequence is not posted on chain yet")
            }
            Finished::ForeignCommit => StateChange::to(SubmissionState::Waiting).because(format!(
                "our account committed another proof in round {}; waiting for the round to end",
                view.round
            )),
        };
        self.record(submission, change).await
    }
}
