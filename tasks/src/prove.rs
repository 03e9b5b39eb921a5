//! How a worker proves a task.

use anyhow::{Context, Result, bail, ensure};
use tracing::info_span;
use zkpor_circuits::FamilyCircuits;
use zkpor_circuits::aggregation::NodeKind;
use zkpor_circuits::batch::TierBatchWitness;
use zkpor_circuits::leaf::Leaf;
use zkpor_circuits::node::NodeProof;
use zkpor_circuits::statement::padded;

use crate::key::TaskKind;
use crate::spec::{ChildProof, TaskInput, TaskSpec};

/// Proves `spec` with `circuits` (of its family); the proof's serialization.
pub fn prove_task(circuits: &FamilyCircuits, spec: &TaskSpec) -> Result<Vec<u8>> {
    let _span = info_span!("prove_task", task = %spec.key).entered();
    let family = circuits.family();
    ensure!(
        *family == spec.family,
        "the task is for family {}, these circuits are of {}",
        spec.family.name(),
        family.name()
    );
    let bytes = match (&spec.key.kind, &spec.input) {
        (TaskKind::Batch, TaskInput::Batch { tier, prices, users }) => {
            let circuit = circuits.tier(*tier)?;
            let tier = circuit.tier();
            ensure!(prices.len() <= family.assets(), "{} prices for at most {} assets", prices.len(), family.assets());
            let leaves = users
                .iter()
                .enumerate()
                .map(|(position, user)| {
                    let id = user.id().with_context(|| format!("user {position}"))?;
                    Leaf::new(id, &user.holdings(), tier.slots, family.assets())
                        .with_context(|| format!("user {position}"))
                })
                .collect::<Result<Vec<_>>>()?;
            let witness = TierBatchWitness::new(tier, &padded(prices, family.assets()), &leaves)?;
            circuit.prove(&witness)?.to_bytes()
        }
        (TaskKind::Node, TaskInput::Node { node, children }) => {
            let proofs = children
                .iter()
                .enumerate()
                .map(|(slot, child)| child_proof(circuits, *node, child).with_context(|| format!("child {slot}")))
                .collect::<Result<Vec<_>>>()?;
            let children: Vec<(usize, &NodeProof)> =
                children.iter().zip(&proofs).map(|(child, proof)| (child.circuit, proof)).collect();
            circuits.node(*node)?.prove(&children)?.to_bytes()
        }
        (TaskKind::Final, TaskInput::Final { statement, top, submitter }) => {
            let statement = statement.checked_statement()?;
            let top = NodeProof::from_bytes(top.0.clone(), &circuits.top()?.data().common)
                .context("the top proof does not parse")?;
            let statement_proof = circuits.statement()?.prove(&top, &statement)?;
            circuits.final_wrap()?.prove(&statement_proof, spec.key.sequence, *submitter)?.to_bytes()
        }
        _ => bail!("task {} does not match its inputs", spec.key),
    };
    Ok(bytes)
}

/// Waits until the circuits `spec` is proven on are ready, where they are
/// still being read or built ([`crate::CircuitCache`]). They are made in
/// order, tiers first, then the nodes, the statement and the final
/// circuit, so each task's own circuit comes after every circuit it needs.
pub fn wait_for_circuits(circuits: &FamilyCircuits, spec: &TaskSpec) -> Result<()> {
    match &spec.input {
        TaskInput::Batch { tier, .. } => circuits.tier(*tier).map(drop),
        TaskInput::Node { node, .. } => circuits.node(*node).map(drop),
        TaskInput::Final { .. } => circuits.final_wrap().map(drop),
    }
}

/// A child proof of a `node` from its bytes.
fn child_proof(circuits: &FamilyCircuits, node: NodeKind, child: &ChildProof) -> Result<NodeProof> {
    let common = match node {
        NodeKind::OverBatches => &circuits.tier(child.circuit)?.data().common,
        // Both node circuits below the top share their common data.
        NodeKind::OverNodes | NodeKind::Top => &circuits.over_batches()?.data().common,
    };
    NodeProof::from_bytes(child.proof.0.clone(), common).context("a proof that does not parse")
}
