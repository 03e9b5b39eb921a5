//! Real final proofs of small statements, for tests and measurements of the
//! generated verifier: the accounts are made up, the proofs are not.

use anyhow::{Result, ensure};
use plonky2::field::types::PrimeField64;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpor_circuits::CircuitSet;
use zkpor_circuits::account::{AccountLeaf, draw_nonce};
use zkpor_circuits::batch::BatchWitness;
use zkpor_circuits::encoding::Address;
use zkpor_circuits::final_wrap::{FinalInputs, FinalProof};
use zkpor_circuits::layout::TreeLayout;
use zkpor_circuits::merkle::AccountTree;
use zkpor_circuits::statement::Statement;
use zkpor_circuits::tree_prover::prove_tree;

use crate::calldata::encode;
use crate::layout::ProofLayout;

/// One account's balances in smallest units, per asset slot.
#[derive(Clone, Debug)]
pub struct Balances {
    /// Equity per asset.
    pub equity: Vec<u64>,
    /// Debt per asset.
    pub debt: Vec<u64>,
}

/// A proven statement, ready for the contract.
#[derive(Clone, Debug)]
pub struct SampleProof {
    /// What was proven.
    pub statement: Statement,
    /// The final proof.
    pub proof: FinalProof,
    /// Its public inputs.
    pub inputs: FinalInputs,
    /// The proof encoded for the verifier contract.
    pub calldata: Vec<u8>,
}

impl SampleProof {
    /// The public inputs as the registry passes them to the verifier.
    pub fn public_inputs(&self) -> Vec<u64> {
        self.proof.public_inputs.iter().map(|f| f.to_canonical_u64()).collect()
    }
}

/// Proves that `accounts` (ids drawn from `seed`) at unit `prices` add up,
/// for `sequence` and `submitter`, with `circuits` (whose shape must hold
/// them), and checks the proof with plonky2's verifier.
pub fn prove_accounts(
    circuits: &CircuitSet,
    prices: &[u64],
    accounts: &[Balances],
    sequence: u64,
    submitter: Address,
    seed: u64,
) -> Result<SampleProof> {
    let shape = *circuits.shape();
    ensure!(prices.len() == shape.assets(), "{} prices for {} asset slots", prices.len(), shape.assets());
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let leaves: Vec<AccountLeaf> = accounts
        .iter()
        .enumerate()
        .map(|(i, balances)| AccountLeaf {
            id_hash: draw_nonce(&format!("user-{i}"), &mut rng).1,
            equity: balances.equity.clone(),
            debt: balances.debt.clone(),
        })
        .collect();
    let tree = AccountTree::new(leaves.iter().map(AccountLeaf::hash).collect(), shape.assets(), shape.depth());
    let layout = TreeLayout::new(shape, leaves.len());
    let batch = |index: usize| {
        let start = (index * shape.batch_size()).min(leaves.len());
        let end = ((index + 1) * shape.batch_size()).min(leaves.len());
        BatchWitness::new(&shape, prices, &leaves[start..end])
    };
    let top = prove_tree(circuits.tree(), &layout, prices, batch, |_| {})?;
    let total = |pick: fn(&Balances) -> &Vec<u64>, asset: usize| accounts.iter().map(|a| pick(a)[asset]).sum();
    let statement = Statement {
        root: tree.root(),
        account_count: leaves.len() as u64,
        prices: prices.to_vec(),
        equity: (0..shape.assets()).map(|a| total(|b| &b.equity, a)).collect(),
        debt: (0..shape.assets()).map(|a| total(|b| &b.debt, a)).collect(),
    };
    let statement_proof = circuits.statement().prove(&top, prices)?;
    let proof = circuits.final_wrap().prove(&statement_proof, sequence, submitter)?;
    let inputs = FinalInputs { root: statement.root, digest: statement.digest(), sequence, submitter };
    circuits.final_wrap().verify(&proof, &inputs)?;
    let calldata = encode(&proof, &ProofLayout::new(&circuits.final_wrap().data().common)?)?;
    Ok(SampleProof { statement, proof, inputs, calldata })
}

/// A few solvent accounts with `assets` slots, varied by `seed`.
pub fn sample_accounts(assets: usize, count: usize, seed: u64) -> Vec<Balances> {
    (0..count as u64)
        .map(|i| {
            let base = 1000 * (seed + 1) + 17 * i;
            let equity: Vec<u64> = (0..assets as u64).map(|a| base + 3 * a).collect();
            // Debt in the first asset only, below that asset's equity.
            let debt = (0..assets).map(|a| if a == 0 { (i * seed) % base } else { 0 }).collect();
            Balances { equity, debt }
        })
        .collect()
}
