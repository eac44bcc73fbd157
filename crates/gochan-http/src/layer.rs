//! The server side: a tower [`Layer`] that gives every request a
//! [`Context`], as Go's `net/http` does with `Request.Context()`.
//!
//! Lifecycle of a request's context (what Go documents for incoming server requests, plus
//! the deadline a caller sent):
//! - created when the request arrives, as a child of the layer's parent context (by default
//!   `background()`; pass a server-shutdown context to cancel every request on shutdown);
//! - carries a [`RequestId`] and, when known, a [`ClientIp`];
//! - has a deadline when the request carries `grpc-timeout` or the plain-HTTP timeout
//!   header (the earlier of the two, capped by [`ContextLayer::max_timeout`]); a malformed
//!   value is answered `400 Bad Request` with the reason (a gRPC request gets grpc-go's
//!   answer: `grpc-status: 13` and its `grpc-message`), and the inner service is not called;
//! - is cancelled with cause [`RequestEnd::ResponseComplete`] once the response body has
//!   been produced to its end (its last frame, or as many bytes as its exact size hint
//!   announced; at once for HEAD requests and 1xx/204/304 answers, which send no body), [`RequestEnd::HandlerFailed`] when the service returns an
//!   error, and [`RequestEnd::ClientDisconnected`] when the server drops the request before
//!   that (hyper does when the client closes the connection or resets the stream).
//!
//! The context is in the request's extensions: [`crate::context`] reads it.
//!
//! # When the client goes away
//!
//! Go's server keeps running a handler whose client has gone: `ctx.Done()` closes and the
//! handler notices it when it next looks. hyper does not: when the client closes the
//! connection (or resets an HTTP/2 stream) it **drops the handler's future** where it is
//! suspended, so no code after the pending `.await` runs, and a handler cannot observe
//! `ctx.done()` closing itself. The layer cancels the context (cause
//! [`RequestEnd::ClientDisconnected`]) *before* that future is dropped, so drop guards and
//! everything else the future owns see `ctx.err() == Some(Canceled)` while they are
//! dropped. A response body the server drops before its end does the same.
//!
//! To keep Go's behaviour (the work sees `ctx.done()` close, then cleans up, logs, returns),
//! spawn the work on a task that holds the context and await its `JoinHandle` (or a gochan
//! channel) in the handler. When the handler's future is dropped the task is not: it runs
//! on, sees `ctx.done()` close and learns why from [`gochan::context::cause`]. Work that
//! ignores the context then runs to its end, as an unwatched goroutine would.
//!
//! ```
//! use std::convert::Infallible;
//! use std::time::Duration;
//! use bytes::Bytes;
//! use http::{Request, Response};
//! use http_body_util::Full;
//! use tower_layer::Layer;
//! use tower_service::Service;
//! use gochan::context;
//! use gochan_http::{ContextLayer, RequestEnd};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let (log, logged) = gochan::unbounded::<String>();
//! let handler = gochan_http::service_fn(move |req: Request<()>| {
//!     let ctx = gochan_http::context(&req);
//!     let log = log.clone();
//!     async move {
//!         // The work owns a clone of the context and runs on its own task.
//!         let work = tokio::spawn(async move {
//!             let done = ctx.done();
//!             tokio::select! {
//!                 _ = tokio::time::sleep(Duration::from_secs(10)) => Ok("results"),
//!                 _ = done.recv_async() => {
//!                     // Go's `case <-ctx.Done():`, reached even though the handler's
//!                     // future is gone.
//!                     log.send(format!("stopped: {}", context::cause(&ctx).unwrap())).unwrap();
//!                     Err(ctx.err().unwrap())
//!                 }
//!             }
//!         });
//!         let body = match work.await {
//!             Ok(Ok(results)) => results.to_string(),
//!             Ok(Err(e)) => e.to_string(),
//!             Err(panicked) => panicked.to_string(),
//!         };
//!         Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
//!     }
//! });
//! let mut svc = ContextLayer::new().layer(handler);
//!
//! // What hyper does when the client goes away: drop the request's future unfinished.
//! let call = svc.call(Request::new(()));
//! assert!(tokio::time::timeout(Duration::from_millis(20), call).await.is_err());
//!
//! // The spawned work saw ctx.done() close, and why.
//! let line = tokio::time::timeout(Duration::from_secs(5), logged.recv_async()).await;
//! assert_eq!(
//!     line.unwrap().unwrap(),
//!     format!("stopped: {}", RequestEnd::ClientDisconnected)
//! );
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context as TaskCx, Poll};
use std::time::Duration;

