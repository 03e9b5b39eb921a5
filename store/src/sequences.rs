//! Sequences to prove: each enters with its batches' accounts and its whole
//! task graph in one transaction, so a crash leaves a sequence either fully
//! known or absent.

use sqlx::Row;
use zkpor_circuits::encoding::{Address, HashHex};
use zkpor_circuits::family::Family;
use zkpor_protocol::statement::StatementFile;
use zkpor_protocol::states::{ProvingState, TaskState};
use zkpor_protocol::witness::UserWire;
use zkpor_tasks::{ExpectedProof, TaskGraph, TaskKey};

use crate::{Result, Store, StoreError, now_ms};

/// What describes a sequence, as it entered and as it is stored.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SequenceInfo {
    /// Its number.
    pub sequence: u64,
    /// The circuit family.
    #[serde(with = "zkpor_circuits::family::by_name")]
    pub family: Family,
    /// Where it came from (a snapshot path, a chain event).
    pub source: String,
    /// The address bound into its final proof.
    pub submitter: Address,
    /// Unit price per real asset.
    pub prices: Vec<u64>,
    /// Per batch, the index of its tier.
    pub tiers: Vec<usize>,
    /// Accounts in the tree.
    pub account_count: u64,
    /// The tree's root.
    pub root: HashHex,
    /// The statement digest.
    pub digest: HashHex,
    /// The statement the final proof proves.
    #[serde(skip)]
    pub statement: StatementFile,
}

impl SequenceInfo {
    /// The sequence's task graph.
    pub fn graph(&self) -> TaskGraph {
        TaskGraph::new(self.sequence, &self.family, self.tiers.clone())
    }
}

/// A sequence to prove, with everything its tasks need.
#[derive(Clone, Debug)]
pub struct NewSequence {
    /// What it is.
    pub info: SequenceInfo,
    /// Each batch's users, in tree order (their tiers in
    /// [`SequenceInfo::tiers`]).
    pub batches: Vec<Vec<UserWire>>,
    /// Every task of its graph.
    pub tasks: Vec<NewTask>,
}

/// One task of a new sequence.
#[derive(Clone, Debug)]
pub struct NewTask {
    /// The task.
    pub key: TaskKey,
    /// What its proof must be.
    pub expected: ExpectedProof,
    /// How many distinct tasks it waits for.
    pub dependencies: usize,
    /// The tasks that wait for it.
    pub dependents: Vec<TaskKey>,
}

impl NewTask {
    /// Every task of `graph`, each with what `expected` says its proof must
    /// be; `None` if `expected` lacks a task.
    pub fn all_of(
        graph: &TaskGraph,
        expected: &std::collections::BTreeMap<TaskKey, ExpectedProof>,
    ) -> Option<Vec<Self>> {
        let dependents = graph.dependents();
        graph
            .tasks()
            .into_iter()
            .map(|key| {
                Some(NewTask {
                    expected: expected.get(&key)?.clone(),
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
    pub status: ProvingState,
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
            "INSERT INTO sequences (sequence, family, source, submitter, prices, account_count, root, digest, status, \
             created_ms, updated_ms, statement, tiers) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12) \
             ON CONFLICT (sequence) DO NOTHING",
        ))
        .bind(info.sequence as i64)
        .bind(info.family.name())
        .bind(&info.source)
        .bind(info.submitter.to_string())
        .bind(serde_json::to_string(&info.prices).expect("prices serialize"))
        .bind(info.account_count as i64)
        .bind(info.root.to_string())
        .bind(info.digest.to_string())
        .bind(ProvingState::Proving.as_str())
        .bind(now)
        .bind(serde_json::to_string(&info.statement).expect("a statement serializes"))
        .bind(serde_json::to_string(&info.tiers).expect("tiers serialize"))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::db("inserting a sequence"))?
        .rows_affected();
        if inserted == 0 {
            return Ok(false);
        }
        for (index, users) in new.batches.iter().enumerate() {
            sqlx::query(&self.sql("INSERT INTO batches (sequence, batch, users) VALUES ($1, $2, $3)"))
                .bind(info.sequence as i64)
                .bind(index as i64)
                .bind(serde_json::to_string(users).expect("users serialize"))
                .execute(&mut *tx)
                .await
                .map_err(StoreError::db("inserting a batch"))?;
        }
        for task in &new.tasks {
            let status = if task.dependencies == 0 { TaskState::Ready } else { TaskState::Waiting };
            sqlx::query(&self.sql(
                "INSERT INTO tasks (id, sequence, kind, level, idx, status, waiting_for, expected, attempts, failures, \
                 updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, $9)",
            ))
            .bind(task.key.to_string())
            .bind(info.sequence as i64)
            .bind(task.key.kind.as_str())
            .bind(task.key.level as i64)
            .bind(task.key.index as i64)
            .bind(status.as_str())
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
        let row =
            sqlx::query(&self.sql(
                "SELECT p.proof FROM proofs p JOIN tasks t ON t.id = p.task WHERE t.sequence = $1 AND t.kind = $2",
            ))
            .bind(sequence as i64)
            .bind(zkpor_tasks::TaskKind::Final.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::db("reading a final proof"))?;
        row.map(|row| row.try_get::<Vec<u8>, _>(0).map_err(StoreError::db("reading a final proof"))).transpose()
    }
}

const SEQUENCE_COLUMNS: &str = "SELECT sequence, family, source, submitter, prices, account_count, root, digest, \
     status, error, statement, tiers FROM sequences";

fn sequence_row(row: &sqlx::any::AnyRow) -> Result<SequenceRow> {
    let get = |i: usize| row.try_get::<String, _>(i).map_err(StoreError::db("reading a sequence"));
    let int = |i: usize| row.try_get::<i64, _>(i).map_err(StoreError::db("reading a sequence"));
    Ok(SequenceRow {
        info: SequenceInfo {
            sequence: int(0)? as u64,
            family: get(1)?
                .parse()
                .map_err(|e| StoreError::corrupt(format!("sequence {}: {e}", int(0).unwrap_or(0))))?,
            source: get(2)?,
            submitter: get(3)?.parse().map_err(StoreError::corrupt)?,
            prices: serde_json::from_str(&get(4)?).map_err(StoreError::corrupt)?,
            account_count: int(5)? as u64,
            root: get(6)?.parse().map_err(StoreError::corrupt)?,
            digest: get(7)?.parse().map_err(StoreError::corrupt)?,
            statement: serde_json::from_str(&get(10)?).map_err(StoreError::corrupt)?,
            tiers: serde_json::from_str(&get(11)?).map_err(StoreError::corrupt)?,
        },
        status: get(8)?.parse().map_err(StoreError::corrupt)?,
        error: row.try_get::<Option<String>, _>(9).map_err(StoreError::db("reading a sequence"))?,
    })
}
