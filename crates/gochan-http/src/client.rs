//! The client side: hyper-util's pooled client under a context (Go's `httpDo` and
//! `req.WithContext(ctx)`, done right).
//!
//! - A context that has already ended fails the call before anything is sent.
//! - The remaining deadline goes downstream as `grpc-timeout` (and the configured plain
//!   header), the request id as `x-request-id`, unless the request already has them (a
//!   smaller timeout already on the request is kept).
//! - When the context ends while waiting for the response, or while its body is read, the
//!   in-flight call is dropped: hyper closes that connection, so the callee sees a
//!   disconnect and (with [`ContextLayer`](crate::ContextLayer)) its request context is
//!   cancelled. Nothing keeps running after the call returns.

use std::cell::RefCell;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskCx, Poll};
use std::time::Instant;

use bytes::Bytes;
use gochan::context::{self, Context};
use http::header::{HeaderName, HeaderValue};
use http::{Request, Response};
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;

use crate::grpc_timeout;
use crate::values::{RequestId, REQUEST_ID_HEADER};

/// Why a call under a context failed.
///
/// ```
/// use bytes::Bytes;
/// use http_body_util::Full;
/// use gochan::context;
/// use gochan_http::Error;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// // A port nobody listens on: the connection is refused.
/// let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
/// let req = http::Request::get(format!("http://127.0.0.1:{port}/")).body(Full::new(Bytes::new())).unwrap();
/// match gochan_http::send(&context::background(), req).await {
///     Err(Error::Request(e)) => println!("could not reach the server: {e}"),
///     Err(Error::Context(e)) => println!("gave up: {e}"),
///     Err(other) => println!("failed: {other}"),
///     Ok(resp) => println!("answered {}", resp.status()),
/// }
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The context ended (cancelled or past its deadline) before the response, or its
    /// body, was complete. The call was dropped.
    Context(context::Error),
    /// The request could not be sent or the response not received (connect error,
    /// connection closed, protocol error).
    Request(hyper_util::client::legacy::Error),
    /// Reading the response body failed.
    Body(hyper::Error),
}

impl Error {
    /// The context's error when the context ended the call.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http_body_util::Full;
    /// use gochan::context;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (ctx, cancel) = context::with_cancel(&context::background());
    /// cancel.cancel();
    /// let req = http::Request::get("http://backend.invalid/").body(Full::new(Bytes::new())).unwrap();
    /// // A context that has already ended fails the call before anything is sent.
    /// let err = gochan_http::send(&ctx, req).await.unwrap_err();
    /// assert_eq!(err.context_error(), Some(context::Error::Canceled));
    /// assert_eq!(err.to_string(), "context canceled");
    /// # }
    /// ```
    pub fn context_error(&self) -> Option<context::Error> {
        match self {
            Self::Context(e) => Some(*e),
            _ => None,
        }
    }

    /// Whether the call ended because the context's deadline passed.
    ///
    /// ```
    /// use std::time::Duration;
    /// use bytes::Bytes;
    /// use http_body_util::Full;
    /// use gochan::context;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (ctx, _cancel) = context::with_timeout(&context::background(), Duration::ZERO);
    /// let req = http::Request::get("http://backend.invalid/").body(Full::new(Bytes::new())).unwrap();
    /// let err = gochan_http::send(&ctx, req).await.unwrap_err();
    /// assert!(err.is_timeout()); // the budget was spent: nothing was sent
    /// # }
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Context(e) if e.is_timeout())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Context(e) => e.fmt(f),
            Self::Request(e) => write!(f, "request failed: {e}"),
            Self::Body(e) => write!(f, "reading the response body failed: {e}"),
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Context(e) => Some(e),
            Self::Request(e) => Some(e),
            Self::Body(e) => Some(e),
        }
    }
}

/// The connector under [`Client`]: plain TCP, or TCP + rustls with feature `tls`.
#[cfg(not(feature = "tls"))]
type Connector = HttpConnector;
#[cfg(feature = "tls")]
type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// hyper-util's TCP connector with Nagle off (and `https://` URIs let through to TLS).
fn http_connector() -> HttpConnector {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    #[cfg(feature = "tls")]
    connector.enforce_http(false);
    connector
}

