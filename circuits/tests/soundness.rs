//! The proof system refuses every way of lying about a snapshot. Each test
//! says whether the lie cannot be proven (no witness, or conflicting wires)
//! or yields something that does not verify.

mod common;

use common::{COPY_CONFLICT, SEQUENCE, SUBMITTER, WITNESS_FAILURE, accounts, batch_witnesses, fixture};
use plonky2::field::types::{Field, PrimeField64};
use zkpor_circuits::batch::{BatchCircuit, BatchWitness};
use zkpor_circuits::encoding::Address;
use zkpor_circuits::final_wrap::FinalInputs;
use zkpor_circuits::node::NodeInputs;
use zkpor_circuits::{F, Shape};

#[test]
fn honest_tree_verifies_and_matches_the_native_computation() {
    let fx = fixture();
    let top = NodeInputs::of(&fx.top, 2);
    assert_eq!(top.root_hash(), fx.tree.root(), "circuit root = native root");
    assert_eq!(top.account_count.to_canonical_u64(), 5);
    let (equity, debt) = top.totals();
    assert_eq!(equity, fx.statement.equity);
    assert_eq!(debt, fx.statement.debt);
    assert_eq!(equity[0], 100 + 7 + (1 << 48) - 1);
    fx.circuits.final_wrap().verify(&fx.final_proof, &fx.inputs).unwrap();
}

#[test]
fn a_balance_that_wraps_the_field_cannot_be_proven() {
    let fx = fixture();
    let mut witness = batch_witnesses(&Shape::TINY, &fx.prices, &accounts())[0].clone();
    // p − 1 is "−1": it would lower the batch total if it were accepted.
    witness.accounts[1].equity[0] = F::NEG_ONE;
    let err = fx.circuits.batch().prove(&witness).unwrap_err();
    assert!(format!("{err:#}").contains(WITNESS_FAILURE), "{err:#}");
}

#[test]
fn a_balance_of_2_pow_48_cannot_be_proven() {
    let fx = fixture();
    let mut witness = batch_witnesses(&Shape::TINY, &fx.prices, &accounts())[0].clone();
    witness.accounts[0].debt[1] = F::from_canonical_u64(1 << 48);
    witness.accounts[0].equity[0] = F::from_canonical_u64((1 << 48) - 1);
    let err = fx.circuits.batch().prove(&witness).unwrap_err();
    assert!(format!("{err:#}").contains(WITNESS_FAILURE), "{err:#}");
}

#[test]
fn an_account_with_more_usd_debt_than_equity_cannot_be_proven() {
    let fx = fixture();
    let mut witness = batch_witnesses(&Shape::TINY, &fx.prices, &accounts())[0].clone();
    // Account 1 holds 50 units at 20 and owes 10 at 3: owing 334 at 3 sinks it by 2.
    witness.accounts[1].debt[0] = F::from_canonical_u64(334);
    let err = fx.circuits.batch().prove(&witness).unwrap_err();
    assert!(format!("{err:#}").contains(WITNESS_FAILURE), "{err:#}");
    // At exactly zero net value the account is accepted.
    witness.accounts[1].debt[0] = F::from_canonical_u64(333);
    witness.accounts[1].equity[0] = F::ONE;
    fx.circuits.batch().prove(&witness).unwrap();
}

#[test]
fn a_batch_total_off_by_one_does_not_verify_nor_aggregate() {
    let fx = fixture();
    let mut forged = fx.batch_proofs[0].clone();
    let equity_total_0 = 9;
    forged.public_inputs[equity_total_0] += F::ONE;
    let err = fx.circuits.batch().data().verify(forged.clone()).unwrap_err();
    assert!(!err.to_string().is_empty());
    let err = fx.circuits.aggregation(0).prove(&[&forged, &fx.batch_proofs[1]]).unwrap_err();
    assert!(format!("{err:#}").contains(COPY_CONFLICT), "{err:#}");
}

#[test]
fn batches_with_different_prices_cannot_be_aggregated() {
    let fx = fixture();
    let accounts = accounts();
    let other_prices = vec![3, 21];
    let second = BatchWitness::new(&Shape::TINY, &other_prices, &accounts[4..]).unwrap();
    let second = fx.circuits.batch().prove(&second).unwrap();
    let err = fx.circuits.aggregation(0).prove(&[&fx.batch_proofs[0], &second]).unwrap_err();
    assert!(format!("{err:#}").contains(COPY_CONFLICT), "{err:#}");
}

