//! Merkle roots inside a circuit, hashed like [`crate::merkle::node_hash`].

use plonky2::hash::hash_types::HashOutTarget;
use plonky2::hash::poseidon::PoseidonHash;
use plonky2::plonk::circuit_builder::CircuitBuilder;

use crate::{D, F};

/// `Poseidon(left ‖ right)`.
pub fn node_hash(builder: &mut CircuitBuilder<F, D>, left: HashOutTarget, right: HashOutTarget) -> HashOutTarget {
    let inputs = left.elements.iter().chain(&right.elements).copied().collect();
    builder.hash_n_to_hash_no_pad::<PoseidonHash>(inputs)
}

/// Root of a complete binary tree over `nodes` (a power of two of them).
pub fn merkle_root(builder: &mut CircuitBuilder<F, D>, mut nodes: Vec<HashOutTarget>) -> HashOutTarget {
    assert!(nodes.len().is_power_of_two(), "{} nodes", nodes.len());
    while nodes.len() > 1 {
        nodes = nodes.chunks(2).map(|pair| node_hash(builder, pair[0], pair[1])).collect();
    }
    nodes[0]
}
