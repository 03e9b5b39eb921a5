//! The statement posted on chain and its digest, natively and in circuit.
//!
//! `statement = (root, account_count, assets[A], prices[A], equity[A], debt[A])`
//! over the sequence's `A` real assets (`1 ≤ A ≤` the family's most assets),
//! `assets[i]` the asset's code ([`asset_code`]: its symbol and decimals),
//! and `digest = hash(Statement, root ‖ account_count ‖ assets ‖ prices ‖
//! equity ‖ debt)`: `5 + 4A` elements, their count in the sponge's capacity
//! ([`crate::hash`]).
//!
//! The statement circuit verifies a top node proof, whose totals and prices
//! commitment cover the family's `M` asset slots, and takes the asset count
//! `A`, the codes and the prices as witness. It checks
//!
//! - the `M` prices (zero past `A`) against the prices commitment;
//! - that every code, price and total past the `A` real assets is zero, with
//!   a prefix mask of `A` ones ([`crate::gadgets::prefix`]) whose first bit
//!   is set (so `1 ≤ A ≤ M`);
//! - the user count against the family's bound;
//!
//! and computes the digest over exactly the `5 + 4A` elements. The circuit
//! cannot place the columns at offsets that depend on `A`, so the prover
//! gives the message `m` itself (zero past its end) and the circuit checks
//! it: with `z` drawn from the digest and everything else the prover chose,
//! `Σ_j m_(5+j) z^j = C(z) + z^A P(z) + z^(2A) E(z) + z^(3A) D(z)` for the
//! column polynomials `C, P, E, D` of degree below `A`. Both sides are
//! polynomials of degree below `4M` in `z`, so a message other than the
//! columns' concatenation passes with probability below `4M / p^2`
//! (`z` is in the quadratic extension). The digest's sponge absorbs `m` in
//! blocks of eight, overwriting only the elements before the end, and the
//! digest is the state after the block where `m` ends.
//!
//! Public inputs: `root[4] ‖ digest[4]`.

use anyhow::{Context, Result, ensure};
use plonky2::field::types::Field;
use plonky2::hash::hash_types::{HashOut, HashOutTarget};
use plonky2::hash::hashing::PlonkyPermutation;
use plonky2::hash::poseidon::PoseidonHash;
use plonky2::iop::ext_target::ExtensionTarget;
use plonky2::iop::target::Target;
use plonky2::iop::witness::{PartialWitness, WitnessWrite};
use plonky2::plonk::circuit_builder::CircuitBuilder;
use plonky2::plonk::circuit_data::CircuitData;
use plonky2::plonk::proof::{ProofWithPublicInputs, ProofWithPublicInputsTarget};
use plonky2::util::serialization::{Buffer, IoResult, Read, Write};
use tracing::info_span;

use crate::gadgets::prefix::{outside, prefix_mask};
use crate::hash::{Domain, RATE, hash, hash_in_circuit, initial_state_circuit, squeeze_circuit};
use crate::identity::to_fields;
use crate::node::{NodeInputs, NodeProof};
use crate::stored::{self, StoredCircuit};
use crate::{C, D, F, Hash, config};

/// Elements of the statement before its columns: root and user count.
const HEADER: usize = 5;

/// Columns of the statement: codes, prices, equity, debt.
const COLUMNS: usize = 4;

/// The claim an exchange makes about one snapshot, over its real assets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// Root of the account tree.
    pub root: Hash,
    /// Real users in the tree.
    pub account_count: u64,
    /// Per asset, its code ([`asset_code`]).
    pub assets: Vec<F>,
    /// Unit price per asset (USD per smallest unit, times 10^scale).
    pub prices: Vec<u64>,
    /// Equity total per asset, in smallest units.
    pub equity: Vec<u64>,
    /// Debt total per asset, in smallest units.
    pub debt: Vec<u64>,
}

impl Statement {
    /// The statement's field elements, in digest order.
    pub fn fields(&self) -> Vec<F> {
        let mut out = self.root.elements.to_vec();
        out.push(F::from_canonical_u64(self.account_count));
        out.extend(&self.assets);
        out.extend(to_fields(&self.prices));
        out.extend(to_fields(&self.equity));
        out.extend(to_fields(&self.debt));
        out
    }