use bytes::Bytes;
use gochan::context::{self, CancelCauseFunc, CancelFunc, Context};
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http::{Request, Response, StatusCode};
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::Full;
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::grpc_timeout;
use crate::proxies::ForwardedTrust;
use crate::values::{ClientIp, RemoteAddr, RequestId, REQUEST_ID_HEADER};

/// The default plain-HTTP timeout header: a Go duration string such as `250ms` or `1.5s`.
///
/// ```
/// use std::convert::Infallible;
/// use std::time::{Duration, Instant};
/// use tower_layer::Layer;
/// use tower_service::Service;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let handler = gochan_http::service_fn(|req: http::Request<()>| async move {
///     let deadline = gochan_http::context(&req).deadline().expect("the caller sent a timeout");
///     assert!(deadline <= Instant::now() + Duration::from_millis(250));
///     Ok::<_, Infallible>(http::Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
/// });
/// let mut svc = gochan_http::ContextLayer::new().layer(handler);
/// let req = http::Request::builder()
///     .header(gochan_http::TIMEOUT_HEADER, "250ms") // x-timeout: 250ms
///     .body(())
///     .unwrap();
/// svc.call(req).await.unwrap();
/// # }
/// ```
pub const TIMEOUT_HEADER: &str = "x-timeout";

/// Why a request's context was cancelled (its [`gochan::context::cause`]), unless its
/// deadline or the layer's parent ended it first.
///
/// ```
/// use gochan_http::RequestEnd;
/// assert_eq!(RequestEnd::ClientDisconnected.to_string(), "client disconnected before the response was complete");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestEnd {
    /// The response body was produced to its end (Go: `ServeHTTP` returned).
    ResponseComplete,
    /// The service returned an error instead of a response.
    HandlerFailed,
    /// The server dropped the request before the response was complete: the client closed
    /// the connection or reset the stream.
    ClientDisconnected,
}

impl fmt::Display for RequestEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ResponseComplete => "response complete",
            Self::HandlerFailed => "handler failed",
            Self::ClientDisconnected => "client disconnected before the response was complete",
        })
    }
}

impl std::error::Error for RequestEnd {}

/// The settings shared by a layer and the services it makes.
#[derive(Clone, Debug)]
struct Config {
    parent: Context,
    timeout_header: Option<HeaderName>,
    request_id_header: HeaderName,
    max_timeout: Option<Duration>,
    trust_forwarded_for: ForwardedTrust,
    peer: Option<SocketAddr>,
}

/// A tower [`Layer`] giving each request a [`Context`]; see the [module docs](self) for
/// its lifecycle.
///
/// When the client goes away, hyper drops the handler's future; the layer cancels the
/// context (cause [`RequestEnd::ClientDisconnected`]) just before. Work that must see
/// `ctx.done()` close, as a Go handler would, runs on a spawned task holding the context
/// (see [when the client goes away](self#when-the-client-goes-away)).
///
/// ```
/// use std::convert::Infallible;
/// use bytes::Bytes;
/// use http::{Request, Response};
/// use http_body_util::Full;
/// use tower_layer::Layer;
/// use gochan_http::ContextLayer;
///
/// use http_body_util::BodyExt;
/// use tower_service::Service;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let handler = gochan_http::service_fn(|req: Request<()>| async move {
///     let ctx = gochan_http::context(&req);
///     let id = gochan_http::request_id(&ctx).unwrap().to_string();
///     Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(id))))
/// });
/// let mut svc = ContextLayer::new().max_timeout(std::time::Duration::from_secs(30)).layer(handler);
///
/// let req = Request::builder().header("x-request-id", "req-1").body(()).unwrap();
/// let resp = svc.call(req).await.unwrap();
/// assert_eq!(resp.headers()["x-request-id"], "req-1"); // echoed back
/// assert_eq!(resp.into_body().collect().await.unwrap().to_bytes(), "req-1");
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct ContextLayer {
    cfg: Arc<Config>,
}

