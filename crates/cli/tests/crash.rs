//! `kill -9` of `roster serve` in the middle of a stream of creates and PATCHes, on SQLite and
//! on PostgreSQL: after a restart, every write the server acknowledged is there (a write in
//! flight at the kill may or may not be).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/cli.rs"]
mod cli;
#[path = "support/server.rs"]
mod server;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use cli::{admin_token, PASSWORD};

/// What a writer knows of its users: the display names a user may have now (the
/// acknowledged one, and the one of a PATCH whose answer the kill cut off).
#[derive(Default)]
struct Known {
    users: HashMap<String, Vec<String>>,
    acknowledged: usize,
}

async fn writer(
    base: String,
    token: String,
    customer: String,
    lane: usize,
    known: Arc<Mutex<Known>>,
) {
    let client = reqwest::Client::new();
    for i in 0.. {
        let upn = format!("u{lane}-{i}@crash.onmicrosoft.com");
        let created = client
            .post(format!("{base}/v1/customers/{customer}/users"))
            .bearer_auth(&token)
            .json(&json!({"userPrincipalName": upn, "displayName": format!("User {lane}-{i}")}))
            .send()
            .await;
        let id = match created {
            Ok(r) if r.status() == 201 => {
                let body: Value = r.json().await.unwrap();
                let mut k = known.lock().unwrap();
                k.users
                    .insert(upn.clone(), vec![format!("User {lane}-{i}")]);
                k.acknowledged += 1;
                body["id"].as_str().unwrap().to_string()
            }
            _ => return, // the server is gone (or the answer with it)
        };
        let patched = format!("Patched {lane}-{i}");
        known
            .lock()
            .unwrap()
            .users
            .get_mut(&upn)
            .unwrap()
            .push(patched.clone());
        let r = client
            .patch(format!("{base}/v1/customers/{customer}/users/{id}"))
            .bearer_auth(&token)
            .json(&json!({"displayName": patched}))
            .send()
            .await;
        match r {
            Ok(r) if r.status() == 200 => {
                let mut k = known.lock().unwrap();
                // Acknowledged: only the new name will do.
                *k.users.get_mut(&upn).unwrap() = vec![patched];
                k.acknowledged += 1;
            }
            _ => return,
        }
    }
}

async fn crash_on(database: Option<String>) {
    let data = tempfile::tempdir().unwrap();
    let flags: Vec<&str> = match &database {
        Some(url) => vec!["--database-url", url],
        None => vec![],
    };
    let mut server = server::start_with(data.path(), Some(PASSWORD), &flags).expect("roster serve");
    let base = server.base.clone();
    let token = admin_token(&base).await;
    let customer: Value = reqwest::Client::new()
        .post(format!("{base}/v1/customers"))
        .bearer_auth(&token)
        .json(
            &json!({"companyProfile": {"domain": "crash.onmicrosoft.com", "companyName": "Crash"}}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let customer = customer["id"].as_str().unwrap().to_string();
    let known = Arc::new(Mutex::new(Known::default()));
    let lanes: Vec<_> = (0..4)
        .map(|lane| {
            tokio::spawn(writer(
                base.clone(),
                token.clone(),
                customer.clone(),
                lane,
                known.clone(),
            ))
        })
        .collect();
    // Let the stream run, then kill the server in the middle of it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while known.lock().unwrap().acknowledged < 120 {
        assert!(std::time::Instant::now() < deadline, "too slow a stream");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    server.child.kill().unwrap(); // SIGKILL: no shutdown, no flush
    server.child.wait().unwrap();
    for lane in lanes {
        lane.await.unwrap();
    }
    drop(server);

    let server = server::start_with(data.path(), Some(PASSWORD), &flags).expect("restart");
    let base = server.base.clone();
    let token = admin_token(&base).await;
    let page: Value = reqwest::Client::new()
        .get(format!("{base}/v1/customers/{customer}/users?size=500"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let found: HashMap<String, String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["userPrincipalName"].as_str().unwrap().to_string(),
                u["displayName"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let known = known.lock().unwrap();
    assert!(known.acknowledged >= 120);
    for (upn, allowed) in &known.users {
        let name = found
            .get(upn)
            .unwrap_or_else(|| panic!("{upn} was acknowledged, and is gone"));
        assert!(
            allowed.contains(name),
            "{upn} is '{name}', where {allowed:?} was acknowledged"
        );
    }
    // Nothing that no one asked for: at most the creates in flight at the kill are extra.
    assert!(found.len() <= known.users.len() + 4, "{}", found.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_on_sqlite() {
    crash_on(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_on_postgres() {
    let Some(admin) = roster_store::testing::postgres_for_tests() else {
        return;
    };
    let url = roster_store::testing::fresh_postgres_database(&admin)
        .await
        .unwrap();
    crash_on(Some(url)).await;
}
