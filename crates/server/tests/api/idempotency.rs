//! Idempotency by `MS-RequestId` (rest-api.md §7): a repeat of the same request with the same
//! key gets the recorded response and performs nothing again; the same key with a different
//! request is refused with 409 60007; concurrent repeats run the operation once; keys are
//! forgotten after 24 hours.

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use roster_domain::Duration;
use serde_json::{json, Value};

use crate::common::*;

async fn setup() -> (TestApp, String) {
    let app = TestApp::start().await;
    let cid = app.customer("contoso.onmicrosoft.com").await;
    (app, cid)
}

fn users(cid: &str) -> String {
    format!("/v1/customers/{cid}/users")
}

fn user(cid: &str, uid: &str) -> String {
    format!("/v1/customers/{cid}/users/{uid}")
}

fn new_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A request with the admin's token and `MS-RequestId: key`.
async fn keyed(
    app: &TestApp,
    method: Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> (StatusCode, Value, HeaderMap) {
    let mut r = app.req(method, path).header("MS-RequestId", key);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let response = r.send().await.unwrap();
    let headers = response.headers().clone();
    let (status, body) = into_parts(response).await;
    (status, body, headers)
}

/// The active users of the customer, as the list shows them.
async fn active_users(app: &TestApp, cid: &str) -> Vec<Value> {
    let (status, list) = app.get(&users(cid)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["items"].as_array().unwrap().clone()
}

/// How many audit records of this operation exist.
async fn audit_count(app: &TestApp, operation: &str) -> usize {
    app.audit_operations()
        .await
        .iter()
        .filter(|o| *o == operation)
        .count()
}

fn create_body(upn: &str) -> Value {
    json!({"userPrincipalName": upn, "displayName": "Idem Potent", "passwordProfile": {"password": GOOD_PASSWORD, "forceChangePassword": false}})
}

async fn a_repeated_create_gets_the_first_response_and_creates_once() {
    let (app, cid) = setup().await;
    let key = new_key();
    let body = create_body("ida@contoso.onmicrosoft.com");
    let (s1, b1, h1) = keyed(&app, Method::POST, &users(&cid), &key, Some(body.clone())).await;
    assert_eq!(s1, StatusCode::CREATED, "{b1}");
    assert_eq!(h1["ms-requestid"], key.as_str(), "the key is echoed");
    assert_eq!(b1["passwordProfile"]["password"], GOOD_PASSWORD);

    let (s2, b2, h2) = keyed(&app, Method::POST, &users(&cid), &key, Some(body.clone())).await;
    assert_eq!(s2, StatusCode::CREATED, "{b2}");
    // The whole body is the same: the same id and etag, and the password put back from the
    // repeated request body (the ledger itself holds no password).
    assert_eq!(b2, b1);
    assert_eq!(b2["passwordProfile"]["password"], GOOD_PASSWORD);
    assert_eq!(h2["ms-requestid"], key.as_str());
    assert_eq!(
        h2.get("etag"),
        h1.get("etag"),
        "the etag header is replayed"
    );
    assert!(h2["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));

    // A third time for good measure, then: one user, one audit record.
    let (s3, b3, _) = keyed(&app, Method::POST, &users(&cid), &key, Some(body)).await;
    assert_eq!((s3, &b3), (StatusCode::CREATED, &b1));
    let list = active_users(&app, &cid).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["id"], b1["id"]);
    assert_eq!(audit_count(&app, "create_customer_user").await, 1);
}
on_both_backends!(a_repeated_create_gets_the_first_response_and_creates_once);

async fn a_replayed_create_with_a_generated_password_shows_no_password() {
    let (app, cid) = setup().await;
    let key = new_key();
    let body =
        json!({"userPrincipalName": "gen@contoso.onmicrosoft.com", "displayName": "Generated"});
    let (s1, b1, _) = keyed(&app, Method::POST, &users(&cid), &key, Some(body.clone())).await;
    assert_eq!(s1, StatusCode::CREATED, "{b1}");
    let password = b1["passwordProfile"]["password"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(password.len(), 16);

    let (s2, b2, _) = keyed(&app, Method::POST, &users(&cid), &key, Some(body)).await;
    assert_eq!(s2, StatusCode::CREATED, "{b2}");
    assert_eq!(b2["id"], b1["id"], "the same user, not a second one");
    // The generated password is shown once: Roster stores no plaintext, not even in the
    // idempotency ledger, and the repeated request body has none to put back, so the replay
    // shows `password: null` (the flag is still there).
    assert_eq!(
        b2["passwordProfile"],
        json!({"password": null, "forceChangePassword": true}),
        "{b2}"
    );
    assert!(!b2.to_string().contains(&password));
    // Apart from the password, the replay is the first response.
    let mut first = b1.clone();
    first["passwordProfile"]["password"] = Value::Null;
    assert_eq!(b2, first);
    assert_eq!(active_users(&app, &cid).await.len(), 1);

    // The database holds no plaintext.
    assert!(
        !contains_bytes(&app.stored_bytes().await, &password),
        "plaintext password stored"
    );
}
on_both_backends!(a_replayed_create_with_a_generated_password_shows_no_password);

async fn the_same_key_with_another_request_is_refused_and_changes_nothing() {
    let (app, cid) = setup().await;
    let key = new_key();
    let body = create_body("ivy@contoso.onmicrosoft.com");
    let (s, first, _) = keyed(&app, Method::POST, &users(&cid), &key, Some(body.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    let uid = first["id"].as_str().unwrap();

    // A different body on the same path.
    let (s, b, _) = keyed(
        &app,
        Method::POST,
        &users(&cid),
        &key,
        Some(create_body("other@contoso.onmicrosoft.com")),
    )
    .await;
    assert_error(&(s, b.clone()), StatusCode::CONFLICT, 60007);
    assert_eq!(b["data"], json!(["MS-RequestId"]));
    // The same body on a different path (another customer).
    let other = app.customer("fabrikam.onmicrosoft.com").await;
    let got = keyed(&app, Method::POST, &users(&other), &key, Some(body.clone())).await;
    assert_error(&(got.0, got.1), StatusCode::CONFLICT, 60007);
    // Different methods and paths on the user the key created.
    let got = keyed(
        &app,
        Method::PATCH,
        &user(&cid, uid),
        &key,
        Some(json!({"displayName": "Changed"})),
    )
    .await;
    assert_error(&(got.0, got.1), StatusCode::CONFLICT, 60007);
    let got = keyed(&app, Method::DELETE, &user(&cid, uid), &key, None).await;
    assert_error(&(got.0, got.1), StatusCode::CONFLICT, 60007);

    // Nothing changed: one active user, unchanged; nobody in the other customer.
    let list = active_users(&app, &cid).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["displayName"], "Idem Potent");
    assert_eq!(list[0]["attributes"]["etag"], first["attributes"]["etag"]);
    assert!(active_users(&app, &other).await.is_empty());
    assert_eq!(audit_count(&app, "update_customer_user").await, 0);
    assert_eq!(audit_count(&app, "delete_customer_user").await, 0);

    // A key first used for a PATCH is refused for a DELETE of the same path.
    let patch_key = new_key();
    let (s, _, _) = keyed(
        &app,
        Method::PATCH,
        &user(&cid, uid),
        &patch_key,
        Some(json!({"displayName": "Patched"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let got = keyed(&app, Method::DELETE, &user(&cid, uid), &patch_key, None).await;
    assert_error(&(got.0, got.1), StatusCode::CONFLICT, 60007);
    let (_, now) = app.get(&user(&cid, uid)).await;
    assert_eq!(now["state"], "active", "the refused DELETE did nothing");

    // The original request still replays.
    let (s, again, _) = keyed(&app, Method::POST, &users(&cid), &key, Some(body)).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(again, first);
}
on_both_backends!(the_same_key_with_another_request_is_refused_and_changes_nothing);

/// `n` identical creates with one key, all started at once: one user, `n` identical 201s.
async fn concurrent_creates(app: &TestApp, cid: &str, n: usize, upn: &str) {
    let key = new_key();
    let url = app.url(&users(cid));
    let body = create_body(upn);
    let answers = all_at_once(
        (0..n)
            .map(|_| {
                app.client
                    .post(&url)
                    .bearer_auth(&app.token)
                    .header("MS-RequestId", &key)
                    .json(&body)
            })
            .collect(),
    )
    .await;
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::CREATED, "{body}");
        assert_eq!(body["id"], answers[0].1["id"], "{answers:?}");
        assert_eq!(body["passwordProfile"]["password"], GOOD_PASSWORD);
        assert_eq!(body, &answers[0].1);
    }
    let matching: Vec<_> = active_users(app, cid)
        .await
        .into_iter()
        .filter(|u| u["userPrincipalName"] == upn)
        .collect();
    assert_eq!(matching.len(), 1, "{matching:?}");
    assert_eq!(matching[0]["id"], answers[0].1["id"]);
}

async fn concurrent_repeats_run_the_operation_once() {
    let (app, cid) = setup().await;
    concurrent_creates(&app, &cid, 2, "two@contoso.onmicrosoft.com").await;
    concurrent_creates(&app, &cid, 8, "eight@contoso.onmicrosoft.com").await;
    assert_eq!(audit_count(&app, "create_customer_user").await, 2);
    assert_eq!(active_users(&app, &cid).await.len(), 2);
}
on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    concurrent_repeats_run_the_operation_once
);

async fn concurrent_repeats_of_a_delete_run_once() {
    let (app, cid) = setup().await;
    let u = app.user(&cid, "del@contoso.onmicrosoft.com", "Del").await;
    let path = user(&cid, u["id"].as_str().unwrap());
    let key = new_key();
    let answers = all_at_once(
        (0..8)
            .map(|_| {
                app.client
                    .delete(app.url(&path))
                    .bearer_auth(&app.token)
                    .header("MS-RequestId", &key)
            })
            .collect(),
    )
    .await;
    for (status, body) in answers {
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    assert_eq!(audit_count(&app, "delete_customer_user").await, 1);
}
on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    concurrent_repeats_of_a_delete_run_once
);

async fn delete_and_patch_replays_answer_as_the_first_time() {
    let (app, cid) = setup().await;
    let u = app.user(&cid, "dee@contoso.onmicrosoft.com", "Dee").await;
    let uid = u["id"].as_str().unwrap();

    // PATCH: the replay is the first response even after the user changed meanwhile.
    let first_key = new_key();
    let (s, first, h_first) = keyed(
        &app,
        Method::PATCH,
        &user(&cid, uid),
        &first_key,
        Some(json!({"displayName": "First"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{first}");
    assert_eq!(first["displayName"], "First");
    let (s, second, _) = keyed(
        &app,
        Method::PATCH,
        &user(&cid, uid),
        &new_key(),
        Some(json!({"displayName": "Second"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{second}");
    let (s, replay, h_replay) = keyed(
        &app,
        Method::PATCH,
        &user(&cid, uid),
        &first_key,
        Some(json!({"displayName": "First"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(replay, first);
    assert_eq!(h_replay.get("etag"), h_first.get("etag"));
    let (_, now) = app.get(&user(&cid, uid)).await;
    assert_eq!(now["displayName"], "Second", "the replay changed nothing");
    assert_eq!(now["attributes"]["etag"], second["attributes"]["etag"]);
    assert_eq!(audit_count(&app, "update_customer_user").await, 2);

    // A password reset replays with the password of the repeated request put back.
    let reset_key = new_key();
    let reset =
        json!({"passwordProfile": {"password": "Fresh-Start-77x", "forceChangePassword": true}});
    let (s, r1, _) = keyed(
        &app,
        Method::PATCH,
        &user(&cid, uid),
        &reset_key,
        Some(reset.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r1}");
    let (s, r2, _) = keyed(
        &app,
        Method::PATCH,
        &user(&cid, uid),
        &reset_key,
        Some(reset),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(r2, r1);
    assert_eq!(
        r2["passwordProfile"],
        json!({"password": "Fresh-Start-77x", "forceChangePassword": true})
    );
    assert_eq!(audit_count(&app, "reset_customer_user_password").await, 1);

    // DELETE: 204, and 204 again for the same key, where a new key (or none) gets 404 60002.
    let delete_key = new_key();
    let (s, b, _) = keyed(&app, Method::DELETE, &user(&cid, uid), &delete_key, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
    let (s, b, _) = keyed(&app, Method::DELETE, &user(&cid, uid), &delete_key, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
    assert_eq!(b, Value::Null, "no body on the replayed 204");
    let got = keyed(&app, Method::DELETE, &user(&cid, uid), &new_key(), None).await;
    assert_error(&(got.0, got.1), StatusCode::NOT_FOUND, 60002);
    assert_error(
        &app.delete(&user(&cid, uid)).await,
        StatusCode::NOT_FOUND,
        60002,
    );
    // Restore, then replay the DELETE: 204, and the user stays active (nothing ran again).
    let (s, b) = app
        .patch(&user(&cid, uid), json!({"state": "active"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, _, _) = keyed(&app, Method::DELETE, &user(&cid, uid), &delete_key, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, now) = app.get(&user(&cid, uid)).await;
    assert_eq!(now["state"], "active");
    assert_eq!(audit_count(&app, "delete_customer_user").await, 1);
}
on_both_backends!(delete_and_patch_replays_answer_as_the_first_time);

async fn requests_without_a_key_are_not_deduplicated() {
    let (app, cid) = setup().await;
    let (s1, a) = app
        .post(&users(&cid), create_body("one@contoso.onmicrosoft.com"))
        .await;
    let (s2, b) = app
        .post(&users(&cid), create_body("two@contoso.onmicrosoft.com"))
        .await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
    assert_ne!(a["id"], b["id"]);
    // The same create again without a key runs again, and meets the first user.
    let again = app
        .post(&users(&cid), create_body("one@contoso.onmicrosoft.com"))
        .await;
    assert_error(&again, StatusCode::CONFLICT, 60004);
    assert_eq!(active_users(&app, &cid).await.len(), 2);

    // Without a key Roster makes one per request (echoed), and never replays by it.
    let ids: Vec<String> = {
        let mut ids = Vec::new();
        for _ in 0..2 {
            let r = app.req(Method::GET, &users(&cid)).send().await.unwrap();
            let id = r.headers()["ms-requestid"].to_str().unwrap().to_string();
            assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
            ids.push(id);
        }
        ids
    };
    assert_ne!(ids[0], ids[1]);

    // Reads are not recorded: a key first sent on a GET is free for a later POST.
    let key = new_key();
    let (s, _, _) = keyed(&app, Method::GET, &users(&cid), &key, None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, b, _) = keyed(
        &app,
        Method::POST,
        &users(&cid),
        &key,
        Some(create_body("three@contoso.onmicrosoft.com")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
}
on_both_backends!(requests_without_a_key_are_not_deduplicated);

async fn an_error_is_replayed_as_the_same_error() {
    let (app, cid) = setup().await;
    // A validation error.
    let key = new_key();
    let bad = json!({"userPrincipalName": ".bad@contoso.onmicrosoft.com", "displayName": "Bad", "passwordProfile": {"password": "short"}});
    let (s1, b1, _) = keyed(&app, Method::POST, &users(&cid), &key, Some(bad.clone())).await;
    assert_error(&(s1, b1.clone()), StatusCode::BAD_REQUEST, 3000);
    let (s2, b2, _) = keyed(&app, Method::POST, &users(&cid), &key, Some(bad)).await;
    assert_error(&(s2, b2.clone()), StatusCode::BAD_REQUEST, 3000);
    assert_eq!(b2, b1);

    // A body that is not JSON.
    let key = new_key();
    let send_garbage = || {
        app.req(Method::POST, &users(&cid))
            .header("MS-RequestId", &key)
            .header("Content-Type", "application/json")
            .body("{not json")
            .send()
    };
    let g1 = into_parts(send_garbage().await.unwrap()).await;
    assert_error(&g1, StatusCode::BAD_REQUEST, 800002);
    let g2 = into_parts(send_garbage().await.unwrap()).await;
    assert_eq!(g2, g1);

    // A conflict is replayed even after its cause went away: the create does not run again.
    let (s, taken, _) = keyed(
        &app,
        Method::POST,
        &users(&cid),
        &new_key(),
        Some(create_body("zoe@contoso.onmicrosoft.com")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let conflict_key = new_key();
    let body = create_body("zoe@contoso.onmicrosoft.com");
    let c1 = keyed(
        &app,
        Method::POST,
        &users(&cid),
        &conflict_key,
        Some(body.clone()),
    )
    .await;
    assert_error(&(c1.0, c1.1.clone()), StatusCode::CONFLICT, 60004);
    let (s, _) = app.delete(&user(&cid, taken["id"].as_str().unwrap())).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let c2 = keyed(
        &app,
        Method::POST,
        &users(&cid),
        &conflict_key,
        Some(body.clone()),
    )
    .await;
    assert_eq!((c2.0, &c2.1), (c1.0, &c1.1));
    assert!(active_users(&app, &cid).await.is_empty());
    // A new key runs it.
    let (s, b, _) = keyed(&app, Method::POST, &users(&cid), &new_key(), Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
}
on_both_backends!(an_error_is_replayed_as_the_same_error);

async fn a_key_is_forgotten_after_24_hours() {
    let (mut app, cid) = setup().await;
    let key = new_key();
    let body = create_body("old@contoso.onmicrosoft.com");
    let (s, first, _) = keyed(&app, Method::POST, &users(&cid), &key, Some(body.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "{first}");

    // A day less a millisecond later the key is still remembered, even after maintenance.
    app.advance(Duration::from_millis(Duration::from_hours(24).millis() - 1))
        .await;
    app.roster.run_maintenance().await.unwrap();
    let (s, replay, _) = keyed(&app, Method::POST, &users(&cid), &key, Some(body.clone())).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(replay, first);

    // Past 24 hours the key is forgotten, whether or not the purge has run: the same request
    // with the same key runs again, and meets the user it created the first time.
    app.advance(Duration::from_millis(2)).await;
    let (s, b, _) = keyed(&app, Method::POST, &users(&cid), &key, Some(body.clone())).await;
    let got = (s, b);
    assert_error(&got, StatusCode::CONFLICT, 60004);
    assert_eq!(active_users(&app, &cid).await.len(), 1);
    assert_eq!(audit_count(&app, "create_customer_user").await, 1);
    // The key now belongs to the new request, and a different request with it is refused.
    let again = keyed(&app, Method::POST, &users(&cid), &key, Some(body)).await;
    assert_eq!((again.0, &again.1), (got.0, &got.1));
    let other = keyed(
        &app,
        Method::POST,
        &users(&cid),
        &key,
        Some(create_body("new@contoso.onmicrosoft.com")),
    )
    .await;
    assert_error(&(other.0, other.1), StatusCode::CONFLICT, 60007);
}
on_both_backends!(a_key_is_forgotten_after_24_hours);

async fn a_retry_after_a_server_time_out_replays_the_operation_that_was_under_way() {
    // The scenario of §7: the server answers 408 while the operation is under way, and the
    // client (the .NET SDK does this by itself) retries with the same MS-RequestId.
    let mut builder = Builder {
        timeouts: roster_server::Timeouts {
            request: std::time::Duration::from_secs(1),
            ..Default::default()
        },
        ..Default::default()
    };
    // The real Argon2 cost: the operation hashes the password between its claim and its
    // write, which gives the test the time to take SQLite's writer in between, however
    // loaded the machine is.
    builder.settings.hash_cost = roster_service::HashCost::default();
    let app = TestApp::start_with(builder).await;
    let cid = app.customer("contoso.onmicrosoft.com").await;
    let caller = app.roster.authenticate(&app.token).await.unwrap().user;
    let key = new_key();
    let body = create_body("slow@contoso.onmicrosoft.com");

    let send = || {
        tokio::spawn(
            app.client
                .post(app.url(&users(&cid)))
                .bearer_auth(&app.token)
                .header("MS-RequestId", &key)
                .json(&body)
                .send(),
        )
    };
    let claimed = || {
        let (caller, key) = (caller.to_string(), key.clone());
        let store = app.roster.store().clone();
        async move {
            store
                .read_job(move |db| db.recorded_request(&caller, &key))
                .await
                .unwrap()
        }
    };
    let check_claimed = || async {
        let claimed = claimed()
            .await
            .expect("the request claimed its key before the time-out");
        assert_eq!(claimed.status, None, "the operation had not finished");
    };
    // Holds SQLite's one writer (in a job of its own) until the sender is used or dropped.
    let hold_writer = || async {
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = tokio::sync::oneshot::channel();
        let store = app.roster.store().clone();
        let job = tokio::spawn(async move {
            store
                .write_job(move |_| {
                    let _ = started_tx.send(());
                    let _ = held.recv();
                    Ok::<_, roster_store::StoreError>(())
                })
                .await
        });
        started.await.unwrap();
        (release, job)
    };
    match &app.database_url {
        None => {
            // SQLite has one writer connection, handed out in order. Hold it so that the
            // request queues for its claim; then queue right behind that claim, so that the
            // operation's own write waits for us until the server's time-out answers 408.
            let (held, held_job) = hold_writer().await;
            let first = send();
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            drop(held);
            held_job.await.unwrap().unwrap();
            // Once the claim is in, hold the writer again: the operation's own write waits.
            while claimed().await.is_none() {
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
            let (blocker, blocker_job) = hold_writer().await;
            let (status, b) = into_parts(first.await.unwrap().unwrap()).await;
            assert_error(&(status, b), StatusCode::REQUEST_TIMEOUT, 408);
            check_claimed().await;
            drop(blocker);
            blocker_job.await.unwrap().unwrap();
        }
        Some(url) => {
            // PostgreSQL: lock the users table, so that the request claims its key and then
            // waits on its insert until the server's time-out answers 408.
            use sqlx::{Connection, Executor};
            sqlx::any::install_default_drivers();
            let mut lock = sqlx::AnyConnection::connect(url).await.unwrap();
            lock.execute("BEGIN").await.unwrap();
            lock.execute("LOCK TABLE users IN EXCLUSIVE MODE")
                .await
                .unwrap();
            let (status, b) = into_parts(send().await.unwrap().unwrap()).await;
            assert_error(&(status, b), StatusCode::REQUEST_TIMEOUT, 408);
            check_claimed().await;
            lock.execute("COMMIT").await.unwrap();
        }
    }

    // The retry gets the operation's own answer, and the operation happened once.
    let (status, replay, _) = keyed(&app, Method::POST, &users(&cid), &key, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{replay}");
    assert_eq!(replay["userPrincipalName"], "slow@contoso.onmicrosoft.com");
    assert_eq!(replay["passwordProfile"]["password"], GOOD_PASSWORD);
    assert_eq!(active_users(&app, &cid).await.len(), 1);
    assert_eq!(audit_count(&app, "create_customer_user").await, 1);
}
on_both_backends!(a_retry_after_a_server_time_out_replays_the_operation_that_was_under_way);
