//! What the generated verifier's failure codes mean: it reverts with
//! `InvalidProof(code)` at the first check that fails.

/// The proof's calldata is not `PROOF_BYTES` long.
pub const PROOF_LENGTH: u64 = 1;
/// The public inputs are not 14 canonical field elements.
pub const PUBLIC_INPUTS: u64 = 2;
/// A field element the transcript observes is not canonical.
pub const NOT_CANONICAL: u64 = 3;
/// A digest has non-zero padding bytes.
pub const DIGEST_PADDING: u64 = 4;
/// An inversion met zero.
pub const ZERO_INVERSE: u64 = 5;
/// The call's data is not the canonical ABI encoding of `verifyProof`.
pub const CALLDATA_LAYOUT: u64 = 6;
/// The vanishing identity fails for challenge 0 (this code) or 1 (the next).
pub const VANISHING: u64 = 10;
/// The proof-of-work witness does not grind enough bits.
pub const PROOF_OF_WORK: u64 = 20;
/// Checks of FRI query round `q` are numbered `QUERY + 100 q + check`.
pub const QUERY: u64 = 1000;
/// Query check: FRI layer `l`'s evaluation at the query point is `QUERY_LAYER + l`.
pub const QUERY_LAYER: u64 = 10;
/// Query check: FRI layer `l`'s Merkle path is `QUERY_LAYER_MERKLE + l`.
pub const QUERY_LAYER_MERKLE: u64 = 20;
/// Query check: the final polynomial's value.
pub const QUERY_FINAL_POLY: u64 = 30;

/// The codes as the generated contract names them.
pub(crate) const SOLIDITY_NAMES: [(&str, u64); 12] = [
    ("ERR_PROOF_LENGTH", PROOF_LENGTH),
    ("ERR_PUBLIC_INPUTS", PUBLIC_INPUTS),
    ("ERR_NOT_CANONICAL", NOT_CANONICAL),
    ("ERR_DIGEST_PADDING", DIGEST_PADDING),
    ("ERR_ZERO_INVERSE", ZERO_INVERSE),
    ("ERR_CALLDATA_LAYOUT", CALLDATA_LAYOUT),
    ("ERR_VANISHING", VANISHING),
    ("ERR_PROOF_OF_WORK", PROOF_OF_WORK),
    ("ERR_QUERY", QUERY),
    ("ERR_QUERY_LAYER", QUERY_LAYER),
    ("ERR_QUERY_LAYER_MERKLE", QUERY_LAYER_MERKLE),
    ("ERR_QUERY_FINAL_POLY", QUERY_FINAL_POLY),
];

/// A sentence saying which check failed.
pub fn describe(code: u64) -> String {
    match code {
        PROOF_LENGTH => "the proof does not have the length of this circuit's proofs".into(),
        PUBLIC_INPUTS => "the public inputs are not 14 canonical field elements".into(),
        NOT_CANONICAL => "a field element of the proof is not canonical".into(),
        DIGEST_PADDING => "a Merkle digest has non-zero padding".into(),
        ZERO_INVERSE => "an inversion met zero".into(),
        CALLDATA_LAYOUT => "the call is not the canonical ABI encoding of verifyProof".into(),
        VANISHING | 11 => format!(
            "the constraints do not hold at zeta for challenge {} (gates, permutation or quotient)",
            code - VANISHING
        ),
        PROOF_OF_WORK => "the proof-of-work witness is insufficient".into(),
        code if code >= QUERY => {
            let (round, check) = ((code - QUERY) / 100, (code - QUERY) % 100);
            let what = match check {
                0..=3 => format!("the Merkle path of initial oracle {check}"),
                c if (QUERY_LAYER..QUERY_LAYER_MERKLE).contains(&c) => {
                    format!("FRI layer {}'s value at the query point", c - QUERY_LAYER)
                }
                c if (QUERY_LAYER_MERKLE..QUERY_FINAL_POLY).contains(&c) => {
                    format!("the Merkle path of FRI layer {}", c - QUERY_LAYER_MERKLE)
                }
                QUERY_FINAL_POLY => "the final polynomial's value".into(),
                _ => format!("check {check}"),
            };
            format!("FRI query round {round} fails: {what}")
        }
        other => format!("check {other} fails"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_codes_name_round_and_check() {
        assert_eq!(describe(1302), "FRI query round 3 fails: the Merkle path of initial oracle 2");
        assert_eq!(describe(1011), "FRI query round 0 fails: FRI layer 1's value at the query point");
        assert_eq!(describe(2020), "FRI query round 10 fails: the Merkle path of FRI layer 0");
        assert_eq!(describe(1030), "FRI query round 0 fails: the final polynomial's value");
        assert!(describe(11).contains("challenge 1"));
    }
}
