//! The aggregation circuit: `K` child proofs of the level below.
//!
//! Children are verified against the pinned verifier data of the circuit one
//! level down (batch circuit for level 0), so a proof of any other circuit is
//! refused. All children must carry the same prices commitment; totals are
//! summed with a range check after every addition (see
//! [`crate::gadgets::checked_sum`]); account counts are summed (each is at
//! most its subtree's capacity, so the sum cannot wrap); the child roots are
//! hashed into the parent root as a binary tree. Missing children are filled
//! with proofs of empty subtrees, which are real proofs of padding accounts.

use anyhow::{Context, Result, ensure};
use plonky2::iop::witness::{PartialWitness, WitnessWrite};
use plonky2::plonk::circuit_builder::CircuitBuilder;
use plonky2::plonk::circuit_data::CircuitData;
use plonky2::plonk::proof::ProofWithPublicInputsTarget;
use tracing::info_span;

use crate::gadgets::checked_sum::checked_sum;
use crate::gadgets::merkle::merkle_root;
use crate::node::{NodeInputs, NodeProof};
use crate::{C, D, F, Shape, config};

/// The aggregation circuit of one level of one shape.
pub struct AggregationCircuit {
    level: usize,
    data: CircuitData<F, C, D>,
    children: Vec<ProofWithPublicInputsTarget<D>>,
}

impl AggregationCircuit {
    /// Builds level `level`, whose children are proofs of `child`.
    pub fn build(shape: &Shape, level: usize, child: &CircuitData<F, C, D>) -> Self {
        let _span = info_span!("build_aggregation_circuit", %shape, level).entered();
        let assets = shape.assets();
        let mut builder = CircuitBuilder::<F, D>::new(config::recursion());
        let child_verifier = builder.constant_verifier_data(&child.verifier_only);

        let children: Vec<_> = (0..shape.arity())
            .map(|_| {
                let proof = builder.add_virtual_proof_with_pis(&child.common);
                builder.verify_proof::<C>(&proof, &child_verifier, &child.common);
                proof
            })
            .collect();
        let inputs: Vec<NodeInputs<_>> =
            children.iter().map(|child| NodeInputs::from_slice(&child.public_inputs, assets)).collect();

        let prices_commitment = inputs[0].prices_commitment_target();
        for other in &inputs[1..] {
            builder.connect_hashes(prices_commitment, other.prices_commitment_target());
        }
        let account_count = builder.add_many(inputs.iter().map(|i| i.account_count));
        let mut total = |pick: fn(&NodeInputs<_>) -> &Vec<_>, asset: usize| {
            let terms: Vec<_> = inputs.iter().map(|i| pick(i)[asset]).collect();
            checked_sum(&mut builder, &terms)
        };
        let equity = (0..assets).map(|a| total(|i| &i.equity, a)).collect();
        let debt = (0..assets).map(|a| total(|i| &i.debt, a)).collect();
        let root = merkle_root(&mut builder, inputs.iter().map(NodeInputs::root_target).collect());

        let node = NodeInputs {
            root: root.elements,
            prices_commitment: prices_commitment.elements,
            account_count,
            equity,
            debt,
        };
        builder.register_public_inputs(&node.to_vec());
        tracing::debug!(gates = builder.num_gates(), "aggregation circuit laid out");
        let data = builder.build::<C>();
        AggregationCircuit { level, data, children }
    }

    /// Proves one node from exactly `K` child proofs, left to right.
    pub fn prove(&self, children: &[&NodeProof]) -> Result<NodeProof> {
        ensure!(
            children.len() == self.children.len(),
            "aggregation level {} takes {} children, got {}",
            self.level,
            self.children.len(),
            children.len()
        );
        let mut witness = PartialWitness::new();
        for (target, proof) in self.children.iter().zip(children) {
            witness.set_proof_with_pis_target(target, proof)?;
        }
        self.data.prove(witness).with_context(|| format!("proving an aggregation node of level {}", self.level))
    }

    /// The circuit data: what the level above verifies against.
    pub fn data(&self) -> &CircuitData<F, C, D> {
        &self.data
    }
}
