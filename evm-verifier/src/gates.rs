//! Yul for the constraints of each gate the final circuit uses, mirroring
//! each gate's `eval_unfiltered` in plonky2 1.1 (`plonky2/src/gates/*.rs`).
//!
//! Every gate but the no-op gets a function `gate_<row>()` that computes its
//! constraints at ζ from the opened wires (`w(j)`, `alg_wires(j, p)`) and gate
//! constants (`gc(j)`) and hands constraint `j` to `cons(j, c0, c1)`, which
//! weighs it with powers of the plonk alphas; the contract's `gate_end` then
//! applies the gate's selector filter. Values are extension elements
//! `(c0, c1)`; gates over the extension algebra keep 4-word values in the
//! scratch words `GA`, `GB`, ... of the memory map.

use anyhow::{Result, bail};
use plonky2::field::types::Field;
use plonky2::gates::arithmetic_base::ArithmeticGate;
use plonky2::gates::arithmetic_extension::ArithmeticExtensionGate;
use plonky2::gates::base_sum::BaseSumGate;
use plonky2::gates::constant::ConstantGate;
use plonky2::gates::coset_interpolation::CosetInterpolationGate;
use plonky2::gates::gate::GateRef;
use plonky2::gates::multiplication_extension::MulExtensionGate;
use plonky2::gates::noop::NoopGate;
use plonky2::gates::poseidon::PoseidonGate;
use plonky2::gates::poseidon_mds::PoseidonMdsGate;
use plonky2::gates::public_input::PublicInputGate;
use plonky2::gates::random_access::RandomAccessGate;
use plonky2::gates::reducing::ReducingGate;
use plonky2::gates::reducing_extension::ReducingExtensionGate;
use plonky2::hash::poseidon::{HALF_N_FULL_ROUNDS, N_PARTIAL_ROUNDS};
use zkpor_circuits::{D, F};

use crate::table::{TableBuilder, WIDTH};

/// Yul of one gate: its function definitions, `None` for a gate without
/// constraints.
pub(crate) fn gate_code(row: usize, gate: &GateRef<F, D>, table: &mut TableBuilder) -> Result<Option<String>> {
    let any = gate.0.as_any();
    let name = format!("gate_{row}");
    let code = |template: &str, values: &[(&str, String)]| fill(template, &name, values);

    let code = if any.downcast_ref::<NoopGate>().is_some() {
        return Ok(None);
    } else if any.downcast_ref::<ConstantGate>().is_some() {
        code(CONSTANT, &[("N", gate.0.num_constraints().to_string())])
    } else if any.downcast_ref::<PublicInputGate>().is_some() {
        code(PUBLIC_INPUT, &[])
    } else if let Some(g) = any.downcast_ref::<ArithmeticGate>() {
        code(ARITHMETIC, &[("N", g.num_ops.to_string())])
    } else if let Some(g) = any.downcast_ref::<ArithmeticExtensionGate<D>>() {
        code(ARITHMETIC_EXTENSION, &[("N", g.num_ops.to_string())])
    } else if let Some(g) = any.downcast_ref::<MulExtensionGate<D>>() {
        code(MUL_EXTENSION, &[("N", g.num_ops.to_string())])
    } else if let Some(g) = any.downcast_ref::<BaseSumGate<2>>() {
        code(BASE_SUM, &[("N", g.num_limbs.to_string())])
    } else if let Some(g) = any.downcast_ref::<ReducingGate<D>>() {
        reducing(&name, g.num_coeffs, 1, BASE_COEFF)
    } else if let Some(g) = any.downcast_ref::<ReducingExtensionGate<D>>() {
        reducing(&name, g.num_coeffs, D, ALGEBRA_COEFF)
    } else if let Some(g) = any.downcast_ref::<RandomAccessGate<F, D>>() {
        let vec = 1usize << g.bits;
        if vec > 16 {
            bail!("random access over {vec} items exceeds the verifier's scratch list of 16");
        }
        let per_copy = g.bits + 2;
        code(
            RANDOM_ACCESS,
            &[
                ("BITS", g.bits.to_string()),
                ("COPIES", g.num_copies.to_string()),
                ("VEC", vec.to_string()),
                ("STRIDE", (2 + vec).to_string()),
                ("PER_COPY", per_copy.to_string()),
                ("ROUTED", ((2 + vec) * g.num_copies + g.num_extra_constants).to_string()),
                ("EXTRA_AT", ((2 + vec) * g.num_copies).to_string()),
                ("EXTRA_CONS", (per_copy * g.num_copies).to_string()),
                ("EXTRA", g.num_extra_constants.to_string()),
            ],
        )
    } else if let Some(g) = any.downcast_ref::<CosetInterpolationGate<F, D>>() {
        coset_interpolation(&name, g, table)?
    } else if any.downcast_ref::<PoseidonMdsGate<F, D>>().is_some() {
        code(POSEIDON_MDS, &[])
    } else if any.downcast_ref::<PoseidonGate<F, D>>().is_some() {
        poseidon(&name)
    } else {
        bail!("the EVM verifier has no code for gate {}", gate.0.id());
    };
    Ok(Some(code))
}