/// rustls with the ring provider and the bundled Mozilla roots.
#[cfg(feature = "tls")]
fn default_tls_config() -> rustls::ClientConfig {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    rustls::ClientConfig::builder_with_provider(rustls::crypto::ring::default_provider().into())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// A pooled HTTP/1 client whose calls run under a [`Context`]. Cheap to clone (clones
/// share the pool). Needs a tokio runtime.
///
/// ```no_run
/// use bytes::Bytes;
/// use http_body_util::{BodyExt, Full};
/// use gochan::context;
///
/// # async fn f() -> Result<(), gochan_http::Error> {
/// let client = gochan_http::Client::new();
/// let (ctx, _cancel) = context::with_timeout(&context::background(), std::time::Duration::from_millis(500));
/// let req = http::Request::get("http://127.0.0.1:8080/").body(Full::new(Bytes::new())).unwrap();
/// let resp = client.send(&ctx, req).await?;           // sends grpc-timeout: ~500ms
/// let body = resp.into_body().collect().await?.to_bytes(); // still bounded by ctx
/// # let _ = body; Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Client<B = Full<Bytes>> {
    inner: HyperClient<Connector, B>,
    timeout_header: Option<HeaderName>,
    request_id_header: HeaderName,
}

impl<B> Default for Client<B>
where
    B: HttpBody + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    fn default() -> Self {
        Self::new()
    }
}

