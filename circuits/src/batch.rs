//! The batch circuit: `B` accounts of one snapshot.
//!
//! It proves that every equity and debt value is below 2^48, that every
//! account's net value at the batch prices is non-negative (see
//! [`crate::gadgets::solvency`]), the exact per-asset totals (below
//! `B·2^48 ≤ 2^62`, so they cannot wrap), how many accounts are real, and the
//! Merkle root of the batch's leaves. Public inputs follow [`NodeInputs`].

use anyhow::{Context, Result, ensure};
use plonky2::field::types::Field;
use plonky2::hash::hash_types::HashOutTarget;
use plonky2::hash::poseidon::PoseidonHash;
use plonky2::iop::target::Target;
use plonky2::iop::witness::{PartialWitness, WitnessWrite};
use plonky2::plonk::circuit_builder::CircuitBuilder;
use plonky2::plonk::circuit_data::CircuitData;
use tracing::info_span;

use crate::account::{AccountLeaf, to_fields};
use crate::gadgets::merkle::merkle_root;
use crate::gadgets::range::LimbRangeChecker;
use crate::gadgets::solvency::{BALANCE_BITS, NetValue, PriceLimbs};
use crate::node::{NodeInputs, NodeProof};
use crate::{C, D, F, Hash, Shape, config};

/// One account's witness as raw field values, so that tests can also feed
/// what an honest exchange never would.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountFields {
    /// The hidden id; zero for padding.
    pub id_hash: Hash,
    /// Equity per asset slot.
    pub equity: Vec<F>,
    /// Debt per asset slot.
    pub debt: Vec<F>,
}

impl From<&AccountLeaf> for AccountFields {
    fn from(leaf: &AccountLeaf) -> Self {
        AccountFields { id_hash: leaf.id_hash, equity: to_fields(&leaf.equity), debt: to_fields(&leaf.debt) }
    }
}

/// Everything a batch proof needs: the unit prices and `B` accounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchWitness {
    /// Unit price per asset slot.
    pub prices: Vec<F>,
    /// Exactly `B` accounts, padding included.
    pub accounts: Vec<AccountFields>,
}

impl BatchWitness {
    /// The witness of up to `B` accounts, padded with padding accounts.
    pub fn new(shape: &Shape, prices: &[u64], accounts: &[AccountLeaf]) -> Result<Self> {
        ensure!(prices.len() == shape.assets(), "{} prices for {} asset slots", prices.len(), shape.assets());
        ensure!(
            accounts.len() <= shape.batch_size(),
            "{} accounts exceed the batch size {}",
            accounts.len(),
            shape.batch_size()
        );
        let padding = AccountLeaf::padding(shape.assets());
        let accounts = accounts
            .iter()
            .chain(std::iter::repeat_n(&padding, shape.batch_size() - accounts.len()))
            .map(AccountFields::from)
            .collect();
        Ok(BatchWitness { prices: to_fields(prices), accounts })
    }
}

struct AccountTargets {
    id_hash: HashOutTarget,
    equity: Vec<Target>,
    debt: Vec<Target>,
}

/// The batch circuit of one shape.
pub struct BatchCircuit {
    shape: Shape,
    data: CircuitData<F, C, D>,
    prices: Vec<Target>,
    accounts: Vec<AccountTargets>,
}

impl BatchCircuit {
    /// Builds the circuit for `shape`.
    pub fn build(shape: &Shape) -> Self {
        let _span = info_span!("build_batch_circuit", %shape).entered();
        let assets = shape.assets();
        let mut builder = CircuitBuilder::<F, D>::new(config::batch());
        let range = LimbRangeChecker::new(&mut builder);

        let prices = builder.add_virtual_targets(assets);
        let price_limbs: Vec<PriceLimbs> =
            prices.iter().map(|&price| PriceLimbs::split(&mut builder, &range, price)).collect();
        let prices_commitment = builder.hash_n_to_hash_no_pad::<PoseidonHash>(prices.clone());

        let zero = builder.zero();
        let mut equity_totals = vec![zero; assets];
        let mut debt_totals = vec![zero; assets];
        let mut padding_count = zero;
        let mut accounts = Vec::with_capacity(shape.batch_size());
        let mut leaves = Vec::with_capacity(shape.batch_size());
        for _ in 0..shape.batch_size() {
            let account = AccountTargets {
                id_hash: builder.add_virtual_hash(),
                equity: builder.add_virtual_targets(assets),
                debt: builder.add_virtual_targets(assets),
            };
            let mut net_value = NetValue::default();
            for asset in 0..assets {
                let (equity, debt) = (account.equity[asset], account.debt[asset]);
                let equity_limbs = range.split(&mut builder, equity, BALANCE_BITS);
                let debt_limbs = range.split(&mut builder, debt, BALANCE_BITS);
                net_value.add_asset(&mut builder, &equity_limbs, &debt_limbs, &price_limbs[asset]);
                equity_totals[asset] = builder.add(equity_totals[asset], equity);
                debt_totals[asset] = builder.add(debt_totals[asset], debt);
            }
            net_value.assert_non_negative(&mut builder, &range, assets);

            let is_padding = builder.is_equal(account.id_hash.elements[0], zero);
            padding_count = builder.add(padding_count, is_padding.target);

            let leaf_inputs =
                account.id_hash.elements.iter().chain(&account.equity).chain(&account.debt).copied().collect();
            leaves.push(builder.hash_n_to_hash_no_pad::<PoseidonHash>(leaf_inputs));
            accounts.push(account);
        }
        let batch_size = builder.constant(F::from_canonical_usize(shape.batch_size()));
        let account_count = builder.sub(batch_size, padding_count);
        let root = merkle_root(&mut builder, leaves);

        let inputs = NodeInputs {
            root: root.elements,
            prices_commitment: prices_commitment.elements,
            account_count,
            equity: equity_totals,
            debt: debt_totals,
        };
        builder.register_public_inputs(&inputs.to_vec());
        tracing::debug!(gates = builder.num_gates(), "batch circuit laid out");
        let data = builder.build::<C>();
        BatchCircuit { shape: *shape, data, prices, accounts }
    }

    /// Proves one batch.
    pub fn prove(&self, witness: &BatchWitness) -> Result<NodeProof> {
        let assets = self.shape.assets();
        ensure!(
            witness.prices.len() == assets,
            "batch witness has {} prices, shape has {assets}",
            witness.prices.len()
        );
        ensure!(
            witness.accounts.len() == self.shape.batch_size(),
            "batch witness has {} accounts, shape has {}",
            witness.accounts.len(),
            self.shape.batch_size()
        );
        let mut inputs = PartialWitness::new();
        inputs.set_target_arr(&self.prices, &witness.prices)?;
        for (targets, account) in self.accounts.iter().zip(&witness.accounts) {
            ensure!(
                account.equity.len() == assets && account.debt.len() == assets,
                "an account of the batch witness does not have {assets} asset slots"
            );
            inputs.set_hash_target(targets.id_hash, account.id_hash)?;
            inputs.set_target_arr(&targets.equity, &account.equity)?;
            inputs.set_target_arr(&targets.debt, &account.debt)?;
        }
        self.data.prove(inputs).context("proving a batch")
    }

    /// The circuit data: what aggregation proofs verify against.
    pub fn data(&self) -> &CircuitData<F, C, D> {
        &self.data
    }
}
