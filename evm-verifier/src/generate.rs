//! Writes the verifier contract of one final circuit.
//!
//! The contract is a fixed template (`verifier.sol.tmpl`) whose Yul refers to
//! Solidity constants: the circuit's sizes, where each part of the proof sits
//! in calldata, where each value lives in memory and where each section of
//! the constant table starts. This module computes those constants from the
//! circuit's common data and writes the few parts that depend on the circuit
//! beyond them: the gates' code, the transcript's starting state and the
//! per-oracle steps of a FRI query.

use std::fmt::Write as _;

use anyhow::{Context, Result, bail, ensure};
use plonky2::field::types::{Field, Field64, PrimeField64};
use plonky2::hash::hash_types::BytesHash;
use plonky2::hash::poseidon::{HALF_N_FULL_ROUNDS, N_PARTIAL_ROUNDS, Poseidon};
use plonky2::plonk::circuit_data::{CommonCircuitData, VerifierOnlyCircuitData};
use plonky2::plonk::config::Hasher;
use zkpor_circuits::final_wrap::FINAL_INPUTS;
use zkpor_circuits::{D, F, FinalConfig};

use crate::failure;
use crate::gates::gate_code;
use crate::layout::{DIGEST_WORD, EXT_BYTES, FIELD_BYTES, ProofLayout};
use crate::poseidon;
use crate::table::{TableBuilder, WIDTH};
use crate::transcript::prefix_sponge;

/// Bytes of a Merkle digest of the Keccak configuration.
pub const HASH_BYTES: usize =
    <<FinalConfig as plonky2::plonk::config::GenericConfig<D>>::Hasher as Hasher<F>>::HASH_SIZE;

/// Where the proof's bytes start in the calldata of `verifyProof(bytes,uint64[])`
/// when it is ABI-encoded canonically: selector, two head words, the length.
pub const CALLDATA_PROOF: usize = 4 + 2 * 32 + 32;

const TEMPLATE: &str = include_str!("verifier.sol.tmpl");

/// The generated contract.
pub struct GeneratedVerifier {
    /// Solidity source.
    pub source: String,
    /// Calldata layout of its proofs.
    pub layout: ProofLayout,
}

/// Sequential allocation of 32-byte words of memory.
struct Memory {
    next: usize,
}

impl Memory {
    fn alloc(&mut self, words: usize) -> usize {
        let at = self.next;
        self.next += 32 * words;
        at
    }
}

/// The Solidity constants the template's Yul refers to.
#[derive(Default)]
struct Constants(String);

impl Constants {
    fn group(&mut self, title: &str) {
        let _ = writeln!(self.0, "    // {title}");
    }

    fn set(&mut self, name: &str, value: impl std::fmt::Display) {
        let _ = writeln!(self.0, "    uint256 internal constant {name} = {value};");
    }

    fn hex(&mut self, name: &str, bytes: &[u8]) {
        self.set(name, format!("0x{}", hex::encode(bytes)));
    }
}

