//! `gochan.Search`: a one-method gRPC service written by hand, in the shape tonic-build
//! generates but with no `protoc`: prost messages derived in Rust and tonic's generic
//! server/client machinery. Its wire form is this `.proto`, so any gRPC peer (the interop
//! tests use Python's `grpcio` with hand-encoded bytes) can call or serve it:
//!
//! ```text
//! syntax = "proto3";
//! package gochan;
//! service Search { rpc Search(SearchRequest) returns (SearchResponse); }
//! message SearchRequest { string query = 1; uint64 work_ms = 2; }
//! message SearchResponse {
//!   repeated string results = 1;
//!   optional uint64 budget_us = 2;   // the handler's remaining deadline, if any
//!   string request_id = 3;
//!   repeated uint64 hop_budgets_us = 4;  // budgets seen further down a chain of calls
//! }
//! ```
//!
//! ```
//! use prost::Message;
//! use gochan_grpc::search::SearchRequest;
//! let req = SearchRequest { query: "go".into(), work_ms: 0 };
//! assert_eq!(req.encode_to_vec(), b"\x0a\x02go"); // field 1, length 2, "go"
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskCx, Poll};

use gochan::context::Context;
use tonic::codegen::http;
use tonic::{Request, Response, Status};
use tower_service::Service;

/// The full method path of `Search.Search`.
///
/// ```
/// assert_eq!(gochan_grpc::search::METHOD_PATH, "/gochan.Search/Search");
/// ```
pub const METHOD_PATH: &str = "/gochan.Search/Search";

/// The service's name, as routed by tonic.
///
/// ```
/// use tonic::server::NamedService;
/// assert_eq!(<gochan_grpc::search::SearchServer<()> as NamedService>::NAME, gochan_grpc::search::SERVICE_NAME);
/// ```
pub const SERVICE_NAME: &str = "gochan.Search";

/// The request: a query, and how long the handler should work on it (for tests of
/// cancellation).
///
/// ```
/// let r = gochan_grpc::search::SearchRequest { query: "rust".into(), work_ms: 5 };
/// assert_eq!(r.work_ms, 5);
/// ```
#[derive(Clone, PartialEq, prost::Message)]
pub struct SearchRequest {
    /// The query.
    #[prost(string, tag = "1")]
    pub query: String,
    /// Milliseconds of (simulated) work the handler does before answering.
    #[prost(uint64, tag = "2")]
    pub work_ms: u64,
}

/// The response.
///
/// ```
/// use prost::Message;
/// let r = gochan_grpc::search::SearchResponse { budget_us: Some(1), ..Default::default() };
/// assert_eq!(r.encode_to_vec(), b"\x10\x01"); // field 2 present even when it is small
/// ```
#[derive(Clone, PartialEq, prost::Message)]
pub struct SearchResponse {
    /// The results.
    #[prost(string, repeated, tag = "1")]
    pub results: Vec<String>,
    /// The remaining deadline the handler saw, in microseconds (`None`: no deadline).
    #[prost(uint64, optional, tag = "2")]
    pub budget_us: Option<u64>,
    /// The request id the handler saw.
    #[prost(string, tag = "3")]
    pub request_id: String,
    /// The budgets seen by the services this handler called, in call order.
    #[prost(uint64, repeated, tag = "4")]
    pub hop_budgets_us: Vec<u64>,
}

/// The remaining time of `ctx`'s deadline in microseconds, for [`SearchResponse::budget_us`].
///
/// ```
/// assert_eq!(gochan_grpc::search::budget_us(&gochan::context::background()), None);
/// ```
pub fn budget_us(ctx: &Context) -> Option<u64> {
    ctx.deadline().map(|d| {
        d.saturating_duration_since(std::time::Instant::now())
            .as_micros() as u64
    })
}

/// What a `gochan.Search` server implements (tonic-build's server trait).
///
/// ```
/// use gochan_grpc::search::{Search, SearchRequest, SearchResponse};
/// struct Echo;
/// impl Search for Echo {
///     async fn search(&self, req: tonic::Request<SearchRequest>) -> Result<tonic::Response<SearchResponse>, tonic::Status> {
///         Ok(tonic::Response::new(SearchResponse { results: vec![req.into_inner().query], ..Default::default() }))
///     }
/// }
/// ```
pub trait Search: Send + Sync + 'static {
    /// Answers one query; [`crate::context()`] gives the request's context.
    fn search(
        &self,
        request: Request<SearchRequest>,
    ) -> impl Future<Output = Result<Response<SearchResponse>, Status>> + Send;
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'static>>;

/// The tonic service serving a [`Search`] implementation (`Server::add_service`).
///
/// ```
/// # struct Echo;
/// # impl gochan_grpc::search::Search for Echo {
/// #     async fn search(&self, _r: tonic::Request<gochan_grpc::search::SearchRequest>)
/// #         -> Result<tonic::Response<gochan_grpc::search::SearchResponse>, tonic::Status> { Err(tonic::Status::unimplemented("")) }
/// # }
/// let _router = tonic::transport::Server::builder().add_service(gochan_grpc::search::SearchServer::new(Echo));
/// ```
#[derive(Debug)]
pub struct SearchServer<T> {
    inner: Arc<T>,
}

