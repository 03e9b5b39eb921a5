//! Real final proofs of small statements, for tests and measurements of the
//! generated verifier: the users are made up, the proofs are not.

use anyhow::{Context, Result, ensure};
use plonky2::field::types::PrimeField64;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpor_circuits::FamilyCircuits;
use zkpor_circuits::batch::TierBatchWitness;
use zkpor_circuits::encoding::Address;
use zkpor_circuits::final_wrap::{FinalInputs, FinalProof};
use zkpor_circuits::identity::draw_nonce;
use zkpor_circuits::leaf::{Leaf, Slot};
use zkpor_circuits::node::NodeInputs;
use zkpor_circuits::proof_store::NoStore;
use zkpor_circuits::statement::{Statement, asset_code, padded};
use zkpor_circuits::tree_prover::prove_tree;

use crate::calldata::encode;
use crate::layout::ProofLayout;

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

/// Proves that `users` (signed balances per asset, ids drawn from `seed`)
/// at unit `prices` (one per real asset, named `ASSET0`, `ASSET1`, ...)
/// add up, for `sequence` and `submitter`, with `circuits`, and checks the
/// proof with plonky2's verifier. Each user goes to the smallest tier that
/// holds them, each tier's users into its batches.
pub fn prove_accounts(
    circuits: &FamilyCircuits,
    prices: &[u64],
    users: &[Vec<i64>],
    sequence: u64,
    submitter: Address,
    seed: u64,
) -> Result<SampleProof> {
    let family = circuits.family();
    let tiers = family.tiers();
    ensure!(prices.len() <= family.assets(), "{} prices for a family of {} assets", prices.len(), family.assets());
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut by_tier: Vec<Vec<Leaf>> = vec![Vec::new(); tiers.tiers().len()];
    for (i, balances) in users.iter().enumerate() {
        ensure!(balances.len() == prices.len(), "user {i} has {} balances for {} assets", balances.len(), prices.len());
        let holdings: Vec<Slot> = (0..prices.len() as u16)
            .zip(balances)
            .filter(|(_, balance)| **balance != 0)
            .map(|(asset, &balance)| Slot { asset, balance })
            .collect();
        let tier = tiers.tier_for(holdings.len()).context("no tier holds a user")?;
        let id_hash = draw_nonce(&format!("user-{i}"), &mut rng).1;
        by_tier[tier].push(Leaf::new(id_hash, &holdings, tiers.tier(tier).slots, family.assets())?);
    }
    let slot_prices = padded(prices, family.assets());
    let mut witnesses = Vec::new();
    for (tier, leaves) in by_tier.iter().enumerate() {
        for chunk in leaves.chunks(tiers.tier(tier).batch_size) {
            witnesses.push(TierBatchWitness::new(tiers.tier(tier), &slot_prices, chunk).map(|w| (tier, w)));
        }
    }
    if witnesses.is_empty() {
        witnesses.push(TierBatchWitness::new(tiers.tier(0), &slot_prices, &[]).map(|w| (0, w)));
    }
    let top = prove_tree(circuits, witnesses.into_iter(), &slot_prices, &mut NoStore, |_| {})?;
    let inputs = NodeInputs::of(&top, family.assets());
    let (equity, debt) = inputs.totals();
    let statement = Statement {
        root: inputs.root_hash(),
        account_count: inputs.count(),
        assets: (0..prices.len()).map(|asset| asset_code(&format!("ASSET{asset}"), 0)).collect(),
        prices: prices.to_vec(),
        equity: equity[..prices.len()].to_vec(),
        debt: debt[..prices.len()].to_vec(),
    };
    let statement_proof = circuits.statement()?.prove(&top, &statement)?;
    let final_wrap = circuits.final_wrap()?;
    let proof = final_wrap.prove(&statement_proof, sequence, submitter)?;
    let inputs = FinalInputs { root: statement.root, digest: statement.digest(), sequence, submitter };
    final_wrap.verify(&proof, &inputs)?;
    let calldata = encode(&proof, &ProofLayout::new(&final_wrap.data().common)?)?;
    Ok(SampleProof { statement, proof, inputs, calldata })
}

/// A few solvent users holding each of `assets` assets, varied by `seed`:
/// some owe part of the first asset's worth.
pub fn sample_accounts(assets: usize, count: usize, seed: u64) -> Vec<Vec<i64>> {
    (0..count as i64)
        .map(|i| {
            let base = 1000 * (seed as i64 + 1) + 17 * i;
            (0..assets as i64).map(|a| if a == 1 && i % 2 == 1 { -(base / 100) } else { base + 3 * a }).collect()
        })
        .collect()
}