impl<B> Client<B>
where
    B: HttpBody + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    /// A client over hyper-util's pooled connector, sending `grpc-timeout` and
    /// `x-request-id`. With the `tls` feature it also speaks `https://`, trusting the
    /// bundled Mozilla roots (`webpki-roots`).
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http_body_util::Full;
    /// use gochan::context;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let client: gochan_http::Client = gochan_http::Client::new(); // bodies: Full<Bytes>
    /// let for_worker = client.clone(); // clones share one connection pool
    /// let (ctx, stop) = context::with_cancel(&context::background());
    /// drop(stop); // a dropped CancelFunc cancels
    /// let req = http::Request::get("http://backend.invalid/").body(Full::new(Bytes::new())).unwrap();
    /// assert!(for_worker.send(&ctx, req).await.unwrap_err().context_error().is_some());
    /// # }
    /// ```
    pub fn new() -> Self {
        #[cfg(feature = "tls")]
        return Self::with_tls_config(default_tls_config());
        #[cfg(not(feature = "tls"))]
        Self::with_connector(http_connector())
    }

    /// A client for `http://` and `https://` with your own rustls configuration (your
    /// roots, client certificates, ALPN is set by the connector). Feature `tls`.
    ///
    /// ```no_run
    /// # async fn f(my_ca_der: Vec<u8>) -> Result<(), Box<dyn std::error::Error>> {
    /// let mut roots = rustls::RootCertStore::empty();
    /// roots.add(rustls::pki_types::CertificateDer::from(my_ca_der))?;
    /// let config = rustls::ClientConfig::builder_with_provider(
    ///     rustls::crypto::ring::default_provider().into(),
    /// )
    /// .with_safe_default_protocol_versions()?
    /// .with_root_certificates(roots)
    /// .with_no_client_auth();
    /// let client: gochan_http::Client = gochan_http::Client::with_tls_config(config);
    /// # let _ = client; Ok(()) }
    /// ```
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn with_tls_config(config: rustls::ClientConfig) -> Self {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http_connector());
        Self::with_connector(https)
    }

    fn with_connector(connector: Connector) -> Self {
        Self {
            inner: HyperClient::builder(TokioExecutor::new()).build(connector),
            timeout_header: None,
            request_id_header: HeaderName::from_static(REQUEST_ID_HEADER),
        }
    }

    /// Also send the remaining time in this plain-HTTP header, as a Go duration (the
    /// layer reads [`TIMEOUT_HEADER`](crate::TIMEOUT_HEADER) by default).
    ///
    /// ```
    /// use std::time::Duration;
    /// use bytes::Bytes;
    /// use http::HeaderName;
    /// use http_body_util::{BodyExt, Full};
    /// use gochan::context;
    ///
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // A loopback server answering with the x-timeout header it received.
    /// let addr = echo_server("x-timeout").await;
    ///
    /// let client = gochan_http::Client::new().timeout_header(HeaderName::from_static("x-timeout"));
    /// let (ctx, _cancel) = context::with_timeout(&context::background(), Duration::from_secs(2));
    /// let req = http::Request::get(format!("http://{addr}/")).body(Full::new(Bytes::new()))?;
    /// let body = client.send(&ctx, req).await?.into_body().collect().await?.to_bytes();
    /// let sent = gochan::time::parse_duration(std::str::from_utf8(&body)?)?; // e.g. "1.99s"
    /// assert!(sent <= Duration::from_secs(2));
    /// # Ok(())
    /// # }
    /// # async fn echo_server(header: &'static str) -> std::net::SocketAddr {
    /// #     let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// #     let addr = listener.local_addr().unwrap();
    /// #     let svc = gochan_http::service_fn(move |req: http::Request<hyper::body::Incoming>| {
    /// #         let v = req.headers().get(header).map(|v| v.to_str().unwrap().to_owned());
    /// #         let body = http_body_util::Full::new(bytes::Bytes::from(v.unwrap_or_default()));
    /// #         async move { Ok::<_, std::convert::Infallible>(http::Response::new(body)) }
    /// #     });
    /// #     let shutdown = gochan::context::background();
    /// #     tokio::spawn(async move { gochan_http::serve(listener, &shutdown, svc).await });
    /// #     addr
    /// # }
    /// ```
    pub fn timeout_header(mut self, name: HeaderName) -> Self {
        self.timeout_header = Some(name);
        self
    }

    /// The header carrying the request id (default `x-request-id`).
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http::HeaderName;
    /// use http_body_util::{BodyExt, Full};
    /// use gochan::context;
    /// use gochan_http::RequestId;
    ///
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // A loopback server answering with the x-correlation-id header it received.
    /// let addr = echo_server("x-correlation-id").await;
    ///
    /// let client = gochan_http::Client::new()
    ///     .request_id_header(HeaderName::from_static("x-correlation-id"));
    /// let ctx = context::with_value(&context::background(), RequestId::new("order-42"));
    /// let req = http::Request::get(format!("http://{addr}/")).body(Full::new(Bytes::new()))?;
    /// let body = client.send(&ctx, req).await?.into_body().collect().await?.to_bytes();
    /// assert_eq!(body, "order-42");
    /// # Ok(())
    /// # }
    /// # async fn echo_server(header: &'static str) -> std::net::SocketAddr {
    /// #     let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// #     let addr = listener.local_addr().unwrap();
    /// #     let svc = gochan_http::service_fn(move |req: http::Request<hyper::body::Incoming>| {
    /// #         let v = req.headers().get(header).map(|v| v.to_str().unwrap().to_owned());
    /// #         let body = http_body_util::Full::new(bytes::Bytes::from(v.unwrap_or_default()));
    /// #         async move { Ok::<_, std::convert::Infallible>(http::Response::new(body)) }
    /// #     });
    /// #     let shutdown = gochan::context::background();
    /// #     tokio::spawn(async move { gochan_http::serve(listener, &shutdown, svc).await });
    /// #     addr
    /// # }
    /// ```
    pub fn request_id_header(mut self, name: HeaderName) -> Self {
        self.request_id_header = name;
        self
    }

    /// Sends `req` under `ctx`; see the [module docs](self) for what travels and when the
    /// call is dropped. The response body stays bounded by `ctx`.
    ///
    /// # Errors
    /// [`Error::Context`] when `ctx` ends first (also when it already has), else
    /// [`Error::Request`].
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use std::time::Duration;
    /// use bytes::Bytes;
    /// use http_body_util::{BodyExt, Full};
    /// use gochan::context;
    ///
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // A loopback server answering with the grpc-timeout header it received.
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let addr = listener.local_addr()?;
    /// let echo = gochan_http::service_fn(|req: http::Request<hyper::body::Incoming>| async move {
    ///     let budget = req.headers()["grpc-timeout"].to_str().unwrap().to_owned();
    ///     Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from(budget))))
    /// });
    /// let (shutdown, _stop) = context::with_cancel(&context::background());
    /// tokio::spawn(async move { gochan_http::serve(listener, &shutdown, echo).await });
    ///
    /// let client = gochan_http::Client::new();
    /// let (ctx, _cancel) = context::with_timeout(&context::background(), Duration::from_millis(500));
    /// let req = http::Request::get(format!("http://{addr}/")).body(Full::new(Bytes::new()))?;
    /// let resp = client.send(&ctx, req).await?;
    /// let body = resp.into_body().collect().await?.to_bytes(); // reading is bounded by ctx too
    /// let budget = gochan_http::grpc_timeout::parse(std::str::from_utf8(&body)?)?;
    /// assert!(budget <= Duration::from_millis(500)); // what was left of it went downstream
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send(
        &self,
        ctx: &Context,
        mut req: Request<B>,
    ) -> Result<Response<ResponseBody>, Error> {
        if let Some(e) = ctx.err() {
            return Err(Error::Context(e));
        }
        if let Some(deadline) = ctx.deadline() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Context(context::Error::DeadlineExceeded));
            }
            self.set_timeouts(req.headers_mut(), left);
        }
        if let Some(id) = ctx.value::<RequestId>() {
            if !req.headers().contains_key(&self.request_id_header) {
                if let Ok(v) = HeaderValue::from_str(id.as_str()) {
                    req.headers_mut().insert(self.request_id_header.clone(), v);
                }
            }
        }
        let call = self.inner.request(req);
        tokio::select! {
            biased;
            _ = ctx.cancelled() => Err(Error::Context(ctx.err().unwrap_or(context::Error::Canceled))),
            resp = call => match resp {
                Ok(resp) => Ok(resp.map(|body| ResponseBody::new(body, ctx))),
                Err(e) => Err(Error::Request(e)),
            },
        }
    }

    fn set_timeouts(&self, headers: &mut http::HeaderMap, left: std::time::Duration) {
        let existing = grpc_timeout::from_headers(headers).ok().flatten();
        let left = existing.map_or(left, |e| e.min(left));
        grpc_timeout::insert(headers, left);
        if let Some(name) = &self.timeout_header {
            let existing = headers
                .get(name)
                .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
                .and_then(|v| gochan::time::parse_duration(v.trim()).ok());
            let left = existing.map_or(left, |e| e.min(left));
            // Header values are visible ASCII: `us`, never `µs` (Go accepts both).
            let text = gochan::time::format_duration(left).replace('µ', "u");
            if let Ok(v) = HeaderValue::from_str(&text) {
                headers.insert(name.clone(), v);
            }
        }
    }
}

