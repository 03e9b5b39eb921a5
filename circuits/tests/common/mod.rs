//! A proven tree of the tiny shape, built once per test binary.

#![allow(dead_code)]

use std::sync::OnceLock;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpor_circuits::account::{AccountLeaf, draw_nonce};
use zkpor_circuits::batch::BatchWitness;
use zkpor_circuits::encoding::Address;
use zkpor_circuits::final_wrap::{FinalInputs, FinalProof};
use zkpor_circuits::layout::TreeLayout;
use zkpor_circuits::merkle::AccountTree;
use zkpor_circuits::node::NodeProof;
use zkpor_circuits::statement::{Statement, StatementProof};
use zkpor_circuits::tree_prover::prove_tree;
use zkpor_circuits::{CircuitSet, Shape};

/// What plonky2 reports when no witness can be generated.
pub const WITNESS_FAILURE: &str = "generators weren't run";
/// What plonky2 reports when two copy-constrained wires get different values.
pub const COPY_CONFLICT: &str = "set twice with different values";

pub struct Fixture {
    pub circuits: CircuitSet,
    pub prices: Vec<u64>,
    pub accounts: Vec<AccountLeaf>,
    pub tree: AccountTree,
    pub statement: Statement,
    pub batch_proofs: Vec<NodeProof>,
    pub top: NodeProof,
    pub statement_proof: StatementProof,
    pub final_proof: FinalProof,
    pub inputs: FinalInputs,
}

pub const SUBMITTER: Address = Address([0x11; 20]);
pub const SEQUENCE: u64 = 7;

/// Five accounts of two assets: two batches of the tiny shape.
pub fn accounts() -> Vec<AccountLeaf> {
    let mut rng = ChaCha20Rng::seed_from_u64(42);
    let balances: [([u64; 2], [u64; 2]); 5] =
        [([100, 0], [0, 0]), ([0, 50], [10, 0]), ([7, 7], [0, 3]), ([(1 << 48) - 1, 0], [0, 1]), ([0, 0], [0, 0])];
    balances
        .iter()
        .enumerate()
        .map(|(i, (equity, debt))| AccountLeaf {
            id_hash: draw_nonce(&format!("user{i}"), &mut rng).1,
            equity: equity.to_vec(),
            debt: debt.to_vec(),
        })
        .collect()
}

pub fn batch_witnesses(shape: &Shape, prices: &[u64], accounts: &[AccountLeaf]) -> Vec<BatchWitness> {
    accounts.chunks(shape.batch_size()).map(|chunk| BatchWitness::new(shape, prices, chunk).unwrap()).collect()
}

pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let shape = Shape::TINY;
        let circuits = CircuitSet::build(&shape);
        let prices = vec![3, 20];
        let accounts = accounts();
        let tree = AccountTree::new(accounts.iter().map(AccountLeaf::hash).collect(), shape.assets(), shape.depth());
        let witnesses = batch_witnesses(&shape, &prices, &accounts);
        let batch_proofs: Vec<NodeProof> = witnesses.iter().map(|w| circuits.batch().prove(w).unwrap()).collect();
        let layout = TreeLayout::new(shape, accounts.len());
        let top = prove_tree(circuits.tree(), &layout, &prices, |i| Ok(witnesses[i].clone()), |_| {}).unwrap();
        let total = |pick: fn(&AccountLeaf) -> &Vec<u64>, asset: usize| accounts.iter().map(|a| pick(a)[asset]).sum();
        let statement = Statement {
            root: tree.root(),
            account_count: accounts.len() as u64,
            prices: prices.clone(),
            equity: (0..2).map(|a| total(|l| &l.equity, a)).collect(),
            debt: (0..2).map(|a| total(|l| &l.debt, a)).collect(),
        };
        let statement_proof = circuits.statement().prove(&top, &prices).unwrap();
        let final_proof = circuits.final_wrap().prove(&statement_proof, SEQUENCE, SUBMITTER).unwrap();
        let inputs =
            FinalInputs { root: statement.root, digest: statement.digest(), sequence: SEQUENCE, submitter: SUBMITTER };
        Fixture { circuits, prices, accounts, tree, statement, batch_proofs, top, statement_proof, final_proof, inputs }
    })
}