impl Default for ContextLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl ContextLayer {
    /// Request contexts are children of `background()`; `grpc-timeout` and [`TIMEOUT_HEADER`]
    /// give deadlines; ids come from `x-request-id`; the client IP is the connection's peer.
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use tower_layer::Layer;
    /// use tower_service::Service;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let handler = gochan_http::service_fn(|req: http::Request<()>| async move {
    ///     let ctx = gochan_http::context(&req);
    ///     assert!(ctx.deadline().is_none()); // the caller sent no timeout
    ///     assert_eq!(gochan_http::request_id(&ctx).unwrap().len(), 32); // a generated id
    ///     Ok::<_, Infallible>(http::Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
    /// });
    /// let mut svc = gochan_http::ContextLayer::new().layer(handler);
    /// let resp = svc.call(http::Request::new(())).await.unwrap();
    /// assert!(resp.headers().contains_key("x-request-id")); // the id goes back to the client
    /// # }
    /// ```
    pub fn new() -> Self {
        Self {
            cfg: Arc::new(Config {
                parent: context::background(),
                timeout_header: Some(HeaderName::from_static(TIMEOUT_HEADER)),
                request_id_header: HeaderName::from_static(REQUEST_ID_HEADER),
                max_timeout: None,
                trust_forwarded_for: ForwardedTrust::Ignore,
                peer: None,
            }),
        }
    }

