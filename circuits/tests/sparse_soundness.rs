//! The sparse, tiered circuits refuse every way of lying about a snapshot,
//! in every tier: the checks of the dense circuits (field wrap, balances past
//! 2^48, negative users, forged totals) and those the sparse design adds (an
//! asset twice, an asset index out of range, a slot counted or priced under
//! another asset, a user split across tiers, a batch proof passed off as
//! another tier's).

mod common;

use std::sync::OnceLock;

use common::{COPY_CONFLICT, WITNESS_FAILURE};
use plonky2::field::types::{Field, PrimeField64};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpor_circuits::account::draw_nonce;
use zkpor_circuits::node::{NodeInputs, NodeProof};
use zkpor_circuits::sparse::batch::{AssetClaims, SlotFields, TierBatchWitness};
use zkpor_circuits::sparse::circuits::TieredCircuits;
use zkpor_circuits::sparse::leaf::{Slot, SparseLeaf};
use zkpor_circuits::sparse::proof_store::{MemoryStore, NoStore, ProofKey, ProofStore};
use zkpor_circuits::sparse::shape::TieredShape;
use zkpor_circuits::sparse::tier::{Tier, TierSet};
use zkpor_circuits::sparse::tree::{batch_root, tiered_root};
use zkpor_circuits::sparse::tree_prover::{TieredProofDone, prove_tiered_tree};
use zkpor_circuits::{F, Hash};

const ASSETS: usize = 4;
const PRICES: [u64; ASSETS] = [3, 20, 7, 1];
const MAX: i64 = (1 << 48) - 1;

struct Fixture {
    circuits: TieredCircuits,
    /// Per tier: its users' leaves, then its batch witness and proof.
    batches: Vec<(Vec<SparseLeaf>, TierBatchWitness, NodeProof)>,
    top: NodeProof,
}

/// Batches of five and three users: their trees hold padding leaves past
/// the padding users, up to eight and four.
fn tiers() -> TierSet {
    let tier = |slots, batch_size| Tier { slots, batch_size };
    TierSet::new(ASSETS, 11, vec![tier(2, 5), tier(3, 3), tier(4, 2)]).unwrap()
}

/// Three batches (one per tier) under nodes of two, then a top node of
/// three: the second node takes an empty batch, the top an empty node and,
/// in its fourth hash slot, the constant root of an empty node.
fn shape() -> TieredShape {
    TieredShape::new(tiers(), vec![2, 3]).unwrap()
}

fn slot(asset: u16, balance: i64) -> Slot {
    Slot { asset, balance }
}

fn id(name: &str) -> Hash {
    draw_nonce(name, &mut ChaCha20Rng::seed_from_u64(name.len() as u64)).1
}

/// Users per tier: each tier holds users of up to its slot count.
fn users() -> Vec<Vec<Vec<Slot>>> {
    vec![
        vec![vec![slot(0, 100)], vec![slot(3, 50), slot(1, -1)], vec![slot(1, MAX)], vec![slot(1, 50), slot(0, -10)]],
        vec![vec![slot(2, 7), slot(3, -3), slot(0, 1)], vec![slot(0, 1), slot(2, 1)]],
        vec![vec![slot(0, 1), slot(1, 1), slot(2, 1), slot(3, -1)], vec![slot(0, -MAX), slot(1, MAX)]],
    ]
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let tiers = tiers();
        let circuits = TieredCircuits::build(&shape(), |_| {}).unwrap();
        let mut batches = Vec::new();
        for (index, holders) in users().into_iter().enumerate() {
            let tier = tiers.tier(index);
            let leaves: Vec<SparseLeaf> = holders
                .iter()
                .enumerate()
                .map(|(user, holdings)| {
                    SparseLeaf::new(id(&format!("t{index}u{user}")), holdings, tier.slots, ASSETS).unwrap()
                })
                .collect();
            let witness = TierBatchWitness::new(tier, &PRICES, &leaves).unwrap();
            let proof = circuits.batch(index).unwrap().prove(&witness).unwrap();
            batches.push((leaves, witness, proof));
        }
        let witnesses: Vec<_> = batches.iter().enumerate().map(|(tier, (_, w, _))| Ok((tier, w.clone()))).collect();
        let top = prove_tiered_tree(&circuits, witnesses.into_iter(), &PRICES, &mut NoStore, |_| {}).unwrap();
        Fixture { circuits, batches, top }
    })
}

