//! A simulated search backend (a stand-in for the Google Web Search API that the Go blog's
//! "Go Concurrency Patterns: Context" calls), served over real loopback HTTP:
//! `GET /search?q=...&userip=...` answers JSON after the backend's latency, unless the
//! request's context ends first. The work runs in its own task tied to the request context
//! (as a real backend would hand a query to a worker): when the caller goes away or its
//! deadline passes, the work sees its context end, stops, and says so in the log. [`Stats`]
//! counts it all, including work still running.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use gochan::context::{self, Context};
use http::{header, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;

use crate::{query_pairs, Log};

/// Counters shared by every backend of one app (and read by tests and the load test).
#[derive(Debug, Default)]
pub struct Stats {
    /// Backend work started.
    pub started: AtomicU64,
    /// Backend work that ran to its end and answered.
    pub completed: AtomicU64,
    /// Backend work stopped because its request context ended.
    pub cancelled: AtomicU64,
    /// Backend work running now (started - completed - cancelled).
    pub live_backend: AtomicU64,
    /// Front-end requests being handled now.
    pub live_front: AtomicU64,
}

impl Stats {
    /// Work running anywhere in the app: front-end handlers plus backend work.
    pub fn live(&self) -> u64 {
        self.live_backend.load(Ordering::SeqCst) + self.live_front.load(Ordering::SeqCst)
    }
}

/// Decrements a live counter when dropped (also when a future holding it is dropped).
pub(crate) struct LiveGuard<'a>(pub(crate) &'a AtomicU64);

impl<'a> LiveGuard<'a> {
    pub(crate) fn new(counter: &'a AtomicU64) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Self(counter)
    }
}

impl Drop for LiveGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One backend: its name and how long it takes to answer.
#[derive(Clone, Debug)]
pub struct Backend {
    /// Shown in results ("web", "images", ...).
    pub name: String,
    /// Simulated work time per query.
    pub latency: Duration,
}

/// The backend's request handler.
pub(crate) async fn handle(
    backend: Arc<Backend>,
    stats: Arc<Stats>,
    log: Log,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let ctx = gochan_http::context(&req);
    let params = query_pairs(req.uri().query());
    let q = params.get("q").cloned().unwrap_or_default();
    let userip = params.get("userip").cloned();
    // The work runs in its own task under the request's context; the handler waits for it.
    let work = tokio::spawn(work(backend, stats, log, ctx, q, userip));
    let (status, body) = match work.await {
        Ok(Some(json)) => (StatusCode::OK, json),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            r#"{"error":"cancelled"}"#.to_string(),
        ),
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}

/// The simulated query: wait the latency or the context, whichever ends first. Returns
/// the JSON body, `None` when cancelled.
async fn work(
    backend: Arc<Backend>,
    stats: Arc<Stats>,
    log: Log,
    ctx: Context,
    q: String,
    userip: Option<String>,
) -> Option<String> {
    let _live = LiveGuard::new(&stats.live_backend);
    stats.started.fetch_add(1, Ordering::SeqCst);
    let start = Instant::now();
    // The time budget the caller sent (grpc-timeout / x-timeout), for the log.
    let budget = ctx.deadline().map_or_else(
        || "no deadline".to_string(),
        |d| {
            format!(
                "deadline in {}",
                gochan::time::format_duration(d.saturating_duration_since(start))
            )
        },
    );
    tokio::select! {
        _ = tokio::time::sleep(backend.latency) => {}
        _ = ctx.cancelled() => {
            stats.cancelled.fetch_add(1, Ordering::SeqCst);
            let why = context::cause(&ctx).map_or_else(|| "cancelled".to_string(), |c| c.to_string());
            log(&format!(
                "backend {}: request {} for {:?} cancelled after {} ({budget}): {}",
                backend.name,
                gochan_http::request_id(&ctx).unwrap_or("-"),
                q,
                gochan::time::format_duration(start.elapsed()),
                why
            ));
            return None;
        }
    }
    stats.completed.fetch_add(1, Ordering::SeqCst);
    Some(results_json(&backend.name, &q, userip.as_deref()))
}

/// Three results per query, in the shape of the Google AJAX Search API that the Go blog's
/// example decodes.
fn results_json(name: &str, q: &str, userip: Option<&str>) -> String {
    let results: Vec<serde_json::Value> = (1..=3)
        .map(|i| {
            serde_json::json!({
                "titleNoFormatting": format!("{q} — {name} result {i}"),
                "url": format!("https://{name}.example/{}/{i}", form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()),
            })
        })
        .collect();
    serde_json::json!({
        "responseData": { "results": results },
        "userip": userip,
    })
    .to_string()
}
