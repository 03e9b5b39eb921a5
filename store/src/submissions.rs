//! Proven sequences on their way on chain: each has a submission holding the
//! final proof's calldata, the hash committed for it and where it stands on
//! our side. The manager writes every change of state here, so that
//! `zkpor agent status` and the metrics show it and a restart starts from it.

use std::fmt;
use std::str::FromStr;

use sqlx::Row;

use crate::{Result, Store, StoreError, now_ms};

/// Where a proven sequence stands on chain, on our side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionState {
    /// The final proof is ready and checked against the chain's verifier;
    /// its commit is next.
    ProofReady,
    /// Our commit transaction is sent, not yet confirmed.
    Committing,
    /// Our commit is confirmed; the reveal waits for T2.
    Committed,
    /// Our reveal transaction is sent, not yet confirmed.
    Revealing,
    /// Verified with our proof; our share of the reward is to claim.
    Verified,
    /// Verified with our proof and our reward paid.
    Rewarded,
    /// Verified by other provers; nothing for us to do.
    VerifiedByOthers,
    /// Not ours to act on now (not posted yet, a round we missed, a round
    /// to settle); the reason says which. Looked at again every block.
    Waiting,
    /// Given up; the reason says why.
    Failed,
}

impl SubmissionState {
    const ALL: [SubmissionState; 9] = [
        SubmissionState::ProofReady,
        SubmissionState::Committing,
        SubmissionState::Committed,
        SubmissionState::Revealing,
        SubmissionState::Verified,
        SubmissionState::Rewarded,
        SubmissionState::VerifiedByOthers,
        SubmissionState::Waiting,
        SubmissionState::Failed,
    ];

    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionState::ProofReady => "proof_ready",
            SubmissionState::Committing => "committing",
            SubmissionState::Committed => "committed",
            SubmissionState::Revealing => "revealing",
            SubmissionState::Verified => "verified",
            SubmissionState::Rewarded => "rewarded",
            SubmissionState::VerifiedByOthers => "verified_by_others",
            SubmissionState::Waiting => "waiting",
            SubmissionState::Failed => "failed",
        }
    }

    /// Whether nothing more will be done for the sequence.
    pub fn is_final(self) -> bool {
        matches!(self, SubmissionState::Rewarded | SubmissionState::VerifiedByOthers | SubmissionState::Failed)
    }
}

impl fmt::Display for SubmissionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SubmissionState {
    type Err = StoreError;
    fn from_str(text: &str) -> Result<Self> {
        SubmissionState::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| StoreError::corrupt(format!("submission state '{text}'")))
    }
}

/// A proven sequence's submission.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Submission {
    /// The sequence.
    pub sequence: u64,
    /// The final proof's calldata for the verifier.
    #[serde(skip)]
    pub calldata: Vec<u8>,
    /// `keccak256(calldata ‖ submitter)`, 0x-hex.
    pub proof_hash: String,
    /// Where it stands.
    pub state: SubmissionState,
    /// The round it is in (0 before the first commit).
    pub round: u32,
    /// Rounds we committed in.
    pub rounds: u32,
    /// Why it waits or failed.
    pub reason: Option<String>,
    /// The chain's block when the proof became ready.
    pub ready_block: u64,
    /// The block it was verified in (by anyone).
    pub done_block: Option<u64>,
    /// When the proof became ready (Unix ms).
    pub created_ms: i64,
    /// Last change (Unix ms).
    pub updated_ms: i64,
}

/// A change of a submission's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateChange {
    /// The new state.
    pub state: SubmissionState,
    /// The round, if it changed.
    pub round: Option<u32>,
    /// Why (waiting, failed), cleared otherwise.
    pub reason: Option<String>,
    /// The block it was verified in.
    pub done_block: Option<u64>,
    /// Whether this change is a commit in a new round.
    pub new_round: bool,
}

impl StateChange {
    /// A plain move to `state`.
    pub fn to(state: SubmissionState) -> Self {
        StateChange { state, round: None, reason: None, done_block: None, new_round: false }
    }

