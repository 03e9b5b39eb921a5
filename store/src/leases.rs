//! Leasing tasks to workers, and what happens when a lease ends: a checked
//! proof completes the task and readies the tasks that waited for it; an
//! error, a rejected proof or an expired lease sends the task back to the
//! queue. Errors and expired leases are the task's failures: too many park
//! it as failed; a rejected proof is the worker's, counted against it and
//! never against the task, so one bad worker cannot fail a sequence. Every
//! operation is
//! one transaction and changes a task only through the lease it names, so a
//! late result for a lease that was given to someone else changes nothing.

use std::collections::HashMap;

use crate::{Dialect, Result, Store, StoreError};
use sqlx::Row;
use thiserror::Error;
use uuid::Uuid;
use zkpor_circuits::family::Family;
use zkpor_protocol::states::{ProvingState, TaskState};
use zkpor_protocol::witness::UserWire;
use zkpor_tasks::{ChildProof, ExpectedProof, ProofBytes, TaskInput, TaskKey, TaskKind, TaskSpec};

/// A task leased to a worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// The task.
    pub key: TaskKey,
    /// The lease's id: results and heartbeats must name it.
    pub lease_id: String,
    /// Who holds it.
    pub holder: String,
    /// When it expires (Unix ms) unless a heartbeat extends it.
    pub expires_ms: i64,
    /// Attempts so far, this one included.
    pub attempts: u32,
}

/// Why a lease operation did not apply.
#[derive(Debug, Error)]
pub enum LeaseError {
    /// No such task.
    #[error("there is no task {0}")]
    UnknownTask(TaskKey),
    /// The task is not leased under this lease (any more): it expired and
    /// went to someone else, or the task is done.
    #[error("task {task} is not held under this lease (it is {status})")]
    NotHeld {
        /// The task.
        task: TaskKey,
        /// Its status now.
        status: String,
    },
    /// The task cannot be leased: it is not ready.
    #[error("task {task} is not ready to lease (it is {status})")]
    NotReady {
        /// The task.
        task: TaskKey,
        /// Its status now.
        status: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A checked proof that completes a leased task.
#[derive(Clone, Debug)]
pub struct Completion {
    /// The task.
    pub key: TaskKey,
    /// The lease it was proven under.
    pub lease_id: String,
    /// The worker.
    pub holder: String,
    /// The proof, checked by the caller.
    pub proof: Vec<u8>,
    /// How long proving took, by the worker's account.
    pub proving_ms: i64,
}

/// What a completion changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Completed {
    /// Tasks that became ready.
    pub ready: Vec<TaskKey>,
    /// Whether it was the sequence's final proof.
    pub sequence_proven: bool,
}

/// What failing a lease changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failed {
    /// Leases of the task so far.
    pub attempts: u32,
    /// Its failures so far (errors and expired leases).
    pub failures: u32,
    /// Whether the task is parked as failed (and its sequence with it).
    pub parked: bool,
}

/// A lease that expired and was taken back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReapedTask {
    /// The task.
    pub key: TaskKey,
    /// Who held it.
    pub holder: Option<String>,
    /// Whether it is parked as failed.
    pub parked: bool,
}

/// A held lease's task, as the result handler needs it.
#[derive(Clone, Debug)]
pub struct LeasedTask {
    /// The circuit family of its sequence.
    pub family: Family,
    /// What its proof must be.
    pub expected: ExpectedProof,
    /// Who holds it.
    pub holder: String,
}

/// How a result ends a lease.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The worker reported an error: a failure of the task.
    Error,
    /// The worker returned a proof that failed the checks: the worker's
    /// fault, not the task's.
    Rejected,
}

/// A lease ended without a proof.
struct EndedLease<'a> {
    key: &'a TaskKey,
    holder: Option<&'a str>,
    /// The attempt it was.
    attempts: i64,
    /// The task's failures, this one included if it is one.
    failures: i64,
    error: &'a str,
}

