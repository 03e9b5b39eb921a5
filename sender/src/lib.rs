//! The agent's proof sender.
//!
//! A sequence's final proof goes on chain in two steps (see the registry's
//! rules in `docs/contracts.md`): its hash is committed inside the commit
//! window T1, and the proof itself revealed inside the reveal window T2. The
//! [`Sender`] moves each sequence through three [`PriorityCache`]s, lowest
//! sequence first, each drained by a task of its own:
//!
//! 1. final-proof messages, to commit;
//! 2. commit transactions under watch, until they are final and T1 is over;
//! 3. reveal messages, to submit and watch.
//!
//! - [`cache`]: the priority cache;
//! - [`messages`]: what the caches hold;
//! - [`plan`]: the next step of a sequence, decided from the chain's view;
//! - [`view`]: reading that view;
//! - [`transactor`]: transactions: simulation, nonces recorded before
//!   broadcast, gas and fees, re-broadcast and replacement, confirmations;
//! - [`drain`]: the drainers.

pub mod cache;
pub mod drain;
pub mod messages;
pub mod plan;
pub mod transactor;
pub mod view;

pub use cache::{Duplicate, PriorityCache, Sequenced};
pub use drain::{AlreadyHeld, Sender};
pub use messages::{CommitMessage, ProofToSend, RevealMessage, WatchMessage};
pub use plan::{Finished, OnChain, OurCommit, Step, next_step};
pub use transactor::{Call, SendError, Transactor, TxPolicy, TxProgress};
pub use view::RegistryView;
