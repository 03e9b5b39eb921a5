//! Poseidon in separate domains, natively and in circuit.
//!
//! Every hash of zkpor is plonky2's Poseidon sponge over Goldilocks (width
//! 12, rate 8, overwrite mode) whose capacity starts as
//! `[domain, input length, 0, 0]` instead of zeros:
//!
//! - the **domain** tag ([`Domain`]) keeps the hashes of different kinds of
//!   things apart: a user's leaf can never equal an inner node, an empty
//!   subtree or a statement digest, since finding one would be finding two
//!   inputs of one permutation that differ in the capacity;
//! - the **length** keeps inputs of one domain but different lengths apart
//!   (an unpadded sponge would otherwise give `x` and `x ‖ 0` the same hash),
//!   so leaves of tiers of different slot counts never collide either.
//!
//! Inputs are absorbed eight at a time, the last chunk overwriting only its
//! own elements; an empty input is one permutation of the initial state. The
//! hash is the first four elements of the state after the last permutation.
//! [`hash_in_circuit`] lays out exactly the same permutations.

use plonky2::field::types::Field;
use plonky2::hash::hash_types::{HashOut, HashOutTarget};
use plonky2::hash::hashing::PlonkyPermutation;
use plonky2::hash::poseidon::{PoseidonHash, PoseidonPermutation};
use plonky2::iop::target::Target;
use plonky2::plonk::circuit_builder::CircuitBuilder;

use crate::{D, F, Hash};

/// Elements absorbed per permutation.
pub const RATE: usize = 8;
/// Elements of the permutation's state.
pub const WIDTH: usize = 12;

/// What a hash is of. Each kind has its own tag in the sponge's capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Domain {
    /// A user's hidden id: `nonce ‖ len(id) ‖ id bytes`.
    Identity,
    /// A user's leaf: `id_hash ‖ (asset, balance)…`.
    Leaf,
    /// An inner node of the account tree: `left ‖ right`.
    Node,
    /// The root of a slot no subtree fills (no input).
    Empty,
    /// The commitment to a sequence's unit prices.
    Prices,
    /// The statement digest posted on chain.
    Statement,
    /// An asset's code in the statement: its symbol and decimals.
    Asset,
    /// The challenges of the statement circuit's message check.
    Challenge,
}

impl Domain {
    /// The tag this domain puts in the capacity.
    pub fn tag(self) -> u64 {
        match self {
            Domain::Identity => 1,
            Domain::Leaf => 2,
            Domain::Node => 3,
            Domain::Empty => 4,
            Domain::Prices => 5,
            Domain::Statement => 6,
            Domain::Asset => 7,
            Domain::Challenge => 8,
        }
    }
}

/// The sponge's initial state for `length` inputs of `domain`.
fn initial_state(domain: Domain, length: F) -> PoseidonPermutation<F> {
    let mut state = PoseidonPermutation::new(std::iter::repeat(F::ZERO));
    state.set_elt(F::from_canonical_u64(domain.tag()), RATE);
    state.set_elt(length, RATE + 1);
    state
}

/// The hash of `inputs` in `domain`.
pub fn hash(domain: Domain, inputs: &[F]) -> Hash {
    let mut state = initial_state(domain, F::from_canonical_usize(inputs.len()));
    if inputs.is_empty() {
        state.permute();
    }
    for chunk in inputs.chunks(RATE) {
        state.set_from_slice(chunk, 0);
        state.permute();
    }
    HashOut { elements: state.squeeze()[..4].try_into().expect("four elements") }
}

/// `hash(Node, left ‖ right)`: one permutation.
pub fn node_hash(left: Hash, right: Hash) -> Hash {
    let mut inputs = [F::ZERO; 8];
    inputs[..4].copy_from_slice(&left.elements);
    inputs[4..].copy_from_slice(&right.elements);
    hash(Domain::Node, &inputs)
}

