//! Signing in, the access token and its refresh, and every request's way: its ids, its
//! retries and their back-off.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::header::{HeaderValue, AUTHORIZATION, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use roster_wire::TokenResponse;
use tokio::sync::Mutex;

use crate::error::{Error, Result};

/// How to sign in.
#[derive(Clone)]
pub enum Credentials {
    /// A user with its password (App+User when `client_id` is given).
    Password {
        /// The user principal name.
        username: String,
        /// The user's password.
        password: String,
        /// The application a user signs in through (App+User), if any.
        client_id: Option<String>,
    },
    /// An application alone (App-only), with its client secret.
    Application {
        /// The application's id.
        client_id: String,
        /// The application's secret.
        client_secret: String,
    },
    /// An access token obtained elsewhere (it is used until it expires, never refreshed).
    Token(String),
    /// A refresh token kept from an earlier sign-in (the CLI's stored login): traded for an
    /// access token, and replaced by the new one it comes with ([`Partner::refresh_token`]).
    Refresh(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Password {
                username,
                client_id,
                ..
            } => f
                .debug_struct("Password")
                .field("username", username)
                .field("client_id", client_id)
                .finish_non_exhaustive(),
            Self::Application { client_id, .. } => f
                .debug_struct("Application")
                .field("client_id", client_id)
                .finish_non_exhaustive(),
            Self::Token(_) => f.write_str("Token(<redacted>)"),
            Self::Refresh(_) => f.write_str("Refresh(<redacted>)"),
        }
    }
}

impl Credentials {
    /// A user with its password.
    pub fn password(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self::Password {
            username: username.into(),
            password: password.into(),
            client_id: None,
        }
    }
    /// A user signing in through an application (App+User).
    pub fn app_user(
        client_id: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        Self::Password {
            username: username.into(),
            password: password.into(),
            client_id: Some(client_id.into()),
        }
    }
    /// An application alone (App-only).
    pub fn application(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self::Application {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
        }
    }
    /// A token obtained elsewhere.
    pub fn token(token: impl Into<String>) -> Self {
        Self::Token(token.into())
    }
    /// A refresh token kept from an earlier sign-in.
    pub fn refresh(token: impl Into<String>) -> Self {
        Self::Refresh(token.into())
    }
}

/// How often and how patiently a request is tried again.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Tries in all, the first included (1: never retry).
    pub attempts: u32,
    /// The first wait; each next one doubles, with jitter, up to `max_delay`.
    pub base_delay: Duration,
    /// The longest wait between two tries.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The wait before try `n + 1` (after `n` failed): exponential, with full jitter in its
    /// upper half, so that many clients do not come back at once.
    fn delay(&self, n: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(n.saturating_sub(1)));
        let capped = exp.min(self.max_delay);
        let jitter = rand::thread_rng().gen_range(0.5..=1.0);
        capped.mul_f64(jitter)
    }
}

struct Tokens {
    access: String,
    refresh: Option<String>,
    /// When to get a new one (a minute before it expires).
    renew_at: Option<Instant>,
}

struct Inner {
    http: reqwest::Client,
    base: String,
    credentials: Credentials,
    retry: RetryPolicy,
    tokens: Mutex<Tokens>,
}

/// A signed-in connection to a Roster server: cheap to clone, shared by every call.
#[derive(Clone)]
pub struct Partner {
    inner: Arc<Inner>,
    correlation_id: Option<String>,
}

impl std::fmt::Debug for Partner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Partner")
            .field("base", &self.inner.base)
            .finish_non_exhaustive()
    }
}

/// Settings of a connection before it signs in.
#[derive(Debug)]
pub struct PartnerBuilder {
    base: String,
    retry: RetryPolicy,
    timeout: Duration,
}

impl PartnerBuilder {
    /// How often and how patiently to try again (default: 4 tries, 250 ms doubling to 10 s).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
    /// How long one try may take (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// Signs in.
    pub async fn connect(self, credentials: Credentials) -> Result<Partner> {
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .user_agent(concat!("roster-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::transport(&e, "", ""))?;
        let partner = Partner {
            inner: Arc::new(Inner {
                http,
                base: self.base,
                credentials,
                retry: self.retry,
                tokens: Mutex::new(Tokens {
                    access: String::new(),
                    refresh: None,
                    renew_at: Some(Instant::now()),
                }),
            }),
            correlation_id: None,
        };
        partner.fresh_token(false).await?;
        Ok(partner)
    }
}

/// What a call sends.
pub(crate) struct Call {
    pub(crate) method: Method,
    /// From the server's root: `/v1/customers`.
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Option<(&'static str, Vec<u8>)>,
    pub(crate) headers: Vec<(&'static str, String)>,
}

impl Call {
    pub(crate) fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            headers: Vec::new(),
        }
    }
    pub(crate) fn json(mut self, body: &impl serde::Serialize) -> Result<Self> {
        let bytes = serde_json::to_vec(body).map_err(Error::decode)?;
        self.body = Some(("application/json", bytes));
        Ok(self)
    }
    pub(crate) fn query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.to_string(), value.into()));
        self
    }
    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// An answer with a success status.
