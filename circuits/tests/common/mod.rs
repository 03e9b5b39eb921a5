//! A small family and a proven tree of it, built once per test binary.

#![allow(dead_code)]

use std::sync::OnceLock;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpor_circuits::batch::TierBatchWitness;
use zkpor_circuits::identity::draw_nonce;
use zkpor_circuits::leaf::{Leaf, Slot};
use zkpor_circuits::node::{NodeInputs, NodeProof};
use zkpor_circuits::proof_store::{MemoryStore, ProofKey};
use zkpor_circuits::statement::{Statement, asset_code, padded};
use zkpor_circuits::tier::{Tier, TierSet};
use zkpor_circuits::tree_prover::prove_tree;
use zkpor_circuits::{Family, FamilyCircuits, Hash};

/// What plonky2 reports when no witness can be generated.
pub const WITNESS_FAILURE: &str = "generators weren't run";
/// What plonky2 reports when two copy-constrained wires get different values.
pub const COPY_CONFLICT: &str = "set twice with different values";

/// Asset slots of the test family.
pub const ASSETS: usize = 4;
/// Real assets of the test statement: the last slot is the family's padding.
pub const REAL: usize = 3;
/// Unit prices of the real assets.
pub const PRICES: [u64; REAL] = [3, 20, 7];
/// The largest balance.
pub const MAX: i64 = (1 << 48) - 1;

/// Batches of five, three and two users of two, three and four slots, at
/// 2^10 rows; nodes of two children, so that five batches take three nodes
/// over batches, two nodes over nodes and the top.
pub fn family_with(batch_size: usize) -> Family {
    let tier = |slots, batch_size| Tier { slots, batch_size };
    let tiers = TierSet::new(ASSETS, 10, vec![tier(2, batch_size), tier(3, 3), tier(4, 2)]).unwrap();
    Family::new("test", tiers, 2, 2, 2, 14, 30).unwrap()
}

/// The test family.
pub fn family() -> Family {
    family_with(5)
}

pub fn slot(asset: u16, balance: i64) -> Slot {
    Slot { asset, balance }
}

pub fn id(name: &str) -> Hash {
    draw_nonce(name, &mut ChaCha20Rng::seed_from_u64(name.len() as u64)).1
}

/// The prices of the family's slots: the real ones, then zero.
pub fn slot_prices() -> Vec<u64> {
    padded(&PRICES, ASSETS)
}

/// Users per batch, with their tier: five batches.
pub fn users() -> Vec<(usize, Vec<Vec<Slot>>)> {
    vec![
        (
            0,
            vec![
                vec![slot(0, 100)],
                vec![slot(2, 50), slot(1, -1)],
                vec![slot(1, MAX)],
                vec![slot(1, 50), slot(0, -10)],
            ],
        ),
        (0, vec![vec![slot(0, 5)]]),
        (1, vec![vec![slot(2, 9), slot(1, -3), slot(0, 1)], vec![slot(0, 1), slot(2, 1)]]),
        (1, vec![vec![slot(1, 9)]]),
        (2, vec![vec![slot(0, 10), slot(1, 1), slot(2, 1)], vec![slot(0, -MAX), slot(1, MAX)]]),
    ]
}

pub struct Batch {
    pub tier: usize,
    pub leaves: Vec<Leaf>,
    pub witness: TierBatchWitness,
    pub proof: NodeProof,
}

pub struct Fixture {
    pub circuits: FamilyCircuits,
    pub batches: Vec<Batch>,
    /// Every proof of the tree.
    pub proofs: MemoryStore,
    pub top: NodeProof,
    pub statement: Statement,
}

impl Fixture {
    /// The proof of node `index` of `level`.
    pub fn node(&self, level: usize, index: usize) -> NodeProof {
        let bytes = self.proofs.proofs[&ProofKey::Node { level, index }].clone();
        let kind = zkpor_circuits::tree::TreeShape::new(self.circuits.family(), self.batches.len()).kind(level);
        NodeProof::from_bytes(bytes, &self.circuits.node(kind).unwrap().data().common).unwrap()
    }
}

fn build(family: &Family) -> Fixture {
    let circuits = FamilyCircuits::build(family, |_| {}).unwrap();
    let tiers = family.tiers();
    let prices = slot_prices();
    let mut batches = Vec::new();
    for (index, (tier, holders)) in users().into_iter().enumerate() {
        let leaves: Vec<Leaf> = holders
            .iter()
            .enumerate()
            .map(|(user, holdings)| {
                Leaf::new(id(&format!("b{index}u{user}")), holdings, tiers.tier(tier).slots, ASSETS).unwrap()
            })
            .collect();
        let witness = TierBatchWitness::new(tiers.tier(tier), &prices, &leaves).unwrap();
        let proof = circuits.tier(tier).unwrap().prove(&witness).unwrap();
        batches.push(Batch { tier, leaves, witness, proof });
    }
    let witnesses: Vec<_> = batches.iter().map(|b| Ok((b.tier, b.witness.clone()))).collect();
    let mut proofs = MemoryStore::default();
    let top = prove_tree(&circuits, witnesses.into_iter(), &prices, &mut proofs, |_| {}).unwrap();
    let statement = statement_of(&top);
    Fixture { circuits, batches, proofs, top, statement }
}

/// The statement of the tree whose top proof is `top`, over the three real
/// assets at [`PRICES`].
pub fn statement_of(top: &NodeProof) -> Statement {
    let inputs = NodeInputs::of(top, ASSETS);
    let (equity, debt) = inputs.totals();
    Statement {
        root: inputs.root_hash(),
        account_count: inputs.count(),
        assets: ["BTC", "ETH", "USDT"].iter().map(|symbol| asset_code(symbol, 8)).collect(),
        prices: PRICES.to_vec(),
        equity: equity[..REAL].to_vec(),
        debt: debt[..REAL].to_vec(),
    }
}

pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| build(&family()))
}

/// A family whose circuits have the same rows, gates and public inputs as
/// the test family's but other constants (its first tier holds one user
/// more): every proof of it is a proof of a circuit outside the family.
pub fn rogue() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| build(&family_with(6)))
}
