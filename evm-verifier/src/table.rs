//! The constant table the generated contract reads: 8-byte big-endian
//! entries (Poseidon constants, the circuit's k_is, roots of unity,
//! interpolation tables), then 32-byte digests (the constants-and-sigmas
//! Merkle cap).

use plonky2::field::types::{Field, PrimeField64};
use plonky2::hash::poseidon::{ALL_ROUND_CONSTANTS, HALF_N_FULL_ROUNDS, N_PARTIAL_ROUNDS, Poseidon};
use zkpor_circuits::F;

/// Sponge width of Poseidon.
pub(crate) const WIDTH: usize = 12;

/// Where each section starts, in 8-byte entries (the cap: in bytes).
#[derive(Clone, Debug, Default)]
pub(crate) struct TableIndex {
    /// Round constants of the full rounds, 12 per round.
    pub round_constants: usize,
    /// Constants added before the first partial round.
    pub first_partial: usize,
    /// Constants of the partial rounds.
    pub partial_constants: usize,
    /// The fast partial rounds' `v` vectors, 11 per round.
    pub vs: usize,
    /// The fast partial rounds' `ŵ` vectors, 11 per round.
    pub w_hats: usize,
    /// The coset shifts `k_i` of the routed wires.
    pub k_is: usize,
    /// `ω^(2^(lde_bits - 1 - j))` for the LDE root `ω`.
    pub omega: usize,
    /// Powers of the folding coset's generator `g`.
    pub fold_powers: usize,
    /// Per folding round `r`, `g^-(2^r·rev(t))` for the pairs `t` of that
    /// round (bit reversal over the round's remaining bits less one).
    pub fold_inverse_powers: usize,
    /// Byte offset of the 32-byte digests.
    pub cap_bytes: usize,
}

/// Builds the table bytes.
#[derive(Default)]
pub(crate) struct TableBuilder {
    entries: Vec<u64>,
    index: TableIndex,
}

impl TableBuilder {
    /// A table with the Poseidon constants, the `k_is`, the powers of the LDE
    /// root of `lde_bits` and of the folding root of `arity_bits`.
    pub(crate) fn new(k_is: &[F], lde_bits: usize, arity_bits: usize) -> Self {
        let mut table = TableBuilder::default();
        // Full rounds only: the first half at rounds 0.., the second after the partial rounds.
        let second_half = HALF_N_FULL_ROUNDS + N_PARTIAL_ROUNDS;
        table.index.round_constants = table.push(
            (0..HALF_N_FULL_ROUNDS)
                .chain(second_half..second_half + HALF_N_FULL_ROUNDS)
                .flat_map(|round| ALL_ROUND_CONSTANTS[WIDTH * round..WIDTH * (round + 1)].iter().copied()),
        );
        table.index.first_partial = table.push(F::FAST_PARTIAL_FIRST_ROUND_CONSTANT.iter().copied());
        table.index.partial_constants = table.push(F::FAST_PARTIAL_ROUND_CONSTANTS.iter().copied());
        table.index.vs = table.push(F::FAST_PARTIAL_ROUND_VS.iter().flatten().copied());
        table.index.w_hats = table.push(F::FAST_PARTIAL_ROUND_W_HATS.iter().flatten().copied());
        table.index.k_is = table.add_section(k_is);
        let omega = F::primitive_root_of_unity(lde_bits);
        let squares: Vec<F> = (0..lde_bits).rev().map(|j| omega.exp_power_of_2(j)).collect();
        table.index.omega = table.add_section(&squares);
        let g = F::primitive_root_of_unity(arity_bits);
        table.index.fold_powers = table.add_section(&g.powers().take(1 << arity_bits).collect::<Vec<_>>());
        let g_inverse = g.inverse();
        let per_round: Vec<F> = (0..arity_bits)
            .flat_map(|r| {
                let pair_bits = arity_bits - r - 1;
                (0..1u64 << pair_bits).map(move |t| g_inverse.exp_u64((reverse_bits(t, pair_bits)) << r))
            })
            .collect();
        table.index.fold_inverse_powers = table.add_section(&per_round);
        table
    }

    fn push(&mut self, values: impl Iterator<Item = u64>) -> usize {
        let at = self.entries.len();
        self.entries.extend(values);
        at
    }

    /// Adds a section of field elements, returns its entry index.
    pub(crate) fn add_section(&mut self, values: &[F]) -> usize {
        self.push(values.iter().map(|v| v.to_canonical_u64()))
    }

    /// The table bytes with `digests` (32 bytes each) after the entries,
    /// aligned to 32 bytes, and the index.
    pub(crate) fn finish(mut self, digests: &[[u8; 32]]) -> (Vec<u8>, TableIndex) {
        let mut bytes: Vec<u8> = self.entries.iter().flat_map(|e| e.to_be_bytes()).collect();
        bytes.resize(bytes.len().next_multiple_of(32), 0);
        self.index.cap_bytes = bytes.len();
        for digest in digests {
            bytes.extend_from_slice(digest);
        }
        (bytes, self.index)
    }
}

/// The low `bits` bits of `x` in reverse order.
fn reverse_bits(x: u64, bits: usize) -> u64 {
    if bits == 0 { 0 } else { x.reverse_bits() >> (64 - bits) }
}