    /// `hash(Statement, fields)`.
    pub fn digest(&self) -> Hash {
        hash(Domain::Statement, &self.fields())
    }

    /// The real assets.
    pub fn asset_count(&self) -> usize {
        self.assets.len()
    }
}

/// An asset's code in the statement: `hash(Asset, decimals ‖ len ‖ symbol
/// bytes in 7-byte words)`, its first element.
pub fn asset_code(symbol: &str, decimals: u32) -> F {
    let bytes = symbol.as_bytes();
    let mut inputs = vec![F::from_canonical_u32(decimals), F::from_canonical_usize(bytes.len())];
    inputs.extend(bytes.chunks(7).map(|chunk| {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        F::from_canonical_u64(u64::from_le_bytes(word))
    }));
    hash(Domain::Asset, &inputs).elements[0]
}

/// `values` padded with zeros to `len`.
pub fn padded(values: &[u64], len: usize) -> Vec<u64> {
    let mut out = values.to_vec();
    out.resize(len, 0);
    out
}

/// The commitment every node proof carries to the unit prices of the
/// family's `M` asset slots (zero past the real assets):
/// `hash(Prices, prices)`.
pub fn prices_commitment(prices: &[u64]) -> Hash {
    hash(Domain::Prices, &to_fields(prices))
}

/// What a statement proof is made from besides the top proof, over the
/// family's asset slots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementWitness {
    /// The real assets.
    pub asset_count: usize,
    /// Per slot, the asset's code (zero past the real assets).
    pub codes: Vec<F>,
    /// Per slot, the unit price (zero past the real assets).
    pub prices: Vec<u64>,
    /// The digest's message past root and user count, zero past its end.
    pub message: Vec<F>,
}

/// A statement proof: public inputs `root[4] ‖ digest[4]`.
pub type StatementProof = ProofWithPublicInputs<F, C, D>;

/// Number of public inputs of a statement proof.
pub const STATEMENT_INPUTS: usize = 8;

/// The statement circuit of a family.
pub struct StatementCircuit {
    assets: usize,
    data: CircuitData<F, C, D>,
    top: ProofWithPublicInputsTarget<D>,
    asset_count: Target,
    codes: Vec<Target>,
    prices: Vec<Target>,
    /// The message past its header.
    message: Vec<Target>,
}

impl StoredCircuit for StatementCircuit {
    fn write_to(&self, out: &mut Vec<u8>) -> IoResult<()> {
        out.write_usize(self.assets)?;
        stored::write_data(out, &self.data)?;
        out.write_target_proof_with_public_inputs(&self.top)?;
        out.write_target(self.asset_count)?;
        out.write_target_vec(&self.codes)?;
        out.write_target_vec(&self.prices)?;
        out.write_target_vec(&self.message)
    }

    fn read_from(src: &mut Buffer<'_>) -> IoResult<Self> {
        Ok(StatementCircuit {
            assets: src.read_usize()?,
            data: stored::read_data(src)?,
            top: src.read_target_proof_with_public_inputs()?,
            asset_count: src.read_target()?,
            codes: src.read_target_vec()?,
            prices: src.read_target_vec()?,
            message: src.read_target_vec()?,
        })
    }

    fn digest(&self) -> String {
        stored::digest_of(&self.data.verifier_only)
    }
}

