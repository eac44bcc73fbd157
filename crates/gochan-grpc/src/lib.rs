//! # gochan-grpc: gochan contexts for tonic gRPC
//!
//! Go's gRPC gives every handler a `context.Context` carrying the caller's deadline and
//! ending when the caller cancels (HTTP/2 `RST_STREAM`), and every client call takes a
//! context whose remaining deadline travels as `grpc-timeout` and whose end cancels the
//! call. This crate does the same for [tonic] with [`gochan::context::Context`]:
//!
//! - Server: [`server_layer`] (or [`gochan_http::ContextLayer`] itself) under tonic's
//!   `Server::builder().layer(...)` gives each request a context; a handler reads it with
//!   [`context()`]: its deadline is the caller's `grpc-timeout`, it is cancelled when the
//!   caller cancels or resets the stream, and it carries the request id
//!   ([`gochan_http::request_id`]) and the peer ([`gochan_http::client_ip`]). A malformed
//!   `grpc-timeout` is answered as grpc-go does (`grpc-status: 13`) without calling the
//!   handler.
//! - Client: [`call`] turns a message into a `tonic::Request` carrying the context's
//!   remaining deadline (and request id), failing fast when the context already ended;
//!   [`with_context`] runs the call and drops it (tonic then resets the stream, so the
//!   server's context is cancelled) as soon as the context ends, reporting
//!   `Code::Cancelled` / `Code::DeadlineExceeded` as a Go client does.
//! - [`context_error_to_status`] and [`status_to_context_error`] map between
//!   [`gochan::context::Error`] and [`tonic::Status`].
//! - [`search`]: a small hand-written service (prost messages, tonic's generic machinery,
//!   no `protoc`) used by the interop tests against Python's `grpcio`.
//!
//! An example service, the Go blog's "Go Concurrency Patterns: Context" search with its
//! backends over gRPC (a front end fanning out under the request's context, backends that
//! stop when it ends): `cargo run -p gochan-grpc --example search_grpc`.
//!
//! ```no_run
//! use gochan_grpc::search::{Search, SearchRequest, SearchResponse, SearchServer};
//! use tonic::{Request, Response, Status};
//!
//! struct Backend;
//! impl Search for Backend {
//!     async fn search(&self, req: Request<SearchRequest>) -> Result<Response<SearchResponse>, Status> {
//!         let ctx = gochan_grpc::context(&req);
//!         // Pass ctx on: outgoing calls made with gochan_grpc::call(&ctx, ..) share its budget.
//!         gochan_grpc::with_context(&ctx, async {
//!             Ok(Response::new(SearchResponse { results: vec![req.get_ref().query.clone()], ..Default::default() }))
//!         })
//!         .await
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! tonic::transport::Server::builder()
//!     .layer(gochan_grpc::server_layer(gochan_http::ContextLayer::new()))
//!     .add_service(SearchServer::new(Backend))
//!     .serve("127.0.0.1:50051".parse()?)
//!     .await?;
//! # Ok(()) }
//! ```
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    unsafe_op_in_unsafe_fn,
    clippy::undocumented_unsafe_blocks
)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

use std::future::Future;
use std::task::{Context as TaskCx, Poll};
use std::time::Instant;

use gochan::context::{self, Context};
use tonic::metadata::MetadataValue;
use tonic::{Code, Status};
use tower_layer::Layer;
use tower_service::Service;

pub mod search;

/// The request's context, as put there by [`gochan_http::ContextLayer`] (tonic keeps the
/// HTTP request's extensions in `tonic::Request::extensions()`); `background()` for a
/// request that did not go through the layer.
///
/// ```
/// let req = tonic::Request::new(());
/// assert!(gochan_grpc::context(&req).deadline().is_none());
///
/// // What the layer does: the context is an extension of the HTTP request, which tonic keeps.
/// let (ctx, _cancel) = gochan::context::with_timeout(&gochan::context::background(), std::time::Duration::from_secs(1));
/// let mut http_req = http::Request::new(());
/// http_req.extensions_mut().insert(ctx);
/// let req = tonic::Request::from_http(http_req);
/// assert!(gochan_grpc::context(&req).deadline().is_some());
/// ```
pub fn context<T>(req: &tonic::Request<T>) -> Context {
    req.extensions()
        .get::<Context>()
        .cloned()
        .unwrap_or_else(context::background)
}

