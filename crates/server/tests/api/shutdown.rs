use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::*;

/// A stop finishes the requests in flight and refuses new connections.
async fn a_stop_lets_the_request_in_flight_finish() {
    let mut app = TestApp::start().await;
    let cid = app.customer("contoso.onmicrosoft.com").await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let body = serde_json::json!({"userPrincipalName": "late@contoso.onmicrosoft.com", "displayName": "Late"}).to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /v1/customers/{cid}/users HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        app.token,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(first.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    // Let the server start on the request, then ask it to stop.
    tokio::time::sleep(Duration::from_millis(100)).await;
    app.request_stop();
    // New connections are refused once the listener is closed.
    let mut refused = false;
    for _ in 0..100 {
        if TcpStream::connect(&addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        refused,
        "the server kept accepting connections after the stop"
    );
    // The request in flight still completes.
    stream.write_all(rest.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .expect("the response came in time")
        .unwrap();
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 201"), "{text}");
    assert!(text.contains("late@contoso.onmicrosoft.com"), "{text}");
    tokio::time::timeout(Duration::from_secs(10), app.stopped())
        .await
        .expect("the server stopped");
}
on_both_backends!(a_stop_lets_the_request_in_flight_finish);
