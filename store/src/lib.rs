//! The agent's storage, through sqlx: SQLite by default (one file, created
//! on first use), PostgreSQL when the URL says so, so that several agent
//! processes can share the work.
//!
//! - [`Store`]: opening a database and migrating it (`migrations/` at the
//!   repository root, the same SQL for both databases);
//! - [`sequences`]: a sequence to prove enters with its batches and its whole
//!   task graph in one transaction;
//! - [`leases`]: leasing a ready task, heartbeats, completing it with a
//!   checked proof, failing it, and taking back leases that expired; each a
//!   single transaction, safe with several processes on one PostgreSQL
//!   database (`FOR UPDATE SKIP LOCKED`);
//! - [`submissions`]: proven sequences on their way on chain, and where
//!   each stands on our side;
//! - [`transactions`]: the sender's transactions, recorded before they are
//!   broadcast, with every replacement;
//! - [`sources`]: forgetting a sequence a reorg took away, reporting refused
//!   witnesses;
//! - [`views`]: what status commands and metrics read;
//! - [`scratch`]: throwaway SQLite and PostgreSQL databases for tests.
//!
//! Proofs live in the database, not in files, so that every agent sharing a
//! database sees them and no row can point at a missing file.

pub mod leases;
pub mod scratch;
pub mod sequences;
pub mod sources;
pub mod submissions;
pub mod transactions;
pub mod views;

mod error;

use std::borrow::Cow;
use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::MigrateDatabase;
use sqlx::{Any, AnyPool};
use tracing::info;

pub use error::StoreError;
pub use leases::{Completed, Completion, Failed, FailureKind, Lease, LeaseError, LeasedTask, ReapedTask};
pub use sequences::{NewSequence, NewTask, SequenceInfo, SequenceRow};
pub use sources::RefusedSequence;
pub use submissions::{StateChange, Submission, SubmissionState};
pub use transactions::{NewTx, TxAttempt, TxCount, TxOutcome, TxPurpose, TxRecord, TxStatus};
pub use zkpor_protocol::states::{ProvingState, TaskState};

/// Result of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database a store talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite: one process writes at a time.
    Sqlite,
    /// PostgreSQL: row locks, `FOR UPDATE SKIP LOCKED`.
    Postgres,
}

/// The agent's database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
}

/// Set on every SQLite connection: readers do not block the writer (WAL);
/// a writer waits for the lock instead of failing; a commit is durable when
/// the process dies at any point, and is synced to disk at checkpoints rather
/// than at every commit (after a power cut the last commits may be missing,
/// never half-written: their tasks are proven again).
const SQLITE_PRAGMAS: [&str; 3] =
    ["PRAGMA journal_mode = WAL", "PRAGMA busy_timeout = 10000", "PRAGMA synchronous = NORMAL"];

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

impl Store {
    /// Opens (creating it if needed: a SQLite file, or a PostgreSQL database
    /// the user may create) and migrates the database at `url`:
    /// `sqlite://path` or `postgres://user@host/db`.
    pub async fn open(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Dialect::Postgres
        } else {
            return Err(StoreError::Url(url.to_string()));
        };
        if !Any::database_exists(url).await.map_err(StoreError::db("looking for the database"))? {
            Any::create_database(url).await.map_err(StoreError::db("creating the database"))?;
            info!(?dialect, "database created");
        }
        let options = AnyConnectOptions::from_str(url).map_err(StoreError::db("parsing the database URL"))?;
        let pool = AnyPoolOptions::new()
            .max_connections(if dialect == Dialect::Sqlite { 4 } else { 8 })
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        for pragma in SQLITE_PRAGMAS {
                            sqlx::query(pragma).execute(&mut *connection).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(StoreError::db("connecting to the database"))?;
        MIGRATOR.run(&pool).await.map_err(|e| StoreError::Migration(e.to_string()))?;
        info!(?dialect, "database ready");
        Ok(Store { pool, dialect })
    }

    /// The database kind.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The connection pool.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// `text` with `$n` placeholders in the database's syntax: SQLite's
    /// numbered `?n` binds by number, whatever order they appear in.
    fn sql<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match self.dialect {
            Dialect::Postgres => Cow::Borrowed(text),
            Dialect::Sqlite => Cow::Owned(text.replace('$', "?")),
        }
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