fn tiers_with_witness() -> impl Iterator<Item = (usize, TierBatchWitness)> {
    fixture().batches.iter().enumerate().map(|(tier, (_, witness, _))| (tier, witness.clone()))
}

fn prove_err(tier: usize, witness: &TierBatchWitness) -> String {
    let err = fixture().circuits.batch(tier).unwrap().prove(witness).expect_err("a lie was proven");
    format!("{err:#}")
}

fn prove_claiming_err(tier: usize, witness: &TierBatchWitness, claims: &AssetClaims) -> String {
    let err = fixture().circuits.batch(tier).unwrap().prove_claiming(witness, claims).expect_err("a lie was proven");
    format!("{err:#}")
}

#[test]
fn the_tiered_tree_matches_the_native_tree_and_totals() {
    let fx = fixture();
    let tiers = tiers();
    let roots: Vec<Hash> =
        fx.batches.iter().enumerate().map(|(index, (leaves, _, _))| batch_root(tiers.tier(index), leaves)).collect();
    let top = NodeInputs::of(&fx.top, ASSETS);
    assert_eq!(top.root_hash(), tiered_root(&roots, &shape()));
    assert_eq!(top.count(), 8);
    let mut equity = [0u64; ASSETS];
    let mut debt = [0u64; ASSETS];
    for slot in users().iter().flatten().flatten() {
        equity[usize::from(slot.asset)] += slot.equity();
        debt[usize::from(slot.asset)] += slot.debt();
    }
    assert_eq!(top.totals(), (equity.to_vec(), debt.to_vec()));
    fx.circuits.top().unwrap().verify(fx.top.clone()).unwrap();
}

#[test]
fn a_balance_that_wraps_the_field_cannot_be_proven_in_any_tier() {
    for (tier, mut witness) in tiers_with_witness() {
        // p − 1 as an equity magnitude is "−1".
        witness.accounts[0].slots[0].magnitude = F::NEG_ONE;
        witness.accounts[0].slots[0].is_debt = F::ZERO;
        assert!(prove_err(tier, &witness).contains(WITNESS_FAILURE), "tier {tier}");
    }
}

#[test]
fn a_balance_of_2_pow_48_cannot_be_proven_in_any_tier() {
    for (tier, mut witness) in tiers_with_witness() {
        witness.accounts[0].slots[0].magnitude = F::from_canonical_u64(1 << 48);
        witness.accounts[0].slots[0].is_debt = F::ZERO;
        assert!(prove_err(tier, &witness).contains(WITNESS_FAILURE), "tier {tier}");
    }
}

#[test]
fn a_sign_that_is_not_a_bit_cannot_be_proven_in_any_tier() {
    for (tier, mut witness) in tiers_with_witness() {
        witness.accounts[0].slots[0].is_debt = F::TWO;
        let err = prove_err(tier, &witness);
        assert!(err.contains(COPY_CONFLICT) || err.contains(WITNESS_FAILURE), "tier {tier}: {err}");
    }
}

#[test]
fn a_user_with_more_usd_debt_than_equity_cannot_be_proven_in_any_tier() {
    let price = |slot: &SlotFields| PRICES[slot.asset.to_canonical_u64() as usize];
    for (tier, mut witness) in tiers_with_witness() {
        // The first user owes the first slot's asset worth one unit more
        // than the second slot holds.
        let user = &mut witness.accounts[0];
        for slot in &mut user.slots {
            slot.magnitude = F::ZERO;
        }
        let (first, second) = (price(&user.slots[0]), price(&user.slots[1]));
        user.slots[0] = SlotFields { magnitude: F::from_canonical_u64(second + 1), is_debt: F::ONE, ..user.slots[0] };
        user.slots[1] = SlotFields { magnitude: F::from_canonical_u64(first), is_debt: F::ZERO, ..user.slots[1] };
        assert!(prove_err(tier, &witness).contains(WITNESS_FAILURE), "tier {tier}");
        // At exactly zero net value the user is accepted.
        witness.accounts[0].slots[0].magnitude = F::from_canonical_u64(second);
        fixture().circuits.batch(tier).unwrap().prove(&witness).unwrap();
    }
}

