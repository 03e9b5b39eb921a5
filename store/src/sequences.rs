//! Sequences to prove: each enters with its batches' accounts and its whole
//! task graph in one transaction, so a crash leaves a sequence either fully
//! known or absent.

use std::fmt;
use std::str::FromStr;

use sqlx::Row;
use zkpor_circuits::Shape;
use zkpor_circuits::encoding::{Address, HashHex};
use zkpor_tasks::{AccountWire, TaskGraph, TaskKey};

use crate::{Result, Store, StoreError, now_ms};

/// Where a sequence stands on the agent's side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SequenceStatus {
    /// Tasks are being proven.
    Proving,
    /// The final proof is stored.
    Proven,
    /// A task failed too often; the error says which and why.
    Failed,
}

impl SequenceStatus {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            SequenceStatus::Proving => "proving",
            SequenceStatus::Proven => "proven",
            SequenceStatus::Failed => "failed",
        }
    }
}

impl fmt::Display for SequenceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SequenceStatus {
    type Err = StoreError;
    fn from_str(text: &str) -> Result<Self> {
        [SequenceStatus::Proving, SequenceStatus::Proven, SequenceStatus::Failed]
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| StoreError::corrupt(format!("sequence status '{text}'")))
    }
}

/// What describes a sequence, as it entered and as it is stored.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SequenceInfo {
    /// Its number.
    pub sequence: u64,
    /// The circuit shape.
    pub shape: Shape,
    /// Where it came from (a snapshot path, a chain event).
    pub source: String,
    /// The address bound into its final proof.
    pub submitter: Address,
    /// Unit price per asset slot.
    pub prices: Vec<u64>,
    /// Accounts in the tree.
    pub account_count: u64,
    /// The tree's root.
    pub root: HashHex,
    /// The statement digest.
    pub digest: HashHex,
}

/// A sequence to prove, with everything its tasks need.
#[derive(Clone, Debug)]
pub struct NewSequence {
    /// What it is.
    pub info: SequenceInfo,
    /// Each batch's accounts, in tree order.
    pub batches: Vec<Vec<AccountWire>>,
    /// Every task of its graph.
    pub tasks: Vec<NewTask>,
}

/// One task of a new sequence.
#[derive(Clone, Debug)]
pub struct NewTask {
    /// The task.
    pub key: TaskKey,
    /// The public inputs its proof must state.
    pub expected: Vec<u64>,
    /// How many distinct tasks it waits for.
    pub dependencies: usize,
    /// The tasks that wait for it.
    pub dependents: Vec<TaskKey>,
}

impl NewTask {
    /// Every task of `graph`, each with the public inputs `expected` gives it.
    pub fn all_of<E>(
        graph: &TaskGraph,
        mut expected: impl FnMut(&TaskKey) -> Result<Vec<u64>, E>,
    ) -> Result<Vec<Self>, E> {
        let dependents = graph.dependents();
        graph
            .tasks()
            .into_iter()
            .map(|key| {
                Ok(NewTask {
                    expected: expected(&key)?,
                    dependencies: graph.dependencies(&key).len(),
                    dependents: dependents[&key].clone(),
                    key,
                })
            })
            .collect()
    }
}

/// A stored sequence.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SequenceRow {
    /// What it is.
    #[serde(flatten)]
    pub info: SequenceInfo,
    /// Where it stands.
    pub status: SequenceStatus,
    /// Why it failed.
    pub error: Option<String>,
}