#[test]
fn a_child_proof_of_another_circuit_is_refused() {
    let fx = fixture();
    // An attacker's batch circuit: same layout, same common data, but no
    // solvency check. Its proof of an insolvent account is valid for it...
    let mut witness = batch_witnesses(&Shape::TINY, &fx.prices, &accounts())[1].clone();
    witness.accounts[0].debt[0] = F::from_canonical_u64(1_000_000);
    let honest = &fx.circuits.batch().data().common;
    let rogue = (0..64)
        .map(rogue::RogueBatch::build)
        .find(|rogue| rogue.data.common == *honest)
        .expect("some padding makes the rogue circuit's common data equal the honest one");
    assert_ne!(rogue.data.verifier_only.circuit_digest, fx.circuits.batch().data().verifier_only.circuit_digest);
    let forged = rogue.prove(&witness);
    rogue.data.verify(forged.clone()).unwrap();
    // ...but the aggregation only takes proofs of the pinned batch circuit.
    let err = fx.circuits.aggregation(0).prove(&[&fx.batch_proofs[0], &forged]).unwrap_err();
    assert!(format!("{err:#}").contains(COPY_CONFLICT), "{err:#}");
    // A proof of a circuit of another shape does not even fit a child slot.
    let other_shape: Shape = "b2-a2-k2-l1".parse().unwrap();
    let other = BatchCircuit::build(&other_shape);
    let foreign = other.prove(&BatchWitness::new(&other_shape, &fx.prices, &accounts()[4..]).unwrap()).unwrap();
    assert!(fx.circuits.aggregation(0).prove(&[&fx.batch_proofs[0], &foreign]).is_err());
}

/// The attacker's circuit of [`a_child_proof_of_another_circuit_is_refused`].
mod rogue {
    use plonky2::field::types::Field;
    use plonky2::gates::noop::NoopGate;
    use plonky2::hash::hash_types::HashOutTarget;
    use plonky2::hash::poseidon::PoseidonHash;
    use plonky2::iop::target::Target;
    use plonky2::iop::witness::{PartialWitness, WitnessWrite};
    use plonky2::plonk::circuit_builder::CircuitBuilder;
    use plonky2::plonk::circuit_data::CircuitData;
    use zkpor_circuits::batch::BatchWitness;
    use zkpor_circuits::gadgets::merkle::merkle_root;
    use zkpor_circuits::gadgets::range::LimbRangeChecker;
    use zkpor_circuits::gadgets::solvency::{BALANCE_BITS, PriceLimbs};
    use zkpor_circuits::node::{NodeInputs, NodeProof};
    use zkpor_circuits::{C, D, F, Shape, config};

    pub struct RogueBatch {
        pub data: CircuitData<F, C, D>,
        prices: Vec<Target>,
        accounts: Vec<(HashOutTarget, Vec<Target>, Vec<Target>)>,
    }

    impl RogueBatch {
        /// The tiny batch circuit minus the solvency check, padded with `padding` rows.
        pub fn build(padding: usize) -> Self {
            let shape = Shape::TINY;
            let mut builder = CircuitBuilder::<F, D>::new(config::batch());
            let range = LimbRangeChecker::new(&mut builder);
            let prices = builder.add_virtual_targets(shape.assets());
            for &price in &prices {
                PriceLimbs::split(&mut builder, &range, price);
            }
            let commitment = builder.hash_n_to_hash_no_pad::<PoseidonHash>(prices.clone());
            let zero = builder.zero();
            let (mut equity_totals, mut debt_totals) = (vec![zero; 2], vec![zero; 2]);
            let (mut accounts, mut leaves) = (Vec::new(), Vec::new());
            for _ in 0..shape.batch_size() {
                let id = builder.add_virtual_hash();
                let equity = builder.add_virtual_targets(2);
                let debt = builder.add_virtual_targets(2);
                for asset in 0..2 {
                    range.split(&mut builder, equity[asset], BALANCE_BITS);
                    range.split(&mut builder, debt[asset], BALANCE_BITS);
                    equity_totals[asset] = builder.add(equity_totals[asset], equity[asset]);
                    debt_totals[asset] = builder.add(debt_totals[asset], debt[asset]);
                }
                let inputs = id.elements.iter().chain(&equity).chain(&debt).copied().collect();
                leaves.push(builder.hash_n_to_hash_no_pad::<PoseidonHash>(inputs));
                accounts.push((id, equity, debt));
            }
            let count = builder.constant(F::from_canonical_usize(shape.batch_size()));
            let root = merkle_root(&mut builder, leaves);
            let node = NodeInputs {
                root: root.elements,
                prices_commitment: commitment.elements,
                account_count: count,
                equity: equity_totals,
                debt: debt_totals,
            };
            builder.register_public_inputs(&node.to_vec());
            for _ in 0..padding {
                builder.add_gate(NoopGate, vec![]);
            }
            RogueBatch { data: builder.build::<C>(), prices, accounts }
        }

