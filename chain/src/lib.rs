//! zkpor on an EVM chain.
//!
//! - [`registry`]: bindings of the `LiabilityRegistry` contract, generated
//!   from the checked-in artifact `contracts/artifacts/LiabilityRegistry.json`
//!   (so a Rust build never needs npm), and conversions between its types and
//!   zkpor's;
//! - [`config`]: how an agent talks to the chain (`[chain]` of its
//!   configuration);
//! - [`deploy`]: deploying the registry;
//! - [`verifier`]: the generated plonky2 verifiers: shipped bytecode,
//!   deployment, checking a proof as an `eth_call`;
//! - [`statement`]: the encoding of the statement a sequence emits;
//! - [`posted`]: posted sequences, read from their `SequencePosted` events;
//! - [`publish`]: the exchange posting a sequence, its witness archived first;
//! - [`reader`]: what anyone reads about a sequence: status, checked
//!   statement, verification, provers;
//! - [`anvil`]: a local chain from the npm `@foundry-rs/anvil` package, for
//!   tests and development.

pub mod anvil;
pub mod config;
pub mod deploy;
pub mod posted;
pub mod publish;
pub mod reader;
pub mod registry;
pub mod statement;
pub mod verifier;
