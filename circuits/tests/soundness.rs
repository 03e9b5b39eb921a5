//! The family's circuits refuse every way of lying about a snapshot: in
//! every tier (a balance that wraps the field or passes 2^48, a user in
//! debt, an asset twice or out of range, a slot counted or priced under
//! another asset, a padding user holding value, a user split across tiers),
//! at every node (a forged child, a child named as another tier's, a proof of
//! a circuit outside the family at each level, a node over nodes carrying
//! another circuit's verifier data, an absent child counted), and in the
//! statement (more assets than the family holds, value past the real
//! assets, a message that is not the statement's columns).

mod common;

use common::{ASSETS, COPY_CONFLICT, PRICES, REAL, WITNESS_FAILURE, fixture, rogue, slot_prices, users};
use plonky2::field::types::{Field, PrimeField64};
use zkpor_circuits::aggregation::{NodeChild, NodeWitness, SlotWitness};
use zkpor_circuits::batch::{AssetClaims, SlotFields, TierBatchWitness};
use zkpor_circuits::hash::empty_root;
use zkpor_circuits::leaf::Leaf;
use zkpor_circuits::merkle::padded_root;
use zkpor_circuits::node::NodeInputs;
use zkpor_circuits::proof_store::{MemoryStore, ProofKey, ProofStore};
use zkpor_circuits::statement::Statement;
use zkpor_circuits::tree::{TreeShape, UpperTree};
use zkpor_circuits::tree_prover::{ProofDone, prove_tree};
use zkpor_circuits::{F, Hash};

fn batch_witnesses() -> impl Iterator<Item = (usize, TierBatchWitness)> {
    fixture().batches.iter().map(|batch| (batch.tier, batch.witness.clone()))
}

fn prove_err(tier: usize, witness: &TierBatchWitness) -> String {
    let err = fixture().circuits.tier(tier).unwrap().prove(witness).expect_err("a lie was proven");
    format!("{err:#}")
}

fn prove_claiming_err(tier: usize, witness: &TierBatchWitness, claims: &AssetClaims) -> String {
    let err = fixture().circuits.tier(tier).unwrap().prove_claiming(witness, claims).expect_err("a lie was proven");
    format!("{err:#}")
}

#[test]
fn the_tree_matches_the_native_tree_and_totals() {
    let fx = fixture();
    let family = fx.circuits.family();
    let roots: Vec<Hash> = fx
        .batches
        .iter()
        .map(|batch| {
            let tier = family.tiers().tier(batch.tier);
            let mut leaves: Vec<Hash> = batch.leaves.iter().map(Leaf::hash).collect();
            leaves.resize(tier.batch_size, Leaf::padding(tier.slots).hash());
            padded_root(leaves, Leaf::padding(tier.slots).hash())
        })
        .collect();
    let shape = TreeShape::new(family, roots.len());
    assert_eq!(shape.slots, vec![2, 2, 2], "nodes over batches, over nodes and the top");
    let top = NodeInputs::of(&fx.top, ASSETS);
    assert_eq!(top.root_hash(), UpperTree::new(shape, roots).root());
    assert_eq!(top.count(), 10);
    let mut equity = [0u64; ASSETS];
    let mut debt = [0u64; ASSETS];
    for slot in users().iter().flat_map(|(_, users)| users).flatten() {
        equity[usize::from(slot.asset)] += slot.equity();
        debt[usize::from(slot.asset)] += slot.debt();
    }
    assert_eq!(top.totals(), (equity.to_vec(), debt.to_vec()));
    fx.circuits.top().unwrap().data().verify(fx.top.clone()).unwrap();
    let statement = fx.circuits.statement().unwrap().prove(&fx.top, &fx.statement).unwrap();
    assert_eq!(statement.public_inputs[4..], fx.statement.digest().elements);
}