thread_local! {
    static SHARED: RefCell<Option<Client>> = const { RefCell::new(None) };
}

/// Sends `req` under `ctx` with a client shared by the calling thread (its pool is reused
/// by later calls on the same thread): the one-line form of [`Client::send`], Go's
/// `http.DefaultClient.Do(req.WithContext(ctx))`.
///
/// # Errors
/// As [`Client::send`].
///
/// ```
/// use bytes::Bytes;
/// use http_body_util::{BodyExt, Full};
/// use gochan::context;
/// use gochan_http::RequestId;
///
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // A loopback server answering with the x-request-id header it received.
/// let addr = echo_server("x-request-id").await;
///
/// // In a handler this would be the request's context, carrying the caller's id.
/// let ctx = context::with_value(&context::background(), RequestId::new("req-7"));
/// let req = http::Request::get(format!("http://{addr}/")).body(Full::new(Bytes::new()))?;
/// let resp = gochan_http::send(&ctx, req).await?;
/// assert_eq!(resp.into_body().collect().await?.to_bytes(), "req-7"); // the id went along
/// # Ok(())
/// # }
/// # async fn echo_server(header: &'static str) -> std::net::SocketAddr {
/// #     let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
/// #     let addr = listener.local_addr().unwrap();
/// #     let svc = gochan_http::service_fn(move |req: http::Request<hyper::body::Incoming>| {
/// #         let v = req.headers().get(header).map(|v| v.to_str().unwrap().to_owned());
/// #         let body = http_body_util::Full::new(bytes::Bytes::from(v.unwrap_or_default()));
/// #         async move { Ok::<_, std::convert::Infallible>(http::Response::new(body)) }
/// #     });
/// #     let shutdown = gochan::context::background();
/// #     tokio::spawn(async move { gochan_http::serve(listener, &shutdown, svc).await });
/// #     addr
/// # }
/// ```
pub async fn send(
    ctx: &Context,
    req: Request<Full<Bytes>>,
) -> Result<Response<ResponseBody>, Error> {
    let client = SHARED.with(|c| c.borrow_mut().get_or_insert_with(Client::new).clone());
    client.send(ctx, req).await
}

