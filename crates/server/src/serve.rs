//! The HTTP/1.1 server loop: time-outs against slow clients, and a graceful stop that
//! finishes the requests in flight.

use std::future::Future;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

pub use roster_service::ClientAddr;

/// Limits on how long a client may take.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// To send the request line and headers.
    pub headers: Duration,
    /// To send the body, and for the whole request to be answered.
    pub request: Duration,
    /// For requests in flight to finish after a stop was asked for.
    pub drain: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            headers: Duration::from_secs(10),
            request: Duration::from_secs(60),
            drain: Duration::from_secs(30),
        }
    }
}

/// Serves `app` on `listener` until `stop` completes, then stops accepting, lets the requests
/// in flight finish (up to `timeouts.drain`) and returns.
pub async fn run<S>(
    listener: TcpListener,
    app: S,
    timeouts: Timeouts,
    stop: impl Future<Output = ()>,
) where
    S: tower::Service<
            axum::http::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.headers)
        .keep_alive(true);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let client = ClientAddr(peer.ip());
                let service = tower::ServiceExt::map_request(app.clone(), move |mut req: axum::http::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(client);
                    req
                });
                let connection = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
            () = &mut stop => break,
        }
    }
    drop(listener);
    tracing::info!("stopping: finishing the requests in flight");
    if tokio::time::timeout(timeouts.drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some requests did not finish in time and were cut off");
    }
}
