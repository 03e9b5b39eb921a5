//! What status commands and metrics read.

use sqlx::Row;
use zkpor_protocol::states::TaskState;
use zkpor_tasks::{TaskKey, TaskKind};

use crate::{Result, Store, StoreError};

/// How many tasks of a kind are in a status.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct QueueDepth {
    /// Task kind.
    pub kind: TaskKind,
    /// Status.
    pub status: TaskState,
    /// How many.
    pub count: u64,
}

/// What a worker has returned.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct WorkerStats {
    /// The worker's name (from its token).
    pub name: String,
    /// Proofs accepted.
    pub accepted: u64,
    /// Proofs rejected by the checks.
    pub rejected: u64,
    /// Errors reported and leases let expire.
    pub failed: u64,
    /// When it last returned something (Unix ms).
    pub last_seen_ms: i64,
}

/// A failed attempt at a task.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TaskError {
    /// The task.
    pub task: String,
    /// Which attempt.
    pub attempt: u32,
    /// Who held the lease.
    pub holder: Option<String>,
    /// What went wrong.
    pub error: String,
}

impl Store {
    /// Task counts by kind and status, over all sequences.
    pub async fn queue_depths(&self) -> Result<Vec<QueueDepth>> {
        let rows = sqlx::query("SELECT kind, status, COUNT(*) FROM tasks GROUP BY kind, status ORDER BY kind, status")
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::db("counting tasks"))?;
        rows.iter()
            .map(|row| {
                Ok(QueueDepth {
                    kind: row
                        .try_get::<String, _>(0)
                        .map_err(StoreError::db("counting tasks"))?
                        .parse()
                        .map_err(StoreError::corrupt)?,
                    status: row
                        .try_get::<String, _>(1)
                        .map_err(StoreError::db("counting tasks"))?
                        .parse()
                        .map_err(StoreError::corrupt)?,
                    count: row.try_get::<i64, _>(2).map_err(StoreError::db("counting tasks"))? as u64,
                })
            })
            .collect()
    }

    /// Every worker's counts.
    pub async fn worker_stats(&self) -> Result<Vec<WorkerStats>> {
        let rows = sqlx::query("SELECT name, accepted, rejected, failed, last_seen_ms FROM workers ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::db("reading worker counts"))?;
        rows.iter()
            .map(|row| {
                let int = |i: usize| row.try_get::<i64, _>(i).map_err(StoreError::db("reading worker counts"));
                Ok(WorkerStats {
                    name: row.try_get(0).map_err(StoreError::db("reading worker counts"))?,
                    accepted: int(1)? as u64,
                    rejected: int(2)? as u64,
                    failed: int(3)? as u64,
                    last_seen_ms: int(4)?,
                })
            })
            .collect()
    }

    /// How many of `worker`'s proofs were rejected since its last reset.
    pub async fn worker_rejections(&self, worker: &str) -> Result<u64> {
        let row = sqlx::query(&self.sql("SELECT rejected FROM workers WHERE name = $1"))
            .bind(worker)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::db("reading a worker's rejections"))?;
        Ok(row
            .map(|row| row.try_get::<i64, _>(0))
            .transpose()
            .map_err(StoreError::db("reading a worker's rejections"))?
            .unwrap_or(0) as u64)
    }

    /// Sets `worker`'s rejected count back to zero (re-admitting it if it was
    /// quarantined); whether the worker was known.
    pub async fn reset_worker_rejections(&self, worker: &str) -> Result<bool> {
        let updated = sqlx::query(&self.sql("UPDATE workers SET rejected = 0 WHERE name = $1"))
            .bind(worker)
            .execute(&self.pool)
            .await
            .map_err(StoreError::db("resetting a worker"))?
            .rows_affected();
        Ok(updated > 0)
    }

    /// When the last proof was accepted (Unix ms), if any was.
    pub async fn last_accepted_ms(&self) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT MAX(created_ms) FROM proofs")
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::db("reading the last proof's time"))?;
        row.try_get::<Option<i64>, _>(0).map_err(StoreError::db("reading the last proof's time"))
    }

    /// The status of a task, if it exists.
    pub async fn task_status(&self, key: &TaskKey) -> Result<Option<TaskState>> {
        let row = sqlx::query(&self.sql("SELECT status FROM tasks WHERE id = $1"))
            .bind(key.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::db("reading a task's status"))?;
        row.map(|row| {
            row.try_get::<String, _>(0)
                .map_err(StoreError::db("reading a task's status"))?
                .parse()
                .map_err(StoreError::corrupt)
        })
        .transpose()
    }

    /// The failed attempts of a sequence's tasks, oldest first.
    pub async fn task_errors(&self, sequence: u64) -> Result<Vec<TaskError>> {
        let rows = sqlx::query(&self.sql(
            "SELECT e.task, e.attempt, e.holder, e.error FROM task_errors e JOIN tasks t ON t.id = e.task \
             WHERE t.sequence = $1 ORDER BY e.at_ms, e.task, e.attempt",
        ))
        .bind(sequence as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::db("reading task errors"))?;
        rows.iter()
            .map(|row| {
                Ok(TaskError {
                    task: row.try_get(0).map_err(StoreError::db("reading task errors"))?,
                    attempt: row.try_get::<i64, _>(1).map_err(StoreError::db("reading task errors"))? as u32,
                    holder: row.try_get(2).map_err(StoreError::db("reading task errors"))?,
                    error: row.try_get(3).map_err(StoreError::db("reading task errors"))?,
                })
            })
            .collect()
    }
}