/// Writes the verifier contract `name` for the final circuit described by
/// `common` and `verifier`; `family` names the circuit family in comments.
pub fn generate_verifier(
    name: &str,
    family: &str,
    common: &CommonCircuitData<F, D>,
    verifier: &VerifierOnlyCircuitData<FinalConfig, D>,
) -> Result<GeneratedVerifier> {
    let layout = ProofLayout::new(common)?;
    let config = &common.config;
    let fri = &common.fri_params;
    let num_challenges = config.num_challenges;
    ensure!(
        common.num_public_inputs == FINAL_INPUTS,
        "the final circuit has {} public inputs",
        common.num_public_inputs
    );
    let opening_felts = 2 * (layout.openings_zeta + layout.openings_next);
    let final_poly_felts = 2 * layout.final_poly_len;
    ensure!(
        opening_felts % 4 == 0 && final_poly_felts % 4 == 0,
        "openings and final polynomial are observed 4 elements at a time"
    );
    let arity_bits = layout.arity_bits.first().copied().unwrap_or(0);
    ensure!(
        !layout.arity_bits.is_empty()
            && layout.arity_bits.iter().all(|&b| b == arity_bits)
            && (1..=4).contains(&arity_bits),
        "folding with one arity of at most 16 is supported, not {:?}",
        layout.arity_bits
    );
    let num_chunks = config.num_routed_wires.div_ceil(common.quotient_degree_factor);
    ensure!(num_chunks == common.num_partial_products + 1, "partial products do not match the chunks");
    ensure!(layout.openings_next == num_challenges, "the batch at g·ζ holds the Zs only");

    let selectors: SelectorsInfoData =
        serde_json::from_value(serde_json::to_value(&common.selectors_info).context("selector info")?)
            .context("reading selector info")?;
    let num_selectors = selectors.groups.len();
    ensure!(
        common.num_constants == num_selectors + config.num_constants,
        "constants are not selectors followed by gate constants"
    );

    // The constant table, with the gates' sections.
    let mut table = TableBuilder::new(&common.k_is[..config.num_routed_wires], layout.lde_bits, arity_bits);
    let mut gate_functions = String::new();
    let mut gate_calls = String::new();
    for (row, gate) in common.gates.iter().enumerate() {
        let Some(code) = gate_code(row, gate, &mut table)? else { continue };
        gate_functions += &code;
        gate_functions.push('\n');
        let selector = selectors.selector_indices[row];
        let group = &selectors.groups[selector];
        let _ = write!(
            gate_calls,
            "                // {}\n                gate_{row}()\n                gate_end({row}, {selector}, {}, {}, {})\n",
            gate.0.id().chars().take(80).collect::<String>(),
            group.start,
            group.end,
            u8::from(num_selectors > 1),
        );
    }
    let cap: Vec<[u8; 32]> = verifier.constants_sigmas_cap.0.iter().map(digest_word).collect();
    let (table_bytes, index) = table.finish(&cap);

    // Memory: the table from 0x80, where Solidity's free memory starts.
    let table_data = 0x80;
    let mut memory = Memory { next: (table_data + table_bytes.len()).next_multiple_of(32) };
    let mut c = Constants::default();

    c.group("Failure codes (`zkpor_evm_verifier::failure`, docs/verifier.md)");
    for (name, code) in failure::SOLIDITY_NAMES {
        c.set(name, code);
    }

    c.group("Goldilocks field and encodings");
    c.set("P", F::ORDER);
    c.set("P2", 2 * F::ORDER as u128);
    c.set("P_MINUS_1", F::ORDER - 1);
    c.set("P_MINUS_2", F::ORDER - 2);
    c.set("INV2", F::TWO.inverse().to_canonical_u64());
    c.set("MASK64", "0xffffffffffffffff");
    c.set("MASK128", "0xffffffffffffffffffffffffffffffff");
    c.hex("LANE_MASK_8", &[0x00, 0xff].repeat(16));
    c.hex("LANE_MASK_16", &[0x00, 0x00, 0xff, 0xff].repeat(8));
    c.hex("LANE_MASK_32", &[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff].repeat(4));
    for lane in 0..4 {
        c.hex(&format!("HIGH_HALF_{lane}"), &mask(8 * lane + 4, 4));
    }
    c.hex("LOW_24_BYTES", &mask(8, 24));
    for (i, (start, len)) in [(0, 7), (7, 7), (14, 7), (21, 4)].into_iter().enumerate() {
        c.hex(&format!("DIGEST_CHUNK_{i}"), &mask(start, len));
    }
    c.hex("DIGEST_MASK", &mask(0, HASH_BYTES));
    c.hex("DIGEST_PADDING", &mask(HASH_BYTES, DIGEST_WORD - HASH_BYTES));
    c.set("HASH_BYTES", HASH_BYTES);
    c.set("TWO_HASH_BYTES", 2 * HASH_BYTES);
    c.set(
        "FAIL_SELECTOR",
        format!("0x{}{}", hex::encode(&keccak_hash::keccak(b"InvalidProof(uint256)").0[..4]), "0".repeat(56)),
    );

    c.group("Poseidon");
    c.set("MDS_00", F::MDS_MATRIX_CIRC[0] + F::MDS_MATRIX_DIAG[0]);
    c.set("HALF_FULL_ROUNDS", HALF_N_FULL_ROUNDS);
    c.set("PARTIAL_ROUNDS", N_PARTIAL_ROUNDS);
    c.set("LAST_PARTIAL", N_PARTIAL_ROUNDS - 1);

    c.group("The circuit");
    c.set("NUM_PI", FINAL_INPUTS);
    c.set("NUM_GATES", common.gates.len());
    c.set("UNUSED_SELECTOR", u32::MAX);
    c.set("NUM_ROUTED", config.num_routed_wires);
    c.set("CHUNK", common.quotient_degree_factor);
    c.set("NUM_CHUNKS", num_chunks);
    c.set("NUM_PARTIALS", common.num_partial_products);
    c.set("QUOTIENT_DEGREE", common.quotient_degree_factor);
    c.set("DEGREE_BITS", layout.degree_bits);
    c.set("DEGREE", 1u64 << layout.degree_bits);
    c.set("DEGREE_ROOT", F::primitive_root_of_unity(layout.degree_bits).to_canonical_u64());
    let constraint_terms_at = num_challenges * (1 + num_chunks);
    c.set("CONSTRAINT_TERMS_AT", constraint_terms_at);
    let num_apow = common.num_gate_constraints.max(constraint_terms_at + 1);
    c.set("NUM_APOW", num_apow);

    c.group("FRI");
    c.set("QUERIES", layout.queries);
    c.set("NUM_LAYERS", layout.arity_bits.len());
    c.set("LDE_MASK", (1u64 << layout.lde_bits) - 1);
    c.set("COSET_SHIFT", F::MULTIPLICATIVE_GROUP_GENERATOR.to_canonical_u64());
    c.set("INITIAL_PATH", layout.initial_path_len);
    c.set("NUM_OPENINGS_ZETA", layout.openings_zeta);
    c.set("NUM_OPENINGS_NEXT", layout.openings_next);
    c.set("FINAL_POLY_LEN", layout.final_poly_len);
    c.set("POW_SHIFT", 64 - fri.config.proof_of_work_bits);
    c.set("QUERY_SIZE", layout.query_size);
    c.set("ZS_LEAF_AT", layout.oracle_offsets[2]);
    c.set("CAP_BYTES", layout.cap_len * DIGEST_WORD);
    c.set("FOLD_ARITY", 1u64 << arity_bits);
    c.set("FOLD_UNSCALE", F::TWO.inverse().exp_u64(arity_bits as u64).to_canonical_u64());

    c.group("Calldata: the proof (canonical ABI encoding) and the public inputs");
    let cd = |offset: usize| CALLDATA_PROOF + offset;
    let opening = |index: usize| cd(layout.openings) + EXT_BYTES * index;
    c.set("CD_PROOF", CALLDATA_PROOF);
    c.set("CD_PUBLIC_INPUTS", CALLDATA_PROOF + layout.total.next_multiple_of(32) + 32);
    c.set("CD_WIRES_CAP", cd(layout.wires_cap));
    c.set("CD_ZS_CAP", cd(layout.zs_cap));
    c.set("CD_QUOTIENT_CAP", cd(layout.quotient_cap));
    c.set("CD_OPENINGS", opening(0));
    c.set("OPENING_WORDS", opening_felts / 4);
    c.set("CD_CONSTANTS", opening(0));
    c.set("CD_GATE_CONSTANTS", opening(num_selectors));
    let sigmas = common.num_constants;
    let wires = sigmas + config.num_routed_wires;
    let zs = wires + config.num_wires;
    let partial_products = zs + num_challenges;
    let quotients = partial_products + num_challenges * common.num_partial_products;
    let zs_next = quotients + num_challenges * common.quotient_degree_factor;
    ensure!(zs_next == layout.openings_zeta, "openings at ζ do not add up");
    c.set("CD_SIGMAS", opening(sigmas));
    c.set("CD_WIRES", opening(wires));
    c.set("CD_ZS", opening(zs));
    c.set("CD_PARTIAL_PRODUCTS", opening(partial_products));
    c.set("CD_QUOTIENTS", opening(quotients));
    c.set("CD_ZS_NEXT", opening(zs_next));
    c.set("CD_COMMIT_CAPS", cd(layout.commit_caps));
    c.set("CD_QUERY_ROUNDS", cd(layout.query_rounds));
    c.set("CD_FINAL_POLY", cd(layout.final_poly));
    c.set("FINAL_POLY_WORDS", final_poly_felts / 4);
    c.set("CD_POW", cd(layout.pow_witness));

    c.group("The constant table");
    c.set("TABLE_DATA", table_data);
    c.set("TABLE_BYTES", table_bytes.len());
    c.set("TABLE_CAP", table_data + index.cap_bytes);
    c.set("T_RC", index.round_constants);
    c.set("T_FIRST", index.first_partial);
    c.set("T_PRC", index.partial_constants);
    c.set("T_VS", index.vs);
    c.set("T_WHATS", index.w_hats);
    c.set("T_KIS", index.k_is);
    c.set("T_OMEGA", index.omega);
    c.set("T_FOLD_POWERS", index.fold_powers);
    c.set("T_FOLD_INVERSE_POWERS", index.fold_inverse_powers);

    c.group("Memory");
    let m_hash = word(&mut memory, &mut c, "M_HASH", 2);
    c.set("M_HASH_RIGHT", m_hash + HASH_BYTES);
    word(&mut memory, &mut c, "M_STATE", 4);
    word(&mut memory, &mut c, "M_IN", 1);
    word(&mut memory, &mut c, "M_OUT", 1);
    word(&mut memory, &mut c, "M_REJECT", 4);
    word(&mut memory, &mut c, "M_REJECT_HASH", 1);
    word(&mut memory, &mut c, "ST", WIDTH);
    word(&mut memory, &mut c, "S0", WIDTH);
    word(&mut memory, &mut c, "S1", WIDTH);
    let linear_tmp = memory.alloc(WIDTH);
    // Challenges, with two words before them for `return_words`.
    memory.alloc(2);
    let layers = layout.arity_bits.len();
    let ch = word(&mut memory, &mut c, "CH_PIH", 4);
    word(&mut memory, &mut c, "CH_BETA", num_challenges);
    word(&mut memory, &mut c, "CH_GAMMA", num_challenges);
    word(&mut memory, &mut c, "CH_ALPHA", num_challenges);
    word(&mut memory, &mut c, "CH_ZETA", D);
    word(&mut memory, &mut c, "CH_FRI_ALPHA", D);
    word(&mut memory, &mut c, "CH_FRI_BETAS", D * layers);
    word(&mut memory, &mut c, "CH_POW", 1);
    word(&mut memory, &mut c, "CH_QUERIES", layout.queries);
    c.set("NUM_CHALLENGE_WORDS", (memory.next - ch) / 32);
    word(&mut memory, &mut c, "APOW", 2 * num_apow);
    // The gate's and the total sums: alpha_0 (2 words), alpha_1 (2 words).
    for name in ["GACC", "GTOTAL"] {
        let at = word(&mut memory, &mut c, name, 4);
        for part in 1..4 {
            c.set(&format!("{name}_{part}"), at + 32 * part);
        }
    }
    memory.alloc(2);
    word(&mut memory, &mut c, "GATE_SUMS", 4 * common.gates.len());
    for name in ["GA", "GB", "GR", "GX", "GT", "GV", "GEVAL", "GPROD"] {
        word(&mut memory, &mut c, name, 4);
    }
    word(&mut memory, &mut c, "GLIST", 2 * 16);
    word(&mut memory, &mut c, "TERMS", 2 * constraint_terms_at);
    word(&mut memory, &mut c, "ZETA_N", 2);
    let fpow = word(&mut memory, &mut c, "FPOW", 2 * layout.openings_zeta);
    c.set("FPOW_END", fpow + 64 * layout.openings_zeta);
    word(&mut memory, &mut c, "RZ", 2);
    word(&mut memory, &mut c, "RZ_NEXT", 2);
    word(&mut memory, &mut c, "ZETA_NEXT", 2);
    word(&mut memory, &mut c, "QX", layout.queries);
    word(&mut memory, &mut c, "QINV", 3 * layout.queries);
    memory.alloc(3 * layout.queries);
    c.set("QINV_PREFIX", 32 * 3 * layout.queries);
    word(&mut memory, &mut c, "Q_SUM", 2);
    word(&mut memory, &mut c, "Q_NEXT", 2);
    word(&mut memory, &mut c, "Q_X", 1);
    word(&mut memory, &mut c, "Q_XINV", 1);
    word(&mut memory, &mut c, "Q_INDEX", 1);
    word(&mut memory, &mut c, "FOLD", 2 << arity_bits);
    let max_leaf_felts = layout.oracle_sizes.iter().copied().max().unwrap_or(0).max(2 << arity_bits);
    word(&mut memory, &mut c, "M_LEAF", max_leaf_felts.div_ceil(4) + 1);
    memory.alloc(1);
    word(&mut memory, &mut c, "M_PROFILE", 64);

    // The transcript's state after the constant prefix.
    let (state, pending) = prefix_sponge(common, verifier).snapshot();
    let state_bytes: Vec<u8> = state.iter().flat_map(|w| w.to_le_bytes()).collect();
    let mut sponge_init = String::new();
    for (i, chunk) in state_bytes.chunks(32).enumerate() {
        let _ = write!(sponge_init, "mstore(add(M_STATE, {}), 0x{})\n                ", 32 * i, hex::encode(chunk));
    }
    let _ = write!(sponge_init, "mstore(M_IN, {pending})\n                mstore(M_OUT, 0)");

    // One FRI query round: the initial oracles, then the folding layers.
    let mut initial_checks = String::new();
    let mut first_poly = 0;
    for (oracle, (&size, &offset)) in layout.oracle_sizes.iter().zip(&layout.oracle_offsets).enumerate() {
        let cap = match oracle {
            0 => "TABLE_CAP".to_string(),
            1 => "CD_WIRES_CAP".to_string(),
            2 => "CD_ZS_CAP".to_string(),
            3 => "CD_QUOTIENT_CAP".to_string(),
            _ => bail!("the verifier knows four initial oracles"),
        };
        let tail = if size % 4 == 0 {
            "0".to_string()
        } else {
            format!("0x{}", hex::encode(mask(0, FIELD_BYTES * (size % 4))))
        };
        let _ = writeln!(
            initial_checks,
            "                r0, r1 := check_initial(q, {oracle}, add(at, {offset}), {size}, {tail}, {first_poly}, {cap}, index, r0, r1)"
        );
        first_poly += size;
    }
    let mut layer_folds = String::new();
    for (l, ((&bits, &offset), &path)) in
        layout.arity_bits.iter().zip(&layout.layer_offsets).zip(&layout.layer_path_lens).enumerate()
    {
        let _ = writeln!(
            layer_folds,
            "                fold_layer(q, {l}, add(at, {offset}), {bits}, {path}, add(CD_COMMIT_CAPS, {}))",
            l * layout.cap_len * DIGEST_WORD
        );
    }

    let values: Vec<(&str, String)> = vec![
        ("NAME", name.to_string()),
        ("FAMILY", family.to_string()),
        ("QUERIES", layout.queries.to_string()),
        ("RATE_BITS", fri.config.rate_bits.to_string()),
        ("POW_BITS", fri.config.proof_of_work_bits.to_string()),
        ("PROOF_BYTES", layout.total.to_string()),
        ("CIRCUIT_DIGEST", format!("0x{}", hex::encode(digest_word(&verifier.circuit_digest)))),
        ("CONSTANTS", c.0),
        ("TABLE", hex::encode(&table_bytes)),
        ("SPONGE_INIT", sponge_init),
        ("MDS_CODE", poseidon::mds(linear_tmp)),
        ("PARTIAL_INIT_CODE", poseidon::partial_init(linear_tmp)),
        ("PARTIAL_FAST_BODY", poseidon::partial_fast_body()),
        ("GATE_FUNCTIONS", gate_functions),
        ("GATE_CALLS", gate_calls),
        ("INITIAL_CHECKS", initial_checks),
        ("LAYER_FOLDS", layer_folds),
    ];
    let source = fill(TEMPLATE, &values)?;
    Ok(GeneratedVerifier { source, layout })
}

