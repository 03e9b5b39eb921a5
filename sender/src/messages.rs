//! What the three caches hold.

use alloy::primitives::{B256, Bytes};

use crate::cache::Sequenced;

/// A sequence's final proof, ready for the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofToSend {
    /// The sequence.
    pub sequence: u64,
    /// The proof in the verifier's calldata encoding.
    pub calldata: Bytes,
    /// `keccak256(calldata ‖ our address)`: what we commit.
    pub proof_hash: B256,
}

/// A final proof whose hash is to be committed (cache 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitMessage {
    /// The proof.
    pub proof: ProofToSend,
}

/// A commit under watch until it is final and T1 is over (cache 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchMessage {
    /// The proof committed.
    pub proof: ProofToSend,
    /// The round committed in.
    pub round: u32,
    /// Our commit transaction's nonce, while it is not final.
    pub commit_nonce: Option<u64>,
}

/// A proof to reveal in T2, then its reveal under watch (cache 3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevealMessage {
    /// The proof.
    pub proof: ProofToSend,
    /// The round revealed in.
    pub round: u32,
    /// Our reveal transaction's nonce, once sent.
    pub reveal_nonce: Option<u64>,
}

impl Sequenced for CommitMessage {
    fn sequence(&self) -> u64 {
        self.proof.sequence
    }
}

impl Sequenced for WatchMessage {
    fn sequence(&self) -> u64 {
        self.proof.sequence
    }
}

impl Sequenced for RevealMessage {
    fn sequence(&self) -> u64 {
        self.proof.sequence
    }
}
