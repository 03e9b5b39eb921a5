//! Range checks through a lookup table of every byte.
//!
//! A value is split into bytes by a witness generator; every byte is looked up
//! in the table, pairs of bytes form 16-bit limbs, and the limbs must
//! recompose to the value. A top byte narrower than 8 bits is also looked up
//! shifted left, which bounds it without a second table; a top byte of one
//! bit is constrained to be a bit instead. A value outside the
//! range has no such bytes, so its witness cannot be generated and no proof
//! can exist.
//!
//! The table is small on purpose: plonky2's recursive verifier rebuilds the
//! whole table in circuit (about four operations per entry), so a 2^16-entry
//! table would cost every aggregation node some 25,000 rows per child, where
//! 256 entries cost about a hundred.

use std::sync::Arc;

use anyhow::Result;
use plonky2::field::types::{Field, PrimeField64};
use plonky2::iop::generator::{GeneratedValues, SimpleGenerator};
use plonky2::iop::target::{BoolTarget, Target};
use plonky2::iop::witness::{PartitionWitness, Witness, WitnessWrite};
use plonky2::plonk::circuit_builder::CircuitBuilder;
use plonky2::plonk::circuit_data::CommonCircuitData;
use plonky2::util::serialization::{Buffer, IoResult, Read, Write};

use crate::{D, F};

/// Bits per limb returned by [`LimbRangeChecker::split`].
pub const LIMB_BITS: usize = 16;

/// Bits per table entry: the lookup table holds `0..2^8`.
const BYTE_BITS: usize = 8;

/// Most bits a range check may cover: limbs of 63 bits recompose below p, so
/// the decomposition of a field element is unique.
pub const MAX_RANGE_BITS: usize = 63;

/// Range checker bound to one circuit's 16-bit lookup table.
#[derive(Clone, Copy, Debug)]
pub struct LimbRangeChecker {
    table: usize,
}

impl LimbRangeChecker {
    /// Adds the byte table to the circuit (a few rows); a circuit should
    /// have one checker and use it for every check.
    pub fn new(builder: &mut CircuitBuilder<F, D>) -> Self {
        let pairs = (0..=u8::MAX as u16).map(|v| (v, v)).collect();
        LimbRangeChecker { table: builder.add_lookup_table_from_pairs(Arc::new(pairs)) }
    }

    /// Constrains `x < 2^bits` and returns its 16-bit limbs, least
    /// significant first (the last one holds the remaining `bits mod 16`).
    pub fn split(&self, builder: &mut CircuitBuilder<F, D>, x: Target, bits: usize) -> Vec<Target> {
        assert!((1..=MAX_RANGE_BITS).contains(&bits), "range check of {bits} bits");
        let count = bits.div_ceil(BYTE_BITS);
        let bytes = builder.add_virtual_targets(count);
        builder.add_simple_generator(ByteSplitGenerator { x, bytes: bytes.clone() });
        let top_bits = bits - BYTE_BITS * (count - 1);
        let (&top, lower) = bytes.split_last().expect("at least one byte");
        for &byte in lower {
            builder.add_lookup_from_index(byte, self.table);
        }
        if top_bits == 1 {
            // A top bit costs one constraint instead of two lookups.
            builder.assert_bool(BoolTarget::new_unsafe(top));
        } else {
            builder.add_lookup_from_index(top, self.table);
            if top_bits < BYTE_BITS {
                let shifted = builder.mul_const(F::from_canonical_u64(1 << (BYTE_BITS - top_bits)), top);
                builder.add_lookup_from_index(shifted, self.table);
            }
        }
        let byte_radix = F::from_canonical_u64(1 << BYTE_BITS);
        let limbs: Vec<Target> = bytes
            .chunks(2)
            .map(|pair| match *pair {
                [low, high] => builder.mul_const_add(byte_radix, high, low),
                [low] => low,
                _ => unreachable!("chunks of two"),
            })
            .collect();
        let recomposed = recompose(builder, &limbs);
        builder.connect(recomposed, x);
        limbs
    }
}

/// `Σ limbs[i] · 2^(16 i)`.
pub fn recompose(builder: &mut CircuitBuilder<F, D>, limbs: &[Target]) -> Target {
    let radix = F::from_canonical_u64(1 << LIMB_BITS);
    let (&top, rest) = limbs.split_last().expect("at least one limb");
    rest.iter().rev().fold(top, |acc, &limb| builder.mul_const_add(radix, acc, limb))
}

/// Fills the bytes of a value: all but the last are masked to 8 bits; the
/// last takes what is left, so an out-of-range value leaves a byte the table
/// does not hold.
#[derive(Debug, Default)]
pub(crate) struct ByteSplitGenerator {
    x: Target,
    bytes: Vec<Target>,
}

impl SimpleGenerator<F, D> for ByteSplitGenerator {
    fn id(&self) -> String {
        "ByteSplitGenerator".to_string()
    }

    fn dependencies(&self) -> Vec<Target> {
        vec![self.x]
    }

    fn run_once(&self, witness: &PartitionWitness<F>, out: &mut GeneratedValues<F>) -> Result<()> {
        let mut rest = witness.get_target(self.x).to_canonical_u64();
        let (&top, lower) = self.bytes.split_last().expect("at least one byte");
        for &byte in lower {
            out.set_target(byte, F::from_canonical_u64(rest & 0xff))?;
            rest >>= BYTE_BITS;
        }
        out.set_target(top, F::from_canonical_u64(rest))
    }

    fn serialize(&self, dst: &mut Vec<u8>, _: &CommonCircuitData<F, D>) -> IoResult<()> {
        dst.write_target(self.x)?;
        dst.write_target_vec(&self.bytes)
    }

    fn deserialize(src: &mut Buffer, _: &CommonCircuitData<F, D>) -> IoResult<Self> {
        Ok(ByteSplitGenerator { x: src.read_target()?, bytes: src.read_target_vec()? })
    }
}

#[cfg(test)]
mod tests {
    use plonky2::iop::witness::PartialWitness;
    use plonky2::plonk::circuit_data::CircuitConfig;

    use super::*;
    use crate::C;
    use crate::test_support::{COPY_CONFLICT, WITNESS_FAILURE};

    fn prove_in_range(value: F, bits: usize) -> Result<()> {
        let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
        let checker = LimbRangeChecker::new(&mut builder);
        let x = builder.add_virtual_target();
        checker.split(&mut builder, x, bits);
        let data = builder.build::<C>();
        let mut witness = PartialWitness::new();
        witness.set_target(x, value)?;
        data.verify(data.prove(witness)?)
    }

    #[test]
    fn accepts_the_range_and_rejects_past_it() {
        for bits in [7, 9, 16, 17, 30, 45, 48, 62] {
            let max = F::from_canonical_u64((1 << bits) - 1);
            prove_in_range(max, bits).unwrap();
            let over = F::from_canonical_u64(1 << bits);
            let err = prove_in_range(over, bits).unwrap_err().to_string();
            // A byte past the table has no witness; a top bit of 2 is not a bit.
            assert!(err.contains(WITNESS_FAILURE) || err.contains(COPY_CONFLICT), "{bits} bits: {err}");
        }
    }

    #[test]
    fn rejects_values_that_wrap_the_field() {
        let err = prove_in_range(F::NEG_ONE, 48).unwrap_err().to_string();
        assert!(err.contains(WITNESS_FAILURE), "{err}");
    }
}
