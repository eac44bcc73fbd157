//! A minimal accept loop: HTTP/1 and HTTP/2 (hyper-util's `auto` builder) over tokio,
//! the peer address recorded per request ([`RemoteAddr`]), graceful shutdown when a
//! context ends. Use your own loop (or axum's) for anything fancier: the layer does not
//! depend on this one.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskCx, Poll};
use std::time::Duration;

use gochan::context::Context;
use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower_service::Service;

use crate::values::RemoteAddr;

type BoxError = Box<dyn StdError + Send + Sync>;

/// How long [`serve`] lets connections finish after shutdown before cutting them.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// How long a client may take to send a request head (HTTP/1) before the connection is
/// closed, as Go's `Server.ReadHeaderTimeout`.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `service` on `listener` until `shutdown` ends, then stops accepting, lets the
/// connections finish their requests in flight (idle keep-alive connections are closed)
/// for up to [`DEFAULT_GRACE`], cuts what is left, and returns. Give the
/// [`ContextLayer`](crate::ContextLayer) the same context as its
/// [`parent`](crate::ContextLayer::parent) so that requests in flight are cancelled too.
///
/// Must run inside a tokio runtime (it spawns one task per connection). Accept errors
/// (out of file descriptors, a connection reset before accept) are retried after a pause
/// that doubles from 5 ms to 1 s, as Go's `Server.Serve` does. A client that does not
/// finish its first request head within [`HEADER_READ_TIMEOUT`] of connecting is disconnected
/// (whatever it sent meanwhile: nothing, part of a head, part of the HTTP/2 preface), and
/// so is an HTTP/1 client that takes longer than that for any later head.
///
/// # Errors
/// None today: the `io::Result` leaves room for listener errors that cannot be retried.
pub async fn serve<S, B>(listener: TcpListener, shutdown: &Context, service: S) -> io::Result<()>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    serve_with_grace(listener, shutdown, DEFAULT_GRACE, service).await
}

/// [`serve`] with a chosen grace period (Go's `Server.Shutdown(ctx)` with a deadline):
/// after `shutdown` ends, connections get `grace` to finish, then are closed.
///
/// # Errors
/// As [`serve`].
pub async fn serve_with_grace<S, B>(
    listener: TcpListener,
    shutdown: &Context,
    grace: Duration,
    service: S,
) -> io::Result<()>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    serve_with_timeouts(listener, shutdown, grace, HEADER_READ_TIMEOUT, service).await
}

/// [`serve_with_grace`] with a chosen header-read timeout (Go's
/// `Server.ReadHeaderTimeout`): a connection that has not delivered the head of its first
/// request within `header_read_timeout` of being accepted is closed, whatever it sent
/// (nothing at all, part of an HTTP/1 head, part of the HTTP/2 preface, or an HTTP/2
/// preface and no request); later HTTP/1 request heads get the same time each.
///
/// # Errors
/// As [`serve`].
pub async fn serve_with_timeouts<S, B>(
    listener: TcpListener,
    shutdown: &Context,
    grace: Duration,
    header_read_timeout: Duration,
    service: S,
) -> io::Result<()>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let mut conns = tokio::task::JoinSet::new();
    let mut backoff = Duration::ZERO;
    loop {
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(_) => {
                    backoff = (backoff * 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
                    tokio::time::sleep(backoff).await;
                    continue;
                }
            },
            // Reap finished connection tasks so the set does not grow.
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
        };
        backoff = Duration::ZERO;
        let _ = stream.set_nodelay(true);
        let first_request = Arc::new(AtomicBool::new(false));
        let svc = TowerToHyperService::new(WithRemoteAddr {
            inner: service.clone(),
            addr: peer,
            first_request: first_request.clone(),
        });
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), svc)
            .into_owned();
        let conn = graceful.watch(conn);
        conns.spawn(async move {
            // hyper's own header-read timeout only starts once the protocol is known:
            // the `auto` builder first waits for the 24 bytes of the HTTP/2 preface, or
            // for one byte that is not part of it, with no time limit. So a client that
            // sends nothing, or a prefix of the preface, would hold the connection
            // forever; this timer cuts every connection whose first request has not
            // arrived in time.
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                // A connection error (client reset, bad request) ends only that connection.
                _ = conn.as_mut() => return,
                () = tokio::time::sleep(header_read_timeout) => {}
            }
            if first_request.load(Ordering::Acquire) {
                let _ = conn.await;
            } // else: dropping the connection closes it
        });
    }
    drop(listener);
    // Idle connections close now, busy ones after their response; past the grace period
    // the rest are cut (dropping a connection drops its requests, cancelling them).
    let _ = tokio::time::timeout(grace, graceful.shutdown()).await;
    conns.shutdown().await;
    Ok(())
}

/// Inserts the connection's [`RemoteAddr`] into each request.
#[derive(Clone)]
struct WithRemoteAddr<S> {
    inner: S,
    addr: SocketAddr,
    /// Set when the connection's first request head has arrived.
    first_request: Arc<AtomicBool>,
}

impl<S, B> Service<Request<B>> for WithRemoteAddr<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut TaskCx<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> S::Future {
        self.first_request.store(true, Ordering::Release);
        req.extensions_mut().insert(RemoteAddr(self.addr));
        self.inner.call(req)
    }
}

/// A tower service from an async closure (what `tower::service_fn` does, without the
/// dependency). The closure is cloned per connection by [`serve`].
///
/// ```
/// use std::convert::Infallible;
/// let svc = gochan_http::service_fn(|_req: http::Request<()>| async {
///     Ok::<_, Infallible>(http::Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
/// });
/// # let _ = svc;
/// ```
pub fn service_fn<F>(f: F) -> ServiceFn<F> {
    ServiceFn { f }
}

/// The service made by [`service_fn`].
#[derive(Clone, Copy)]
pub struct ServiceFn<F> {
    f: F,
}

impl<F> fmt::Debug for ServiceFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceFn").finish_non_exhaustive()
    }
}

impl<F, Fut, Req, Resp, E> Service<Req> for ServiceFn<F>
where
    F: FnMut(Req) -> Fut,
    Fut: Future<Output = Result<Resp, E>>,
{
    type Response = Resp;
    type Error = E;
    type Future = Fut;

    fn poll_ready(&mut self, _cx: &mut TaskCx<'_>) -> Poll<Result<(), E>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Req) -> Fut {
        (self.f)(req)
    }
}