/// Replaces `$NAME` and the other `$KEY`s, longest keys first.
fn fill(template: &str, name: &str, values: &[(&str, String)]) -> String {
    let mut sorted: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    sorted.push(("NAME", name));
    sorted.sort_by_key(|(key, _)| std::cmp::Reverse(key.len()));
    let mut out = template.to_string();
    for (key, value) in sorted {
        out = out.replace(&format!("${key}"), value);
    }
    assert!(!out.contains('$'), "unfilled placeholder in gate code:\n{out}");
    out
}

/// A reducing gate of `n` coefficients of `width` wires each: its
/// accumulators follow output, alpha, old accumulator and the coefficients.
fn reducing(name: &str, n: usize, width: usize, coeff: &str) -> String {
    let values = [
        ("COEFF", coeff.to_string()),
        ("N", n.to_string()),
        ("LAST", (n - 1).to_string()),
        ("ACCS", (3 * D + n * width).to_string()),
    ];
    fill(REDUCING, name, &values)
}

fn coset_interpolation(name: &str, g: &CosetInterpolationGate<F, D>, table: &mut TableBuilder) -> Result<String> {
    let points = 1usize << g.subgroup_bits;
    let degree = g.degree;
    if degree < 2 {
        bail!("coset interpolation of degree {degree} is not supported");
    }
    let intermediates = (points - 2) / (degree - 1);
    let domain = table.add_section(&F::two_adic_subgroup(g.subgroup_bits));
    let weights = table.add_section(&g.barycentric_weights);
    let eval_point = 1 + points * D;
    let eval_value = eval_point + D;
    let intermediates_at = eval_value + D;
    let mut steps = String::new();
    for i in 0..intermediates {
        let start = 1 + (degree - 1) * (i + 1);
        let end = (start + degree - 1).min(points);
        steps += &format!(
            "                $NAME_step({}, {}, {}, {start}, {end})\n",
            intermediates_at + D * i,
            intermediates_at + D * (intermediates + i),
            2 + 4 * i,
        );
    }
    Ok(fill(
        COSET_INTERPOLATION,
        name,
        &[
            ("STEPS", steps),
            ("DOMAIN", domain.to_string()),
            ("WEIGHTS", weights.to_string()),
            ("EVAL_POINT", eval_point.to_string()),
            ("EVAL_VALUE", eval_value.to_string()),
            ("SHIFTED", (intermediates_at + 2 * D * intermediates).to_string()),
            ("DEGREE", degree.to_string()),
            ("LAST", (2 + 4 * intermediates).to_string()),
        ],
    ))
}

