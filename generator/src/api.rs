//! The worker API over HTTP (axum); the routes and answers are documented in
//! [`zkpor_tasks::protocol`].

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequestParts, MatchedPath, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::trace::TraceLayer;
use tracing::error;
use zkpor_tasks::TaskKey;
use zkpor_tasks::protocol::{ApiError, Heartbeat, LeaseRequest, ProofResult, TaskFailure};

use crate::service::{Generator, Refusal};

/// The router of the worker API.
pub fn router(generator: Arc<Generator>) -> Router {
    let body_limit = generator.settings().api.body_limit_bytes;
    Router::new()
        .route("/v1/lease", post(lease))
        .route("/v1/tasks/{id}/heartbeat", post(heartbeat))
        .route("/v1/tasks/{id}/result", post(result))
        .route("/v1/tasks/{id}/error", post(failure))
        .route("/v1/status", get(status))
        .route("/metrics", get(metrics))
        .route("/health", get(|| async { "ok" }))
        .fallback(|| async { refuse(StatusCode::NOT_FOUND, "no such route".into()) })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TraceLayer::new_for_http())
        .route_layer(middleware::from_fn_with_state(generator.clone(), timed))
        .with_state(generator)
}

/// Observes how long each request to a route took, into the metrics.
async fn timed(State(generator): State<Arc<Generator>>, route: MatchedPath, request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    generator.metrics().request(route.as_str(), started.elapsed());
    response
}

/// Serves the worker API on `listener` until `shutdown` turns true.
pub async fn serve(
    generator: Arc<Generator>,
    listener: TcpListener,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    axum::serve(listener, router(generator))
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        })
        .await?;
    Ok(())
}

fn refuse(status: StatusCode, error: String) -> Response {
    (status, Json(ApiError { error })).into_response()
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = match &self {
            Refusal::UnknownTask(_) => StatusCode::NOT_FOUND,
            Refusal::NotHeld(_) | Refusal::NotReady(_) => StatusCode::CONFLICT,
            Refusal::Rejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Refusal::Quarantined { .. } => StatusCode::FORBIDDEN,
            Refusal::Internal(error) => {
                error!(error = format!("{error:#}"), "request failed");
                return refuse(StatusCode::INTERNAL_SERVER_ERROR, "internal error, see the agent's log".into());
            }
        };
        refuse(status, self.to_string())
    }
}

/// The worker named by a valid bearer token.
struct Worker(String);

impl FromRequestParts<Arc<Generator>> for Worker {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, generator: &Arc<Generator>) -> Result<Self, Self::Rejection> {
        let unauthorized = |message: &str| {
            let mut response = refuse(StatusCode::UNAUTHORIZED, message.into());
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            response
        };
        let header = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| unauthorized("no bearer token"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(|| unauthorized("the Authorization header is not 'Bearer <token>'"))?;
        let worker = generator.settings().worker_of(token.trim()).ok_or_else(|| unauthorized("unknown token"))?;
        Ok(Worker(worker.to_string()))
    }
}

/// A task id from the path; 400 if it does not parse.
#[allow(clippy::result_large_err, reason = "the refusal is axum's response, built once per bad request")]
fn task_id(id: &str) -> Result<TaskKey, Response> {
    id.parse().map_err(|e: zkpor_tasks::key::KeyError| refuse(StatusCode::BAD_REQUEST, e.to_string()))
}

/// A JSON body; 400 with the reason if it does not parse, 413 if too large.
#[allow(clippy::result_large_err, reason = "the refusal is axum's response, built once per bad request")]
fn body<T>(parsed: Result<Json<T>, JsonRejection>) -> Result<T, Response> {
    parsed.map(|Json(value)| value).map_err(|rejection| {
        let status = match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        };
        refuse(status, rejection.body_text())
    })
}

async fn lease(
    State(generator): State<Arc<Generator>>,
    Worker(worker): Worker,
    request: Result<Json<LeaseRequest>, JsonRejection>,
) -> Result<Response, Response> {
    let request = body(request)?;
    if request.kinds.is_empty() {
        return Err(refuse(StatusCode::BAD_REQUEST, "kinds: a worker must take at least one kind of task".into()));
    }
    Ok(match generator.lease(&worker, &request.kinds).await {
        Ok(Some(grant)) => Json(grant).into_response(),
        Ok(None) => StatusCode::NO_CONTENT.into_response(),
        Err(refusal) => refusal.into_response(),
    })
}

async fn heartbeat(
    State(generator): State<Arc<Generator>>,
    Worker(worker): Worker,
    Path(id): Path<String>,
    request: Result<Json<Heartbeat>, JsonRejection>,
) -> Result<Response, Response> {
    let (key, request) = (task_id(&id)?, body(request)?);
    Ok(generator.heartbeat(&worker, &key, &request.lease_id).await.map(Json).into_response())
}

async fn result(
    State(generator): State<Arc<Generator>>,
    Worker(worker): Worker,
    Path(id): Path<String>,
    request: Result<Json<ProofResult>, JsonRejection>,
) -> Result<Response, Response> {
    let (key, request) = (task_id(&id)?, body(request)?);
    Ok(generator.submit(&worker, &key, request).await.map(Json).into_response())
}

async fn failure(
    State(generator): State<Arc<Generator>>,
    Worker(worker): Worker,
    Path(id): Path<String>,
    request: Result<Json<TaskFailure>, JsonRejection>,
) -> Result<Response, Response> {
    let (key, request) = (task_id(&id)?, body(request)?);
    Ok(generator.report_failure(&worker, &key, request).await.map(Json).into_response())
}

/// What `GET /v1/status` answers.
#[derive(Serialize)]
struct Status {
    sequences: Vec<zkpor_store::SequenceRow>,
    queues: Vec<zkpor_store::views::QueueDepth>,
    workers: Vec<zkpor_store::views::WorkerStats>,
}

async fn status(State(generator): State<Arc<Generator>>, Worker(_): Worker) -> Response {
    let store = generator.store();
    let read = async {
        anyhow::Ok(Status {
            sequences: store.sequences().await?,
            queues: store.queue_depths().await?,
            workers: store.worker_stats().await?,
        })
    };
    match read.await {
        Ok(status) => Json(status).into_response(),
        Err(error) => Refusal::Internal(error).into_response(),
    }
}

async fn metrics(State(generator): State<Arc<Generator>>) -> Response {
    match generator.metrics().render(generator.store(), zkpor_store::now_ms()).await {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response(),
        Err(error) => Refusal::Internal(error).into_response(),
    }
}