impl Store {
    /// Stores `new` with its batches and tasks; tasks without dependencies
    /// are ready at once. Returns `false` (and changes nothing) if the
    /// sequence is already known.
    pub async fn insert_sequence(&self, new: &NewSequence) -> Result<bool> {
        let now = now_ms();
        let info = &new.info;
        let mut tx = self.pool.begin().await.map_err(StoreError::db("starting a transaction"))?;
        let inserted = sqlx::query(&self.sql(
            "INSERT INTO sequences (sequence, shape, source, submitter, prices, account_count, root, digest, status, \
             created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) ON CONFLICT (sequence) DO NOTHING",
        ))
        .bind(info.sequence as i64)
        .bind(info.shape.to_string())
        .bind(&info.source)
        .bind(info.submitter.to_string())
        .bind(serde_json::to_string(&info.prices).expect("prices serialize"))
        .bind(info.account_count as i64)
        .bind(info.root.to_string())
        .bind(info.digest.to_string())
        .bind(SequenceStatus::Proving.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::db("inserting a sequence"))?
        .rows_affected();
        if inserted == 0 {
            return Ok(false);
        }
        for (index, accounts) in new.batches.iter().enumerate() {
            sqlx::query(&self.sql("INSERT INTO batches (sequence, batch, accounts) VALUES ($1, $2, $3)"))
                .bind(info.sequence as i64)
                .bind(index as i64)
                .bind(serde_json::to_string(accounts).expect("accounts serialize"))
                .execute(&mut *tx)
                .await
                .map_err(StoreError::db("inserting a batch"))?;
        }
        for task in &new.tasks {
            let status = if task.dependencies == 0 { "ready" } else { "waiting" };
            sqlx::query(&self.sql(
                "INSERT INTO tasks (id, sequence, kind, tier, idx, status, waiting_for, expected, attempts, failures, \
                 updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, $9)",
            ))
            .bind(task.key.to_string())
            .bind(info.sequence as i64)
            .bind(task.key.kind.as_str())
            .bind(task.key.tier as i64)
            .bind(task.key.index as i64)
            .bind(status)
            .bind(task.dependencies as i64)
            .bind(serde_json::to_string(&task.expected).expect("inputs serialize"))
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::db("inserting a task"))?;
        }
        for task in &new.tasks {
            for dependent in &task.dependents {
                sqlx::query(&self.sql("INSERT INTO task_dependents (task, dependent) VALUES ($1, $2)"))
                    .bind(task.key.to_string())
                    .bind(dependent.to_string())
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::db("inserting a task dependency"))?;
            }
        }
        tx.commit().await.map_err(StoreError::db("committing a new sequence"))?;
        Ok(true)
    }

    /// The sequence `sequence`, if known.
    pub async fn sequence(&self, sequence: u64) -> Result<Option<SequenceRow>> {
        let row = sqlx::query(&self.sql(&format!("{SEQUENCE_COLUMNS} WHERE sequence = $1")))
            .bind(sequence as i64)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::db("reading a sequence"))?;
        row.map(|row| sequence_row(&row)).transpose()
    }

    /// Every sequence, lowest first.
    pub async fn sequences(&self) -> Result<Vec<SequenceRow>> {
        let rows = sqlx::query(&format!("{SEQUENCE_COLUMNS} ORDER BY sequence"))
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::db("reading sequences"))?;
        rows.iter().map(sequence_row).collect()
    }

    /// The final proof of `sequence`, once proven.
    pub async fn final_proof(&self, sequence: u64) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query(&self.sql(
            "SELECT p.proof FROM proofs p JOIN tasks t ON t.id = p.task WHERE t.sequence = $1 AND t.kind = 'final'",
        ))
        .bind(sequence as i64)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::db("reading a final proof"))?;
        row.map(|row| row.try_get::<Vec<u8>, _>(0).map_err(StoreError::db("reading a final proof"))).transpose()
    }
}

const SEQUENCE_COLUMNS: &str =
    "SELECT sequence, shape, source, submitter, prices, account_count, root, digest, status, error FROM sequences";

fn sequence_row(row: &sqlx::any::AnyRow) -> Result<SequenceRow> {
    let get = |i: usize| row.try_get::<String, _>(i).map_err(StoreError::db("reading a sequence"));
    let int = |i: usize| row.try_get::<i64, _>(i).map_err(StoreError::db("reading a sequence"));
    Ok(SequenceRow {
        info: SequenceInfo {
            sequence: int(0)? as u64,
            shape: get(1)?.parse().map_err(StoreError::corrupt)?,
            source: get(2)?,
            submitter: get(3)?.parse().map_err(StoreError::corrupt)?,
            prices: serde_json::from_str(&get(4)?).map_err(StoreError::corrupt)?,
            account_count: int(5)? as u64,
            root: get(6)?.parse().map_err(StoreError::corrupt)?,
            digest: get(7)?.parse().map_err(StoreError::corrupt)?,
        },
        status: get(8)?.parse()?,
        error: row.try_get::<Option<String>, _>(9).map_err(StoreError::db("reading a sequence"))?,
    })
}
