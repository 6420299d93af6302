//! Roster's HTTP door: the Partner Center v1 wire format, the token endpoint, health and the
//! OpenAPI document, on top of the service layer.

pub mod error;
pub mod json;
pub mod layers;
pub mod metrics;
pub mod openapi;
pub mod routes;
pub mod serve;
pub mod tls;
pub mod wire;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::LazyLock;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use roster_service::Roster;
use tokio::net::TcpListener;
use tower::Layer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::normalize_path::NormalizePathLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use serve::Timeouts;

/// The largest request body accepted (rest-api.md: 413 beyond it).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The largest body of a route that takes no access token (sign-in, the password change,
/// redeeming an invitation): what anyone may send is kept small.
pub const OPEN_BODY_LIMIT: usize = 16 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub roster: Roster,
    /// Who may read `/metrics`.
    pub metrics: metrics::MetricsAccess,
}

/// How the HTTP door is served, beside the service's own settings.
#[derive(Clone, Debug, Default)]
pub struct ServeOptions {
    pub timeouts: Timeouts,
    /// Who may read `/metrics` (off by default).
    pub metrics: metrics::MetricsAccess,
    /// Serve HTTPS with this certificate (HSTS on every answer); `None`: plain HTTP.
    pub tls: Option<std::sync::Arc<tls::Tls>>,
}

/// Whether a route takes an access token.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// The caller is authenticated, and its writes are idempotent by `MS-RequestId`.
    Token,
    /// Sign-in, the password change, redeeming an invitation, health, discovery.
    Open,
}

/// Every route, once: the router and the OpenAPI document are both built from this table,
/// in this order (the document's). Each module's router holds its handlers, whose
/// `#[utoipa::path]` gives the method, the path and the documentation.
fn route_table() -> Vec<(Access, OpenApiRouter<AppState>)> {
    use Access::{Open, Token};
    vec![
        (Open, routes::health::public_router()),
        (Open, routes::token::public_router()),
        (Open, routes::well_known::public_router()),
        (Token, routes::customers::router()),
        (Token, routes::customer_users::router()),
        (Token, routes::bulk_upload::router()),
        (Token, routes::audit::router()),
        (Token, routes::partner_users::router()),
        (Token, routes::invitations::router()),
        (Open, routes::invitations::public_router()),
        (Token, routes::relationships::router()),
        (Token, routes::directory_roles::router()),
        (Token, routes::licences::router()),
        (Token, routes::applications::router()),
    ]
}

/// The whole HTTP application: the REST door alone.
pub fn app(roster: Roster, timeouts: Timeouts) -> Router {
    app_with(
        roster,
        &ServeOptions {
            timeouts,
            ..ServeOptions::default()
        },
        Router::new(),
    )
}

/// The REST door with `pages` (the web portal) beside it, under the same limits: body size
/// and time, panics caught, request ids. `pages` must not use the REST door's paths.
pub fn app_with(roster: Roster, options: &ServeOptions, pages: Router) -> Router {
    let timeouts = options.timeouts;
    if options.metrics != metrics::MetricsAccess::Off {
        metrics::install();
    }
    let state = AppState {
        roster,
        metrics: options.metrics.clone(),
    };
    let mut authenticated = Router::new();
    let mut open = Router::new();
    for (access, routes) in route_table() {
        let (router, _) = routes.split_for_parts();
        match access {
            Access::Token => authenticated = authenticated.merge(router),
            Access::Open => open = open.merge(router),
        }
    }
    let authenticated = authenticated
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            layers::idempotency,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            layers::authenticate,
        ));
    let in_flight = state.roster.settings().limits.max_requests_in_flight;
    let metrics_on = options.metrics != metrics::MetricsAccess::Off;
    let router = authenticated
        .merge(open.layer(DefaultBodyLimit::max(OPEN_BODY_LIMIT)))
        .route("/openapi.json", get(openapi_json))
        .route("/metrics", get(metrics::render))
        .merge(pages.with_state(()));
    // Counting answers costs a little on every request: only when someone reads the counts.
    let router = if metrics_on {
        router.route_layer(axum::middleware::from_fn(metrics::note_route))
    } else {
        router
    };
    let router = router
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(RequestBodyTimeoutLayer::new(timeouts.request))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeouts.request,
        ))
        .layer(CatchPanicLayer::new())
        // Beyond the requests in flight, 503 at once instead of a queue that grows.
        .layer(
            tower::ServiceBuilder::new()
                .layer(axum::error_handling::HandleErrorLayer::new(
                    |_: tower::BoxError| async { layers::overloaded("requests_in_flight") },
                ))
                .load_shed()
                .concurrency_limit(in_flight.max(1)),
        )
        .layer(axum::middleware::from_fn(layers::request_ids));
    let router = if metrics_on {
        router.layer(axum::middleware::from_fn(metrics::observe))
    } else {
        router
    };
    router
        .layer(axum::middleware::from_fn_with_state(
            options.tls.is_some(),
            layers::strict_transport_security,
        ))
        .with_state(state)
}

