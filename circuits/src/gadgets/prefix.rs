//! Prefix masks: the booleans `m_i = [i < length]` of a length known only
//! to the prover.

use anyhow::Result;
use plonky2::field::types::{Field, PrimeField64};
use plonky2::iop::generator::{GeneratedValues, SimpleGenerator};
use plonky2::iop::target::{BoolTarget, Target};
use plonky2::iop::witness::{PartitionWitness, Witness, WitnessWrite};
use plonky2::plonk::circuit_builder::CircuitBuilder;
use plonky2::plonk::circuit_data::CommonCircuitData;
use plonky2::util::serialization::{Buffer, IoResult, Read, Write};

use crate::{D, F};

/// `n` booleans `m_i = [i < length]`, constrained: each is a bit, none is
/// set after one that is not, and they add up to `length`. So `length` is
/// at most `n` (else no witness exists) and the set bits are exactly the
/// first `length`.
pub fn prefix_mask(builder: &mut CircuitBuilder<F, D>, length: Target, n: usize) -> Vec<BoolTarget> {
    let mask: Vec<BoolTarget> = (0..n).map(|_| builder.add_virtual_bool_target_safe()).collect();
    builder.add_simple_generator(PrefixMaskGenerator { length, mask: mask.iter().map(|bit| bit.target).collect() });
    for pair in mask.windows(2) {
        // m_(i+1) · (1 − m_i) = 0.
        let after_a_gap = builder.arithmetic(F::NEG_ONE, F::ONE, pair[1].target, pair[0].target, pair[1].target);
        builder.assert_zero(after_a_gap);
    }
    let count = builder.add_many(mask.iter().map(|bit| bit.target));
    builder.connect(count, length);
    mask
}

/// `value · (1 − bit)`: zero wherever the mask is set.
pub fn outside(builder: &mut CircuitBuilder<F, D>, bit: BoolTarget, value: Target) -> Target {
    builder.arithmetic(F::NEG_ONE, F::ONE, bit.target, value, value)
}

/// Sets the mask from the length.
#[derive(Debug, Default)]
pub(crate) struct PrefixMaskGenerator {
    length: Target,
    mask: Vec<Target>,
}

impl SimpleGenerator<F, D> for PrefixMaskGenerator {
    fn id(&self) -> String {
        "PrefixMaskGenerator".to_string()
    }

    fn dependencies(&self) -> Vec<Target> {
        vec![self.length]
    }

    fn run_once(&self, witness: &PartitionWitness<F>, out: &mut GeneratedValues<F>) -> Result<()> {
        let length = witness.get_target(self.length).to_canonical_u64();
        for (index, &bit) in self.mask.iter().enumerate() {
            out.set_target(bit, F::from_bool((index as u64) < length))?;
        }
        Ok(())
    }

    fn serialize(&self, dst: &mut Vec<u8>, _: &CommonCircuitData<F, D>) -> IoResult<()> {
        dst.write_target(self.length)?;
        dst.write_target_vec(&self.mask)
    }

    fn deserialize(src: &mut Buffer, _: &CommonCircuitData<F, D>) -> IoResult<Self> {
        Ok(PrefixMaskGenerator { length: src.read_target()?, mask: src.read_target_vec()? })
    }
}

#[cfg(test)]
mod tests {
    use plonky2::iop::witness::PartialWitness;
    use plonky2::plonk::circuit_data::CircuitConfig;

    use super::*;
    use crate::C;
    use crate::test_support::COPY_CONFLICT;

    fn mask_of(length: u64, n: usize) -> Result<Vec<u64>> {
        let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
        let target = builder.add_virtual_target();
        let mask = prefix_mask(&mut builder, target, n);
        builder.register_public_inputs(&mask.iter().map(|bit| bit.target).collect::<Vec<_>>());
        let data = builder.build::<C>();
        let mut witness = PartialWitness::new();
        witness.set_target(target, F::from_canonical_u64(length))?;
        let proof = data.prove(witness)?;
        let bits = proof.public_inputs.iter().map(|bit| bit.to_canonical_u64()).collect();
        data.verify(proof)?;
        Ok(bits)
    }

    #[test]
    fn masks_exactly_the_prefix() {
        assert_eq!(mask_of(0, 3).unwrap(), [0, 0, 0]);
        assert_eq!(mask_of(2, 4).unwrap(), [1, 1, 0, 0]);
        assert_eq!(mask_of(4, 4).unwrap(), [1, 1, 1, 1]);
        let err = mask_of(5, 4).unwrap_err().to_string();
        assert!(err.contains(COPY_CONFLICT), "a length past the mask: {err}");
    }
}
