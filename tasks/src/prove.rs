//! How a worker proves a task.

use anyhow::{Context, Result, ensure};
use plonky2::plonk::circuit_data::CommonCircuitData;
use tracing::info_span;
use zkpor_circuits::account::AccountLeaf;
use zkpor_circuits::batch::BatchWitness;
use zkpor_circuits::node::NodeProof;
use zkpor_circuits::{CircuitSet, D, F};

use crate::key::TaskKind;
use crate::spec::{ProofBytes, TaskInput, TaskSpec};

/// Proves `spec` with `circuits` (of its shape); the proof's serialization.
pub fn prove_task(circuits: &CircuitSet, spec: &TaskSpec) -> Result<Vec<u8>> {
    let _span = info_span!("prove_task", task = %spec.key).entered();
    let shape = circuits.shape();
    ensure!(*shape == spec.shape, "the task is for shape {}, these circuits are of {shape}", spec.shape);
    let tier = spec.key.tier as usize;
    let bytes = match (&spec.key.kind, &spec.input) {
        (TaskKind::Batch, TaskInput::Batch { prices, accounts }) => {
            let leaves = accounts.iter().map(AccountLeaf::try_from).collect::<Result<Vec<_>>>()?;
            circuits.batch().prove(&BatchWitness::new(shape, prices, &leaves)?)?.to_bytes()
        }
        (TaskKind::Empty, TaskInput::Empty { prices, child: None }) if tier == 0 => {
            circuits.batch().prove(&BatchWitness::new(shape, prices, &[])?)?.to_bytes()
        }
        (TaskKind::Empty, TaskInput::Empty { child: Some(child), .. }) if tier > 0 => {
            let child = node_proof(circuits, tier - 1, child)?;
            circuits.aggregation(tier - 1).prove(&vec![&child; shape.arity()])?.to_bytes()
        }
        (TaskKind::Node, TaskInput::Node { children }) if tier > 0 => {
            let children =
                children.iter().map(|child| node_proof(circuits, tier - 1, child)).collect::<Result<Vec<_>>>()?;
            circuits.aggregation(tier - 1).prove(&children.iter().collect::<Vec<_>>())?.to_bytes()
        }
        (TaskKind::Final, TaskInput::Final { prices, top, sequence, submitter }) => {
            let top = node_proof(circuits, shape.levels(), top)?;
            let statement = circuits.statement().prove(&top, prices)?;
            circuits.final_wrap().prove(&statement, *sequence, *submitter)?.to_bytes()
        }
        _ => anyhow::bail!("task {} does not match its inputs", spec.key),
    };
    Ok(bytes)
}

/// The circuit whose proofs form tier `tier` of the tree.
pub fn node_circuit(circuits: &CircuitSet, tier: usize) -> &CommonCircuitData<F, D> {
    match tier {
        0 => &circuits.batch().data().common,
        t => &circuits.aggregation(t - 1).data().common,
    }
}

/// A proof of tier `tier` from its bytes.
pub fn node_proof(circuits: &CircuitSet, tier: usize, bytes: &ProofBytes) -> Result<NodeProof> {
    ensure!(tier <= circuits.shape().levels(), "tier {tier} is above the top of shape {}", circuits.shape());
    NodeProof::from_bytes(bytes.0.clone(), node_circuit(circuits, tier))
        .with_context(|| format!("a proof of tier {tier} that does not parse"))
}
