//! The batch circuit of one tier: `B` users of `S` slots each.
//!
//! Per user it proves that the slots' asset indices are strictly increasing
//! and below `A` (so no asset appears twice), that every balance's magnitude
//! is below 2^48, and that the user's net value at the batch prices is
//! non-negative (see [`crate::gadgets::solvency`]); a padding user (id hash
//! starting with zero) holds zero in every slot; it hashes the user's leaf
//! as [`crate::leaf`] does. Per batch it ties every slot to the per-asset
//! totals and prices with [`crate::gadgets::asset_table`], counts the real
//! users and computes the Merkle root. Its public inputs are the same
//! [`NodeInputs`] as every tier's, so one aggregation circuit takes batch
//! proofs of any tier.

use std::collections::HashMap;

use anyhow::{Context, Result, bail, ensure};
use plonky2::field::types::{Field, PrimeField64};
use plonky2::gates::noop::NoopGate;
use plonky2::hash::hash_types::HashOutTarget;
use plonky2::iop::target::Target;
use plonky2::iop::witness::{PartialWitness, WitnessWrite};
use plonky2::plonk::circuit_builder::CircuitBuilder;
use plonky2::plonk::circuit_data::{CircuitConfig, CircuitData};
use plonky2::plonk::prover::prove;
use plonky2::util::serialization::{Buffer, IoResult, Read, Write};
use plonky2::util::timing::TimingTree;
use tracing::info_span;

use crate::gadgets::asset_table::{AssetTableArgument, SlotEntry, TableClaims};
use crate::gadgets::merkle::padded_merkle_root;
use crate::gadgets::range::LimbRangeChecker;
use crate::gadgets::solvency::{BALANCE_BITS, NetValue, PriceLimbs};
use crate::hash::{Domain, hash_in_circuit};
use crate::identity::to_fields;
use crate::leaf::{Leaf, leaf_hash};
use crate::merkle::padded_root;
use crate::node::{NodeInputs, NodeProof};
use crate::stored::{self, StoredCircuit};
use crate::tier::{MAX_BATCH_SIZE, Tier, TierSet};
use crate::{C, D, F, Hash, config};

/// One slot's witness as raw field values, so that tests can also feed what
/// an honest exchange never would.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotFields {
    /// Asset index.
    pub asset: F,
    /// Magnitude of the balance.
    pub magnitude: F,
    /// 1 for debt, 0 for equity.
    pub is_debt: F,
}

/// One user's witness.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountFields {
    /// The hidden id; zero for padding.
    pub id_hash: Hash,
    /// Exactly the tier's slot count.
    pub slots: Vec<SlotFields>,
}

impl From<&Leaf> for AccountFields {
    fn from(leaf: &Leaf) -> Self {
        let slots = leaf
            .slots
            .iter()
            .map(|slot| SlotFields {
                asset: F::from_canonical_u16(slot.asset),
                magnitude: F::from_canonical_u64(slot.balance.unsigned_abs()),
                is_debt: F::from_bool(slot.balance < 0),
            })
            .collect();
        AccountFields { id_hash: leaf.id_hash, slots }
    }
}

/// Everything a tier batch proof needs: the unit prices and `B` users.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TierBatchWitness {
    /// Unit price per asset.
    pub prices: Vec<F>,
    /// Exactly `B` users, padding included.
    pub accounts: Vec<AccountFields>,
}

impl TierBatchWitness {
    /// The witness of up to `B` users of `tier`, padded with padding users.
    pub fn new(tier: Tier, prices: &[u64], accounts: &[Leaf]) -> Result<Self> {
        ensure!(
            accounts.len() <= tier.batch_size,
            "{} users exceed the batch size {} of tier {tier}",
            accounts.len(),
            tier.batch_size
        );
        if let Some(leaf) = accounts.iter().find(|leaf| leaf.slots.len() != tier.slots) {
            bail!("a leaf of {} slots in tier {tier}", leaf.slots.len());
        }
        let padding = Leaf::padding(tier.slots);
        let accounts = accounts
            .iter()
            .chain(std::iter::repeat_n(&padding, tier.batch_size - accounts.len()))
            .map(AccountFields::from)
            .collect();
        Ok(TierBatchWitness { prices: to_fields(prices), accounts })
    }

    /// The batch root of these users, computed natively: what an honest
    /// proof of this witness carries.
    pub fn root(&self) -> Hash {
        let leaves = self
            .accounts
            .iter()
            .map(|account| {
                let slots: Vec<(F, F)> = account
                    .slots
                    .iter()
                    .map(|slot| (slot.asset, slot.magnitude - F::TWO * slot.is_debt * slot.magnitude))
                    .collect();
                leaf_hash(account.id_hash, &slots)
            })
            .collect();
        padded_root(leaves, Leaf::padding(self.accounts[0].slots.len()).hash())
    }
}

