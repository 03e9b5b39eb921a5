//! A posted sequence's witness: the accounts of every batch, fetched from
//! the exchange's endpoint (or read from its archive when the exchange runs
//! its own agent) and checked against what was posted before any proving
//! starts. A witness is refused when it does not rebuild the posted root,
//! when its totals or account count differ from the posted statement, or
//! when an account could never be proven (a balance beyond the bound, a
//! negative net value, the wrong number of asset slots).

use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use reqwest::StatusCode;
use zkpor_circuits::account::AccountLeaf;
use zkpor_circuits::encoding::HashHex;
use zkpor_circuits::layout::TreeLayout;
use zkpor_circuits::merkle::AccountTree;
use zkpor_circuits::statement::Statement;
use zkpor_circuits::{Hash, Shape};
use zkpor_exchange::archive::SequenceArchive;
use zkpor_exchange::published::StatementFile;
use zkpor_exchange::witness::WitnessBatch;
use zkpor_snapshot::bounds::MAX_BALANCE_UNITS;

use super::TreeToProve;

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

    /// Every account of `sequence`, batch by batch, for a tree of `shape`
    /// holding `account_count` accounts.
    pub async fn leaves(&self, sequence: u64, shape: Shape, account_count: u64) -> Result<Vec<AccountLeaf>> {
        let batches = TreeLayout::new(shape, account_count as usize).batches() as u64;
        let mut leaves = Vec::with_capacity(account_count as usize);
        match self {
            WitnessSource::Http { .. } => {
                for batch in 0..batches {
                    leaves.extend(self.fetch_batch(sequence, batch).await?);
                }
            }
            WitnessSource::Archive(archive) => {
                let store = archive.open(sequence).await?;
                for batch in 0..batches {
                    leaves.extend(store.batch_leaves(batch).await?);
                }
            }
        }
        Ok(leaves)
    }

    async fn fetch_batch(&self, sequence: u64, batch: u64) -> Result<Vec<AccountLeaf>> {
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
        let witness: WitnessBatch = response.json().await.with_context(|| format!("GET {address}: the answer"))?;
        ensure!(
            witness.sequence == sequence && witness.batch == batch,
            "GET {address} answered with batch {} of sequence {}",
            witness.batch,
            witness.sequence
        );
        witness
            .accounts
            .iter()
            .enumerate()
            .map(|(i, wire)| AccountLeaf::try_from(wire).with_context(|| format!("batch {batch}, account {i}")))
            .collect()
    }
}

/// A witness that passed every check.
pub struct CheckedWitness {
    /// The shape of the posted statement.
    pub shape: Shape,
    /// The posted statement.
    pub statement: Statement,
    /// The accounts.
    pub leaves: Vec<AccountLeaf>,
    /// Their tree, whose root is the posted one.
    pub tree: AccountTree,
}

impl CheckedWitness {
    /// The tree to prove.
    pub fn tree(&self) -> TreeToProve<'_> {
        TreeToProve { shape: self.shape, statement: &self.statement, leaves: &self.leaves, tree: &self.tree }
    }
}