fn key_of(text: &str) -> Result<TaskKey> {
    text.parse().map_err(StoreError::corrupt)
}

impl Store {
    /// Leases the most urgent ready task of any kind to `holder`
    /// ([`Self::lease_of_kinds`]).
    pub async fn lease(
        &self,
        holder: &str,
        quarantine_after: u64,
        duration_ms: i64,
        now: i64,
    ) -> Result<Option<Lease>> {
        self.lease_of_kinds(holder, &TaskKind::ALL, quarantine_after, duration_ms, now).await
    }

    /// Leases the most urgent ready task of one of `kinds` (lowest sequence,
    /// then highest level: the final task, then nodes from the top down,
    /// then batches) to `holder` until `now + duration_ms`; `None` if none
    /// is ready, `kinds` is empty, or `holder` has `quarantine_after`
    /// rejected proofs or more.
    pub async fn lease_of_kinds(
        &self,
        holder: &str,
        kinds: &[TaskKind],
        quarantine_after: u64,
        duration_ms: i64,
        now: i64,
    ) -> Result<Option<Lease>> {
        if kinds.is_empty() {
            return Ok(None);
        }
        let lock = if self.dialect == Dialect::Postgres { "FOR UPDATE SKIP LOCKED" } else { "" };
        // The kinds' names are the enum's own, never the caller's text.
        let kinds = kinds.iter().map(|kind| format!("'{}'", kind.as_str())).collect::<Vec<_>>().join(", ");
        let lease_id = Uuid::new_v4().to_string();
        let row = sqlx::query(&self.sql(&format!(
            "UPDATE tasks SET status = '{leased}', lease_id = $1, lease_holder = $2, lease_expires_ms = $3, \
             leased_ms = $4, attempts = attempts + 1, updated_ms = $4 \
             WHERE id = (SELECT id FROM tasks WHERE status = '{ready}' AND kind IN ({kinds}) \
             ORDER BY sequence, level DESC, kind DESC, idx LIMIT 1 {lock}) \
             AND NOT EXISTS (SELECT 1 FROM workers WHERE name = $2 AND rejected >= $5) \
             RETURNING id, attempts",
            leased = TaskState::Leased,
            ready = TaskState::Ready
        )))
        .bind(&lease_id)
        .bind(holder)
        .bind(now + duration_ms)
        .bind(now)
        .bind(i64::try_from(quarantine_after).unwrap_or(i64::MAX))
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::db("leasing a task"))?;
        let Some(row) = row else { return Ok(None) };
        let id: String = row.try_get(0).map_err(StoreError::db("leasing a task"))?;
        let attempts: i64 = row.try_get(1).map_err(StoreError::db("leasing a task"))?;
        Ok(Some(Lease {
            key: key_of(&id)?,
            lease_id,
            holder: holder.to_string(),
            expires_ms: now + duration_ms,
            attempts: attempts as u32,
        }))
    }

    /// Leases `key` itself to `holder` (an offline prover), if it is ready.
    pub async fn lease_task(
        &self,
        key: &TaskKey,
        holder: &str,
        duration_ms: i64,
        now: i64,
    ) -> Result<Lease, LeaseError> {
        let lease_id = Uuid::new_v4().to_string();
        let row = sqlx::query(&self.sql(&format!(
            "UPDATE tasks SET status = '{leased}', lease_id = $1, lease_holder = $2, lease_expires_ms = $3, \
             leased_ms = $4, attempts = attempts + 1, updated_ms = $4 WHERE id = $5 AND status = '{ready}' \
             RETURNING attempts",
            leased = TaskState::Leased,
            ready = TaskState::Ready
        )))
        .bind(&lease_id)
        .bind(holder)
        .bind(now + duration_ms)
        .bind(now)
        .bind(key.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::db("leasing a task"))?;
        let Some(row) = row else {
            return Err(match self.not_held(key).await {
                LeaseError::NotHeld { task, status } => LeaseError::NotReady { task, status },
                other => other,
            });
        };
        let attempts: i64 = row.try_get(0).map_err(StoreError::db("leasing a task"))?;
        Ok(Lease {
            key: *key,
            lease_id,
            holder: holder.to_string(),
            expires_ms: now + duration_ms,
            attempts: attempts as u32,
        })
    }

    /// Extends a held lease to `now + duration_ms`.
    pub async fn heartbeat(
        &self,
        key: &TaskKey,
        lease_id: &str,
        duration_ms: i64,
        now: i64,
    ) -> Result<i64, LeaseError> {
        let updated = sqlx::query(&self.sql(
            &format!("UPDATE tasks SET lease_expires_ms = $3, updated_ms = $4 WHERE id = $1 AND lease_id = $2 AND status = '{leased}'", leased = TaskState::Leased),
        ))
        .bind(key.to_string())
        .bind(lease_id)
        .bind(now + duration_ms)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(StoreError::db("extending a lease"))?
        .rows_affected();
        if updated == 0 {
            return Err(self.not_held(key).await);
        }
        Ok(now + duration_ms)
    }

    /// The task held under `lease_id`, with what its proof must state.
    pub async fn leased_task(&self, key: &TaskKey, lease_id: &str) -> Result<LeasedTask, LeaseError> {
        let row = sqlx::query(&self.sql(&format!(
            "SELECT t.expected, s.family, t.lease_holder FROM tasks t JOIN sequences s ON s.sequence = t.sequence \
             WHERE t.id = $1 AND t.lease_id = $2 AND t.status = '{leased}'",
            leased = TaskState::Leased
        )))
        .bind(key.to_string())
        .bind(lease_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::db("reading a leased task"))?;
        let Some(row) = row else { return Err(self.not_held(key).await) };
        let text = |i: usize| row.try_get::<String, _>(i).map_err(StoreError::db("reading a leased task"));
        Ok(LeasedTask {
            expected: serde_json::from_str(&text(0)?).map_err(StoreError::corrupt)?,
            family: text(1)?.parse().map_err(StoreError::corrupt)?,
            holder: text(2)?,
        })
    }

    /// Why `key` is not held under the lease a caller named.
    async fn not_held(&self, key: &TaskKey) -> LeaseError {
        let status = sqlx::query(&self.sql("SELECT status FROM tasks WHERE id = $1"))
            .bind(key.to_string())
            .fetch_optional(&self.pool)
            .await;
        match status {
            Ok(None) => LeaseError::UnknownTask(*key),
            Ok(Some(row)) => match row.try_get::<String, _>(0) {
                Ok(status) => LeaseError::NotHeld { task: *key, status },
                Err(e) => StoreError::db("reading a task's status")(e).into(),
            },
            Err(e) => StoreError::db("reading a task's status")(e).into(),
        }
    }

    /// Everything a worker needs to prove `key`: a batch's tier, prices and
    /// users, a node's child proofs, the final task's statement and top
    /// proof.
    pub async fn task_spec(&self, key: &TaskKey) -> Result<TaskSpec> {
        let sequence = self
            .sequence(key.sequence)
            .await?
            .ok_or_else(|| StoreError::corrupt(format!("task {key} of an unknown sequence")))?
            .info;
        let graph = sequence.graph();
        let inputs = graph.inputs(key);
        let mut proofs = self.proofs_of(key, inputs.iter().map(|input| input.task.to_string()).collect()).await?;
        let input = match key.kind {
            TaskKind::Batch => {
                let row = sqlx::query(&self.sql("SELECT users FROM batches WHERE sequence = $1 AND batch = $2"))
                    .bind(key.sequence as i64)
                    .bind(key.index as i64)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(StoreError::db("reading a batch"))?;
                let text: String = row.try_get(0).map_err(StoreError::db("reading a batch"))?;
                let users: Vec<UserWire> = serde_json::from_str(&text).map_err(StoreError::corrupt)?;
                let tier = *graph
                    .tiers()
                    .get(key.index as usize)
                    .ok_or_else(|| StoreError::corrupt(format!("task {key} is past the sequence's batches")))?;
                TaskInput::Batch { tier, prices: sequence.prices.clone(), users }
            }
            TaskKind::Node => {
                let node = graph
                    .node_kind(key)
                    .ok_or_else(|| StoreError::corrupt(format!("task {key} is above the sequence's top node")))?;
                let children = inputs
                    .iter()
                    .zip(proofs)
                    .map(|(input, proof)| ChildProof { circuit: input.circuit, proof })
                    .collect();
                TaskInput::Node { node, children }
            }
            TaskKind::Final => TaskInput::Final {
                statement: sequence.statement.clone(),
                top: proofs.pop().ok_or_else(|| StoreError::corrupt(format!("task {key} takes no top proof")))?,
                submitter: sequence.submitter,
            },
        };
        Ok(TaskSpec { key: *key, family: sequence.family, input })
    }

    /// The stored proofs of `tasks`, in that order, for `key` to take.
    async fn proofs_of(&self, key: &TaskKey, tasks: Vec<String>) -> Result<Vec<ProofBytes>> {
        if tasks.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=tasks.len()).map(|i| format!("${i}")).collect();
        let query = format!("SELECT task, proof FROM proofs WHERE task IN ({})", placeholders.join(", "));
        let query = self.sql(&query);
        let mut rows = sqlx::query(&query);
        for task in &tasks {
            rows = rows.bind(task);
        }
        let mut found: HashMap<String, Vec<u8>> = HashMap::new();
        for row in rows.fetch_all(&self.pool).await.map_err(StoreError::db("reading proofs"))? {
            let task: String = row.try_get(0).map_err(StoreError::db("reading a proof"))?;
            found.insert(task, row.try_get(1).map_err(StoreError::db("reading a proof"))?);
        }
        tasks
            .iter()
            .map(|task| {
                found.remove(task).map(ProofBytes).ok_or_else(|| {
                    StoreError::corrupt(format!("task {key} is ready but the proof of {task} is missing"))
                })
            })
            .collect()
    }

    /// Stores a checked proof for a held lease, marks the task done and
    /// readies the tasks that only waited for it.
    pub async fn complete(&self, completion: &Completion, now: i64) -> Result<Completed, LeaseError> {
        let key = completion.key.to_string();
        let mut tx = self.pool.begin().await.map_err(StoreError::db("starting a transaction"))?;
        let updated = sqlx::query(&self.sql(&format!(
            "UPDATE tasks SET status = '{done}', lease_id = NULL, lease_expires_ms = NULL, updated_ms = $3 \
             WHERE id = $1 AND lease_id = $2 AND status = '{leased}'",
            leased = TaskState::Leased,
            done = TaskState::Done
        )))
        .bind(&key)
        .bind(&completion.lease_id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::db("completing a task"))?
        .rows_affected();
        if updated == 0 {
            drop(tx);
            return Err(self.not_held(&completion.key).await);
        }
        sqlx::query(
            &self.sql("INSERT INTO proofs (task, proof, prover, proving_ms, created_ms) VALUES ($1, $2, $3, $4, $5)"),
        )
        .bind(&key)
        .bind(completion.proof.clone())
        .bind(&completion.holder)
        .bind(completion.proving_ms)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::db("storing a proof"))?;
        // Counts down the dependents' waits; those no longer waiting for
        // anything become ready.
        let counted = sqlx::query(&self.sql(&format!(
            "UPDATE tasks SET waiting_for = waiting_for - 1, updated_ms = $2, \
             status = CASE WHEN status = '{waiting}' AND waiting_for = 1 THEN '{ready}' ELSE status END \
             WHERE id IN (SELECT dependent FROM task_dependents WHERE task = $1) RETURNING id, status",
            ready = TaskState::Ready,
            waiting = TaskState::Waiting
        )))
        .bind(&key)
        .bind(now)
        .fetch_all(&mut *tx)
        .await
        .map_err(StoreError::db("counting down dependencies"))?;
        let mut ready = Vec::new();
        for row in &counted {
            let status: String = row.try_get(1).map_err(StoreError::db("readying tasks"))?;
            if status == TaskState::Ready.as_str() {
                ready.push(key_of(&row.try_get::<String, _>(0).map_err(StoreError::db("readying tasks"))?)?);
            }
        }
        let sequence_proven = completion.key.kind == TaskKind::Final;
        if sequence_proven {
            sqlx::query(&self.sql("UPDATE sequences SET status = $2, updated_ms = $3 WHERE sequence = $1"))
                .bind(completion.key.sequence as i64)
                .bind(ProvingState::Proven.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::db("marking a sequence proven"))?;
        }
        self.count_worker(&mut tx, &completion.holder, "accepted", now).await?;
        tx.commit().await.map_err(StoreError::db("committing a completed task"))?;
        Ok(Completed { ready, sequence_proven })
    }

    /// Ends a held lease without a proof: the worker's `error`, or a proof
    /// that failed the checks. The task goes back to the queue, or after
    /// `max_failures` errors and expiries is parked as failed with its
    /// sequence.
    pub async fn fail(
        &self,
        key: &TaskKey,
        lease_id: &str,
        kind: FailureKind,
        error: &str,
        max_failures: u32,
        now: i64,
    ) -> Result<Failed, LeaseError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::db("starting a transaction"))?;
        let row = sqlx::query(&self.sql(
            &format!("SELECT lease_holder, attempts, failures FROM tasks WHERE id = $1 AND lease_id = $2 AND status = '{leased}'", leased = TaskState::Leased),
        ))
        .bind(key.to_string())
        .bind(lease_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::db("reading a leased task"))?;
        let Some(row) = row else {
            drop(tx);
            return Err(self.not_held(key).await);
        };
        let holder: String = row.try_get(0).map_err(StoreError::db("reading a leased task"))?;
        let attempts: i64 = row.try_get(1).map_err(StoreError::db("reading a leased task"))?;
        let failures: i64 = row.try_get(2).map_err(StoreError::db("reading a leased task"))?;
        let failures = failures + i64::from(kind == FailureKind::Error);
        let ended = EndedLease { key, holder: Some(&holder), attempts, failures, error };
        let parked = self.end_lease(&mut tx, &ended, max_failures, now).await?;
        let column = match kind {
            FailureKind::Error => "failed",
            FailureKind::Rejected => "rejected",
        };
        self.count_worker(&mut tx, &holder, column, now).await?;
        tx.commit().await.map_err(StoreError::db("committing a failed task"))?;
        Ok(Failed { attempts: attempts as u32, failures: failures as u32, parked })
    }

    /// Takes back every lease that expired before `now`, each a failure of
    /// its task.
    pub async fn reap_expired(&self, max_failures: u32, now: i64) -> Result<Vec<ReapedTask>> {
        let lock = if self.dialect == Dialect::Postgres { "FOR UPDATE SKIP LOCKED" } else { "" };
        let mut tx = self.pool.begin().await.map_err(StoreError::db("starting a transaction"))?;
        let rows = sqlx::query(&self.sql(&format!(
            "SELECT id, lease_holder, attempts, failures FROM tasks WHERE status = '{leased}' AND lease_expires_ms < $1 {lock}", leased = TaskState::Leased
        )))
        .bind(now)
        .fetch_all(&mut *tx)
        .await
        .map_err(StoreError::db("finding expired leases"))?;
        let mut reaped = Vec::with_capacity(rows.len());
        for row in rows {
            let id: String = row.try_get(0).map_err(StoreError::db("reading an expired lease"))?;
            let holder: Option<String> = row.try_get(1).map_err(StoreError::db("reading an expired lease"))?;
            let attempts: i64 = row.try_get(2).map_err(StoreError::db("reading an expired lease"))?;
            let failures: i64 = row.try_get(3).map_err(StoreError::db("reading an expired lease"))?;
            let key = key_of(&id)?;
            let error = format!("the lease of {} expired", holder.as_deref().unwrap_or("a worker"));
            let ended =
                EndedLease { key: &key, holder: holder.as_deref(), attempts, failures: failures + 1, error: &error };
            let parked = self.end_lease(&mut tx, &ended, max_failures, now).await?;
            if let Some(holder) = &holder {
                self.count_worker(&mut tx, holder, "failed", now).await?;
            }
            reaped.push(ReapedTask { key, holder, parked });
        }
        tx.commit().await.map_err(StoreError::db("committing expired leases"))?;
        Ok(reaped)
    }

    /// Records the ended attempt and releases the task: ready again, or
    /// parked as failed (its sequence failing, its other open tasks
    /// cancelled) once it has `max_failures` failures. Whether it was parked.
    async fn end_lease(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        ended: &EndedLease<'_>,
        max_failures: u32,
        now: i64,
    ) -> Result<bool> {
        let key = ended.key;
        let id = key.to_string();
        sqlx::query(&self.sql(
            "INSERT INTO task_errors (task, attempt, holder, error, at_ms) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (task, attempt) DO NOTHING",
        ))
        .bind(&id)
        .bind(ended.attempts)
        .bind(ended.holder)
        .bind(ended.error)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(StoreError::db("recording a task error"))?;
        let parked = ended.failures >= max_failures as i64;
        sqlx::query(&self.sql(
            "UPDATE tasks SET status = $2, failures = $3, last_error = $4, lease_id = NULL, lease_holder = NULL, \
             lease_expires_ms = NULL, updated_ms = $5 WHERE id = $1",
        ))
        .bind(&id)
        .bind(if parked { TaskState::Failed } else { TaskState::Ready }.as_str())
        .bind(ended.failures)
        .bind(ended.error)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(StoreError::db("releasing a task"))?;
        if parked {
            let reason = format!("task {key} failed {} times, last: {}", ended.failures, ended.error);
            sqlx::query(&self.sql(
                &format!("UPDATE sequences SET status = $2, error = $3, updated_ms = $4 WHERE sequence = $1 AND status = '{proving}'", proving = ProvingState::Proving),
            ))
            .bind(key.sequence as i64)
            .bind(ProvingState::Failed.as_str())
            .bind(&reason)
            .bind(now)
            .execute(&mut **tx)
            .await
            .map_err(StoreError::db("failing a sequence"))?;
            sqlx::query(&self.sql(
                &format!("UPDATE tasks SET status = '{cancelled}', updated_ms = $2 WHERE sequence = $1 AND status IN ('{ready}', '{waiting}')", ready = TaskState::Ready, waiting = TaskState::Waiting, cancelled = TaskState::Cancelled),
            ))
            .bind(key.sequence as i64)
            .bind(now)
            .execute(&mut **tx)
            .await
            .map_err(StoreError::db("cancelling a failed sequence's tasks"))?;
        }
        Ok(parked)
    }

    /// Adds one to a worker's `column` (accepted, rejected or failed).
    async fn count_worker(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        worker: &str,
        column: &'static str,
        now: i64,
    ) -> Result<()> {
        let ones = |c: &str| if c == column { 1 } else { 0 };
        sqlx::query(&self.sql(&format!(
            "INSERT INTO workers (name, accepted, rejected, failed, last_seen_ms) VALUES ($1, {}, {}, {}, $2) \
             ON CONFLICT (name) DO UPDATE SET {column} = workers.{column} + 1, last_seen_ms = $2",
            ones("accepted"),
            ones("rejected"),
            ones("failed"),
        )))
        .bind(worker)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(StoreError::db("counting a worker's results"))?;
        Ok(())
    }
}