impl<T> SearchServer<T> {
    /// Serves `inner`.
    ///
    /// ```
    /// # struct Echo;
    /// let _svc = gochan_grpc::search::SearchServer::new(Echo);
    /// ```
    pub fn new(inner: T) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }
}

impl<T> Clone for SearchServer<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<T> tonic::server::NamedService for SearchServer<T> {
    const NAME: &'static str = SERVICE_NAME;
}

struct SearchSvc<T>(Arc<T>);

impl<T: Search> tonic::server::UnaryService<SearchRequest> for SearchSvc<T> {
    type Response = SearchResponse;
    type Future = BoxFuture<Response<SearchResponse>, Status>;

    fn call(&mut self, request: Request<SearchRequest>) -> Self::Future {
        let inner = self.0.clone();
        Box::pin(async move { inner.search(request).await })
    }
}

impl<T, B> Service<http::Request<B>> for SearchServer<T>
where
    T: Search,
    B: http_body::Body + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, _cx: &mut TaskCx<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        if req.uri().path() == METHOD_PATH {
            let inner = self.inner.clone();
            return Box::pin(async move {
                let mut grpc = tonic::server::Grpc::new(tonic_prost::ProstCodec::default());
                Ok(grpc.unary(SearchSvc(inner), req).await)
            });
        }
        Box::pin(async move {
            let mut resp = http::Response::new(tonic::body::Body::default());
            let h = resp.headers_mut();
            h.insert(
                "grpc-status",
                http::HeaderValue::from(Status::unimplemented("").code() as i32),
            );
            h.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/grpc"),
            );
            Ok(resp)
        })
    }
}

/// A `gochan.Search` client over a tonic channel (tonic-build's client shape).
///
/// ```no_run
/// use std::time::Duration;
/// use gochan::context;
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let mut client = gochan_grpc::search::SearchClient::connect("http://127.0.0.1:50051").await?;
/// let (ctx, _cancel) = context::with_timeout(&context::background(), Duration::from_millis(300));
/// let resp = client.search_ctx(&ctx, gochan_grpc::search::SearchRequest { query: "go".into(), work_ms: 0 }).await?;
/// println!("{:?}", resp.results);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct SearchClient {
    inner: tonic::client::Grpc<tonic::transport::Channel>,
}

impl SearchClient {
    /// A client over `channel`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let channel = tonic::transport::Endpoint::from_static("http://127.0.0.1:1").connect_lazy();
    /// let _client = gochan_grpc::search::SearchClient::new(channel);
    /// # }
    /// ```
    pub fn new(channel: tonic::transport::Channel) -> Self {
        Self {
            inner: tonic::client::Grpc::new(channel),
        }
    }

    /// Connects to `dst` (e.g. `http://127.0.0.1:50051`).
    ///
    /// # Errors
    /// A malformed address or a failed connection.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// // Nothing listens on port 1.
    /// assert!(gochan_grpc::search::SearchClient::connect("http://127.0.0.1:1").await.is_err());
    /// # }
    /// ```
    pub async fn connect(dst: &'static str) -> Result<Self, tonic::transport::Error> {
        let channel = tonic::transport::Endpoint::from_static(dst)
            .connect()
            .await?;
        Ok(Self::new(channel))
    }

    /// One call, as tonic-build generates it: no context (pass [`crate::call`]'s request to
    /// send a deadline, or use [`SearchClient::search_ctx`]).
    ///
    /// # Errors
    /// The call's status.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let channel = tonic::transport::Endpoint::from_static("http://127.0.0.1:1").connect_lazy();
    /// let mut client = gochan_grpc::search::SearchClient::new(channel);
    /// let err = client.search(gochan_grpc::search::SearchRequest::default()).await.unwrap_err();
    /// assert_eq!(err.code(), tonic::Code::Unavailable);
    /// # }
    /// ```
    pub async fn search(
        &mut self,
        request: impl tonic::IntoRequest<SearchRequest>,
    ) -> Result<Response<SearchResponse>, Status> {
        self.inner
            .ready()
            .await
            .map_err(|e| Status::unavailable(format!("service was not ready: {e}")))?;
        let path = http::uri::PathAndQuery::from_static(METHOD_PATH);
        self.inner
            .unary(
                request.into_request(),
                path,
                tonic_prost::ProstCodec::default(),
            )
            .await
    }

    /// One call under `ctx`: [`crate::call`] then [`crate::with_context`], so the callee
    /// gets ctx's remaining deadline and the call is dropped (stream reset) when ctx ends.
    ///
    /// # Errors
    /// The call's status, or ctx's ([`crate::context_error_to_status`]).
    ///
    /// ```
    /// use gochan::context;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let channel = tonic::transport::Endpoint::from_static("http://127.0.0.1:1").connect_lazy();
    /// let mut client = gochan_grpc::search::SearchClient::new(channel);
    /// let (ctx, cancel) = context::with_cancel(&context::background());
    /// cancel.cancel();
    /// let err = client.search_ctx(&ctx, Default::default()).await.unwrap_err();
    /// assert_eq!(err.code(), tonic::Code::Cancelled); // failed fast, nothing sent
    /// # }
    /// ```
    pub async fn search_ctx(
        &mut self,
        ctx: &Context,
        request: SearchRequest,
    ) -> Result<SearchResponse, Status> {
        let req = crate::call(ctx, request)?;
        crate::with_context(ctx, self.search(req))
            .await
            .map(Response::into_inner)
    }
}
