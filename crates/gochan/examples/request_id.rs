//! Request-scoped values: a middleware puts a request id into the context; the handler and
//! the logger read it back.
//!
//! Mirrors the request-id middleware of Go's `net/http` with `context.WithValue`
//! (<https://pkg.go.dev/context#WithValue>), plus a logger that logs with the ctx so a log
//! id traces a request:
//!
//! ```go
//! const requestIDKey int = 0
//!
//! func WithRequestID(next http.Handler) http.Handler {
//!     return http.HandlerFunc(
//!         func(rw http.ResponseWriter, req *http.Request) {
//!             reqID := req.Header.Get("X-Request-ID")
//!             ctx := context.WithValue(req.Context(), requestIDKey, reqID)
//!             req = req.WithContext(ctx)
//!             next.ServeHTTP(rw, req)
//!         }
//!     )
//! }
//!
//! func GetRequestID(ctx context.Context) string {
//!     ctx.Value(requestIDKey).(string)
//! }
//!
//! func Handle(rw http.ResponseWriter, req *http.Request) {
//!     reqID := GetRequestID(req.Context())
//!     ...
//! }
//!
//! func main() {
//!     handler := WithRequestID(http.HandlerFunc(Handle))
//!     http.ListenAndServe("/", handler)
//! }
//! ```
//!
//! - The key `const requestIDKey int = 0` (which the Go docs advise against: a built-in
//!   type can collide) becomes a newtype, [`RequestId`]: gochan keys values by their type,
//!   so `context::with_value(&ctx, RequestId(id))` and `ctx.value::<RequestId>()` cannot
//!   collide with another package's values and need no type assertion.
//! - `GetRequestID`'s `.(string)` panics when the value is missing; `value::<T>()` returns
//!   an `Option`.
//! - A request without an `X-Request-ID` header gets a generated id (the usual middleware
//!   behaviour; ids here come from a counter so the output is deterministic).
//! - No network: a tiny `Handler` trait stands in for `net/http`, and `serve` runs each
//!   request on its own thread as `net/http` runs each on its own goroutine. The handler
//!   also hands the context to a "database" thread, whose log line carries the same id.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use gochan::context::{self, Context};
use gochan::Sender;

/// The context key and value: the id of the request being served.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Stand-in for `*http.Request`.
pub struct Request {
    pub path: String,
    pub headers: HashMap<String, String>,
    ctx: Context,
}

impl Request {
    pub fn new(path: &str, headers: &[(&str, &str)]) -> Request {
        Request {
            path: path.to_string(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ctx: context::background(),
        }
    }
    /// `req.Header.Get(name)`: `""` when absent.
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }
    /// `req.Context()`.
    pub fn context(&self) -> &Context {
        &self.ctx
    }
    /// `req.WithContext(ctx)`.
    pub fn with_context(self, ctx: Context) -> Request {
        Request { ctx, ..self }
    }
}

/// Stand-in for `http.ResponseWriter`: the response body, plus where log lines go.
pub struct ResponseWriter {
    pub body: String,
    pub log: Sender<String>,
}

/// Stand-in for `http.Handler`; any `Fn(&mut ResponseWriter, Request)` is one
/// (`http.HandlerFunc`).
pub trait Handler: Send + Sync + 'static {
    fn serve_http(&self, rw: &mut ResponseWriter, req: Request);
}

impl<F> Handler for F
where
    F: Fn(&mut ResponseWriter, Request) + Send + Sync + 'static,
{
    fn serve_http(&self, rw: &mut ResponseWriter, req: Request) {
        self(rw, req)
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Go's `WithRequestID` middleware.
pub fn with_request_id(next: impl Handler) -> impl Handler {
    move |rw: &mut ResponseWriter, req: Request| {
        // Take the request id from the header, or make one.
        let mut req_id = req.header("X-Request-ID").to_string();
        if req_id.is_empty() {
            req_id = format!("gen-{:04}", NEXT_ID.fetch_add(1, Ordering::SeqCst));
        }
        // A value node: the parent context is untouched.
        let ctx = context::with_value(req.context(), RequestId(req_id));
        // The new request, then the next handler.
        let req = req.with_context(ctx);
        next.serve_http(rw, req)
    }
}

/// Go's `GetRequestID`.
pub fn get_request_id(ctx: &Context) -> Option<&str> {
    ctx.value::<RequestId>().map(|id| id.0.as_str())
}

/// A logger that reads the request id from the context (log with the ctx).
fn log(ctx: &Context, out: &Sender<String>, msg: &str) {
    let id = get_request_id(ctx).unwrap_or("-");
    let _ = out.send(format!("[request_id={id}] {msg}"));
}

/// Go's `Handle`.
fn handle(rw: &mut ResponseWriter, req: Request) {
    let ctx = req.context().clone();
    let req_id = get_request_id(&ctx).unwrap_or("-").to_string();
    log(&ctx, &rw.log, &format!("handling {}", req.path));

    // Work done on another thread sees the same request id through the context.
    let (db_ctx, db_log) = (ctx.clone(), rw.log.clone());
    thread::spawn(move || log(&db_ctx, &db_log, "db: SELECT * FROM users"))
        .join()
        .unwrap();

    rw.body = format!("hello from {} (request {req_id})", req.path);
}

/// Stand-in for `http.ListenAndServe`: serves `requests` one after the other, each on its
/// own thread, and returns what was logged and answered.
fn serve(handler: impl Handler, requests: Vec<Request>) -> Vec<String> {
    let handler = std::sync::Arc::new(handler);
    let (log, logged) = gochan::unbounded();
    for req in requests {
        let (handler, rw_log) = (handler.clone(), log.clone());
        let body = thread::spawn(move || {
            let mut rw = ResponseWriter {
                body: String::new(),
                log: rw_log,
            };
            handler.serve_http(&mut rw, req);
            rw.body
        })
        .join()
        .unwrap();
        let _ = log.send(format!("response: {body}"));
    }
    drop(log);
    logged.iter().collect()
}

/// Runs the pattern and returns the lines the program prints.
pub fn run() -> Vec<String> {
    NEXT_ID.store(1, Ordering::SeqCst);
    let handler = with_request_id(handle);
    serve(
        handler,
        vec![
            Request::new("/users", &[("X-Request-ID", "abc-123")]),
            Request::new("/orders", &[]),
            Request::new("/health", &[]),
        ],
    )
}

#[allow(dead_code)]
fn main() {
    for line in run() {
        println!("{line}");
    }
}
