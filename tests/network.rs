//! The exchange and an agent following the chain, as processes on anvil
//! (automine): `zkpor exchange publish` and `serve`, `zkpor agent` with
//! `[source.exchange]`. No worker proves anything here: what is tested is
//! what the agent takes in. A witness that does not rebuild the posted root,
//! or with a user the family's rules refuse, is refused (and taken once
//! fixed); a reorg that drops a posting leaves no sequence being proven, and
//! the number, posted again, is taken anew.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use alloy::network::EthereumWallet;
use alloy::node_bindings::AnvilInstance;
use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpor_chain::anvil::spawn_anvil;
use zkpor_chain::deploy::{RegistryParams, deploy_registry};
use zkpor_chain::registry::{LiabilityRegistry, hash_to_b256};
use zkpor_chain::statement::OnChainStatement;
use zkpor_chain::verifier::{VerifierArtifact, deploy_verifier};
use zkpor_circuits::Family;
use zkpor_circuits::encoding::HashHex;
use zkpor_exchange::archive::SequenceArchive;
use zkpor_exchange::committed::CommittedSnapshot;
use zkpor_exchange::committed::load_options;
use zkpor_exchange::published::{StatementFile, read_json};
use zkpor_snapshot::Snapshot;
use zkpor_store::Store;

mod common;
use common::{Running, free_port, log_of, start_agent, status, tail, write_snapshot, zkpor};

const AGENT_TOKEN: &str = "agent-exchange-token-0";

/// Anvil with the tiny verifier and a registry, an archive directory.
struct Chain {
    anvil: AnvilInstance,
    owner: DynProvider,
    registry: Address,
    dir: tempfile::TempDir,
}

impl Chain {
    async fn start() -> Chain {
        let anvil = spawn_anvil().unwrap();
        let signer: PrivateKeySigner = anvil.keys()[0].clone().into();
        let owner =
            ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(anvil.endpoint_url()).erased();
        let verifier = deploy_verifier(&owner, &VerifierArtifact::shipped("tiny").unwrap()).await.unwrap();
        let shipped = zkpor_chain::verifier::shipped_family("tiny").unwrap();
        let params = RegistryParams {
            verifier,
            family: shipped.name,
            family_digest: shipped.digest,
            sequencer: anvil.addresses()[0],
            min_stake: U256::from(1u64),
            commit_window: 5,
            reveal_window: 5,
        };
        let registry = deploy_registry(&owner, &params).await.unwrap().registry;
        Chain { anvil, owner, registry, dir: tempfile::tempdir().unwrap() }
    }

    fn archive(&self) -> PathBuf {
        self.dir.path().join("exchange-data")
    }

    /// A snapshot of `users` users.
    fn snapshot(&self, users: usize) -> PathBuf {
        let snapshot = self.dir.path().join(format!("snapshot-{users}"));
        write_snapshot(&snapshot, users);
        snapshot
    }

    /// `zkpor exchange publish <snapshot>` with anvil account `account`'s key.
    fn publish_command(&self, snapshot: &Path, account: usize, seed: u64) -> assert_cmd::Command {
        let key = alloy::hex::encode(self.anvil.keys()[account].to_bytes());
        let mut command = zkpor();
        command
            .args(["exchange", "publish"])
            .arg(snapshot)
            .args(["--rpc", &self.anvil.endpoint(), "--registry", &self.registry.to_string(), "--key", &key])
            .args(["--seed", &seed.to_string(), "--reward", "0.5"])
            .arg("--archive")
            .arg(self.archive());
        command
    }

    /// `zkpor exchange publish` of a snapshot of `users` users; the root posted.
    fn publish(&self, users: usize, seed: u64) -> HashHex {
        let output = self.publish_command(&self.snapshot(users), 0, seed).assert().success();
        let text = String::from_utf8(output.get_output().stdout.clone()).unwrap();
        assert!(text.contains("posted sequence 1"), "{text}");
        let statement: StatementFile = read_json(&self.archive().join("1/statement.json")).unwrap();
        statement.root
    }