/// The root of a slot that no subtree fills: `hash(Empty, ())`.
pub fn empty_root() -> Hash {
    hash(Domain::Empty, &[])
}

/// The circuit's initial state for `length` inputs of `domain`.
pub fn initial_state_circuit(
    builder: &mut CircuitBuilder<F, D>,
    domain: Domain,
    length: Target,
) -> PoseidonPermutation<Target> {
    let zero = builder.zero();
    let mut state = PoseidonPermutation::new(std::iter::repeat(zero));
    state.set_elt(builder.constant(F::from_canonical_u64(domain.tag())), RATE);
    state.set_elt(length, RATE + 1);
    state
}

/// The first four elements of a state: the hash.
pub fn squeeze_circuit(state: &PoseidonPermutation<Target>) -> HashOutTarget {
    HashOutTarget { elements: state.squeeze()[..4].try_into().expect("four elements") }
}

/// [`hash`] in circuit, over inputs of a length fixed when the circuit is
/// built.
pub fn hash_in_circuit(builder: &mut CircuitBuilder<F, D>, domain: Domain, inputs: &[Target]) -> HashOutTarget {
    let length = builder.constant(F::from_canonical_usize(inputs.len()));
    let mut state = initial_state_circuit(builder, domain, length);
    if inputs.is_empty() {
        state = builder.permute::<PoseidonHash>(state);
    }
    for chunk in inputs.chunks(RATE) {
        state.set_from_slice(chunk, 0);
        state = builder.permute::<PoseidonHash>(state);
    }
    squeeze_circuit(&state)
}

/// [`node_hash`] in circuit.
pub fn node_hash_circuit(
    builder: &mut CircuitBuilder<F, D>,
    left: HashOutTarget,
    right: HashOutTarget,
) -> HashOutTarget {
    let inputs: Vec<Target> = left.elements.iter().chain(&right.elements).copied().collect();
    hash_in_circuit(builder, Domain::Node, &inputs)
}

#[cfg(test)]
mod tests {
    use plonky2::iop::witness::{PartialWitness, WitnessWrite};
    use plonky2::plonk::circuit_data::CircuitConfig;
    use plonky2::plonk::config::Hasher;

    use super::*;
    use crate::C;

    fn elements(count: u64) -> Vec<F> {
        (1..=count).map(F::from_canonical_u64).collect()
    }

    #[test]
    fn domains_and_lengths_separate_hashes() {
        let inputs = elements(8);
        let node = hash(Domain::Node, &inputs);
        assert_ne!(node, hash(Domain::Leaf, &inputs), "same input, another domain");
        assert_ne!(node, PoseidonHash::hash_no_pad(&inputs), "not plonky2's zero-capacity sponge");
        let mut longer = inputs.clone();
        longer.push(F::ZERO);
        assert_ne!(hash(Domain::Leaf, &inputs), hash(Domain::Leaf, &longer), "a trailing zero is another input");
        assert_ne!(empty_root(), hash(Domain::Node, &[]));
        let (left, right) = (hash(Domain::Leaf, &inputs[..4]), hash(Domain::Leaf, &inputs[4..]));
        let mut pair = left.elements.to_vec();
        pair.extend(right.elements);
        assert_eq!(node_hash(left, right), hash(Domain::Node, &pair));
    }

    #[test]
    fn the_circuit_hashes_as_the_native_code_does() {
        for count in [0, 1, 7, 8, 9, 20] {
            let inputs = elements(count);
            let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
            let targets = builder.add_virtual_targets(inputs.len());
            let out = hash_in_circuit(&mut builder, Domain::Statement, &targets);
            builder.register_public_inputs(&out.elements);
            let data = builder.build::<C>();
            let mut witness = PartialWitness::new();
            witness.set_target_arr(&targets, &inputs).unwrap();
            let proof = data.prove(witness).unwrap();
            assert_eq!(proof.public_inputs, hash(Domain::Statement, &inputs).elements.to_vec(), "{count} inputs");
        }
    }
}
