//! Merkle roots inside a circuit, hashed like [`crate::hash::node_hash`].

use plonky2::hash::hash_types::HashOutTarget;
use plonky2::plonk::circuit_builder::CircuitBuilder;

use crate::hash::{node_hash, node_hash_circuit};
use crate::{D, F, Hash};

/// Root of a complete binary tree over `nodes` followed by copies of the
/// constant `padding`, up to the next power of two. Subtrees of padding
/// alone are hashed natively, so they cost no gates: each level hashes at
/// most one pair of a node and a padding constant.
pub fn padded_merkle_root(
    builder: &mut CircuitBuilder<F, D>,
    mut nodes: Vec<HashOutTarget>,
    mut padding: Hash,
) -> HashOutTarget {
    assert!(!nodes.is_empty(), "a Merkle tree needs a node");
    let mut width = nodes.len().next_power_of_two();
    while width > 1 {
        if nodes.len() % 2 == 1 {
            nodes.push(builder.constant_hash(padding));
        }
        nodes = nodes.chunks(2).map(|pair| node_hash_circuit(builder, pair[0], pair[1])).collect();
        padding = node_hash(padding, padding);
        width /= 2;
    }
    nodes[0]
}

#[cfg(test)]
mod tests {
    use plonky2::field::types::Field;
    use plonky2::iop::witness::{PartialWitness, WitnessWrite};
    use plonky2::plonk::circuit_data::CircuitConfig;

    use super::*;
    use crate::C;
    use crate::merkle::padded_root;

    fn hash(seed: u64) -> Hash {
        Hash { elements: [F::from_canonical_u64(seed), F::ONE, F::TWO, F::ZERO] }
    }

    /// The padded root of `count` nodes, in the circuit and natively, and
    /// the gates it took.
    fn roots(count: usize) -> (Hash, Hash, usize) {
        let padding = hash(1000);
        let values: Vec<Hash> = (0..count as u64).map(hash).collect();
        let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
        let targets: Vec<HashOutTarget> = values.iter().map(|_| builder.add_virtual_hash()).collect();
        let before = builder.num_gates();
        let root = padded_merkle_root(&mut builder, targets.clone(), padding);
        let gates = builder.num_gates() - before;
        builder.register_public_inputs(&root.elements);
        let data = builder.build::<C>();
        let mut witness = PartialWitness::new();
        for (&target, &value) in targets.iter().zip(&values) {
            witness.set_hash_target(target, value).unwrap();
        }
        let proof = data.prove(witness).unwrap();
        let proven = Hash { elements: proof.public_inputs[..4].try_into().unwrap() };
        (proven, padded_root(values, padding), gates)
    }

    #[test]
    fn padded_root_matches_the_native_tree_and_skips_padding_subtrees() {
        for count in [1, 2, 3, 5, 8, 11] {
            let (proven, native, gates) = roots(count);
            assert_eq!(proven, native, "{count} nodes");
            let depth = count.next_power_of_two().trailing_zeros() as usize;
            assert!(gates <= count - 1 + depth, "{count} nodes took {gates} hash gates");
        }
    }
}
