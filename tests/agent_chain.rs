//! The agent on a real chain (anvil), as processes: `zkpor agent` with its
//! `[chain]` section and `zkpor prover` workers proving tiny sequences, the
//! registry with the shipped verifier of the tiny shape. Blocks are mined by
//! the tests (automine off), one at a time, so the windows T1 and T2 are
//! counted in blocks the test controls, never in seconds.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use alloy::network::{Ethereum, EthereumWallet};
use alloy::node_bindings::AnvilInstance;
use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, PendingTransactionBuilder, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use zkpor_chain::anvil::{mine, spawn_anvil};
use zkpor_chain::deploy::{RegistryParams, deploy_registry};
use zkpor_chain::registry::{CommitState, LiabilityRegistry, hash_to_b256};
use zkpor_chain::statement::OnChainStatement;
use zkpor_chain::verifier::{VerifierArtifact, deploy_verifier};
use zkpor_circuits::Shape;
use zkpor_store::{Store, SubmissionState, TxPurpose, TxRecord, TxStatus};

mod common;
use common::{TOKEN, free_port, log_of, start_agent, start_prover, status, tail, write_snapshot};

const ETHER: u64 = 1_000_000_000_000_000_000;
const REWARD: u64 = ETHER / 10;
const STAKE: u64 = ETHER / 100;
const MIN_STAKE: u64 = ETHER / 1000;

/// Anvil with the tiny shape's verifier and a registry, automine off.
struct Net {
    anvil: AnvilInstance,
    owner: DynProvider,
    registry: Address,
    dir: tempfile::TempDir,
}

/// One agent's files.
struct AgentFiles {
    config: PathBuf,
    database: PathBuf,
    port: u16,
    account: Address,
}

impl AgentFiles {
    async fn store(&self) -> Store {
        Store::open(&format!("sqlite://{}", self.database.display())).await.unwrap()
    }

    fn log(&self) -> PathBuf {
        log_of(&self.config)
    }
}

impl Net {
    async fn start(commit_window: u64, reveal_window: u64) -> Net {
        let anvil = spawn_anvil().unwrap();
        let owner = Net::wallet(&anvil, 0);
        let verifier = deploy_verifier(&owner, &VerifierArtifact::shipped(&Shape::TINY).unwrap()).await.unwrap();
        let params = RegistryParams {
            verifier,
            sequencer: anvil.addresses()[0],
            min_stake: U256::from(MIN_STAKE),
            commit_window,
            reveal_window,
        };
        let registry = deploy_registry(&owner, &params).await.unwrap().registry;
        let _: serde_json::Value = owner.raw_request("evm_setAutomine".into(), (false,)).await.unwrap();
        Net { anvil, owner, registry, dir: tempfile::tempdir().unwrap() }
    }

    fn wallet(anvil: &AnvilInstance, account: usize) -> DynProvider {
        let signer: PrivateKeySigner = anvil.keys()[account].clone().into();
        ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(anvil.endpoint_url()).erased()
    }

    /// The registry as account `account` sends to it.
    fn registry_as(&self, account: usize) -> LiabilityRegistry::LiabilityRegistryInstance<DynProvider> {
        LiabilityRegistry::new(self.registry, Net::wallet(&self.anvil, account))
    }

    async fn mine(&self, blocks: u64) {
        mine(&self.owner, blocks).await.unwrap();
    }

    async fn head(&self) -> u64 {
        self.owner.get_block_number().await.unwrap()
    }

    /// Mines a block and waits for the receipt of `pending`.
    async fn mined(&self, pending: PendingTransactionBuilder<Ethereum>) -> alloy::rpc::types::TransactionReceipt {
        self.mine(1).await;
        let receipt = pending.get_receipt().await.unwrap();
        assert!(receipt.status(), "a test transaction reverted");
        receipt
    }

    /// Writes the configuration of an agent named `name` with anvil account
    /// `account`'s key, proving a 3-user snapshot as sequence 1 (seed 1, so
    /// that every agent proves the same tree), talking to `rpc` (anvil's
    /// endpoint unless given), with `chain_extra` added to `[chain]`.
    fn agent(&self, name: &str, account: usize, rpc: Option<&str>, chain_extra: &str) -> AgentFiles {
        let dir = self.dir.path().join(name);
        write_snapshot(&dir.join("snapshot"), 3);
        let port = free_port();
        let database = dir.join("agent.sqlite");
        let key = alloy::hex::encode(self.anvil.keys()[account].to_bytes());
        let address = self.anvil.addresses()[account];
        let text = format!(
            r#"
database_url = "sqlite://{db}"
[api]
listen = "127.0.0.1:{port}"
[leases]
duration_secs = 30
reap_interval_secs = 1
[[workers]]
name = "rig"
token = "{TOKEN}"
[source]
submitter = "{address}"
[[source.snapshots]]
path = "snapshot"
sequence = 1
shape = "tiny"
seed = 1
[chain]
rpc_url = "{rpc}"
registry = "{registry}"
private_key = "{key}"
poll_interval_ms = 100
stake_wei = "{STAKE}"
{chain_extra}
"#,
            db = database.display(),
            rpc = rpc.map(String::from).unwrap_or_else(|| self.anvil.endpoint()),
            registry = self.registry,
        );
        let config = dir.join("agent.toml");
        std::fs::write(&config, text).unwrap();
        AgentFiles { config, database, port, account: address }
    }

