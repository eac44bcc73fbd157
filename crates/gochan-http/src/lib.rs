//! # gochan-http: request-scoped contexts across HTTP services
//!
//! Go gives every server request a `context.Context` that ends when the client goes away or
//! the handler returns, carries the request's deadline and values, and cancels the calls
//! made under it. This crate does the same for hyper 1.x / tower (and so for axum):
//!
//! - [`ContextLayer`]: a tower layer that gives each request a [`gochan::context::Context`]
//!   in its extensions ([`context`] reads it): cancelled when the client disconnects or the
//!   response is complete ([`RequestEnd`] says which), with a deadline from an incoming
//!   `grpc-timeout` header or a plain-HTTP header ([`TIMEOUT_HEADER`], a Go duration such as
//!   `250ms`), a [`RequestId`] (incoming `X-Request-ID` or a generated one) and the
//!   [`ClientIp`] as typed values. A malformed timeout is answered `400` with the reason.
//! - [`Client`] (and [`send`]): hyper-util's client under a context. The call is dropped
//!   (so the connection is closed and the callee's context is cancelled) as soon as the
//!   context ends, before or while the body is read, and the *remaining* deadline and the
//!   request id travel downstream in the same headers, so a chain of services shares one
//!   budget: Go's `httpDo`, with nothing left running after it returns.
//! - [`serve`]: a small accept loop (HTTP/1 and HTTP/2) that records each connection's
//!   peer address and shuts down gracefully when a context ends.
//! - [`grpc_timeout`]: the gRPC `grpc-timeout` header, parse and format per the gRPC spec,
//!   usable from tonic or any stack.
//!
//! **When the client goes away, hyper drops the handler's future** (Go's server instead lets
//! the handler run on and closes `ctx.Done()`). The layer cancels the request's context
//! with cause [`RequestEnd::ClientDisconnected`] just before, so whatever the future owns
//! sees `ctx.err() == Some(Canceled)` as it is dropped; but code after the `.await` the
//! handler was suspended in never runs. For Go's behaviour, spawn the work on a task that
//! holds the context and await its `JoinHandle`: the task outlives the dropped future and
//! sees `ctx.done()` close, as in the service below (and the runnable example in
//! [`layer`](layer#when-the-client-goes-away)).
//!
//! Under axum, add `.layer(ContextLayer::new())` to the `Router` and take the context with
//! `Extension(ctx): Extension<Context>` (`tests/axum.rs`); the `axum` feature makes the
//! layer read the client IP from axum's `ConnectInfo<SocketAddr>`.
//!
//! ```
//! use std::time::Duration;
//! use gochan::context;
//! use gochan_http::grpc_timeout;
//!
//! // A server receives "250m" (250 ms) ...
//! let (ctx, _cancel) = grpc_timeout::context_from_header(&context::background(), Some("250m")).unwrap();
//! // ... and forwards what is left of it to the next hop.
//! let header = grpc_timeout::header_from_context(&ctx).unwrap();
//! assert!(grpc_timeout::parse(&header).unwrap() <= Duration::from_millis(250));
//! ```
//!
//! A whole service (run by `tests/http.rs` and the `gochan-search` crate):
//!
//! ```no_run
//! use std::convert::Infallible;
//! use bytes::Bytes;
//! use http::{Request, Response};
//! use http_body_util::Full;
//! use hyper::body::Incoming;
//! use tower_layer::Layer;
//! use gochan::context;
//!
//! # async fn run() -> std::io::Result<()> {
//! let (shutdown, _stop) = context::with_cancel(&context::background());
//! let handler = gochan_http::service_fn(|req: Request<Incoming>| async move {
//!     let ctx = gochan_http::context(&req);
//!     // The work runs on its own task holding ctx: if the client goes away, hyper drops
//!     // this future, but the task runs on and sees ctx.done() close.
//!     let work = tokio::spawn(async move {
//!         let done = ctx.done();
//!         tokio::select! {
//!             // ... pass ctx to everything this request starts ...
//!             _ = tokio::time::sleep(std::time::Duration::from_millis(100)) => "hello\n".to_string(),
//!             _ = done.recv_async() => format!("gave up: {}", context::cause(&ctx).unwrap()),
//!         }
//!     });
//!     let body = work.await.unwrap_or_else(|panicked| panicked.to_string());
//!     Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
//! });
//! let svc = gochan_http::ContextLayer::new().parent(&shutdown).layer(handler);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! gochan_http::serve(listener, &shutdown, svc).await
//! # }
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

pub mod client;
pub mod grpc_timeout;
pub mod layer;
mod proxies;
mod serve;
mod values;

pub use client::{send, Client, Error, ResponseBody};
pub use layer::{Body, ContextLayer, ContextService, RequestEnd, ResponseFuture, TIMEOUT_HEADER};
pub use proxies::{ForwardedTrust, ProxyNet, ProxyNetError};
pub use serve::{
    serve, serve_with_grace, serve_with_timeouts, service_fn, ServiceFn, DEFAULT_GRACE,
    HEADER_READ_TIMEOUT,
};
pub use values::{
    client_ip, request_id, ClientIp, RemoteAddr, RequestId, MAX_REQUEST_ID_LEN, REQUEST_ID_HEADER,
};

/// The request's context, as put there by [`ContextLayer`]; `background()` for a request
/// that did not go through the layer.
///
/// ```
/// let req = http::Request::new(());
/// assert!(gochan_http::context(&req).deadline().is_none());
/// ```
pub fn context<B>(req: &http::Request<B>) -> gochan::context::Context {
    req.extensions()
        .get::<gochan::context::Context>()
        .cloned()
        .unwrap_or_else(gochan::context::background)
}
