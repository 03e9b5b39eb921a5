//! `zkpor exchange serve`: batch witnesses of posted sequences for
//! authorised agents, users' inclusion proofs for the exchange's front end.
//!
//! | route | who | answer |
//! |---|---|---|
//! | `GET /v1/sequences` | agents | the posted sequences served ([`ServedSequence`]) |
//! | `GET /v1/sequences/{n}/batches/{i}` | agents | batch `i`'s tier and users ([`WitnessBatch`]) |
//! | `GET /v1/users/{id}/proof[?sequence=N]` | front ends | the user's inclusion proof in sequence `N` (default: the latest) |
//! | `GET /health` | anyone | `ok` |
//!
//! Every other route needs `Authorization: Bearer <token>` of a client of the
//! right role (401 without one, 403 for the wrong role) and takes one token
//! from the client's bucket (429 with `Retry-After` when empty). Only
//! sequences posted on chain with the archive's root are served (404
//! otherwise; checked again every few seconds, so a reorg or a
//! republication is noticed); errors are `{"error": "..."}`.

pub mod access;
pub mod config;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tower_http::trace::TraceLayer;
use tracing::{error, info};
use zkpor_circuits::encoding::HashHex;
use zkpor_protocol::witness::{ServedSequence, WitnessBatch};

use crate::archive::SequenceArchive;
use crate::user_proof::UserProof;
use crate::user_store::UserStore;
use access::{Access, Denied, Role};
use config::ExchangeConfig;

/// The chain's answer to "which root was sequence `n` posted with?".
pub trait PostedRoots: Send + Sync + 'static {
    /// The root sequence `sequence` is posted with, `None` if not posted.
    fn posted_root(&self, sequence: u64) -> Pin<Box<dyn Future<Output = Result<Option<HashHex>>> + Send + '_>>;
}

/// The server's state.
struct Exchange {
    archive: SequenceArchive,
    access: Access,
    roots: Box<dyn PostedRoots>,
    /// Stores of sequences found posted with the archive's root, with the
    /// root and when that was last checked.
    posted: Mutex<HashMap<u64, Checked>>,
}

/// A sequence found posted with the archive's root.
#[derive(Clone)]
struct Checked {
    root: HashHex,
    store: Arc<UserStore>,
    at: Instant,
}

/// How long a sequence found posted is served before the archive and the
/// chain are read again (a reorg, or a republication, may have replaced it).
const RECHECK_AFTER: Duration = Duration::from_secs(5);

/// An error answer.
#[derive(Debug, Serialize, Deserialize)]
pub struct ApiError {
    /// What went wrong.
    pub error: String,
}

/// Why a request failed.
enum Failure {
    Denied(Denied),
    NotFound(String),
    Internal(anyhow::Error),
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Failure::Denied(Denied::Unauthenticated) => {
                (StatusCode::UNAUTHORIZED, "a valid 'Authorization: Bearer <token>' header is required".to_string())
            }
            Failure::Denied(Denied::Forbidden { client, needs }) => {
                (StatusCode::FORBIDDEN, format!("client '{client}' is not allowed here: this route is for {needs}s"))
            }
            Failure::Denied(Denied::RateLimited(wait)) => {
                let seconds = wait.as_secs() + 1;
                let mut response = (
                    StatusCode::TOO_MANY_REQUESTS,
                    Json(ApiError { error: format!("rate limited: try again in {seconds} s") }),
                )
                    .into_response();
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                return response;
            }
            Failure::NotFound(message) => (StatusCode::NOT_FOUND, message),
            Failure::Internal(error) => {
                error!(error = format!("{error:#}"), "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error, see the exchange's log".to_string())
            }
        };
        (status, Json(ApiError { error: message })).into_response()
    }
}

/// The bearer token of a request, if any.
struct Bearer(Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Bearer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(|token| token.trim().to_string());
        Ok(Bearer(token))
    }
}

impl Exchange {
    fn admit(&self, bearer: &Bearer, role: Role) -> Result<String, Failure> {
        self.access.admit(bearer.0.as_deref(), role).map_err(Failure::Denied)
    }

    /// The store of `sequence`, if the archive holds it and the chain has
    /// it posted with the same root.
    async fn posted_store(&self, sequence: u64) -> Result<Arc<UserStore>, Failure> {
        let cached = self.posted.lock().get(&sequence).cloned();
        if let Some(checked) = &cached
            && checked.at.elapsed() < RECHECK_AFTER
        {
            return Ok(checked.store.clone());
        }
        if !self.archive.path(sequence).is_dir() {
            self.posted.lock().remove(&sequence);
            return Err(Failure::NotFound(format!("sequence {sequence} is not served here")));
        }
        let local = self.archive.root(sequence).map_err(Failure::Internal)?;
        let posted = self.roots.posted_root(sequence).await.map_err(Failure::Internal)?;
        if posted != Some(local) {
            self.posted.lock().remove(&sequence);
            info!(sequence, ?posted, %local, "not serving a sequence the chain does not hold with the archive's root");
            return Err(Failure::NotFound(format!("sequence {sequence} is not posted on chain with this root")));
        }
        let store = match cached {
            Some(checked) if checked.root == local => checked.store,
            _ => Arc::new(self.archive.open(sequence).await.map_err(Failure::Internal)?),
        };
        self.posted.lock().insert(sequence, Checked { root: local, store: store.clone(), at: Instant::now() });
        Ok(store)
    }