/// The Poseidon gate: wire and constraint numbers of plonky2's layout.
fn poseidon(name: &str) -> String {
    let swap = 2 * WIDTH;
    let delta = swap + 1;
    let full0 = delta + 4;
    let partial = full0 + WIDTH * (HALF_N_FULL_ROUNDS - 1);
    let full1 = partial + N_PARTIAL_ROUNDS;
    // Constraints: swap, 4 deltas, the S-box inputs of the first full rounds
    // but the first, of the partial rounds, of the second full rounds, then
    // the outputs.
    let mut rounds = String::new();
    let mut constraint = 5;
    for r in 1..HALF_N_FULL_ROUNDS {
        rounds += &format!("                $NAME_full({r}, {}, {constraint})\n", full0 + WIDTH * (r - 1));
        constraint += WIDTH;
    }
    rounds += &format!("                $NAME_partial({constraint}, {partial})\n");
    constraint += N_PARTIAL_ROUNDS;
    for r in 0..HALF_N_FULL_ROUNDS {
        rounds +=
            &format!("                $NAME_full({}, {}, {constraint})\n", HALF_N_FULL_ROUNDS + r, full1 + WIDTH * r);
        constraint += WIDTH;
    }
    fill(
        POSEIDON,
        name,
        &[
            ("ROUNDS", rounds),
            ("SWAP", swap.to_string()),
            ("DELTA", delta.to_string()),
            ("OUTPUTS", constraint.to_string()),
        ],
    )
}

const CONSTANT: &str = r#"
            function $NAME() {
                for { let i := 0 } lt(i, $N) { i := add(i, 1) } {
                    let c0, c1 := gc(i)
                    let w0, w1 := w(i)
                    cons_diff(i, c0, c1, w0, w1)
                }
            }"#;

const PUBLIC_INPUT: &str = r#"
            function $NAME() {
                for { let i := 0 } lt(i, 4) { i := add(i, 1) } {
                    let w0, w1 := w(i)
                    cons_diff(i, w0, w1, mload(add(CH_PIH, shl(5, i))), 0)
                }
            }"#;

// output - (m0 m1 c0 + addend c1), 4 wires per operation.
const ARITHMETIC: &str = r#"
            function $NAME() {
                for { let i := 0 } lt(i, $N) { i := add(i, 1) } { $NAME_op(i) }
            }
            function $NAME_op(i) {
                let at := add(CD_WIRES, shl(6, i))
                let m0, m1 := emul(shr(192, calldataload(at)), shr(192, calldataload(add(at, 8))), shr(192, calldataload(add(at, 16))), shr(192, calldataload(add(at, 24))))
                let c0, c1 := gc(0)
                m0, m1 := emul(m0, m1, c0, c1)
                c0, c1 := gc(1)
                c0, c1 := emul(shr(192, calldataload(add(at, 32))), shr(192, calldataload(add(at, 40))), c0, c1)
                cons(i, add(shr(192, calldataload(add(at, 48))), sub(P2, add(m0, c0))), add(shr(192, calldataload(add(at, 56))), sub(P2, add(m1, c1))))
            }"#;

// Over the algebra: output - ((m0 m1) c0 + addend c1), 8 wires per operation.
const ARITHMETIC_EXTENSION: &str = r#"
            function $NAME() {
                for { let i := 0 } lt(i, $N) { i := add(i, 1) } {
                    let b := shl(3, i)
                    alg_wires(b, GA)
                    alg_wires(add(b, 2), GB)
                    alg_mul(GA, GB, GR)
                    let c0, c1 := gc(0)
                    alg_scale(GR, c0, c1)
                    alg_wires(add(b, 4), GA)
                    c0, c1 := gc(1)
                    alg_scale(GA, c0, c1)
                    alg_wires(add(b, 6), GB)
                    cons(shl(1, i), add(mload(GB), sub(P2, add(mload(GR), mload(GA)))), add(mload(add(GB, 32)), sub(P2, add(mload(add(GR, 32)), mload(add(GA, 32))))))
                    cons(add(shl(1, i), 1), add(mload(add(GB, 64)), sub(P2, add(mload(add(GR, 64)), mload(add(GA, 64))))), add(mload(add(GB, 96)), sub(P2, add(mload(add(GR, 96)), mload(add(GA, 96))))))
                }
            }"#;

// Over the algebra: output - (m0 m1) c0, 6 wires per operation.
const MUL_EXTENSION: &str = r#"
            function $NAME() {
                for { let i := 0 } lt(i, $N) { i := add(i, 1) } {
                    let b := mul(i, 6)
                    alg_wires(b, GA)
                    alg_wires(add(b, 2), GB)
                    alg_mul(GA, GB, GR)
                    let c0, c1 := gc(0)
                    alg_scale(GR, c0, c1)
                    alg_wires(add(b, 4), GB)
                    cons_alg(shl(1, i), GB, GR)
                }
            }"#;