#[test]
fn two_slots_of_the_same_asset_cannot_be_proven_in_any_tier() {
    for (tier, witness) in tiers_with_witness() {
        let mut twice = witness.clone();
        twice.accounts[0].slots[1].asset = twice.accounts[0].slots[0].asset;
        assert!(prove_err(tier, &twice).contains(WITNESS_FAILURE), "tier {tier}");
        // Nor out of order.
        let mut swapped = witness.clone();
        swapped.accounts[1].slots.swap(0, 1);
        assert!(prove_err(tier, &swapped).contains(WITNESS_FAILURE), "tier {tier}");
    }
}

#[test]
fn an_asset_index_out_of_range_cannot_be_proven_in_any_tier() {
    for (tier, mut witness) in tiers_with_witness() {
        let last = witness.accounts[0].slots.len() - 1;
        for asset in [F::from_canonical_usize(ASSETS), F::NEG_ONE] {
            witness.accounts[0].slots[last].asset = asset;
            // The index's range check or the asset table, whichever plonky2 meets first.
            let err = prove_err(tier, &witness);
            assert!(err.contains(WITNESS_FAILURE) || err.contains(COPY_CONFLICT), "tier {tier}, asset {asset}: {err}");
        }
    }
}

#[test]
fn a_slot_counted_under_another_asset_cannot_be_proven_in_any_tier() {
    for (tier, witness) in tiers_with_witness() {
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
    for (tier, witness) in tiers_with_witness() {
        let honest = AssetClaims::of(&witness, ASSETS);
        let mut repriced = honest.clone();
        // The first user's first slot (asset 0 or 1) valued at asset 3's price.
        repriced.slot_prices[0] = (F::from_canonical_u64(PRICES[3]), F::ZERO);
        assert!(prove_claiming_err(tier, &witness, &repriced).contains(COPY_CONFLICT), "tier {tier}");
        // A price limb past its range, even one that recombines to the true price.
        let mut wrapped = honest.clone();
        let (low, high) = wrapped.slot_prices[0];
        wrapped.slot_prices[0] = (low + F::from_canonical_u64(1 << 32), high - F::ONE);
        assert!(prove_claiming_err(tier, &witness, &wrapped).contains(COPY_CONFLICT), "tier {tier}");
    }
}

#[test]
fn a_batch_total_off_by_one_does_not_verify_nor_aggregate_in_any_tier() {
    let fx = fixture();
    let equity_total_0 = 9;
    for (tier, (_, _, proof)) in fx.batches.iter().enumerate() {
        let mut forged = proof.clone();
        forged.public_inputs[equity_total_0] += F::ONE;
        assert!(fx.circuits.batch(tier).unwrap().data().verify(forged.clone()).is_err(), "tier {tier}");
        let other = &fx.batches[(tier + 1) % fx.batches.len()].2;
        let children = [(tier, &forged), ((tier + 1) % fx.batches.len(), other)];
        let err =
            fx.circuits.aggregation(0).unwrap().prove_indexed(&children).expect_err("a forged child was aggregated");
        assert!(format!("{err:#}").contains(COPY_CONFLICT), "tier {tier}: {err:#}");
    }
}

#[test]
fn a_batch_proof_passed_off_as_another_tiers_is_refused() {
    let fx = fixture();
    let (first, second) = (&fx.batches[0].2, &fx.batches[1].2);
    let err =
        fx.circuits.aggregation(0).unwrap().prove_indexed(&[(1, first), (1, second)]).expect_err("wrong tier accepted");
    assert!(format!("{err:#}").contains(COPY_CONFLICT), "{err:#}");
    fx.circuits.aggregation(0).unwrap().prove_indexed(&[(0, first), (1, second)]).unwrap();
}

#[test]
fn a_user_split_across_tiers_is_caught() {
    let fx = fixture();
    let tiers = tiers();
    // Tier 0's fourth user holds 50 of asset 1 and owes 10 of asset 0.
    let holdings = users()[0][3].clone();
    let whole = &fx.batches[0].0[3];
    assert!(whole.holds_exactly(&holdings));
    let (equity_part, debt_part) = (vec![holdings[0]], vec![holdings[1]]);
    let equity_leaf = SparseLeaf::new(whole.id_hash, &equity_part, tiers.tier(1).slots, ASSETS).unwrap();
    let debt_leaf = SparseLeaf::new(whole.id_hash, &debt_part, tiers.tier(0).slots, ASSETS).unwrap();
    // The part that owes cannot be proven on its own ...
    let witness = TierBatchWitness::new(tiers.tier(0), &PRICES, &[debt_leaf]).unwrap();
    assert!(prove_err(0, &witness).contains(WITNESS_FAILURE));
    // ... and the part that can is not the user's leaf: their check fails.
    let witness = TierBatchWitness::new(tiers.tier(1), &PRICES, std::slice::from_ref(&equity_leaf)).unwrap();
    fx.circuits.batch(1).unwrap().prove(&witness).unwrap();
    assert!(!equity_leaf.holds_exactly(&holdings));
    assert_ne!(equity_leaf.hash(), whole.hash());
    // A user with only equity split in two: both halves prove, neither is theirs.
    let holdings = users()[0][1].iter().map(|s| slot(s.asset, s.balance.abs())).collect::<Vec<_>>();
    for (part, tier) in [(&holdings[..1], 0), (&holdings[1..], 2)] {
        let leaf = SparseLeaf::new(whole.id_hash, part, tiers.tier(tier).slots, ASSETS).unwrap();
        let witness = TierBatchWitness::new(tiers.tier(tier), &PRICES, std::slice::from_ref(&leaf)).unwrap();
        fx.circuits.batch(tier).unwrap().prove(&witness).unwrap();
        assert!(!leaf.holds_exactly(&holdings), "tier {tier}");
    }
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
    tiers_with_witness().map(Ok).collect::<Vec<_>>().into_iter()
}

#[test]
fn an_interrupted_tree_resumes_from_its_finished_proofs_and_only_from_sound_ones() {
    let fx = fixture();
    let mut store = KilledAfter { kept: MemoryStore::default(), saves_left: 2 };
    let err = prove_tiered_tree(&fx.circuits, all_witnesses(), &PRICES, &mut store, |_| {}).unwrap_err();
    assert!(format!("{err:#}").contains("killed"), "{err:#}");

    let mut kept = store.kept;
    let mut events = Vec::new();
    let top = prove_tiered_tree(&fx.circuits, all_witnesses(), &PRICES, &mut kept, |done| events.push(done)).unwrap();
    assert_eq!(top.public_inputs, fx.top.public_inputs);
    let reused: Vec<_> = events.iter().filter(|e| matches!(e, TieredProofDone::Reused(_))).collect();
    assert_eq!(reused, [&TieredProofDone::Reused(ProofKey::Batch(0)), &TieredProofDone::Reused(ProofKey::Batch(1))]);
    assert!(events.contains(&TieredProofDone::Batch { index: 2, of: 3 }));

    // A proof kept under the wrong key, or damaged, is proven again.
    let other = kept.proofs[&ProofKey::Batch(1)].clone();
    kept.proofs.insert(ProofKey::Batch(0), other);
    kept.proofs.get_mut(&ProofKey::Batch(2)).unwrap().truncate(100);
    let mut events = Vec::new();
    let again = prove_tiered_tree(&fx.circuits, all_witnesses(), &PRICES, &mut kept, |done| events.push(done)).unwrap();
    assert_eq!(again.public_inputs, fx.top.public_inputs);
    assert!(events.contains(&TieredProofDone::Batch { index: 0, of: 3 }), "{events:?}");
    assert!(events.contains(&TieredProofDone::Reused(ProofKey::Batch(1))), "{events:?}");
    assert!(events.contains(&TieredProofDone::Batch { index: 2, of: 3 }), "{events:?}");
    assert!(events.contains(&TieredProofDone::Reused(ProofKey::Node { level: 1, index: 0 })), "{events:?}");
}