#[test]
fn a_balance_that_wraps_the_field_cannot_be_proven_in_any_tier() {
    for (tier, mut witness) in batch_witnesses() {
        // p − 1 as an equity magnitude is "−1".
        witness.accounts[0].slots[0].magnitude = F::NEG_ONE;
        witness.accounts[0].slots[0].is_debt = F::ZERO;
        assert!(prove_err(tier, &witness).contains(WITNESS_FAILURE), "tier {tier}");
    }
}

#[test]
fn a_balance_of_2_pow_48_cannot_be_proven_in_any_tier() {
    for (tier, mut witness) in batch_witnesses() {
        witness.accounts[0].slots[0].magnitude = F::from_canonical_u64(1 << 48);
        witness.accounts[0].slots[0].is_debt = F::ZERO;
        assert!(prove_err(tier, &witness).contains(WITNESS_FAILURE), "tier {tier}");
    }
}

#[test]
fn a_sign_that_is_not_a_bit_cannot_be_proven_in_any_tier() {
    for (tier, mut witness) in batch_witnesses() {
        witness.accounts[0].slots[0].is_debt = F::TWO;
        let err = prove_err(tier, &witness);
        assert!(err.contains(COPY_CONFLICT) || err.contains(WITNESS_FAILURE), "tier {tier}: {err}");
    }
}

#[test]
fn a_user_with_more_usd_debt_than_equity_cannot_be_proven_in_any_tier() {
    let price = |slot: &SlotFields| slot_prices()[slot.asset.to_canonical_u64() as usize];
    for (tier, mut witness) in batch_witnesses() {
        // The first user owes the first slot's asset worth one unit more
        // than the second slot holds (both slots of priced assets).
        let user = &mut witness.accounts[0];
        for (slot, asset) in user.slots.iter_mut().zip([0u64, 1]) {
            slot.asset = F::from_canonical_u64(asset);
            slot.magnitude = F::ZERO;
        }
        for slot in user.slots.iter_mut().skip(2) {
            slot.magnitude = F::ZERO;
        }
        let (first, second) = (price(&user.slots[0]), price(&user.slots[1]));
        user.slots[0] = SlotFields { magnitude: F::from_canonical_u64(second + 1), is_debt: F::ONE, ..user.slots[0] };
        user.slots[1] = SlotFields { magnitude: F::from_canonical_u64(first), is_debt: F::ZERO, ..user.slots[1] };
        // The carry chain's top (a byte past the table, or a top bit of 2).
        let err = prove_err(tier, &witness);
        assert!(err.contains(WITNESS_FAILURE) || err.contains(COPY_CONFLICT), "tier {tier}: {err}");
        // At exactly zero net value the user is accepted.
        witness.accounts[0].slots[0].magnitude = F::from_canonical_u64(second);
        fixture().circuits.tier(tier).unwrap().prove(&witness).unwrap();
    }
}

#[test]
fn two_slots_of_the_same_asset_cannot_be_proven_in_any_tier() {
    for (tier, witness) in batch_witnesses() {
        let mut twice = witness.clone();
        twice.accounts[0].slots[1].asset = twice.accounts[0].slots[0].asset;
        assert!(prove_err(tier, &twice).contains(WITNESS_FAILURE), "tier {tier}");
        // Nor out of order.
        let mut swapped = witness.clone();
        swapped.accounts[0].slots.swap(0, 1);
        assert!(prove_err(tier, &swapped).contains(WITNESS_FAILURE), "tier {tier}");
    }
}

#[test]
fn an_asset_index_out_of_range_cannot_be_proven_in_any_tier() {
    for (tier, mut witness) in batch_witnesses() {
        let last = witness.accounts[0].slots.len() - 1;
        for asset in [F::from_canonical_usize(ASSETS), F::from_canonical_usize(ASSETS + 1), F::NEG_ONE] {
            witness.accounts[0].slots[last].asset = asset;
            // The step's range check or the asset table, whichever plonky2 meets first.
            let err = prove_err(tier, &witness);
            assert!(err.contains(WITNESS_FAILURE) || err.contains(COPY_CONFLICT), "tier {tier}, asset {asset}: {err}");
        }
    }
}

