//! The sender's transactions, recorded before they are broadcast.
//!
//! A transaction is one nonce of one account; each signed version of it (the
//! first, and every replacement with higher fees) is an attempt. Recording a
//! new transaction takes its nonce in the same statement that refuses a
//! nonce already taken, so a crash between signing and broadcasting leaves a
//! transaction to re-broadcast, never a gap or a second transaction for the
//! same purpose.

use std::fmt;
use std::str::FromStr;

use sqlx::Row;

use crate::{Result, Store, StoreError, now_ms};

/// What a transaction is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TxPurpose {
    /// `submitProofHash`.
    Commit,
    /// `submitProof`.
    Reveal,
    /// `settle`.
    Settle,
    /// `claimReward`.
    Claim,
    /// `deposit`.
    Deposit,
}

/// Where a transaction stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TxStatus {
    /// Broadcast (or about to be), not yet mined deep enough.
    Pending,
    /// Mined and confirmed, and it succeeded.
    Mined,
    /// Mined and confirmed, and it reverted.
    Reverted,
    /// Its nonce was used by another transaction of the account (sent from
    /// elsewhere): it can never be mined.
    Dropped,
}

macro_rules! stored_names {
    ($name:ident, $what:literal, [$($variant:ident => $text:literal),+]) => {
        impl $name {
            /// The name stored in the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = StoreError;
            fn from_str(text: &str) -> Result<Self> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(StoreError::corrupt(format!("{} '{text}'", $what))),
                }
            }
        }
    };
}

stored_names!(TxPurpose, "transaction purpose", [
    Commit => "commit", Reveal => "reveal", Settle => "settle", Claim => "claim", Deposit => "deposit"
]);
stored_names!(TxStatus, "transaction status", [
    Pending => "pending", Mined => "mined", Reverted => "reverted", Dropped => "dropped"
]);

/// One signed version of a transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxAttempt {
    /// 1 for the first, then one more per replacement.
    pub attempt: u32,
    /// Its hash, 0x-hex.
    pub hash: String,
    /// Its fee cap (wei per gas).
    pub max_fee_per_gas: u128,
    /// Its tip (wei per gas).
    pub max_priority_fee_per_gas: u128,
    /// Its gas limit.
    pub gas_limit: u64,
    /// The signed transaction, EIP-2718 encoded: what is broadcast.
    pub raw: Vec<u8>,
    /// When it was first broadcast (Unix ms).
    pub sent_ms: i64,
}

/// A transaction to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTx {
    /// The sending account, 0x-hex.
    pub account: String,
    /// Its nonce.
    pub nonce: u64,
    /// What it is for.
    pub purpose: TxPurpose,
    /// The sequence it is about (none for deposits).
    pub sequence: Option<u64>,
    /// The round it is for, if any.
    pub round: Option<u32>,
}

/// A recorded transaction with its attempts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxRecord {
    /// What it is.
    pub tx: NewTx,
    /// Where it stands.
    pub status: TxStatus,
    /// The attempt that was mined.
    pub mined_hash: Option<String>,
    /// Its block.
    pub block: Option<u64>,
    /// Gas it used.
    pub gas_used: Option<u64>,
    /// Every attempt, first first.
    pub attempts: Vec<TxAttempt>,
}

impl TxRecord {
    /// The latest attempt.
    pub fn latest(&self) -> &TxAttempt {
        self.attempts.last().expect("a recorded transaction has an attempt")
    }
}

/// How a transaction ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxOutcome {
    /// Mined, reverted or dropped.
    pub status: TxStatus,
    /// The mined attempt's hash.
    pub mined_hash: Option<String>,
    /// Its block.
    pub block: Option<u64>,
    /// Gas it used.
    pub gas_used: Option<u64>,
}

/// Transactions by purpose and status, for metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxCount {
    /// The purpose.
    pub purpose: String,
    /// The status.
    pub status: String,
    /// How many.
    pub count: u64,
}

