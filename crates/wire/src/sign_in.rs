//! The token endpoint and what resource servers fetch to verify tokens: the JWK Set and the OpenID discovery document.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Trade it at this endpoint (`grant_type=refresh_token`) for new tokens; each refresh
    /// token works once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// The token endpoint's errors (RFC 6749 §5.2).
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_grant`, `unsupported_grant_type` or `password_change_required`.
    pub error: String,
    pub error_description: String,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
pub struct Health {
    /// `ok`.
    pub status: String,
}

/// The public keys that verify access tokens (a JWK Set, RFC 7517 §5).
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
pub struct JsonWebKeySet {
    /// Every key a server on this database may have signed a still-valid token with, newest
    /// (the one that signs) first.
    pub keys: Vec<JsonWebKey>,
}

/// An Ed25519 public key (RFC 8037 §2).
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
pub struct JsonWebKey {
    /// `OKP`.
    pub kty: String,
    /// `Ed25519`.
    pub crv: String,
    /// The public key, base64url without padding (32 bytes).
    pub x: String,
    /// The `kid` header of the tokens this key verifies.
    pub kid: String,
    /// `sig`.
    #[serde(rename = "use")]
    pub use_: String,
    /// `EdDSA`.
    pub alg: String,
}

impl JsonWebKey {
    /// The JWK of an Ed25519 public key that signs tokens named `kid`.
    pub fn ed25519(kid: &str, public_key: &[u8]) -> Self {
        use base64::Engine;
        Self {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(public_key),
            kid: kid.into(),
            use_: "sig".into(),
            alg: "EdDSA".into(),
        }
    }
}

/// Where a client finds the token endpoint and the keys (OpenID Connect Discovery 1.0 §3,
/// RFC 8414). Roster issues access tokens only: no authorization endpoint, no ID tokens.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
pub struct OpenIdConfiguration {
    /// The `iss` of every access token: the server's public URL.
    pub issuer: String,
    /// `POST` here for tokens: `{issuer}/oauth2/token`.
    pub token_endpoint: String,
    /// The public keys: `{issuer}/.well-known/jwks.json`.
    pub jwks_uri: String,
    /// `password`, `client_credentials`, `refresh_token`.
    pub grant_types_supported: Vec<String>,
    /// `client_secret_basic` and `client_secret_post` (an application's secret in the
    /// Authorization header or the form), `none` (a public client: `client_id` alone, with
    /// the password grant).
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// Empty: there is no authorization endpoint.
    pub response_types_supported: Vec<String>,
    /// `public`: `sub` is the user's (or application's) object id, the same for every client.
    pub subject_types_supported: Vec<String>,
    /// `EdDSA`, the algorithm of Roster's signed tokens. Roster issues no ID tokens; the
    /// property is there because OpenID Connect discovery clients require it.
    pub id_token_signing_alg_values_supported: Vec<String>,
}

/// The form fields of a token request.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
pub struct TokenRequest {
    /// `password`, `client_credentials` or `refresh_token`.
    pub grant_type: String,
    /// An application's client id: required with `client_credentials`; with `password` it
    /// makes the token App+User. May come instead as HTTP Basic authentication.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The application's secret: required with `client_credentials`; optional with
    /// `password` (a public client sends none), but checked when sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// With `password`: the user principal name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// With `password`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// With `refresh_token`: the refresh token of the last answer (each works once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// A new password for a user who knows the current one (a temporary password must be
/// changed this way before the user can sign in).
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct PasswordChangeRequest {
    pub user_principal_name: Option<String>,
    pub current_password: Option<String>,
    pub new_password: Option<String>,
}