// Base 2: sum_i limb_i 2^i - sum, then limb (limb - 1) for each limb.
const BASE_SUM: &str = r#"
            function $NAME() {
                let s0 := 0
                let s1 := 0
                for { let i := $N } i {} {
                    i := sub(i, 1)
                    let l0, l1 := w(add(1, i))
                    s0 := addmod(add(s0, s0), l0, P)
                    s1 := addmod(add(s1, s1), l1, P)
                    let t0, t1 := emul(l0, l1, add(l0, P_MINUS_1), l1)
                    cons(add(1, i), t0, t1)
                }
                let w0, w1 := w(0)
                cons_diff(0, s0, s1, w0, w1)
            }"#;

// acc_i alpha + coeff_i - acc_{i+1}; $COEFF adds coefficient i to GR.
const REDUCING: &str = r#"
            function $NAME() {
                alg_wires(2, GB)
                alg_wires(4, GA)
                for { let i := 0 } lt(i, $N) { i := add(i, 1) } {
                    alg_mul(GA, GB, GR)
$COEFF
                    let acc := add($ACCS, shl(1, i))
                    if eq(i, $LAST) { acc := 0 }
                    alg_wires(acc, GA)
                    cons_alg(shl(1, i), GR, GA)
                }
            }"#;

// A coefficient in the base (one wire) adds to the algebra's first component.
const BASE_COEFF: &str = r#"                    let c0, c1 := w(add(6, i))
                    mstore(GR, add(mload(GR), c0))
                    mstore(add(GR, 32), add(mload(add(GR, 32)), c1))"#;

// A coefficient in the algebra (two wires).
const ALGEBRA_COEFF: &str = r#"                    alg_wires(add(6, shl(1, i)), GA)
                    mstore(GR, add(mload(GR), mload(GA)))
                    mstore(add(GR, 32), add(mload(add(GR, 32)), mload(add(GA, 32))))
                    mstore(add(GR, 64), add(mload(add(GR, 64)), mload(add(GA, 64))))
                    mstore(add(GR, 96), add(mload(add(GR, 96)), mload(add(GA, 96))))"#;

// Per copy: each bit boolean, the bits compose the index, folding the list
// by the bits gives the claimed element; then the extra constants.
const RANDOM_ACCESS: &str = r#"
            function $NAME() {
                for { let c := 0 } lt(c, $COPIES) { c := add(c, 1) } { $NAME_copy(c) }
                for { let i := 0 } lt(i, $EXTRA) { i := add(i, 1) } {
                    let c0, c1 := gc(i)
                    let e0, e1 := w(add($EXTRA_AT, i))
                    cons_diff(add($EXTRA_CONS, i), c0, c1, e0, e1)
                }
            }
            function $NAME_copy(c) {
                let base := mul(c, $STRIDE)
                let j := mul(c, $PER_COPY)
                let bits := add($ROUTED, mul(c, $BITS))
                let r0 := 0
                let r1 := 0
                for { let k := $BITS } k {} {
                    k := sub(k, 1)
                    let b0, b1 := w(add(bits, k))
                    r0 := addmod(add(r0, r0), b0, P)
                    r1 := addmod(add(r1, r1), b1, P)
                    let t0, t1 := emul(b0, b1, add(b0, P_MINUS_1), b1)
                    cons(add(j, k), t0, t1)
                }
                let a0, a1 := w(base)
                cons_diff(add(j, $BITS), r0, r1, a0, a1)
                for { let i := 0 } lt(i, $VEC) { i := add(i, 1) } {
                    let v0, v1 := w(add(base, add(2, i)))
                    est(add(GLIST, shl(6, i)), v0, v1)
                }
                let len := $VEC
                for { let k := 0 } lt(k, $BITS) { k := add(k, 1) } {
                    let b0, b1 := w(add(bits, k))
                    len := shr(1, len)
                    for { let i := 0 } lt(i, len) { i := add(i, 1) } {
                        let x0, x1 := eld(add(GLIST, shl(7, i)))
                        let y0, y1 := eld(add(GLIST, add(shl(7, i), 64)))
                        y0, y1 := emul(b0, b1, add(y0, sub(P, x0)), add(y1, sub(P, x1)))
                        est(add(GLIST, shl(6, i)), addmod(x0, y0, P), addmod(x1, y1, P))
                    }
                }
                let m0, m1 := eld(GLIST)
                let e0, e1 := w(add(base, 1))
                cons_diff(add(j, add($BITS, 1)), m0, m1, e0, e1)
            }"#;

