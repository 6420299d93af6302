//! Bodies over the limit, and slow or broken clients on a raw TCP socket.

use std::time::{Duration as StdDuration, Instant};

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use roster_server::{Timeouts, BODY_LIMIT};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;
use crate::common::*;

// ------------------------------------------------------------------ body size

/// A JSON object of exactly `len` bytes: a valid user padded with white space.
fn padded_user(len: usize) -> Vec<u8> {
    let mut body = json!({"userPrincipalName": format!("big@{DOMAIN}"), "displayName": "Big"})
        .to_string()
        .into_bytes();
    assert!(body.len() <= len);
    body.resize(len, b' ');
    body
}

/// Writes `head` then `body` (ignoring a server that stops reading early), and reads the
/// answer until the server closes.
async fn raw_exchange(app: &TestApp, head: String, body: Vec<u8>) -> RawAnswer {
    let addr = app.base.trim_start_matches("http://").to_string();
    let stream = TcpStream::connect(&addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let write = tokio::spawn(async move {
        if writer.write_all(head.as_bytes()).await.is_ok() {
            let _ = writer.write_all(&body).await;
        }
        writer
    });
    let mut got = vec![];
    let read = async {
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
            if parse_raw(&got).is_some_and(|a| {
                a.body != Value::Null || a.head.to_ascii_lowercase().contains("content-length: 0")
            }) {
                break;
            }
        }
    };
    tokio::time::timeout(BOUND, read)
        .await
        .expect("the server answers in time");
    write.abort();
    parse_raw(&got).unwrap_or_else(|| {
        panic!(
            "no HTTP answer: {:?}",
            String::from_utf8_lossy(&got[..got.len().min(500)])
        )
    })
}

fn chunked(body: &[u8], chunk: usize) -> Vec<u8> {
    let mut out = vec![];
    for part in body.chunks(chunk) {
        out.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        out.extend_from_slice(part);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

async fn bodies_over_one_mebibyte_get_413() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let path = format!("/v1/customers/{cid}/users");
    let head = |extra: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nConnection: close\r\n{extra}\r\n",
            app.token
        )
    };
    // With Content-Length, one byte over the limit.
    let over = padded_user(BODY_LIMIT + 1);
    let a = raw_exchange(
        &app,
        head(&format!("Content-Length: {}\r\n", over.len())),
        over.clone(),
    )
    .await;
    assert_eq!(a.status, 413, "{a:?}");
    assert_eq!(a.body["code"], 800004, "{a:?}");
    assert_eq!(a.body["source"], "Roster", "{a:?}");
    assert!(
        a.head
            .to_ascii_lowercase()
            .contains("content-type: application/json; charset=utf-8"),
        "{a:?}"
    );
    // Chunked, without Content-Length.
    let a = raw_exchange(
        &app,
        head("Transfer-Encoding: chunked\r\n"),
        chunked(&over, 64 * 1024),
    )
    .await;
    assert_eq!(a.status, 413, "{a:?}");
    assert_eq!(a.body["code"], 800004, "{a:?}");
    // Much larger, with an MS-RequestId (the idempotency layer reads the body too).
    let huge = padded_user(8 * BODY_LIMIT);
    let a = raw_exchange(
        &app,
        head(&format!(
            "Content-Length: {}\r\nMS-RequestId: 5c0d0d43-3d2b-4a51-9d0f-2b8f4b1f0a01\r\n",
            huge.len()
        )),
        huge,
    )
    .await;
    assert_eq!(a.status, 413, "{a:?}");
    assert_eq!(a.body["code"], 800004, "{a:?}");
    // And through an ordinary client.
    let a = answer(
        app.req(Method::POST, &path)
            .header(CONTENT_TYPE, "application/json")
            .body(over),
    )
    .await;
    assert_fault(&a, StatusCode::PAYLOAD_TOO_LARGE, 800004);

    // Exactly at the limit is accepted: the body is read and the user is created.
    let exact = padded_user(BODY_LIMIT);
    let a = answer(
        app.req(Method::POST, &path)
            .header(CONTENT_TYPE, "application/json")
            .body(exact.clone()),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    // Chunked, exactly at the limit: read in full, then refused for the taken UPN, not the size.
    let a = raw_exchange(
        &app,
        head("Transfer-Encoding: chunked\r\n"),
        chunked(&exact, 10_000),
    )
    .await;
    assert_eq!(a.status, 409, "{a:?}");
    assert_eq!(a.body["code"], 60004, "{a:?}");
    // A limit-sized string is a validation error, not a size error.
    let mut big_name =
        format!("{{\"userPrincipalName\": \"x@{DOMAIN}\", \"displayName\": \"").into_bytes();
    big_name.resize(BODY_LIMIT - 2, b'a');
    big_name.extend_from_slice(b"\"}");
    let a = answer(
        app.req(Method::POST, &path)
            .header(CONTENT_TYPE, "application/json")
            .body(big_name),
    )
    .await;
    assert_fault(&a, StatusCode::BAD_REQUEST, 3000);
    assert_eq!(a.body["data"], json!(["displayName"]));
}
on_both_backends!(bodies_over_one_mebibyte_get_413);

