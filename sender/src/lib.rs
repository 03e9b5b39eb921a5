//! The agent's proof sender.
//!
//! A sequence's final proof goes on chain in two steps (see the registry's
//! rules in `docs/contracts.md`): its hash is committed inside the commit
//! window T1, and the proof itself revealed inside the reveal window T2. The
//! sender moves each sequence through three [`PriorityCache`]s, lowest
//! sequence first, each drained by a task of its own:
//!
//! 1. final-proof messages, to commit;
//! 2. commit transactions under watch, until they are mined and T1 is over;
//! 3. reveal messages, to submit and watch.
//!
//! Built so far: the caches ([`cache`]) and the rules that decide each
//! sequence's next step from the chain's view of it ([`plan`]). The
//! drainers, the transaction handling and the manager that feeds them are
//! still to come (issue 6).

pub mod cache;
pub mod plan;

pub use cache::{Duplicate, PriorityCache, Sequenced};
pub use plan::{Finished, OnChain, OurCommit, Step, next_step};