#[test]
fn a_padding_user_holding_value_cannot_be_proven_in_any_tier() {
    let mut tested = std::collections::BTreeSet::new();
    for (tier, witness) in batch_witnesses() {
        // Equity in a slot of a padding user (an id hash starting with zero)
        // would count in the totals without a user to claim it.
        let Some(padding) = witness.accounts.iter().position(|user| user.id_hash == Hash::default()) else { continue };
        let mut holding = witness.clone();
        holding.accounts[padding].slots[0].magnitude = F::ONE;
        assert!(prove_err(tier, &holding).contains(COPY_CONFLICT), "tier {tier}");
        tested.insert(tier);
    }
    assert_eq!(tested.into_iter().collect::<Vec<_>>(), [0, 1], "tier 2's batch is full");
}

#[test]
fn a_slot_counted_under_another_asset_cannot_be_proven_in_any_tier() {
    for (tier, witness) in batch_witnesses() {
        let honest = AssetClaims::of(&witness, ASSETS);
        let (from, to) = (0..ASSETS)
            .find_map(|a| (honest.equity[a] != F::ZERO).then_some((a, (a + 1) % ASSETS)))
            .expect("some equity");
        // Move one unit of equity from one asset's total to another's.
        let mut moved = honest.clone();
        moved.equity[from] -= F::ONE;
        moved.equity[to] += F::ONE;
        assert!(prove_claiming_err(tier, &witness, &moved).contains(COPY_CONFLICT), "tier {tier}");
        // Or count equity as debt.
        let mut as_debt = honest.clone();
        as_debt.equity[from] -= F::ONE;
        as_debt.debt[from] += F::ONE;
        assert!(prove_claiming_err(tier, &witness, &as_debt).contains(COPY_CONFLICT), "tier {tier}");
        // Or claim one slot fewer of an asset and one more of another.
        let mut recounted = honest.clone();
        recounted.multiplicity[from] -= F::ONE;
        recounted.multiplicity[to] += F::ONE;
        assert!(prove_claiming_err(tier, &witness, &recounted).contains(COPY_CONFLICT), "tier {tier}");
    }
}

#[test]
fn a_slot_valued_at_another_assets_price_cannot_be_proven_in_any_tier() {
    for (tier, witness) in batch_witnesses() {
        let honest = AssetClaims::of(&witness, ASSETS);
        let mut repriced = honest.clone();
        // The first user's first slot valued at asset 2's price.
        repriced.slot_prices[0] = (F::from_canonical_u64(PRICES[2] + 1), F::ZERO);
        assert!(prove_claiming_err(tier, &witness, &repriced).contains(COPY_CONFLICT), "tier {tier}");
        // A price limb past its range, even one that recombines to the true price.
        let mut wrapped = honest.clone();
        let (low, high) = wrapped.slot_prices[0];
        wrapped.slot_prices[0] = (low + F::from_canonical_u64(1 << 32), high - F::ONE);
        assert!(prove_claiming_err(tier, &witness, &wrapped).contains(COPY_CONFLICT), "tier {tier}");
    }
}

#[test]
fn a_user_split_across_tiers_is_caught() {
    let fx = fixture();
    let tiers = fx.circuits.family().tiers();
    let prices = slot_prices();
    // The first batch's fourth user holds 50 of asset 1 and owes 10 of asset 0.
    let holdings = users()[0].1[3].clone();
    let whole = &fx.batches[0].leaves[3];
    assert!(whole.holds_exactly(&holdings));
    let (equity_part, debt_part) = (vec![holdings[0]], vec![holdings[1]]);
    let equity_leaf = Leaf::new(whole.id_hash, &equity_part, tiers.tier(1).slots, ASSETS).unwrap();
    let debt_leaf = Leaf::new(whole.id_hash, &debt_part, tiers.tier(0).slots, ASSETS).unwrap();
    // The part that owes cannot be proven on its own ...
    let witness = TierBatchWitness::new(tiers.tier(0), &prices, &[debt_leaf]).unwrap();
    assert!(prove_err(0, &witness).contains(WITNESS_FAILURE));
    // ... and the part that can is not the user's leaf: their check fails.
    let witness = TierBatchWitness::new(tiers.tier(1), &prices, std::slice::from_ref(&equity_leaf)).unwrap();
    fx.circuits.tier(1).unwrap().prove(&witness).unwrap();
    assert!(!equity_leaf.holds_exactly(&holdings));
    assert_ne!(equity_leaf.hash(), whole.hash());
}

