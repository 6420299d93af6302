//! The limits that keep the server answering under floods (issue 18, security review F4):
//! each gives its answer and `Retry-After` at the limit, and what is under it is served.

use std::time::Duration as StdDuration;

use reqwest::StatusCode;
use roster_service::limits::Limits;
use roster_service::HashCost;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::*;

fn with_limits(limits: Limits) -> Builder {
    let mut b = Builder::default();
    b.settings.limits = limits;
    b
}

fn retry_after(r: &reqwest::Response) -> u64 {
    r.headers()
        .get("retry-after")
        .unwrap_or_else(|| panic!("no Retry-After on {}", r.status()))
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

on_both_backends!(sign_in_is_rate_limited_per_source_address);
async fn sign_in_is_rate_limited_per_source_address() {
    let app = TestApp::start_with(with_limits(Limits {
        sign_in_per_minute_per_address: 4,
        ..Limits::default()
    }))
    .await;
    // The start signed the admin in once from 127.0.0.1; three more wrong ones use the rate.
    let flood = client_from("127.0.0.1");
    for _ in 0..3 {
        let r = password_grant(&app, &flood, ADMIN, "Wrong-Password-1").await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
    // Even the right password is refused now, before it is checked.
    let r = password_grant(&app, &flood, ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let after = retry_after(&r);
    assert!((1..=15).contains(&after), "Retry-After {after}");
    assert_eq!(
        r.headers()["cache-control"],
        "no-store",
        "a token answer is never cached"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["statusCode"], 429, "{body}");
    assert_eq!(
        body["message"],
        format!("Rate limit is exceeded. Try again in {after} seconds.")
    );
    // The password change counts against the same rate.
    let r = flood
        .post(app.url("/v1/passwordchange"))
        .json(&json!({"userPrincipalName": ADMIN, "currentPassword": "x", "newPassword": "y"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&r) >= 1);
    // Another address is served: a flood from one source does not lock the others out.
    let other = client_from("127.0.0.2");
    let r = password_grant(&app, &other, ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
}

on_both_backends!(a_password_longer_than_any_account_can_have_is_refused_before_hashing);
async fn a_password_longer_than_any_account_can_have_is_refused_before_hashing() {
    let app = TestApp::start().await;
    let long = "a".repeat(257);
    let r = password_grant(&app, &app.client, ADMIN, &long).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request", "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("longer than 256"),
        "{body}"
    );
    // Refused before the lockout counts them: more than the 10 failures that lock an
    // account, and the right password still signs in.
    for _ in 0..12 {
        let r = password_grant(&app, &app.client, ADMIN, &long).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
    let long_name = format!("{}@partner.local", "a".repeat(120));
    let r = password_grant(&app, &app.client, &long_name, "whatever-1").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    app.sign_in(ADMIN, ADMIN_PASSWORD).await.unwrap();
    // 256 characters are a password the policy allows: checked as usual.
    let r = password_grant(&app, &app.client, ADMIN, &"a".repeat(256)).await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant", "{body}");
}

on_both_backends!(routes_without_a_token_take_small_bodies_only);
async fn routes_without_a_token_take_small_bodies_only() {
    let app = TestApp::start().await;
    // The security review's 1 MiB sign-in: refused without being read whole.
    let body = format!(
        "grant_type=password&username=admin%40partner.local&password={}",
        "A".repeat(1024 * 1024 - 100)
    );
    let r = app
        .client
        .post(app.url("/oauth2/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_error(&into_parts(r).await, StatusCode::PAYLOAD_TOO_LARGE, 800004);
    let big = json!({"userPrincipalName": ADMIN, "currentPassword": "x".repeat(20_000), "newPassword": "y"});
    let r = app
        .client
        .post(app.url("/v1/passwordchange"))
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let r = app
        .client
        .post(app.url("/v1/invitations/redeem"))
        .json(&json!({"token": "t".repeat(20_000)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // A request with a token still takes up to 1 MiB.
    let customer = app.customer("bodies.onmicrosoft.com").await;
    let (s, b) = app
        .post(
            &format!("/v1/customers/{customer}/users"),
            json!({"userPrincipalName": "ada@bodies.onmicrosoft.com", "displayName": "Ada", "usageLocation": "US", "padding": "p".repeat(100_000)}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
}

// Sign-ins at the real Argon2 cost, all at once: more than the hashing queue holds.
on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    a_full_hashing_queue_answers_503_and_the_rest_are_served
);
async fn a_full_hashing_queue_answers_503_and_the_rest_are_served() {
    let mut b = with_limits(Limits {
        hash_queue: 2,
        sign_in_per_minute_per_address: 0,
        ..Limits::default()
    });
    b.settings.hash_cost = HashCost::default();
    let app = TestApp::start_with(b).await;
    let requests = (0..30)
        .map(|i| {
            app.client.post(app.url("/oauth2/token")).form(&[
                ("grant_type", "password"),
                ("username", &format!("nobody{i}@partner.local")),
                ("password", "Wrong-Password-1"),
            ])
        })
        .collect::<Vec<_>>();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(requests.len()));
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|r| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let r = r.send().await.unwrap();
                let after = r.headers().get("retry-after").cloned();
                let status = r.status();
                (status, after, r.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let (mut refused, mut checked) = (0, 0);
    for t in tasks {
        let (status, after, body) = t.await.unwrap();
        match status {
            StatusCode::SERVICE_UNAVAILABLE => {
                refused += 1;
                assert_eq!(after.unwrap(), "1");
                assert_eq!(body["error"], "temporarily_unavailable", "{body}");
            }
            StatusCode::BAD_REQUEST => {
                checked += 1;
                assert_eq!(body["error"], "invalid_grant", "{body}");
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert!(refused > 0, "30 hashes at once fit a queue of 2?");
    assert!(checked >= 2, "the queue's hashes were checked: {checked}");
    // Once the flood is over, sign-in works.
    app.sign_in(ADMIN, ADMIN_PASSWORD).await.unwrap();
    assert_eq!(app.roster.hash_queue_depth(), 0);
}

// A flood of wrong sign-ins keeps the hashing queue full; the administrator, signing in from
// a network it signed in from before, still gets through on the queue's reserve.
on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    a_sign_in_from_a_familiar_network_is_served_while_a_flood_fills_the_queue
);
async fn a_sign_in_from_a_familiar_network_is_served_while_a_flood_fills_the_queue() {
    let mut b = with_limits(Limits {
        hash_queue: 8,
        sign_in_per_minute_per_address: 0,
        ..Limits::default()
    });
    b.settings.hash_cost = HashCost::default();
    let app = TestApp::start_with(b).await;
    // The administrator's network becomes familiar with a first sign-in.
    app.sign_in(ADMIN, ADMIN_PASSWORD).await.unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flooders: Vec<_> = (0..24)
        .map(|i| {
            let (client, url, stop) = (
                client_from("127.0.0.9"),
                app.url("/oauth2/token"),
                stop.clone(),
            );
            tokio::spawn(async move {
                let mut refused = 0;
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    n += 1;
                    let r = client
                        .post(&url)
                        .form(&[
                            ("grant_type", "password"),
                            ("username", &format!("nobody{i}x{n}@partner.local")),
                            ("password", "Wrong-Password-1"),
                        ])
                        .send()
                        .await
                        .unwrap();
                    if r.status() == StatusCode::SERVICE_UNAVAILABLE {
                        refused += 1;
                    }
                }
                refused
            })
        })
        .collect();
    // Until the flood has the queue full.
    let deadline = std::time::Instant::now() + StdDuration::from_secs(20);
    while app.roster.hash_queue_depth() < 6 {
        assert!(
            std::time::Instant::now() < deadline,
            "the flood never filled the queue"
        );
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
    for _ in 0..5 {
        app.sign_in(ADMIN, ADMIN_PASSWORD)
            .await
            .expect("a familiar sign-in during the flood");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut refused = 0;
    for f in flooders {
        refused += f.await.unwrap();
    }
    assert!(refused > 0, "the flood never met a full queue");
}

on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    requests_beyond_those_in_flight_get_503_at_once
);
async fn requests_beyond_those_in_flight_get_503_at_once() {
    let mut b = with_limits(Limits {
        max_requests_in_flight: 2,
        hash_queue: 1024,
        sign_in_per_minute_per_address: 0,
        ..Limits::default()
    });
    b.settings.hash_cost = HashCost::default();
    let app = TestApp::start_with(b).await;
    // Sign-ins at the real cost take tens of milliseconds each: 20 at once are more than two.
    let requests = (0..20)
        .map(|_| {
            app.client.post(app.url("/oauth2/token")).form(&[
                ("grant_type", "password"),
                ("username", ADMIN),
                ("password", ADMIN_PASSWORD),
            ])
        })
        .collect();
    let answers = all_at_once(requests).await;
    let refused = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .count();
    let served = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(refused + served, 20, "{answers:?}");
    assert!(
        refused > 0 && served >= 2,
        "{refused} refused, {served} served"
    );
    let (_, body) = answers
        .iter()
        .find(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .unwrap();
    assert_error(
        &(StatusCode::SERVICE_UNAVAILABLE, body.clone()),
        StatusCode::SERVICE_UNAVAILABLE,
        503,
    );
    let r = app.req(reqwest::Method::GET, "/v1/customers").send().await;
    assert_eq!(r.unwrap().status(), StatusCode::OK);
}

on_both_backends!(connections_beyond_the_limit_are_answered_503_and_closed);
async fn connections_beyond_the_limit_are_answered_503_and_closed() {
    // The test client's own connection (the admin's sign-in, kept alive) is one of three.
    let app = TestApp::start_with(with_limits(Limits {
        max_connections: 3,
        ..Limits::default()
    }))
    .await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    // Two idle keep-alive connections hold the limit (each served one request first, so
    // that the server has taken both).
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
        c.write_all(request).await.unwrap();
        let mut buf = [0u8; 1024];
        let n = c.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        held.push(c);
    }
    let mut third = tokio::net::TcpStream::connect(&addr).await.unwrap();
    third.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(StdDuration::from_secs(5), third.read_to_end(&mut answer))
        .await
        .expect("the refused connection is closed")
        .unwrap();
    let text = String::from_utf8_lossy(&answer).to_lowercase();
    assert!(text.starts_with("http/1.1 503"), "{text}");
    assert!(text.contains("retry-after: 1"), "{text}");
    assert!(text.contains("connection: close"), "{text}");
    assert!(text.contains("\"code\":503"), "{text}");
    // One held connection goes: a new one is served.
    drop(held.pop());
    let deadline = std::time::Instant::now() + StdDuration::from_secs(5);
    loop {
        let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
        c.write_all(request).await.unwrap();
        let mut buf = [0u8; 1024];
        let n = c.read(&mut buf).await.unwrap_or(0);
        if buf[..n].starts_with(b"HTTP/1.1 200") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            String::from_utf8_lossy(&buf[..n])
        );
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
}

on_both_backends!(the_api_is_rate_limited_per_partner_and_per_application);
async fn the_api_is_rate_limited_per_partner_and_per_application() {
    let app = TestApp::start_with(with_limits(Limits {
        api_per_minute_per_partner: 8,
        api_per_minute_per_application: 3,
        ..Limits::default()
    }))
    .await;
    // The application's registration and its sign-in are requests of the partner (1; the
    // sign-in takes no token).
    let app_token = app_only_token(&app).await;
    for _ in 0..3 {
        let (s, b) = call(
            &app,
            &app_token,
            reqwest::Method::GET,
            "/v1/customers",
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    let r = app
        .client
        .get(app.url("/v1/customers"))
        .bearer_auth(&app_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let after = retry_after(&r);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!({"statusCode": 429, "message": format!("Rate limit is exceeded. Try again in {after} seconds.")})
    );
    // The partner's own user still has its rate: 8 in all, 4 used by now.
    for _ in 0..4 {
        let (s, b) = app.get("/v1/customers").await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    let r = app
        .req(reqwest::Method::GET, "/v1/customers")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&r) >= 1);
    // Requests without a token are not the partner's: health is still answered.
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

on_both_backends!(metrics_are_off_by_default);
async fn metrics_are_off_by_default() {
    let app = TestApp::start().await;
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

on_both_backends!(metrics_with_a_token_count_requests_sign_ins_and_queues);
async fn metrics_with_a_token_count_requests_sign_ins_and_queues() {
    use roster_server::metrics::MetricsAccess;
    let token = "metrics-token-0123456789";
    let app = TestApp::start_with(Builder {
        metrics: MetricsAccess::token(token),
        ..Default::default()
    })
    .await;
    let (s, _) = app.get("/v1/customers").await;
    assert_eq!(s, StatusCode::OK);
    let _ = app.sign_in(ADMIN, "Wrong-Password-1").await.unwrap_err();
    let read = |bearer: Option<&str>| {
        let mut r = app.client.get(app.url("/metrics"));
        if let Some(t) = bearer {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    assert_eq!(read(None).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(
        read(Some("not-the-token-at-all")).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    // The admin's access token is not the metrics token.
    assert_eq!(
        read(Some(&app.token)).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let r = read(Some(token)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = r.text().await.unwrap();
    for series in [
        r#"roster_http_requests_total{method="GET",route="/v1/customers",status="200"}"#,
        r#"roster_http_requests_total{method="POST",route="/oauth2/token",status="400"}"#,
        r#"roster_http_request_duration_seconds_bucket{method="GET",route="/v1/customers",le="0.005"}"#,
        "roster_http_requests_in_flight",
        "roster_sign_in_failures_total",
        "roster_hash_queue_depth 0",
        "roster_db_queued_writes",
        "roster_outbox_messages",
    ] {
        assert!(text.contains(series), "{series} missing from:\n{text}");
    }
    if app.database_url.is_some() {
        assert!(text.contains("roster_db_connections_max 16"), "{text}");
    }
}
