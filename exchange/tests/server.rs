//! The exchange's endpoint as agents and front ends meet it: witnesses and
//! user proofs of posted sequences only, tokens and roles, rate limits, and
//! the same over TLS.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use rand::SeedableRng;
use zkpor_circuits::Family;
use zkpor_circuits::encoding::HashHex;
use zkpor_exchange::archive::SequenceArchive;
use zkpor_exchange::committed::{CommittedSnapshot, load_options};
use zkpor_exchange::server::config::{Client, ExchangeConfig, RateLimits, TlsConfig};
use zkpor_exchange::server::{PostedRoots, serve};
use zkpor_exchange::synthetic::write_synthetic;
use zkpor_exchange::user_proof::UserProof;
use zkpor_protocol::witness::{ServedSequence, WitnessBatch};
use zkpor_snapshot::Snapshot;

const AGENT: &str = "agent-token-000000";
const WEB: &str = "frontend-token-0000";

/// A chain on which sequence 1 is posted with `root`, nothing else.
struct Posted(HashHex);

impl PostedRoots for Posted {
    fn posted_root(&self, sequence: u64) -> Pin<Box<dyn Future<Output = anyhow::Result<Option<HashHex>>> + Send + '_>> {
        Box::pin(async move { Ok((sequence == 1).then_some(self.0)) })
    }
}

/// An archive holding sequences 1 (posted) and 2 (not posted) of 6 users.
async fn archive(dir: &std::path::Path) -> (SequenceArchive, HashHex) {
    write_synthetic(&dir.join("snapshot"), 6, 2, 3).unwrap();
    let archive = SequenceArchive::new(dir.join("archive"));
    let mut roots = Vec::new();
    for sequence in [1, 2] {
        let family = Family::tiny();
        let snapshot = Snapshot::load(&dir.join("snapshot"), &load_options(&family)).unwrap();
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(sequence);
        let committed = CommittedSnapshot::new(snapshot, &family, &mut rng).unwrap();
        let pending = archive.write_pending(&committed, sequence).await.unwrap();
        archive.settle(&pending, sequence).await.unwrap();
        roots.push(pending.statement.root);
    }
    (archive, roots[0])
}

fn config(archive: &SequenceArchive, burst: u32, tls: Option<TlsConfig>) -> ExchangeConfig {
    let client = |name: &str, token: &str| Client { name: name.into(), token: token.into() };
    ExchangeConfig {
        archive: archive.dir().to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        rpc_url: "http://127.0.0.1:1".into(),
        registry: Default::default(),
        tls,
        limits: RateLimits { per_second: 1, burst },
        agents: vec![client("miner", AGENT)],
        frontends: vec![client("web", WEB)],
    }
}

/// Serves `config` in the background; its base URL.
async fn start(config: ExchangeConfig, root: HashHex, scheme: &str) -> String {
    let (send, receive) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let started = move |address: std::net::SocketAddr| {
            let _ = send.send(address.port());
        };
        serve(&config, Box::new(Posted(root)), started, std::future::pending()).await.unwrap();
    });
    let port = receive.await.unwrap();
    format!("{scheme}://localhost:{port}")
}

#[tokio::test(flavor = "multi_thread")]
async fn agents_get_witnesses_and_front_ends_user_proofs_of_posted_sequences_only() {
    let dir = tempfile::tempdir().unwrap();
    let (archive, root) = archive(dir.path()).await;
    let url = start(config(&archive, 100, None), root, "http").await;
    let client = reqwest::Client::new();
    let get = |path: &str, token: Option<&str>| {
        let request = client.get(format!("{url}{path}"));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
        .send()
    };

    let served: Vec<ServedSequence> = get("/v1/sequences", Some(AGENT)).await.unwrap().json().await.unwrap();
    assert_eq!(served.len(), 1, "sequence 2 is archived but not posted");
    assert_eq!((served[0].sequence, served[0].root, served[0].account_count, served[0].batches), (1, root, 6, 1));
    assert_eq!(served[0].family, "tiny");
    let response = get("/v1/sequences/1/batches/0", Some(AGENT)).await.unwrap();
    let bytes = response.bytes().await.unwrap();
    let batch: WitnessBatch = serde_json::from_slice(&bytes).unwrap();
    assert_eq!((batch.sequence, batch.batch, batch.users.len()), (1, 0, 6));
    assert!(
        batch.users.iter().all(|user| user.slots.len() <= 2 && user.slots.iter().all(|&(_, b)| b != 0)),
        "only non-zero slots"
    );
    assert!(bytes.len() / batch.users.len() < 160, "{} bytes per user on the wire", bytes.len() / batch.users.len());
    assert_eq!(get("/v1/sequences/1/batches/1", Some(AGENT)).await.unwrap().status(), 404, "past the last batch");
    assert_eq!(get("/v1/sequences/2/batches/0", Some(AGENT)).await.unwrap().status(), 404, "not posted");

    let proof: UserProof = get("/v1/users/user000004/proof", Some(WEB)).await.unwrap().json().await.unwrap();
    assert_eq!(proof.sequence, 1);
    assert_eq!(HashHex(proof.verify(Some(root.0)).unwrap()), root);
    assert_eq!(get("/v1/users/nobody/proof", Some(WEB)).await.unwrap().status(), 404);

    assert_eq!(get("/v1/sequences", None).await.unwrap().status(), 401);
    assert_eq!(get("/v1/sequences", Some("not-a-token-at-all")).await.unwrap().status(), 401);
    assert_eq!(get("/v1/sequences", Some(WEB)).await.unwrap().status(), 403, "front ends get no witnesses");
    assert_eq!(get("/v1/users/user000004/proof", Some(AGENT)).await.unwrap().status(), 403, "agents get no user data");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_past_its_burst_is_told_when_to_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let (archive, root) = archive(dir.path()).await;
    let url = start(config(&archive, 3, None), root, "http").await;
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = client.get(format!("{url}/v1/sequences")).bearer_auth(AGENT).send().await.unwrap();
        if response.status() == 429 {
            assert!(response.headers().contains_key("retry-after"));
        }
        statuses.push(response.status().as_u16());
    }
    assert_eq!(&statuses[..3], &[200, 200, 200]);
    assert!(statuses[3..].contains(&429), "{statuses:?}");
    let other = client.get(format!("{url}/v1/users/user000001/proof")).bearer_auth(WEB).send().await.unwrap();
    assert_eq!(other.status(), 200, "another client has its own bucket");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let later = client.get(format!("{url}/v1/sequences")).bearer_auth(AGENT).send().await.unwrap();
    assert_eq!(later.status(), 200, "the bucket refills");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_endpoint_speaks_tls_when_given_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (archive, root) = archive(dir.path()).await;
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.key_pair.serialize_pem()).unwrap();
    let url = start(config(&archive, 100, Some(TlsConfig { cert, key })), root, "https").await;
    let trusted = reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).unwrap();
    let client = reqwest::Client::builder().add_root_certificate(trusted).build().unwrap();
    let served: Vec<ServedSequence> =
        client.get(format!("{url}/v1/sequences")).bearer_auth(AGENT).send().await.unwrap().json().await.unwrap();
    assert_eq!(served[0].root, root);
    let plain = url.replace("https://", "http://");
    assert!(reqwest::get(format!("{plain}/health")).await.map_or(true, |r| !r.status().is_success()), "no plain HTTP");
}