/// Proves node `kind`'s circuit over a witness, expecting a refusal.
fn node_refusal(kind: zkpor_circuits::aggregation::NodeKind, witness: &NodeWitness<'_>) -> String {
    let err = fixture().circuits.node(kind).unwrap().prove_witness(witness).expect_err("a forged node was proven");
    format!("{err:#}")
}

fn child<'a>(circuit: usize, present: bool, proof: &'a zkpor_circuits::node::NodeProof) -> SlotWitness<'a> {
    SlotWitness { circuit, present, proof }
}

use zkpor_circuits::aggregation::NodeKind::{OverBatches, OverNodes, Top};

#[test]
fn a_forged_batch_total_neither_verifies_nor_aggregates() {
    let fx = fixture();
    let equity_total_0 = 9;
    for batch in &fx.batches {
        let mut forged = batch.proof.clone();
        forged.public_inputs[equity_total_0] += F::ONE;
        assert!(fx.circuits.tier(batch.tier).unwrap().data().verify(forged.clone()).is_err(), "tier {}", batch.tier);
        let witness = NodeWitness { slots: vec![child(batch.tier, true, &forged); 2], carried: None };
        assert!(node_refusal(OverBatches, &witness).contains(COPY_CONFLICT), "tier {}", batch.tier);
    }
}

#[test]
fn a_batch_proof_named_as_another_tiers_is_refused() {
    let fx = fixture();
    let (first, third) = (&fx.batches[0], &fx.batches[2]);
    assert_eq!((first.tier, third.tier), (0, 1));
    let named = NodeWitness { slots: vec![child(1, true, &first.proof), child(1, true, &third.proof)], carried: None };
    assert!(node_refusal(OverBatches, &named).contains(COPY_CONFLICT));
    let honest = NodeWitness { slots: vec![child(0, true, &first.proof), child(1, true, &third.proof)], carried: None };
    fx.circuits.over_batches().unwrap().prove_witness(&honest).unwrap();
}

#[test]
fn an_absent_child_counts_for_nothing_and_slots_are_left_packed() {
    let fx = fixture();
    let (first, second) = (&fx.batches[0], &fx.batches[1]);
    // The second slot absent: the node holds the first batch alone, its
    // second hash slot the empty root.
    let alone =
        NodeWitness { slots: vec![child(0, true, &first.proof), child(0, false, &second.proof)], carried: None };
    let proof = fx.circuits.over_batches().unwrap().prove_witness(&alone).unwrap();
    let inputs = NodeInputs::of(&proof, ASSETS);
    let batch = NodeInputs::of(&first.proof, ASSETS);
    assert_eq!((inputs.count(), inputs.totals()), (batch.count(), batch.totals()));
    assert_eq!(inputs.root_hash(), padded_root(vec![batch.root_hash(), empty_root()], empty_root()));
    // A first slot absent, or a present slot after an absent one, is refused.
    let gap = NodeWitness { slots: vec![child(0, false, &first.proof), child(0, true, &second.proof)], carried: None };
    assert!(node_refusal(OverBatches, &gap).contains(COPY_CONFLICT));
}