// ------------------------------------------------------------------ slow clients

async fn impatient_app() -> TestApp {
    TestApp::start_with(Builder {
        timeouts: Timeouts {
            headers: StdDuration::from_secs(1),
            request: StdDuration::from_secs(2),
            drain: StdDuration::from_secs(1),
        },
        ..Default::default()
    })
    .await
}

const CLOSE_WITHIN: StdDuration = StdDuration::from_secs(10);

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Asserts that the server still answers ordinary requests.
async fn still_serves(app: &TestApp) {
    let a = answer(app.req(Method::GET, "/v1/customers")).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}

async fn a_client_that_stops_in_the_request_line_is_cut_off() {
    let app = impatient_app().await;
    let mut stream = connect(&app).await;
    stream.write_all(b"GET /v1/cust").await.unwrap();
    let started = Instant::now();
    let (got, closed) = read_until_closed(&mut stream, CLOSE_WITHIN).await;
    assert!(closed, "still open after {:?}", started.elapsed());
    // Whatever came back is not a success.
    if let Some(a) = parse_raw(&got) {
        assert!(a.status >= 400, "{a:?}");
    }
    still_serves(&app).await;
}
on_both_backends!(a_client_that_stops_in_the_request_line_is_cut_off);

async fn a_client_that_stops_in_the_headers_is_cut_off() {
    let app = impatient_app().await;
    let mut stream = connect(&app).await;
    let head = format!(
        "GET /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nX-Slow: ",
        app.token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (_, closed) = read_until_closed(&mut stream, CLOSE_WITHIN).await;
    assert!(closed);
    still_serves(&app).await;
}
on_both_backends!(a_client_that_stops_in_the_headers_is_cut_off);

async fn a_client_that_drips_its_headers_is_cut_off() {
    let app = impatient_app().await;
    let stream = connect(&app).await;
    let (mut reader, mut writer) = stream.into_split();
    // One byte every 200 ms: each arrives well within any per-read time-out, but the
    // headers as a whole never finish (this would take a minute).
    let dripper = tokio::spawn(async move {
        for b in b"GET /v1/customers HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
            if writer.write_all(&[*b]).await.is_err() {
                return;
            }
            tokio::time::sleep(StdDuration::from_millis(200)).await;
        }
    });
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(CLOSE_WITHIN, async {
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    dripper.abort();
    assert!(closed.is_ok(), "a dripping client kept its connection");
    still_serves(&app).await;
}
on_both_backends!(a_client_that_drips_its_headers_is_cut_off);

async fn a_silent_connection_is_cut_off() {
    let app = impatient_app().await;
    let mut stream = connect(&app).await;
    let (got, closed) = read_until_closed(&mut stream, CLOSE_WITHIN).await;
    assert!(closed, "a connection that sends nothing stays open");
    if let Some(a) = parse_raw(&got) {
        assert!(a.status >= 400, "{a:?}");
    }
    still_serves(&app).await;
}
on_both_backends!(a_silent_connection_is_cut_off);

async fn an_idle_keep_alive_connection_is_cut_off() {
    let app = impatient_app().await;
    let mut stream = connect(&app).await;
    let head = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
        app.token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (got, closed) = read_until_closed(&mut stream, CLOSE_WITHIN).await;
    let a = parse_raw(&got).expect("an answer");
    assert_eq!(a.status, 200, "{a:?}");
    assert!(closed, "an idle keep-alive connection stays open");
}
on_both_backends!(an_idle_keep_alive_connection_is_cut_off);

async fn a_client_that_stops_in_the_body_gets_408_or_is_cut_off() {
    let app = impatient_app().await;
    let cid = app.customer(DOMAIN).await;
    for (method, path) in [
        ("POST", format!("/v1/customers/{cid}/users")),
        ("POST", "/v1/customers".to_string()),
        ("POST", "/oauth2/token".to_string()),
    ] {
        for request_id in [None, Some("8f1e6a52-9d55-4b3e-a0a5-3c1f8c5e2b11")] {
            let mut stream = connect(&app).await;
            let head = format!(
                "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n{}\r\n{{\"displayN",
                app.token,
                request_id.map(|id| format!("MS-RequestId: {id}\r\n")).unwrap_or_default()
            );
            stream.write_all(head.as_bytes()).await.unwrap();
            let started = Instant::now();
            let (got, closed) = read_until_closed(&mut stream, CLOSE_WITHIN).await;
            match parse_raw(&got) {
                Some(a) => {
                    assert_eq!(a.status, 408, "{path}: {a:?}");
                    assert_eq!(a.body["code"], 408, "{path}: {a:?}");
                    assert_eq!(a.body["source"], "Roster", "{path}: {a:?}");
                }
                None => assert!(
                    closed,
                    "{path}: neither an answer nor a close after {:?}",
                    started.elapsed()
                ),
            }
        }
    }
    still_serves(&app).await;
}
on_both_backends!(a_client_that_stops_in_the_body_gets_408_or_is_cut_off);

async fn garbage_on_the_wire_gets_a_4xx_or_a_close_never_a_hang() {
    let app = TestApp::start().await;
    let auth = format!("Authorization: Bearer {}\r\n", app.token);
    let big_header = format!("X-Big: {}\r\n", "a".repeat(1024 * 1024));
    let requests: Vec<String> = vec![
        "NOT HTTP AT ALL\r\n\r\n".into(),
        "\r\n\r\n\r\n\r\n".into(),
        "GET\r\n\r\n".into(),
        "GET /v1/customers HTTP/9.9\r\n\r\n".into(),
        "GET /v1/customers HTTP/1.1\r\nNo colon here\r\n\r\n".into(),
        format!("GET /v1/customers HTTP/1.1\r\nHost: x\r\n{auth}{big_header}\r\n"),
        format!("POST /v1/customers HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: abc\r\n\r\n{{}}"),
        format!("POST /v1/customers HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: -5\r\n\r\n{{}}"),
        format!("POST /v1/customers HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 2\r\nContent-Length: 3\r\n\r\n{{}}"),
        format!("POST /v1/customers HTTP/1.1\r\nHost: x\r\n{auth}Transfer-Encoding: gzip\r\n\r\n{{}}"),
        format!("GET /v1/customers\u{0} HTTP/1.1\r\nHost: x\r\n{auth}\r\n"),
        format!("GET /v1/cust omers HTTP/1.1\r\nHost: x\r\n{auth}\r\n"),
        format!("GET /v1/customers HTTP/1.1\r\nHost: x\r\n{auth}X-Bad: a\u{0}b\r\n\r\n"),
    ];
    for request in requests {
        let shown: String = request.chars().take(60).collect();
        let mut stream = connect(&app).await;
        // The server may close before it has read everything: that is an answer too.
        let _ = stream.write_all(request.as_bytes()).await;
        let (got, closed) = read_until_closed(&mut stream, BOUND).await;
        match parse_raw(&got) {
            Some(a) => assert!((400..500).contains(&a.status), "{shown:?}: {a:?}"),
            None => assert!(closed, "{shown:?}: no answer and no close"),
        }
    }
    // A broken chunked body is a malformed request, not a time-out (clients retry those).
    for body in [
        "zz\r\n{}\r\n0\r\n\r\n",
        "2\r\n{}}\r\n0\r\n\r\n",
        "5\r\n{}\r\n0\r\n\r\n",
    ] {
        let a = raw_exchange(
            &app,
            format!("POST /v1/customers HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"),
            body.as_bytes().to_vec(),
        )
        .await;
        assert_eq!(a.status, 400, "{body:?}: {a:?}");
        assert_eq!(a.body["code"], 800002, "{body:?}: {a:?}");
    }
    still_serves(&app).await;
}
on_both_backends!(garbage_on_the_wire_gets_a_4xx_or_a_close_never_a_hang);
