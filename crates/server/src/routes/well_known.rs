//! `/.well-known/…`: what a resource server needs to verify Roster's access tokens on its
//! own: the public keys (JWKS) and the discovery document that points at them.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;

use crate::wire::{json, JsonWebKey, JsonWebKeySet, OpenIdConfiguration};
use crate::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// What resource servers fetch to verify tokens: no access token.
pub fn public_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(jwks))
        .routes(routes!(openid_configuration))
}

/// How long clients and proxies may keep both documents. A rotated key signs within a
/// minute (the servers' key reload), so a consumer that holds the set longer must fetch it
/// again when it meets an unknown `kid`.
const CACHE_CONTROL: &str = "public, max-age=300";

fn cacheable(mut r: Response) -> Response {
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    r
}

/// The public keys that verify access tokens: every key in use, also those being rotated
/// out, so that a token signed before a rotation still verifies.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "discovery", security(()),
    responses((status = 200, description = "The JWK Set (Ed25519 keys, alg EdDSA)", body = JsonWebKeySet,
        headers(("Cache-Control" = String, description = "public, max-age=300")))))]
pub async fn jwks(State(app): State<AppState>) -> Response {
    let ring = app.roster.keys();
    cacheable(json(
        StatusCode::OK,
        &JsonWebKeySet {
            keys: ring
                .iter()
                .map(|k| JsonWebKey::ed25519(k.id(), &k.public_key()))
                .collect(),
        },
    ))
}

/// The discovery document: the issuer, the token endpoint and the JWKS, as absolute URLs
/// under the server's public URL.
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "discovery", security(()),
    responses((status = 200, description = "The issuer's metadata", body = OpenIdConfiguration,
        headers(("Cache-Control" = String, description = "public, max-age=300")))))]
pub async fn openid_configuration(State(app): State<AppState>) -> Response {
    let issuer = app.roster.settings().issuer().to_string();
    let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
    cacheable(json(
        StatusCode::OK,
        &OpenIdConfiguration {
            token_endpoint: format!("{issuer}/oauth2/token"),
            jwks_uri: format!("{issuer}/.well-known/jwks.json"),
            issuer,
            grant_types_supported: strings(&["password", "client_credentials", "refresh_token"]),
            token_endpoint_auth_methods_supported: strings(&[
                "client_secret_basic",
                "client_secret_post",
                "none",
            ]),
            response_types_supported: Vec::new(),
            subject_types_supported: strings(&["public"]),
            id_token_signing_alg_values_supported: strings(&[
                roster_service::tokens::JWT_ALGORITHM,
            ]),
        },
    ))
}
