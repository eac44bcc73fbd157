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
///
/// ```
/// use std::time::Duration;
/// // `serve(listener, &shutdown, svc)` is
/// // `serve_with_grace(listener, &shutdown, DEFAULT_GRACE, svc)`.
/// assert_eq!(gochan_http::DEFAULT_GRACE, Duration::from_secs(5));
/// ```
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// How long a client may take to send a request head (HTTP/1) before the connection is
/// closed, as Go's `Server.ReadHeaderTimeout`.
///
/// ```
/// use std::time::Duration;
/// // `serve` and `serve_with_grace` use it; `serve_with_timeouts` takes your own.
/// assert_eq!(gochan_http::HEADER_READ_TIMEOUT, Duration::from_secs(30));
/// ```
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
///
/// ```
/// use std::convert::Infallible;
/// use bytes::Bytes;
/// use http_body_util::{BodyExt, Full};
/// use hyper::body::Incoming;
/// use tower_layer::Layer;
/// use gochan::context;
///
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (shutdown, stop) = context::with_cancel(&context::background());
/// let handler = gochan_http::service_fn(|req: http::Request<Incoming>| async move {
///     let ip = gochan_http::client_ip(&gochan_http::context(&req)).unwrap();
///     Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from(format!("hello, {ip}")))))
/// });
/// let svc = gochan_http::ContextLayer::new().parent(&shutdown).layer(handler);
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?; // any free port
/// let addr = listener.local_addr()?;
/// let server = tokio::spawn(async move { gochan_http::serve(listener, &shutdown, svc).await });
///
/// let req = http::Request::get(format!("http://{addr}/")).body(Full::new(Bytes::new()))?;
/// let resp = gochan_http::send(&context::background(), req).await?;
/// assert_eq!(resp.into_body().collect().await?.to_bytes(), "hello, 127.0.0.1");
///
/// stop.cancel(); // shut down: stop accepting, let requests in flight finish, return
/// server.await??;
/// # Ok(())
/// # }
/// ```
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
///
/// ```
/// use std::convert::Infallible;
/// use std::time::Duration;
/// use bytes::Bytes;
/// use http_body_util::{BodyExt, Full};
/// use hyper::body::Incoming;
/// use gochan::context;
///
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (arrived, started) = gochan::unbounded::<()>();
/// let slow = gochan_http::service_fn(move |_req: http::Request<Incoming>| {
///     arrived.send(()).unwrap();
///     async {
///         tokio::time::sleep(Duration::from_millis(100)).await;
///         Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from("done"))))
///     }
/// });
/// let (shutdown, stop) = context::with_cancel(&context::background());
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let addr = listener.local_addr()?;
/// let grace = Duration::from_secs(10);
/// let server = tokio::spawn(async move {
///     gochan_http::serve_with_grace(listener, &shutdown, grace, slow).await
/// });
///
/// let req = http::Request::get(format!("http://{addr}/")).body(Full::new(Bytes::new()))?;
/// let call = tokio::spawn(async move { gochan_http::send(&context::background(), req).await });
/// started.recv_async().await?; // the request is in flight
/// stop.cancel(); // shutdown: the request in flight may still finish within the grace
/// let resp = call.await??;
/// assert_eq!(resp.into_body().collect().await?.to_bytes(), "done");
/// server.await??;
/// # Ok(())
/// # }
/// ```
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
///
/// ```
/// use std::convert::Infallible;
/// use std::time::Duration;
/// use tokio::io::AsyncReadExt;
/// use gochan::context;
///
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let svc = gochan_http::service_fn(|_req: http::Request<hyper::body::Incoming>| async {
///     Ok::<_, Infallible>(http::Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
/// });
/// let (shutdown, stop) = context::with_cancel(&context::background());
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let addr = listener.local_addr()?;
/// let header_read_timeout = Duration::from_millis(100);
/// let server = tokio::spawn(async move {
///     gochan_http::serve_with_timeouts(listener, &shutdown, Duration::from_secs(1), header_read_timeout, svc)
///         .await
/// });
///
/// // A client that connects and sends nothing is cut after 100 ms.
/// let mut silent = tokio::net::TcpStream::connect(addr).await?;
/// let mut buf = [0u8; 1];
/// let read = tokio::time::timeout(Duration::from_secs(10), silent.read(&mut buf)).await?;
/// assert!(matches!(read, Ok(0) | Err(_))); // closed (or reset) by the server
/// stop.cancel();
/// server.await??;
/// # Ok(())
/// # }
/// ```
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
/// use tower_service::Service;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut svc = gochan_http::service_fn(|req: http::Request<()>| async move {
///     let status = if req.uri().path() == "/" { 200 } else { 404 };
///     Ok::<_, Infallible>(http::Response::builder().status(status).body(()).unwrap())
/// });
/// let resp = svc.call(http::Request::get("/missing").body(()).unwrap()).await.unwrap();
/// assert_eq!(resp.status(), 404);
/// # }
/// ```
pub fn service_fn<F>(f: F) -> ServiceFn<F> {
    ServiceFn { f }
}

/// The service made by [`service_fn`].
///
/// It is `Clone` when the closure is, which [`serve`] needs (one clone per connection).
///
/// ```
/// use std::convert::Infallible;
/// use gochan_http::ServiceFn;
/// use tower_service::Service;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let hello: ServiceFn<_> = gochan_http::service_fn(|_req: http::Request<()>| async {
///     Ok::<_, Infallible>(http::Response::new("hello"))
/// });
/// let mut per_connection = hello.clone();
/// let resp = per_connection.call(http::Request::new(())).await.unwrap();
/// assert_eq!(*resp.body(), "hello");
/// # }
/// ```
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