    fn cfg(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.cfg)
    }

    /// Request contexts become children of `parent`: cancelling it (server shutdown)
    /// cancels every request in flight, and its values are visible in every request.
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use bytes::Bytes;
    /// use http_body_util::{BodyExt, Full};
    /// use tower_layer::Layer;
    /// use tower_service::Service;
    /// use gochan::context;
    ///
    /// struct Region(&'static str);
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (shutdown, stop) = context::with_cancel(&context::background());
    /// let server_ctx = context::with_value(&shutdown, Region("eu-west"));
    /// let handler = gochan_http::service_fn(|req: http::Request<()>| async move {
    ///     let ctx = gochan_http::context(&req);
    ///     let region = ctx.value::<Region>().unwrap().0;
    ///     ctx.cancelled().await; // ends when the server shuts down
    ///     let body = format!("{region}: {}", ctx.err().unwrap());
    ///     Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from(body))))
    /// });
    /// let mut svc = gochan_http::ContextLayer::new().parent(&server_ctx).layer(handler);
    ///
    /// let in_flight = svc.call(http::Request::new(())); // its context exists from here
    /// stop.cancel(); // server shutdown
    /// let body = in_flight.await.unwrap().into_body().collect().await.unwrap().to_bytes();
    /// assert_eq!(body, "eu-west: context canceled");
    /// # }
    /// ```
    pub fn parent(mut self, parent: &Context) -> Self {
        self.cfg().parent = parent.clone();
        self
    }

    /// The plain-HTTP header holding a Go duration (`250ms`), or `None` to read only
    /// `grpc-timeout`.
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use std::time::{Duration, Instant};
    /// use http::HeaderName;
    /// use tower_layer::Layer;
    /// use tower_service::Service;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let handler = gochan_http::service_fn(|req: http::Request<()>| async move {
    ///     let deadline = gochan_http::context(&req).deadline();
    ///     assert!(deadline.is_some_and(|d| d <= Instant::now() + Duration::from_millis(1500)));
    ///     Ok::<_, Infallible>(http::Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
    /// });
    /// let layer = gochan_http::ContextLayer::new()
    ///     .timeout_header(Some(HeaderName::from_static("x-budget")));
    /// let mut svc = layer.layer(handler);
    /// let req = http::Request::builder().header("x-budget", "1.5s").body(()).unwrap();
    /// svc.call(req).await.unwrap();
    /// # }
    /// ```
    pub fn timeout_header(mut self, name: Option<HeaderName>) -> Self {
        self.cfg().timeout_header = name;
        self
    }

    /// The header carrying request ids in and out (default `x-request-id`).
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use http::HeaderName;
    /// use tower_layer::Layer;
    /// use tower_service::Service;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let handler = gochan_http::service_fn(|req: http::Request<()>| async move {
    ///     let ctx = gochan_http::context(&req);
    ///     assert_eq!(gochan_http::request_id(&ctx), Some("order-42"));
    ///     Ok::<_, Infallible>(http::Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
    /// });
    /// let layer = gochan_http::ContextLayer::new()
    ///     .request_id_header(HeaderName::from_static("x-correlation-id"));
    /// let mut svc = layer.layer(handler);
    /// let req = http::Request::builder().header("x-correlation-id", "order-42").body(()).unwrap();
    /// let resp = svc.call(req).await.unwrap();
    /// assert_eq!(resp.headers()["x-correlation-id"], "order-42");
    /// # }
    /// ```
    pub fn request_id_header(mut self, name: HeaderName) -> Self {
        self.cfg().request_id_header = name;
        self
    }

    /// Caps the deadline a caller can ask for; with a cap, every request gets a deadline.
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use std::time::{Duration, Instant};
    /// use tower_layer::Layer;
    /// use tower_service::Service;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let handler = gochan_http::service_fn(|req: http::Request<()>| async move {
    ///     let deadline = gochan_http::context(&req).deadline().unwrap();
    ///     assert!(deadline <= Instant::now() + Duration::from_secs(2));
    ///     Ok::<_, Infallible>(http::Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
    /// });
    /// let mut svc = gochan_http::ContextLayer::new()
    ///     .max_timeout(Duration::from_secs(2))
    ///     .layer(handler);
    /// // The caller asks for an hour and gets two seconds; a request asking nothing, too.
    /// let greedy = http::Request::builder().header("x-timeout", "1h").body(()).unwrap();
    /// svc.call(greedy).await.unwrap();
    /// svc.call(http::Request::new(())).await.unwrap();
    /// # }
    /// ```
    pub fn max_timeout(mut self, max: Duration) -> Self {
        self.cfg().max_timeout = Some(max);
        self
    }

    /// Take the client IP from `X-Forwarded-For` (clients can write this header, so
    /// believe it only behind proxies you run):
    /// - a list of trusted proxy networks ([`ProxyNet`](crate::ProxyNet), e.g.
    ///   `"10.0.0.0/8"`): the header is believed only when the connection's peer is in
    ///   them, and the client is the right-most hop that is not (MDN's rule);
    /// - `true`: the first (left-most) hop, from any peer (every request must come through
    ///   your proxy); `false` (the default): the connection's peer.
    ///
    /// A malformed header is ignored (the peer is used).
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use tower_layer::Layer;
    /// use tower_service::Service;
    /// use gochan_http::{ContextLayer, ProxyNet, RemoteAddr};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let handler = gochan_http::service_fn(|req: http::Request<()>| async move {
    ///     let ip = gochan_http::client_ip(&gochan_http::context(&req));
    ///     assert_eq!(ip, Some("203.0.113.9".parse().unwrap()));
    ///     Ok::<_, Infallible>(http::Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
    /// });
    /// let nets = ["10.0.0.0/8", "fd00::/8"].map(|n| n.parse::<ProxyNet>().unwrap());
    /// let mut svc = ContextLayer::new().trust_forwarded_for(nets).layer(handler);
    ///
    /// // Our proxy 10.0.0.5 forwards a request that came through 10.0.0.7 from 203.0.113.9.
    /// let mut req = http::Request::builder()
    ///     .header("x-forwarded-for", "203.0.113.9, 10.0.0.7")
    ///     .body(())
    ///     .unwrap();
    /// req.extensions_mut().insert(RemoteAddr("10.0.0.5:41000".parse().unwrap()));
    /// svc.call(req).await.unwrap();
    /// # }
    /// ```
    pub fn trust_forwarded_for(mut self, trust: impl Into<ForwardedTrust>) -> Self {
        self.cfg().trust_forwarded_for = trust.into();
        self
    }

    /// The connection's peer, for accept loops that build the service per connection (a
    /// [`RemoteAddr`] request extension takes precedence).
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use std::net::SocketAddr;
    /// use tower_layer::Layer;
    /// use tower_service::Service;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let handler = gochan_http::service_fn(|req: http::Request<()>| async move {
    ///     let ip = gochan_http::client_ip(&gochan_http::context(&req));
    ///     assert_eq!(ip, Some("192.0.2.7".parse().unwrap()));
    ///     Ok::<_, Infallible>(http::Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
    /// });
    /// // In your own accept loop: `let (stream, peer) = listener.accept().await?;`
    /// let peer: SocketAddr = "192.0.2.7:50123".parse().unwrap();
    /// let mut svc = gochan_http::ContextLayer::new().peer(peer).layer(handler);
    /// svc.call(http::Request::new(())).await.unwrap();
    /// # }
    /// ```
    pub fn peer(mut self, addr: SocketAddr) -> Self {
        self.cfg().peer = Some(addr);
        self
    }
}

