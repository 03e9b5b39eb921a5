//! The aggregation circuit: `K` child proofs of the level below.
//!
//! The child roots are hashed as a binary tree over `K` rounded up to a power
//! of two; the slots past the children hold a constant, the root of an empty
//! subtree, so a node of the sparse tiers can take any number of children
//! without verifying proofs of nothing.
//!
//! Children are verified against the pinned verifier data of the circuit one
//! level down (batch circuit for level 0), so a proof of any other circuit is
//! refused. Where the level below has several circuits (the batch circuits of
//! the sparse tiers, which share one layout of public inputs and rows), each
//! child names which one it is a proof of, and is verified against that
//! circuit's pinned verifier data. All children must carry the same prices
//! commitment; totals are summed with a range check after every second
//! addition (see
//! [`crate::gadgets::checked_sum`]); account counts are summed (each is at
//! most its subtree's capacity, so the sum cannot wrap); the child roots are
//! hashed into the parent root as a binary tree. Missing children are filled
//! with proofs of empty subtrees, which are real proofs of padding accounts.

use anyhow::{Context, Result, ensure};
use plonky2::field::types::Field;
use plonky2::iop::target::Target;
use plonky2::iop::witness::{PartialWitness, WitnessWrite};
use plonky2::plonk::circuit_builder::CircuitBuilder;
use plonky2::plonk::circuit_data::CircuitData;
use plonky2::plonk::proof::ProofWithPublicInputsTarget;
use plonky2::plonk::prover::prove;
use plonky2::util::timing::TimingTree;
use tracing::info_span;

use crate::gadgets::checked_sum::checked_sum;
use crate::gadgets::merkle::padded_merkle_root;
use crate::node::{NodeInputs, NodeProof};
use crate::{C, D, F, Hash, Shape, config};

/// The aggregation circuit of one level of one shape.
pub struct AggregationCircuit {
    level: usize,
    data: CircuitData<F, C, D>,
    children: Vec<ProofWithPublicInputsTarget<D>>,
    /// Per child, which of the level's circuits it is a proof of; `None`
    /// where the level has only one.
    which: Vec<Option<Target>>,
    child_circuits: usize,
}

impl AggregationCircuit {
    /// Builds level `level`, whose children are proofs of `child`.
    pub fn build(shape: &Shape, level: usize, child: &CircuitData<F, C, D>) -> Self {
        // A dense node's arity is a power of two: no slot is left to pad.
        Self::build_over(shape.assets(), shape.arity(), Hash::ZERO, level, &[child]).expect("one child circuit")
    }

    /// Builds level `level` of `arity` children over `assets` assets, whose
    /// children are proofs of any of `circuits`; they must share their
    /// common data (rows, gates, public inputs). The hash slots past the
    /// children, up to a power of two, hold `padding`.
    pub fn build_over(
        assets: usize,
        arity: usize,
        padding: Hash,
        level: usize,
        circuits: &[&CircuitData<F, C, D>],
    ) -> Result<Self> {
        ensure!(arity > 0, "aggregation level {level} needs at least one child");
        let (first, others) = circuits.split_first().context("an aggregation level needs a child circuit")?;
        ensure!(
            others.iter().all(|other| other.common == first.common),
            "the child circuits of aggregation level {level} differ in rows, gates or public inputs"
        );
        let _span = info_span!("build_aggregation_circuit", level, child_circuits = circuits.len()).entered();
        let common = &first.common;
        let mut builder = CircuitBuilder::<F, D>::new(config::recursion());
        let verifiers: Vec<_> =
            circuits.iter().map(|circuit| builder.constant_verifier_data(&circuit.verifier_only)).collect();

        let mut which = Vec::with_capacity(arity);
        let children: Vec<_> = (0..arity)
            .map(|_| {
                let proof = builder.add_virtual_proof_with_pis(common);
                let verifier = if verifiers.len() == 1 {
                    which.push(None);
                    verifiers[0].clone()
                } else {
                    let index = builder.add_virtual_target();
                    which.push(Some(index));
                    builder.random_access_verifier_data(index, verifiers.clone())
                };
                builder.verify_proof::<C>(&proof, &verifier, common);
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
        let roots = inputs.iter().map(NodeInputs::root_target).collect();
        let root = padded_merkle_root(&mut builder, roots, padding);

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
        Ok(AggregationCircuit { level, data, children, which, child_circuits: circuits.len() })
    }

    /// Proves one node from exactly `K` child proofs, left to right, of a
    /// level with one child circuit.
    pub fn prove(&self, children: &[&NodeProof]) -> Result<NodeProof> {
        let indexed: Vec<(usize, &NodeProof)> = children.iter().map(|&proof| (0, proof)).collect();
        self.prove_indexed(&indexed)
    }

    /// Proves one node from exactly `K` child proofs, left to right, each
    /// with the index of the child circuit (as given to
    /// [`Self::build_over`]) it is a proof of.
    pub fn prove_indexed(&self, children: &[(usize, &NodeProof)]) -> Result<NodeProof> {
        let witness = self.inputs(children)?;
        self.data.prove(witness).with_context(|| format!("proving an aggregation node of level {}", self.level))
    }

    /// Proves one node like [`Self::prove_indexed`], recording how long each
    /// of plonky2's proving steps took in `timing`.
    pub fn prove_timed(&self, children: &[(usize, &NodeProof)], timing: &mut TimingTree) -> Result<NodeProof> {
        let witness = self.inputs(children)?;
        prove::<F, C, D>(&self.data.prover_only, &self.data.common, witness, timing)
            .with_context(|| format!("proving an aggregation node of level {}", self.level))
    }

    /// The partial witness of one node.
    fn inputs(&self, children: &[(usize, &NodeProof)]) -> Result<PartialWitness<F>> {
        ensure!(
            children.len() == self.children.len(),
            "aggregation level {} takes {} children, got {}",
            self.level,
            self.children.len(),
            children.len()
        );
        let mut witness = PartialWitness::new();
        for ((target, which), &(circuit, proof)) in self.children.iter().zip(&self.which).zip(children) {
            ensure!(
                circuit < self.child_circuits,
                "child circuit {circuit} of aggregation level {}, which has {}",
                self.level,
                self.child_circuits
            );
            if let Some(which) = which {
                witness.set_target(*which, F::from_canonical_usize(circuit))?;
            }
            witness.set_proof_with_pis_target(target, proof)?;
        }
        Ok(witness)
    }

    /// The circuit data: what the level above verifies against.
    pub fn data(&self) -> &CircuitData<F, C, D> {
        &self.data
    }
}
