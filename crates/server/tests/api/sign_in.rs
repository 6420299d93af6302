//! The token endpoint (`POST /oauth2/token`, password grant): tokens, one answer for every
//! failure, the sign-in lockout under the injected clock, token expiry, malformed requests,
//! the default Argon2 cost, and no secret in the audit records.

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use roster_domain::password::Password;
use roster_domain::{Duration, Timestamp};
use roster_service::startup::Options;
use roster_service::{HashCost, Hasher, Settings};
use serde_json::{json, Value};

use crate::common::*;

/// A form-encoded token request.
async fn token_request(app: &TestApp, form: &[(&str, &str)]) -> (StatusCode, Value, HeaderMap) {
    let r = app
        .client
        .post(app.url("/oauth2/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    let headers = r.headers().clone();
    let (status, body) = into_parts(r).await;
    (status, body, headers)
}

async fn password_grant(app: &TestApp, username: &str, password: &str) -> (StatusCode, Value) {
    let (s, b, _) = token_request(
        app,
        &[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ],
    )
    .await;
    (s, b)
}

/// Asserts an OAuth error body (RFC 6749 §5.2) and returns its description.
#[track_caller]
fn assert_oauth_error(got: &(StatusCode, Value), error: &str) -> String {
    let (status, body) = got;
    assert_eq!(*status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], error, "{body}");
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(!description.is_empty(), "{body}");
    assert_eq!(
        body.as_object().unwrap().len(),
        2,
        "only error and description: {body}"
    );
    description.to_string()
}

/// GET /v1/customers with this token.
async fn customers_with(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .get(app.url("/v1/customers"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// Asserts that the admin cannot sign in with the right password right now.
async fn assert_locked(app: &TestApp, expected_description: &str) {
    let got = password_grant(app, ADMIN, ADMIN_PASSWORD).await;
    let description = assert_oauth_error(&got, "invalid_grant");
    assert_eq!(
        description, expected_description,
        "a lockout looks like any failure"
    );
}

/// `n` failed sign-ins of the admin, each with a different wrong password.
async fn distinct_failures(app: &TestApp, tag: &str, n: usize) {
    for i in 0..n {
        let got = password_grant(app, ADMIN, &format!("Wrong-{tag}-{i}!x")).await;
        assert_oauth_error(&got, "invalid_grant");
    }
}

fn secs(s: i64) -> Duration {
    Duration::from_secs(s)
}

async fn the_password_grant_issues_a_bearer_token_that_works() {
    let app = TestApp::start().await;
    let (status, body, headers) = token_request(
        &app,
        &[
            ("grant_type", "password"),
            ("username", ADMIN),
            ("password", ADMIN_PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap();
    assert!(!token.is_empty());
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    // RFC 6749 §5.1: a token response must not be cached.
    assert_eq!(headers["cache-control"], "no-store");
    let r = customers_with(&app, token).await;
    assert_eq!(r.status(), StatusCode::OK);
    // The user name matches case-insensitively, as a UPN does.
    let (status, body) = password_grant(&app, &ADMIN.to_uppercase(), ADMIN_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
on_both_backends!(the_password_grant_issues_a_bearer_token_that_works);

async fn every_failure_gives_the_same_answer() {
    let app = TestApp::start().await;
    // A directory user of the partner's tenant, with a known password, whose access to the
    // Roster account was removed.
    let (status, created) = app
        .post(
            "/v1/users",
            json!({"userPrincipalName": "gone@partner.local", "displayName": "Gone",
                   "roles": ["Sales agent"],
                   "passwordProfile": {"password": GOOD_PASSWORD, "forceChangePassword": false}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (status, _) = app
        .delete(&format!("/v1/users/{}", created["id"].as_str().unwrap()))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let cases = [
        ("wrong password", ADMIN, "Not-The-Password-1"),
        ("empty password", ADMIN, ""),
        ("unknown user", "nobody@partner.local", ADMIN_PASSWORD),
        ("unknown domain", "admin@nowhere.example", ADMIN_PASSWORD),
        ("malformed user name", "not an upn", ADMIN_PASSWORD),
        ("empty user name", "", ADMIN_PASSWORD),
        ("no account access", "gone@partner.local", GOOD_PASSWORD),
    ];
    let mut descriptions = Vec::new();
    for (case, username, password) in cases {
        let got = password_grant(&app, username, password).await;
        assert_eq!(got.0, StatusCode::BAD_REQUEST, "{case}: {}", got.1);
        descriptions.push((case, assert_oauth_error(&got, "invalid_grant")));
    }
    for (case, d) in &descriptions {
        assert_eq!(
            d, &descriptions[0].1,
            "{case} must not differ from a wrong password"
        );
    }
    // The admin is not locked by those few failures.
    assert_eq!(
        password_grant(&app, ADMIN, ADMIN_PASSWORD).await.0,
        StatusCode::OK
    );
}
on_both_backends!(every_failure_gives_the_same_answer);

async fn ten_distinct_failures_lock_for_a_minute_then_two() {
    let app = TestApp::start().await;
    let wrong = password_grant(&app, ADMIN, "Wrong-first-try-1").await;
    let description = assert_oauth_error(&wrong, "invalid_grant");

    // Nine more distinct wrong passwords make ten: locked, even for the right password.
    distinct_failures(&app, "a", 9).await;
    assert_locked(&app, &description).await;
    app.clock.advance(secs(59));
    assert_locked(&app, &description).await;
    // The token issued before the lockout still works: a lockout stops sign-ins only.
    assert_eq!(
        customers_with(&app, &app.token).await.status(),
        StatusCode::OK
    );

    // After the minute, without a successful sign-in in between, ten more failures lock
    // again, now for two minutes.
    app.clock.advance(secs(1));
    distinct_failures(&app, "b", 10).await;
    assert_locked(&app, &description).await;
    app.clock.advance(secs(60));
    assert_locked(&app, &description).await;
    app.clock.advance(secs(59));
    assert_locked(&app, &description).await;
    app.clock.advance(secs(1));
    let (status, body) = password_grant(&app, ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "works after two minutes: {body}");

    // That success forgot the history: the next lockout lasts one minute again.
    distinct_failures(&app, "c", 10).await;
    assert_locked(&app, &description).await;
    // Wrong passwords during a lockout neither count nor extend it.
    app.clock.advance(secs(30));
    distinct_failures(&app, "d", 9).await;
    app.clock.advance(secs(30));
    distinct_failures(&app, "e", 1).await;
    let (status, body) = password_grant(&app, ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "works after one minute: {body}");
}
on_both_backends!(ten_distinct_failures_lock_for_a_minute_then_two);

async fn concurrent_failures_all_count() {
    let app = TestApp::start().await;
    let description = assert_oauth_error(
        &password_grant(&app, ADMIN, "Not-The-Password-1").await,
        "invalid_grant",
    );
    // Nine more distinct wrong passwords at once: a parallel guesser gets no extra tries.
    let tasks: Vec<_> = (0..9)
        .map(|i| {
            let request = app.client.post(app.url("/oauth2/token")).form(&[
                ("grant_type", "password".to_string()),
                ("username", ADMIN.to_string()),
                ("password", format!("Parallel-Guess-{i}!")),
            ]);
            tokio::spawn(async move { into_parts(request.send().await.unwrap()).await })
        })
        .collect();
    for t in tasks {
        assert_oauth_error(&t.await.unwrap(), "invalid_grant");
    }
    assert_locked(&app, &description).await;
    app.clock.advance(Duration::from_mins(1));
    let (status, body) = password_grant(&app, ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    concurrent_failures_all_count
);

async fn repeating_the_same_wrong_password_does_not_lock() {
    let app = TestApp::start().await;
    for _ in 0..30 {
        let got = password_grant(&app, ADMIN, "Same-Wrong-Password-1").await;
        assert_oauth_error(&got, "invalid_grant");
    }
    // Alternating between two wrong passwords counts each once too.
    for i in 0..20 {
        let password = if i % 2 == 0 {
            "Typo-One-1"
        } else {
            "Typo-Two-2"
        };
        assert_oauth_error(
            &password_grant(&app, ADMIN, password).await,
            "invalid_grant",
        );
    }
    let (status, body) = password_grant(&app, ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
on_both_backends!(repeating_the_same_wrong_password_does_not_lock);

async fn a_successful_sign_in_resets_the_failure_count() {
    let app = TestApp::start().await;
    distinct_failures(&app, "a", 9).await;
    assert_eq!(
        password_grant(&app, ADMIN, ADMIN_PASSWORD).await.0,
        StatusCode::OK
    );
    // Nine more would make eighteen without the reset; the account stays open.
    distinct_failures(&app, "b", 9).await;
    assert_eq!(
        password_grant(&app, ADMIN, ADMIN_PASSWORD).await.0,
        StatusCode::OK
    );
    // And the tenth distinct failure since the last success does lock.
    distinct_failures(&app, "c", 10).await;
    let d = assert_oauth_error(
        &password_grant(&app, ADMIN, "Not-The-Password-1").await,
        "invalid_grant",
    );
    assert_locked(&app, &d).await;
}
on_both_backends!(a_successful_sign_in_resets_the_failure_count);

async fn an_access_token_expires_after_an_hour() {
    let app = TestApp::start().await;
    let token = app.token.clone();
    // The injected clock, moved directly: `app.advance` would sign in again.
    app.clock.advance(Duration::from_millis(
        Duration::from_hours(1).millis() - 1000,
    ));
    assert_eq!(customers_with(&app, &token).await.status(), StatusCode::OK);
    app.clock.advance(secs(1));
    let r = customers_with(&app, &token).await;
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    let got = into_parts(r).await;
    assert_error(&got, StatusCode::UNAUTHORIZED, 800001);
    // A fresh sign-in gives a token that works again.
    let fresh = app.sign_in(ADMIN, ADMIN_PASSWORD).await.unwrap();
    assert_eq!(customers_with(&app, &fresh).await.status(), StatusCode::OK);

    // Missing, malformed and tampered tokens get the same 401.
    let mut tampered = fresh.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    for bad in ["", "not-a-token", "a.b.c", tampered.as_str()] {
        let r = customers_with(&app, bad).await;
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
        assert_error(&into_parts(r).await, StatusCode::UNAUTHORIZED, 800001);
    }
    let r = app
        .client
        .get(app.url("/v1/customers"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    assert_error(&into_parts(r).await, StatusCode::UNAUTHORIZED, 800001);
}
on_both_backends!(an_access_token_expires_after_an_hour);

async fn malformed_token_requests_are_client_errors() {
    let app = TestApp::start().await;
    let got = token_request(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("username", ADMIN),
            ("password", ADMIN_PASSWORD),
        ],
    )
    .await;
    assert_oauth_error(&(got.0, got.1), "unsupported_grant_type");
    let forms: [&[(&str, &str)]; 5] = [
        &[],
        &[("username", ADMIN), ("password", ADMIN_PASSWORD)],
        &[("grant_type", "password"), ("password", ADMIN_PASSWORD)],
        &[("grant_type", "password"), ("username", ADMIN)],
        &[("grant_type", "password")],
    ];
    for form in forms {
        let got = token_request(&app, form).await;
        assert_oauth_error(&(got.0, got.1), "invalid_request");
    }
    // A JSON body instead of a form, with and without a JSON content type.
    let json_body =
        json!({"grant_type": "password", "username": ADMIN, "password": ADMIN_PASSWORD});
    let r = app
        .client
        .post(app.url("/oauth2/token"))
        .json(&json_body)
        .send()
        .await
        .unwrap();
    assert_oauth_error(&into_parts(r).await, "invalid_request");
    let json_text = json_body.to_string();
    let raw_bodies: [&[u8]; 4] = [
        json_text.as_bytes(),
        b"grant_type=password&username=%ZZ&password",
        b"\xff\xfe\x00garbage",
        b"grant_type=password&&&==&username",
    ];
    for raw in raw_bodies {
        let r = app
            .client
            .post(app.url("/oauth2/token"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(raw.to_vec())
            .send()
            .await
            .unwrap();
        let got = into_parts(r).await;
        assert!(got.0.is_client_error(), "{raw:?}: {got:?}");
        assert!(got.1["error"].is_string(), "{raw:?}: {got:?}");
    }
    // Too large a body: 413, not a 500.
    let huge = format!(
        "grant_type=password&username={ADMIN}&password={}",
        "x".repeat(roster_server::BODY_LIMIT + 1)
    );
    let r = app
        .client
        .post(app.url("/oauth2/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Another method: 405.
    let r = app
        .client
        .request(Method::GET, app.url("/oauth2/token"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
}
on_both_backends!(malformed_token_requests_are_client_errors);

async fn the_default_argon2_cost_works_end_to_end() {
    let app = TestApp::start_with(Builder {
        settings: Settings {
            hash_cost: HashCost::default(),
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    // The admin signed in at start; again, and a wrong password still fails.
    let token = app.sign_in(ADMIN, ADMIN_PASSWORD).await.unwrap();
    assert_eq!(customers_with(&app, &token).await.status(), StatusCode::OK);
    assert_oauth_error(
        &password_grant(&app, ADMIN, "Not-The-Password-1").await,
        "invalid_grant",
    );
    let cid = app.customer("contoso.onmicrosoft.com").await;
    let u = app
        .user(&cid, "argon@contoso.onmicrosoft.com", "Argon")
        .await;
    assert_eq!(u["passwordProfile"]["password"], GOOD_PASSWORD);
    let uid: roster_domain::UserId = u["id"].as_str().unwrap().parse().unwrap();

    // Stored as an Argon2id PHC string with the default parameters, which verifies.
    let hash = {
        app.roster
            .store()
            .read_job(move |db| db.credentials_by_id(uid))
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .unwrap()
    };
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    let hasher = Hasher::new(HashCost::default()).unwrap();
    let (ok, rehash) = hasher
        .verify(&Password::new(GOOD_PASSWORD), Some(&hash))
        .await
        .unwrap();
    assert!(ok && !rehash);
    let (ok, _) = hasher
        .verify(&Password::new("Renew456*Zq8"), Some(&hash))
        .await
        .unwrap();
    assert!(!ok);
}
on_both_backends!(the_default_argon2_cost_works_end_to_end);

async fn a_hash_made_with_old_parameters_is_upgraded_at_sign_in() {
    // Bootstrap with the cheap test cost, then start again over the same data with the
    // default cost: the admin's next successful sign-in rehashes the password.
    let dir = tempfile::tempdir().unwrap();
    let clock = std::sync::Arc::new(roster_service::ManualClock::new(
        Timestamp::parse_rfc3339("2026-01-05T09:00:00Z").unwrap(),
    ));
    let open = |cost: HashCost| {
        roster_service::startup::open(Options {
            data_dir: dir.path().to_path_buf(),
            database_url: None,
            partner_domain: "partner.local".into(),
            bootstrap_password: Some(ADMIN_PASSWORD.into()),
            settings: Settings {
                hash_cost: cost,
                ..Default::default()
            },
            clock: clock.clone(),
        })
    };
    let cheap = open(HashCost::TEST).await.unwrap().roster;
    let grant = cheap
        .sign_in_with_password(ADMIN, &Password::new(ADMIN_PASSWORD), None, None)
        .await
        .unwrap();
    let admin = cheap.authenticate(&grant.access_token).await.unwrap().user;
    let admin_hash = |roster: roster_service::Roster| async move {
        roster
            .store()
            .read_job(move |db| db.credentials_by_id(admin))
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .unwrap()
    };
    let old = admin_hash(cheap.clone()).await;
    assert!(old.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{old}");
    drop(cheap);
    let full = open(HashCost::default()).await.unwrap();
    full.roster
        .sign_in_with_password(ADMIN, &Password::new(ADMIN_PASSWORD), None, None)
        .await
        .unwrap();
    let new = admin_hash(full.roster.clone()).await;
    assert!(new.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{new}");
    // And the upgraded hash still signs in.
    full.roster
        .sign_in_with_password(ADMIN, &Password::new(ADMIN_PASSWORD), None, None)
        .await
        .unwrap();
}
on_both_backends!(a_hash_made_with_old_parameters_is_upgraded_at_sign_in);

async fn no_password_or_token_reaches_the_audit_records_or_the_database() {
    let app = TestApp::start().await;
    let cid = app.customer("contoso.onmicrosoft.com").await;
    let created = app
        .user(&cid, "sec@contoso.onmicrosoft.com", "Secret Keeper")
        .await;
    let uid = created["id"].as_str().unwrap();
    let (s, generated) = app
        .post(
            &format!("/v1/customers/{cid}/users"),
            json!({"userPrincipalName": "gen@contoso.onmicrosoft.com", "displayName": "Generated"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{generated}");
    let generated = generated["passwordProfile"]["password"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, b) = app
        .patch(
            &format!("/v1/customers/{cid}/users/{uid}"),
            json!({"passwordProfile": {"password": "Brand-New-Secret-9", "forceChangePassword": false}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let wrong = "Wrong-But-Secret-7";
    assert_oauth_error(&password_grant(&app, ADMIN, wrong).await, "invalid_grant");
    let second_token = app.sign_in(ADMIN, ADMIN_PASSWORD).await.unwrap();

    let secrets = [
        ADMIN_PASSWORD,
        GOOD_PASSWORD,
        generated.as_str(),
        "Brand-New-Secret-9",
        wrong,
        app.token.as_str(),
        second_token.as_str(),
    ];
    let records = app.audit_records().await;
    let ops: Vec<&str> = records.iter().map(|r| r.operation.as_str()).collect();
    for op in [
        "create_customer_user",
        "reset_customer_user_password",
        "create_partner_user",
    ] {
        assert!(ops.contains(&op), "{op} in {ops:?}");
    }
    for record in &records {
        let text = format!("{record:?}");
        for secret in secrets {
            assert!(
                !text.contains(secret),
                "a secret in the audit record {text}"
            );
        }
    }
    // Nor anywhere in the database.
    let stored = app.stored_bytes().await;
    for secret in secrets {
        assert!(!contains_bytes(&stored, secret), "a secret in the database");
    }
}
on_both_backends!(no_password_or_token_reaches_the_audit_records_or_the_database);
