//! Straight-line Yul for Poseidon's linear layers, with the matrices'
//! coefficients as literals, so the verifier spends its gas on arithmetic
//! rather than on loops and table reads.

use plonky2::hash::poseidon::Poseidon;
use zkpor_circuits::F;

use crate::table::WIDTH;

/// `function mds(p)`: the 12 words at `p` times the MDS matrix, through the
/// 12 words at `tmp`, without reduction. The coefficients are below 2^6, so
/// inputs below 2^64 give outputs below 2^73, and a word packing two such
/// inputs as `c0 + c1·2^128` gives the packed outputs.
pub(crate) fn mds(tmp: usize) -> String {
    let mut out = String::from("function mds(p) {\n");
    for r in 0..WIDTH {
        let terms: Vec<(usize, u64)> = (0..WIDTH)
            .map(|j| {
                let circulant = F::MDS_MATRIX_CIRC[(j + WIDTH - r) % WIDTH];
                let diagonal = if j == r { F::MDS_MATRIX_DIAG[r] } else { 0 };
                (j, circulant + diagonal)
            })
            .filter(|(_, c)| *c != 0)
            .collect();
        assert!(terms.iter().all(|(_, c)| *c < 64), "MDS coefficients are small");
        out += &format!("                mstore({}, {})\n", tmp + 32 * r, sum_of_products(&terms));
    }
    out += &copy_back(tmp, 0);
    out + "            }"
}

/// `function partial_init(p)`: plonky2's `mds_partial_layer_init` on the 12
/// words at `p` (below 2^128): `p[0]` stays, `p[c] = Σ_{r≥1} p[r]·M[r−1][c−1]`,
/// reduced.
pub(crate) fn partial_init(tmp: usize) -> String {
    let mut out = String::from("function partial_init(p) {\n");
    for c in 1..WIDTH {
        let terms: Vec<(usize, u64)> = (1..WIDTH)
            .map(|r| (r, F::FAST_PARTIAL_ROUND_INITIAL_MATRIX[r - 1][c - 1]))
            .filter(|(_, k)| *k != 0)
            .collect();
        out += &format!("                mstore({}, mod({}, P))\n", tmp + 32 * c, sum_of_products(&terms));
    }
    out += &copy_back(tmp, 1);
    out + "            }"
}

/// The body of `partial_fast(p, r)` after `s0`, `vs`, `wh` and `d` are set:
/// `d += p[i]·ŵ[i−1]` and `p[i] = s0·v[i−1] + p[i]`, unreduced.
pub(crate) fn partial_fast_body() -> String {
    (1..WIDTH)
        .map(|i| {
            format!(
                "{{ let q := add(p, {q}) let si := mload(q) d := add(d, mul(si, shr(192, mload(add(wh, {o}))))) mstore(q, add(mul(s0, shr(192, mload(add(vs, {o})))), si)) }}",
                q = 32 * i,
                o = 8 * (i - 1),
            )
        })
        .collect::<Vec<_>>()
        .join("\n                ")
}

/// `c_0·s[j_0] + (c_1·s[j_1] + (...))`, right-leaning so the stack stays shallow.
fn sum_of_products(terms: &[(usize, u64)]) -> String {
    let (j, c) = terms[0];
    let term = format!("mul(mload(add(p, {})), {c})", 32 * j);
    if terms.len() == 1 { term } else { format!("add({term}, {})", sum_of_products(&terms[1..])) }
}

fn copy_back(tmp: usize, from: usize) -> String {
    (from..WIDTH).map(|i| format!("                mstore(add(p, {}), mload({}))\n", 32 * i, tmp + 32 * i)).collect()
}
