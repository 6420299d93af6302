//! Path ids that are not GUIDs, unknown paths and wrong methods.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::*;
use crate::common::*;

// ------------------------------------------------------------------ path ids

async fn path_ids_must_be_guids() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let user = app.user(&cid, &format!("ada@{DOMAIN}"), "Ada").await;
    let uid = user["id"].as_str().unwrap().to_string();
    let long_id = "a".repeat(5000);
    let bad = [
        "abc",
        "1",
        "null",
        "62e9039469f542379190012177145e10",
        "62e90394-69f5-4237-9190-012177145e1",
        "62e90394-69f5-4237-9190-012177145e100",
        "g2e90394-69f5-4237-9190-012177145e10",
        "62e90394_69f5_4237_9190_012177145e10",
        "{62e90394-69f5-4237-9190-012177145e10",
        "(62e90394-69f5-4237-9190-012177145e10)",
        "urn:uuid:62e90394-69f5-4237-9190-012177145e10",
        "%2062e90394-69f5-4237-9190-012177145e10",
        "%7B%7D",
        "%00",
        "%FF",
        "%C3%28",
        "%E2%9C%93",
        "%F0%9F%98%80",
        "..%2F..%2Fetc",
        long_id.as_str(),
    ];
    for id in bad {
        let shown = &id[..id.len().min(40)];
        let checks: Vec<(Method, String, Option<Value>, &str)> = vec![
            (
                Method::GET,
                format!("/v1/customers/{id}"),
                None,
                "Tenant Id must be a GUID.",
            ),
            (
                Method::GET,
                format!("/v1/customers/{id}/users"),
                None,
                "Tenant Id must be a GUID.",
            ),
            (
                Method::GET,
                format!("/v1/customers/{id}/domains"),
                None,
                "Tenant Id must be a GUID.",
            ),
            (
                Method::POST,
                format!("/v1/customers/{id}/users"),
                Some(json!({"userPrincipalName": format!("x@{DOMAIN}"), "displayName": "X"})),
                "Tenant Id must be a GUID.",
            ),
            (
                Method::GET,
                format!("/v1/customers/{id}/users/{uid}"),
                None,
                "Tenant Id must be a GUID.",
            ),
            (
                Method::GET,
                format!("/v1/customers/{cid}/users/{id}"),
                None,
                "User Id must be a GUID.",
            ),
            (
                Method::PATCH,
                format!("/v1/customers/{cid}/users/{id}"),
                Some(json!({"displayName": "X"})),
                "User Id must be a GUID.",
            ),
            (
                Method::DELETE,
                format!("/v1/customers/{cid}/users/{id}"),
                None,
                "User Id must be a GUID.",
            ),
        ];
        for (method, path, body, description) in checks {
            let mut r = app.req(method.clone(), &path);
            if let Some(b) = body {
                r = r.json(&b);
            }
            let a = answer(r).await;
            assert_eq!(a.body["code"], 2000, "{method} {shown}: {}", a.body);
            assert_fault(&a, StatusCode::BAD_REQUEST, 2000);
            assert_eq!(a.body["description"], description, "{method} {shown}");
        }
    }

    // Braces and upper case are accepted, and answered in the canonical form.
    let forms = |id: &str| {
        [
            id.to_uppercase(),
            format!("{{{id}}}"),
            format!("{{{}}}", id.to_uppercase()),
            format!("%7B{id}%7D"),
        ]
    };
    for c in forms(&cid) {
        let a = answer(app.req(Method::GET, &format!("/v1/customers/{c}"))).await;
        assert_eq!(a.status, StatusCode::OK, "{c}: {}", a.body);
        assert_eq!(a.body["id"], cid.as_str());
        for u in forms(&uid) {
            let a = answer(app.req(Method::GET, &format!("/v1/customers/{c}/users/{u}"))).await;
            assert_eq!(a.status, StatusCode::OK, "{c} {u}: {}", a.body);
            assert_eq!(a.body["id"], uid.as_str());
        }
    }
    // A GUID that names nothing is a 404, not a 400.
    let nil = "00000000-0000-0000-0000-000000000000";
    let a = answer(app.req(Method::GET, &format!("/v1/customers/{nil}"))).await;
    assert_fault(&a, StatusCode::NOT_FOUND, 60003);
    let a = answer(app.req(Method::GET, &format!("/v1/customers/{cid}/users/{nil}"))).await;
    assert_fault(&a, StatusCode::NOT_FOUND, 60002);
}
on_both_backends!(path_ids_must_be_guids);

// ------------------------------------------------------------------ routing

async fn unknown_paths_get_404_and_wrong_methods_get_405_with_a_body() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let unknown = [
        "/",
        "/v1",
        "/v1/",
        "/v2/customers",
        "/v1/nope",
        "/v1/customers/x/y/z/w/v",
        &format!("/v1/customers/{cid}/nope"),
        &format!("/v1/customers/{cid}/users/x/y/z"),
        "/v1/%FF",
        "/v1/customers%00",
        "/openapi.json/x",
    ];
    for path in unknown {
        for authed in [true, false] {
            let r = if authed {
                app.req(Method::GET, path)
            } else {
                app.client.get(app.url(path))
            };
            let a = answer(r).await;
            assert_fault(&a, StatusCode::NOT_FOUND, 1000);
        }
    }
    let wrong: Vec<(Method, String)> = vec![
        (Method::PUT, "/v1/customers".into()),
        (Method::DELETE, "/v1/customers".into()),
        (Method::PATCH, "/v1/customers/".into()),
        (Method::PUT, format!("/v1/customers/{cid}")),
        (Method::POST, format!("/v1/customers/{cid}")),
        (Method::DELETE, format!("/v1/customers/{cid}/users")),
        (Method::POST, format!("/v1/customers/{cid}/users/{cid}")),
        (Method::GET, "/oauth2/token".into()),
        (Method::POST, "/healthz".into()),
        (Method::from_bytes(b"BREW").unwrap(), "/v1/customers".into()),
    ];
    // An MS-RequestId already used for another request: the idempotency layer must not
    // answer for a method the route does not have.
    let used = "5f0c4b1e-2f57-4a8e-9d61-6f3a0e2b7c94";
    let first = answer(
        app.req(Method::PATCH, &format!("/v1/customers/{cid}"))
            .header("MS-RequestId", used)
            .json(&json!({"allowDelegatedAccess": true})),
    )
    .await;
    assert!(first.status.is_success(), "{}", first.body);
    for (method, path) in wrong {
        let a = answer(app.req(method.clone(), &path).json(&json!({}))).await;
        assert_fault(&a, StatusCode::METHOD_NOT_ALLOWED, 405);
        assert!(
            a.header("allow").is_some(),
            "{method} {path}: no Allow header"
        );
        // The same without a token, and with the used MS-RequestId: still the 405.
        let anonymous = answer(app.client.request(method.clone(), app.url(&path))).await;
        assert_fault(&anonymous, StatusCode::METHOD_NOT_ALLOWED, 405);
        let reused = answer(
            app.req(method.clone(), &path)
                .header("MS-RequestId", used)
                .json(&json!({})),
        )
        .await;
        assert_fault(&reused, StatusCode::METHOD_NOT_ALLOWED, 405);
    }
}
on_both_backends!(unknown_paths_get_404_and_wrong_methods_get_405_with_a_body);