pub(crate) struct Answer {
    pub(crate) body: Vec<u8>,
}

impl Answer {
    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(Error::decode)
    }
}

fn retryable(status: StatusCode) -> bool {
    status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
}

impl Partner {
    /// A connection with default settings that signs in with `credentials`.
    pub async fn connect(base_url: &str, credentials: Credentials) -> Result<Self> {
        Self::builder(base_url).connect(credentials).await
    }

    /// Settings before signing in: retries, time-out.
    pub fn builder(base_url: &str) -> PartnerBuilder {
        PartnerBuilder {
            base: base_url.trim_end_matches('/').to_string(),
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(60),
        }
    }

    /// The same connection, sending this `MS-CorrelationId` on every call it makes (calls
    /// made through it belong together in the server's logs and audit records).
    pub fn with_correlation_id(&self, id: impl Into<String>) -> Self {
        Self {
            inner: self.inner.clone(),
            correlation_id: Some(id.into()),
        }
    }

    /// The server's address.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// The current access token (signing in again or refreshing when it is due).
    pub async fn access_token(&self) -> Result<String> {
        self.fresh_token(false).await
    }

    /// The refresh token of the latest sign-in or refresh (each works once: keep the latest
    /// to sign in again later with [`Credentials::refresh`]).
    pub async fn refresh_token(&self) -> Option<String> {
        self.inner.tokens.lock().await.refresh.clone()
    }

    /// The access token, a new one when it is due or when `force`d (after a 401).
    async fn fresh_token(&self, force: bool) -> Result<String> {
        let mut tokens = self.inner.tokens.lock().await;
        let due = tokens.renew_at.is_some_and(|t| Instant::now() >= t);
        if !force && !due && !tokens.access.is_empty() {
            return Ok(tokens.access.clone());
        }
        let form: Vec<(&str, String)> = match (&self.inner.credentials, tokens.refresh.take()) {
            (Credentials::Token(t), _) => {
                tokens.access = t.clone();
                tokens.renew_at = None;
                return Ok(t.clone());
            }
            (Credentials::Refresh(first), None) => vec![
                ("grant_type", "refresh_token".to_string()),
                ("refresh_token", first.clone()),
            ],
            (Credentials::Refresh(_), Some(refresh)) => vec![
                ("grant_type", "refresh_token".to_string()),
                ("refresh_token", refresh),
            ],
            (Credentials::Password { client_id, .. }, Some(refresh)) => {
                let mut f = vec![
                    ("grant_type", "refresh_token".to_string()),
                    ("refresh_token", refresh),
                ];
                if let Some(c) = client_id {
                    f.push(("client_id", c.clone()));
                }
                f
            }
            (
                Credentials::Password {
                    username,
                    password,
                    client_id,
                },
                None,
            ) => {
                let mut f = vec![
                    ("grant_type", "password".to_string()),
                    ("username", username.clone()),
                    ("password", password.clone()),
                ];
                if let Some(c) = client_id {
                    f.push(("client_id", c.clone()));
                }
                f
            }
            (
                Credentials::Application {
                    client_id,
                    client_secret,
                },
                _,
            ) => vec![
                ("grant_type", "client_credentials".to_string()),
                ("client_id", client_id.clone()),
                ("client_secret", client_secret.clone()),
            ],
        };
        let grant = match self.token_request(&form).await {
            Ok(g) => g,
            // A refresh token that no longer works: sign in again with the password.
            Err(e)
                if form[0].1 == "refresh_token"
                    && matches!(self.inner.credentials, Credentials::Password { .. }) =>
            {
                drop(e);
                let Credentials::Password {
                    username,
                    password,
                    client_id,
                } = &self.inner.credentials
                else {
                    return Err(Error::decode("credentials changed"));
                };
                let mut f = vec![
                    ("grant_type", "password".to_string()),
                    ("username", username.clone()),
                    ("password", password.clone()),
                ];
                if let Some(c) = client_id {
                    f.push(("client_id", c.clone()));
                }
                self.token_request(&f).await?
            }
            Err(e) => return Err(e),
        };
        let lifetime = Duration::from_secs(u64::try_from(grant.expires_in).unwrap_or(0));
        tokens.access = grant.access_token.clone();
        tokens.refresh = grant.refresh_token;
        tokens.renew_at = Some(Instant::now() + lifetime.saturating_sub(Duration::from_secs(60)));
        Ok(grant.access_token)
    }

