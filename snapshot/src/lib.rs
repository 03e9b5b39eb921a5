//! Balance snapshots of an exchange: reading them from CSV files, exact
//! decimal arithmetic, and validation against the bounds the circuits rely on.
//!
//! A snapshot is a directory with `assets.csv` (`symbol,decimals,price_usd`)
//! and one or more `balances*.csv` files (`id,<symbol>,...`, one row per
//! user, signed decimal balances). [`Snapshot::load`] reads and validates it,
//! reporting every problem with its file and line; [`Snapshot::new`] applies
//! the same rules to data built in memory.
//!
//! ```no_run
//! use std::path::Path;
//! use zkpor_snapshot::{LoadOptions, Snapshot};
//!
//! match Snapshot::load(Path::new("samples/basic"), &LoadOptions::default()) {
//!     Ok(snapshot) => println!("{} accounts", snapshot.accounts().len()),
//!     Err(errors) => eprintln!("{errors}"),
//! }
//! ```

#![warn(missing_docs)]

pub mod bounds;
pub mod decimal;
pub mod pricing;

mod assets;
mod balances;
mod csvfile;
mod error;
mod holdings;
mod ids;
mod load;
mod model;
mod validate;

pub use error::{Location, SnapshotError, SnapshotErrors};
pub use holdings::Balances;
pub use model::{Account, Asset, LoadOptions, Snapshot};
pub use pricing::{UnitPrices, unit_prices};
