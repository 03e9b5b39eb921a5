//! The agent on a real chain (anvil), as processes: `zkpor agent` with its
//! `[chain]` section and `zkpor prover` workers proving tiny sequences, the
//! registry with the shipped verifier of the tiny family. Blocks are mined by
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
use zkpor_store::{Store, SubmissionState, TxPurpose, TxRecord, TxStatus};

mod common;
use common::{Running, TOKEN, free_port, log_of, start_agent, start_prover, status, tail, write_snapshot};

const ETHER: u64 = 1_000_000_000_000_000_000;
const REWARD: u64 = ETHER / 10;
const STAKE: u64 = ETHER / 100;
const MIN_STAKE: u64 = ETHER / 1000;

/// Anvil with the tiny family's verifier and a registry, automine off.
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
        let verifier = deploy_verifier(&owner, &VerifierArtifact::shipped("tiny").unwrap()).await.unwrap();
        let shipped = zkpor_chain::verifier::shipped_family("tiny").unwrap();
        let params = RegistryParams {
            verifier,
            family: shipped.name,
            family_digest: shipped.digest,
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
family = "tiny"
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
                let logs: Vec<String> =
                    agents.iter().map(|a| format!("{}:\n{}", a.config.display(), tail(&a.log()))).collect();
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
        let statement = OnChainStatement::from_file(&info.statement).unwrap().encode();
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

/// One agent (anvil's account 1) with one prover worker, its proof ready
/// and its stake deposited.
struct Solo {
    a: AgentFiles,
    agent: Running,
    store: Store,
    _prover: Running,
}

impl Solo {
    async fn ready(net: &Net, rpc: Option<&str>, chain_extra: &str) -> Solo {
        let a = net.agent("a", 1, rpc, chain_extra);
        let agent = start_agent(&a.config, a.port);
        let _prover = start_prover(a.port);
        let store = a.store().await;
        net.until("the proof and the stake", &[&a], true, async || {
            state_of(&store).await.is_some() && net.stake_of(a.account).await == U256::from(STAKE)
        })
        .await;
        Solo { a, agent, store, _prover }
    }
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
    let metrics = reqwest::get(format!("http://127.0.0.1:{}/metrics", a.port)).await.unwrap().text().await.unwrap();
    for line in
        ["zkpor_submissions{state=\"rewarded\"} 1", "zkpor_chain_transactions{purpose=\"reveal\",status=\"mined\"} 1"]
    {
        assert!(metrics.contains(line), "no '{line}' in:\n{metrics}");
    }
    assert!(agent.terminate(), "SIGTERM stops the agent cleanly:\n{}", tail(&a.log()));
}

/// The current round's windows of sequence 1: (round, commit end, reveal end).
async fn windows(net: &Net) -> (u32, u64, u64) {
    let w = net.registry_as(0).windows(U256::from(1)).call().await.unwrap();
    (w.round, w.commitEnd, w.revealEnd)
}

/// Whether T2 of the current round has begun.
async fn reveal_window_open(net: &Net) -> bool {
    let (_, commit_end, _) = windows(net).await;
    commit_end != 0 && net.head().await >= commit_end
}

async fn pending(store: &Store, account: Address, purpose: TxPurpose) -> Option<TxRecord> {
    transactions(store, account).await.into_iter().find(|r| r.tx.purpose == purpose && r.status == TxStatus::Pending)
}

/// Waits, mining nothing, until the agent has sent a transaction for
/// `purpose`; that transaction, still pending.
async fn sent(net: &Net, agent: &AgentFiles, store: &Store, purpose: TxPurpose) -> TxRecord {
    net.until(&format!("a {purpose} to be sent"), &[agent], false, async || {
        pending(store, agent.account, purpose).await.is_some()
    })
    .await;
    pending(store, agent.account, purpose).await.unwrap()
}

fn log_count(agent: &AgentFiles, text: &str) -> usize {
    std::fs::read_to_string(agent.log()).unwrap_or_default().matches(text).count()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_agents_share_the_reward_and_one_too_late_for_t1_neither_reveals_nor_is_slashed() {
    let net = Net::start(4, 6).await;
    let (a, b, late) = (net.agent("a", 1, None, ""), net.agent("b", 2, None, ""), net.agent("late", 3, None, ""));
    let all = [&a, &b, &late];
    let _agents: Vec<_> = all.iter().map(|agent| start_agent(&agent.config, agent.port)).collect();
    let _provers = [start_prover(a.port), start_prover(b.port)];
    let (store_a, store_b, store_late) = (a.store().await, b.store().await, late.store().await);
    // Both proofs ready before the sequence is posted: both commit in its first T1.
    net.until("both proofs", &all, true, async || {
        state_of(&store_a).await.is_some() && state_of(&store_b).await.is_some()
    })
    .await;
    net.post(&a).await;
    net.until("T1 to end", &all, true, async || reveal_window_open(&net).await).await;
    assert_eq!(net.commit_state(1, a.account).await, CommitState::Committed);
    assert_eq!(net.commit_state(1, b.account).await, CommitState::Committed);

    // No block is mined until the late agent has its proof and has looked at
    // the chain: T2 is open, T1 closed without its commit.
    let _late_prover = start_prover(late.port);
    net.until("the late agent's proof", &all, false, async || {
        store_late.submission(1).await.unwrap().and_then(|s| s.reason).is_some_and(|r| r.contains("without our commit"))
    })
    .await;
    net.until("both rewards", &all, true, async || {
        state_of(&store_a).await == Some(SubmissionState::Rewarded)
            && state_of(&store_b).await == Some(SubmissionState::Rewarded)
            && state_of(&store_late).await == Some(SubmissionState::VerifiedByOthers)
    })
    .await;

    let info = net.registry_as(0).sequenceInfo(U256::from(1)).call().await.unwrap();
    assert_eq!((info.validProvers, info.rewardPaid), (2, U256::from(REWARD)), "two valid provers, all paid");
    for agent in [&a, &b] {
        assert_eq!(net.commit_state(1, agent.account).await, CommitState::Rewarded);
        assert_eq!(net.stake_of(agent.account).await, U256::from(STAKE));
    }
    assert_eq!(net.commit_state(1, late.account).await, CommitState::None, "the late agent never committed");
    assert_eq!(net.stake_of(late.account).await, U256::from(STAKE), "nor was it slashed");
    assert_eq!(
        purposes(&transactions(&store_late, late.account).await),
        [TxPurpose::Deposit],
        "it sent no commit or reveal"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_killed_after_each_step_on_chain_finishes_without_a_duplicate_a_gap_or_a_slash() {
    let net = Net::start(20, 20).await;
    let Solo { a, agent, store, _prover } = Solo::ready(&net, None, "").await;
    let mut agent = agent;
    net.post(&a).await;

    // (a) Killed after sending the commit, before it is mined.
    sent(&net, &a, &store, TxPurpose::Commit).await;
    drop(agent);
    agent = start_agent(&a.config, a.port);
    net.until("the restarted agent to watch its pending commit", &[&a], false, async || {
        log_count(&a, "watching our pending commit") == 1
    })
    .await;

    // (b) Killed after the commit is mined, before T1 ends.
    net.until("the commit to be final", &[&a], true, async || {
        state_of(&store).await == Some(SubmissionState::Committed)
    })
    .await;
    assert!(!reveal_window_open(&net).await, "T1 is still open");
    drop(agent);
    agent = start_agent(&a.config, a.port);

    // (c) Killed after sending the reveal, before it is mined.
    net.until("T2", &[&a], true, async || reveal_window_open(&net).await).await;
    sent(&net, &a, &store, TxPurpose::Reveal).await;
    drop(agent);
    let _agent = start_agent(&a.config, a.port);
    net.until("the restarted agent to watch its pending reveal", &[&a], false, async || {
        log_count(&a, "watching our pending reveal") == 1
    })
    .await;

    net.until("the reward", &[&a], true, async || state_of(&store).await == Some(SubmissionState::Rewarded)).await;
    let records = transactions(&store, a.account).await;
    assert_eq!(purposes(&records), [TxPurpose::Deposit, TxPurpose::Commit, TxPurpose::Reveal, TxPurpose::Claim]);
    assert_no_gap_all_mined(&records);
    assert_eq!(net.commit_state(1, a.account).await, CommitState::Rewarded);
    assert_eq!(net.stake_of(a.account).await, U256::from(STAKE), "never slashed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_round_nobody_reveals_is_settled_and_the_sequence_proven_in_a_fresh_round() {
    let net = Net::start(3, 4).await;
    let a = net.agent("a", 1, None, "");
    let _agent = start_agent(&a.config, a.port);
    let store = a.store().await;
    net.post(&a).await;
    // A staked stranger commits a hash and never reveals; our proof is not
    // ready before T1 ends.
    let stranger = net.registry_as(5);
    net.mined(stranger.deposit().value(U256::from(MIN_STAKE)).send().await.unwrap()).await;
    net.mined(stranger.submitProofHash(U256::from(1), [7u8; 32].into()).send().await.unwrap()).await;
    net.until("T1 to end", &[&a], true, async || reveal_window_open(&net).await).await;

    let _prover = start_prover(a.port);
    net.until("the reward in a fresh round", &[&a], true, async || {
        state_of(&store).await == Some(SubmissionState::Rewarded)
    })
    .await;
    assert_eq!(windows(&net).await.0, 2, "round 1 was settled");
    assert_eq!(net.commit_state(1, net.anvil.addresses()[5]).await, CommitState::Slashed);
    assert_eq!(net.commit_state(2, a.account).await, CommitState::Rewarded);
    let records = transactions(&store, a.account).await;
    assert_eq!(
        purposes(&records),
        [TxPurpose::Deposit, TxPurpose::Settle, TxPurpose::Commit, TxPurpose::Reveal, TxPurpose::Claim]
    );
    assert_no_gap_all_mined(&records);
    let submission = store.submission(1).await.unwrap().unwrap();
    assert_eq!((submission.round, submission.rounds), (2, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_commit_undone_by_a_reorg_before_its_confirmations_is_sent_again() {
    let net = Net::start(20, 20).await;
    let Solo { a, agent: _agent, store, _prover } = Solo::ready(&net, None, "confirmations = 3").await;
    net.post(&a).await;
    let commit = sent(&net, &a, &store, TxPurpose::Commit).await;
    let hash: alloy::primitives::B256 = commit.latest().hash.parse().unwrap();
    net.mine(1).await;
    let receipt = net.owner.get_transaction_receipt(hash).await.unwrap().expect("the commit is mined");
    assert_eq!(state_of(&store).await, Some(SubmissionState::Committing), "one block is not three confirmations");

    // The block holding the commit is rolled back: the agent must not have
    // taken it as final, and gets it mined again.
    let _: serde_json::Value = net.owner.raw_request("anvil_rollback".into(), (1u64,)).await.unwrap();
    assert!(net.head().await < receipt.block_number.unwrap(), "the commit's block is gone");
    net.until("the reward", &[&a], true, async || state_of(&store).await == Some(SubmissionState::Rewarded)).await;
    let records = transactions(&store, a.account).await;
    assert_eq!(purposes(&records), [TxPurpose::Deposit, TxPurpose::Commit, TxPurpose::Reveal, TxPurpose::Claim]);
    assert_no_gap_all_mined(&records);
    assert_eq!(net.commit_state(1, a.account).await, CommitState::Rewarded);
}

/// A TCP proxy in front of anvil that can be cut off: while down it closes
/// every connection, open ones included, as a node that went away.
struct Proxy {
    port: u16,
    down: tokio::sync::watch::Sender<bool>,
}

impl Proxy {
    async fn start(target: u16) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (down, watch) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut cut = watch.clone();
                if *cut.borrow() {
                    continue;
                }
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(("127.0.0.1", target)).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.wait_for(|down| *down) => {}
                    }
                });
            }
        });
        Proxy { port, down }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn set_down(&self, down: bool) {
        self.down.send_replace(down);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_agent_rides_out_a_lost_rpc_a_dropped_transaction_and_a_fee_spike() {
    let net = Net::start(20, 20).await;
    let proxy = Proxy::start(net.anvil.port()).await;
    let extra = "replace_after_secs = 2\nrpc_timeout_secs = 2";
    let Solo { a, mut agent, store, _prover } = Solo::ready(&net, Some(&proxy.url()), extra).await;

    // The RPC endpoint goes away while blocks keep coming and the sequence
    // is posted; the agent keeps running and carries on when it is back.
    proxy.set_down(true);
    let failures = log_count(&a, "manager tick failed");
    net.until("the agent to notice", &[&a], true, async || log_count(&a, "manager tick failed") > failures + 3).await;
    net.post(&a).await;
    assert!(agent.0.try_wait().unwrap().is_none(), "the agent keeps running:\n{}", tail(&a.log()));
    proxy.set_down(false);

    // Its commit is dropped from the node's pool: it goes back in, unmined.
    let commit = sent(&net, &a, &store, TxPurpose::Commit).await;
    let hash: alloy::primitives::B256 = commit.latest().hash.parse().unwrap();
    let _: serde_json::Value = net.owner.raw_request("anvil_dropTransaction".into(), (hash,)).await.unwrap();
    assert!(net.owner.get_transaction_by_hash(hash).await.unwrap().is_none(), "dropped from the pool");
    net.until("the commit to be back in the pool", &[&a], false, async || {
        let record = store.transaction(&a.account.to_string(), commit.tx.nonce).await.unwrap().unwrap();
        let latest: alloy::primitives::B256 = record.latest().hash.parse().unwrap();
        net.owner.get_transaction_by_hash(latest).await.unwrap().is_some()
    })
    .await;
    net.until("the commit to be final", &[&a], true, async || {
        state_of(&store).await == Some(SubmissionState::Committed)
    })
    .await;

    // A fee spike while the reveal waits in the pool: it is replaced with
    // higher fees and mined.
    net.until("T2", &[&a], true, async || reveal_window_open(&net).await).await;
    let reveal = sent(&net, &a, &store, TxPurpose::Reveal).await;
    let spike = (reveal.latest().max_fee_per_gas * 10).max(20_000_000_000);
    let _: serde_json::Value =
        net.owner.raw_request("anvil_setNextBlockBaseFeePerGas".into(), (U256::from(spike),)).await.unwrap();
    net.mine(1).await;
    let account = a.account.to_string();
    let first = store.transaction(&account, reveal.tx.nonce).await.unwrap().unwrap();
    let first_hash: alloy::primitives::B256 = first.attempts[0].hash.parse().unwrap();
    assert!(net.owner.get_transaction_receipt(first_hash).await.unwrap().is_none(), "priced out by the spike");
    net.until("a replacement", &[&a], false, async || {
        store.transaction(&account, reveal.tx.nonce).await.unwrap().unwrap().attempts.len() >= 2
    })
    .await;
    net.until("the reward", &[&a], true, async || state_of(&store).await == Some(SubmissionState::Rewarded)).await;

    let revealed = store.transaction(&account, reveal.tx.nonce).await.unwrap().unwrap();
    assert_ne!(revealed.mined_hash.as_deref(), Some(revealed.attempts[0].hash.as_str()), "a replacement was mined");
    assert!(revealed.attempts.iter().all(|attempt| attempt.max_fee_per_gas <= 200_000_000_000), "under the fee cap");
    let records = transactions(&store, a.account).await;
    assert_eq!(purposes(&records), [TxPurpose::Deposit, TxPurpose::Commit, TxPurpose::Reveal, TxPurpose::Claim]);
    assert_no_gap_all_mined(&records);
    assert_eq!(net.stake_of(a.account).await, U256::from(STAKE));
}

/// The submission benchmark runs end to end on one sequence, its
/// transactions final at a depth of two blocks, and prints its figures (the figures that count come from a run with its defaults).
#[test]
fn the_submission_benchmark_prints_its_latencies() {
    common::bench_output(
        &[
            "submit",
            "--sequences",
            "1",
            "--commit-window",
            "2",
            "--reveal-window",
            "2",
            "--block-ms",
            "150",
            "--confirmations",
            "2",
        ],
        &["blocks from proof to verified", "blocks from proof to reward claimed", "gas per sequence: commit"],
    );
}
