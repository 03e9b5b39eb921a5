//! Throwaway databases for tests: a SQLite file in a temporary directory, or
//! a fresh PostgreSQL database, dropped again when the value is.
//!
//! PostgreSQL is reached at `$ZKPOR_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/test`, as on the project's machines
//! and in CI); that database is only used to create and drop the scratch one.

use std::str::FromStr;

use sqlx::Connection;
use sqlx::any::AnyConnectOptions;
use uuid::Uuid;

use crate::{Dialect, Result, Store, StoreError};

/// A database that lives as long as this value.
pub struct ScratchDatabase {
    /// Its URL.
    pub url: String,
    dialect: Dialect,
    _dir: Option<tempfile::TempDir>,
    admin_url: Option<String>,
    name: String,
}

impl ScratchDatabase {
    /// A SQLite file in a new temporary directory.
    pub fn sqlite() -> Result<Self> {
        let dir =
            tempfile::tempdir().map_err(|e| StoreError::corrupt(format!("creating a temporary directory: {e}")))?;
        let url = format!("sqlite://{}", dir.path().join("agent.sqlite").display());
        Ok(ScratchDatabase { url, dialect: Dialect::Sqlite, _dir: Some(dir), admin_url: None, name: String::new() })
    }

    /// A new PostgreSQL database.
    pub async fn postgres() -> Result<Self> {
        let admin_url = std::env::var("ZKPOR_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
        let name = format!("zkpor_scratch_{}", Uuid::new_v4().simple());
        let mut admin = admin_connection(&admin_url).await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .map_err(StoreError::db("creating a scratch PostgreSQL database"))?;
        let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(base, _)| base);
        let url = format!("{base}/{name}");
        Ok(ScratchDatabase { url, dialect: Dialect::Postgres, _dir: None, admin_url: Some(admin_url), name })
    }

    /// One of each kind.
    pub async fn both() -> Result<Vec<Self>> {
        Ok(vec![Self::sqlite()?, Self::postgres().await?])
    }

    /// Its kind.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// A store on it.
    pub async fn open(&self) -> Result<Store> {
        Store::open(&self.url).await
    }
}

async fn admin_connection(url: &str) -> Result<sqlx::AnyConnection> {
    sqlx::any::install_default_drivers();
    let options = AnyConnectOptions::from_str(url).map_err(StoreError::db("parsing $ZKPOR_TEST_POSTGRES"))?;
    sqlx::AnyConnection::connect_with(&options).await.map_err(StoreError::db(
        "connecting to PostgreSQL for a scratch database (set ZKPOR_TEST_POSTGRES to a server's URL)",
    ))
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let Some(admin_url) = self.admin_url.take() else { return };
        let name = std::mem::take(&mut self.name);
        // Dropping needs async I/O; do it on a thread of its own so that
        // this works inside and outside a runtime.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let mut admin = admin_connection(&admin_url).await.ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin).await.ok()
            })
        })
        .join();
    }
}