/// Allocates `words` words of memory named `name`.
fn word(memory: &mut Memory, c: &mut Constants, name: &str, words: usize) -> usize {
    let at = memory.alloc(words);
    c.set(name, at);
    at
}

/// Replaces every `{{NAME}}`; fails on a placeholder left unfilled.
fn fill(template: &str, values: &[(&str, String)]) -> Result<String> {
    let mut out = template.to_string();
    for (name, value) in values {
        out = out.replace(&format!("{{{{{name}}}}}"), value);
    }
    if let Some(at) = out.find("{{") {
        bail!("unfilled placeholder near: {}", &out[at..(at + 40).min(out.len())]);
    }
    Ok(out)
}

/// A digest as the left-aligned 32-byte word the contract compares.
fn digest_word(digest: &BytesHash<HASH_BYTES>) -> [u8; 32] {
    let mut word = [0u8; 32];
    word[..HASH_BYTES].copy_from_slice(&digest.0);
    word
}

/// A 32-byte word with `len` bytes set from byte `start`.
fn mask(start: usize, len: usize) -> [u8; 32] {
    let mut mask = [0u8; 32];
    mask[start..start + len].fill(0xff);
    mask
}

/// `SelectorsInfo`'s fields are crate-private; it serializes them.
#[derive(serde::Deserialize)]
struct SelectorsInfoData {
    selector_indices: Vec<usize>,
    groups: Vec<std::ops::Range<usize>>,
}
