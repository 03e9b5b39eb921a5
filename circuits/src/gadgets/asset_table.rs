//! Ties sparse slots to the per-asset table with a logarithmic-derivative
//! lookup argument (LogUp) over plonky2's quadratic extension field.
//!
//! Every slot carries an asset index `a_s`, the limbs `(l_s, h_s)` of the
//! price it is valued at, and its equity `e_s` and debt `d_s`. The table has
//! one row per asset `a`: the range-checked price limbs `(L_a, H_a)`, and the
//! claimed multiplicity `m_a` (how many slots name `a`) and totals `E_a`,
//! `D_a`. With challenges `r`, `γ`, `β` the circuit checks
//!
//! `Σ_s (1 + β·e_s + β²·d_s) / (r − a_s − γ·l_s − γ²·h_s)
//!    = Σ_a (m_a + β·E_a + β²·D_a) / (r − a − γ·L_a − γ²·H_a)`.
//!
//! As rational functions in `r` this holds only if every slot's triple
//! `(a_s, l_s, h_s)` is a table row (otherwise its pole is left over), so a
//! slot is priced at its own asset's price; and, as polynomials in `β`, only
//! if for every asset the slots naming it sum to exactly `E_a` and `D_a`. Each
//! per-asset sum is below `B·2^48 < p` (one slot per asset per user), so the
//! equality in the field is equality of integers.
//!
//! The challenges come from Poseidon (in the challenge domain) over
//! everything the prover chose before them: the batch root (which commits
//! to every slot's asset and balance), the prices commitment, the claimed
//! table columns and every slot's price limbs.
//! A false claim passes only if a challenge hits a root of a nonzero
//! polynomial of degree below 2^16 over a field of about 2^128 elements.

use plonky2::field::types::Field;
use plonky2::hash::hash_types::HashOutTarget;
use plonky2::iop::ext_target::ExtensionTarget;
use plonky2::iop::target::Target;
use plonky2::plonk::circuit_builder::CircuitBuilder;

use super::solvency::PriceLimbs;
use crate::hash::{Domain, hash_in_circuit};
use crate::{D, F};

/// One slot's side of the argument.
#[derive(Clone, Copy, Debug)]
pub struct SlotEntry {
    /// The asset index.
    pub asset: Target,
    /// The price limbs the slot is valued at (not range-checked on their own:
    /// the argument ties them to the table's).
    pub price: PriceLimbs,
    /// The balance's magnitude.
    pub magnitude: Target,
    /// Boolean: the balance is debt.
    pub is_debt: Target,
}

/// The claimed per-asset columns of the table.
#[derive(Clone, Debug)]
pub struct TableClaims {
    /// Slots naming each asset.
    pub multiplicity: Vec<Target>,
    /// Equity total per asset.
    pub equity: Vec<Target>,
    /// Debt total per asset.
    pub debt: Vec<Target>,
}

/// Collects slot entries while a circuit is laid out, then checks them
/// against the table.
#[derive(Debug, Default)]
pub struct AssetTableArgument {
    slots: Vec<SlotEntry>,
}

impl AssetTableArgument {
    /// Adds one slot.
    pub fn add_slot(&mut self, slot: SlotEntry) {
        self.slots.push(slot);
    }

    /// Constrains the collected slots against the table of `prices` (one
    /// range-checked [`PriceLimbs`] per asset, asset `a` at index `a`) and
    /// `claims`. `commitments` are hashed into the challenges first: they must
    /// bind every slot's asset index and balance (the batch root does).
    pub fn check(
        self,
        builder: &mut CircuitBuilder<F, D>,
        prices: &[PriceLimbs],
        claims: &TableClaims,
        commitments: &[HashOutTarget],
    ) {
        let assets = prices.len();
        assert!(claims.multiplicity.len() == assets && claims.equity.len() == assets && claims.debt.len() == assets);

        let mut transcript: Vec<Target> = commitments.iter().flat_map(|hash| hash.elements).collect();
        transcript.extend(&claims.multiplicity);
        transcript.extend(&claims.equity);
        transcript.extend(&claims.debt);
        transcript.extend(self.slots.iter().flat_map(|slot| [slot.price.low, slot.price.high]));
        let seed = hash_in_circuit(builder, Domain::Challenge, &transcript);
        let second = hash_in_circuit(builder, Domain::Challenge, &seed.elements);
        let r = ExtensionTarget([seed.elements[0], seed.elements[1]]);
        let gamma = ExtensionTarget([seed.elements[2], seed.elements[3]]);
        let beta = ExtensionTarget([second.elements[0], second.elements[1]]);

        let neg_gamma = builder.mul_const_extension(F::NEG_ONE, gamma);
        let neg_gamma_sq = {
            let square = builder.square_extension(gamma);
            builder.mul_const_extension(F::NEG_ONE, square)
        };
        let beta_sq = builder.square_extension(beta);
        let debt_shift = builder.sub_extension(beta_sq, beta);

        let denominator = |builder: &mut CircuitBuilder<F, D>, asset: ExtensionTarget<D>, price: &PriceLimbs| {
            let base = builder.sub_extension(r, asset);
            let with_low = builder.scalar_mul_add_extension(price.low, neg_gamma, base);
            builder.scalar_mul_add_extension(price.high, neg_gamma_sq, with_low)
        };

        let one = builder.one_extension();
        let mut slot_sum = builder.zero_extension();
        for slot in &self.slots {
            let asset = builder.convert_to_ext(slot.asset);
            let den = denominator(builder, asset, &slot.price);
            // 1 + β·e + β²·d with e = v·(1 − s), d = v·s: 1 + v·(β + s·(β² − β)).
            let weight = builder.scalar_mul_add_extension(slot.is_debt, debt_shift, beta);
            let numerator = builder.scalar_mul_add_extension(slot.magnitude, weight, one);
            slot_sum = builder.div_add_extension(numerator, den, slot_sum);
        }

        let mut table_sum = builder.zero_extension();
        // Asset indices counted up from zero rather than as 0..A constants,
        // each of which would take a constant wire of its own.
        let mut index = builder.zero();
        for (asset, price) in prices.iter().enumerate() {
            if asset > 0 {
                index = builder.add_const(index, F::ONE);
            }
            let index_ext = builder.convert_to_ext(index);
            let den = denominator(builder, index_ext, price);
            let count = builder.convert_to_ext(claims.multiplicity[asset]);
            let with_equity = builder.scalar_mul_add_extension(claims.equity[asset], beta, count);
            let numerator = builder.scalar_mul_add_extension(claims.debt[asset], beta_sq, with_equity);
            table_sum = builder.div_add_extension(numerator, den, table_sum);
        }
        builder.connect_extension(slot_sum, table_sum);
    }
}
