//! The exact per-account solvency check `Σ_i (equity_i − debt_i)·price_i ≥ 0`.
//!
//! Balances are below 2^48 and prices below 2^62, so one product already
//! exceeds the field. The check works on limbs instead: balances in three
//! 16-bit limbs (from their range checks), prices in two limbs of 32 and 30
//! bits. Signed limb differences `y_j = e_j − d_j` (|y_j| < 2^16) times price
//! limbs `P_k` (< 2^32) are accumulated into five columns
//! `c_m = Σ_{j+2k=m} y_j·P_k`, so `N = Σ_m c_m·2^(16m)` is the account's net
//! value. With at most `A` assets, `|c_m| < A·2^49`, far below `p/2`.
//!
//! A carry chain then shows `N ≥ 0` over the integers:
//! `c_0 = r_0 + 2^16·k_0`, `c_m + k_(m−1) = r_m + 2^16·k_m` for `m = 1..3`
//! and `t = c_4 + k_3`, with every `r_m` in `[0, 2^16)`, every carry
//! `|k_m| < 2^(a+34)` (`a = ceil(log2 A)`) and `t` in `[0, 2^(a+47))`.
//! All terms stay below 2^61, so each equation holds over the integers, and
//! `N = Σ r_m·2^(16m) + t·2^64 ≥ 0`. A negative account has no such witness.

use anyhow::Result;
use plonky2::field::types::{Field, Field64, PrimeField64};
use plonky2::iop::generator::{GeneratedValues, SimpleGenerator};
use plonky2::iop::target::Target;
use plonky2::iop::witness::{PartitionWitness, Witness, WitnessWrite};
use plonky2::plonk::circuit_builder::CircuitBuilder;
use plonky2::plonk::circuit_data::CommonCircuitData;
use plonky2::util::serialization::{Buffer, IoResult, Read, Write};

use super::range::{LIMB_BITS, LimbRangeChecker};
use crate::{D, F};

/// Bits of a balance: three 16-bit limbs.
pub const BALANCE_BITS: usize = 48;
/// Bits of a per-unit price.
pub const PRICE_BITS: usize = 62;

const COLUMNS: usize = 5;
const CARRIES: usize = COLUMNS - 1;

/// A price split for the solvency check: `price = low + 2^32·high`.
#[derive(Clone, Copy, Debug)]
pub struct PriceLimbs {
    /// The low 32 bits.
    pub low: Target,
    /// The high 30 bits.
    pub high: Target,
}

impl PriceLimbs {
    /// Range-checks `price < 2^62` and splits it.
    pub fn split(builder: &mut CircuitBuilder<F, D>, range: &LimbRangeChecker, price: Target) -> Self {
        let limbs = range.split(builder, price, PRICE_BITS);
        let radix = F::from_canonical_u64(1 << LIMB_BITS);
        PriceLimbs {
            low: builder.mul_const_add(radix, limbs[1], limbs[0]),
            high: builder.mul_const_add(radix, limbs[3], limbs[2]),
        }
    }
}

/// The net value of one account, accumulated asset by asset.
#[derive(Debug, Default)]
pub struct NetValue {
    columns: [Option<Target>; COLUMNS],
}

impl NetValue {
    /// Adds `(equity − debt)·price` for one asset, from the 16-bit limbs of
    /// equity and debt (as returned by [`LimbRangeChecker::split`] for
    /// [`BALANCE_BITS`]).
    pub fn add_asset(
        &mut self,
        builder: &mut CircuitBuilder<F, D>,
        equity_limbs: &[Target],
        debt_limbs: &[Target],
        price: &PriceLimbs,
    ) {
        assert_eq!(equity_limbs.len(), 3);
        assert_eq!(debt_limbs.len(), 3);
        let differences: Vec<Target> = equity_limbs.iter().zip(debt_limbs).map(|(&e, &d)| builder.sub(e, d)).collect();
        self.add_limb_differences(builder, &differences, price);
    }

