//! `TestApp`: a real Roster server on 127.0.0.1:0 over a real SQLite file in a temporary
//! directory, with an injected clock that tests move by hand.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use reqwest::{Method, RequestBuilder, StatusCode};
use roster_domain::{Duration, Timestamp};
use roster_server::Timeouts;
use roster_service::startup::{self, Options};
use roster_service::{HashCost, ManualClock, Roster, Settings};
use serde_json::{json, Value};
use tokio::sync::watch;

/// The database a test runs on. Every test runs on both: SQLite always, PostgreSQL when
/// `ROSTER_TEST_POSTGRES_URL` names a server where it may create databases.
#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    /// The URL of a database to connect to for creating a fresh database per test.
    Postgres(String),
}

tokio::task_local! {
    pub static BACKEND: Backend;
}

impl Backend {
    /// PostgreSQL, or `None` (with a visible message) when no server is configured. In CI the
    /// PostgreSQL half must never be skipped.
    pub fn postgres() -> Option<Backend> {
        roster_store::testing::postgres_for_tests().map(Backend::Postgres)
    }

    fn current() -> Backend {
        BACKEND.try_with(Clone::clone).unwrap_or(Backend::Sqlite)
    }
}

/// Runs each named `async fn` as two tests, `name::sqlite` and `name::postgres`, one on each
/// backend: `on_both_backends!(name)`, or with the test attribute to use,
/// `on_both_backends!(#[tokio::test(flavor = "multi_thread", worker_threads = 4)] name)`.
/// The functions are ordinary ones, so rustfmt formats them.
macro_rules! on_both_backends {
    (@one #[$test:meta] $name:ident) => {
        mod $name {
            #[$test]
            async fn sqlite() {
                $crate::common::BACKEND
                    .scope($crate::common::Backend::Sqlite, super::$name())
                    .await
            }

            #[$test]
            async fn postgres() {
                let Some(backend) = $crate::common::Backend::postgres() else {
                    return;
                };
                $crate::common::BACKEND.scope(backend, super::$name()).await
            }
        }
    };
    (@one $name:ident) => {
        on_both_backends!(@one #[tokio::test] $name);
    };
    ($($(#[$test:meta])? $name:ident),+ $(,)?) => {
        $(on_both_backends!(@one $(#[$test])? $name);)+
    };
}

pub const ADMIN: &str = "admin@partner.local";
pub const ADMIN_PASSWORD: &str = "Correct-Horse-42-Battery";
/// A password that meets the policy, for users that tests create.
pub const GOOD_PASSWORD: &str = "Renew456*Zq9";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub roster: Roster,
    pub token: String,
    pub dir: tempfile::TempDir,
    /// The PostgreSQL database of this test (`None` on SQLite).
    pub database_url: Option<String>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

pub struct Builder {
    pub settings: Settings,
    pub timeouts: Timeouts,
    /// Who may read `/metrics` (off, as by default).
    pub metrics: roster_server::metrics::MetricsAccess,
    pub purge_interval: StdDuration,
    /// Open this data directory and database (from [`TestApp::fresh_data`]) instead of
    /// fresh ones.
    pub existing: Option<(tempfile::TempDir, Option<String>)>,
}

impl Default for Builder {
    fn default() -> Self {
        Self {
            settings: Settings {
                hash_cost: HashCost::TEST,
                // Every test signs in from 127.0.0.1, many times a minute; the limits have
                // tests of their own (limits.rs).
                limits: roster_service::limits::Limits {
                    sign_in_per_minute_per_address: 0,
                    ..Default::default()
                },
                ..Settings::default()
            },
            timeouts: Timeouts::default(),
            metrics: Default::default(),
            purge_interval: StdDuration::from_millis(50),
            existing: None,
        }
    }
}

impl TestApp {
    pub async fn start() -> Self {
        Self::start_with(Builder::default()).await
    }

    /// A new data directory and database on the test's backend (`None`: SQLite in the
    /// directory).
    pub async fn fresh_data() -> (tempfile::TempDir, Option<String>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = match Backend::current() {
            Backend::Sqlite => None,
            Backend::Postgres(admin) => Some(
                roster_store::testing::fresh_postgres_database(&admin)
                    .await
                    .expect("a fresh PostgreSQL database"),
            ),
        };
        (dir, database_url)
    }

    pub async fn start_with(mut b: Builder) -> Self {
        let (dir, database_url) = match b.existing.take() {
            Some(existing) => existing,
            None => Self::fresh_data().await,
        };
        let clock = Arc::new(ManualClock::new(
            Timestamp::parse_rfc3339("2026-01-05T09:00:00Z").unwrap(),
        ));
        let opened = startup::open(Options {
            data_dir: dir.path().to_path_buf(),
            database_url: database_url.clone(),
            partner_domain: "partner.local".into(),
            bootstrap_password: Some(ADMIN_PASSWORD.into()),
            settings: b.settings,
            clock: clock.clone(),
        })
        .await
        .unwrap_or_else(|e| panic!("open: {e:?}"));
        let listener = roster_server::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, rx) = watch::channel(false);
        let stopped = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let tasks = vec![
            tokio::spawn(roster_server::serve_with(
                listener,
                opened.roster.clone(),
                roster_server::ServeOptions {
                    timeouts: b.timeouts,
                    metrics: b.metrics,
                    tls: None,
                },
                axum::Router::new(),
                stopped(rx.clone()),
            )),
            tokio::spawn(roster_server::maintenance_loop(
                opened.roster.clone(),
                b.purge_interval,
                stopped(rx),
            )),
        ];
        let client = reqwest::Client::new();
        let mut app = TestApp {
            base,
            client,
            clock,
            roster: opened.roster,
            token: String::new(),
            dir,
            database_url,
            stop,
            tasks,
        };
        app.token = app
            .sign_in(ADMIN, ADMIN_PASSWORD)
            .await
            .expect("admin signs in");
        app
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The password grant; `Err` carries the status and body.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
    ) -> Result<String, (StatusCode, Value)> {
        let r = password_grant(self, &self.client, username, password).await;
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        if status == StatusCode::OK {
            Ok(body["access_token"].as_str().unwrap().to_string())
        } else {
            Err((status, body))
        }
    }

    /// A request with the admin's token.
    pub fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(&self.token)
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut r = self.req(method, path);
        if let Some(b) = body {
            r = r.json(&b);
        }
        into_parts(r.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, Some(body)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::PATCH, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::DELETE, path, None).await
    }

    /// A new customer; returns its id.
    pub async fn customer(&self, domain: &str) -> String {
        let (status, body) = self
            .post("/v1/customers", json!({"companyProfile": {"domain": domain, "companyName": format!("Company {domain}")}}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_string()
    }

    /// A new user of `customer` with the given UPN and display name; returns its body.
    pub async fn user(&self, customer: &str, upn: &str, display_name: &str) -> Value {
        let (status, body) = self
            .post(
                &format!("/v1/customers/{customer}/users"),
                json!({"userPrincipalName": upn, "displayName": display_name, "passwordProfile": {"password": GOOD_PASSWORD}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// Moves the clock, and signs in again (the old token may have expired meanwhile).
    pub async fn advance(&mut self, by: Duration) {
        self.clock.advance(by);
        self.token = self
            .sign_in(ADMIN, ADMIN_PASSWORD)
            .await
            .expect("admin signs in");
    }
}

impl TestApp {
    /// Asks the server to stop, as SIGTERM does in the binary.
    pub fn request_stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Waits until the server and the purge job have stopped.
    pub async fn stopped(&mut self) {
        for t in self.tasks.drain(..) {
            t.await.unwrap();
        }
    }
}

impl TestApp {
    /// Everything the database holds, as bytes: the SQLite file and its write-ahead log, or
    /// every row of every table on PostgreSQL. For "no secret is stored" checks.
    pub async fn stored_bytes(&self) -> Vec<u8> {
        match &self.database_url {
            None => {
                let mut bytes = std::fs::read(self.dir.path().join("roster.db")).unwrap();
                bytes.extend(
                    std::fs::read(self.dir.path().join("roster.db-wal")).unwrap_or_default(),
                );
                bytes
            }
            Some(url) => {
                use sqlx::{Connection, Row};
                sqlx::any::install_default_drivers();
                let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
                let tables: Vec<String> = sqlx::query(
                    "SELECT table_name::text AS t FROM information_schema.tables WHERE table_schema = 'public'",
                )
                .fetch_all(&mut conn)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<String, _>("t"))
                .collect();
                let mut bytes = Vec::new();
                for table in tables {
                    let rows = sqlx::query(&format!("SELECT CAST(t AS TEXT) AS r FROM {table} t"))
                        .fetch_all(&mut conn)
                        .await
                        .unwrap();
                    for row in rows {
                        bytes.extend(row.get::<String, _>("r").into_bytes());
                    }
                }
                bytes
            }
        }
    }
}

impl TestApp {
    /// Every audit record of the partner, oldest first.
    pub async fn audit_records(&self) -> Vec<roster_domain::audit::AuditRecord> {
        self.roster
            .store()
            .read_job(|db| {
                let partner = db.first_partner()?.unwrap().0;
                db.audit_records(
                    partner,
                    Timestamp::from_unix_millis(0),
                    Timestamp::from_unix_millis(i64::MAX),
                    100_000,
                )
            })
            .await
            .unwrap()
    }

    /// How many audit records there are.
    pub async fn audit_count(&self) -> u64 {
        self.roster
            .store()
            .read_job(|db| db.count_audit_records())
            .await
            .unwrap()
    }

    /// The operation types of every audit record, oldest first.
    pub async fn audit_operations(&self) -> Vec<String> {
        self.audit_records()
            .await
            .iter()
            .map(|r| r.operation.as_str().to_string())
            .collect()
    }
}

/// The id of the bootstrap administrator in a list of partner users.
pub fn admin_id(list: &Value) -> String {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["userPrincipalName"] == ADMIN)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The password of the partner users that [`member`] creates.
pub const MEMBER_PASSWORD: &str = "Tq7#vLm2xR-member";

/// Creates a partner account user `alias@partner.local` with this access (`{"roles": [..]}`
/// or `{"customPermissions": {..}}`, or more properties) and [`MEMBER_PASSWORD`]; its body.
pub async fn member(app: &TestApp, alias: &str, access: Value) -> Value {
    let mut body = json!({
        "userPrincipalName": format!("{alias}@partner.local"),
        "firstName": alias,
        "lastName": "Tester",
        "passwordProfile": {"password": MEMBER_PASSWORD, "forceChangePassword": false}
    });
    for (k, v) in access.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (s, b) = app.post("/v1/users", body).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b
}

/// An access token of the partner user `alias` that [`member`] created.
pub async fn as_member(app: &TestApp, alias: &str) -> String {
    app.sign_in(&format!("{alias}@partner.local"), MEMBER_PASSWORD)
        .await
        .expect("signs in")
}

/// Registers an application and returns an App-only token of it (client credentials).
pub async fn app_only_token(app: &TestApp) -> String {
    let (s, b) = app
        .post("/v1/applications", json!({"displayName": "A script"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let r = app
        .client
        .post(app.url("/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", b["clientId"].as_str().unwrap()),
            ("client_secret", b["clientSecret"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    let (s, t) = into_parts(r).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    t["access_token"].as_str().unwrap().to_string()
}

/// Sends every request at the same moment (on tasks of their own, released together) and
/// returns the answers in the order given.
pub async fn all_at_once(requests: Vec<RequestBuilder>) -> Vec<(StatusCode, Value)> {
    let barrier = Arc::new(tokio::sync::Barrier::new(requests.len()));
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                into_parts(request.send().await.unwrap()).await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    answers
}

/// Whether `haystack` contains `needle`.
pub fn contains_bytes(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

impl Drop for TestApp {
    /// Stops the server and the purge job with the test.
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

pub async fn into_parts(r: reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    let text = r.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"))
    };
    (status, body)
}

/// A request with `token` as the bearer token.
pub async fn call(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut r = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    into_parts(r.send().await.unwrap()).await
}

/// Asserts a Partner Center error body with this status and code.
#[track_caller]
pub fn assert_error(got: &(StatusCode, Value), status: StatusCode, code: u64) {
    let (s, body) = got;
    assert_eq!(*s, status, "{body}");
    assert_eq!(body["code"].as_u64(), Some(code), "{body}");
    assert!(
        body["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty() && d.len() <= 1024),
        "{body}"
    );
    assert!(body["data"].is_array(), "{body}");
    assert_eq!(body["source"], "Roster", "{body}");
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A client whose connections come from `ip` (any address of 127.0.0.0/8 reaches the
/// server on Linux).
pub fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// The password grant through `client` (whose source address the test chose).
pub async fn password_grant(
    app: &TestApp,
    client: &reqwest::Client,
    username: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(app.url("/oauth2/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

/// [`password_grant`]'s status.
pub async fn password_grant_status(
    app: &TestApp,
    client: &reqwest::Client,
    username: &str,
    password: &str,
) -> StatusCode {
    password_grant(app, client, username, password)
        .await
        .status()
}
