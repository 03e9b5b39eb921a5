//! Building blocks the circuits share.

pub mod asset_table;
pub mod merkle;
pub mod prefix;
pub mod range;
pub mod solvency;
pub mod totals;