/// [`gochan_http::ContextLayer`] for tonic's server: `layer`, with the connection's peer
/// address (tonic's `TcpConnectInfo`) handed to it so the context carries the
/// [`gochan_http::ClientIp`]. Use as `Server::builder().layer(server_layer(layer))`.
///
/// ```
/// use std::time::Duration;
/// let layer = gochan_grpc::server_layer(gochan_http::ContextLayer::new().max_timeout(Duration::from_secs(30)));
/// let _server = tonic::transport::Server::builder().layer(layer);
/// ```
pub fn server_layer(
    layer: gochan_http::ContextLayer,
) -> tower_layer::Stack<gochan_http::ContextLayer, PeerLayer> {
    tower_layer::Stack::new(layer, PeerLayer)
}

/// A tower layer copying tonic's `TcpConnectInfo` remote address into a
/// [`gochan_http::RemoteAddr`] request extension, which [`gochan_http::ContextLayer`] reads;
/// [`server_layer`] puts it outside the context layer.
///
/// ```
/// use tower_layer::Layer;
/// let _svc = gochan_grpc::PeerLayer.layer(gochan_grpc::search::SearchServer::new(Echo));
/// # struct Echo;
/// # impl gochan_grpc::search::Search for Echo {
/// #     async fn search(&self, _r: tonic::Request<gochan_grpc::search::SearchRequest>)
/// #         -> Result<tonic::Response<gochan_grpc::search::SearchResponse>, tonic::Status> { Err(tonic::Status::unimplemented("")) }
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct PeerLayer;

impl<S> Layer<S> for PeerLayer {
    type Service = PeerService<S>;
    fn layer(&self, inner: S) -> PeerService<S> {
        PeerService { inner }
    }
}

/// The service made by [`PeerLayer`].
///
/// ```
/// use tower_layer::Layer;
/// let svc: gochan_grpc::PeerService<()> = gochan_grpc::PeerLayer.layer(());
/// # let _ = svc;
/// ```
#[derive(Clone, Debug)]
pub struct PeerService<S> {
    inner: S,
}

impl<S, B> Service<http::Request<B>> for PeerService<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut TaskCx<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> S::Future {
        if req.extensions().get::<gochan_http::RemoteAddr>().is_none() {
            let addr = req
                .extensions()
                .get::<tonic::transport::server::TcpConnectInfo>()
                .and_then(|i| i.remote_addr());
            if let Some(addr) = addr {
                req.extensions_mut().insert(gochan_http::RemoteAddr(addr));
            }
        }
        self.inner.call(req)
    }
}

/// The status a Go gRPC client reports for a call whose context ended:
/// `DeadlineExceeded` -> `Code::DeadlineExceeded`, `Canceled` -> `Code::Cancelled`, with
/// Go's message.
///
/// ```
/// use gochan::context::Error;
/// let s = gochan_grpc::context_error_to_status(Error::DeadlineExceeded);
/// assert_eq!(s.code(), tonic::Code::DeadlineExceeded);
/// assert_eq!(s.message(), "context deadline exceeded");
/// assert_eq!(gochan_grpc::context_error_to_status(Error::Canceled).code(), tonic::Code::Cancelled);
/// ```
pub fn context_error_to_status(err: context::Error) -> Status {
    match err {
        context::Error::DeadlineExceeded => Status::deadline_exceeded(err.to_string()),
        context::Error::Canceled => Status::cancelled(err.to_string()),
    }
}

/// The context error a status stands for: `Code::DeadlineExceeded` ->
/// `DeadlineExceeded`, `Code::Cancelled` -> `Canceled`, anything else `None`.
///
/// ```
/// use gochan::context::Error;
/// use tonic::Status;
/// assert_eq!(gochan_grpc::status_to_context_error(&Status::deadline_exceeded("")), Some(Error::DeadlineExceeded));
/// assert_eq!(gochan_grpc::status_to_context_error(&Status::cancelled("")), Some(Error::Canceled));
/// assert_eq!(gochan_grpc::status_to_context_error(&Status::not_found("")), None);
/// ```
pub fn status_to_context_error(status: &Status) -> Option<context::Error> {
    match status.code() {
        Code::DeadlineExceeded => Some(context::Error::DeadlineExceeded),
        Code::Cancelled => Some(context::Error::Canceled),
        _ => None,
    }
}

