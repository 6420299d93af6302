//! A proxy for tests, in front of a started server: it answers chosen requests itself or
//! drops their answers, and forwards the rest. The SDK's tests and the CLI's (which include
//! this file by its path) use it to make faults the server does not make on its own.

#![allow(dead_code, clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does with the request it gets: answers it itself, forwards it but drops
/// the connection before the answer, or forwards it.
#[derive(Clone, Copy)]
pub enum Fault {
    /// Forwards the request and its answer, as to requests past the list.
    Forward,
    Status(&'static str),
    DropAfterForwarding,
}

/// A proxy in front of the server that applies `faults` to the requests that match `hit`,
/// one fault a request in order, then forwards everything; counts the requests that match.
pub async fn proxy(
    server: String,
    faults: Vec<Fault>,
    hit: &'static str,
) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let target = server.trim_start_matches("http://").to_string();
    let faults = Arc::new(faults);
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            let faults = faults.clone();
            let counter = counter.clone();
            let target = target.clone();
            tokio::spawn(async move {
                // One request per connection: the answers say `Connection: close`.
                let Some(request) = read_message(&mut client).await else {
                    return;
                };
                let head = String::from_utf8_lossy(&request)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let fault = if head.contains(hit) {
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    faults.get(n).copied()
                } else {
                    None
                };
                if let Some(Fault::Status(status)) = fault {
                    let answer = format!("HTTP/1.1 {status}\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    let _ = client.write_all(answer.as_bytes()).await;
                    return;
                }
                let mut upstream = TcpStream::connect(&target).await.unwrap();
                let request = close_after(&request);
                upstream.write_all(&request).await.unwrap();
                let answer = read_message(&mut upstream).await.unwrap_or_default();
                if matches!(fault, Some(Fault::DropAfterForwarding)) {
                    return; // the server did it; the client never hears
                }
                let _ = client.write_all(&answer).await;
            });
        }
    });
    (url, seen)
}

/// The request with `Connection: close`, so that each connection carries one request.
fn close_after(request: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(request);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let head: Vec<&str> = head
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    format!("{}\r\nConnection: close\r\n\r\n{body}", head.join("\r\n")).into_bytes()
}

/// One HTTP/1.1 message (headers and a `Content-Length` body).
async fn read_message(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                let n = s.read(&mut chunk).await.ok()?;
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some(buf);
        }
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}
