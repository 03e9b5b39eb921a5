//! A posted sequence's witness: the users of every batch, fetched from the
//! exchange's endpoint (or read from its archive when the exchange runs its
//! own agent) and checked against what was posted before any proving
//! starts ([`check_witness`]). A refused witness names the batch, the user's
//! position in it and the rule it breaks.

use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use plonky2::field::types::Field;
use reqwest::StatusCode;
use zkpor_circuits::encoding::HashHex;
use zkpor_circuits::family::Family;
use zkpor_circuits::leaf::Leaf;
use zkpor_circuits::merkle::BinaryTree;
use zkpor_circuits::tree::{TreeShape, UpperTree};
use zkpor_circuits::{F, Hash};
use zkpor_exchange::archive::SequenceArchive;
use zkpor_protocol::statement::StatementFile;
use zkpor_protocol::witness::WitnessBatch;
use zkpor_snapshot::bounds::MAX_BALANCE_UNITS;

use super::CheckedSequence;

/// How often a rate-limited request is tried again before giving up.
const RATE_LIMIT_RETRIES: u32 = 5;

/// Where witnesses come from.
pub enum WitnessSource {
    /// The exchange's endpoint (`zkpor exchange serve`).
    Http {
        /// Its base URL.
        url: String,
        /// This agent's bearer token.
        token: String,
        /// The HTTP client.
        client: reqwest::Client,
    },
    /// The exchange's own archive, read directly.
    Archive(SequenceArchive),
}

impl WitnessSource {
    /// The endpoint at `url`, authenticated by `token`, each request bounded
    /// by `timeout`.
    pub fn http(url: &str, token: &str, timeout: Duration) -> Result<Self> {
        let client = reqwest::Client::builder().timeout(timeout).build().context("building the HTTP client")?;
        Ok(WitnessSource::Http { url: url.trim_end_matches('/').to_string(), token: token.to_string(), client })
    }

    /// Every batch of `sequence`, which has `batches` of them.
    pub async fn batches(&self, sequence: u64, batches: u64) -> Result<Vec<WitnessBatch>> {
        let mut out = Vec::with_capacity(batches as usize);
        match self {
            WitnessSource::Http { .. } => {
                for batch in 0..batches {
                    out.push(self.fetch_batch(sequence, batch).await?);
                }
            }
            WitnessSource::Archive(archive) => {
                let store = archive.open(sequence).await?;
                for batch in 0..batches {
                    out.push(store.witness_batch(batch).await?);
                }
            }
        }
        for (index, witness) in out.iter().enumerate() {
            ensure!(
                witness.sequence == sequence && witness.batch == index as u64,
                "asked for batch {index} of sequence {sequence}, got batch {} of sequence {}",
                witness.batch,
                witness.sequence
            );
        }
        Ok(out)
    }

    async fn fetch_batch(&self, sequence: u64, batch: u64) -> Result<WitnessBatch> {
        let WitnessSource::Http { url, token, client } = self else { unreachable!("an HTTP source") };
        let address = format!("{url}/v1/sequences/{sequence}/batches/{batch}");
        let mut tries = 0;
        let response = loop {
            let response =
                client.get(&address).bearer_auth(token).send().await.with_context(|| format!("GET {address}"))?;
            if response.status() == StatusCode::TOO_MANY_REQUESTS && tries < RATE_LIMIT_RETRIES {
                tries += 1;
                let wait = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1);
                tokio::time::sleep(Duration::from_secs(wait)).await;
                continue;
            }
            break response;
        };
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            bail!("GET {address}: {status}: {}", body.trim());
        }
        response.json().await.with_context(|| format!("GET {address}: the answer"))
    }
}

