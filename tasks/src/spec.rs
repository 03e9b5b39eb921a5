//! What a worker receives: a task's key, the circuit family, and the inputs
//! its proof is made from. JSON, with proofs as base64 of plonky2's
//! serialization; the same document is an offline task file.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use plonky2::field::types::{Field, Field64, PrimeField64};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zkpor_circuits::F;
use zkpor_circuits::aggregation::NodeKind;
use zkpor_circuits::encoding::Address;
use zkpor_circuits::family::Family;
use zkpor_protocol::statement::StatementFile;
use zkpor_protocol::witness::UserWire;

use crate::key::TaskKey;

/// A task and everything needed to prove it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    /// The task.
    pub key: TaskKey,
    /// The circuit family of its sequence, by name.
    #[serde(with = "zkpor_circuits::family::by_name")]
    pub family: Family,
    /// What its proof is made from.
    pub input: TaskInput,
}

/// The inputs of a task, by kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TaskInput {
    /// A batch: the users of one batch of one tier.
    Batch {
        /// Index of the tier in the family's tiers.
        tier: usize,
        /// Unit price per real asset of the sequence (zero past them).
        prices: Vec<u64>,
        /// The users, in tree order.
        users: Vec<UserWire>,
    },
    /// An aggregation node: its children, left to right.
    Node {
        /// Which node circuit proves it.
        node: NodeKind,
        /// The child proofs.
        children: Vec<ChildProof>,
    },
    /// The statement and final proofs on the top node.
    Final {
        /// The sequence's statement, checked against its digest.
        statement: StatementFile,
        /// The top node's proof.
        top: ProofBytes,
        /// The address bound into the final proof.
        submitter: Address,
    },
}

/// One child of a node task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChildProof {
    /// Index of the circuit it is a proof of among those the node's slots
    /// verify against: its tier under a node over batches, 0 (node over
    /// batches) or 1 (node over nodes) above.
    pub circuit: usize,
    /// The proof.
    pub proof: ProofBytes,
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
    use crate::key::TaskKind;

    #[test]
    fn a_spec_round_trips_through_json() {
        let spec = TaskSpec {
            key: TaskKey { sequence: 1, kind: TaskKind::Node, level: 1, index: 0 },
            family: Family::tiny(),
            input: TaskInput::Node {
                node: NodeKind::OverNodes,
                children: vec![ChildProof { circuit: 1, proof: ProofBytes(vec![1, 2, 3]) }],
            },
        };
        let json = serde_json::to_string(&spec).unwrap();
        assert!(json.contains(r#""key":"s1-node-1-0","family":"tiny""#), "{json}");
        assert!(json.contains(r#""node":"over_nodes","children":[{"circuit":1,"proof":"AQID"}]"#), "{json}");
        assert_eq!(serde_json::from_str::<TaskSpec>(&json).unwrap(), spec);
    }

    #[test]
    fn malformed_specs_are_refused_with_a_reason() {
        let bad_base64 = r#"{"key":"s1-node-1-0","family":"tiny","input":{"kind":"node","node":"top","children":[{"circuit":0,"proof":"@@"}]}}"#;
        assert!(serde_json::from_str::<TaskSpec>(bad_base64).unwrap_err().to_string().contains("not base64"));
        let unknown = r#"{"key":"s1-node-1-0","family":"tiny","input":{"kind":"leaf"}}"#;
        assert!(serde_json::from_str::<TaskSpec>(unknown).is_err());
        let family =
            r#"{"key":"s1-node-1-0","family":"b4-a2-k2-l1","input":{"kind":"node","node":"top","children":[]}}"#;
        assert!(serde_json::from_str::<TaskSpec>(family).unwrap_err().to_string().contains("no family is named"));
    }

    #[test]
    fn field_words_must_be_canonical() {
        assert_eq!(fields(&[1, 2]).map(|f| canonical(&f)), Some(vec![1, 2]));
        assert_eq!(fields(&[F::ORDER]), None);
        assert_eq!(canonical(&[F::NEG_ONE]), vec![F::ORDER - 1]);
    }
}
