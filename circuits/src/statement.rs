//! The statement posted on chain and its digest, natively and in circuit.
//!
//! `statement = (root, account_count, prices[A], equity_total[A], debt_total[A])`
//! and `digest = Poseidon(root[4] ‖ account_count ‖ prices ‖ equity ‖ debt)`
//! (plonky2's `hash_no_pad`). The statement circuit verifies the top
//! aggregation proof, checks the prices against its prices commitment and
//! exposes `root ‖ digest`.

use anyhow::{Context, Result, ensure};
use plonky2::field::types::Field;
use plonky2::hash::hash_types::HashOut;
use plonky2::hash::poseidon::PoseidonHash;
use plonky2::iop::target::Target;
use plonky2::iop::witness::{PartialWitness, WitnessWrite};
use plonky2::plonk::circuit_builder::CircuitBuilder;
use plonky2::plonk::circuit_data::CircuitData;
use plonky2::plonk::config::Hasher;
use plonky2::plonk::proof::{ProofWithPublicInputs, ProofWithPublicInputsTarget};
use tracing::info_span;

use crate::account::to_fields;
use crate::node::{NodeInputs, NodeProof};
use crate::{C, D, F, Hash, config};

/// The claim an exchange makes about one snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// Root of the account tree.
    pub root: Hash,
    /// Real accounts in the tree.
    pub account_count: u64,
    /// Unit price per asset slot (USD per smallest unit, times 10^scale).
    pub prices: Vec<u64>,
    /// Equity total per asset slot, in smallest units.
    pub equity: Vec<u64>,
    /// Debt total per asset slot, in smallest units.
    pub debt: Vec<u64>,
}

impl Statement {
    /// The statement's field elements, in digest order.
    pub fn fields(&self) -> Vec<F> {
        let mut out = self.root.elements.to_vec();
        out.push(F::from_canonical_u64(self.account_count));
        out.extend(to_fields(&self.prices));
        out.extend(to_fields(&self.equity));
        out.extend(to_fields(&self.debt));
        out
    }

    /// `Poseidon(fields)`.
    pub fn digest(&self) -> Hash {
        PoseidonHash::hash_no_pad(&self.fields())
    }
}

/// `Poseidon(prices)`, the commitment every node proof carries.
pub fn prices_commitment(prices: &[u64]) -> Hash {
    PoseidonHash::hash_no_pad(&to_fields(prices))
}

/// A statement proof: public inputs `root[4] ‖ digest[4]`.
pub type StatementProof = ProofWithPublicInputs<F, C, D>;

/// Number of public inputs of a statement proof.
pub const STATEMENT_INPUTS: usize = 8;

/// The statement circuit of one shape.
pub struct StatementCircuit {
    assets: usize,
    data: CircuitData<F, C, D>,
    top: ProofWithPublicInputsTarget<D>,
    prices: Vec<Target>,
}

impl StatementCircuit {
    /// Builds the circuit verifying proofs of `top`, the last aggregation
    /// level, over `assets` assets.
    pub fn build(assets: usize, top: &CircuitData<F, C, D>) -> Self {
        let _span = info_span!("build_statement_circuit", assets).entered();
        let mut builder = CircuitBuilder::<F, D>::new(config::statement());
        let top_verifier = builder.constant_verifier_data(&top.verifier_only);
        let top_proof = builder.add_virtual_proof_with_pis(&top.common);
        builder.verify_proof::<C>(&top_proof, &top_verifier, &top.common);
        let node = NodeInputs::from_slice(&top_proof.public_inputs, assets);

        let prices = builder.add_virtual_targets(assets);
        let commitment = builder.hash_n_to_hash_no_pad::<PoseidonHash>(prices.clone());
        builder.connect_hashes(commitment, node.prices_commitment_target());

        let mut fields = node.root.to_vec();
        fields.push(node.account_count);
        fields.extend(&prices);
        fields.extend(&node.equity);
        fields.extend(&node.debt);
        let digest = builder.hash_n_to_hash_no_pad::<PoseidonHash>(fields);

        builder.register_public_inputs(&node.root);
        builder.register_public_inputs(&digest.elements);
        tracing::debug!(gates = builder.num_gates(), "statement circuit laid out");
        let data = builder.build::<C>();
        StatementCircuit { assets, data, top: top_proof, prices }
    }

    /// Proves the statement of a top aggregation proof at `prices`.
    pub fn prove(&self, top: &NodeProof, prices: &[u64]) -> Result<StatementProof> {
        ensure!(prices.len() == self.assets, "{} prices for {} asset slots", prices.len(), self.assets);
        let mut witness = PartialWitness::new();
        witness.set_proof_with_pis_target(&self.top, top)?;
        witness.set_target_arr(&self.prices, &to_fields(prices))?;
        self.data.prove(witness).context("proving the statement")
    }

    /// The circuit data: what the final circuit verifies against.
    pub fn data(&self) -> &CircuitData<F, C, D> {
        &self.data
    }
}

/// Root and digest from a statement proof's public inputs.
pub fn statement_inputs(proof: &StatementProof) -> (Hash, Hash) {
    let inputs = &proof.public_inputs;
    let hash = |range: std::ops::Range<usize>| HashOut { elements: inputs[range].try_into().expect("4 elements") };
    (hash(0..4), hash(4..8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_covers_every_field() {
        let statement = Statement {
            root: Hash::default(),
            account_count: 3,
            prices: vec![10, 20],
            equity: vec![5, 6],
            debt: vec![0, 1],
        };
        assert_eq!(statement.fields().len(), 4 + 1 + 3 * 2);
        let digest = statement.digest();
        let mut other = statement.clone();
        other.debt[1] = 2;
        assert_ne!(other.digest(), digest);
        let mut other = statement.clone();
        other.account_count = 4;
        assert_ne!(other.digest(), digest);
    }
}