#[test]
fn children_at_other_prices_are_refused() {
    let fx = fixture();
    let tier = fx.circuits.family().tiers().tier(0);
    let mut other_prices = slot_prices();
    other_prices[0] += 1;
    let witness = TierBatchWitness::new(tier, &other_prices, &fx.batches[1].leaves).unwrap();
    let repriced = fx.circuits.tier(0).unwrap().prove(&witness).unwrap();
    let mixed =
        NodeWitness { slots: vec![child(0, true, &fx.batches[0].proof), child(0, true, &repriced)], carried: None };
    assert!(node_refusal(OverBatches, &mixed).contains(COPY_CONFLICT));
}

#[test]
fn a_batch_proof_of_a_circuit_outside_the_family_is_refused() {
    let (fx, rogue) = (fixture(), rogue());
    // Same rows, gates and public inputs, other constants: the rogue
    // family's first tier holds one user more.
    let outside = &rogue.batches[0].proof;
    rogue.circuits.tier(0).unwrap().data().verify(outside.clone()).unwrap();
    let witness =
        NodeWitness { slots: vec![child(0, true, outside), child(0, true, &fx.batches[1].proof)], carried: None };
    assert!(node_refusal(OverBatches, &witness).contains(COPY_CONFLICT));
}

#[test]
fn a_node_proof_of_a_circuit_outside_the_family_is_refused_at_every_level() {
    let (fx, rogue) = (fixture(), rogue());
    let over_batches = NodeChild::OverBatches.index();
    let over_nodes = NodeChild::OverNodes.index();
    // A rogue node over batches as the child of a node over nodes, and of the top.
    let rogue_low = rogue.node(0, 0);
    let ours_low = fx.node(0, 1);
    let witness = NodeWitness {
        slots: vec![child(over_batches, true, &rogue_low), child(over_batches, true, &ours_low)],
        carried: None,
    };
    let mut carrying = witness.clone();
    carrying.carried = Some(&fx.circuits.over_nodes().unwrap().data().verifier_only);
    assert!(node_refusal(OverNodes, &carrying).contains(COPY_CONFLICT));
    assert!(node_refusal(Top, &witness).contains(COPY_CONFLICT));
    // A rogue node over nodes as a child of the top.
    let rogue_high = rogue.node(1, 0);
    let ours_high = fx.node(1, 1);
    let witness = NodeWitness {
        slots: vec![child(over_nodes, true, &rogue_high), child(over_nodes, true, &ours_high)],
        carried: None,
    };
    assert!(node_refusal(Top, &witness).contains(COPY_CONFLICT));
    // The honest children of the top prove.
    let ours_first = fx.node(1, 0);
    let honest = NodeWitness {
        slots: vec![child(over_nodes, true, &ours_first), child(over_nodes, true, &ours_high)],
        carried: None,
    };
    fx.circuits.top().unwrap().prove_witness(&honest).unwrap();
}

#[test]
fn a_node_over_nodes_carrying_another_circuits_verifier_data_is_refused_above() {
    let (fx, rogue) = (fixture(), rogue());
    let over_nodes = NodeChild::OverNodes.index();
    // Our node over nodes, told to check its children against the rogue
    // node over nodes: its children are the rogue's, and it proves ...
    let rogue_circuit = &rogue.circuits.over_nodes().unwrap().data().verifier_only;
    let (first, second) = (rogue.node(1, 0), rogue.node(1, 1));
    let witness = NodeWitness {
        slots: vec![child(over_nodes, true, &first), child(over_nodes, true, &second)],
        carried: Some(rogue_circuit),
    };
    let laundered = fx.circuits.over_nodes().unwrap().prove_witness(&witness).unwrap();
    fx.circuits.over_nodes().unwrap().data().verify(laundered.clone()).unwrap();
    // ... but it carries the rogue's verifier data, so the top refuses it,
    // as does a node over nodes that checks its children against its own.
    let ours = fx.node(1, 1);
    let above =
        NodeWitness { slots: vec![child(over_nodes, true, &laundered), child(over_nodes, true, &ours)], carried: None };
    assert!(node_refusal(Top, &above).contains(COPY_CONFLICT));
    let mut over = above.clone();
    over.carried = Some(&fx.circuits.over_nodes().unwrap().data().verifier_only);
    assert!(node_refusal(OverNodes, &over).contains(COPY_CONFLICT));
}