/// Checks `leaves` against `posted`, the statement posted on chain (its
/// digest already checked): the account count, every account's slots,
/// bounds and net value, the per-asset totals and the root.
pub fn check_witness(posted: &StatementFile, leaves: Vec<AccountLeaf>) -> Result<CheckedWitness> {
    let statement = posted.statement()?;
    let shape = posted.shape.dense("the agent")?;
    let slots = shape.assets();
    ensure!(
        leaves.len() as u64 == statement.account_count,
        "the witness has {} accounts, the posted statement {}",
        leaves.len(),
        statement.account_count
    );
    let symbol = |slot: usize| posted.assets.get(slot).map(|a| a.symbol.clone()).unwrap_or(format!("slot {slot}"));
    let mut equity = vec![0u64; slots];
    let mut debt = vec![0u64; slots];
    for (index, leaf) in leaves.iter().enumerate() {
        let at = || format!("account {index} (batch {})", index / shape.batch_size());
        ensure!(
            leaf.equity.len() == slots && leaf.debt.len() == slots,
            "{}: {} equity and {} debt values, the shape has {slots} asset slots",
            at(),
            leaf.equity.len(),
            leaf.debt.len()
        );
        ensure!(leaf.id_hash != Hash::default(), "{}: an id hash of zero, which only padding may have", at());
        let (mut assets, mut liabilities) = (0u128, 0u128);
        for slot in 0..slots {
            let (e, d) = (leaf.equity[slot], leaf.debt[slot]);
            ensure!(
                e <= MAX_BALANCE_UNITS && d <= MAX_BALANCE_UNITS,
                "{}: a {} balance beyond the bound of {MAX_BALANCE_UNITS} units",
                at(),
                symbol(slot)
            );
            assets += u128::from(e) * u128::from(statement.prices[slot]);
            liabilities += u128::from(d) * u128::from(statement.prices[slot]);
            equity[slot] = equity[slot].saturating_add(e);
            debt[slot] = debt[slot].saturating_add(d);
        }
        ensure!(assets >= liabilities, "{}: debt worth more than its equity (a negative net value)", at());
    }
    for slot in 0..slots {
        for (what, witness, claimed) in
            [("equity", equity[slot], statement.equity[slot]), ("debt", debt[slot], statement.debt[slot])]
        {
            ensure!(
                witness == claimed,
                "the witness's {} {what} total is {witness} units, the posted statement says {claimed}",
                symbol(slot)
            );
        }
    }
    let tree = AccountTree::new(leaves.iter().map(AccountLeaf::hash).collect(), slots, shape.depth());
    ensure!(
        tree.root() == statement.root,
        "the witness rebuilds root {}, not the posted root {}",
        HashHex(tree.root()),
        HashHex(statement.root)
    );
    Ok(CheckedWitness { shape, statement, leaves, tree })
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use zkpor_exchange::committed::CommittedSnapshot;
    use zkpor_exchange::published::PublishedTree;
    use zkpor_snapshot::Snapshot;

    use super::*;

    /// A committed tiny snapshot and its statement file.
    fn committed() -> (CommittedSnapshot, StatementFile) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("assets.csv"), "symbol,decimals,price_usd\nBTC,8,91234.56\nUSDT,6,1\n").unwrap();
        std::fs::write(dir.path().join("balances.csv"), "id,BTC,USDT\nalice,0.5,-1200\nbob,,250.5\ncarol,0.1,\n")
            .unwrap();
        let snapshot = Snapshot::load(dir.path(), &zkpor_exchange::pipeline::load_options(None)).unwrap();
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let committed = CommittedSnapshot::new(snapshot, Shape::TINY, &mut rng).unwrap();
        let file = committed.statement_file(1);
        (committed, file)
    }

    fn refusal(file: &StatementFile, leaves: Vec<AccountLeaf>) -> String {
        match check_witness(file, leaves) {
            Ok(_) => panic!("a bad witness was accepted"),
            Err(error) => format!("{error:#}"),
        }
    }

    #[test]
    fn the_exchanges_own_witness_passes() {
        let (committed, file) = committed();
        let checked = check_witness(&file, committed.leaves().to_vec()).unwrap();
        assert_eq!(checked.tree.root(), committed.statement().root);
    }

    #[test]
    fn a_witness_that_does_not_match_what_was_posted_is_refused() {
        let (committed, file) = committed();
        let leaves = committed.leaves().to_vec();

        let mut moved = leaves.clone();
        moved[0].equity[0] -= 1;
        moved[2].equity[0] += 1;
        assert!(refusal(&file, moved).contains("not the posted root"), "same totals, other balances");

        let mut inflated = leaves.clone();
        inflated[1].equity[1] += 1;
        assert!(refusal(&file, inflated).contains("USDT equity total"));

        let mut swapped = leaves.clone();
        swapped.swap(0, 1);
        assert!(refusal(&file, swapped).contains("not the posted root"), "the order is part of the tree");

        assert!(refusal(&file, leaves[..2].to_vec()).contains("2 accounts, the posted statement 3"));

        let mut negative = leaves.clone();
        negative[1].debt[0] = 1_000_000_000;
        assert!(refusal(&file, negative).contains("account 1 (batch 0): debt worth more"));

        let mut huge = leaves.clone();
        huge[2].equity[1] = MAX_BALANCE_UNITS + 1;
        assert!(refusal(&file, huge).contains("beyond the bound"));

        let mut padding = leaves.clone();
        padding[0].id_hash = Hash::default();
        assert!(refusal(&file, padding).contains("id hash of zero"));

        let mut short = leaves;
        short[0].debt.pop();
        assert!(refusal(&file, short).contains("asset slots"));
    }
}
