//! Where each part of a final proof sits in the contract's calldata.
//!
//! All field elements are 8 bytes, big-endian; every Merkle digest (25 bytes
//! with the Keccak configuration) takes a 32-byte word, left-aligned, the
//! rest zero. In order:
//!
//! 1. the caps of the wires, of the Z and partial-product polynomials and of
//!    the quotient polynomials;
//! 2. the openings: first the batch at ζ (constants, sigmas, wires, Zs,
//!    partial products, quotients), then the batch at g·ζ (Zs), each an
//!    extension element (2 field elements);
//! 3. the caps of the FRI commit phase, one per folding layer;
//! 4. per query round: for each of the four initial oracles its leaf values
//!    and Merkle path, then for each folding layer its evaluations (`arity`
//!    extension elements) and Merkle path;
//! 5. the final polynomial's coefficients (extension elements);
//! 6. the proof-of-work witness.

use anyhow::{Result, ensure};
use plonky2::plonk::circuit_data::CommonCircuitData;

use crate::generate::HASH_BYTES;
use zkpor_circuits::{D, F};

/// Bytes of a field element in calldata.
pub const FIELD_BYTES: usize = 8;
/// Bytes of a Merkle digest in calldata.
pub const DIGEST_WORD: usize = 32;
/// Bytes of an extension element in calldata.
pub const EXT_BYTES: usize = 2 * FIELD_BYTES;

/// Sizes and offsets of a final proof in calldata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofLayout {
    /// Digests per Merkle cap.
    pub cap_len: usize,
    /// Height of Merkle caps.
    pub cap_height: usize,
    /// log2 of the trace length.
    pub degree_bits: usize,
    /// log2 of the low-degree extension.
    pub lde_bits: usize,
    /// Openings at ζ (extension elements).
    pub openings_zeta: usize,
    /// Openings at g·ζ.
    pub openings_next: usize,
    /// How many openings each group has, in calldata order: constants
    /// (selectors first), sigmas, wires, Zs, partial products, quotients,
    /// then the Zs at g·ζ.
    pub opening_groups: [usize; 7],
    /// Polynomials of each initial oracle: constants and sigmas, wires, Zs and
    /// partial products, quotients.
    pub oracle_sizes: [usize; 4],
    /// Siblings of an initial Merkle path.
    pub initial_path_len: usize,
    /// log2 arity of each folding layer.
    pub arity_bits: Vec<usize>,
    /// Siblings of each folding layer's Merkle path.
    pub layer_path_lens: Vec<usize>,
    /// Query rounds.
    pub queries: usize,
    /// Coefficients of the final polynomial.
    pub final_poly_len: usize,
    /// Offset of the wires cap.
    pub wires_cap: usize,
    /// Offset of the Zs and partial products cap.
    pub zs_cap: usize,
    /// Offset of the quotients cap.
    pub quotient_cap: usize,
    /// Offset of the openings.
    pub openings: usize,
    /// Offset of the FRI commit-phase caps.
    pub commit_caps: usize,
    /// Offset of the first query round.
    pub query_rounds: usize,
    /// Bytes of one query round.
    pub query_size: usize,
    /// Offset, within a query round, of each initial oracle's leaf; its path
    /// follows the leaf.
    pub oracle_offsets: [usize; 4],
    /// Offset, within a query round, of each folding layer's evaluations;
    /// its path follows them.
    pub layer_offsets: Vec<usize>,
    /// Offset of the final polynomial.
    pub final_poly: usize,
    /// Offset of the proof-of-work witness.
    pub pow_witness: usize,
    /// Total bytes.
    pub total: usize,
}

impl ProofLayout {
    /// The layout of proofs of a circuit, after checking the circuit is one
    /// this verifier handles.
    pub fn new(common: &CommonCircuitData<F, D>) -> Result<Self> {
        let config = &common.config;
        let fri = &common.fri_params;
        ensure!(common.num_lookup_polys == 0, "circuits with lookups are not supported");
        ensure!(!fri.hiding && !config.zero_knowledge, "zero-knowledge (salted) proofs are not supported");
        ensure!(config.num_challenges == 2, "exactly two challenges are supported");

        let cap_height = fri.config.cap_height;
        let cap_len = 1 << cap_height;
        let degree_bits = common.degree_bits();
        let lde_bits = degree_bits + fri.config.rate_bits;
        let num_zs_pp = config.num_challenges * (1 + common.num_partial_products);
        let oracle_sizes = [
            common.num_constants + config.num_routed_wires,
            config.num_wires,
            num_zs_pp,
            config.num_challenges * common.quotient_degree_factor,
        ];
        ensure!(oracle_sizes.iter().all(|&n| n * FIELD_BYTES > HASH_BYTES), "a leaf too small to be hashed");
        let openings_zeta: usize = oracle_sizes.iter().sum();
        let openings_next = config.num_challenges;
        let opening_groups = [
            common.num_constants,
            config.num_routed_wires,
            config.num_wires,
            config.num_challenges,
            config.num_challenges * common.num_partial_products,
            config.num_challenges * common.quotient_degree_factor,
            openings_next,
        ];
        ensure!(opening_groups[..6].iter().sum::<usize>() == openings_zeta, "openings at ζ do not add up");
        let initial_path_len = lde_bits - cap_height;
        let arity_bits = fri.reduction_arity_bits.clone();
        let mut folded = 0;
        let layer_path_lens = arity_bits
            .iter()
            .map(|bits| {
                folded += bits;
                lde_bits - folded - cap_height
            })
            .collect();

        let cap_bytes = cap_len * DIGEST_WORD;
        let wires_cap = 0;
        let zs_cap = wires_cap + cap_bytes;
        let quotient_cap = zs_cap + cap_bytes;
        let openings = quotient_cap + cap_bytes;
        let commit_caps = openings + (openings_zeta + openings_next) * EXT_BYTES;
        let query_rounds = commit_caps + arity_bits.len() * cap_bytes;

        let mut at = 0;
        let oracle_offsets = oracle_sizes.map(|size| {
            let offset = at;
            at += size * FIELD_BYTES + initial_path_len * DIGEST_WORD;
            offset
        });
        let layer_offsets = arity_bits
            .iter()
            .zip(&layer_path_lens)
            .map(|(bits, path)| {
                let offset = at;
                at += (1 << bits) * EXT_BYTES + path * DIGEST_WORD;
                offset
            })
            .collect();
        let query_size = at;

        let queries = fri.config.num_query_rounds;
        let final_poly_len = fri.final_poly_len();
        let final_poly = query_rounds + queries * query_size;
        let pow_witness = final_poly + final_poly_len * EXT_BYTES;
        let total = pow_witness + FIELD_BYTES;
        Ok(ProofLayout {
            cap_len,
            cap_height,
            degree_bits,
            lde_bits,
            openings_zeta,
            openings_next,
            opening_groups,
            oracle_sizes,
            initial_path_len,
            arity_bits,
            layer_path_lens,
            queries,
            final_poly_len,
            wires_cap,
            zs_cap,
            quotient_cap,
            openings,
            commit_caps,
            query_rounds,
            query_size,
            oracle_offsets,
            layer_offsets,
            final_poly,
            pow_witness,
            total,
        })
    }
}