#[test]
fn the_statement_takes_only_a_top_proof_of_the_family() {
    let (fx, rogue) = (fixture(), rogue());
    let statement = fx.circuits.statement().unwrap();
    // The top proof of a smaller tree (one of the top's two children) is
    // not a proof of the tree's statement.
    let smaller = fx.circuits.top().unwrap().prove(&[(NodeChild::OverNodes.index(), &fx.node(1, 0))]).unwrap();
    let err = format!("{:#}", statement.prove(&smaller, &fx.statement).unwrap_err());
    assert!(err.contains(COPY_CONFLICT), "{err}");
    // A rogue family's top proof of the same statement is refused.
    let rogue_statement = Statement { root: NodeInputs::of(&rogue.top, ASSETS).root_hash(), ..fx.statement.clone() };
    let err = format!("{:#}", statement.prove(&rogue.top, &rogue_statement).unwrap_err());
    assert!(err.contains(COPY_CONFLICT), "{err}");
    // A rogue statement proof in our final circuit is refused.
    let rogue_proof = rogue.circuits.statement().unwrap().prove(&rogue.top, &rogue_statement).unwrap();
    let err =
        format!("{:#}", fx.circuits.final_wrap().unwrap().prove(&rogue_proof, 1, Default::default()).unwrap_err());
    assert!(err.contains(COPY_CONFLICT), "{err}");
}

#[test]
fn a_statement_of_more_assets_than_the_family_holds_is_refused_before_proving() {
    let fx = fixture();
    let mut wide = fx.statement.clone();
    for _ in 0..2 {
        wide.assets.push(F::ONE);
        wide.prices.push(0);
        wide.equity.push(0);
        wide.debt.push(0);
    }
    let err = fx.circuits.statement().unwrap().prove(&fx.top, &wide).unwrap_err().to_string();
    assert!(err.contains("5 assets, where the family holds 1 to 4"), "{err}");
}

#[test]
fn a_statement_listing_other_assets_than_the_proven_ones_is_refused() {
    let fx = fixture();
    let statement = fx.circuits.statement().unwrap();
    // Two real assets while the third holds balances: the totals past the
    // real assets are not zero.
    let mut fewer = fx.statement.clone();
    for column in [&mut fewer.prices, &mut fewer.equity, &mut fewer.debt] {
        column.truncate(2);
    }
    fewer.assets.truncate(2);
    let err = format!("{:#}", statement.prove(&fx.top, &fewer).unwrap_err());
    assert!(err.contains(COPY_CONFLICT) || err.contains(WITNESS_FAILURE), "{err}");
    // The family's padding slot listed as a fourth asset of price zero
    // proves, but it is another statement: another digest.
    let mut more = fx.statement.clone();
    more.assets.push(F::ONE);
    for column in [&mut more.prices, &mut more.equity, &mut more.debt] {
        column.push(0);
    }
    let proof = statement.prove(&fx.top, &more).unwrap();
    assert_eq!(proof.public_inputs[4..], more.digest().elements);
    assert_ne!(more.digest(), fx.statement.digest());
    // Prices other than the proven ones do not match the commitment.
    let mut repriced = fx.statement.clone();
    repriced.prices[1] += 1;
    let err = format!("{:#}", statement.prove(&fx.top, &repriced).unwrap_err());
    assert!(err.contains(COPY_CONFLICT), "{err}");
}