    /// Adds `±magnitude·price` for one signed balance, from the 16-bit limbs
    /// of its magnitude (as returned by [`LimbRangeChecker::split`] for
    /// [`BALANCE_BITS`]); `is_debt` must already be constrained boolean.
    pub fn add_signed(
        &mut self,
        builder: &mut CircuitBuilder<F, D>,
        magnitude_limbs: &[Target],
        is_debt: Target,
        price: &PriceLimbs,
    ) {
        assert_eq!(magnitude_limbs.len(), 3);
        let minus_two = -F::TWO;
        let differences: Vec<Target> =
            magnitude_limbs.iter().map(|&v| builder.arithmetic(minus_two, F::ONE, is_debt, v, v)).collect();
        self.add_limb_differences(builder, &differences, price);
    }

    /// Adds `Σ_j y_j·2^(16 j) · price` for signed limb differences `|y_j| < 2^16`.
    fn add_limb_differences(&mut self, builder: &mut CircuitBuilder<F, D>, differences: &[Target], price: &PriceLimbs) {
        for (j, &y) in differences.iter().enumerate() {
            for (k, p) in [price.low, price.high].into_iter().enumerate() {
                let column = &mut self.columns[j + 2 * k];
                *column = Some(match *column {
                    Some(acc) => builder.mul_add(y, p, acc),
                    None => builder.mul(y, p),
                });
            }
        }
    }

    /// Constrains the accumulated net value to be non-negative, for accounts
    /// of at most `assets` assets.
    pub fn assert_non_negative(self, builder: &mut CircuitBuilder<F, D>, range: &LimbRangeChecker, assets: usize) {
        let columns = self.columns.map(|c| c.expect("net value of an account with no asset"));
        let asset_bits = assets.next_power_of_two().trailing_zeros() as usize;
        let carry_bits = asset_bits + 34;
        let top_bits = asset_bits + 47;

        let remainders: [Target; CARRIES] = std::array::from_fn(|_| builder.add_virtual_target());
        let carries: [Target; CARRIES] = std::array::from_fn(|_| builder.add_virtual_target());
        builder.add_simple_generator(CarryGenerator { columns, remainders, carries });

        let radix = F::from_canonical_u64(1 << LIMB_BITS);
        let carry_offset = F::from_canonical_u64(1 << carry_bits);
        for m in 0..CARRIES {
            let incoming = if m == 0 { columns[0] } else { builder.add(columns[m], carries[m - 1]) };
            let outgoing = builder.mul_const_add(radix, carries[m], remainders[m]);
            builder.connect(incoming, outgoing);
            range.split(builder, remainders[m], LIMB_BITS);
            let shifted = builder.add_const(carries[m], carry_offset);
            range.split(builder, shifted, carry_bits + 1);
        }
        let top = builder.add(columns[CARRIES], carries[CARRIES - 1]);
        range.split(builder, top, top_bits);
    }
}

/// Computes remainders and signed carries of the columns.
#[derive(Debug, Default)]
pub(crate) struct CarryGenerator {
    columns: [Target; COLUMNS],
    remainders: [Target; CARRIES],
    carries: [Target; CARRIES],
}

/// A field element read as a signed integer in `(−p/2, p/2)`.
fn signed(x: F) -> i128 {
    let value = x.to_canonical_u64();
    if value > F::ORDER / 2 { value as i128 - F::ORDER as i128 } else { value as i128 }
}

/// A signed integer of magnitude below p as a field element.
fn from_signed(value: i128) -> F {
    F::from_canonical_u64(value.rem_euclid(F::ORDER as i128) as u64)
}

impl SimpleGenerator<F, D> for CarryGenerator {
    fn id(&self) -> String {
        "CarryGenerator".to_string()
    }

    fn dependencies(&self) -> Vec<Target> {
        self.columns.to_vec()
    }