/// What a proof claims beyond the leaves: the per-asset columns and the
/// price limbs each slot is valued at. Honest provers take
/// [`AssetClaims::of`]; anything else fails to prove.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetClaims {
    /// Slots naming each asset.
    pub multiplicity: Vec<F>,
    /// Equity total per asset.
    pub equity: Vec<F>,
    /// Debt total per asset.
    pub debt: Vec<F>,
    /// Per slot, user by user, the (low 32, high 30 bits) of its price.
    pub slot_prices: Vec<(F, F)>,
}

impl AssetClaims {
    /// The true claims of a witness over `assets` assets (a slot naming no
    /// such asset is valued at zero and counted nowhere: it cannot be proven
    /// anyway).
    pub fn of(witness: &TierBatchWitness, assets: usize) -> Self {
        let zeros = vec![F::ZERO; assets];
        let mut claims =
            AssetClaims { multiplicity: zeros.clone(), equity: zeros.clone(), debt: zeros, slot_prices: Vec::new() };
        for slot in witness.accounts.iter().flat_map(|account| &account.slots) {
            let asset = usize::try_from(slot.asset.to_canonical_u64()).ok().filter(|&a| a < assets);
            let price = asset.and_then(|a| witness.prices.get(a)).map_or(0, |price| price.to_canonical_u64());
            claims.slot_prices.push((F::from_canonical_u64(price & 0xffff_ffff), F::from_canonical_u64(price >> 32)));
            let Some(asset) = asset else {
                continue;
            };
            claims.multiplicity[asset] += F::ONE;
            if slot.is_debt == F::ONE {
                claims.debt[asset] += slot.magnitude;
            } else {
                claims.equity[asset] += slot.magnitude;
            }
        }
        claims
    }
}

struct SlotTargets {
    asset: Target,
    magnitude: Target,
    is_debt: Target,
    price: PriceLimbs,
}

struct AccountTargets {
    id_hash: HashOutTarget,
    slots: Vec<SlotTargets>,
}

/// A tier's batch circuit laid out: every gate of its users and totals,
/// before the padding rows and the build.
struct LaidOutBatch {
    builder: CircuitBuilder<F, D>,
    prices: Vec<Target>,
    accounts: Vec<AccountTargets>,
    claims: TableClaims,
}

impl LaidOutBatch {
    /// Lays out the batch circuit of `tier` over `assets` assets.
    fn new(assets: usize, tier: Tier) -> Self {
        let mut builder = CircuitBuilder::<F, D>::new(config::batch());
        let range = LimbRangeChecker::new(&mut builder);
        let index_bits = asset_index_bits(assets);

        let prices = builder.add_virtual_targets(assets);
        let price_limbs: Vec<PriceLimbs> =
            prices.iter().map(|&price| PriceLimbs::split(&mut builder, &range, price)).collect();
        let prices_commitment = hash_in_circuit(&mut builder, Domain::Prices, &prices);

        let zero = builder.zero();
        let mut table = AssetTableArgument::default();
        let mut padding_count = zero;
        let mut accounts = Vec::with_capacity(tier.batch_size);
        let mut leaves = Vec::with_capacity(tier.batch_size);
        for _ in 0..tier.batch_size {
            let id_hash = builder.add_virtual_hash();
            let slots: Vec<SlotTargets> = (0..tier.slots)
                .map(|_| SlotTargets {
                    asset: builder.add_virtual_target(),
                    magnitude: builder.add_virtual_target(),
                    is_debt: builder.add_virtual_bool_target_safe().target,
                    price: PriceLimbs { low: builder.add_virtual_target(), high: builder.add_virtual_target() },
                })
                .collect();

            // asset_0 < asset_1 < … < asset_(S−1), every step checked in
            // range; each index is one of the asset table's 0..A (checked by
            // the table argument below), so no step can wrap.
            for pair in slots.windows(2) {
                let step = builder.sub(pair[1].asset, pair[0].asset);
                let gap = builder.add_const(step, F::NEG_ONE);
                range.split(&mut builder, gap, index_bits);
            }

            let mut net_value = NetValue::default();
            let mut leaf_inputs: Vec<Target> = id_hash.elements.to_vec();
            for slot in &slots {
                let limbs = range.split(&mut builder, slot.magnitude, BALANCE_BITS);
                net_value.add_signed(&mut builder, &limbs, slot.is_debt, &slot.price);
                let balance = builder.arithmetic(-F::TWO, F::ONE, slot.is_debt, slot.magnitude, slot.magnitude);
                leaf_inputs.extend([slot.asset, balance]);
                table.add_slot(SlotEntry {
                    asset: slot.asset,
                    price: slot.price,
                    magnitude: slot.magnitude,
                    is_debt: slot.is_debt,
                });
            }
            net_value.assert_non_negative(&mut builder, &range, tier.slots);

            // A padding user holds nothing.
            let is_padding = builder.is_equal(id_hash.elements[0], zero);
            for slot in &slots {
                let held = builder.mul(slot.magnitude, is_padding.target);
                builder.assert_zero(held);
            }
            padding_count = builder.add(padding_count, is_padding.target);
            leaves.push(hash_in_circuit(&mut builder, Domain::Leaf, &leaf_inputs));
            accounts.push(AccountTargets { id_hash, slots });
        }
        let batch_size = builder.constant(F::from_canonical_usize(tier.batch_size));
        let account_count = builder.sub(batch_size, padding_count);
        let root = padded_merkle_root(&mut builder, leaves, Leaf::padding(tier.slots).hash());

        let claims = TableClaims {
            multiplicity: builder.add_virtual_targets(assets),
            equity: builder.add_virtual_targets(assets),
            debt: builder.add_virtual_targets(assets),
        };
        table.check(&mut builder, &price_limbs, &claims, &[root, prices_commitment]);

        let inputs = NodeInputs {
            root: root.elements,
            prices_commitment: prices_commitment.elements,
            account_count,
            equity: claims.equity.clone(),
            debt: claims.debt.clone(),
        };
        builder.register_public_inputs(&inputs.to_vec());
        LaidOutBatch { builder, prices, accounts, claims }
    }
}