// Barycentric interpolation over the algebra, in chunks checked against the
// intermediate wires.
const COSET_INTERPOLATION: &str = r#"
            function $NAME() {
                let s0, s1 := w(0)
                alg_wires($SHIFTED, GX)
                alg_copy(GX, GA)
                alg_scale(GA, s0, s1)
                alg_wires($EVAL_POINT, GB)
                cons_alg(0, GB, GA)
                mstore(GEVAL, 0)
                mstore(add(GEVAL, 32), 0)
                mstore(add(GEVAL, 64), 0)
                mstore(add(GEVAL, 96), 0)
                mstore(GPROD, 1)
                mstore(add(GPROD, 32), 0)
                mstore(add(GPROD, 64), 0)
                mstore(add(GPROD, 96), 0)
                $NAME_partial(0, $DEGREE)
$STEPS                alg_wires($EVAL_VALUE, GA)
                cons_alg($LAST, GA, GEVAL)
            }
            function $NAME_step(eval_at, prod_at, j, start, end) {
                alg_wires(eval_at, GA)
                cons_alg(j, GA, GEVAL)
                alg_wires(prod_at, GB)
                cons_alg(add(j, 2), GB, GPROD)
                alg_copy(GA, GEVAL)
                alg_copy(GB, GPROD)
                $NAME_partial(start, end)
            }
            // eval = eval (x - x_k) + value_k weight_k prod, prod = prod (x - x_k).
            function $NAME_partial(start, end) {
                for { let k := start } lt(k, end) { k := add(k, 1) } {
                    alg_copy(GX, GT)
                    mstore(GT, add(mload(GT), sub(P, tb(add($DOMAIN, k)))))
                    alg_wires(add(1, shl(1, k)), GV)
                    let wk := tb(add($WEIGHTS, k))
                    mstore(GV, mulmod(mload(GV), wk, P))
                    mstore(add(GV, 32), mulmod(mload(add(GV, 32)), wk, P))
                    mstore(add(GV, 64), mulmod(mload(add(GV, 64)), wk, P))
                    mstore(add(GV, 96), mulmod(mload(add(GV, 96)), wk, P))
                    alg_mul(GEVAL, GT, GEVAL)
                    alg_mul(GV, GPROD, GV)
                    mstore(GEVAL, addmod(mload(GEVAL), mload(GV), P))
                    mstore(add(GEVAL, 32), addmod(mload(add(GEVAL, 32)), mload(add(GV, 32)), P))
                    mstore(add(GEVAL, 64), addmod(mload(add(GEVAL, 64)), mload(add(GV, 64)), P))
                    mstore(add(GEVAL, 96), addmod(mload(add(GEVAL, 96)), mload(add(GV, 96)), P))
                    alg_mul(GPROD, GT, GPROD)
                }
            }"#;

// The MDS layer over 12 algebra elements, two packed words each.
const POSEIDON_MDS: &str = r#"
            function $NAME() {
                for { let i := 0 } lt(i, 12) { i := add(i, 1) } {
                    let x := calldataload(add(CD_WIRES, shl(5, i)))
                    mstore(add(ST, shl(5, i)), or(shr(192, x), shl(128, and(shr(128, x), MASK64))))
                    mstore(add(S0, shl(5, i)), or(and(shr(64, x), MASK64), shl(128, and(x, MASK64))))
                }
                mds(ST)
                mds(S0)
                for { let i := 0 } lt(i, 12) { i := add(i, 1) } {
                    let x := calldataload(add(CD_WIRES, shl(5, add(12, i))))
                    let a := mload(add(ST, shl(5, i)))
                    let b := mload(add(S0, shl(5, i)))
                    cons(shl(1, i), add(shr(192, x), sub(P, mod(and(a, MASK128), P))), add(and(shr(128, x), MASK64), sub(P, mod(shr(128, a), P))))
                    cons(add(shl(1, i), 1), add(and(shr(64, x), MASK64), sub(P, mod(and(b, MASK128), P))), add(and(x, MASK64), sub(P, mod(shr(128, b), P))))
                }
            }"#;