/// Checks `batches` against `posted`, the statement posted on chain (its
/// digest already checked), for a tree on `family`. Per user: a canonical,
/// non-zero id hash; at most its tier's slots; asset indices strictly
/// increasing and among the statement's assets; every balance within the
/// bound; a USD net value of at least zero. Per batch: a tier of the family,
/// at most its batch size, at least one user (unless the tree has none).
/// Over all: the batch and user counts, the per-asset totals and the root
/// of the posted statement.
pub fn check_witness(posted: &StatementFile, family: &Family, batches: Vec<WitnessBatch>) -> Result<CheckedSequence> {
    let statement = posted.statement()?;
    ensure!(posted.family == family.name(), "the statement is for family {}, not {}", posted.family, family.name());
    let assets = statement.asset_count();
    ensure!(posted.batches >= 1, "the posted statement has no batches; every tree has at least one");
    ensure!(
        assets <= family.assets(),
        "the statement lists {assets} assets, family {} holds {}",
        family.name(),
        family.assets()
    );
    ensure!(
        batches.len() as u64 == posted.batches,
        "the witness has {} batches, the posted statement {}",
        batches.len(),
        posted.batches
    );
    let symbol = |asset: usize| posted.assets.get(asset).map_or(format!("asset {asset}"), |a| a.symbol.clone());
    let tiers = family.tiers();
    let mut equity = vec![0u64; assets];
    let mut debt = vec![0u64; assets];
    let mut checked = Vec::with_capacity(batches.len());
    let mut users = 0u64;
    for witness in batches {
        let batch = witness.batch;
        ensure!(
            witness.tier < tiers.tiers().len(),
            "batch {batch}: tier {} is not one of family {}'s {} tiers",
            witness.tier,
            family.name(),
            tiers.tiers().len()
        );
        let tier = tiers.tier(witness.tier);
        ensure!(
            witness.users.len() <= tier.batch_size,
            "batch {batch}: {} users, tier {} holds {} per batch",
            witness.users.len(),
            witness.tier,
            tier.batch_size
        );
        ensure!(
            !witness.users.is_empty() || statement.account_count == 0,
            "batch {batch}: no users, but only the batch of a tree without users may be empty"
        );
        let mut leaves = Vec::with_capacity(witness.users.len());
        for (position, user) in witness.users.iter().enumerate() {
            let at = || format!("batch {batch}, user {position}");
            let id = user.id().with_context(at)?;
            // The circuits count a user whose id hash starts with zero as padding.
            ensure!(
                id.elements[0] != F::ZERO,
                "{}: an id hash whose first element is zero, which only padding users have",
                at()
            );
            ensure!(
                user.slots.len() <= tier.slots,
                "{}: {} non-zero balances, but tier {} has {} slots",
                at(),
                user.slots.len(),
                witness.tier,
                tier.slots
            );
            let mut value = 0i128;
            for (i, &(asset, balance)) in user.slots.iter().enumerate() {
                let index = usize::from(asset);
                ensure!(index < assets, "{}: asset index {asset} is past the statement's {assets} assets", at());
                if let Some(&(before, _)) = i.checked_sub(1).and_then(|j| user.slots.get(j)) {
                    ensure!(
                        before < asset,
                        "{}: asset indices {before} then {asset} are not strictly increasing",
                        at()
                    );
                }
                ensure!(balance != 0, "{}: a {} balance of zero listed as a slot", at(), symbol(index));
                ensure!(
                    balance.unsigned_abs() <= MAX_BALANCE_UNITS,
                    "{}: a {} balance of {balance} units, beyond the bound of {MAX_BALANCE_UNITS}",
                    at(),
                    symbol(index)
                );
                value += i128::from(balance) * i128::from(statement.prices[index]);
                if balance > 0 {
                    equity[index] = equity[index].saturating_add(balance as u64);
                } else {
                    debt[index] = debt[index].saturating_add(balance.unsigned_abs());
                }
            }
            ensure!(value >= 0, "{}: debt worth more than its equity (a negative USD net value)", at());
            leaves.push(Leaf::new(id, &user.holdings(), tier.slots, family.assets()).with_context(at)?);
        }
        users += leaves.len() as u64;
        checked.push((witness.tier, leaves));
    }
    ensure!(
        users == statement.account_count,
        "the witness has {users} users, the posted statement {}",
        statement.account_count
    );
    for asset in 0..assets {
        for (what, witness, claimed) in
            [("equity", equity[asset], statement.equity[asset]), ("debt", debt[asset], statement.debt[asset])]
        {
            ensure!(
                witness == claimed,
                "the witness's {} {what} total is {witness} units, the posted statement says {claimed}",
                symbol(asset)
            );
        }
    }
    let root = witness_root(family, &checked);
    ensure!(
        root == statement.root,
        "the witness rebuilds root {}, not the posted root {}",
        HashHex(root),
        HashHex(statement.root)
    );
    Ok(CheckedSequence { family: family.clone(), statement_file: posted.clone(), statement, batches: checked })
}