impl StatementCircuit {
    /// Builds the circuit verifying proofs of `top` over `assets` asset
    /// slots, for trees of fewer than `2^user_bits` users.
    pub fn build(assets: usize, user_bits: usize, top: &CircuitData<F, C, D>) -> Self {
        let _span = info_span!("build_statement_circuit", assets).entered();
        let mut builder = CircuitBuilder::<F, D>::new(config::statement());
        let top_verifier = builder.constant_verifier_data(&top.verifier_only);
        let top_proof = builder.add_virtual_proof_with_pis(&top.common);
        builder.verify_proof::<C>(&top_proof, &top_verifier, &top.common);
        let node = NodeInputs::from_slice(&top_proof.public_inputs, assets);
        builder.range_check(node.account_count, user_bits);

        let asset_count = builder.add_virtual_target();
        let codes = builder.add_virtual_targets(assets);
        let prices = builder.add_virtual_targets(assets);
        let commitment = hash_in_circuit(&mut builder, Domain::Prices, &prices);
        builder.connect_hashes(commitment, node.prices_commitment_target());

        let real = prefix_mask(&mut builder, asset_count, assets);
        builder.assert_one(real[0].target);
        for (index, &bit) in real.iter().enumerate() {
            for column in [&codes, &prices, &node.equity, &node.debt] {
                let past = outside(&mut builder, bit, column[index]);
                builder.assert_zero(past);
            }
        }

        let message = builder.add_virtual_targets(COLUMNS * assets);
        let header: Vec<Target> = node.root.iter().copied().chain([node.account_count]).collect();
        let header_length = builder.constant(F::from_canonical_usize(HEADER));
        let length = builder.mul_const_add(F::from_canonical_usize(COLUMNS), asset_count, header_length);
        let digest = variable_length_digest(&mut builder, &header, &message, length);

        let columns = [&codes, &prices, &node.equity, &node.debt];
        check_message(&mut builder, digest, &commitment, &columns, &message, asset_count);

        builder.register_public_inputs(&node.root);
        builder.register_public_inputs(&digest.elements);
        tracing::debug!(gates = builder.num_gates(), "statement circuit laid out");
        let data = builder.build::<C>();
        StatementCircuit { assets, data, top: top_proof, asset_count, codes, prices, message }
    }

    /// Proves `statement` (over its real assets) from a top node proof.
    pub fn prove(&self, top: &NodeProof, statement: &Statement) -> Result<StatementProof> {
        self.prove_witness(top, &self.witness_of(statement)?)
    }

    /// The honest witness of `statement`.
    pub fn witness_of(&self, statement: &Statement) -> Result<StatementWitness> {
        let real = statement.asset_count();
        ensure!(
            (1..=self.assets).contains(&real),
            "a statement of {real} assets, where the family holds 1 to {}",
            self.assets
        );
        ensure!(
            statement.prices.len() == real && statement.equity.len() == real && statement.debt.len() == real,
            "a statement whose columns are not all of its {real} assets"
        );
        let mut codes = statement.assets.clone();
        codes.resize(self.assets, F::ZERO);
        let mut message = statement.fields()[HEADER..].to_vec();
        message.resize(COLUMNS * self.assets, F::ZERO);
        Ok(StatementWitness { asset_count: real, codes, prices: padded(&statement.prices, self.assets), message })
    }

    /// Proves a statement from a top node proof and a witness, honest or
    /// not: what the circuit refuses is tested with it.
    pub fn prove_witness(&self, top: &NodeProof, statement: &StatementWitness) -> Result<StatementProof> {
        let mut witness = PartialWitness::new();
        witness.set_proof_with_pis_target(&self.top, top)?;
        witness.set_target(self.asset_count, F::from_canonical_usize(statement.asset_count))?;
        witness.set_target_arr(&self.codes, &statement.codes)?;
        witness.set_target_arr(&self.prices, &to_fields(&statement.prices))?;
        witness.set_target_arr(&self.message, &statement.message)?;
        self.data.prove(witness).context("proving the statement")
    }

    /// The circuit data: what the final circuit verifies against.
    pub fn data(&self) -> &CircuitData<F, C, D> {
        &self.data
    }
}