// One Poseidon permutation over the extension, checking every S-box input
// against its wire. Full rounds work on the packed state at ST.
const POSEIDON: &str = r#"
            function $NAME() {
                let sw0, sw1 := w($SWAP)
                {
                    let t0, t1 := emul(sw0, sw1, add(sw0, P_MINUS_1), sw1)
                    cons(0, t0, t1)
                }
                for { let i := 0 } lt(i, 4) { i := add(i, 1) } {
                    let l0, l1 := w(i)
                    let r0, r1 := w(add(i, 4))
                    let d0, d1 := w(add($DELTA, i))
                    let t0, t1 := emul(sw0, sw1, add(r0, sub(P, l0)), add(r1, sub(P, l1)))
                    cons_diff(add(1, i), t0, t1, d0, d1)
                    mstore(add(ST, shl(5, i)), or(addmod(l0, d0, P), shl(128, addmod(l1, d1, P))))
                    mstore(add(ST, shl(5, add(i, 4))), or(addmod(r0, sub(P, d0), P), shl(128, addmod(r1, sub(P, d1), P))))
                }
                for { let i := 8 } lt(i, 12) { i := add(i, 1) } {
                    let a0, a1 := w(i)
                    mstore(add(ST, shl(5, i)), or(a0, shl(128, a1)))
                }
                $NAME_full(0, 0, 0)
$ROUNDS                for { let i := 0 } lt(i, 12) { i := add(i, 1) } {
                    let x := mload(add(ST, shl(5, i)))
                    let o0, o1 := w(add(12, i))
                    cons_diff(add($OUTPUTS, i), mod(and(x, MASK128), P), mod(shr(128, x), P), o0, o1)
                }
            }
            // Full round r: constants, S-box inputs checked against wires
            // first.. (constraints j..) unless first is 0, S-boxes, MDS.
            function $NAME_full(r, first, j) {
                let rc := add(TABLE_DATA, shl(3, add(T_RC, mul(r, 12))))
                for { let i := 0 } lt(i, 12) { i := add(i, 1) } {
                    let q := add(ST, shl(5, i))
                    let x := mload(q)
                    let a0 := addmod(and(x, MASK128), shr(192, mload(add(rc, shl(3, i)))), P)
                    let a1 := mod(shr(128, x), P)
                    if first {
                        let b0, b1 := w(add(first, i))
                        cons_diff(add(j, i), a0, a1, b0, b1)
                        a0 := b0
                        a1 := b1
                    }
                    a0, a1 := esbox(a0, a1)
                    mstore(q, or(a0, shl(128, a1)))
                }
                mds(ST)
            }
            // The partial rounds, S-box inputs checked against wires first..
            // (constraints j..), on the components S0 and S1.
            function $NAME_partial(j, first) {
                for { let i := 0 } lt(i, 12) { i := add(i, 1) } {
                    let x := mload(add(ST, shl(5, i)))
                    mstore(add(S0, shl(5, i)), add(and(x, MASK128), tb(add(T_FIRST, i))))
                    mstore(add(S1, shl(5, i)), shr(128, x))
                }
                partial_init(S0)
                partial_init(S1)
                for { let r := 0 } lt(r, PARTIAL_ROUNDS) { r := add(r, 1) } {
                    let b0, b1 := w(add(first, r))
                    cons_diff(add(j, r), mload(S0), mload(S1), b0, b1)
                    let a0, a1 := esbox(b0, b1)
                    if lt(r, LAST_PARTIAL) { a0 := addmod(a0, tb(add(T_PRC, r)), P) }
                    mstore(S0, a0)
                    mstore(S1, a1)
                    partial_fast(S0, r)
                    partial_fast(S1, r)
                }
                for { let i := 0 } lt(i, 12) { i := add(i, 1) } {
                    mstore(add(ST, shl(5, i)), or(mod(mload(add(S0, shl(5, i))), P), shl(128, mod(mload(add(S1, shl(5, i))), P))))
                }
            }"#;
