//! Building blocks the circuits share.

pub mod checked_sum;
pub mod merkle;
pub mod range;
pub mod solvency;
