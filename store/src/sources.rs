//! What a chain-following sequence source needs beyond storing sequences:
//! forgetting a sequence a reorg took off the chain, and reporting the
//! sequences whose witness was refused.

use sqlx::Row;
use zkpor_circuits::encoding::HashHex;

use crate::{Result, Store, StoreError, SubmissionState, now_ms};

/// A posted sequence whose witness was refused.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RefusedSequence {
    /// The sequence number.
    pub sequence: u64,
    /// The root it is posted with.
    pub root: HashHex,
    /// Why its witness was refused.
    pub reason: String,
    /// When (Unix ms).
    pub refused_ms: i64,
}

/// Tables holding a sequence's rows, children before parents.
const SEQUENCE_ROWS: [&str; 7] = [
    "DELETE FROM task_errors WHERE task IN (SELECT id FROM tasks WHERE sequence = $1)",
    "DELETE FROM task_dependents WHERE task IN (SELECT id FROM tasks WHERE sequence = $1)",
    "DELETE FROM proofs WHERE task IN (SELECT id FROM tasks WHERE sequence = $1)",
    "DELETE FROM submissions WHERE sequence = $1",
    "DELETE FROM tasks WHERE sequence = $1",
    "DELETE FROM batches WHERE sequence = $1",
    "DELETE FROM sequences WHERE sequence = $1",
];

impl Store {
    /// Forgets `sequence` (its tasks, leases, proofs and its submission if
    /// it is `proof_ready`, `waiting` or `failed`), because the chain no
    /// longer holds it as it was taken in. Returns `false`, changing nothing,
    /// if it is unknown or its submission is further on (committing,
    /// committed, revealing, verified...): those are the manager's to
    /// settle. Recorded transactions are kept: they were sent.
    pub async fn drop_sequence(&self, sequence: u64) -> Result<bool> {
        let mut tx = self.pool.begin().await.map_err(StoreError::db("starting a transaction"))?;
        let state = sqlx::query(&self.sql("SELECT state FROM submissions WHERE sequence = $1"))
            .bind(sequence as i64)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::db("reading a submission"))?;
        if let Some(row) = state {
            let state: SubmissionState =
                row.try_get::<String, _>(0).map_err(StoreError::db("reading a submission"))?.parse()?;
            if !matches!(state, SubmissionState::ProofReady | SubmissionState::Waiting | SubmissionState::Failed) {
                return Ok(false);
            }
        }
        let mut removed = 0;
        for statement in SEQUENCE_ROWS {
            removed = sqlx::query(&self.sql(statement))
                .bind(sequence as i64)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::db("dropping a sequence"))?
                .rows_affected();
        }
        tx.commit().await.map_err(StoreError::db("dropping a sequence"))?;
        Ok(removed > 0)
    }

    /// Records (or replaces) the refusal of `sequence`'s witness.
    pub async fn record_refusal(&self, sequence: u64, root: HashHex, reason: &str) -> Result<()> {
        sqlx::query(&self.sql(
            "INSERT INTO refused_sequences (sequence, root, reason, refused_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (sequence) DO UPDATE SET root = $2, reason = $3, refused_ms = $4",
        ))
        .bind(sequence as i64)
        .bind(root.to_string())
        .bind(reason)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(StoreError::db("recording a refused witness"))?;
        Ok(())
    }

    /// Clears the refusal of `sequence`, once it is stored or gone.
    pub async fn clear_refusal(&self, sequence: u64) -> Result<()> {
        sqlx::query(&self.sql("DELETE FROM refused_sequences WHERE sequence = $1"))
            .bind(sequence as i64)
            .execute(&self.pool)
            .await
            .map_err(StoreError::db("clearing a refused witness"))?;
        Ok(())
    }

    /// Every refused sequence, lowest first.
    pub async fn refused_sequences(&self) -> Result<Vec<RefusedSequence>> {
        let rows = sqlx::query("SELECT sequence, root, reason, refused_ms FROM refused_sequences ORDER BY sequence")
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::db("reading refused witnesses"))?;
        rows.iter()
            .map(|row| {
                let err = || StoreError::db("reading refused witnesses");
                Ok(RefusedSequence {
                    sequence: row.try_get::<i64, _>(0).map_err(err())? as u64,
                    root: row.try_get::<String, _>(1).map_err(err())?.parse().map_err(StoreError::corrupt)?,
                    reason: row.try_get(2).map_err(err())?,
                    refused_ms: row.try_get(3).map_err(err())?,
                })
            })
            .collect()
    }
}
