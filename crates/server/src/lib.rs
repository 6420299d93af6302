//! Roster's HTTP door: the Partner Center v1 wire format, the token endpoint, health and the
//! OpenAPI document, on top of the service layer.

pub mod error;
pub mod json;
pub mod layers;
pub mod openapi;
pub mod routes;
pub mod serve;
pub mod wire;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use roster_service::Roster;
use tokio::net::TcpListener;
use tower::Layer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::normalize_path::NormalizePathLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use utoipa::OpenApi;

pub use serve::Timeouts;

/// The largest request body accepted (rest-api.md: 413 beyond it).
pub const BODY_LIMIT: usize = 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub roster: Roster,
}

/// The whole HTTP application.
pub fn app(roster: Roster, timeouts: Timeouts) -> Router {
    let state = AppState { roster };
    let v1 = Router::new()
        .route(
            "/customers",
            post(routes::customers::create).get(routes::customers::list),
        )
        .route(
            "/customers/{cid}",
            get(routes::customers::get).patch(routes::relationships::update_customer),
        )
        .route(
            "/customers/{cid}/delegatedadminrelationships",
            get(routes::relationships::list).post(routes::relationships::create),
        )
        .route(
            "/customers/{cid}/delegatedadminrelationships/{rid}",
            get(routes::relationships::get),
        )
        .route(
            "/customers/{cid}/delegatedadminrelationships/{rid}/approve",
            post(routes::relationships::approve),
        )
        .route(
            "/customers/{cid}/delegatedadminrelationships/{rid}/terminate",
            post(routes::relationships::terminate),
        )
        .route(
            "/customers/{cid}/delegatedadminrelationships/{rid}/accessassignments",
            post(routes::relationships::assign),
        )
        .route(
            "/customers/{cid}/domains",
            get(routes::customers::list_domains).post(routes::customers::add_domain),
        )
        .route(
            "/customers/{cid}/users",
            post(routes::users::create).get(routes::users::list),
        )
        .route(
            "/customers/{cid}/users/{uid}",
            get(routes::users::get)
                .patch(routes::users::update)
                .delete(routes::users::delete),
        )
        .route(
            "/customers/{cid}/users/{uid}/directoryroles",
            get(routes::directory_roles::of_user),
        )
        .route(
            "/customers/{cid}/directoryroles",
            get(routes::directory_roles::catalogue),
        )
        .route(
            "/customers/{cid}/directoryroles/{rid}/usermembers",
            get(routes::directory_roles::members).post(routes::directory_roles::add_member),
        )
        .route(
            "/customers/{cid}/directoryroles/{rid}/usermembers/{uid}",
            axum::routing::delete(routes::directory_roles::remove_member),
        )
        .route("/productskus", get(routes::licences::catalogue))
        .route(
            "/customers/{cid}/subscribedskus",
            get(routes::licences::subscribed),
        )
        .route(
            "/customers/{cid}/subscribedskus/{sku}",
            axum::routing::put(routes::licences::set_seats),
        )
        .route(
            "/customers/{cid}/users/{uid}/licenses",
            get(routes::licences::of_user),
        )
        .route(
            "/customers/{cid}/users/{uid}/licenseupdates",
            post(routes::licences::update),
        )
        .route(
            "/applications",
            get(routes::applications::list).post(routes::applications::register),
        )
        .route(
            "/applications/{aid}",
            axum::routing::delete(routes::applications::delete),
        )
        .route(
            "/applications/{aid}/resetsecret",
            post(routes::applications::reset_secret),
        )
        .route(
            "/users",
            get(routes::partner::list).post(routes::partner::create),
        )
        .route("/users/access", post(routes::partner::grant))
        .route(
            "/users/{uid}",
            get(routes::partner::get)
                .patch(routes::partner::update)
                .delete(routes::partner::remove),
        )
        .route("/auditrecords", get(routes::audit::list))
        .route("/users/{uid}/activity", get(routes::partner::activity))
        .route("/roles", get(routes::partner::roles))
        .route(
            "/roles/{rid}/usermembers",
            get(routes::partner::role_members).post(routes::partner::add_role_member),
        )
        .route(
            "/roles/{rid}/usermembers/{uid}",
            axum::routing::delete(routes::partner::remove_role_member),
        )
        .route(
            "/groups",
            get(routes::partner::groups).post(routes::partner::create_group),
        )
        .route(
            "/groups/{gid}/members",
            post(routes::partner::add_group_member),
        )
        .route(
            "/groups/{gid}/members/{uid}",
            axum::routing::delete(routes::partner::remove_group_member),
        )
        .route(
            "/invitations",
            get(routes::invitations::list).post(routes::invitations::invite),
        )
        .route(
            "/invitations/{iid}",
            get(routes::invitations::get).delete(routes::invitations::delete),
        )
        .route(
            "/invitations/{iid}/resend",
            post(routes::invitations::resend),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            layers::idempotency,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            layers::authenticate,
        ));
    Router::new()
        .nest("/v1", v1)
        // Redeeming an invitation link needs no access token.
        .route("/v1/invitations/redeem", post(routes::invitations::redeem))
        .route("/oauth2/token", post(routes::token::token))
        .route("/v1/passwordchange", post(routes::token::change_password))
        .route("/healthz", get(routes::health::healthz))
        // What a resource server needs to verify access tokens itself; no token needed.
        .route("/.well-known/jwks.json", get(routes::well_known::jwks))
        .route(
            "/.well-known/openid-configuration",
            get(routes::well_known::openid_configuration),
        )
        .route("/openapi.json", get(openapi_json))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(RequestBodyTimeoutLayer::new(timeouts.request))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeouts.request,
        ))
        .layer(CatchPanicLayer::new())
        .layer(axum::middleware::from_fn(layers::request_ids))
        .with_state(state)
}

async fn not_found() -> Response {
    error::ApiError::for_status(StatusCode::NOT_FOUND).into_response()
}

async fn openapi_json() -> Response {
    wire::json(StatusCode::OK, &openapi::ApiDoc::openapi())
}

/// The OpenAPI document as the server publishes it.
pub fn openapi_document() -> serde_json::Value {
    serde_json::to_value(openapi::ApiDoc::openapi()).unwrap_or_default()
}

/// Serves until `stop` completes; trailing slashes are accepted on every path.
pub async fn serve(
    listener: TcpListener,
    roster: Roster,
    timeouts: Timeouts,
    stop: impl Future<Output = ()>,
) {
    let app = NormalizePathLayer::trim_trailing_slash().layer(app(roster, timeouts));
    serve::run(listener, app, timeouts, stop).await;
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
