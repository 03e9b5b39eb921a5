//! The final circuit: verifies a statement proof and binds it to a sequence
//! number and a submitter address.
//!
//! Public inputs: `root[4] ‖ digest[4] ‖ sequence ‖ submitter[5]` (see
//! [`FinalInputs`]). It is proven with plonky2's Keccak configuration and the
//! FRI parameters of [`config::final_wrap`], so its proof is small and an EVM
//! contract can check it. Since the submitter is a public input, a proof made
//! for one address does not verify for another: copying someone else's proof
//! gains nothing.

use anyhow::{Context, Result, bail, ensure};
use plonky2::field::types::{Field, Field64, PrimeField64};
use plonky2::hash::hash_types::HashOut;
use plonky2::iop::target::Target;
use plonky2::iop::witness::{PartialWitness, WitnessWrite};
use plonky2::plonk::circuit_builder::CircuitBuilder;
use plonky2::plonk::circuit_data::{CircuitData, VerifierCircuitData};
use plonky2::plonk::proof::{ProofWithPublicInputs, ProofWithPublicInputsTarget};
use plonky2::util::serialization::{Buffer, IoResult, Read, Write};
use tracing::info_span;

use crate::encoding::{ADDRESS_LIMBS, Address, HashHex};
use crate::statement::{STATEMENT_INPUTS, StatementProof};
use crate::stored::{self, StoredCircuit};
use crate::{C, D, F, FinalConfig, Hash, config};

/// The final proof, as submitted on chain.
pub type FinalProof = ProofWithPublicInputs<F, FinalConfig, D>;

/// What a final proof claims, in the order of its public inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FinalInputs {
    /// Root of the account tree.
    pub root: Hash,
    /// Statement digest.
    pub digest: Hash,
    /// The sequence number the proof is for.
    pub sequence: u64,
    /// The address allowed to submit it.
    pub submitter: Address,
}

/// Number of public inputs of a final proof.
pub const FINAL_INPUTS: usize = STATEMENT_INPUTS + 1 + ADDRESS_LIMBS;

impl FinalInputs {
    /// The public inputs as field elements.
    pub fn to_fields(&self) -> Result<Vec<F>> {
        ensure!(self.sequence < F::ORDER, "sequence number {} is not below the field modulus", self.sequence);
        let mut out = self.root.elements.to_vec();
        out.extend(self.digest.elements);
        out.push(F::from_canonical_u64(self.sequence));
        out.extend(self.submitter.to_limbs());
        Ok(out)
    }

    /// Reads the public inputs of a final proof.
    pub fn from_fields(inputs: &[F]) -> Result<Self> {
        ensure!(inputs.len() == FINAL_INPUTS, "a final proof has {FINAL_INPUTS} public inputs, found {}", inputs.len());
        let hash = |at: usize| HashOut { elements: inputs[at..at + 4].try_into().expect("4 elements") };
        let mut submitter = [0u8; 20];
        for (chunk, limb) in submitter.chunks_exact_mut(4).zip(&inputs[9..]) {
            let Ok(word) = u32::try_from(limb.to_canonical_u64()) else {
                bail!("submitter limb {limb} is not a 32-bit word");
            };
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        Ok(FinalInputs {
            root: hash(0),
            digest: hash(4),
            sequence: inputs[8].to_canonical_u64(),
            submitter: Address(submitter),
        })
    }
}

impl std::fmt::Display for FinalInputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "root {}, digest {}, sequence {}, submitter {}",
            HashHex(self.root),
            HashHex(self.digest),
            self.sequence,
            self.submitter
        )
    }
}

/// The final circuit of one family.
pub struct FinalCircuit {
    data: CircuitData<F, FinalConfig, D>,
    statement: ProofWithPublicInputsTarget<D>,
    sequence: Target,
    submitter: [Target; ADDRESS_LIMBS],
}

impl StoredCircuit for FinalCircuit {
    fn write_to(&self, out: &mut Vec<u8>) -> IoResult<()> {
        stored::write_data(out, &self.data)?;
        out.write_target_proof_with_public_inputs(&self.statement)?;
        out.write_target(self.sequence)?;
        out.write_target_array(&self.submitter)
    }

    fn read_from(src: &mut Buffer<'_>) -> IoResult<Self> {
        Ok(FinalCircuit {
            data: stored::read_data(src)?,
            statement: src.read_target_proof_with_public_inputs()?,
            sequence: src.read_target()?,
            submitter: src.read_target_array()?,
        })
    }

    fn digest(&self) -> String {
        stored::digest_of(&self.data.verifier_only)
    }
}

impl FinalCircuit {
    /// Builds the circuit verifying proofs of `statement`.
    pub fn build(statement: &CircuitData<F, C, D>) -> Self {
        let _span = info_span!("build_final_circuit").entered();
        let mut builder = CircuitBuilder::<F, D>::new(config::final_wrap());
        let verifier = builder.constant_verifier_data(&statement.verifier_only);
        let statement_proof = builder.add_virtual_proof_with_pis(&statement.common);
        builder.verify_proof::<C>(&statement_proof, &verifier, &statement.common);
        let sequence = builder.add_virtual_target();
        let submitter = std::array::from_fn(|_| builder.add_virtual_target());

        builder.register_public_inputs(&statement_proof.public_inputs);
        builder.register_public_input(sequence);
        builder.register_public_inputs(&submitter);
        tracing::debug!(gates = builder.num_gates(), "final circuit laid out");
        let data = builder.build::<FinalConfig>();
        FinalCircuit { data, statement: statement_proof, sequence, submitter }
    }

    /// Wraps a statement proof for `sequence` and `submitter`.
    pub fn prove(&self, statement: &StatementProof, sequence: u64, submitter: Address) -> Result<FinalProof> {
        ensure!(sequence < F::ORDER, "sequence number {sequence} is not below the field modulus");
        let mut witness = PartialWitness::new();
        witness.set_proof_with_pis_target(&self.statement, statement)?;
        witness.set_target(self.sequence, F::from_canonical_u64(sequence))?;
        witness.set_target_arr(&self.submitter, &submitter.to_limbs())?;
        self.data.prove(witness).context("proving the final wrap")
    }

    /// Checks that `proof` is valid and claims exactly `expected`.
    pub fn verify(&self, proof: &FinalProof, expected: &FinalInputs) -> Result<()> {
        let claimed = FinalInputs::from_fields(&proof.public_inputs)?;
        ensure!(claimed == *expected, "the proof is for {claimed}, expected {expected}");
        self.data.verify(proof.clone()).context("the final proof does not verify")
    }

    /// Parses a serialized final proof.
    pub fn proof_from_bytes(&self, bytes: Vec<u8>) -> Result<FinalProof> {
        FinalProof::from_bytes(bytes, &self.data.common).context("the final proof is malformed")
    }

    /// The verifier data: what the on-chain verifier is generated from.
    pub fn verifier_data(&self) -> VerifierCircuitData<F, FinalConfig, D> {
        self.data.verifier_data()
    }

    /// The circuit data.
    pub fn data(&self) -> &CircuitData<F, FinalConfig, D> {
        &self.data
    }
}