    /// `zkpor exchange serve` for one agent.
    fn serve(&self) -> (Running, String) {
        let port = free_port();
        let config = self.dir.path().join("exchange.toml");
        let text = format!(
            "archive = \"exchange-data\"\nlisten = \"127.0.0.1:{port}\"\nrpc_url = \"{}\"\nregistry = \"{}\"\n\
             [[agents]]\nname = \"agent\"\ntoken = \"{AGENT_TOKEN}\"\n",
            self.anvil.endpoint(),
            self.registry
        );
        std::fs::write(&config, text).unwrap();
        let log = std::fs::File::create(log_of(&config)).unwrap();
        let running = Running(
            std::process::Command::new(assert_cmd::cargo::cargo_bin("zkpor"))
                .args(["exchange", "serve", "--config"])
                .arg(&config)
                .env("RUST_LOG", "info")
                .stderr(log)
                .spawn()
                .unwrap(),
        );
        until("the exchange to listen", &config, || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
        (running, format!("http://127.0.0.1:{port}"))
    }

    /// An agent (anvil's second account) following the registry, its
    /// witnesses from the exchange's endpoint at `exchange`; no workers.
    fn agent(&self, exchange: &str) -> (PathBuf, PathBuf, u16) {
        self.agent_with(&format!("url = \"{exchange}\"\ntoken = \"{AGENT_TOKEN}\""))
    }

    /// An agent whose `[source.exchange]` says where witnesses come from
    /// with `witnesses`.
    fn agent_with(&self, witnesses: &str) -> (PathBuf, PathBuf, u16) {
        let dir = self.dir.path().join("agent");
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let database = dir.join("agent.sqlite");
        let key = alloy::hex::encode(self.anvil.keys()[1].to_bytes());
        let text = format!(
            r#"database_url = "sqlite://{db}"
[api]
listen = "127.0.0.1:{port}"
[source]
submitter = "{address}"
[source.exchange]
{witnesses}
poll_interval_ms = 100
retry_refused_secs = 1
[chain]
rpc_url = "{rpc}"
registry = "{registry}"
private_key = "{key}"
poll_interval_ms = 100
"#,
            db = database.display(),
            address = self.anvil.addresses()[1],
            rpc = self.anvil.endpoint(),
            registry = self.registry,
        );
        let config = dir.join("agent.toml");
        std::fs::write(&config, text).unwrap();
        (config, database, port)
    }
}

/// Polls `done` every 100 ms; fails with the log next to `config` after a
/// minute.
fn until(what: &str, config: &Path, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}:\n{}", tail(&log_of(config)));
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The root of sequence 1 in the agent's database, if it holds it.
fn stored_root(database: &Path) -> Option<HashHex> {
    let url = format!("sqlite://{}", database.display());
    let read = move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let store = Store::open(&url).await.unwrap();
            let row = store.sequence(1).await.unwrap();
            store.close().await;
            row.map(|row| row.info.root)
        })
    };
    // A runtime of its own, on a thread of its own: the tests' runtime must
    // not be blocked from inside.
    std::thread::spawn(read).join().unwrap()
}