/// `Err` with the context's status when `ctx` has ended (its deadline counts as ended
/// once it is reached, before the timer fires).
fn ended(ctx: &Context) -> Result<(), Status> {
    if let Some(e) = ctx.err() {
        return Err(context_error_to_status(e));
    }
    if ctx.deadline().is_some_and(|d| d <= Instant::now()) {
        return Err(context_error_to_status(context::Error::DeadlineExceeded));
    }
    Ok(())
}

/// A `tonic::Request` made under `ctx`: `grpc-timeout` is set to ctx's *remaining*
/// deadline (so the callee shares the caller's budget) and `x-request-id` to its
/// [`gochan_http::request_id`] unless the request already has one.
///
/// # Errors
/// The context's status ([`context_error_to_status`]) when ctx has already ended or its
/// deadline has passed: the call is not made (Go's client fails fast the same way).
///
/// ```
/// use std::time::Duration;
/// use gochan::context;
/// let (ctx, cancel) = context::with_timeout(&context::background(), Duration::from_secs(2));
/// let req = gochan_grpc::call(&ctx, "message").unwrap();
/// let sent = gochan_http::grpc_timeout::parse(req.metadata().get("grpc-timeout").unwrap().to_str().unwrap()).unwrap();
/// assert!(sent <= Duration::from_secs(2) && sent > Duration::from_millis(1900));
///
/// cancel.cancel();
/// assert_eq!(gochan_grpc::call(&ctx, "message").unwrap_err().code(), tonic::Code::Cancelled);
/// ```
pub fn call<T>(
    ctx: &Context,
    request: impl tonic::IntoRequest<T>,
) -> Result<tonic::Request<T>, Status> {
    ended(ctx)?;
    let mut req = request.into_request();
    if let Some(v) = gochan_http::grpc_timeout::header_from_context(ctx) {
        let v = MetadataValue::try_from(v.as_str()).expect("digits and a unit are valid metadata");
        req.metadata_mut()
            .insert(gochan_http::grpc_timeout::HEADER, v);
    }
    if let Some(id) = gochan_http::request_id(ctx) {
        if !req.metadata().contains_key(gochan_http::REQUEST_ID_HEADER) {
            if let Ok(v) = MetadataValue::try_from(id) {
                req.metadata_mut().insert(gochan_http::REQUEST_ID_HEADER, v);
            }
        }
    }
    Ok(req)
}

/// Runs `call` (a tonic call, e.g. `client.search(gochan_grpc::call(&ctx, msg)?)`) under
/// `ctx`: when ctx ends first the call's future is dropped at once (tonic then resets the
/// HTTP/2 stream, so the server's context is cancelled) and the result is
/// [`context_error_to_status`] of ctx's error. A call that fails after ctx ended also
/// reports ctx's error (tonic reports its own expiry of `grpc-timeout` as `Cancelled`),
/// as Go's client does.
///
/// # Errors
/// The call's status, or the context's.
///
/// ```
/// use std::time::Duration;
/// use gochan::context;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (ctx, _cancel) = context::with_timeout(&context::background(), Duration::from_millis(20));
/// let never = std::future::pending::<Result<(), tonic::Status>>();
/// let err = gochan_grpc::with_context(&ctx, never).await.unwrap_err();
/// assert_eq!(err.code(), tonic::Code::DeadlineExceeded);
/// assert_eq!(gochan_grpc::status_to_context_error(&err), Some(context::Error::DeadlineExceeded));
///
/// let ok = gochan_grpc::with_context(&context::background(), async { Ok::<_, tonic::Status>(7) }).await;
/// assert_eq!(ok.unwrap(), 7);
/// # }
/// ```
pub async fn with_context<T, F>(ctx: &Context, call: F) -> Result<T, Status>
where
    F: Future<Output = Result<T, Status>>,
{
    ended(ctx)?;
    let out = tokio::select! {
        biased;
        _ = ctx.cancelled() => return Err(context_error_to_status(ctx.err().unwrap_or(context::Error::Canceled))),
        out = call => out,
    };
    match out {
        Err(status) => match ended(ctx) {
            Err(ctx_status) => Err(ctx_status),
            Ok(()) => Err(status),
        },
        ok => ok,
    }
}
