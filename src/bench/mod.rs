//! `zkpor bench`: what the system costs, measured.
//!
//! - [`proving`]: proving time, peak memory and proof sizes per shape;
//! - [`dispatch`]: the agent's own cost per task (leasing, checking and
//!   storing proofs) with the proving taken out;
//! - [`submit`]: blocks from a stored final proof to its verification and
//!   reward on chain, with many sequences in flight.

pub mod dispatch;
pub mod proving;
pub mod submit;

use std::time::Duration;

/// Milliseconds, with two decimals.
fn ms(time: Duration) -> String {
    format!("{:.2}", time.as_secs_f64() * 1000.0)
}