/// Swaps the first two users of the archived sequence 1: the same totals,
/// another tree.
async fn swap_first_users(archive: &Path) {
    let url = format!("sqlite://{}", archive.join("1/users.sqlite").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::raw_sql(
        "UPDATE users SET position = -1 WHERE batch = 0 AND position = 0; \
         UPDATE users SET position = 0 WHERE batch = 0 AND position = 1; \
         UPDATE users SET position = 1 WHERE batch = 0 AND position = -1;",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
}

/// Replaces the slots of the user at `position` of batch 0 of the archived
/// sequence 1 with `slots`; the slots it had.
async fn set_slots(archive: &Path, position: i64, slots: Option<Vec<u8>>) -> Vec<u8> {
    let url = format!("sqlite://{}", archive.join("1/users.sqlite").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let select = "SELECT slots FROM users WHERE batch = 0 AND position = ?";
    let before: Vec<u8> = sqlx::query_scalar(select).bind(position).fetch_one(&pool).await.unwrap();
    if let Some(slots) = slots {
        let update = "UPDATE users SET slots = ? WHERE batch = 0 AND position = ?";
        sqlx::query(update).bind(slots).bind(position).execute(&pool).await.unwrap();
    }
    pool.close().await;
    before
}

#[tokio::test(flavor = "multi_thread")]
async fn a_witness_that_does_not_rebuild_the_posted_root_is_refused_until_it_does() {
    let chain = Chain::start().await;
    let root = chain.publish(3, 1);
    swap_first_users(&chain.archive()).await;
    let (_exchange, url) = chain.serve();
    let (config, database, port) = chain.agent(&url);
    let _agent = start_agent(&config, port);

    until("the witness to be refused", &config, || status(&config).contains("refused witnesses"));
    let report = status(&config);
    assert!(report.contains("not the posted root"), "{report}");
    assert!(stored_root(&database).is_none(), "nothing of a refused witness is stored");

    // The order put back, but user 1 of batch 0 lists BTC twice (slots of
    // 2-byte asset index and 8-byte balance): refused, naming the user.
    swap_first_users(&chain.archive()).await;
    let slots = set_slots(&chain.archive(), 1, None).await;
    assert_eq!(slots.len(), 20, "two slots: BTC and USDT");
    let twice_btc = [&slots[..10], &slots[..10]].concat();
    set_slots(&chain.archive(), 1, Some(twice_btc)).await;
    let refusal = "batch 0, user 1: asset indices 0 then 0 are not strictly increasing";
    until("the user to be refused", &config, || status(&config).contains(refusal));
    assert!(stored_root(&database).is_none(), "nothing of a refused witness is stored");

    set_slots(&chain.archive(), 1, Some(slots)).await;
    until("the fixed witness to be taken in", &config, || stored_root(&database).is_some());
    assert_eq!(stored_root(&database), Some(root));
    assert!(!status(&config).contains("refused witnesses"), "the refusal is cleared");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reorg_that_drops_a_posting_leaves_no_sequence_being_proven() {
    let chain = Chain::start().await;
    let before: serde_json::Value = chain.owner.raw_request("evm_snapshot".into(), ()).await.unwrap();
    let dropped = chain.publish(3, 1);
    let (_exchange, url) = chain.serve();
    let (config, database, port) = chain.agent(&url);
    let _agent = start_agent(&config, port);
    until("the posted sequence to be taken in", &config, || stored_root(&database) == Some(dropped));

    // The posting is rolled back: sequence 1 no longer exists.
    let reverted: bool = chain.owner.raw_request("evm_revert".into(), (before,)).await.unwrap();
    assert!(reverted);
    until("the dropped sequence to be forgotten", &config, || stored_root(&database).is_none());
    assert!(std::fs::read_to_string(log_of(&config)).unwrap().contains("no longer holds this sequence"));

    // Other balances posted as sequence 1: the exchange moves the orphan
    // aside, the agent takes the new one.
    let posted = chain.publish(4, 2);
    assert_ne!(posted, dropped);
    let orphaned = chain.archive().join(format!(".orphaned-{dropped}"));
    assert!(orphaned.join("statement.json").is_file(), "the exchange keeps the dropped sequence aside");
    until("the new sequence 1 to be taken in", &config, || stored_root(&database) == Some(posted));
    assert!(chain.owner.get_block_number().await.unwrap() > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_exchanges_own_agent_reads_its_archive_without_http() {
    let chain = Chain::start().await;
    let root = chain.publish(3, 1);
    let (config, database, port) = chain.agent_with(&format!("archive = \"{}\"", chain.archive().display()));
    let _agent = start_agent(&config, port);
    until("the posted sequence to be taken in", &config, || stored_root(&database) == Some(root));
}

#[tokio::test(flavor = "multi_thread")]
async fn publishing_refuses_bad_input_and_finishes_what_a_crash_left_pending() {
    let chain = Chain::start().await;
    let registry = LiabilityRegistry::new(chain.registry, &chain.owner);
    let count = async || registry.sequenceCount().call().await.unwrap();

    // Not the sequencer: refused before anything is written or sent.
    let snapshot = chain.snapshot(3);
    let refused = chain.publish_command(&snapshot, 1, 1).assert().failure();
    let error = String::from_utf8(refused.get_output().stderr.clone()).unwrap();
    assert!(error.contains("is not the registry's sequencer"), "{error}");
    // A bad row: reported with its place, nothing posted.
    std::fs::write(snapshot.join("balances.csv"), "id,BTC,USDT\nalice,0.5,abc\n").unwrap();
    let refused = chain.publish_command(&snapshot, 0, 1).assert().failure();
    let error = String::from_utf8(refused.get_output().stderr.clone()).unwrap();
    assert!(error.contains("balances.csv:2"), "{error}");
    // More assets than the registry's family (tiny: 4) holds.
    std::fs::write(snapshot.join("assets.csv"), "symbol,decimals,price_usd\nA,0,1\nB,0,1\nC,0,1\nD,0,1\nE,0,1\n")
        .unwrap();
    std::fs::write(snapshot.join("balances.csv"), "id,A,B,C,D,E\nalice,1,,,,2\n").unwrap();
    let other = chain.publish_command(&snapshot, 0, 1).assert().failure();
    let error = String::from_utf8(other.get_output().stderr.clone()).unwrap();
    let expected = "assets.csv:6: asset 'E' is asset number 5, but the circuit family holds at most 4 assets";
    assert!(error.contains(expected), "{error}");
    assert_eq!(count().await, U256::ZERO);
    assert!(!chain.archive().exists() || std::fs::read_dir(chain.archive()).unwrap().next().is_none());

    // A publication that died after posting: its pending entry is finished
    // by the next run, which does not post the same balances again.
    let snapshot = chain.snapshot(4);
    let family = Family::tiny();
    let loaded = Snapshot::load(&snapshot, &load_options(&family)).unwrap();
    let committed = CommittedSnapshot::new(loaded, &family, &mut ChaCha20Rng::seed_from_u64(5)).unwrap();
    let archive = SequenceArchive::new(chain.archive());
    let pending = archive.write_pending(&committed, 1).await.unwrap();
    let statement = OnChainStatement::from_file(&pending.statement).unwrap().encode();
    let root = hash_to_b256(pending.statement.root);
    let call = registry.postSequence(root, hash_to_b256(pending.statement.digest), 4, statement.into());
    assert!(call.send().await.unwrap().get_receipt().await.unwrap().status());
    let again = chain.publish_command(&snapshot, 0, 6).assert().failure();
    let error = String::from_utf8(again.get_output().stderr.clone()).unwrap();
    assert!(error.contains("was posted as sequence 1"), "{error}");
    assert_eq!(count().await, U256::from(1), "the same balances are not posted twice");
    assert_eq!(archive.root(1).unwrap(), pending.statement.root, "the crashed publication is archived");
    assert!(archive.pending().unwrap().is_empty());
}
