//! Store errors.

use thiserror::Error;

/// What went wrong in the store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database URL names no supported database.
    #[error("'{0}' is not a database URL: expected sqlite://<file> or postgres://<user>@<host>/<database>")]
    Url(String),
    /// A database operation failed.
    #[error("{what}: {source}")]
    Database {
        /// What was being done.
        what: &'static str,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// Migrating the schema failed.
    #[error("migrating the database: {0}")]
    Migration(String),
    /// A stored value does not parse.
    #[error("the database holds a bad value: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Wraps a driver error, saying what was being done.
    pub fn db(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |source| StoreError::Database { what, source }
    }

    /// A stored value that does not parse.
    pub fn corrupt(what: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt(what.to_string())
    }
}
