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
    let Some(form) = TokenForm::parse(&headers, &body) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Send the request as application/x-www-form-urlencoded.",
        );
    };
    let field = |name: &str| form.field(name);
    let client_id = form.client_id();
    let client_secret = form.client_secret();
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

/// What a token request says: the fields of its form body, and the client credentials of
/// its `Authorization: Basic` header.
#[derive(Debug)]
struct TokenForm {
    fields: Vec<(String, String)>,
    basic: Option<(String, String)>,
}

impl TokenForm {
    /// `None` when the body is not a form.
    fn parse(headers: &axum::http::HeaderMap, body: &[u8]) -> Option<Self> {
        let fields = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).ok()?;
        Some(Self {
            fields,
            basic: basic_credentials(headers),
        })
    }

    /// The first field of this name.
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    // RFC 6749 §2.3.1: client credentials in the body or as HTTP Basic authentication.
    fn client_id(&self) -> Option<&str> {
        self.basic
            .as_ref()
            .map(|(id, _)| id.as_str())
            .or_else(|| self.field("client_id"))
    }

    fn client_secret(&self) -> Option<&str> {
        self.basic
            .as_ref()
            .map(|(_, secret)| secret.as_str())
            .or_else(|| self.field("client_secret"))
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
    // One value, decoded as a form field's: a `&` in it is its own, not a separator.
    let unescape = |s: &str| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={}", s.replace('&', "%26")))
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

#[cfg(test)]
mod properties {
    use super::*;
    use axum::http::HeaderMap;
    use base64::Engine;
    use proptest::prelude::*;

    /// `s` form-encoded (application/x-www-form-urlencoded) as clients differ in doing it:
    /// safe bytes as they are or escaped, a space as `+` or `%20`, hex digits in either case.
    fn form_encode(s: &str, literal: &[bool], lower_hex: bool) -> String {
        let mut out = String::new();
        for (i, b) in s.bytes().enumerate() {
            let keep = literal
                .get(i % literal.len().max(1))
                .copied()
                .unwrap_or(true);
            if keep && (b.is_ascii_alphanumeric() || b"-._*".contains(&b)) {
                out.push(char::from(b));
            } else if keep && b == b' ' {
                out.push('+');
            } else if lower_hex {
                out.push_str(&format!("%{b:02x}"));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }

    fn basic(scheme: &str, user: &str, password: &str) -> HeaderMap {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&format!("{scheme} {encoded}")) {
            headers.insert(header::AUTHORIZATION, v);
        }
        headers
    }

    const NAMES: [&str; 7] = [
        "grant_type",
        "username",
        "password",
        "client_id",
        "client_secret",
        "refresh_token",
        "scope",
    ];

    #[test]
    fn an_ampersand_in_basic_credentials_is_their_own() {
        // Found by `basic_credentials_sent_as_they_are_come_back_as_they_are`: the value was
        // decoded as a form of its own, so `&` split it and only the last piece was kept
        // ("junk&secret" read as "secret").
        let form = TokenForm::parse(&basic("Basic", "", "&"), b"").unwrap();
        assert_eq!(form.client_secret(), Some("&"));
        let form = TokenForm::parse(&basic("Basic", "app&x=1", "junk&secret"), b"").unwrap();
        assert_eq!(form.client_id(), Some("app&x=1"));
        assert_eq!(form.client_secret(), Some("junk&secret"));
    }

    proptest! {
        /// Whatever the body and the `Authorization` header, reading the form answers, and
        /// the client is the header's when it has Basic credentials, else the body's.
        #[test]
        fn any_body_and_authorization_never_panic(
            body in prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..300),
                "[a-z_=&%+0-9A-F]{0,80}".prop_map(String::into_bytes),
            ],
            authorization in prop_oneof![
                "[ -~]{0,80}",
                "(Basic|basic|BASIC|Bearer) {1,2}[A-Za-z0-9+/=]{0,40}",
            ],
        ) {
            let mut headers = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(&authorization) {
                headers.insert(header::AUTHORIZATION, v);
            }
            if let Some(form) = TokenForm::parse(&headers, &body) {
                match &form.basic {
                    Some((id, secret)) => {
                        prop_assert_eq!(form.client_id(), Some(id.as_str()));
                        prop_assert_eq!(form.client_secret(), Some(secret.as_str()));
                    }
                    None => {
                        prop_assert_eq!(form.client_id(), form.field("client_id"));
                        prop_assert_eq!(form.client_secret(), form.field("client_secret"));
                    }
                }
            }
        }

        /// The fields, whatever their text, in any order and however form-encoded, parse to
        /// the values given; a field given again later does not replace the first.
        #[test]
        fn fields_in_any_order_and_encoding_parse_to_their_values(
            values in proptest::collection::vec(any::<String>(), NAMES.len()),
            present in proptest::collection::vec(any::<bool>(), NAMES.len()),
            literal in proptest::collection::vec(any::<bool>(), 1..8),
            lower_hex in any::<bool>(),
            order in Just((0..NAMES.len()).collect::<Vec<_>>()).prop_shuffle(),
            again in 0..NAMES.len(),
        ) {
            let mut pairs: Vec<String> = order
                .iter()
                .filter(|i| present[**i])
                .map(|i| format!("{}={}", NAMES[*i], form_encode(&values[*i], &literal, lower_hex)))
                .collect();
            pairs.push(format!("{}=later", NAMES[again]));
            let body = pairs.join("&");
            let form = TokenForm::parse(&HeaderMap::new(), body.as_bytes())
                .ok_or_else(|| TestCaseError::fail(format!("{body} is not a form")))?;
            for (i, name) in NAMES.iter().enumerate() {
                let want = if present[i] {
                    Some(values[i].as_str())
                } else if i == again {
                    Some("later")
                } else {
                    None
                };
                prop_assert_eq!(form.field(name), want, "{} in {}", name, body);
            }
            prop_assert_eq!(form.client_id(), form.field("client_id"));
            prop_assert_eq!(form.client_secret(), form.field("client_secret"));
        }

        /// Basic credentials form-encoded as RFC 6749 §2.3.1 says (any text, `:` in either)
        /// come back as they were, under any casing of the scheme, before the body's.
        #[test]
        fn basic_credentials_encoded_per_rfc_6749_round_trip(
            id in any::<String>(),
            secret in any::<String>(),
            literal in proptest::collection::vec(any::<bool>(), 1..8),
            lower_hex in any::<bool>(),
            scheme in "[Bb][Aa][Ss][Ii][Cc]",
            body_id in "[a-z0-9-]{0,36}",
        ) {
            let headers = basic(
                &scheme,
                &form_encode(&id, &literal, lower_hex),
                &form_encode(&secret, &literal, lower_hex),
            );
            let body = format!("grant_type=client_credentials&client_id={body_id}&client_secret=body");
            let form = TokenForm::parse(&headers, body.as_bytes())
                .ok_or_else(|| TestCaseError::fail("not a form"))?;
            prop_assert_eq!(form.client_id(), Some(id.as_str()));
            prop_assert_eq!(form.client_secret(), Some(secret.as_str()));
        }

        /// Basic credentials sent without form-encoding come back as they were when they
        /// hold nothing that encoding gives a meaning to (`%` and `+`; `:` in the id).
        #[test]
        fn basic_credentials_sent_as_they_are_come_back_as_they_are(
            id in "[^:%+]{0,30}",
            secret in "[^%+]{0,30}",
        ) {
            let form = TokenForm::parse(&basic("Basic", &id, &secret), b"grant_type=client_credentials")
                .ok_or_else(|| TestCaseError::fail("not a form"))?;
            prop_assert_eq!(form.client_id(), Some(id.as_str()));
            prop_assert_eq!(form.client_secret(), Some(secret.as_str()));
        }
    }
}
