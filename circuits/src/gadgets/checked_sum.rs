//! Sums that provably never wrap the field.

use plonky2::iop::target::Target;
use plonky2::plonk::circuit_builder::CircuitBuilder;

use crate::{D, F};

/// Bits every per-asset total must fit in: the sum of two totals is below
/// 2^63 < p, so a checked running sum is the exact integer sum.
pub const TOTAL_BITS: usize = 62;

/// `Σ terms`, each term already known to be below 2^62, with the running sum
/// range-checked below 2^62 after every addition. A sum past the bound has
/// no bit decomposition, so its witness conflicts and no proof exists.
pub fn checked_sum(builder: &mut CircuitBuilder<F, D>, terms: &[Target]) -> Target {
    let (&first, rest) = terms.split_first().expect("at least one term");
    rest.iter().fold(first, |acc, &term| {
        let sum = builder.add(acc, term);
        builder.range_check(sum, TOTAL_BITS);
        sum
    })
}

#[cfg(test)]
mod tests {
    use plonky2::field::types::Field;
    use plonky2::iop::witness::{PartialWitness, WitnessWrite};
    use plonky2::plonk::circuit_data::CircuitConfig;

    use super::*;
    use crate::C;
    use crate::test_support::COPY_CONFLICT;

    fn prove_sum(terms: &[u64]) -> anyhow::Result<u64> {
        let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
        let targets = builder.add_virtual_targets(terms.len());
        let sum = checked_sum(&mut builder, &targets);
        builder.register_public_input(sum);
        let data = builder.build::<C>();
        let mut witness = PartialWitness::new();
        for (&t, &v) in targets.iter().zip(terms) {
            witness.set_target(t, F::from_canonical_u64(v))?;
        }
        let proof = data.prove(witness)?;
        let total = proof.public_inputs[0].0;
        data.verify(proof)?;
        Ok(total)
    }

    #[test]
    fn sums_up_to_the_bound() {
        let half = 1u64 << 61;
        assert_eq!(prove_sum(&[half - 1, half]).unwrap(), (1 << 62) - 1);
    }

    #[test]
    fn a_sum_past_the_bound_does_not_prove() {
        let half = 1u64 << 61;
        let err = prove_sum(&[half, half]).unwrap_err().to_string();
        assert!(err.contains(COPY_CONFLICT), "2^62 overflows the total bound: {err}");
        let near = (1u64 << 62) - 1;
        let err = prove_sum(&[near, near, near, near, 5]).unwrap_err().to_string();
        assert!(err.contains(COPY_CONFLICT), "would wrap the field: {err}");
    }
}