impl<S> Layer<S> for ContextLayer {
    type Service = ContextService<S>;

    fn layer(&self, inner: S) -> ContextService<S> {
        ContextService {
            inner,
            cfg: self.cfg.clone(),
        }
    }
}

/// The service made by [`ContextLayer`].
///
/// It builds the request's context before calling the inner service, and answers a
/// malformed timeout header itself (`400` with the reason) without calling it.
///
/// ```
/// use std::convert::Infallible;
/// use http_body_util::BodyExt;
/// use tower_layer::Layer;
/// use tower_service::Service;
/// use gochan_http::{ContextLayer, ContextService};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let handler = gochan_http::service_fn(|_req: http::Request<()>| async {
///     Ok::<_, Infallible>(http::Response::new(http_body_util::Full::new(bytes::Bytes::from("handled"))))
/// });
/// let mut svc: ContextService<_> = ContextLayer::new().layer(handler);
/// let req = http::Request::builder().header("x-timeout", "soon").body(()).unwrap();
/// let resp = svc.call(req).await.unwrap();
/// assert_eq!(resp.status(), http::StatusCode::BAD_REQUEST); // the handler was not called
/// let reason = resp.into_body().collect().await.unwrap().to_bytes();
/// assert!(String::from_utf8_lossy(&reason).starts_with("invalid x-timeout"), "{reason:?}");
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct ContextService<S> {
    inner: S,
    cfg: Arc<Config>,
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for ContextService<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    ResB: HttpBody<Data = Bytes>,
{
    type Response = Response<Body<ResB>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskCx<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqB>) -> Self::Future {
        let state = match self.cfg.start(&mut req) {
            Ok(guard) => State::Running {
                fut: self.inner.call(req),
                guard: Some(guard),
            },
            Err(resp) => State::Rejected { resp: Some(resp) },
        };
        ResponseFuture { state }
    }
}

impl Config {
    /// The request's timeout from its headers: the earlier of the two, capped. A malformed
    /// header gives the reason, and whether that header was `grpc-timeout`.
    fn timeout(&self, headers: &http::HeaderMap) -> Result<Option<Duration>, (String, bool)> {
        let mut timeout = grpc_timeout::from_headers(headers).map_err(|e| (e.to_string(), true))?;
        if let Some(name) = &self.timeout_header {
            if let Some(v) = headers.get(name) {
                // UTF-8, not just visible ASCII: Go's `µs` unit is accepted.
                let s = std::str::from_utf8(v.as_bytes()).unwrap_or("\u{fffd}");
                let d = gochan::time::parse_duration(s.trim())
                    .map_err(|e| (format!("invalid {name}: {e}"), false))?;
                timeout = Some(timeout.map_or(d, |t: Duration| t.min(d)));
            }
        }
        Ok(match (timeout, self.max_timeout) {
            (Some(t), Some(max)) => Some(t.min(max)),
            (t, max) => t.or(max),
        })
    }

