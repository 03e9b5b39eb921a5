//! `zkpor bench`: what the system costs, measured.
//!
//! - [`proving`]: proving time, peak memory and proof sizes per shape;
//! - [`dispatch`]: the agent's own cost per task (leasing, checking and
//!   storing proofs) with the proving taken out.

pub mod dispatch;
pub mod proving;

use std::time::Duration;

/// Milliseconds, with two decimals.
fn ms(time: Duration) -> String {
    format!("{:.2}", time.as_secs_f64() * 1000.0)
}
