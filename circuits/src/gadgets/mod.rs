//! Building blocks the circuits share.

pub mod asset_table;
pub mod checked_sum;
pub mod merkle;
pub mod range;
pub mod solvency;
