//! Bad tokens, request and correlation ids, and what clients send besides.

use reqwest::header::{HeaderValue, CONTENT_TYPE};
use reqwest::{Method, RequestBuilder, StatusCode};
use roster_server::BODY_LIMIT;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;
use crate::common::*;

// ------------------------------------------------------------------ authentication

async fn bad_tokens_get_401_with_www_authenticate() {
    let app = TestApp::start().await;
    let token = app.token.clone();
    let mut tampered_middle = token.clone().into_bytes();
    let mid = tampered_middle.len() / 2;
    tampered_middle[mid] = if tampered_middle[mid] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let mut tampered_end = token.clone().into_bytes();
    let last = tampered_end.len() - 1;
    tampered_end[last] = if tampered_end[last] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let tampered_middle = String::from_utf8(tampered_middle).unwrap();
    let tampered_end = String::from_utf8(tampered_end).unwrap();
    let huge = "x".repeat(16 * 1024);
    let values: Vec<Option<Vec<u8>>> = vec![
        None,
        Some(b"".to_vec()),
        Some(b"Bearer".to_vec()),
        Some(b"Bearer ".to_vec()),
        Some(b"Bearer    ".to_vec()),
        Some(b"Bearer garbage".to_vec()),
        Some(b"Bearer a.b.c".to_vec()),
        Some(b"Bearer ....".to_vec()),
        Some(b"Bearer \xff\xfe".to_vec()),
        Some(format!("Bearer {huge}").into_bytes()),
        Some(format!("Bearer {tampered_middle}").into_bytes()),
        Some(format!("Bearer {tampered_end}").into_bytes()),
        Some(format!("Bearer {token}x").into_bytes()),
        Some(format!("Bearer {}", &token[..token.len() - 1]).into_bytes()),
        Some(format!("Bearer {token} {token}").into_bytes()),
        Some(format!("Basic {token}").into_bytes()),
        Some(format!("Token {token}").into_bytes()),
        Some(token.clone().into_bytes()),
        Some(b"Basic YWRtaW5AcGFydG5lci5sb2NhbDpDb3JyZWN0LUhvcnNlLTQyLUJhdHRlcnk=".to_vec()),
    ];
    let cid = "62e90394-69f5-4237-9190-012177145e10";
    let targets: Vec<(Method, String, Option<&[u8]>)> = vec![
        (Method::GET, "/v1/customers".into(), None),
        // Authentication comes before the body and the path: nothing is revealed.
        (Method::POST, "/v1/customers".into(), Some(b"{not json")),
        (Method::GET, "/v1/customers/not-a-guid".into(), None),
        (
            Method::PATCH,
            format!("/v1/customers/{cid}/users/{cid}"),
            Some(b"[]"),
        ),
        (
            Method::DELETE,
            format!("/v1/customers/{cid}/users/{cid}"),
            None,
        ),
    ];
    for value in &values {
        for (method, path, body) in &targets {
            let mut r = app.client.request(method.clone(), app.url(path));
            if let Some(v) = value {
                r = r.header("authorization", HeaderValue::from_bytes(v).unwrap());
            }
            if let Some(b) = body {
                r = r.header(CONTENT_TYPE, "application/json").body(b.to_vec());
            }
            let a = answer(r).await;
            let shown = value
                .as_ref()
                .map(|v| String::from_utf8_lossy(&v[..v.len().min(40)]).into_owned());
            assert_eq!(
                a.status,
                StatusCode::UNAUTHORIZED,
                "{shown:?} {method} {path}: {}",
                a.body
            );
            assert_fault(&a, StatusCode::UNAUTHORIZED, 800001);
            assert!(
                a.header("www-authenticate")
                    .is_some_and(|v| v.starts_with("Bearer")),
                "{shown:?}: {:?}",
                a.header("www-authenticate")
            );
        }
    }
    // The scheme's case does not matter, and the real token still works.
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let a = answer(
            app.client
                .get(app.url("/v1/customers"))
                .header("authorization", format!("{scheme} {token}")),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{scheme}: {}", a.body);
    }
}
on_both_backends!(bad_tokens_get_401_with_www_authenticate);

// ------------------------------------------------------------------ request ids

