//! Runs the built `roster` binary: first start, health, sign-in, a few calls, SIGTERM, and
//! the refusals on a later start.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[path = "support/server.rs"]
mod server;
use server::{start, start_with, Server};

const PASSWORD: &str = "Correct-Horse-42-Battery";

async fn wait_healthy(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            if r.status() == 200 {
                assert_eq!(r.json::<Value>().await.unwrap(), json!({"status": "ok"}));
                return;
            }
        }
        assert!(Instant::now() < deadline, "/healthz never answered 200");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn token(client: &reqwest::Client, base: &str, password: &str) -> reqwest::Response {
    client
        .post(format!("{base}/oauth2/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", "admin@partner.local"),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn serve_sign_in_work_and_stop_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path(), Some(PASSWORD)).unwrap();
    assert!(
        server
            .stdout
            .iter()
            .any(|l| l.contains("admin@partner.local")),
        "{:?}",
        server.stdout
    );
    assert!(
        !server.stdout.iter().any(|l| l.contains(PASSWORD)),
        "the given password is never printed"
    );
    let client = reqwest::Client::new();
    wait_healthy(&client, &server.base).await;

    let r = token(&client, &server.base, PASSWORD).await;
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 3600);
    let bearer = t["access_token"].as_str().unwrap().to_string();

    let r = client
        .post(format!("{}/v1/customers", server.base))
        .bearer_auth(&bearer)
        .json(&json!({"companyProfile": {"domain": "contoso.onmicrosoft.com", "companyName": "Contoso"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let cid = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = client
        .post(format!("{}/v1/customers/{cid}/users/", server.base))
        .bearer_auth(&bearer)
        .json(&json!({"userPrincipalName": "ada@contoso.onmicrosoft.com", "displayName": "Ada"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = client
        .get(format!("{}/openapi.json", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["openapi"], "3.1.0");

    let status = server.terminate();
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(dir.path().join("roster.db").exists());
    assert!(
        !dir.path().join("signing.key").exists(),
        "the key lives in the database"
    );

    // A second start keeps the data and the admin as they were.
    let mut again = start(dir.path(), Some("Another-Password-99x")).unwrap();
    assert!(
        !again
            .stdout
            .iter()
            .any(|l| l.contains("set up a new partner")),
        "{:?}",
        again.stdout
    );
    wait_healthy(&client, &again.base).await;
    assert_eq!(token(&client, &again.base, PASSWORD).await.status(), 200);
    assert_eq!(
        token(&client, &again.base, "Another-Password-99x")
            .await
            .status(),
        400
    );
    assert!(again.terminate().success());
}

#[tokio::test]
async fn first_start_without_a_password_prints_a_generated_one_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path(), None).unwrap();
    let line = server
        .stdout
        .iter()
        .find(|l| l.starts_with("The administrator's password is: "))
        .unwrap_or_else(|| panic!("no password line in {:?}", server.stdout));
    let password = line
        .trim_start_matches("The administrator's password is: ")
        .to_string();
    assert_eq!(password.len(), 16);
    let client = reqwest::Client::new();
    wait_healthy(&client, &server.base).await;
    assert_eq!(token(&client, &server.base, &password).await.status(), 200);
    assert!(server.terminate().success());
    let mut again = start(dir.path(), None).unwrap();
    assert!(
        !again.stdout.iter().any(|l| l.contains("password is:")),
        "shown once: {:?}",
        again.stdout
    );
    assert!(again.terminate().success());
}

/// Runs a `roster` command other than `serve` and returns (success, stdout + stderr).
fn roster(args: &[&str], data_dir: &Path) -> (bool, String) {
    let out = Command::new("sh")
        .args([
            "-c",
            "umask 022; exec \"$0\" \"$@\"",
            env!("CARGO_BIN_EXE_roster"),
        ])
        .args(args)
        .env("ROSTER_DATA_DIR", data_dir)
        .env_remove("ROSTER_DATABASE_URL")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

async fn sqlite(dir: &Path) -> sqlx::AnyConnection {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect(&format!("sqlite://{}", dir.join("roster.db").display()))
        .await
        .unwrap()
}

#[tokio::test]
async fn refuses_data_whose_signing_key_is_missing_or_different() {
    use sqlx::Executor;
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path(), Some(PASSWORD)).unwrap();
    assert!(server.terminate().success());
    let (ok, listed) = roster(&["keys", "list"], dir.path());
    assert!(ok, "{listed}");
    let key_id = listed.split_whitespace().next().unwrap().to_string();

    // A signing.key of another database in this data directory.
    let file = dir.path().join("signing.key");
    std::fs::write(&file, "ab".repeat(32)).unwrap();
    let err = start(dir.path(), Some(PASSWORD))
        .err()
        .expect("must refuse a different key");
    assert!(err.contains("belongs to another database"), "{err}");
    std::fs::remove_file(&file).unwrap();

    // Data, but no key: refused, and nothing is made up.
    sqlite(dir.path())
        .await
        .execute("DELETE FROM signing_keys")
        .await
        .unwrap();
    let err = start(dir.path(), Some(PASSWORD))
        .err()
        .expect("must refuse a missing key");
    assert!(
        err.contains("no signing key") && err.contains("keys rotate --revoke-old"),
        "{err}"
    );
    let (ok, listed) = roster(&["keys", "list"], dir.path());
    assert!(ok && listed.trim().is_empty(), "{listed}");

    // The way out that the message names.
    let (ok, text) = roster(&["keys", "rotate", "--revoke-old"], dir.path());
    assert!(ok, "{text}");
    let mut server = start(dir.path(), Some(PASSWORD)).unwrap();
    assert!(server.terminate().success());
    let (_, listed) = roster(&["keys", "list"], dir.path());
    assert!(!listed.contains(&key_id), "{listed}");
}

#[tokio::test]
async fn a_signing_key_file_of_the_first_schema_is_imported() {
    let dir = tempfile::tempdir().unwrap();
    // Roster's first schema kept the key in the data directory.
    let secret = "0f".repeat(32);
    std::fs::write(dir.path().join("signing.key"), format!("{secret}\n")).unwrap();
    let mut server = start(dir.path(), Some(PASSWORD)).unwrap();
    assert!(server.terminate().success());
    let (ok, listed) = roster(&["keys", "list"], dir.path());
    assert!(ok, "{listed}");
    assert_eq!(listed.lines().count(), 1, "{listed}");
    // The same file on the next start is one of the database's keys: accepted.
    let mut server = start(dir.path(), Some(PASSWORD)).unwrap();
    assert!(server.terminate().success());
}

#[tokio::test]
async fn migrate_and_a_schema_newer_than_the_binary() {
    use sqlx::Executor;
    let dir = tempfile::tempdir().unwrap();
    let (ok, text) = roster(&["migrate"], dir.path());
    assert!(ok, "{text}");
    let current = format!("schema version {}", roster_store::SCHEMA_VERSION);
    assert!(text.contains(&current), "{text}");
    let (ok, text) = roster(&["migrate"], dir.path());
    assert!(
        ok && text.contains(&current),
        "migrating twice is harmless: {text}"
    );
    sqlite(dir.path())
        .await
        .execute("INSERT INTO roster_migrations (version, name) VALUES (99, 'from the future')")
        .await
        .unwrap();
    let err = start(dir.path(), Some(PASSWORD))
        .err()
        .expect("an older binary must refuse a newer schema");
    assert!(
        err.contains("schema is version 99") && err.contains("run a newer roster"),
        "{err}"
    );
    let (ok, text) = roster(&["migrate"], dir.path());
    assert!(!ok && text.contains("version 99"), "{text}");
}

/// F8 of the security review: the data directory holds the signing secrets, password hashes
/// and invitation links, so it is created 0700 and its files 0600 whatever the umask, backups
/// too; an existing directory that others may read gets a warning.
#[cfg(unix)]
#[tokio::test]
async fn the_data_directory_and_its_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("roster-data");
    let mut server = start(&dir, Some(PASSWORD)).unwrap();
    let client = reqwest::Client::new();
    wait_healthy(&client, &server.base).await;
    let bearer: Value = token(&client, &server.base, PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let r = client
        .post(format!("{}/v1/invitations", server.base))
        .bearer_auth(bearer["access_token"].as_str().unwrap())
        .json(&json!({"emails": "guest@example.com", "roles": ["Sales agent"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    assert_eq!(mode(&dir), 0o700);
    for file in ["roster.db", "roster.db-wal", "roster.db-shm"] {
        assert_eq!(mode(&dir.join(file)), 0o600, "{file}");
    }
    let outbox = dir.join("outbox");
    assert_eq!(mode(&outbox), 0o700);
    let mails: Vec<_> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    assert_eq!(mails.len(), 1);
    assert_eq!(mode(&mails[0]), 0o600);
    let copy = tmp.path().join("backup.db");
    let (ok, text) = roster(&["backup", "--to", copy.to_str().unwrap()], &dir);
    assert!(ok, "{text}");
    assert_eq!(mode(&copy), 0o600);
    assert!(server.terminate().success());
    // A directory others may read is used as it is, with a warning that says what to do.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (ok, text) = roster(&["migrate"], &dir);
    assert!(ok, "{text}");
    assert!(
        text.contains("others than its owner may read") && text.contains("chmod"),
        "{text}"
    );
    assert_eq!(mode(&dir), 0o755);
}

#[tokio::test]
async fn backup_while_serving_and_serve_the_copy() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path(), Some(PASSWORD)).unwrap();
    let client = reqwest::Client::new();
    wait_healthy(&client, &server.base).await;
    let bearer: Value = token(&client, &server.base, PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let bearer = bearer["access_token"].as_str().unwrap().to_string();
    let r = client
        .post(format!("{}/v1/customers", server.base))
        .bearer_auth(&bearer)
        .json(&json!({"companyProfile": {"domain": "contoso.onmicrosoft.com", "companyName": "Contoso"}}))
        .send()
        .await
        .unwrap();
    let cid = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut upns = Vec::new();
    for i in 0..25 {
        let upn = format!("user{i:02}@contoso.onmicrosoft.com");
        let r = client
            .post(format!("{}/v1/customers/{cid}/users", server.base))
            .bearer_auth(&bearer)
            .json(&json!({"userPrincipalName": upn, "displayName": format!("User {i}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        upns.push(upn);
    }
    // The copy is made while the server runs (and writes: one more user meanwhile).
    let copy_dir = tempfile::tempdir().unwrap();
    let copy = copy_dir.path().join("roster.db");
    let writer = {
        let (client, base, bearer, cid) = (
            client.clone(),
            server.base.clone(),
            bearer.clone(),
            cid.clone(),
        );
        tokio::spawn(async move {
            client
                .post(format!("{base}/v1/customers/{cid}/users"))
                .bearer_auth(&bearer)
                .json(&json!({"userPrincipalName": "during@contoso.onmicrosoft.com", "displayName": "During"}))
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    let (ok, text) = roster(&["backup", "--to", copy.to_str().unwrap()], dir.path());
    assert!(ok, "{text}");
    assert_eq!(writer.await.unwrap(), 201);
    let (ok, text) = roster(&["backup", "--to", copy.to_str().unwrap()], dir.path());
    assert!(!ok && text.contains("exists already"), "{text}");
    assert!(server.terminate().success());

    // A server on the copy, in a data directory of its own, finds every user.
    let mut restored = start(copy_dir.path(), None).unwrap();
    assert!(
        !restored
            .stdout
            .iter()
            .any(|l| l.contains("set up a new partner")),
        "{:?}",
        restored.stdout
    );
    wait_healthy(&client, &restored.base).await;
    let bearer: Value = token(&client, &restored.base, PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let bearer = bearer["access_token"].as_str().unwrap();
    let list: Value = client
        .get(format!(
            "{}/v1/customers/{cid}/users?size=500",
            restored.base
        ))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let found: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userPrincipalName"].as_str().unwrap())
        .collect();
    for upn in &upns {
        assert!(
            found.contains(&upn.as_str()),
            "{upn} is missing from the copy"
        );
    }
    assert!(restored.terminate().success());
}

#[test]
fn a_bad_config_is_refused_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("roster.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:0\"\nretention = \"3d\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(["serve", "--config"])
        .arg(&config)
        .env("ROSTER_DATA_DIR", dir.path().join("data"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("retention"), "{stderr}");
    let out = Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(["serve", "--purge-interval", "soon"])
        .env("ROSTER_DATA_DIR", dir.path().join("data"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a duration"));
}

// ------------------------------------------------------------------------------------------
// Several servers on one PostgreSQL database.

/// Two `roster serve` processes on one fresh PostgreSQL database, each with an empty data
/// directory of its own: the second shares nothing with the first but the database URL.
struct Cluster {
    a: Server,
    b: Server,
    url: String,
    client: reqwest::Client,
    token: String,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

async fn cluster(flags: &[&str]) -> Option<Cluster> {
    let admin = roster_store::testing::postgres_for_tests()?;
    let url = roster_store::testing::fresh_postgres_database(&admin)
        .await
        .unwrap();
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut all: Vec<&str> = vec!["--database-url", &url];
    all.extend_from_slice(flags);
    let a = start_with(da.path(), Some(PASSWORD), &all).unwrap();
    let b = start_with(db.path(), None, &all).unwrap();
    assert!(
        !b.stdout.iter().any(|l| l.contains("set up a new partner")),
        "{:?}",
        b.stdout
    );
    let client = reqwest::Client::new();
    wait_healthy(&client, &a.base).await;
    wait_healthy(&client, &b.base).await;
    let t: Value = token(&client, &a.base, PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let token = t["access_token"].as_str().unwrap().to_string();
    Some(Cluster {
        a,
        b,
        url,
        client,
        token,
        _dirs: (da, db),
    })
}

impl Cluster {
    async fn send(
        &self,
        base: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut r = self
            .client
            .request(method, format!("{base}{path}"))
            .bearer_auth(&self.token);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap()
            },
        )
    }

    async fn customer(&self) -> String {
        let (s, b) = self
            .send(&self.a.base, reqwest::Method::POST, "/v1/customers", Some(json!({"companyProfile": {"domain": "contoso.onmicrosoft.com", "companyName": "Contoso"}})), &[])
            .await;
        assert_eq!(s, 201, "{b}");
        b["id"].as_str().unwrap().to_string()
    }
}

/// F3 of the security review across servers: a burst of guesses spread over two servers on
/// one PostgreSQL still gets ten checks and one lockout, because the attempt is counted in
/// the database, under a row lock, before its password is checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_count_sign_in_attempts_together() {
    let Some(c) = cluster(&[]).await else {
        return;
    };
    let cid = c.customer().await;
    let (s, user) = c
        .send(&c.a.base, reqwest::Method::POST, &format!("/v1/customers/{cid}/users"), Some(json!({"userPrincipalName": "victim@contoso.onmicrosoft.com", "displayName": "Victim", "passwordProfile": {"password": "Renew456*Zq9", "forceChangePassword": false}})), &[])
        .await;
    assert_eq!(s, 201, "{user}");
    let guesses: Vec<_> = (0..60)
        .map(|i| {
            let base = if i % 2 == 0 { &c.a.base } else { &c.b.base };
            let request = c.client.post(format!("{base}/oauth2/token")).form(&[
                ("grant_type", "password".to_string()),
                ("username", "victim@contoso.onmicrosoft.com".to_string()),
                ("password", format!("Parallel-Guess-{i:03}-Xq!")),
            ]);
            tokio::spawn(async move { request.send().await.unwrap().status().as_u16() })
        })
        .collect();
    for g in guesses {
        assert_eq!(g.await.unwrap(), 400);
    }
    for base in [&c.a.base, &c.b.base] {
        let r = c
            .client
            .post(format!("{base}/oauth2/token"))
            .form(&[
                ("grant_type", "password"),
                ("username", "victim@contoso.onmicrosoft.com"),
                ("password", "Renew456*Zq9"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "locked on both servers");
    }
    use sqlx::{Connection, Row};
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&c.url).await.unwrap();
    let row = sqlx::query(
        "SELECT lockouts, attempts FROM sign_in_throttles WHERE subject = $1 AND source = '*'",
    )
    .bind(user["id"].as_str().unwrap())
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        (row.get::<i64, _>("lockouts"), row.get::<i64, _>("attempts")),
        (1, 10)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_share_tokens_uniqueness_idempotency_and_etags() {
    let Some(mut c) = cluster(&[]).await else {
        return;
    };
    let cid = c.customer().await;
    let users = format!("/v1/customers/{cid}/users");
    let post = reqwest::Method::POST;

    // A token from A works on B.
    let (s, _) = c
        .send(
            &c.b.base,
            reqwest::Method::GET,
            &format!("/v1/customers/{cid}"),
            None,
            &[],
        )
        .await;
    assert_eq!(s, 200);

    // Concurrent creates of one UPN on the two servers: exactly one 201, the other 60004.
    for round in 0..10 {
        let body = json!({"userPrincipalName": format!("race{round}@contoso.onmicrosoft.com"), "displayName": "Race"});
        let (ra, rb) = tokio::join!(
            c.send(&c.a.base, post.clone(), &users, Some(body.clone()), &[]),
            c.send(&c.b.base, post.clone(), &users, Some(body.clone()), &[])
        );
        let mut statuses = [ra.0, rb.0];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409], "round {round}: {ra:?} {rb:?}");
        let conflict = if ra.0 == 409 { &ra.1 } else { &rb.1 };
        assert_eq!(conflict["code"], 60004);
    }

    // A retry with the same MS-RequestId on the other server replays the first answer.
    let key = uuid::Uuid::new_v4().to_string();
    let body = json!({"userPrincipalName": "idem@contoso.onmicrosoft.com", "displayName": "Idem", "passwordProfile": {"password": "Renew456*Zq9"}});
    let first = c
        .send(
            &c.a.base,
            post.clone(),
            &users,
            Some(body.clone()),
            &[("MS-RequestId", &key)],
        )
        .await;
    assert_eq!(first.0, 201, "{}", first.1);
    let retry = c
        .send(
            &c.b.base,
            post.clone(),
            &users,
            Some(body),
            &[("MS-RequestId", &key)],
        )
        .await;
    assert_eq!(retry, first);
    let other = c
        .send(
            &c.b.base,
            post.clone(),
            &users,
            Some(json!({"userPrincipalName": "x@contoso.onmicrosoft.com", "displayName": "X"})),
            &[("MS-RequestId", &key)],
        )
        .await;
    assert_eq!((other.0, other.1["code"].clone()), (409, json!(60007)));

    // A continuation token from A continues on B.
    let (s, page) = c
        .send(
            &c.a.base,
            reqwest::Method::GET,
            &format!("{users}?size=4"),
            None,
            &[],
        )
        .await;
    assert_eq!(s, 200);
    let continuation = page["continuationToken"].as_str().unwrap().to_string();
    let (s, next) = c
        .send(
            &c.b.base,
            reqwest::Method::GET,
            &format!("{users}?seekOperation=Next"),
            None,
            &[("MS-ContinuationToken", &continuation)],
        )
        .await;
    assert_eq!(s, 200, "{next}");
    assert_eq!(next["totalCount"], 4);
    assert_ne!(next["items"][0]["id"], page["items"][0]["id"]);

    // Concurrent PATCHes with one If-Match on the two servers: one wins, the other gets 412.
    let uid = first.1["id"].as_str().unwrap().to_string();
    let path = format!("{users}/{uid}");
    for round in 0..10 {
        let (_, current) = c
            .send(&c.a.base, reqwest::Method::GET, &path, None, &[])
            .await;
        let etag = current["attributes"]["etag"].as_str().unwrap().to_string();
        let precondition = [("If-Match", etag.as_str())];
        let (ra, rb) = tokio::join!(
            c.send(
                &c.a.base,
                reqwest::Method::PATCH,
                &path,
                Some(json!({"displayName": format!("A{round}")})),
                &precondition
            ),
            c.send(
                &c.b.base,
                reqwest::Method::PATCH,
                &path,
                Some(json!({"displayName": format!("B{round}")})),
                &precondition
            )
        );
        let mut statuses = [ra.0, rb.0];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412], "round {round}: {ra:?} {rb:?}");
        let winner = if ra.0 == 200 { &ra.1 } else { &rb.1 };
        let (_, now) = c
            .send(&c.b.base, reqwest::Method::GET, &path, None, &[])
            .await;
        assert_eq!(now["displayName"], winner["displayName"]);
    }

    // A key rotated on the database reaches both servers: a token signed with the new key
    // by one is accepted by the other at once (it reads the keys again on an unknown key).
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(["keys", "rotate", "--database-url", &c.url])
        .env("ROSTER_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut restarted = start_with(dir.path(), None, &["--database-url", &c.url]).unwrap();
    wait_healthy(&c.client, &restarted.base).await;
    let t: Value = token(&c.client, &restarted.base, PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let fresh = t["access_token"].as_str().unwrap();
    let r = c
        .client
        .get(format!("{}/v1/customers/{cid}", c.b.base))
        .bearer_auth(fresh)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "B accepts a token signed with the new key");
    let (s, _) = c
        .send(
            &c.b.base,
            reqwest::Method::GET,
            &format!("/v1/customers/{cid}"),
            None,
            &[],
        )
        .await;
    assert_eq!(s, 200, "B still accepts a token signed with the old key");

    assert!(restarted.terminate().success());
    assert!(c.a.terminate().success());
    assert!(c.b.terminate().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_purge_each_user_once() {
    let Some(mut c) =
        cluster(&["--soft-delete-retention", "1s", "--purge-interval", "100ms"]).await
    else {
        return;
    };
    let cid = c.customer().await;
    let users = format!("/v1/customers/{cid}/users");
    let mut ids = Vec::new();
    for i in 0..40 {
        let body = json!({"userPrincipalName": format!("p{i:02}@contoso.onmicrosoft.com"), "displayName": format!("P{i}")});
        let (s, b) = c
            .send(&c.a.base, reqwest::Method::POST, &users, Some(body), &[])
            .await;
        assert_eq!(s, 201, "{b}");
        ids.push(b["id"].as_str().unwrap().to_string());
    }
    for (i, id) in ids.iter().enumerate() {
        let base = if i % 2 == 0 { &c.a.base } else { &c.b.base };
        let (s, _) = c
            .send(
                base,
                reqwest::Method::DELETE,
                &format!("{users}/{id}"),
                None,
                &[],
            )
            .await;
        assert_eq!(s, 204);
    }
    // Both servers run the purge every 100 ms; wait (bounded) until every user is gone.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut left = 0;
        for id in &ids {
            if c.send(
                &c.b.base,
                reqwest::Method::GET,
                &format!("{users}/{id}"),
                None,
                &[],
            )
            .await
            .0 != 404
            {
                left += 1;
            }
        }
        if left == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{left} users were not purged within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Each user was purged exactly once: one purge audit record each.
    let store = roster_store::Store::open(&c.url).await.unwrap();
    let records = store
        .read_job(|db| {
            let partner = db.first_partner()?.unwrap().0;
            db.audit_records(
                partner,
                roster_domain::Timestamp::from_unix_millis(0),
                roster_domain::Timestamp::from_unix_millis(i64::MAX),
                10_000,
            )
        })
        .await
        .unwrap();
    let mut purged: Vec<&str> = records
        .iter()
        .filter(|a| a.operation.as_str() == "purge_customer_user")
        .map(|a| a.resource_id.as_str())
        .collect();
    purged.sort_unstable();
    let mut expected: Vec<&str> = ids.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(purged, expected);
    store.close().await;
    assert!(c.a.terminate().success());
    assert!(c.b.terminate().success());
}

/// The portal's sign-in and the token endpoint share one rate per source address, set by a
/// flag; another address is served meanwhile; a big sign-in form is refused unread.
#[tokio::test]
async fn sign_in_rate_per_address_covers_the_portal_and_the_token_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_with(
        dir.path(),
        Some(PASSWORD),
        &["--sign-in-per-minute-per-address", "3"],
    )
    .unwrap();
    let base = server.base.clone();
    let from = |ip: &str| {
        reqwest::Client::builder()
            .local_address(ip.parse::<std::net::IpAddr>().unwrap())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    };
    let flood = from("127.0.0.1");
    let portal_sign_in = |password: &'static str| {
        flood
            .post(format!("{base}/signin"))
            .form(&[("email", "admin@partner.local"), ("password", password)])
            .send()
    };
    for _ in 0..3 {
        assert_eq!(
            portal_sign_in("Wrong-Password-1").await.unwrap().status(),
            401
        );
    }
    let r = portal_sign_in(PASSWORD).await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let page = r.text().await.unwrap();
    assert!(page.contains("Too many sign-in attempts"), "{page}");
    let r = token(&flood, &base, PASSWORD).await;
    assert_eq!(r.status(), 429);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["statusCode"], 429, "{body}");
    // Another source address signs in, on the portal and for a token.
    let other = from("127.0.0.2");
    let r = other
        .post(format!("{base}/signin"))
        .form(&[("email", "admin@partner.local"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    assert_eq!(token(&other, &base, PASSWORD).await.status(), 200);
    // A sign-in form of 100 KiB is more than any name and password.
    let r = other
        .post(format!("{base}/signin"))
        .form(&[
            ("email", "admin@partner.local"),
            ("password", &"x".repeat(100 * 1024)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    server.terminate();
}

/// A self-signed certificate for 127.0.0.1 and localhost: (certificate, key), in PEM.
fn self_signed() -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (cert.pem(), key.serialize_pem())
}

/// A client that trusts this certificate alone.
fn trusting(cert: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(cert.as_bytes()).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn serves_https_with_hsts_and_secure_cookies_and_reads_a_renewed_certificate_on_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (files.path().join("cert.pem"), files.path().join("key.pem"));
    let (first, first_key) = self_signed();
    std::fs::write(&cert_path, &first).unwrap();
    std::fs::write(&key_path, &first_key).unwrap();
    let mut server = start_with(
        dir.path(),
        Some(PASSWORD),
        &[
            "--tls-cert",
            cert_path.to_str().unwrap(),
            "--tls-key",
            key_path.to_str().unwrap(),
        ],
    )
    .unwrap();
    let base = server.base.clone();
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    let client = trusting(&first);
    let r = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    assert_eq!(token(&client, &base, PASSWORD).await.status(), 200);
    // The portal's session cookie is only sent back over HTTPS.
    let r = client
        .post(format!("{base}/signin"))
        .form(&[("email", "admin@partner.local"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("; Secure"), "{cookie}");
    // Plain HTTP on the same port gets no answer.
    let plain = base.replace("https://", "http://");
    let r = reqwest::Client::new()
        .get(format!("{plain}/healthz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(r.is_err() || r.unwrap().status() != 200);

    // A renewed certificate, then SIGHUP: new connections get it.
    let (second, second_key) = self_signed();
    std::fs::write(&cert_path, &second).unwrap();
    std::fs::write(&key_path, &second_key).unwrap();
    let hup = Command::new("kill")
        .args(["-HUP", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while trusting(&second)
        .get(format!("{base}/healthz"))
        .send()
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "the renewed certificate was never served"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(trusting(&first)
        .get(format!("{base}/healthz"))
        .send()
        .await
        .is_err());
    // A broken file and SIGHUP: the certificate served so far stays.
    std::fs::write(&cert_path, "not a certificate").unwrap();
    Command::new("kill")
        .args(["-HUP", &server.child.id().to_string()])
        .status()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = trusting(&second)
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(server.terminate().success());
}