    async fn token_request(&self, form: &[(&str, String)]) -> Result<TokenResponse> {
        let url = format!("{}/oauth2/token", self.inner.base);
        let mut tries = 0;
        loop {
            tries += 1;
            let sent = self.inner.http.post(&url).form(form).send().await;
            let r = match sent {
                Ok(r) => r,
                Err(e) if tries < self.inner.retry.attempts => {
                    drop(e);
                    tokio::time::sleep(self.inner.retry.delay(tries)).await;
                    continue;
                }
                Err(e) => return Err(Error::transport(&e, "", "")),
            };
            let status = r.status();
            if retryable(status) && tries < self.inner.retry.attempts {
                tokio::time::sleep(wait_for(&r, &self.inner.retry, tries)).await;
                continue;
            }
            let body = r.bytes().await.map_err(|e| Error::transport(&e, "", ""))?;
            if status.is_success() {
                return serde_json::from_slice(&body).map_err(Error::decode);
            }
            let description = serde_json::from_slice::<roster_wire::OAuthError>(&body)
                .map(|e| format!("{}: {}", e.error, e.error_description))
                .unwrap_or_else(|_| String::from_utf8_lossy(&body).into_owned());
            return Err(Error::sign_in(status.as_u16(), description));
        }
    }

    /// Sends a call: with the access token, an `MS-RequestId` that stays the same across
    /// the retries, and the connection's `MS-CorrelationId`; retried on connection errors,
    /// 408, 429 and 5xx, and once with a new token after a 401.
    pub(crate) async fn send(&self, call: Call) -> Result<Answer> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let correlation_id = self
            .correlation_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let url = format!("{}{}", self.inner.base, call.path);
        let mut tries = 0;
        let mut renewed = false;
        loop {
            tries += 1;
            let token = self.fresh_token(false).await?;
            let mut req = self
                .inner
                .http
                .request(call.method.clone(), &url)
                .query(&call.query)
                .header("MS-RequestId", &request_id)
                .header("MS-CorrelationId", &correlation_id);
            if !call
                .headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("accept"))
            {
                req = req.header("Accept", "application/json");
            }
            if let Ok(v) = HeaderValue::from_str(&format!("Bearer {token}")) {
                req = req.header(AUTHORIZATION, v);
            }
            for (name, value) in &call.headers {
                req = req.header(*name, value);
            }
            if let Some((content_type, bytes)) = &call.body {
                req = req
                    .header("Content-Type", *content_type)
                    .body(bytes.clone());
            }
            let r = match req.send().await {
                Ok(r) => r,
                Err(e) if tries < self.inner.retry.attempts => {
                    drop(e);
                    tokio::time::sleep(self.inner.retry.delay(tries)).await;
                    continue;
                }
                Err(e) => return Err(Error::transport(&e, &correlation_id, &request_id)),
            };
            let status = r.status();
            if status == StatusCode::UNAUTHORIZED && !renewed {
                renewed = true;
                tries -= 1;
                self.fresh_token(true).await?;
                continue;
            }
            if retryable(status) && tries < self.inner.retry.attempts {
                tokio::time::sleep(wait_for(&r, &self.inner.retry, tries)).await;
                continue;
            }
            let body = r
                .bytes()
                .await
                .map_err(|e| Error::transport(&e, &correlation_id, &request_id))?
                .to_vec();
            if status.is_success() {
                return Ok(Answer { body });
            }
            return Err(Error::of_status(
                status.as_u16(),
                &body,
                &correlation_id,
                &request_id,
            ));
        }
    }
}

/// How long to wait after a retryable answer: its `Retry-After` (seconds) when it has one,
/// within the policy's longest wait, else the back-off.
fn wait_for(r: &reqwest::Response, retry: &RetryPolicy, tries: u32) -> Duration {
    r.headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s).min(retry.max_delay))
        .unwrap_or_else(|| retry.delay(tries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_back_off_doubles_with_jitter_and_stays_bounded() {
        let p = RetryPolicy {
            attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        for n in 1..=8u32 {
            let d = p.delay(n);
            let full = (Duration::from_millis(100) * 2u32.pow(n - 1)).min(Duration::from_secs(1));
            assert!(d <= full && d >= full / 2, "try {n}: {d:?} of {full:?}");
        }
    }

    #[test]
    fn credentials_never_show_their_secrets() {
        let shown = format!(
            "{:?} {:?} {:?}",
            Credentials::password("a@b.c", "hunter2"),
            Credentials::application("id", "s3cret"),
            Credentials::token("tok")
        );
        assert!(!shown.contains("hunter2") && !shown.contains("s3cret") && !shown.contains("tok)"));
    }
}
