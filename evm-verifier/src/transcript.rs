//! The Keccak challenger's state after a circuit's constant prefix.
//!
//! plonky2's transcript starts by observing the FRI parameters and the
//! circuit digest; both are constants of the circuit, so the generated
//! contract starts from the sponge state they leave instead of hashing them
//! on every call.

use plonky2::field::types::{Field, PrimeField64};
use plonky2::hash::hashing::PlonkyPermutation;
use plonky2::hash::keccak::KeccakPermutation;
use plonky2::plonk::circuit_data::{CommonCircuitData, VerifierOnlyCircuitData};
use plonky2::plonk::config::GenericHashOut;
use zkpor_circuits::{D, F, FinalConfig};

/// Sponge rate: elements absorbed per permutation.
pub const RATE: usize = 8;
/// Sponge width.
pub const WIDTH: usize = 12;

/// A duplex sponge over the Keccak permutation, as plonky2's `Challenger`:
/// observed elements overwrite the rate part, the permutation runs when the
/// rate is full or a challenge is asked for, challenges are taken from the
/// end of the rate part.
#[derive(Clone, Debug)]
pub struct Sponge {
    state: KeccakPermutation<F>,
    pending: Vec<F>,
    outputs: Vec<F>,
}

impl Default for Sponge {
    fn default() -> Self {
        Sponge { state: KeccakPermutation::new(std::iter::repeat(F::ZERO)), pending: Vec::new(), outputs: Vec::new() }
    }
}

impl Sponge {
    /// Absorbs one element.
    pub fn observe(&mut self, element: F) {
        self.outputs.clear();
        self.pending.push(element);
        if self.pending.len() == RATE {
            self.duplex();
        }
    }

    /// Squeezes one challenge.
    pub fn challenge(&mut self) -> F {
        if !self.pending.is_empty() || self.outputs.is_empty() {
            self.duplex();
        }
        self.outputs.pop().expect("outputs after a permutation")
    }

    fn duplex(&mut self) {
        self.state.set_from_iter(self.pending.drain(..), 0);
        self.state.permute();
        self.outputs = self.state.squeeze().to_vec();
    }

    /// The state with pending elements already written into it, and how many
    /// are pending: the contract keeps inputs in the state directly.
    pub fn snapshot(&self) -> ([u64; WIDTH], usize) {
        let mut state: [u64; WIDTH] = std::array::from_fn(|i| self.state.as_ref()[i].to_canonical_u64());
        for (slot, value) in state.iter_mut().zip(&self.pending) {
            *slot = value.to_canonical_u64();
        }
        (state, self.pending.len())
    }
}

/// The elements plonky2 observes before anything proof-specific: the FRI
/// parameters (`FriParams::observe`) and the circuit digest.
pub fn constant_prefix(common: &CommonCircuitData<F, D>, verifier: &VerifierOnlyCircuitData<FinalConfig, D>) -> Vec<F> {
    let fri = &common.fri_params;
    let config = &fri.config;
    let mut elements = vec![
        F::from_canonical_usize(config.rate_bits),
        F::from_canonical_usize(config.cap_height),
        F::from_canonical_u32(config.proof_of_work_bits),
    ];
    elements.extend(config.reduction_strategy.serialize::<F>());
    elements.push(F::from_canonical_usize(config.num_query_rounds));
    elements.push(F::from_bool(fri.hiding));
    elements.push(F::from_canonical_usize(fri.degree_bits));
    elements.extend(fri.reduction_arity_bits.iter().map(|&bits| F::from_canonical_usize(bits)));
    elements.extend(GenericHashOut::<F>::to_vec(&verifier.circuit_digest));
    elements
}

/// The sponge after the constant prefix.
pub fn prefix_sponge(common: &CommonCircuitData<F, D>, verifier: &VerifierOnlyCircuitData<FinalConfig, D>) -> Sponge {
    let mut sponge = Sponge::default();
    for element in constant_prefix(common, verifier) {
        sponge.observe(element);
    }
    sponge
}

#[cfg(test)]
mod tests {
    use plonky2::field::types::Sample;
    use plonky2::iop::challenger::Challenger;
    use plonky2::plonk::config::{GenericConfig, Hasher};

    use super::*;

    type KeccakHasher = <FinalConfig as GenericConfig<D>>::Hasher;

    #[test]
    fn matches_plonky2s_challenger() {
        let mut ours = Sponge::default();
        let mut theirs = Challenger::<F, KeccakHasher>::new();
        let mut rng = rand::thread_rng();
        for round in 0..40usize {
            let count = round % 11;
            let elements: Vec<F> = (0..count).map(|_| F::sample(&mut rng)).collect();
            for &e in &elements {
                ours.observe(e);
            }
            theirs.observe_elements(&elements);
            for _ in 0..(round % 5) {
                assert_eq!(ours.challenge(), theirs.get_challenge(), "round {round}");
            }
        }
        let digest = KeccakHasher::hash_no_pad(&[F::ONE, F::TWO]);
        let as_elements = GenericHashOut::<F>::to_vec(&digest);
        assert_eq!(as_elements.len(), 4);
        for e in as_elements {
            ours.observe(e);
        }
        theirs.observe_hash::<KeccakHasher>(digest);
        assert_eq!(ours.challenge(), theirs.get_challenge());
    }
}