async fn request_and_correlation_ids_are_echoed_or_generated() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let users = format!("/v1/customers/{cid}/users");
    // (request, expected status) pairs covering successes and every kind of error.
    let requests = |a: &TestApp| -> Vec<(RequestBuilder, StatusCode)> {
        vec![
            (a.req(Method::GET, "/v1/customers"), StatusCode::OK),
            (a.req(Method::GET, "/healthz"), StatusCode::OK),
            (
                a.req(Method::POST, &users)
                    .header(CONTENT_TYPE, "application/json")
                    .body("{"),
                StatusCode::BAD_REQUEST,
            ),
            (
                a.req(Method::POST, &users).json(&json!({})),
                StatusCode::BAD_REQUEST,
            ),
            (
                a.req(Method::GET, "/v1/customers/nope"),
                StatusCode::BAD_REQUEST,
            ),
            (
                a.client.get(a.url("/v1/customers")),
                StatusCode::UNAUTHORIZED,
            ),
            (a.req(Method::GET, "/v1/nope"), StatusCode::NOT_FOUND),
            (
                a.req(Method::PUT, "/v1/customers"),
                StatusCode::METHOD_NOT_ALLOWED,
            ),
            (
                a.req(Method::POST, &users)
                    .body(vec![b' '; BODY_LIMIT + 10]),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
        ]
    };

    // Sent: echoed as they are, on successes and errors alike.
    for (i, (r, status)) in requests(&app).into_iter().enumerate() {
        let request_id = format!("0f8fad5b-d9cb-469f-a165-70867728950{i}");
        let correlation_id = format!("7c9e6679-7425-40de-944b-e07fc1f9045{i}");
        let a = answer(
            r.header("MS-RequestId", &request_id)
                .header("MS-CorrelationId", &correlation_id),
        )
        .await;
        assert_eq!(a.status, status, "{}", a.body);
        assert_eq!(
            a.header("ms-requestid"),
            Some(request_id.as_str()),
            "{status}"
        );
        assert_eq!(
            a.header("ms-correlationid"),
            Some(correlation_id.as_str()),
            "{status}"
        );
        if status.is_client_error() {
            assert_eq!(a.body["source"], "Roster", "{status}: {}", a.body);
        }
    }

    // Not sent: generated, GUIDs, distinct, and fresh per request.
    let mut seen = std::collections::HashSet::new();
    for (r, status) in requests(&app) {
        let a = answer(r).await;
        assert_eq!(a.status, status, "{}", a.body);
        let request_id = a.header("ms-requestid").expect("MS-RequestId").to_string();
        let correlation_id = a
            .header("ms-correlationid")
            .expect("MS-CorrelationId")
            .to_string();
        assert!(is_guid(&request_id), "{request_id}");
        assert!(is_guid(&correlation_id), "{correlation_id}");
        assert!(seen.insert(request_id));
        assert!(seen.insert(correlation_id));
    }

    // Unusable values (too long, not printable) are replaced by generated GUIDs.
    let a = answer(
        app.req(Method::GET, "/v1/customers")
            .header("MS-RequestId", "r".repeat(1000))
            .header(
                "MS-CorrelationId",
                HeaderValue::from_bytes(b"caf\xc3\xa9 id").unwrap(),
            ),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(is_guid(a.header("ms-requestid").unwrap()));
    assert!(is_guid(a.header("ms-correlationid").unwrap()));
}
on_both_backends!(request_and_correlation_ids_are_echoed_or_generated);

// ------------------------------------------------------------------ tolerance

async fn unknown_query_parameters_and_extra_headers_are_accepted() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let extra = |r: RequestBuilder| {
        r.header("MS-Contract-Version", "v1")
            .header("X-Locale", "fr-FR")
            .header("MS-PartnerCenter-Client", "Partner Center .NET SDK")
            .header("MS-PartnerCenter-Application", "Robustness tests")
            .header("MS-CV", "uNHy3h8y+0a2VJm1.1")
            .header("MS-SdkVersion", "3.4.0")
            .header("x-ms-client-request-id", "anything at all")
            .header("Accept-Language", "de-DE,de;q=0.9")
            .header("Accept", "application/json")
            .header("X-Something-Else", "1")
    };
    for path in [
        "/v1/customers?foo=bar&api-version=2&x=".to_string(),
        format!("/v1/customers/{cid}?expand=everything&&&=&a=%20"),
        format!("/v1/customers/{cid}/users?unknown=1&SIZE=5&sortfield=displayName"),
        format!("/v1/customers/{cid}/domains?x=y"),
    ] {
        let a = answer(extra(app.req(Method::GET, &path)).header(CONTENT_TYPE, "application/json"))
            .await;
        assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.body);
        assert_eq!(
            a.header("content-type"),
            Some("application/json; charset=utf-8")
        );
    }
    // A body with Expect: 100-continue, through a client...
    let a = answer(
        extra(app.req(Method::POST, &format!("/v1/customers/{cid}/users?foo=bar")))
            .header("Expect", "100-continue")
            .json(&json!({"userPrincipalName": format!("ada@{DOMAIN}"), "displayName": "Ada"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    // ...and on the wire: the server says 100 Continue before the client sends the body.
    let body =
        json!({"userPrincipalName": format!("bob@{DOMAIN}"), "displayName": "Bob"}).to_string();
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /v1/customers/{cid}/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        app.token,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = [0u8; 1024];
    let n = tokio::time::timeout(BOUND, stream.read(&mut buf))
        .await
        .expect("100 Continue in time")
        .unwrap();
    let interim = String::from_utf8_lossy(&buf[..n]);
    assert!(
        interim.starts_with("HTTP/1.1 100 Continue\r\n"),
        "{interim}"
    );
    stream.write_all(body.as_bytes()).await.unwrap();
    let (got, closed) = read_until_closed(&mut stream, BOUND).await;
    assert!(closed);
    let a = parse_raw(&got).expect("an answer");
    assert_eq!(a.status, 201, "{a:?}");
    // Any content type, or none, on a body.
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/json; charset=utf-8"),
    ] {
        let mut r = app
            .req(
                Method::PATCH,
                &format!(
                    "/v1/customers/{cid}/users/{}",
                    a.body["id"].as_str().unwrap()
                ),
            )
            .body(json!({"firstName": "Bob"}).to_string());
        if let Some(t) = content_type {
            r = r.header(CONTENT_TYPE, t);
        }
        let a = answer(r).await;
        assert_eq!(a.status, StatusCode::OK, "{content_type:?}: {}", a.body);
    }
}
on_both_backends!(unknown_query_parameters_and_extra_headers_are_accepted);