impl Store {
    /// The nonce after the highest one recorded for `account`.
    pub async fn next_recorded_nonce(&self, account: &str) -> Result<Option<u64>> {
        let row = sqlx::query(&self.sql("SELECT MAX(nonce) FROM chain_transactions WHERE account = $1"))
            .bind(account)
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::db("reading the highest nonce"))?;
        let max: Option<i64> = row.try_get(0).map_err(StoreError::db("reading the highest nonce"))?;
        Ok(max.map(|n| n as u64 + 1))
    }

    /// Records a new transaction with its first attempt, before it is
    /// broadcast. `false` (nothing recorded) if the nonce is taken.
    pub async fn record_transaction(&self, tx: &NewTx, attempt: &TxAttempt) -> Result<bool> {
        let now = now_ms();
        let mut db = self.pool.begin().await.map_err(StoreError::db("starting a transaction"))?;
        let inserted = sqlx::query(&self.sql(
            "INSERT INTO chain_transactions (account, nonce, purpose, sequence, round, status, created_ms, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6) ON CONFLICT (account, nonce) DO NOTHING",
        ))
        .bind(&tx.account)
        .bind(tx.nonce as i64)
        .bind(tx.purpose.as_str())
        .bind(tx.sequence.map(|s| s as i64))
        .bind(tx.round.map(i64::from))
        .bind(now)
        .execute(&mut *db)
        .await
        .map_err(StoreError::db("recording a transaction"))?
        .rows_affected();
        if inserted == 0 {
            return Ok(false);
        }
        insert_attempt(self, &mut db, &tx.account, tx.nonce, attempt).await?;
        db.commit().await.map_err(StoreError::db("recording a transaction"))?;
        Ok(true)
    }

    /// Records a replacement of a pending transaction, before it is broadcast.
    pub async fn record_attempt(&self, account: &str, nonce: u64, attempt: &TxAttempt) -> Result<()> {
        let mut db = self.pool.begin().await.map_err(StoreError::db("starting a transaction"))?;
        insert_attempt(self, &mut db, account, nonce, attempt).await?;
        db.commit().await.map_err(StoreError::db("recording a replacement"))
    }

    /// Records how `account`'s transaction `nonce` ended.
    pub async fn finish_transaction(&self, account: &str, nonce: u64, outcome: &TxOutcome) -> Result<()> {
        sqlx::query(&self.sql(
            "UPDATE chain_transactions SET status = $3, mined_hash = $4, block = $5, gas_used = $6, updated_ms = $7 \
             WHERE account = $1 AND nonce = $2",
        ))
        .bind(account)
        .bind(nonce as i64)
        .bind(outcome.status.as_str())
        .bind(outcome.mined_hash.as_deref())
        .bind(outcome.block.map(|b| b as i64))
        .bind(outcome.gas_used.map(|g| g as i64))
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(StoreError::db("recording a transaction's outcome"))?;
        Ok(())
    }

    /// `account`'s transaction `nonce`.
    pub async fn transaction(&self, account: &str, nonce: u64) -> Result<Option<TxRecord>> {
        Ok(self.transactions_where(account, "AND t.nonce = $2", Some(nonce)).await?.pop())
    }

    /// `account`'s pending transactions, lowest nonce first.
    pub async fn pending_transactions(&self, account: &str) -> Result<Vec<TxRecord>> {
        self.transactions_where(account, "AND t.status = 'pending'", None).await
    }

    /// Every transaction of `account`, lowest nonce first.
    pub async fn transactions(&self, account: &str) -> Result<Vec<TxRecord>> {
        self.transactions_where(account, "", None).await
    }

    async fn transactions_where(&self, account: &str, filter: &str, nonce: Option<u64>) -> Result<Vec<TxRecord>> {
        let what = StoreError::db("reading transactions");
        let select = format!(
            "SELECT t.nonce, t.purpose, t.sequence, t.round, t.status, t.mined_hash, t.block, t.gas_used, \
             a.attempt, a.hash, a.max_fee_per_gas, a.max_priority_fee_per_gas, a.gas_limit, a.raw, a.sent_ms \
             FROM chain_transactions t JOIN chain_transaction_attempts a ON a.account = t.account AND a.nonce = t.nonce \
             WHERE t.account = $1 {filter} ORDER BY t.nonce, a.attempt"
        );
        let text = self.sql(&select);
        let mut query = sqlx::query(&text).bind(account);
        if let Some(nonce) = nonce {
            query = query.bind(nonce as i64);
        }
        let rows = query.fetch_all(&self.pool).await.map_err(what)?;
        let mut records: Vec<TxRecord> = Vec::new();
        for row in &rows {
            let get = |i: usize| row.try_get::<Option<i64>, _>(i).map_err(StoreError::db("reading transactions"));
            let text = |i: usize| row.try_get::<String, _>(i).map_err(StoreError::db("reading transactions"));
            let wei = |i: usize| text(i)?.parse::<u128>().map_err(StoreError::corrupt);
            let nonce = get(0)?.unwrap_or_default() as u64;
            let attempt = TxAttempt {
                attempt: get(8)?.unwrap_or_default() as u32,
                hash: text(9)?,
                max_fee_per_gas: wei(10)?,
                max_priority_fee_per_gas: wei(11)?,
                gas_limit: get(12)?.unwrap_or_default() as u64,
                raw: row.try_get(13).map_err(StoreError::db("reading transactions"))?,
                sent_ms: get(14)?.unwrap_or_default(),
            };
            match records.last_mut() {
                Some(record) if record.tx.nonce == nonce => record.attempts.push(attempt),
                _ => records.push(TxRecord {
                    tx: NewTx {
                        account: account.to_string(),
                        nonce,
                        purpose: text(1)?.parse()?,
                        sequence: get(2)?.map(|s| s as u64),
                        round: get(3)?.map(|r| r as u32),
                    },
                    status: text(4)?.parse()?,
                    mined_hash: row.try_get(5).map_err(StoreError::db("reading transactions"))?,
                    block: get(6)?.map(|b| b as u64),
                    gas_used: get(7)?.map(|g| g as u64),
                    attempts: vec![attempt],
                }),
            }
        }
        Ok(records)
    }

    /// Transactions by purpose and status, all accounts.
    pub async fn transaction_counts(&self) -> Result<Vec<TxCount>> {
        let rows = sqlx::query(
            "SELECT purpose, status, COUNT(*) FROM chain_transactions GROUP BY purpose, status ORDER BY purpose, status",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::db("counting transactions"))?;
        rows.iter()
            .map(|row| {
                let what = StoreError::db;
                Ok(TxCount {
                    purpose: row.try_get(0).map_err(what("counting transactions"))?,
                    status: row.try_get(1).map_err(what("counting transactions"))?,
                    count: row.try_get::<i64, _>(2).map_err(what("counting transactions"))? as u64,
                })
            })
            .collect()
    }
}

async fn insert_attempt(
    store: &Store,
    db: &mut sqlx::Transaction<'_, sqlx::Any>,
    account: &str,
    nonce: u64,
    attempt: &TxAttempt,
) -> Result<()> {
    sqlx::query(&store.sql(
        "INSERT INTO chain_transaction_attempts (account, nonce, attempt, hash, max_fee_per_gas, \
         max_priority_fee_per_gas, gas_limit, raw, sent_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    ))
    .bind(account)
    .bind(nonce as i64)
    .bind(i64::from(attempt.attempt))
    .bind(&attempt.hash)
    .bind(attempt.max_fee_per_gas.to_string())
    .bind(attempt.max_priority_fee_per_gas.to_string())
    .bind(attempt.gas_limit as i64)
    .bind(attempt.raw.clone())
    .bind(attempt.sent_ms)
    .execute(&mut **db)
    .await
    .map_err(StoreError::db("recording a transaction attempt"))?;
    Ok(())
}