        pub fn prove(&self, witness: &BatchWitness) -> NodeProof {
            let mut inputs = PartialWitness::new();
            inputs.set_target_arr(&self.prices, &witness.prices).unwrap();
            for ((id, equity, debt), account) in self.accounts.iter().zip(&witness.accounts) {
                inputs.set_hash_target(*id, account.id_hash).unwrap();
                inputs.set_target_arr(equity, &account.equity).unwrap();
                inputs.set_target_arr(debt, &account.debt).unwrap();
            }
            self.data.prove(inputs).unwrap()
        }
    }
}

#[test]
fn a_flipped_byte_in_the_final_proof_is_rejected() {
    let fx = fixture();
    let bytes = fx.final_proof.to_bytes();
    for position in [0, bytes.len() / 3, bytes.len() / 2, bytes.len() - 1] {
        let mut tampered = bytes.clone();
        tampered[position] ^= 0x01;
        let rejected = match fx.circuits.final_wrap().proof_from_bytes(tampered) {
            Err(_) => true,
            Ok(proof) => fx.circuits.final_wrap().verify(&proof, &fx.inputs).is_err(),
        };
        assert!(rejected, "byte {position} flipped and still accepted");
    }
}

#[test]
fn the_proof_does_not_verify_for_another_submitter() {
    let fx = fixture();
    let other = FinalInputs { submitter: Address([0x22; 20]), ..fx.inputs };
    let err = fx.circuits.final_wrap().verify(&fx.final_proof, &other).unwrap_err();
    assert!(err.to_string().contains("submitter 0x2222"), "{err}");
    // Rewriting the public inputs to claim the other submitter breaks the proof itself.
    let mut claimed = fx.final_proof.clone();
    claimed.public_inputs = other.to_fields().unwrap();
    let err = fx.circuits.final_wrap().verify(&claimed, &other).unwrap_err();
    assert!(err.to_string().contains("does not verify"), "{err}");
    assert_ne!(SUBMITTER, other.submitter);
}

#[test]
fn the_proof_does_not_verify_for_another_sequence() {
    let fx = fixture();
    let other = FinalInputs { sequence: SEQUENCE + 1, ..fx.inputs };
    let err = fx.circuits.final_wrap().verify(&fx.final_proof, &other).unwrap_err();
    assert!(err.to_string().contains("sequence 8"), "{err}");
    let mut claimed = fx.final_proof.clone();
    claimed.public_inputs = other.to_fields().unwrap();
    let err = fx.circuits.final_wrap().verify(&claimed, &other).unwrap_err();
    assert!(err.to_string().contains("does not verify"), "{err}");
}

#[test]
fn a_statement_with_one_total_changed_does_not_match_the_proof() {
    let fx = fixture();
    let mut changed = fx.statement.clone();
    changed.debt[1] -= 1;
    let claimed = FinalInputs { digest: changed.digest(), ..fx.inputs };
    let err = fx.circuits.final_wrap().verify(&fx.final_proof, &claimed).unwrap_err();
    assert!(err.to_string().contains("digest"), "{err}");
    let mut forged = fx.final_proof.clone();
    forged.public_inputs = claimed.to_fields().unwrap();
    let err = fx.circuits.final_wrap().verify(&forged, &claimed).unwrap_err();
    assert!(err.to_string().contains("does not verify"), "{err}");
}

#[test]
fn totals_at_the_largest_balances_are_exact() {
    // Batch totals cannot wrap: B·(2^48 − 1) < 2^62 for every allowed B. The
    // aggregation's running sums past 2^62 have no witness (see the tests of
    // `gadgets::checked_sum`).
    let fx = fixture();
    let max = (1u64 << 48) - 1;
    let mut witness = batch_witnesses(&Shape::TINY, &fx.prices, &accounts())[0].clone();
    for account in &mut witness.accounts {
        account.equity = vec![F::from_canonical_u64(max); 2];
        account.debt = vec![F::from_canonical_u64(max), F::ZERO];
    }
    let proof = fx.circuits.batch().prove(&witness).unwrap();
    let (equity, debt) = NodeInputs::of(&proof, 2).totals();
    assert_eq!(equity, vec![4 * max, 4 * max]);
    assert_eq!(debt, vec![4 * max, 0]);
}
