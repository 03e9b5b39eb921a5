//! What a worker receives: a task's key, the circuit shape, and the inputs
//! its proof is made from. JSON, with proofs as base64 of plonky2's
//! serialization; the same document is an offline task file.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use plonky2::field::types::{Field, Field64, PrimeField64};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zkpor_circuits::account::AccountLeaf;
use zkpor_circuits::encoding::Address;
use zkpor_circuits::{F, Hash, Shape};

use crate::key::{TaskKey, TaskKind};

/// A task and everything needed to prove it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    /// The task.
    pub key: TaskKey,
    /// The circuit shape of its sequence.
    pub shape: Shape,
    /// What its proof is made from.
    pub input: TaskInput,
}

impl TaskSpec {
    /// The spec of `key`: `accounts` are a batch's accounts, `inputs` the
    /// proofs [`crate::TaskGraph::inputs`] names for it, in that order;
    /// `submitter` is bound into a final proof.
    pub fn assemble(
        key: TaskKey,
        shape: Shape,
        prices: &[u64],
        accounts: Vec<AccountWire>,
        mut inputs: Vec<ProofBytes>,
        submitter: Address,
    ) -> anyhow::Result<Self> {
        let expected = match (key.kind, key.tier) {
            (TaskKind::Batch, _) | (TaskKind::Empty, 0) => 0,
            (TaskKind::Empty, _) => shape.arity(),
            (TaskKind::Node, _) => shape.arity(),
            (TaskKind::Final, _) => 1,
        };
        anyhow::ensure!(inputs.len() == expected, "task {key} takes {expected} proofs, got {}", inputs.len());
        let prices = prices.to_vec();
        let input = match key.kind {
            TaskKind::Batch => TaskInput::Batch { prices, accounts },
            TaskKind::Empty => TaskInput::Empty { prices, child: inputs.pop() },
            TaskKind::Node => TaskInput::Node { children: inputs },
            TaskKind::Final => {
                TaskInput::Final { prices, top: inputs.pop().expect("one input"), sequence: key.sequence, submitter }
            }
        };
        Ok(TaskSpec { key, shape, input })
    }
}

/// The inputs of a task, by kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TaskInput {
    /// A batch: up to `B` accounts at unit `prices`.
    Batch {
        /// Unit price per asset slot.
        prices: Vec<u64>,
        /// The accounts, in tree order.
        accounts: Vec<AccountWire>,
    },
    /// An empty subtree of tier 0 (a batch of padding accounts at `prices`)
    /// or above (`K` copies of `child`, the empty proof of the tier below).
    Empty {
        /// Unit price per asset slot.
        prices: Vec<u64>,
        /// The empty proof of the tier below, for tiers above 0.
        child: Option<ProofBytes>,
    },
    /// An aggregation node: its `K` children, in order.
    Node {
        /// The child proofs.
        children: Vec<ProofBytes>,
    },
    /// The statement and final proofs on the top node.
    Final {
        /// Unit price per asset slot.
        prices: Vec<u64>,
        /// The top node's proof.
        top: ProofBytes,
        /// The sequence number bound into the final proof.
        sequence: u64,
        /// The address bound into the final proof.
        submitter: Address,
    },
}

/// One account as a worker receives it: the hidden id and the balances.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountWire {
    /// `Poseidon(nonce ‖ id)` as four canonical field elements.
    pub id_hash: [u64; 4],
    /// Equity per asset slot.
    pub equity: Vec<u64>,
    /// Debt per asset slot.
    pub debt: Vec<u64>,
}

impl From<&AccountLeaf> for AccountWire {
    fn from(leaf: &AccountLeaf) -> Self {
        AccountWire {
            id_hash: leaf.id_hash.elements.map(|f| f.to_canonical_u64()),
            equity: leaf.equity.clone(),
            debt: leaf.debt.clone(),
        }
    }
}

impl TryFrom<&AccountWire> for AccountLeaf {
    type Error = anyhow::Error;
    fn try_from(wire: &AccountWire) -> anyhow::Result<Self> {
        anyhow::ensure!(
            wire.id_hash.iter().all(|&e| e < F::ORDER),
            "an account's id hash has an element that is not canonical"
        );
        Ok(AccountLeaf {
            id_hash: Hash { elements: wire.id_hash.map(F::from_canonical_u64) },
            equity: wire.equity.clone(),
            debt: wire.debt.clone(),
        })
    }
}

/// A serialized proof; base64 in JSON.
#[derive(Clone, PartialEq, Eq)]
pub struct ProofBytes(pub Vec<u8>);

impl fmt::Debug for ProofBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProofBytes({} bytes)", self.0.len())
    }
}

impl Serialize for ProofBytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&BASE64.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for ProofBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        BASE64.decode(text.as_bytes()).map(ProofBytes).map_err(|e| serde::de::Error::custom(format!("not base64: {e}")))
    }
}

/// Public inputs as canonical field elements, as the agent expects them.
pub fn canonical(values: &[F]) -> Vec<u64> {
    values.iter().map(|f| f.to_canonical_u64()).collect()
}

/// Field elements from canonical words; `None` if one is not.
pub fn fields(values: &[u64]) -> Option<Vec<F>> {
    values.iter().map(|&v| (v < F::ORDER).then(|| F::from_canonical_u64(v))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_round_trips_through_json() {
        let spec = TaskSpec {
            key: TaskKey { sequence: 1, kind: TaskKind::Node, tier: 1, index: 0 },
            shape: Shape::TINY,
            input: TaskInput::Node { children: vec![ProofBytes(vec![1, 2, 3]), ProofBytes(vec![])] },
        };
        let json = serde_json::to_string(&spec).unwrap();
        assert!(json.contains(r#""key":"s1-node-1-0""#) && json.contains(r#""children":["AQID",""]"#), "{json}");
        assert_eq!(serde_json::from_str::<TaskSpec>(&json).unwrap(), spec);
    }

    #[test]
    fn malformed_specs_are_refused_with_a_reason() {
        let bad_base64 = r#"{"key":"s1-node-1-0","shape":"tiny","input":{"kind":"node","children":["@@"]}}"#;
        assert!(serde_json::from_str::<TaskSpec>(bad_base64).unwrap_err().to_string().contains("not base64"));
        let unknown = r#"{"key":"s1-node-1-0","shape":"tiny","input":{"kind":"leaf"}}"#;
        assert!(serde_json::from_str::<TaskSpec>(unknown).is_err());
        let wire = AccountWire { id_hash: [F::ORDER, 0, 0, 0], equity: vec![], debt: vec![] };
        assert!(AccountLeaf::try_from(&wire).is_err());
    }

    #[test]
    fn field_words_must_be_canonical() {
        assert_eq!(fields(&[1, 2]).map(|f| canonical(&f)), Some(vec![1, 2]));
        assert_eq!(fields(&[F::ORDER]), None);
        assert_eq!(canonical(&[F::NEG_ONE]), vec![F::ORDER - 1]);
    }
}
