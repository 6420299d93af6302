//! Bad input always gets a clear answer in the API's error format: never a 500, a panic or a
//! hang. Malformed and mistyped bodies (`bodies`), bad path ids, unknown paths and methods
//! (`paths`), bad tokens, request ids and extra headers (`headers`), oversized bodies and slow
//! or broken clients on a raw TCP socket (`connections`).

mod bodies;
mod connections;
mod headers;
mod paths;

use std::time::Duration as StdDuration;

use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::common::*;

/// No single exchange in this file may take longer than this: a hang fails the test.
const BOUND: StdDuration = StdDuration::from_secs(30);

/// One answer with its headers.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn parts(&self) -> (StatusCode, Value) {
        (self.status, self.body.clone())
    }
}

async fn answer(r: RequestBuilder) -> Answer {
    let response = tokio::time::timeout(BOUND, r.send())
        .await
        .expect("the server answers in time")
        .expect("the server answers");
    let headers = response.headers().clone();
    let (status, body) = tokio::time::timeout(BOUND, into_parts(response))
        .await
        .expect("the body arrives in time");
    Answer {
        status,
        headers,
        body,
    }
}

/// Asserts an error in the API's format, with its content type.
#[track_caller]
fn assert_fault(a: &Answer, status: StatusCode, code: u64) {
    assert_error(&a.parts(), status, code);
    assert_eq!(
        a.header("content-type"),
        Some("application/json; charset=utf-8"),
        "{}",
        a.body
    );
}

fn is_guid(s: &str) -> bool {
    s.len() == 36 && roster_domain::ids::parse_guid(s).is_ok()
}

const DOMAIN: &str = "contoso.onmicrosoft.com";

/// A raw HTTP/1.1 answer read from a socket.
#[derive(Debug)]
struct RawAnswer {
    status: u16,
    head: String,
    body: Value,
}

/// Parses the first final (non-1xx) response in `bytes`.
fn parse_raw(bytes: &[u8]) -> Option<RawAnswer> {
    let mut rest = bytes;
    loop {
        let end = rest.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&rest[..end]).into_owned();
        rest = &rest[end + 4..];
        let status: u16 = head.split(' ').nth(1)?.parse().ok()?;
        if (100..200).contains(&status) {
            continue;
        }
        let length = head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        });
        let body = &rest[..length.unwrap_or(rest.len()).min(rest.len())];
        let body = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
        };
        return Some(RawAnswer { status, head, body });
    }
}

/// Reads until the server closes the connection or `within` passes; returns what came and
/// whether the connection was closed.
async fn read_until_closed(stream: &mut TcpStream, within: StdDuration) -> (Vec<u8>, bool) {
    let deadline = tokio::time::Instant::now() + within;
    let mut got = vec![];
    let mut buf = [0u8; 8192];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return (got, false),
            Ok(Ok(0)) | Ok(Err(_)) => return (got, true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}