async fn not_found() -> Response {
    error::ApiError::for_status(StatusCode::NOT_FOUND).into_response()
}

/// The OpenAPI document, built once from the route table.
static DOCUMENT: LazyLock<serde_json::Value> = LazyLock::new(|| {
    let generated = route_table()
        .into_iter()
        .fold(
            OpenApiRouter::with_openapi(openapi::ApiDoc::openapi()),
            |doc, (_, routes)| doc.merge(routes),
        )
        .into_openapi();
    let mut doc = serde_json::to_value(&generated).unwrap_or_default();
    openapi::finish(&mut doc);
    doc
});

/// The (method, path) pairs the route table has, as the document names them.
static DECLARED: LazyLock<std::collections::HashMap<String, Vec<String>>> = LazyLock::new(|| {
    DOCUMENT["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(path, item)| {
            let methods = item.as_object().into_iter().flatten();
            let methods = methods.map(|(m, _)| m.to_ascii_uppercase()).collect();
            (path.clone(), methods)
        })
        .collect()
});

/// Whether the route table has `method` on the route `path` (`/v1/customers/{customerId}`),
/// without allocating (it is asked on every authenticated request). HEAD is GET without the
/// body, as axum serves it.
pub(crate) fn declares(method: &axum::http::Method, path: &str) -> bool {
    let method = if method == axum::http::Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    DECLARED
        .get(path)
        .is_some_and(|methods| methods.iter().any(|m| m == method))
}

async fn openapi_json() -> Response {
    wire::json(StatusCode::OK, &*DOCUMENT)
}

/// The OpenAPI document as the server publishes it.
pub fn openapi_document() -> serde_json::Value {
    DOCUMENT.clone()
}

/// Serves until `stop` completes; trailing slashes are accepted on every path.
pub async fn serve(
    listener: TcpListener,
    roster: Roster,
    timeouts: Timeouts,
    stop: impl Future<Output = ()>,
) {
    let options = ServeOptions {
        timeouts,
        ..ServeOptions::default()
    };
    serve_with(listener, roster, options, Router::new(), stop).await;
}

/// [`serve`], with `pages` beside the REST door (see [`app_with`]).
pub async fn serve_with(
    listener: TcpListener,
    roster: Roster,
    options: ServeOptions,
    pages: Router,
    stop: impl Future<Output = ()>,
) {
    let max_connections = roster.settings().limits.max_connections;
    let app = NormalizePathLayer::trim_trailing_slash().layer(app_with(roster, &options, pages));
    let tls = options.tls.as_ref().map(|t| t.acceptor());
    serve::run(listener, app, options.timeouts, max_connections, tls, stop).await;
}

/// Runs the purge of expired users (and old request ids) every `interval`, and reads the
/// signing keys again every minute (so that a rotation reaches every server), until `stop`.
pub async fn maintenance_loop(roster: Roster, interval: Duration, stop: impl Future<Output = ()>) {
    tokio::pin!(stop);
    let mut keys = tokio::time::interval(KEY_RELOAD);
    keys.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = tokio::time::sleep(interval) => {
                match roster.run_maintenance().await {
                    Ok(report) if report.users_purged > 0 => tracing::info!(users = report.users_purged, "purged expired users"),
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "the purge failed; it runs again at the next interval"),
                }
            }
            _ = keys.tick() => {
                if let Err(e) = roster.reload_keys().await {
                    tracing::warn!(error = %e, "could not read the signing keys");
                }
            }
            () = &mut stop => return,
        }
    }
}

/// How often every server reads the signing keys again.
pub const KEY_RELOAD: Duration = Duration::from_secs(60);

/// Binds the listening socket.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