    /// With a reason.
    pub fn because(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// In `round`.
    pub fn in_round(mut self, round: u32) -> Self {
        self.round = Some(round);
        self
    }
}

impl Store {
    /// Proven sequences that have no submission yet, lowest first.
    pub async fn proven_without_submission(&self) -> Result<Vec<u64>> {
        let rows = sqlx::query(&format!(
            "SELECT s.sequence FROM sequences s LEFT JOIN submissions b ON b.sequence = s.sequence \
             WHERE s.status = '{proven}' AND b.sequence IS NULL ORDER BY s.sequence",
            proven = zkpor_protocol::states::ProvingState::Proven
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::db("reading proven sequences"))?;
        rows.iter()
            .map(|row| row.try_get::<i64, _>(0).map(|s| s as u64).map_err(StoreError::db("reading proven sequences")))
            .collect()
    }

    /// Records `sequence`'s submission in `state`; `false` (and nothing
    /// changed) if it has one.
    pub async fn insert_submission(
        &self,
        sequence: u64,
        calldata: &[u8],
        proof_hash: &str,
        state: SubmissionState,
        reason: Option<&str>,
        ready_block: u64,
    ) -> Result<bool> {
        let now = now_ms();
        let inserted = sqlx::query(&self.sql(
            "INSERT INTO submissions (sequence, calldata, proof_hash, state, round, rounds, reason, ready_block, \
             created_ms, updated_ms) VALUES ($1, $2, $3, $4, 0, 0, $5, $6, $7, $7) ON CONFLICT (sequence) DO NOTHING",
        ))
        .bind(sequence as i64)
        .bind(calldata.to_vec())
        .bind(proof_hash)
        .bind(state.as_str())
        .bind(reason)
        .bind(ready_block as i64)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(StoreError::db("inserting a submission"))?
        .rows_affected();
        Ok(inserted == 1)
    }

    /// `sequence`'s submission, if any.
    pub async fn submission(&self, sequence: u64) -> Result<Option<Submission>> {
        let row = sqlx::query(&self.sql(&format!("{SUBMISSION_COLUMNS} WHERE sequence = $1")))
            .bind(sequence as i64)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::db("reading a submission"))?;
        row.map(|row| submission_row(&row)).transpose()
    }

    /// Every submission, lowest sequence first.
    pub async fn submissions(&self) -> Result<Vec<Submission>> {
        let rows = sqlx::query(&format!("{SUBMISSION_COLUMNS} ORDER BY sequence"))
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::db("reading submissions"))?;
        rows.iter().map(submission_row).collect()
    }

    /// Submissions with work left, lowest sequence first (those in a final
    /// state, and their calldata, are not read).
    pub async fn open_submissions(&self) -> Result<Vec<Submission>> {
        let finals: Vec<String> =
            SubmissionState::ALL.iter().filter(|s| s.is_final()).map(|s| format!("'{}'", s.as_str())).collect();
        let rows =
            sqlx::query(&format!("{SUBMISSION_COLUMNS} WHERE state NOT IN ({}) ORDER BY sequence", finals.join(", ")))
                .fetch_all(&self.pool)
                .await
                .map_err(StoreError::db("reading open submissions"))?;
        rows.iter().map(submission_row).collect()
    }

    /// How many submissions are in each state, for metrics.
    pub async fn submission_counts(&self) -> Result<Vec<(SubmissionState, u64)>> {
        let rows = sqlx::query("SELECT state, COUNT(*) FROM submissions GROUP BY state ORDER BY state")
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::db("counting submissions"))?;
        rows.iter()
            .map(|row| {
                let state: String = row.try_get(0).map_err(StoreError::db("counting submissions"))?;
                let count: i64 = row.try_get(1).map_err(StoreError::db("counting submissions"))?;
                Ok((state.parse()?, count as u64))
            })
            .collect()
    }

    /// Applies `change` to `sequence`'s submission.
    pub async fn update_submission(&self, sequence: u64, change: &StateChange) -> Result<()> {
        let updated = sqlx::query(&self.sql(
            "UPDATE submissions SET state = $2, round = COALESCE($3, round), reason = $4, \
             done_block = COALESCE($5, done_block), rounds = rounds + $6, updated_ms = $7 WHERE sequence = $1",
        ))
        .bind(sequence as i64)
        .bind(change.state.as_str())
        .bind(change.round.map(i64::from))
        .bind(change.reason.as_deref())
        .bind(change.done_block.map(|b| b as i64))
        .bind(i64::from(change.new_round))
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(StoreError::db("updating a submission"))?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::corrupt(format!("no submission for sequence {sequence}")));
        }
        Ok(())
    }
}

const SUBMISSION_COLUMNS: &str = "SELECT sequence, calldata, proof_hash, state, round, rounds, reason, ready_block, \
     done_block, created_ms, updated_ms FROM submissions";

fn submission_row(row: &sqlx::any::AnyRow) -> Result<Submission> {
    let what = StoreError::db;
    let int = |i: usize| row.try_get::<i64, _>(i).map_err(what("reading a submission"));
    Ok(Submission {
        sequence: int(0)? as u64,
        calldata: row.try_get(1).map_err(what("reading a submission"))?,
        proof_hash: row.try_get(2).map_err(what("reading a submission"))?,
        state: row.try_get::<String, _>(3).map_err(what("reading a submission"))?.parse()?,
        round: int(4)? as u32,
        rounds: int(5)? as u32,
        reason: row.try_get(6).map_err(what("reading a submission"))?,
        ready_block: int(7)? as u64,
        done_block: row.try_get::<Option<i64>, _>(8).map_err(what("reading a submission"))?.map(|b| b as u64),
        created_ms: int(9)?,
        updated_ms: int(10)?,
    })
}