/// The root of the tree over `batches`.
fn witness_root(family: &Family, batches: &[(usize, Vec<Leaf>)]) -> Hash {
    let roots = batches
        .iter()
        .map(|(tier, leaves)| {
            let tier = family.tiers().tier(*tier);
            BinaryTree::new(leaves.iter().map(Leaf::hash).collect(), Leaf::padding(tier.slots).hash(), tier.depth())
                .root()
        })
        .collect();
    UpperTree::new(TreeShape::new(family, batches.len()), roots).root()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use zkpor_exchange::committed::{CommittedSnapshot, load_options};
    use zkpor_protocol::witness::UserWire;
    use zkpor_snapshot::Snapshot;

    use super::*;

    /// A committed snapshot on the tiny family, its statement file and its
    /// witness: `carol` holds three assets (tier 1), the others fewer.
    fn committed() -> (StatementFile, Vec<WitnessBatch>) {
        committed_from(
            "symbol,decimals,price_usd\nBTC,8,91234.56\nUSDT,6,1\nETH,8,3000\n",
            "id,BTC,USDT,ETH\nalice,0.5,-1200,\nbob,,250.5,\ncarol,0.1,5,0.2\ndave,,,1\n",
        )
    }

    /// The snapshot of `assets` and `balances` committed on the tiny family
    /// as sequence 1: its statement file and its witness.
    fn committed_from(assets: &str, balances: &str) -> (StatementFile, Vec<WitnessBatch>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("assets.csv"), assets).unwrap();
        std::fs::write(dir.path().join("balances.csv"), balances).unwrap();
        let family = Family::tiny();
        let snapshot = Snapshot::load(dir.path(), &load_options(&family)).unwrap();
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let committed = CommittedSnapshot::new(snapshot, &family, &mut rng).unwrap();
        let batches = (0..committed.batches().len())
            .map(|index| WitnessBatch {
                sequence: 1,
                batch: index as u64,
                tier: committed.batches()[index].tier,
                users: committed.batch_leaves(index).iter().map(UserWire::from).collect(),
            })
            .collect();
        (committed.statement_file(1), batches)
    }

    fn refusal(file: &StatementFile, batches: Vec<WitnessBatch>) -> String {
        match check_witness(file, &Family::tiny(), batches) {
            Ok(_) => panic!("a bad witness was accepted"),
            Err(error) => format!("{error:#}"),
        }
    }

    /// The witness with `change` made to user `position` of batch 0.
    fn with(batches: &[WitnessBatch], position: usize, change: impl FnOnce(&mut UserWire)) -> Vec<WitnessBatch> {
        let mut out = batches.to_vec();
        change(&mut out[0].users[position]);
        out
    }

    #[test]
    fn the_exchanges_own_witness_passes() {
        let (file, batches) = committed();
        let checked = check_witness(&file, &Family::tiny(), batches).unwrap();
        assert_eq!(HashHex(checked.statement.root), file.root);
        assert_eq!(checked.batches.iter().map(|(_, users)| users.len()).sum::<usize>(), 4);
    }

    #[test]
    fn a_witness_that_does_not_match_what_was_posted_is_refused_naming_batch_user_and_rule() {
        let (file, batches) = committed();
        assert_eq!(batches.len(), 1, "four users fit one batch of the tiny family's upper tier");
        let alice = batches[0].users.iter().position(|u| u.slots.len() == 2).unwrap();
        let bob = batches[0].users.iter().position(|u| u.slots == vec![(1, 250_500_000)]).unwrap();

        // The same balance under another asset: the totals break.
        let moved = with(&batches, bob, |u| u.slots = vec![(2, 250_500_000)]);
        assert!(refusal(&file, moved).contains("USDT equity total"), "a slot moved to another asset");

        // Two users swapped: same totals, another root.
        let mut swapped = batches.clone();
        swapped[0].users.swap(0, 1);
        assert!(refusal(&file, swapped).contains("not the posted root"), "the order is part of the tree");

        // A user moved to another tier: another root (and here its own batch).
        let mut moved_tier = batches.clone();
        let user = moved_tier[0].users.remove(bob);
        moved_tier.push(WitnessBatch { sequence: 1, batch: 1, tier: 0, users: vec![user] });
        assert!(refusal(&file, moved_tier).contains("2 batches, the posted statement 1"));

        let duplicated = with(&batches, alice, |u| u.slots = vec![u.slots[0], u.slots[0]]);
        let message = refusal(&file, duplicated);
        assert!(
            message.contains(&format!("batch 0, user {alice}: asset indices 0 then 0 are not strictly increasing")),
            "{message}"
        );

        let padding = with(&batches, bob, |u| u.id_hash[0] = 0);
        assert!(
            refusal(&file, padding).contains(&format!("batch 0, user {bob}: an id hash whose first element is zero"))
        );

        let negative = with(&batches, alice, |u| u.slots[1].1 = -1_000_000_000_000);
        assert!(refusal(&file, negative).contains(&format!("batch 0, user {alice}: debt worth more")));

        let huge = with(&batches, bob, |u| u.slots[0].1 = MAX_BALANCE_UNITS as i64 + 1);
        assert!(refusal(&file, huge).contains("beyond the bound"));

        let past = with(&batches, bob, |u| u.slots = vec![(3, 250_500_000)]);
        assert!(refusal(&file, past).contains("asset index 3 is past the statement's 3 assets"));

        let crowded = with(&batches, bob, |u| u.slots = vec![(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]);
        assert!(refusal(&file, crowded).contains("5 non-zero balances, but tier"));

        let mut other_tier = batches.clone();
        other_tier[0].tier = 7;
        assert!(refusal(&file, other_tier).contains("tier 7 is not one of family tiny's"));

        let mut fewer = batches.clone();
        fewer[0].users.pop();
        assert!(refusal(&file, fewer).contains("the witness has 3 users, the posted statement 4"));
        let mut noncanonical = batches;
        noncanonical[0].users[0].id_hash[0] = u64::MAX;
        assert!(refusal(&file, noncanonical).contains("batch 0, user 0"));
    }

    /// Tampering that keeps every total, every user's USD value and every
    /// count as posted: only the root tells, and it does.
    #[test]
    fn tampering_that_keeps_every_total_is_refused_by_the_root() {
        // 144 users of two stablecoins fill a batch of tier 0 (2 slots); a
        // user of all three is in a batch of tier 1 (4 slots).
        let mut balances = String::from("id,USDT,USDC,DAI\n");
        for i in 0..144 {
            balances += &format!("user{i},{},{},\n", 10 + i, 20 + i);
        }
        balances += "whale,1,2,3\n";
        let (file, batches) = committed_from("symbol,decimals,price_usd\nUSDT,6,1\nUSDC,6,1\nDAI,6,1\n", &balances);
        assert_eq!(batches.iter().map(|b| (b.tier, b.users.len())).collect::<Vec<_>>(), vec![(0, 144), (1, 1)]);
        check_witness(&file, &Family::tiny(), batches.clone()).unwrap();

        // Five dollars moved from USDT to USDC in one user and back in
        // another: the same per-asset totals and USD values, another tree.
        let mut swapped = batches.clone();
        let [first, second] = &mut swapped[0].users[..2] else { unreachable!() };
        first.slots[0].1 -= 5_000_000;
        first.slots[1].1 += 5_000_000;
        second.slots[0].1 += 5_000_000;
        second.slots[1].1 -= 5_000_000;
        let message = refusal(&file, swapped);
        assert!(message.contains("not the posted root"), "{message}");

        // A user moved from the tier-0 batch into the tier-1 batch: as many
        // batches and users as posted, each within its tier.
        let mut moved = batches;
        let user = moved[0].users.pop().unwrap();
        moved[1].users.insert(0, user);
        let message = refusal(&file, moved);
        assert!(message.contains("not the posted root"), "{message}");
    }
}