    /// Builds the request's context and puts it in the extensions, or the 400 answer.
    fn start<B>(&self, req: &mut Request<B>) -> Result<Guard, Box<Response<Full<Bytes>>>> {
        let id = req
            .headers()
            .get(&self.request_id_header)
            .and_then(RequestId::from_header)
            .unwrap_or_else(RequestId::generate);
        let id_value = HeaderValue::from_str(id.as_str()).ok();
        let timeout = match self.timeout(req.headers()) {
            Ok(t) => t,
            Err((msg, grpc_timeout)) => {
                let grpc = req
                    .headers()
                    .get(CONTENT_TYPE)
                    .is_some_and(|ct| ct.as_bytes().starts_with(b"application/grpc"));
                // grpc-go's wording for a bad grpc-timeout; the reason for the other header.
                let grpc_message = (grpc && grpc_timeout)
                    .then(|| {
                        let raw = req.headers().get(grpc_timeout::HEADER)?;
                        grpc_timeout::grpc_go_message(raw.as_bytes())
                    })
                    .flatten()
                    .unwrap_or_else(|| msg.clone());
                return Err(Box::new(self.reject(msg, grpc_message, id_value, grpc)));
            }
        };
        let peer = req
            .extensions()
            .get::<RemoteAddr>()
            .map(|a| a.0.ip())
            .or_else(|| axum_peer(req.extensions()))
            .or_else(|| self.peer.map(|a| a.ip()));
        let forwarded = self
            .trust_forwarded_for
            .client(peer, req.headers().get_all("x-forwarded-for").iter());
        let ip = forwarded.or(peer);
        let mut ctx = context::with_value(&self.parent, id.clone());
        if let Some(ip) = ip {
            ctx = context::with_value(&ctx, ClientIp(ip));
        }
        let (ctx, cancel) = context::with_cancel_cause(&ctx);
        let (ctx, timer) = match timeout {
            Some(t) => {
                let (c, f) = context::with_timeout(&ctx, t);
                (c, Some(f))
            }
            None => (ctx, None),
        };
        req.extensions_mut().insert(ctx);
        req.extensions_mut().insert(id);
        Ok(Guard {
            cancel: Some(cancel),
            _timer: timer,
            id_header: self.request_id_header.clone(),
            id_value,
            head: req.method() == http::Method::HEAD,
        })
    }

    /// The answer to a malformed timeout header: `400` with the reason as text, or for a
    /// gRPC request (content-type `application/grpc...`) a trailers-only gRPC error as
    /// grpc-go's server sends it (`operateHeaders` in `internal/transport/http2_server.go`):
    /// HTTP 400, `grpc-status: 13` (INTERNAL), `grpc-message: malformed grpc-timeout: ...`
    /// in grpc-go's words ([`grpc_timeout::grpc_go_message`]), percent-encoded per the spec.
    fn reject(
        &self,
        msg: String,
        grpc_message: String,
        id: Option<HeaderValue>,
        grpc: bool,
    ) -> Response<Full<Bytes>> {
        let mut resp;
        if grpc {
            resp = Response::new(Full::new(Bytes::new()));
            *resp.status_mut() = StatusCode::BAD_REQUEST;
            let h = resp.headers_mut();
            h.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
            h.insert("grpc-status", HeaderValue::from_static("13"));
            let encoded = grpc_timeout::percent_encode_message(&grpc_message);
            if let Ok(v) = HeaderValue::from_str(&encoded) {
                h.insert("grpc-message", v);
            }
        } else {
            resp = Response::new(Full::new(Bytes::from(msg + "\n")));
            *resp.status_mut() = StatusCode::BAD_REQUEST;
            resp.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
        }
        let h = resp.headers_mut();
        if let Some(id) = id {
            h.insert(self.request_id_header.clone(), id);
        }
        resp
    }
}