/// A response body read under the call's context: once the context ends, every read
/// fails with [`Error::Context`] and the connection is dropped with the body.
///
/// ```
/// use std::convert::Infallible;
/// use std::time::Duration;
/// use bytes::Bytes;
/// use http_body_util::{BodyExt, Full, StreamBody};
/// use hyper::body::Frame;
/// use gochan::context;
/// use gochan_http::ResponseBody;
///
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // A server that sends the head and a first chunk, then stalls.
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let addr = listener.local_addr()?;
/// let stalling = gochan_http::service_fn(|_req: http::Request<hyper::body::Incoming>| async {
///     let (chunks, body) = gochan::unbounded::<Result<Frame<Bytes>, Infallible>>();
///     chunks.send(Ok(Frame::data(Bytes::from("partial")))).unwrap();
///     tokio::spawn(async move {
///         tokio::time::sleep(Duration::from_secs(60)).await; // the rest never comes
///         drop(chunks);
///     });
///     Ok::<_, Infallible>(http::Response::new(StreamBody::new(body.into_stream())))
/// });
/// let shutdown = context::background();
/// tokio::spawn(async move { gochan_http::serve(listener, &shutdown, stalling).await });
///
/// let (ctx, _cancel) = context::with_timeout(&context::background(), Duration::from_millis(200));
/// let req = http::Request::get(format!("http://{addr}/")).body(Full::new(Bytes::new()))?;
/// let mut body: ResponseBody = gochan_http::send(&ctx, req).await?.into_body();
/// let first = body.frame().await.unwrap()?.into_data().unwrap();
/// assert_eq!(first, "partial");
/// let err = body.frame().await.unwrap().unwrap_err(); // the deadline ends the read
/// assert!(err.is_timeout());
/// # Ok(())
/// # }
/// ```
pub struct ResponseBody {
    inner: Incoming,
    ctx: Context,
    /// Resolves when `ctx` ends; `None` once it has (the error is then final).
    cancelled: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseBody").finish_non_exhaustive()
    }
}

impl ResponseBody {
    fn new(inner: Incoming, ctx: &Context) -> Self {
        let watched = ctx.clone();
        Self {
            inner,
            ctx: ctx.clone(),
            cancelled: Some(Box::pin(async move { watched.cancelled().await })),
        }
    }
}

impl HttpBody for ResponseBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskCx<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let ended = match self.cancelled.as_mut() {
            Some(f) => f.as_mut().poll(cx).is_ready(),
            None => true,
        };
        if ended {
            // Fused: every later read reports the same error, the body is never read again.
            self.cancelled = None;
            let e = self.ctx.err().unwrap_or(context::Error::Canceled);
            return Poll::Ready(Some(Err(Error::Context(e))));
        }
        Pin::new(&mut self.inner)
            .poll_frame(cx)
            .map(|f| f.map(|r| r.map_err(Error::Body)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
