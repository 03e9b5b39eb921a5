//! Per-asset totals that provably never wrap the field.

use plonky2::iop::target::{BoolTarget, Target};
use plonky2::plonk::circuit_builder::CircuitBuilder;

use crate::{D, F};

/// Bits every per-asset total must fit in, in every proof of the tree: a
/// batch's totals are below `4096 · 2^48 = 2^60` by construction
/// ([`crate::tier::MAX_BATCH_SIZE`]), and every node range-checks its own.
pub const TOTAL_BITS: usize = 60;

/// Most terms [`masked_total`] adds: fifteen totals below 2^60 add to less
/// than `15 · 2^60 < p`, so the field sum is the integer sum.
pub const MAX_TERMS: usize = 15;

/// `Σ present_i · term_i` over terms each already known to be below 2^60,
/// range-checked below 2^60 once at the end. With at most [`MAX_TERMS`]
/// terms the sum cannot wrap before the check, so the checked sum is the
/// exact integer sum; a sum of 2^60 or more has no bit decomposition, its
/// witness conflicts, and no proof exists. Each term costs one
/// multiply-add, the check one row.
pub fn masked_total(builder: &mut CircuitBuilder<F, D>, terms: &[(BoolTarget, Target)]) -> Target {
    assert!((1..=MAX_TERMS).contains(&terms.len()), "{} terms in one total", terms.len());
    let zero = builder.zero();
    let sum = terms.iter().fold(zero, |sum, &(present, term)| builder.mul_add(present.target, term, sum));
    builder.range_check(sum, TOTAL_BITS);
    sum
}

#[cfg(test)]
mod tests {
    use plonky2::field::types::Field;
    use plonky2::iop::witness::{PartialWitness, WitnessWrite};
    use plonky2::plonk::circuit_data::CircuitConfig;

    use super::*;
    use crate::C;
    use crate::test_support::COPY_CONFLICT;

    fn prove_sum(terms: &[(bool, u64)]) -> anyhow::Result<u64> {
        let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
        let targets: Vec<(BoolTarget, Target)> =
            terms.iter().map(|_| (builder.add_virtual_bool_target_safe(), builder.add_virtual_target())).collect();
        let sum = masked_total(&mut builder, &targets);
        builder.register_public_input(sum);
        let data = builder.build::<C>();
        let mut witness = PartialWitness::new();
        for (&(present, term), &(on, value)) in targets.iter().zip(terms) {
            witness.set_bool_target(present, on)?;
            witness.set_target(term, F::from_canonical_u64(value))?;
        }
        let proof = data.prove(witness)?;
        let total = proof.public_inputs[0].0;
        data.verify(proof)?;
        Ok(total)
    }

    #[test]
    fn sums_the_present_terms_up_to_the_bound() {
        let half = 1u64 << 59;
        assert_eq!(prove_sum(&[(true, half - 1), (true, half)]).unwrap(), (1 << 60) - 1);
        assert_eq!(prove_sum(&[(true, 5), (false, half), (true, 7)]).unwrap(), 12, "absent terms count nothing");
    }

    #[test]
    fn a_sum_past_the_bound_does_not_prove() {
        let half = 1u64 << 59;
        let err = prove_sum(&[(true, half), (true, half)]).unwrap_err().to_string();
        assert!(err.contains(COPY_CONFLICT), "2^60 passes the total bound: {err}");
        let near = (1u64 << 60) - 1;
        let err = prove_sum(&[(true, near); MAX_TERMS]).unwrap_err().to_string();
        assert!(err.contains(COPY_CONFLICT), "fifteen near-bound totals: {err}");
    }
}