/// The batch circuit of one tier.
pub struct TierBatchCircuit {
    tier: Tier,
    assets: usize,
    data: CircuitData<F, C, D>,
    prices: Vec<Target>,
    accounts: Vec<AccountTargets>,
    claims: TableClaims,
}

impl StoredCircuit for TierBatchCircuit {
    fn write_to(&self, out: &mut Vec<u8>) -> IoResult<()> {
        out.write_usize(self.tier.slots)?;
        out.write_usize(self.tier.batch_size)?;
        out.write_usize(self.assets)?;
        stored::write_data(out, &self.data)?;
        out.write_target_vec(&self.prices)?;
        out.write_usize(self.accounts.len())?;
        for account in &self.accounts {
            out.write_target_hash(&account.id_hash)?;
            out.write_usize(account.slots.len())?;
            for slot in &account.slots {
                out.write_target_array(&[slot.asset, slot.magnitude, slot.is_debt, slot.price.low, slot.price.high])?;
            }
        }
        out.write_target_vec(&self.claims.multiplicity)?;
        out.write_target_vec(&self.claims.equity)?;
        out.write_target_vec(&self.claims.debt)
    }

    fn read_from(src: &mut Buffer<'_>) -> IoResult<Self> {
        let tier = Tier { slots: src.read_usize()?, batch_size: src.read_usize()? };
        let assets = src.read_usize()?;
        let data = stored::read_data(src)?;
        let prices = src.read_target_vec()?;
        let accounts = (0..src.read_usize()?)
            .map(|_| {
                let id_hash = src.read_target_hash()?;
                let slots = (0..src.read_usize()?)
                    .map(|_| {
                        let [asset, magnitude, is_debt, low, high] = src.read_target_array()?;
                        Ok(SlotTargets { asset, magnitude, is_debt, price: PriceLimbs { low, high } })
                    })
                    .collect::<IoResult<_>>()?;
                Ok(AccountTargets { id_hash, slots })
            })
            .collect::<IoResult<_>>()?;
        let claims = TableClaims {
            multiplicity: src.read_target_vec()?,
            equity: src.read_target_vec()?,
            debt: src.read_target_vec()?,
        };
        Ok(TierBatchCircuit { tier, assets, data, prices, accounts, claims })
    }

    fn digest(&self) -> String {
        stored::digest_of(&self.data.verifier_only)
    }
}

/// Rows every tier's circuit reserves for what plonky2 adds when building:
/// the public-input hash and gate, the byte table, and the constant gates,
/// which hold the circuit's constants two to a row. The batch circuit has
/// about one constant per asset and a few more: over 1,024 assets plonky2
/// built 16,771 rows where 15,991 were laid out and 265 more reserved for
/// the hash and table, so 515 rows of constants.
fn reserved_rows(config: &CircuitConfig, assets: usize) -> usize {
    let public_input_hash = NodeInputs::<Target>::len(assets).div_ceil(8);
    let table_rows = 256usize.div_ceil(config.num_routed_wires / 3);
    let constant_rows = (assets + 64).div_ceil(config.num_constants);
    public_input_hash + 1 + table_rows + constant_rows
}