    /// The posted sequences the archive holds, lowest first.
    async fn served(&self) -> Result<Vec<ServedSequence>, Failure> {
        let mut out = Vec::new();
        for sequence in self.archive.sequences().map_err(Failure::Internal)? {
            match self.posted_store(sequence).await {
                Ok(store) => {
                    let statement = store.statement();
                    out.push(ServedSequence {
                        sequence,
                        root: statement.root,
                        family: statement.family.clone(),
                        account_count: statement.account_count,
                        batches: statement.batches,
                    });
                }
                Err(Failure::NotFound(_)) => {}
                Err(other) => return Err(other),
            }
        }
        Ok(out)
    }
}

async fn sequences(
    State(exchange): State<Arc<Exchange>>,
    bearer: Bearer,
) -> Result<Json<Vec<ServedSequence>>, Failure> {
    exchange.admit(&bearer, Role::Agent)?;
    Ok(Json(exchange.served().await?))
}

async fn batch(
    State(exchange): State<Arc<Exchange>>,
    bearer: Bearer,
    Path((sequence, batch)): Path<(u64, u64)>,
) -> Result<Json<WitnessBatch>, Failure> {
    let client = exchange.admit(&bearer, Role::Agent)?;
    let store = exchange.posted_store(sequence).await?;
    let witness = store.witness_batch(batch).await.map_err(|e| Failure::NotFound(format!("{e:#}")))?;
    info!(%client, sequence, batch, users = witness.users.len(), "batch witness served");
    Ok(Json(witness))
}

#[derive(Deserialize)]
struct ProofQuery {
    sequence: Option<u64>,
}

async fn user_proof(
    State(exchange): State<Arc<Exchange>>,
    bearer: Bearer,
    Path(id): Path<String>,
    Query(query): Query<ProofQuery>,
) -> Result<Json<UserProof>, Failure> {
    exchange.admit(&bearer, Role::Frontend)?;
    let sequence = match query.sequence {
        Some(sequence) => sequence,
        None => exchange
            .served()
            .await?
            .last()
            .map(|s| s.sequence)
            .ok_or_else(|| Failure::NotFound("no sequence is posted yet".into()))?,
    };
    let store = exchange.posted_store(sequence).await?;
    let proof = store.user_proof(&id).await.map_err(|e| Failure::NotFound(format!("{e:#}")))?;
    Ok(Json(proof))
}

/// The exchange's router over `archive`.
pub fn router(config: &ExchangeConfig, roots: Box<dyn PostedRoots>) -> Router {
    let exchange = Arc::new(Exchange {
        archive: SequenceArchive::new(&config.archive),
        access: Access::new(config),
        roots,
        posted: Mutex::new(HashMap::new()),
    });
    Router::new()
        .route("/v1/sequences", get(sequences))
        .route("/v1/sequences/{sequence}/batches/{batch}", get(batch))
        .route("/v1/users/{id}/proof", get(user_proof))
        .route("/health", get(|| async { "ok" }))
        .fallback(|| async { Failure::NotFound("no such route".into()) })
        .layer(TraceLayer::new_for_http())
        .with_state(exchange)
}

/// Serves the exchange's endpoints (HTTPS when `config.tls` is set) until
/// `shutdown` resolves; `started` receives the address it listens on.
pub async fn serve(
    config: &ExchangeConfig,
    roots: Box<dyn PostedRoots>,
    started: impl FnOnce(std::net::SocketAddr),
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let app = router(config, roots).into_make_service();
    let handle = axum_server::Handle::new();
    let listener =
        std::net::TcpListener::bind(config.listen).with_context(|| format!("listening on {}", config.listen))?;
    listener.set_nonblocking(true)?;
    started(listener.local_addr()?);
    let server = {
        let handle = handle.clone();
        async move {
            match &config.tls {
                Some(tls) => {
                    let rustls = axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
                        .await
                        .with_context(|| format!("reading {} and {}", tls.cert.display(), tls.key.display()))?;
                    axum_server::from_tcp_rustls(listener, rustls).handle(handle).serve(app).await?
                }
                None => axum_server::from_tcp(listener).handle(handle).serve(app).await?,
            }
            anyhow::Ok(())
        }
    };
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => return result,
        _ = shutdown => handle.graceful_shutdown(Some(std::time::Duration::from_secs(5))),
    }
    server.await
}