/// The peer recorded by `axum::serve(.., app.into_make_service_with_connect_info::<SocketAddr>())`.
#[cfg(feature = "axum")]
fn axum_peer(ext: &http::Extensions) -> Option<std::net::IpAddr> {
    ext.get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

#[cfg(not(feature = "axum"))]
fn axum_peer(_: &http::Extensions) -> Option<std::net::IpAddr> {
    None
}

/// Cancels the request's context when the request ends, with the reason.
struct Guard {
    cancel: Option<CancelCauseFunc>,
    _timer: Option<CancelFunc>,
    id_header: HeaderName,
    id_value: Option<HeaderValue>,
    /// A HEAD request: its response has no body to send, whatever the body says.
    head: bool,
}

impl Guard {
    fn end(&mut self, why: RequestEnd) {
        if let Some(cancel) = self.cancel.take() {
            cancel.cancel(why);
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.end(RequestEnd::ClientDisconnected);
    }
}

pin_project! {
    /// The future of [`ContextService`]: the inner service's response with its body
    /// wrapped, or the 400 for a malformed timeout header.
    ///
    /// It polls the inner service's future inside itself. Dropped before it completes (hyper
    /// drops it when the client goes away), it first cancels the request's context with
    /// cause [`RequestEnd::ClientDisconnected`], then drops the inner future: whatever that
    /// future owns sees the context already cancelled while it is dropped. See
    /// [when the client goes away](self#when-the-client-goes-away).
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use std::time::Duration;
    /// use tower_layer::Layer;
    /// use tower_service::Service;
    /// use gochan::context;
    /// use gochan_http::{ContextLayer, RequestEnd, ResponseFuture};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (seen, contexts) = gochan::unbounded();
    /// let handler = gochan_http::service_fn(move |req: http::Request<()>| {
    ///     seen.send(gochan_http::context(&req)).unwrap();
    ///     async { std::future::pending::<Result<http::Response<http_body_util::Empty<bytes::Bytes>>, Infallible>>().await }
    /// });
    /// let mut svc = ContextLayer::new().layer(handler);
    /// let fut: ResponseFuture<_> = svc.call(http::Request::new(()));
    /// // Give up on it after 10 ms, as hyper does when the client disconnects.
    /// assert!(tokio::time::timeout(Duration::from_millis(10), fut).await.is_err());
    /// let ctx = contexts.try_recv().unwrap();
    /// let cause = context::cause(&ctx).unwrap();
    /// assert_eq!(cause.downcast_ref::<RequestEnd>(), Some(&RequestEnd::ClientDisconnected));
    /// # }
    /// ```
    pub struct ResponseFuture<F> {
        #[pin]
        state: State<F>,
    }

    impl<F> PinnedDrop for ResponseFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            // Still running (the guard is taken when the inner future completes): the
            // server gave up on the request. Cancel before the fields, and so the inner
            // future, are dropped.
            if let StateProj::Running { guard: Some(g), .. } = this.project().state.project() {
                g.end(RequestEnd::ClientDisconnected);
            }
        }
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Running { #[pin] fut: F, guard: Option<Guard> },
        Rejected { resp: Option<Box<Response<Full<Bytes>>>> },
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: HttpBody<Data = Bytes>,
{
    type Output = Result<Response<Body<B>>, E>;

    /// # Panics
    /// When polled again after it returned `Ready` (the `Future` contract's misuse); the
    /// panic names the caller's location.
    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskCx<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Rejected { resp } => {
                let resp = resp.take().expect("ResponseFuture polled after completion");
                Poll::Ready(Ok((*resp).map(|b| Body {
                    kind: Kind::Rejected { body: b },
                    guard: None,
                    remaining: None,
                })))
            }
            StateProj::Running { fut, guard } => {
                // Checked before the inner future is polled, which may panic elsewhere.
                assert!(guard.is_some(), "ResponseFuture polled after completion");
                let out = ready!(fut.poll(cx));
                let mut guard = guard.take().expect("checked above");
                Poll::Ready(match out {
                    Ok(mut resp) => {
                        if let Some(v) = guard.id_value.take() {
                            if !resp.headers().contains_key(&guard.id_header) {
                                resp.headers_mut().insert(guard.id_header.clone(), v);
                            }
                        }
                        // No body goes out for these: the response is complete with
                        // its head (the server drops such a body unread).
                        let s = resp.status();
                        let bodiless = guard.head
                            || s.is_informational()
                            || s == StatusCode::NO_CONTENT
                            || s == StatusCode::NOT_MODIFIED;
                        Ok(resp.map(|b| Body::new(b, Some(guard), bodiless)))
                    }
                    Err(e) => {
                        guard.end(RequestEnd::HandlerFailed);
                        Err(e)
                    }
                })
            }
        }
    }
}

pin_project! {
    /// The response body of [`ContextService`]: the inner body; reaching its end (or being
    /// dropped before) ends the request's context. Dropped before its end, it cancels the
    /// context with cause [`RequestEnd::ClientDisconnected`] before it drops the inner body.
    ///
    /// So a handler may stream its body under the request's context: the context lives
    /// until the last byte is produced (Go's handler context ends when `ServeHTTP` returns).
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use bytes::Bytes;
    /// use http_body_util::{BodyExt, Full};
    /// use tower_layer::Layer;
    /// use tower_service::Service;
    /// use gochan::context;
    /// use gochan_http::{Body, RequestEnd};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (seen, contexts) = gochan::unbounded();
    /// let handler = gochan_http::service_fn(move |req: http::Request<()>| {
    ///     seen.send(gochan_http::context(&req)).unwrap();
    ///     async { Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from("hello")))) }
    /// });
    /// let mut svc = gochan_http::ContextLayer::new().layer(handler);
    /// let resp = svc.call(http::Request::new(())).await.unwrap();
    /// let ctx = contexts.try_recv().unwrap();
    /// assert_eq!(ctx.err(), None); // the body has not been sent yet
    ///
    /// let body: Body<Full<Bytes>> = resp.into_body();
    /// assert_eq!(body.collect().await.unwrap().to_bytes(), "hello");
    /// let cause = context::cause(&ctx).unwrap();
    /// assert_eq!(cause.downcast_ref::<RequestEnd>(), Some(&RequestEnd::ResponseComplete));
    /// # }
    /// ```
    pub struct Body<B> {
        #[pin]
        kind: Kind<B>,
        guard: Option<Guard>,
        // Bytes still to come when the body announced an exact length (the server may
        // stop polling once that many were sent).
        remaining: Option<u64>,
    }

    impl<B> PinnedDrop for Body<B> {
        fn drop(this: Pin<&mut Self>) {
            // No-op once the request has ended (the guard's cancel is taken).
            if let Some(g) = this.project().guard.as_mut() {
                g.end(RequestEnd::ClientDisconnected);
            }
        }
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Inner { #[pin] body: B },
        Rejected { body: Full<Bytes> },
    }
}

impl<B> fmt::Debug for Body<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Body").finish_non_exhaustive()
    }
}