/// `hash(Statement, header ‖ message[..length − 5])` for a `length` known
/// only to the prover, `message` zero past it: the sponge's blocks overwrite
/// only the elements before `length`, and the digest is the state after the
/// last block that starts before it.
fn variable_length_digest(
    builder: &mut CircuitBuilder<F, D>,
    header: &[Target],
    message: &[Target],
    length: Target,
) -> HashOutTarget {
    let all: Vec<Target> = header.iter().chain(message).copied().collect();
    let within = prefix_mask(builder, length, all.len());
    for (&bit, &element) in within.iter().zip(&all).skip(header.len()) {
        let past = outside(builder, bit, element);
        builder.assert_zero(past);
    }
    let mut state = initial_state_circuit(builder, Domain::Statement, length);
    let mut digest = [builder.zero(); 4];
    let blocks = all.len().div_ceil(RATE);
    for block in 0..blocks {
        for offset in 0..RATE {
            let Some(&element) = all.get(block * RATE + offset) else { break };
            let bit = within[block * RATE + offset];
            let kept = state.as_ref()[offset];
            state.set_elt(builder.select(bit, element, kept), offset);
        }
        state = builder.permute::<PoseidonHash>(state);
        // The block is the last one when it starts before the end and the
        // next one does not.
        let starts = within[block * RATE].target;
        let next = within.get((block + 1) * RATE).map(|bit| bit.target);
        let last = match next {
            Some(next) => builder.sub(starts, next),
            None => starts,
        };
        let out = squeeze_circuit(&state);
        for (acc, &element) in digest.iter_mut().zip(&out.elements) {
            *acc = builder.mul_add(last, element, *acc);
        }
    }
    HashOutTarget { elements: digest }
}

/// Checks that `message` is the concatenation of the `A = asset_count`
/// first entries of each of `columns`, at a point `z` of the quadratic
/// extension drawn from everything the prover chose (see the module docs).
fn check_message(
    builder: &mut CircuitBuilder<F, D>,
    digest: HashOutTarget,
    prices: &HashOutTarget,
    columns: &[&Vec<Target>; COLUMNS],
    message: &[Target],
    asset_count: Target,
) {
    let mut transcript: Vec<Target> = digest.elements.iter().chain(&prices.elements).copied().collect();
    transcript.push(asset_count);
    for column in [columns[0], columns[2], columns[3]] {
        transcript.extend(column.iter().copied());
    }
    let seed = hash_in_circuit(builder, Domain::Challenge, &transcript);
    let z = ExtensionTarget([seed.elements[0], seed.elements[1]]);

    let evaluate = |builder: &mut CircuitBuilder<F, D>, values: &[Target]| {
        values.iter().rev().fold(builder.zero_extension(), |acc, &value| {
            let value = builder.convert_to_ext(value);
            builder.mul_add_extension(acc, z, value)
        })
    };
    let sent = evaluate(builder, message);

    // z^A by square-and-multiply over the bits of A (A < 2^11).
    let bits = builder.split_le(asset_count, 11);
    let mut power = builder.one_extension();
    for bit in bits.iter().rev() {
        power = builder.square_extension(power);
        let times = builder.mul_extension(power, z);
        power = builder.select_ext(*bit, times, power);
    }
    let mut expected = builder.zero_extension();
    for column in columns.iter().rev() {
        let value = evaluate(builder, column);
        expected = builder.mul_add_extension(expected, power, value);
    }
    builder.connect_extension(sent, expected);
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

    fn statement() -> Statement {
        Statement {
            root: Hash::default(),
            account_count: 3,
            assets: vec![asset_code("BTC", 8), asset_code("USDT", 6)],
            prices: vec![10, 20],
            equity: vec![5, 6],
            debt: vec![0, 1],
        }
    }

    #[test]
    fn the_digest_covers_every_field_and_the_asset_count() {
        let statement = statement();
        assert_eq!(statement.fields().len(), 4 + 1 + 4 * 2);
        let digest = statement.digest();
        let mut other = statement.clone();
        other.debt[1] = 2;
        assert_ne!(other.digest(), digest);
        let mut other = statement.clone();
        other.account_count = 4;
        assert_ne!(other.digest(), digest);
        let mut other = statement.clone();
        other.assets[0] = asset_code("BTC", 6);
        assert_ne!(other.digest(), digest, "the decimals are part of the code");
        // One more asset of all zeros is another statement.
        let mut wider = statement.clone();
        wider.assets.push(F::ZERO);
        for column in [&mut wider.prices, &mut wider.equity, &mut wider.debt] {
            column.push(0);
        }
        assert_ne!(wider.digest(), digest);
    }

    #[test]
    fn asset_codes_tell_symbols_and_decimals_apart() {
        assert_ne!(asset_code("BTC", 8), asset_code("BTC", 6));
        assert_ne!(asset_code("BTC", 8), asset_code("BTC\0", 8));
        assert_ne!(asset_code("1000SATS", 0), asset_code("1000SAT", 0));
    }
}
