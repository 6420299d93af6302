//! `GET /metrics`: Prometheus text format, through the `metrics` crates. Off unless the
//! operator turns it on; then readable from this machine only, or with a token
//! (docs/OPERATIONS.md lists every series and a few alerts).

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::AppState;

/// Who may read `/metrics`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum MetricsAccess {
    /// No `/metrics` (404): the default.
    #[default]
    Off,
    /// Callers on this machine (a loopback address) only.
    Loopback,
    /// Callers that send `Authorization: Bearer <token>`; kept as its SHA-256.
    Token([u8; 32]),
}

impl MetricsAccess {
    pub fn token(token: &str) -> Self {
        Self::Token(Sha256::digest(token.trim().as_bytes()).into())
    }
}

/// The request latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The process's recorder, installed the first time a server starts (every server of one
/// process, as in the tests, records into it).
fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let built = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Suffix("_seconds".into()),
                    &BUCKETS,
                )
                .and_then(PrometheusBuilder::install_recorder);
            match built {
                Ok(h) => Some(h),
                Err(e) => {
                    tracing::warn!(error = %e, "metrics are not recorded");
                    None
                }
            }
        })
        .as_ref()
}

/// Makes sure the recorder is there before the first request is counted.
pub fn install() {
    let _ = handle();
}

/// The route a request matched, put on its response for [`observe`].
#[derive(Clone)]
struct Route(String);

/// Inside the router: notes which route answered.
pub async fn note_route(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string());
    let mut response = next.run(req).await;
    if let Some(route) = route {
        response.extensions_mut().insert(Route(route));
    }
    response
}

/// Around everything: requests in flight, and each answer by route and status with its time.
pub async fn observe(req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    let in_flight = metrics::gauge!("roster_http_requests_in_flight");
    in_flight.increment(1.0);
    let response = next.run(req).await;
    in_flight.decrement(1.0);
    let route = response
        .extensions()
        .get::<Route>()
        .map_or_else(|| "(none)".to_string(), |r| r.0.clone());
    let status = response.status().as_u16().to_string();
    metrics::histogram!("roster_http_request_duration_seconds", "method" => method.clone(), "route" => route.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("roster_http_requests_total", "method" => method, "route" => route, "status" => status)
        .increment(1);
    response
}

/// `GET /metrics`.
pub async fn render(
    State(app): State<AppState>,
    client: Option<axum::Extension<crate::serve::ClientAddr>>,
    headers: axum::http::HeaderMap,
) -> Response {
    let allowed = match &app.metrics {
        MetricsAccess::Off => return ApiError::for_status(StatusCode::NOT_FOUND).into_response(),
        MetricsAccess::Loopback => client.is_some_and(|c| c.0 .0.is_loopback()),
        MetricsAccess::Token(want) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .is_some_and(|(_, token)| {
                let got: [u8; 32] = Sha256::digest(token.trim().as_bytes()).into();
                // Hashes of equal length: comparing them leaks nothing of the token.
                got == *want
            }),
    };
    if !allowed {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            crate::error::codes::FORBIDDEN,
            "The metrics are readable from this machine only, or with the metrics token (metrics_token).",
            vec![],
        )
        .into_response();
    }
    let roster = &app.roster;
    metrics::gauge!("roster_hash_queue_depth").set(roster.hash_queue_depth() as f64);
    let pool = roster.store().pool_stats();
    if let (Some(in_use), Some(capacity)) = (pool.in_use, pool.capacity) {
        metrics::gauge!("roster_db_connections_in_use").set(in_use as f64);
        metrics::gauge!("roster_db_connections_max").set(capacity as f64);
    }
    metrics::gauge!("roster_db_queued_writes").set(pool.queued_writes as f64);
    if let Some(backlog) = roster.outbox_backlog() {
        metrics::gauge!("roster_outbox_messages").set(backlog as f64);
    }
    let text = handle().map(PrometheusHandle::render).unwrap_or_default();
    let mut r = (StatusCode::OK, text).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}