impl<B: HttpBody> Body<B> {
    fn new(body: B, mut guard: Option<Guard>, bodiless: bool) -> Self {
        let remaining = body.size_hint().exact();
        if bodiless || body.is_end_stream() || remaining == Some(0) {
            // Nothing left to produce: the server may never poll it.
            if let Some(g) = guard.as_mut() {
                g.end(RequestEnd::ResponseComplete);
            }
        }
        Self {
            kind: Kind::Inner { body },
            guard,
            remaining,
        }
    }
}

impl<B> HttpBody for Body<B>
where
    B: HttpBody<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskCx<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.project();
        match this.kind.project() {
            KindProj::Rejected { body } => match Pin::new(body).poll_frame(cx) {
                Poll::Ready(Some(Ok(f))) => Poll::Ready(Some(Ok(f))),
                Poll::Ready(Some(Err(never))) => match never {},
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
            KindProj::Inner { mut body } => {
                let out = ready!(body.as_mut().poll_frame(cx));
                if let (Some(Ok(frame)), Some(left)) = (&out, this.remaining.as_mut()) {
                    let n = frame.data_ref().map_or(0, |d| d.len() as u64);
                    *left = left.saturating_sub(n);
                }
                let end = match &out {
                    None => Some(RequestEnd::ResponseComplete),
                    Some(Err(_)) => Some(RequestEnd::HandlerFailed),
                    Some(Ok(_)) if body.is_end_stream() || *this.remaining == Some(0) => {
                        Some(RequestEnd::ResponseComplete)
                    }
                    Some(Ok(_)) => None,
                };
                if let (Some(why), Some(g)) = (end, this.guard.as_mut()) {
                    g.end(why);
                }
                Poll::Ready(out)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Inner { body } => body.is_end_stream(),
            Kind::Rejected { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Inner { body } => body.size_hint(),
            Kind::Rejected { body } => body.size_hint(),
        }
    }
}
