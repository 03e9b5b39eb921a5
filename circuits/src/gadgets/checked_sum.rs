//! Sums that provably never wrap the field.

use plonky2::iop::target::Target;
use plonky2::plonk::circuit_builder::CircuitBuilder;

use crate::{D, F};

/// Bits every per-asset total must fit in: the sum of three totals is below
/// 3·2^62 < p, so a running sum checked after every second addition is the
/// exact integer sum.
pub const TOTAL_BITS: usize = 62;

/// `Σ terms`, each term already known to be below 2^62, with the running sum
/// range-checked below 2^62 after every second addition (and after the last):
/// a checked sum and two more terms stay below 3·2^62 < p, so the field sum
/// is the integer sum when it is checked. A sum past the bound has no bit
/// decomposition, so its witness conflicts and no proof exists. One range
/// check takes a row, so checking every other addition saves a row per two
/// terms of every total: 2,200 rows in a node of twelve children over 220
/// assets.
pub fn checked_sum(builder: &mut CircuitBuilder<F, D>, terms: &[Target]) -> Target {
    let (&first, rest) = terms.split_first().expect("at least one term");
    rest.chunks(2).fold(first, |acc, pair| {
        let sum = pair.iter().fold(acc, |sum, &term| builder.add(sum, term));
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
        // Checked after two additions: 1 + (2^62 - 1) passes unchecked, and
        // the third term takes the sum past the bound.
        let err = prove_sum(&[1, near, 1]).unwrap_err().to_string();
        assert!(err.contains(COPY_CONFLICT), "past the bound after the second addition: {err}");
        let err = prove_sum(&[1, 2, 3, near]).unwrap_err().to_string();
        assert!(err.contains(COPY_CONFLICT), "past the bound in the last, single addition: {err}");
        assert_eq!(prove_sum(&[1, 2, 3, 4, 5]).unwrap(), 15);
    }
}