/// The row at which every tier's circuit of `2^degree_bits` rows places its
/// lookup table: what a laid-out circuit may fill.
fn table_row(config: &CircuitConfig, degree_bits: usize, assets: usize) -> usize {
    (1usize << degree_bits).saturating_sub(reserved_rows(config, assets))
}

/// Rows a laid-out circuit takes: its gates and its lookups.
fn laid_out_rows(builder: &CircuitBuilder<F, D>) -> usize {
    builder.num_gates() + builder.get_lut_lookups(0).len().div_ceil(builder.config.num_routed_wires / 2)
}

/// Pads a laid-out tier circuit with no-op rows so that every tier places
/// its lookup table at the same row and builds to `2^degree_bits` rows:
/// their common data, which aggregation verifies against, is then the same.
fn pad_to_common_layout(builder: &mut CircuitBuilder<F, D>, degree_bits: usize, assets: usize) -> Result<()> {
    let table_row = table_row(&builder.config, degree_bits, assets);
    let laid_out = laid_out_rows(builder);
    ensure!(laid_out <= table_row, "{laid_out} rows laid out, {table_row} available");
    tracing::debug!(rows = laid_out, available = table_row, "tier batch circuit laid out");
    for _ in laid_out..table_row {
        builder.add_gate(NoopGate, vec![]);
    }
    Ok(())
}

/// Rows the batch circuit of `tier` over `assets` assets fills before its
/// padding. It lays the circuit out without building it, which takes a
/// small fraction of a build.
pub fn laid_out_tier_rows(assets: usize, tier: Tier) -> usize {
    laid_out_rows(&LaidOutBatch::new(assets, tier).builder)
}

/// Rows a batch circuit over `assets` assets may fill in `2^degree_bits`
/// rows: a tier fits when [`laid_out_tier_rows`] is at most this.
pub fn tier_row_budget(assets: usize, degree_bits: usize) -> usize {
    table_row(&config::batch(), degree_bits, assets)
}

/// The most users a batch of `slots` slots over `assets` assets holds in
/// `2^degree_bits` rows (at most [`MAX_BATCH_SIZE`]), give or take three;
/// `None` where not even two fit.
///
/// It lays circuits out without building them. A user costs the same rows
/// in every batch but for rounding (lookups and arithmetic share rows), so
/// the rows a user costs are measured on a batch of about an eighth of the
/// rows, the size is extrapolated from that, and a full layout checks it;
/// where that misses, the next size is extrapolated from the rows it
/// filled. The first guess is a user short of the extrapolation, and it
/// stops once a fitting size leaves less than three users' rows: one or two
/// full layouts and a small one, about a fifth of building the circuit.
pub fn largest_batch_size(assets: usize, degree_bits: usize, slots: usize) -> Option<usize> {
    let budget = tier_row_budget(assets, degree_bits);
    let mut laid_out = HashMap::new();
    let mut rows = |batch_size: usize| {
        *laid_out.entry(batch_size).or_insert_with(|| laid_out_tier_rows(assets, Tier { slots, batch_size }))
    };
    let smallest = 2;
    let base = rows(smallest);
    if base > budget {
        return None;
    }
    let first_slope = rows(smallest + 1).saturating_sub(base).max(1);
    let probe = (smallest + (budget - base) / 8 / first_slope).clamp(smallest + 1, MAX_BATCH_SIZE);
    let per_user = (rows(probe).saturating_sub(base) as f64 / (probe - smallest) as f64).max(1.0);
    let users_in = |spare: usize| (spare as f64 / per_user) as usize;
    let (mut fits, mut too_big) = (smallest, MAX_BATCH_SIZE + 1);
    let mut guess = (smallest + users_in(budget - base)).saturating_sub(1);
    while too_big - fits > 1 {
        let size = guess.clamp(fits + 1, too_big - 1);
        let filled = rows(size);
        if filled <= budget {
            fits = size;
            let room = users_in(budget - filled);
            if room < 3 {
                break;
            }
            guess = size + room - 1;
        } else {
            too_big = size;
            guess = size.saturating_sub(users_in(filled - budget) + 1);
        }
    }
    Some(fits)
}