    fn run_once(&self, witness: &PartitionWitness<F>, out: &mut GeneratedValues<F>) -> Result<()> {
        let mut carry = 0i128;
        for m in 0..CARRIES {
            let value = signed(witness.get_target(self.columns[m])) + carry;
            let remainder = value.rem_euclid(1 << LIMB_BITS);
            carry = (value - remainder) >> LIMB_BITS;
            out.set_target(self.remainders[m], from_signed(remainder))?;
            out.set_target(self.carries[m], from_signed(carry))?;
        }
        Ok(())
    }

    fn serialize(&self, dst: &mut Vec<u8>, _: &CommonCircuitData<F, D>) -> IoResult<()> {
        dst.write_target_array(&self.columns)?;
        dst.write_target_array(&self.remainders)?;
        dst.write_target_array(&self.carries)
    }

    fn deserialize(src: &mut Buffer, _: &CommonCircuitData<F, D>) -> IoResult<Self> {
        Ok(CarryGenerator {
            columns: src.read_target_array()?,
            remainders: src.read_target_array()?,
            carries: src.read_target_array()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use plonky2::iop::witness::PartialWitness;
    use plonky2::plonk::circuit_data::CircuitConfig;

    use super::*;
    use crate::test_support::WITNESS_FAILURE;

    /// Proves one account with the given (equity, debt, price) per asset.
    fn prove_account(assets: &[(u64, u64, u64)]) -> Result<()> {
        let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
        let range = LimbRangeChecker::new(&mut builder);
        let mut net = NetValue::default();
        let mut inputs = Vec::new();
        for _ in assets {
            let [e, d, p] = std::array::from_fn(|_| builder.add_virtual_target());
            let price = PriceLimbs::split(&mut builder, &range, p);
            let e_limbs = range.split(&mut builder, e, BALANCE_BITS);
            let d_limbs = range.split(&mut builder, d, BALANCE_BITS);
            net.add_asset(&mut builder, &e_limbs, &d_limbs, &price);
            inputs.push([e, d, p]);
        }
        net.assert_non_negative(&mut builder, &range, assets.len());
        let data = builder.build::<crate::C>();
        let mut witness = PartialWitness::new();
        for (targets, values) in inputs.iter().zip(assets) {
            for (t, v) in targets.iter().zip([values.0, values.1, values.2]) {
                witness.set_target(*t, F::from_canonical_u64(v))?;
            }
        }
        data.verify(data.prove(witness)?)
    }

    const MAX_BALANCE: u64 = (1 << 48) - 1;
    const MAX_PRICE: u64 = (1 << 62) - 1;

    #[test]
    fn solvent_accounts_prove() {
        prove_account(&[(5, 0, 10), (0, 1, 50)]).unwrap();
        prove_account(&[(5, 0, 10), (0, 1, 50), (0, 0, 0)]).unwrap();
        prove_account(&[(MAX_BALANCE, 0, MAX_PRICE), (0, MAX_BALANCE, MAX_PRICE)]).unwrap();
        prove_account(&[(MAX_BALANCE, MAX_BALANCE, MAX_PRICE), (0, 0, 1)]).unwrap();
        // Equity and debt of the same asset net out.
        prove_account(&[(7, 3, MAX_PRICE)]).unwrap();
    }

    #[test]
    fn insolvent_accounts_do_not_prove() {
        for assets in [
            vec![(5, 0, 10), (0, 1, 51)],
            vec![(0, 1, 1)],
            vec![(MAX_BALANCE, 0, MAX_PRICE - 1), (0, MAX_BALANCE, MAX_PRICE)],
            vec![(1 << 40, 0, 1 << 20), (0, 1, (1 << 60) + 1)],
        ] {
            let err = prove_account(&assets).unwrap_err().to_string();
            assert!(err.contains(WITNESS_FAILURE), "{assets:?}: {err}");
        }
    }

    #[test]
    fn signed_round_trip() {
        for v in [0i128, 1, -1, 1 << 60, -(1 << 60)] {
            assert_eq!(signed(from_signed(v)), v);
        }
    }
}
