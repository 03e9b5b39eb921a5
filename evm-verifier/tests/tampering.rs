//! Every part of a real proof tampered with, and proofs presented for the
//! wrong statement, sequence or submitter, or in malformed calldata: the
//! generated verifier rejects each, at the check that should catch it, and
//! plonky2's verifier agrees.

mod common;

use alloy::network::TransactionBuilder;
use alloy::primitives::{Bytes, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::{SolCall, SolError};
use common::{Chain, layout, modulus_bytes, plonky2_accepts, prove, sample};
use zkpor_chain::verifier::{FinalProofVerifier, ProofCheck, failure_code};
use zkpor_circuits::encoding::Address;
use zkpor_evm_verifier::failure;
use zkpor_evm_verifier::layout::{DIGEST_WORD, EXT_BYTES, FIELD_BYTES};

/// What a tampered proof must run into.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Rejected with this code.
    Code(u64),
    /// Rejected, at whichever check the changed transcript trips first.
    Rejected,
}

#[tokio::test(flavor = "multi_thread")]
async fn every_section_of_a_proof_tampered_is_rejected() {
    let sample = sample();
    let layout = layout();
    let chain = Chain::start().await;
    let inputs = sample.public_inputs();
    // The last byte of a field element, or a byte of a digest.
    let felt = |at: usize| at + FIELD_BYTES - 1;
    let opening = |group: usize| layout.openings + EXT_BYTES * layout.opening_groups[..group].iter().sum::<usize>();
    let query = |q: u64| -> (u64, usize) { (q, layout.query_rounds + q as usize * layout.query_size) };

    let mut cases: Vec<(String, usize, Expect)> = vec![
        ("wires cap".into(), layout.wires_cap + 3, Expect::Rejected),
        ("Z and partial products cap".into(), layout.zs_cap + DIGEST_WORD + 10, Expect::Rejected),
        ("quotient cap".into(), layout.quotient_cap + 24, Expect::Rejected),
        ("opening of a selector".into(), felt(opening(0)), Expect::Rejected),
        ("opening of a sigma".into(), felt(opening(1) + 5 * EXT_BYTES), Expect::Rejected),
        ("opening of a wire".into(), felt(opening(2) + 100 * EXT_BYTES + FIELD_BYTES), Expect::Rejected),
        ("opening of Z".into(), felt(opening(3)), Expect::Rejected),
        ("opening of a partial product".into(), felt(opening(4) + 3 * EXT_BYTES), Expect::Rejected),
        ("opening of a quotient chunk".into(), felt(opening(5) + EXT_BYTES), Expect::Rejected),
        ("opening of Z at g zeta".into(), felt(opening(6)), Expect::Rejected),
        ("final polynomial".into(), felt(layout.final_poly + 3 * EXT_BYTES), Expect::Code(failure::PROOF_OF_WORK)),
        ("proof-of-work witness".into(), felt(layout.pow_witness), Expect::Code(failure::PROOF_OF_WORK)),
    ];
    for l in 0..layout.arity_bits.len() {
        cases.push((
            format!("FRI cap of layer {l}"),
            layout.commit_caps + l * layout.cap_len * DIGEST_WORD + 7,
            Expect::Rejected,
        ));
    }
    for (q, at) in [query(0), query(layout.queries as u64 - 1)] {
        let round = failure::QUERY + 100 * q;
        for (oracle, (&offset, &size)) in layout.oracle_offsets.iter().zip(&layout.oracle_sizes).enumerate() {
            let code = Expect::Code(round + oracle as u64);
            cases.push((
                format!("query {q}: a leaf value of oracle {oracle}"),
                felt(at + offset + 8 * (size / 2)),
                code,
            ));
            let path = at + offset + 8 * size;
            cases.push((format!("query {q}: the Merkle path of oracle {oracle}"), path + 5 * DIGEST_WORD + 1, code));
        }
        for (l, (&offset, &bits)) in layout.layer_offsets.iter().zip(&layout.arity_bits).enumerate() {
            let merkle = Expect::Code(round + failure::QUERY_LAYER_MERKLE + l as u64);
            let evals = (1 << bits) * EXT_BYTES;
            // The last evaluation of the coset, and the first sibling.
            cases.push((
                format!("query {q}: evaluations of layer {l}"),
                felt(at + offset + evals - EXT_BYTES),
                Expect::Rejected,
            ));
            cases.push((format!("query {q}: the Merkle path of layer {l}"), at + offset + evals + 2, merkle));
        }
    }

    for (name, at, expect) in cases {
        let mut calldata = sample.calldata.clone();
        calldata[at] ^= 0x01;
        assert!(!plonky2_accepts(&calldata, &inputs), "{name}: plonky2 rejects it too");
        let check = chain.check(&calldata, &inputs).await;
        let code = failure_code(&check).unwrap_or_else(|| panic!("{name} (byte {at}): accepted"));
        if let Expect::Code(expected) = expect {
            assert_eq!(code, expected, "{name}: {}", failure::describe(code));
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn non_canonical_encodings_are_rejected() {
    let sample = sample();
    let layout = layout();
    let chain = Chain::start().await;
    let inputs = sample.public_inputs();

    // An opening replaced by the modulus: zero, written non-canonically.
    let mut calldata = sample.calldata.clone();
    calldata[layout.openings..layout.openings + FIELD_BYTES].copy_from_slice(&modulus_bytes());
    assert_eq!(failure_code(&chain.check(&calldata, &inputs).await), Some(failure::NOT_CANONICAL));

    // The proof-of-work witness likewise.
    let mut calldata = sample.calldata.clone();
    calldata[layout.pow_witness..].copy_from_slice(&modulus_bytes());
    assert_eq!(failure_code(&chain.check(&calldata, &inputs).await), Some(failure::NOT_CANONICAL));

    // Padding after a cap digest, and after a Merkle sibling.
    let mut calldata = sample.calldata.clone();
    calldata[layout.wires_cap + DIGEST_WORD - 1] = 1;
    assert_eq!(failure_code(&chain.check(&calldata, &inputs).await), Some(failure::DIGEST_PADDING));
    let mut calldata = sample.calldata.clone();
    let sibling = layout.query_rounds + layout.oracle_offsets[1] + FIELD_BYTES * layout.oracle_sizes[1];
    calldata[sibling + DIGEST_WORD - 1] = 1;
    assert_eq!(failure_code(&chain.check(&calldata, &inputs).await), Some(failure::DIGEST_PADDING));

    // A public input that is not canonical.
    let mut bad = inputs.clone();
    bad[8] = u64::from_be_bytes(modulus_bytes());
    assert_eq!(failure_code(&chain.check(&sample.calldata, &bad).await), Some(failure::PUBLIC_INPUTS));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_proof_for_another_statement_sequence_or_submitter_is_rejected() {
    let sample = sample();
    let chain = Chain::start().await;
    let inputs = sample.public_inputs();
    assert!(matches!(chain.check(&sample.calldata, &inputs).await, ProofCheck::Valid { .. }));

    // Public inputs: root[4] ‖ digest[4] ‖ sequence ‖ submitter[5].
    let cases: [(&str, usize, u64); 5] = [
        ("another root", 0, inputs[0] ^ 1),
        ("another statement digest", 6, inputs[6] ^ 1),
        ("the next sequence", 8, inputs[8] + 1),
        ("another submitter", 10, inputs[10] ^ 0x100),
        ("a submitter of zero", 13, 0),
    ];
    for (name, index, value) in cases {
        let mut other = inputs.clone();
        other[index] = value;
        assert!(!plonky2_accepts(&sample.calldata, &other), "{name}: plonky2 rejects it too");
        let check = chain.check(&sample.calldata, &other).await;
        assert_eq!(failure_code(&check), Some(failure::VANISHING), "{name}: {check:?}");
    }

    // Another real proof's inputs with this proof, and the reverse.
    let other = prove(2, 3, Address([0x43; 20]), 9);
    assert!(failure_code(&chain.check(&sample.calldata, &other.public_inputs()).await).is_some());
    assert!(failure_code(&chain.check(&other.calldata, &inputs).await).is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn truncated_oversized_and_misencoded_calldata_is_rejected() {
    let sample = sample();
    let chain = Chain::start().await;
    let inputs = sample.public_inputs();
    let total = sample.calldata.len();

    for len in [0, total - 32, total - 1] {
        let check = chain.check(&sample.calldata[..len], &inputs).await;
        assert_eq!(failure_code(&check), Some(failure::PROOF_LENGTH), "a proof cut to {len} bytes");
    }
    for extra in [1, 32] {
        let mut calldata = sample.calldata.clone();
        calldata.extend(std::iter::repeat_n(0u8, extra));
        let check = chain.check(&calldata, &inputs).await;
        assert_eq!(failure_code(&check), Some(failure::PROOF_LENGTH), "a proof with {extra} more bytes");
    }
    for count in [13, 15, 0] {
        let mut other = inputs.clone();
        other.resize(count, 0);
        let check = chain.check(&sample.calldata, &other).await;
        assert_eq!(failure_code(&check), Some(failure::PUBLIC_INPUTS), "{count} public inputs");
    }

    // The same arguments ABI-encoded with a gap before the proof: valid ABI,
    // but not the canonical layout the verifier reads.
    let canonical = FinalProofVerifier::verifyProofCall { proof: sample.calldata.clone().into(), publicInputs: inputs }
        .abi_encode();
    let mut shifted = canonical[..4].to_vec();
    let head = |word: &[u8]| U256::from_be_slice(word);
    let proof_offset = head(&canonical[4..36]) + U256::from(32);
    let inputs_offset = head(&canonical[36..68]) + U256::from(32);
    shifted.extend_from_slice(&proof_offset.to_be_bytes::<32>());
    shifted.extend_from_slice(&inputs_offset.to_be_bytes::<32>());
    shifted.extend_from_slice(&[0u8; 32]);
    shifted.extend_from_slice(&canonical[68..]);
    let request = TransactionRequest::default().with_to(chain.verifier).with_input(Bytes::from(shifted));
    let err = chain.provider.call(request).await.unwrap_err();
    let data = err.as_error_resp().and_then(|e| e.as_revert_data()).expect("revert data");
    let decoded = FinalProofVerifier::InvalidProof::abi_decode(&data).expect("InvalidProof");
    assert_eq!(decoded.code, U256::from(failure::CALLDATA_LAYOUT));
}