/// Bits that hold every asset index and every gap between two of them.
fn asset_index_bits(assets: usize) -> usize {
    (assets.next_power_of_two().trailing_zeros() as usize).max(1)
}

impl TierBatchCircuit {
    /// Builds the circuit of tier `index` of `tiers`, padded to
    /// `2^degree_bits` rows.
    pub fn build(tiers: &TierSet, index: usize) -> Result<Self> {
        let tier = tiers.tier(index);
        let assets = tiers.assets();
        let _span = info_span!("build_tier_batch_circuit", %tier, assets).entered();
        let LaidOutBatch { mut builder, prices, accounts, claims } = LaidOutBatch::new(assets, tier);
        let degree_bits = tiers.degree_bits();
        pad_to_common_layout(&mut builder, degree_bits, assets)
            .with_context(|| format!("tier {tier} does not fit 2^{degree_bits} rows: lower its batch size"))?;
        let data = builder.build::<C>();
        ensure!(
            data.common.degree_bits() == degree_bits,
            "tier {tier} needs 2^{} rows, its tier set has 2^{degree_bits}: lower its batch size",
            data.common.degree_bits()
        );
        Ok(TierBatchCircuit { tier, assets, data, prices, accounts, claims })
    }

    /// The tier.
    pub fn tier(&self) -> Tier {
        self.tier
    }

    /// Proves one batch with its true per-asset columns.
    pub fn prove(&self, witness: &TierBatchWitness) -> Result<NodeProof> {
        self.prove_claiming(witness, &AssetClaims::of(witness, self.assets))
    }

    /// Proves one batch claiming `claims`; only the true ones
    /// ([`AssetClaims::of`]) can be proven.
    pub fn prove_claiming(&self, witness: &TierBatchWitness, claims: &AssetClaims) -> Result<NodeProof> {
        let inputs = self.inputs(witness, claims)?;
        self.data.prove(inputs).with_context(|| format!("proving a batch of tier {}", self.tier))
    }

    /// Proves one batch like [`Self::prove`], recording how long each of
    /// plonky2's proving steps took in `timing`.
    pub fn prove_timed(&self, witness: &TierBatchWitness, timing: &mut TimingTree) -> Result<NodeProof> {
        let inputs = self.inputs(witness, &AssetClaims::of(witness, self.assets))?;
        prove::<F, C, D>(&self.data.prover_only, &self.data.common, inputs, timing)
            .with_context(|| format!("proving a batch of tier {}", self.tier))
    }

    /// The partial witness of a batch and its claims.
    fn inputs(&self, witness: &TierBatchWitness, claims: &AssetClaims) -> Result<PartialWitness<F>> {
        let tier = self.tier;
        ensure!(
            witness.prices.len() == self.assets,
            "batch witness has {} prices, the tier set has {} assets",
            witness.prices.len(),
            self.assets
        );
        ensure!(
            witness.accounts.len() == tier.batch_size,
            "batch witness has {} users, tier {tier} has {}",
            witness.accounts.len(),
            tier.batch_size
        );
        ensure!(
            claims.slot_prices.len() == tier.batch_size * tier.slots,
            "{} slot prices claimed for {} slots",
            claims.slot_prices.len(),
            tier.batch_size * tier.slots
        );
        let mut inputs = PartialWitness::new();
        inputs.set_target_arr(&self.prices, &witness.prices)?;
        let mut slot_prices = claims.slot_prices.iter();
        for (targets, account) in self.accounts.iter().zip(&witness.accounts) {
            ensure!(
                account.slots.len() == tier.slots,
                "a user of the batch witness does not have {} slots",
                tier.slots
            );
            inputs.set_hash_target(targets.id_hash, account.id_hash)?;
            for (slot_targets, slot) in targets.slots.iter().zip(&account.slots) {
                inputs.set_target(slot_targets.asset, slot.asset)?;
                inputs.set_target(slot_targets.magnitude, slot.magnitude)?;
                inputs.set_target(slot_targets.is_debt, slot.is_debt)?;
                let &(low, high) = slot_prices.next().expect("one price per slot");
                inputs.set_target(slot_targets.price.low, low)?;
                inputs.set_target(slot_targets.price.high, high)?;
            }
        }
        inputs.set_target_arr(&self.claims.multiplicity, &claims.multiplicity)?;
        inputs.set_target_arr(&self.claims.equity, &claims.equity)?;
        inputs.set_target_arr(&self.claims.debt, &claims.debt)?;
        Ok(inputs)
    }

    /// The circuit data: what aggregation proofs verify against.
    pub fn data(&self) -> &CircuitData<F, C, D> {
        &self.data
    }
}
