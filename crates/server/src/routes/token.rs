//! `POST /oauth2/token`: the OAuth 2.0 token endpoint: the password grant (a user alone, or
//! App+User with `client_id`), the client credentials grant (App-only) and refresh tokens.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use roster_domain::password::Password;
use roster_service::sign_in::{Client, SignInError};
use roster_service::ServiceError;

use crate::error::{ApiError, FaultBody};
use crate::serve::ClientAddr;
use crate::wire::{json, OAuthError, PasswordChangeRequest, TokenRequest, TokenResponse};
use crate::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The token endpoint and the password change: no access token.
pub fn public_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(token))
        .routes(routes!(change_password))
}

/// RFC 6749 §5.1: a response that may carry a token must not be cached.
fn no_store(mut r: Response) -> Response {
    let headers = r.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

fn oauth_error(status: StatusCode, error: &str, description: impl Into<String>) -> Response {
    let mut r = json(
        status,
        &OAuthError {
            error: error.into(),
            error_description: description.into(),
        },
    );
    r.extensions_mut().insert(FaultBody);
    no_store(r)
}

#[utoipa::path(post, path = "/oauth2/token", tag = "sign-in", security(()),
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 400, description = "invalid_request, invalid_grant (wrong user name or password, or locked out), unsupported_grant_type, password_change_required", body = OAuthError),
        (status = 401, description = "invalid_client: an unknown client id or a wrong client secret", body = OAuthError),
    ))]
pub async fn token(
    State(app): State<AppState>,
    client_addr: Option<Extension<ClientAddr>>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let source = client_addr.map(|Extension(ClientAddr(ip))| ip);
    let Ok(fields) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Send the request as application/x-www-form-urlencoded.",
        );
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    // RFC 6749 §2.3.1: client credentials in the body or as HTTP Basic authentication.
    let basic = basic_credentials(&headers);
    let client_id = basic
        .as_ref()
        .map(|(id, _)| id.as_str())
        .or_else(|| field("client_id"));
    let client_secret = basic
        .as_ref()
        .map(|(_, secret)| secret.as_str())
        .or_else(|| field("client_secret"));
    let outcome = match field("grant_type") {
        Some("password") => {
            let (Some(username), Some(password)) = (field("username"), field("password")) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "username and password are required.",
                );
            };
            let client = client_id.map(|id| Client {
                id,
                secret: client_secret,
            });
            app.roster
                .sign_in_with_password(username, &Password::new(password), client, source)
                .await
        }
        Some("client_credentials") => {
            let (Some(id), Some(secret)) = (client_id, client_secret) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "client_id and client_secret are required.",
                );
            };
            app.roster.sign_in_as_application(id, secret).await
        }
        Some("refresh_token") => {
            let Some(token) = field("refresh_token") else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "refresh_token is required.",
                );
            };
            app.roster.refresh(token).await
        }
        Some(other) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("grant_type '{other}' is not supported: use password, client_credentials or refresh_token"),
            )
        }
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type is required.",
            )
        }
    };
    match outcome {
        Ok(grant) => no_store(json(
            StatusCode::OK,
            &TokenResponse {
                access_token: grant.access_token,
                token_type: "Bearer".into(),
                expires_in: grant.expires_in,
                refresh_token: grant.refresh_token,
            },
        )),
        Err(e @ SignInError::InvalidGrant) => {
            oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", e.to_string())
        }
        Err(e @ SignInError::InvalidClient) => {
            oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", e.to_string())
        }
        Err(e @ SignInError::PasswordChangeRequired) => oauth_error(
            StatusCode::BAD_REQUEST,
            "password_change_required",
            e.to_string(),
        ),
        Err(e @ SignInError::TooLong) => {
            oauth_error(StatusCode::BAD_REQUEST, "invalid_request", e.to_string())
        }
        Err(SignInError::Service(e @ ServiceError::RateLimited(_))) => {
            no_store(ApiError::from_service(e, "(sign-in)").into_response())
        }
        Err(SignInError::Service(ServiceError::Unavailable {
            reason,
            retry_after,
        })) => {
            let mut r = oauth_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                reason,
            );
            r.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after.seconds()),
            );
            r
        }
        Err(SignInError::Service(e)) => {
            tracing::error!(error = %e, "sign-in failed");
            oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "Sign-in failed unexpectedly; try again.",
            )
        }
    }
}

/// `Authorization: Basic` client credentials (form-encoded id and secret, RFC 6749 §2.3.1).
fn basic_credentials(headers: &axum::http::HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
            .ok()
            .and_then(|mut v| v.pop())
            .map(|(_, v)| v)
    };
    Some((unescape(id)?, unescape(secret)?))
}

#[utoipa::path(post, path = "/v1/passwordchange", tag = "sign-in", security(()),
    request_body = PasswordChangeRequest,
    responses(
        (status = 204, description = "Changed; every session of the user ended"),
        (status = 400, description = "3000: a wrong user name or current password (one answer for both, and locked accounts), or a new password the policy refuses", body = crate::error::ApiFault),
    ))]
pub async fn change_password(
    State(app): State<AppState>,
    client_addr: Option<Extension<ClientAddr>>,
    crate::json::Body(req): crate::json::Body<PasswordChangeRequest>,
) -> Result<Response, crate::error::ApiError> {
    let ids = "(password change)";
    let result = app
        .roster
        .change_password(
            req.user_principal_name.as_deref().unwrap_or(""),
            &Password::new(req.current_password.unwrap_or_default()),
            req.new_password.as_deref().unwrap_or(""),
            client_addr.map(|Extension(ClientAddr(ip))| ip),
        )
        .await;
    match result {
        Ok(()) => Ok(axum::response::IntoResponse::into_response(
            StatusCode::NO_CONTENT,
        )),
        Err(SignInError::Service(e)) => Err(crate::error::ApiError::from_service(e, ids)),
        Err(other) => Err(crate::error::ApiError::invalid(
            "currentPassword",
            other.to_string(),
        )),
    }
}
