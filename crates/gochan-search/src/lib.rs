//! # gochan-search: the Go blog's Context search front end, over real HTTP
//!
//! The Go blog's "Go Concurrency Patterns: Context" example, built on [`gochan_http`]: a front end whose every request
//! has a context (client disconnect, the user's `timeout`, request id, client IP), fanning
//! out to backend services over loopback HTTP; a backend's work is cancelled as soon as the
//! request that asked for it ends, and nothing is left running after a response.
//!
//! ```no_run
//! # async fn f() -> std::io::Result<()> {
//! let app = gochan_search::start(gochan_search::Config::default()).await?;
//! println!("open {}", app.url);
//! app.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Run it: `cargo run --release -p gochan-search` (serves until Ctrl-C), or with `--demo`
//! (fires a few requests at itself and exits). Load test: `cargo run --release -p
//! gochan-search --bin search-load`.
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![forbid(unsafe_code)]

mod backend;
mod front;
pub mod load;

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use gochan::context::{self, CancelFunc};
use tokio::task::JoinHandle;
use tower_layer::Layer;

pub use backend::{Backend, Stats};

/// Where log lines go (stderr in the binary; tests collect them).
pub type Log = Arc<dyn Fn(&str) + Send + Sync>;

/// What to start.
#[derive(Clone)]
pub struct Config {
    /// The front end's address (`127.0.0.1:0` picks a free port).
    pub addr: SocketAddr,
    /// The backends, each served on its own loopback port.
    pub backends: Vec<Backend>,
    /// Log sink.
    pub log: Log,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("backends", &self.backends)
            .finish_non_exhaustive()
    }
}

impl Default for Config {
    /// `127.0.0.1:0`; backends `web` 20 ms, `images` 150 ms, `news` 250 ms; log to stderr.
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            backends: vec![
                backend("web", 20),
                backend("images", 150),
                backend("news", 250),
            ],
            log: Arc::new(|line| eprintln!("{line}")),
        }
    }
}

fn backend(name: &str, ms: u64) -> Backend {
    Backend {
        name: name.to_string(),
        latency: Duration::from_millis(ms),
    }
}

/// A running app: the front end and its backends, on loopback.
pub struct App {
    /// The front end's URL, e.g. `http://127.0.0.1:8080/`.
    pub url: String,
    /// The front end's address.
    pub addr: SocketAddr,
    /// Counters of backend work and live tasks.
    pub stats: Arc<Stats>,
    stop: CancelFunc,
    servers: Vec<JoinHandle<io::Result<()>>>,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// Starts the backends and the front end (inside a tokio runtime).
///
/// # Errors
/// No backends, two backends with the same name (`InvalidInput`), or a port cannot be
/// bound.
pub async fn start(cfg: Config) -> io::Result<App> {
    if cfg.backends.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "no backends"));
    }
    for (i, b) in cfg.backends.iter().enumerate() {
        if cfg.backends[..i].iter().any(|o| o.name == b.name) {
            let msg = format!("two backends are named {:?}", b.name);
            return Err(io::Error::new(io::ErrorKind::InvalidInput, msg));
        }
    }
    let (shutdown, stop) = context::with_cancel(&context::background());
    let stats = Arc::new(Stats::default());
    let mut servers = Vec::new();
    let mut backends = Vec::new();
    for b in cfg.backends {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        backends.push((b.name.clone(), listener.local_addr()?));
        let (b, st, log) = (Arc::new(b), stats.clone(), cfg.log.clone());
        let svc =
            gochan_http::ContextLayer::new()
                .parent(&shutdown)
                .layer(gochan_http::service_fn(move |req| {
                    backend::handle(b.clone(), st.clone(), log.clone(), req)
                }));
        let sd = shutdown.clone();
        servers.push(tokio::spawn(async move {
            gochan_http::serve(listener, &sd, svc).await
        }));
    }
    let listener = tokio::net::TcpListener::bind(cfg.addr).await?;
    let addr = listener.local_addr()?;
    let front = Arc::new(front::Front {
        client: gochan_http::Client::new(),
        backends,
        stats: stats.clone(),
        log: cfg.log.clone(),
    });
    let svc = gochan_http::ContextLayer::new()
        .parent(&shutdown)
        .layer(gochan_http::service_fn(move |req| {
            front::handle(front.clone(), req)
        }));
    let sd = shutdown.clone();
    servers.push(tokio::spawn(async move {
        gochan_http::serve(listener, &sd, svc).await
    }));
    Ok(App {
        url: format!("http://{addr}/"),
        addr,
        stats,
        stop,
        servers,
    })
}

impl App {
    /// Stops accepting, cancels every request in flight (their contexts are children of
    /// the app's), and waits for all servers to finish.
    pub async fn shutdown(self) {
        self.stop.cancel();
        for s in self.servers {
            let _ = s.await;
        }
    }
}

/// A query string's pairs, percent- and `+`-decoded (the first value wins, as Go's
/// `FormValue`).
pub(crate) fn query_pairs(query: Option<&str>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    out
}