    /// Mines a block every 200 ms (if `mining`) until `done` holds; fails
    /// with the agents' logs after five minutes.
    async fn until(&self, what: &str, agents: &[&AgentFiles], mining: bool, done: impl AsyncFn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(300);
        while !done().await {
            if Instant::now() > deadline {
                let logs: Vec<String> = agents.iter().map(|a| format!("{}:\n{}", a.config.display(), tail(&a.log()))).collect();
                panic!("timed out waiting for {what}\n{}", logs.join("\n\n"));
            }
            if mining {
                self.mine(1).await;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Posts sequence 1 as the agent proved it (read from its database),
    /// with `REWARD`.
    async fn post(&self, agent: &AgentFiles) {
        let store = agent.store().await;
        self.until("the agent to store the sequence", &[agent], false, async || {
            store.sequence(1).await.unwrap().is_some()
        })
        .await;
        let info = store.sequence(1).await.unwrap().unwrap().info;
        let statement = OnChainStatement { shape: info.shape.to_string(), assets: Vec::new() }.encode();
        let registry = self.registry_as(0);
        let call = registry.postSequence(
            hash_to_b256(info.root),
            hash_to_b256(info.digest),
            info.account_count,
            statement.into(),
        );
        self.mined(call.value(U256::from(REWARD)).send().await.unwrap()).await;
    }

    async fn commit_state(&self, round: u32, prover: Address) -> CommitState {
        let commit = self.registry_as(0).commitInRound(U256::from(1), round, prover).call().await.unwrap();
        CommitState::try_from(commit.state).unwrap()
    }

    async fn stake_of(&self, prover: Address) -> U256 {
        self.registry_as(0).stakeOf(prover).call().await.unwrap()
    }
}

async fn state_of(store: &Store) -> Option<SubmissionState> {
    store.submission(1).await.unwrap().map(|s| s.state)
}

async fn transactions(store: &Store, account: Address) -> Vec<TxRecord> {
    store.transactions(&account.to_string()).await.unwrap()
}

fn purposes(records: &[TxRecord]) -> Vec<TxPurpose> {
    records.iter().map(|r| r.tx.purpose).collect()
}

/// Nonces used one after another from 0, each transaction mined.
fn assert_no_gap_all_mined(records: &[TxRecord]) {
    for (i, record) in records.iter().enumerate() {
        assert_eq!(record.tx.nonce, i as u64, "nonces in order without a gap: {records:#?}");
        assert_eq!(record.status, TxStatus::Mined, "{:?} {}", record.tx.purpose, record.tx.nonce);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sequence_is_proven_committed_revealed_verified_and_paid() {
    let net = Net::start(3, 4).await;
    let a = net.agent("a", 1, None, "");
    let agent = start_agent(&a.config, a.port);
    let _prover = start_prover(a.port);
    let store = a.store().await;
    net.until("the final proof", &[&a], true, async || state_of(&store).await.is_some()).await;
    net.until("the agent to see the sequence is not posted", &[&a], true, async || {
        store.submission(1).await.unwrap().unwrap().reason.is_some_and(|r| r.contains("not posted"))
    })
    .await;
    net.post(&a).await;
    net.until("the reward", &[&a], true, async || state_of(&store).await == Some(SubmissionState::Rewarded)).await;

    assert_eq!(net.commit_state(1, a.account).await, CommitState::Rewarded);
    let info = net.registry_as(0).sequenceInfo(U256::from(1)).call().await.unwrap();
    assert_eq!((info.prover, info.rewardPaid), (a.account, U256::from(REWARD)), "the whole reward is ours");
    assert_eq!(net.stake_of(a.account).await, U256::from(STAKE), "the stake was deposited and never slashed");
    let records = transactions(&store, a.account).await;
    assert_eq!(purposes(&records), [TxPurpose::Deposit, TxPurpose::Commit, TxPurpose::Reveal, TxPurpose::Claim]);
    assert_no_gap_all_mined(&records);
    let submission = store.submission(1).await.unwrap().unwrap();
    assert_eq!((submission.round, submission.rounds, submission.done_block), (1, 1, Some(info.verifiedBlock)));

    let report = status(&a.config);
    let line = report.lines().find(|l| l.contains("rewarded")).unwrap_or_else(|| panic!("{report}"));
    assert_eq!(line.split_whitespace().collect::<Vec<_>>(), ["1", "rewarded", "1", &info.verifiedBlock.to_string()]);
    assert!(agent.terminate(), "SIGTERM stops the agent cleanly:\n{}", tail(&a.log()));
}
