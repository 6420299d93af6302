//! The HTTP/1.1 server loop: time-outs against slow clients, and a graceful stop that
//! finishes the requests in flight.

use std::future::Future;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

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

/// Connections beyond the limit that are answered 503 at once; more than these are closed
/// without an answer (a flood gets no work out of the server either way).
const REFUSED_AT_ONCE: usize = 64;

/// Serves `app` on `listener` until `stop` completes, then stops accepting, lets the requests
/// in flight finish (up to `timeouts.drain`) and returns. At most `max_connections` are open
/// at once: one more is answered 503 with `Retry-After` and closed.
pub async fn run<S>(
    listener: TcpListener,
    app: S,
    timeouts: Timeouts,
    max_connections: usize,
    tls: Option<tokio_rustls::TlsAcceptor>,
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
    let open = Arc::new(Semaphore::new(max_connections.max(1)));
    let refusing = Arc::new(Semaphore::new(REFUSED_AT_ONCE));
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
                let Ok(permit) = Arc::clone(&open).try_acquire_owned() else {
                    if let Ok(permit) = Arc::clone(&refusing).try_acquire_owned() {
                        tokio::spawn(refuse(stream, permit));
                    }
                    continue;
                };
                let client = ClientAddr(peer.ip());
                let service = tower::ServiceExt::map_request(app.clone(), move |mut req: axum::http::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(client);
                    req
                });
                let service = TowerToHyperService::new(service);
                let (builder, watcher, tls) = (builder.clone(), graceful.watcher(), tls.clone());
                let handshake = timeouts.headers;
                tokio::spawn(async move {
                    let served = match tls {
                        None => watcher.watch(builder.serve_connection(TokioIo::new(stream), service)).await,
                        // The handshake has the headers' time: a client that stalls in it
                        // holds its connection no longer than one that stalls after it.
                        Some(acceptor) => match tokio::time::timeout(handshake, acceptor.accept(stream)).await {
                            Ok(Ok(stream)) => watcher.watch(builder.serve_connection(TokioIo::new(stream), service)).await,
                            Ok(Err(e)) => {
                                tracing::debug!(error = %e, "TLS handshake failed");
                                Ok(())
                            }
                            Err(_) => Ok(()),
                        },
                    };
                    if let Err(e) = served {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                    drop(permit);
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

/// A connection beyond the limit: its first request is answered 503 with `Retry-After`, and
/// the connection closed. It gets a second to send its request.
async fn refuse(stream: TcpStream, _permit: OwnedSemaphorePermit) {
    let service = hyper::service::service_fn(|_req| async {
        let mut r = crate::layers::overloaded("connections");
        r.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        Ok::<_, std::convert::Infallible>(r)
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(1))
        .keep_alive(false);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    let _ = tokio::time::timeout(Duration::from_secs(2), connection).await;
}
