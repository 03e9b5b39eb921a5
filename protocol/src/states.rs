//! Where things stand: a sequence on chain (as the registry reports it),
//! a sequence at an agent, and each proving task. Each is an enum with the
//! name it is stored and shown under.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use thiserror::Error;

/// A name that is not one of an enum's.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("'{name}' is not a {what}")]
pub struct UnknownState {
    /// What was being read.
    pub what: &'static str,
    /// The name read.
    pub name: String,
}

/// An enum stored by name: each variant's name, and back.
macro_rules! named_states {
    ($(#[$doc:meta])* $name:ident, $what:literal, { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &[$name] = &[$($name::$variant),+];

            /// The name it is stored and shown under.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownState;
            fn from_str(text: &str) -> Result<Self, UnknownState> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|state| state.as_str() == text)
                    .ok_or_else(|| UnknownState { what: $what, name: text.to_string() })
            }
        }
    };
}

named_states!(
    /// Where a sequence stands on chain (the registry contract's `Status`,
    /// in its order).
    RegistryStatus, "registry status", {
        /// Never posted.
        None => "none",
        /// Posted; no commit in the current round yet.
        Posted => "posted",
        /// The commit window T1 is open.
        Committing => "committing",
        /// The reveal window T2 is open and nothing is verified yet.
        Revealing => "revealing",
        /// A valid proof was revealed.
        Verified => "verified",
        /// T2 ended without a valid proof; `settle` reopens it.
        Expired => "expired",
    }
);

named_states!(
    /// Where a prover's commit in one round stands (the contract's
    /// `CommitState`, in its order).
    CommitState, "commit state", {
        /// No commit.
        None => "none",
        /// Committed, waiting for its reveal.
        Committed => "committed",
        /// Revealed and valid; reward not claimed yet.
        Valid => "valid",
        /// Revealed and invalid: slashed.
        Invalid => "invalid",
        /// Valid and paid.
        Rewarded => "rewarded",
        /// Never revealed in a round that failed: slashed.
        Slashed => "slashed",
        /// Never revealed in a round another prover won: released.
        Released => "released",
    }
);

named_states!(
    /// Where a sequence's proving stands at an agent.
    ProvingState, "proving state", {
        /// Tasks are being proven.
        Proving => "proving",
        /// The final proof is stored.
        Proven => "proven",
        /// A task failed too often; the sequence's error says which and why.
        Failed => "failed",
    }
);

named_states!(
    /// Where one proving task stands at an agent.
    TaskState, "task state", {
        /// Waiting for the proofs it takes.
        Waiting => "waiting",
        /// Ready to be leased.
        Ready => "ready",
        /// Leased to a worker.
        Leased => "leased",
        /// Its proof is stored.
        Done => "done",
        /// Parked after too many failures.
        Failed => "failed",
        /// Its sequence failed or was dropped before it ran.
        Cancelled => "cancelled",
    }
);

/// `TryFrom<u8>` for the enums that mirror a Solidity enum: the contract's
/// declaration order.
macro_rules! solidity_order {
    ($name:ident) => {
        impl TryFrom<u8> for $name {
            type Error = UnknownState;

            fn try_from(value: u8) -> Result<Self, UnknownState> {
                $name::ALL
                    .get(usize::from(value))
                    .copied()
                    .ok_or_else(|| UnknownState { what: stringify!($name), name: value.to_string() })
            }
        }
    };
}

solidity_order!(RegistryStatus);
solidity_order!(CommitState);

impl RegistryStatus {
    /// A sentence for readers.
    pub fn describe(self) -> &'static str {
        match self {
            RegistryStatus::None => "not posted",
            RegistryStatus::Posted => "posted",
            RegistryStatus::Committing => "committing",
            RegistryStatus::Revealing => "revealing",
            RegistryStatus::Verified => "verified",
            RegistryStatus::Expired => "expired, awaiting settle",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_solidity_values_decode_in_order() {
        for &state in TaskState::ALL {
            assert_eq!(state.as_str().parse::<TaskState>(), Ok(state));
        }
        assert_eq!("leasd".parse::<TaskState>().unwrap_err().to_string(), "'leasd' is not a task state");
        assert_eq!(RegistryStatus::try_from(5), Ok(RegistryStatus::Expired));
        assert!(RegistryStatus::try_from(6).is_err());
        assert_eq!(CommitState::try_from(6), Ok(CommitState::Released));
        assert_eq!(serde_json::to_string(&ProvingState::Proven).unwrap(), "\"proven\"");
    }
}