#[test]
fn a_digest_message_that_is_not_the_statement_is_refused() {
    let fx = fixture();
    let statement = fx.circuits.statement().unwrap();
    let honest = statement.witness_of(&fx.statement).unwrap();
    // Two entries of the message swapped: the columns do not concatenate
    // to it, whatever digest it hashes to.
    let mut swapped = honest.clone();
    swapped.message.swap(REAL, REAL + 1);
    let err = format!("{:#}", statement.prove_witness(&fx.top, &swapped).unwrap_err());
    assert!(err.contains(COPY_CONFLICT), "{err}");
    // A value after the message's end.
    let mut longer = honest.clone();
    longer.message[4 * REAL] = F::ONE;
    let err = format!("{:#}", statement.prove_witness(&fx.top, &longer).unwrap_err());
    assert!(err.contains(COPY_CONFLICT), "{err}");
    // A code past the real assets.
    let mut coded = honest.clone();
    coded.codes[REAL] = F::ONE;
    let err = format!("{:#}", statement.prove_witness(&fx.top, &coded).unwrap_err());
    assert!(err.contains(COPY_CONFLICT), "{err}");
    statement.prove_witness(&fx.top, &honest).unwrap();
}

#[test]
fn a_statement_with_a_user_count_of_another_tree_does_not_match_its_proof() {
    let fx = fixture();
    let mut more_users = fx.statement.clone();
    more_users.account_count += 1;
    let proof = fx.circuits.statement().unwrap().prove(&fx.top, &fx.statement).unwrap();
    assert_ne!(proof.public_inputs[4..], more_users.digest().elements, "the count is part of the digest");
}

/// A store that is "killed" after keeping a given number of proofs.
struct KilledAfter {
    kept: MemoryStore,
    saves_left: usize,
}

impl ProofStore for KilledAfter {
    fn load(&mut self, key: ProofKey) -> anyhow::Result<Option<Vec<u8>>> {
        self.kept.load(key)
    }

    fn save(&mut self, key: ProofKey, proof: &[u8]) -> anyhow::Result<()> {
        anyhow::ensure!(self.saves_left > 0, "killed");
        self.saves_left -= 1;
        self.kept.save(key, proof)
    }
}

fn all_witnesses() -> impl ExactSizeIterator<Item = anyhow::Result<(usize, TierBatchWitness)>> {
    batch_witnesses().map(Ok).collect::<Vec<_>>().into_iter()
}

#[test]
fn an_interrupted_tree_resumes_from_its_finished_proofs_and_only_from_sound_ones() {
    let fx = fixture();
    let prices = slot_prices();
    let mut store = KilledAfter { kept: MemoryStore::default(), saves_left: 2 };
    let err = prove_tree(&fx.circuits, all_witnesses(), &prices, &mut store, |_| {}).unwrap_err();
    assert!(format!("{err:#}").contains("killed"), "{err:#}");

    let mut kept = store.kept;
    let mut events = Vec::new();
    let top = prove_tree(&fx.circuits, all_witnesses(), &prices, &mut kept, |done| events.push(done)).unwrap();
    assert_eq!(top.public_inputs, fx.top.public_inputs);
    let reused: Vec<_> = events.iter().filter(|e| matches!(e, ProofDone::Reused(_))).collect();
    assert_eq!(reused, [&ProofDone::Reused(ProofKey::Batch(0)), &ProofDone::Reused(ProofKey::Batch(1))]);
    assert!(events.contains(&ProofDone::Batch { index: 2, of: 5 }));

    // A proof kept under the wrong key, or damaged, is proven again.
    let other = kept.proofs[&ProofKey::Batch(1)].clone();
    kept.proofs.insert(ProofKey::Batch(0), other);
    kept.proofs.get_mut(&ProofKey::Batch(2)).unwrap().truncate(100);
    let mut events = Vec::new();
    let again = prove_tree(&fx.circuits, all_witnesses(), &prices, &mut kept, |done| events.push(done)).unwrap();
    assert_eq!(again.public_inputs, fx.top.public_inputs);
    assert!(events.contains(&ProofDone::Batch { index: 0, of: 5 }), "{events:?}");
    assert!(events.contains(&ProofDone::Reused(ProofKey::Batch(1))), "{events:?}");
    assert!(events.contains(&ProofDone::Batch { index: 2, of: 5 }), "{events:?}");
    assert!(events.contains(&ProofDone::Reused(ProofKey::Node { level: 2, index: 0 })), "{events:?}");
}
