//! The generated verifier against plonky2's own verifier, on anvil: the same
//! challenges, the same gate constraints, and the same verdict on real and
//! on mutated proofs.

mod common;

use common::{Chain, TRANSACTION_GAS_LIMIT, layout, plonky2_accepts, prove, sample};
use plonky2::field::extension::{Extendable, FieldExtension};
use plonky2::field::types::{Field, PrimeField64};
use plonky2::plonk::vars::EvaluationVars;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use zkpor_chain::verifier::{FinalProofVerifier, ProofCheck, words};
use zkpor_circuits::encoding::Address;
use zkpor_circuits::{D, F};

type Ext = <F as Extendable<D>>::Extension;

fn ext_words(value: &Ext) -> [u64; 2] {
    FieldExtension::<D>::to_basefield_array(value).map(|f| f.to_canonical_u64())
}

#[tokio::test(flavor = "multi_thread")]
async fn challenges_match_plonky2_step_by_step() {
    let sample = sample();
    let chain = Chain::start().await;
    let verifier = FinalProofVerifier::new(chain.verifier, &chain.provider);
    let got = words(&verifier.challenges(sample.calldata.clone().into(), sample.public_inputs()).call().await.unwrap());

    let data = common::final_wrap().data();
    let pih = sample.proof.get_public_inputs_hash();
    let c = sample.proof.get_challenges(pih, &data.verifier_only.circuit_digest, &data.common).unwrap();
    let mut expected: Vec<(String, u64)> = Vec::new();
    let mut push = |name: &str, values: &[u64]| {
        expected.extend(values.iter().enumerate().map(|(i, v)| (format!("{name}[{i}]"), *v)));
    };
    let canonical = |values: &[F]| values.iter().map(|f| f.to_canonical_u64()).collect::<Vec<_>>();
    push("public input hash", &canonical(&pih.elements));
    push("beta", &canonical(&c.plonk_betas));
    push("gamma", &canonical(&c.plonk_gammas));
    push("alpha", &canonical(&c.plonk_alphas));
    push("zeta", &ext_words(&c.plonk_zeta));
    push("fri alpha", &ext_words(&c.fri_challenges.fri_alpha));
    for (l, beta) in c.fri_challenges.fri_betas.iter().enumerate() {
        push(&format!("fri beta {l}"), &ext_words(beta));
    }
    push("pow response", &[c.fri_challenges.fri_pow_response.to_canonical_u64()]);
    push("query index", &c.fri_challenges.fri_query_indices.iter().map(|&i| i as u64).collect::<Vec<_>>());

    assert_eq!(got.len(), expected.len(), "number of challenges");
    for ((name, want), have) in expected.iter().zip(&got) {
        assert_eq!(have, want, "first differing challenge: {name}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn gate_constraints_match_plonky2_gate_by_gate() {
    let sample = sample();
    let chain = Chain::start().await;
    let verifier = FinalProofVerifier::new(chain.verifier, &chain.provider);
    let got = words(&verifier.gateSums(sample.calldata.clone().into(), sample.public_inputs()).call().await.unwrap());

    let data = common::final_wrap().data();
    let common = &data.common;
    let openings = &sample.proof.proof.openings;
    let pih = sample.proof.get_public_inputs_hash();
    let alphas = sample.proof.get_challenges(pih, &data.verifier_only.circuit_digest, common).unwrap().plonk_alphas;
    let vars =
        EvaluationVars { local_constants: &openings.constants, local_wires: &openings.wires, public_inputs_hash: &pih };
    #[derive(serde::Deserialize)]
    struct Selectors {
        selector_indices: Vec<usize>,
        groups: Vec<std::ops::Range<usize>>,
    }
    let selectors: Selectors = serde_json::from_value(serde_json::to_value(&common.selectors_info).unwrap()).unwrap();
    assert_eq!(got.len(), 4 * common.gates.len());
    for (row, gate) in common.gates.iter().enumerate() {
        let s = selectors.selector_indices[row];
        let constraints = gate.0.eval_filtered(vars, row, s, selectors.groups[s].clone(), selectors.groups.len(), 0);
        for (i, alpha) in alphas.iter().enumerate() {
            let sum =
                constraints.iter().rev().fold(Ext::ZERO, |acc, c| FieldExtension::<D>::scalar_mul(&acc, *alpha) + *c);
            let at = 4 * row + 2 * i;
            assert_eq!([got[at], got[at + 1]], ext_words(&sum), "gate {row} ({}), alpha {i}", gate.0.id());
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn real_proofs_of_different_statements_verify() {
    let chain = Chain::start().await;
    let cases = [
        prove(1, 1, Address([0x11; 20]), 2),
        prove(4, 2, Address([0xab; 20]), 3),
        prove(8, u32::MAX as u64, Address([0xff; 20]), 4),
    ];
    for (i, case) in cases.iter().enumerate() {
        assert!(plonky2_accepts(&case.calldata, &case.public_inputs()), "case {i}: plonky2 accepts its own proof");
        match chain.check(&case.calldata, &case.public_inputs()).await {
            ProofCheck::Valid { gas } => {
                eprintln!("case {i}: {} accounts, verified with {gas} gas", case.statement.account_count);
                assert!(gas < TRANSACTION_GAS_LIMIT, "case {i}: {gas} gas is over the transaction limit");
            }
            invalid => panic!("case {i}: {invalid:?}"),
        }
    }
}

/// Random byte flips anywhere in the proof: the contract accepts exactly
/// when plonky2 does (a byte string that does not decode is no proof).
#[tokio::test(flavor = "multi_thread")]
async fn mutated_proofs_get_plonky2s_verdict() {
    let sample = sample();
    let chain = Chain::start().await;
    let inputs = sample.public_inputs();
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let total = layout().total;
    for round in 0..48 {
        let mut calldata = sample.calldata.clone();
        let at = rng.gen_range(0..total);
        calldata[at] ^= 1 << rng.gen_range(0..8);
        let expected = plonky2_accepts(&calldata, &inputs);
        let got = chain.check(&calldata, &inputs).await;
        assert_eq!(matches!(got, ProofCheck::Valid { .. }), expected, "round {round}, byte {at}: {got:?}");
    }
}
