//! The search service of the Go blog's "Go Concurrency Patterns: Context"
//! (<https://go.dev/blog/context>, the `server`, `google` and `userip` packages), with its
//! backends served over gRPC by tonic and gochan contexts on both sides:
//!
//! - Backends (`web`, `images`, `video`): `gochan.Search` gRPC services behind
//!   [`gochan_grpc::server_layer`]. Each reads its request's context
//!   ([`gochan_grpc::context`]) and does its (simulated) work on a task holding that
//!   context, as the blog's `httpDo` selects on `ctx.Done()`: when the context ends (the
//!   caller's deadline, or the caller resetting the stream) the work stops at once and says
//!   so.
//! - Front end: also a `gochan.Search` service (the blog's `handleSearch` + `google.Search`).
//!   Its context carries the caller's deadline (`grpc-timeout`), capped by the front end's
//!   own `max_timeout` (the blog's `timeout` parameter), and the request id. It fans out to
//!   every backend under that context with an [`AsyncErrGroup`] (Go's `errgroup`): each call
//!   is [`SearchClient::search_ctx`] (`gochan_grpc::call` + `with_context`), so the backends
//!   get the remaining budget and the request id, and when the context ends, every call
//!   still in flight is dropped and its stream reset.
//!
//! Run it: `cargo run -p gochan-grpc --example search_grpc`. It starts everything on
//! loopback and sends two queries: one with no deadline of its own (the front end's cap
//! applies, every backend answers) and one with 100 ms, less than the `video` backend
//! needs: the call fails with `DEADLINE_EXCEEDED` and the `video` backend reports that its
//! context ended and it stopped. `tests/example.rs` runs the same demo and checks it.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gochan::context::{self, Context};
use gochan::group::AsyncErrGroup;
use gochan_grpc::search::{Search, SearchClient, SearchRequest, SearchResponse, SearchServer};
use tokio::task::JoinHandle;
use tonic::{Request, Response, Status};

/// How a backend's work for one request ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It ran to its end and answered.
    Answered,
    /// Its context ended first: the error and the cause (`context::cause`).
    Stopped {
        /// `DeadlineExceeded` or `Canceled`.
        err: context::Error,
        /// Why, e.g. the caller resetting the stream.
        cause: String,
    },
}

/// What one backend did for one request.
#[derive(Clone, Debug)]
pub struct Event {
    /// The backend's name.
    pub backend: String,
    /// The request id its context carried.
    pub request_id: String,
    /// The time its context had left when the work started (`None`: no deadline).
    pub budget: Option<Duration>,
    /// How long the work ran.
    pub after: Duration,
    /// How it ended.
    pub outcome: Outcome,
}

/// Shared by the backends: what they did, and how much work is running now.
#[derive(Debug, Default)]
pub struct Journal {
    events: Mutex<Vec<Event>>,
    running: AtomicUsize,
}

impl Journal {
    /// Backend work running now.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    /// Waits (at most `limit`) until `n` events for `request_id` are in and no work runs,
    /// then returns those events.
    pub async fn settle(&self, request_id: &str, n: usize, limit: Duration) -> Vec<Event> {
        let until = Instant::now() + limit;
        loop {
            let events: Vec<Event> = (self.events.lock().unwrap().iter())
                .filter(|e| e.request_id == request_id)
                .cloned()
                .collect();
            if (events.len() >= n && self.running() == 0) || Instant::now() >= until {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// One backend: a name and how long its work takes.
struct Backend {
    name: String,
    latency: Duration,
    journal: Arc<Journal>,
}

impl Search for Backend {
    async fn search(
        &self,
        req: Request<SearchRequest>,
    ) -> Result<Response<SearchResponse>, Status> {
        let ctx = gochan_grpc::context(&req);
        let query = req.into_inner().query;
        let (name, latency, journal) = (self.name.clone(), self.latency, self.journal.clone());
        // The work runs on its own task holding the context: hyper drops this handler's
        // future when the caller resets the stream, but the task sees the context end.
        let work = tokio::spawn(async move {
            journal.running.fetch_add(1, Ordering::SeqCst);
            let start = Instant::now();
            let budget = ctx.deadline().map(|d| d.saturating_duration_since(start));
            let ended = tokio::select! {
                biased;
                _ = ctx.cancelled() => Some(ctx.err().unwrap_or(context::Error::Canceled)),
                _ = tokio::time::sleep(latency) => None,
            };
            let request_id = gochan_http::request_id(&ctx).unwrap_or("").to_string();
            let outcome = match ended {
                None => Outcome::Answered,
                Some(err) => Outcome::Stopped {
                    err,
                    cause: context::cause(&ctx).map_or_else(String::new, |c| c.to_string()),
                },
            };
            journal.events.lock().unwrap().push(Event {
                backend: name.clone(),
                request_id: request_id.clone(),
                budget,
                after: start.elapsed(),
                outcome,
            });
            journal.running.fetch_sub(1, Ordering::SeqCst);
            match ended {
                Some(err) => Err(gochan_grpc::context_error_to_status(err)),
                None => Ok(SearchResponse {
                    results: (1..=3)
                        .map(|i| format!("{query} - {name} result {i}"))
                        .collect(),
                    budget_us: budget.map(|b| b.as_micros() as u64),
                    request_id,
                    hop_budgets_us: vec![],
                }),
            }
        });
        work.await
            .map_err(|e| Status::internal(e.to_string()))?
            .map(Response::new)
    }
}

/// The front end: every backend, called under the request's context.
struct Front {
    backends: Vec<SearchClient>,
}

impl Search for Front {
    async fn search(
        &self,
        req: Request<SearchRequest>,
    ) -> Result<Response<SearchResponse>, Status> {
        let ctx = gochan_grpc::context(&req);
        let budget_us = gochan_grpc::search::budget_us(&ctx);
        let query = req.into_inner().query;
        // Go's errgroup.WithContext: the first failed call cancels the others.
        let (group, group_ctx) = AsyncErrGroup::<Status>::with_context(&ctx);
        let answers = Arc::new(Mutex::new(vec![None; self.backends.len()]));
        for (i, client) in self.backends.iter().enumerate() {
            let (mut client, query) = (client.clone(), query.clone());
            let (group_ctx, answers) = (group_ctx.clone(), answers.clone());
            group.go(async move {
                let request = SearchRequest { query, work_ms: 0 };
                let answer = client.search_ctx(&group_ctx, request).await?;
                answers.lock().unwrap()[i] = Some(answer);
                Ok(())
            });
        }
        group.wait().await?;
        let answers: Vec<SearchResponse> = answers.lock().unwrap().drain(..).flatten().collect();
        let mut resp = SearchResponse {
            budget_us,
            request_id: gochan_http::request_id(&ctx).unwrap_or("").to_string(),
            ..Default::default()
        };
        for a in answers {
            resp.results.extend(a.results);
            resp.hop_budgets_us.push(a.budget_us.unwrap_or(0));
        }
        Ok(Response::new(resp))
    }
}

/// What to start.
#[derive(Clone, Debug)]
pub struct Config {
    /// Each backend's name and latency.
    pub backends: Vec<(String, Duration)>,
    /// The front end's cap on every request's deadline (the blog's `timeout`).
    pub max_timeout: Duration,
}

impl Default for Config {
    /// `web` 10 ms, `images` 40 ms, `video` 400 ms; deadlines capped at 1 s.
    fn default() -> Self {
        let b = |name: &str, ms| (name.to_string(), Duration::from_millis(ms));
        Config {
            backends: vec![b("web", 10), b("images", 40), b("video", 400)],
            max_timeout: Duration::from_secs(1),
        }
    }
}

/// The running services; dropping it stops them.
#[derive(Debug)]
pub struct App {
    /// The front end's address.
    pub front: SocketAddr,
    /// Each backend's name, latency and address.
    pub backends: Vec<(String, Duration, SocketAddr)>,
    /// What the backends did.
    pub journal: Arc<Journal>,
    /// The front end's deadline cap.
    pub max_timeout: Duration,
    servers: Vec<JoinHandle<()>>,
}

impl Drop for App {
    fn drop(&mut self) {
        for s in &self.servers {
            s.abort();
        }
    }
}

/// Serves `svc` behind gochan's context layer on a free loopback port.
async fn serve<S: Search>(
    svc: S,
    layer: gochan_http::ContextLayer,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tonic::transport::Server::builder()
        .layer(gochan_grpc::server_layer(layer))
        .add_service(SearchServer::new(svc))
        .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener));
    let task = tokio::spawn(async move {
        if let Err(e) = server.await {
            eprintln!("server {addr}: {e}");
        }
    });
    Ok((addr, task))
}

fn client_for(addr: SocketAddr) -> SearchClient {
    let url = format!("http://{addr}");
    let endpoint = tonic::transport::Endpoint::from_shared(url).expect("a valid URL");
    SearchClient::new(endpoint.connect_lazy())
}

/// Starts the backends and the front end on loopback.
///
/// # Errors
/// A port could not be bound.
pub async fn start(config: Config) -> std::io::Result<App> {
    let journal = Arc::new(Journal::default());
    let mut servers = Vec::new();
    let mut backends = Vec::new();
    for (name, latency) in config.backends {
        let backend = Backend {
            name: name.clone(),
            latency,
            journal: journal.clone(),
        };
        let (addr, task) = serve(backend, gochan_http::ContextLayer::new()).await?;
        servers.push(task);
        backends.push((name, latency, addr));
    }
    let front = Front {
        backends: backends.iter().map(|b| client_for(b.2)).collect(),
    };
    let layer = gochan_http::ContextLayer::new().max_timeout(config.max_timeout);
    let (front, task) = serve(front, layer).await?;
    servers.push(task);
    Ok(App {
        front,
        backends,
        journal,
        max_timeout: config.max_timeout,
        servers,
    })
}

/// One query of the demo and what came of it.
#[derive(Debug)]
pub struct Query {
    /// The query.
    pub query: String,
    /// The caller's own deadline (`None`: only the front end's cap).
    pub deadline: Option<Duration>,
    /// The request id it was sent with.
    pub request_id: String,
    /// The front end's answer.
    pub result: Result<SearchResponse, Status>,
    /// How long the call took.
    pub elapsed: Duration,
    /// What each backend did for it, in the order they finished.
    pub events: Vec<Event>,
}

/// Sends the demo's two queries to the front end: `golang` with no deadline of its own,
/// `gophers` with 100 ms.
pub async fn demo(app: &App) -> Vec<Query> {
    let mut client = client_for(app.front);
    let mut out = Vec::new();
    for (n, (query, deadline)) in [("golang", None), ("gophers", Some(100))]
        .into_iter()
        .enumerate()
    {
        let deadline = deadline.map(Duration::from_millis);
        let request_id = format!("demo-{}", n + 1);
        let (ctx, _cancel) = match deadline {
            Some(d) => context::with_timeout(&context::background(), d),
            None => context::with_cancel(&context::background()),
        };
        let ctx: Context = context::with_value(&ctx, gochan_http::RequestId::new(&request_id));
        let started = Instant::now();
        let request = SearchRequest {
            query: query.to_string(),
            work_ms: 0,
        };
        let result = client.search_ctx(&ctx, request).await;
        let elapsed = started.elapsed();
        let limit = Duration::from_secs(5);
        let events = app
            .journal
            .settle(&request_id, app.backends.len(), limit)
            .await;
        out.push(Query {
            query: query.to_string(),
            deadline,
            request_id,
            result,
            elapsed,
            events,
        });
    }
    out
}

fn ms(d: Duration) -> String {
    format!("{:.0?}", d)
}

/// The demo's report, as `main` prints it.
pub fn render(app: &App, queries: &[Query]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "The Go blog's \"Go Concurrency Patterns: Context\" search, over gRPC (tonic + gochan)"
    );
    let _ = writeln!(
        s,
        "front end {} (caps deadlines at {})",
        app.front,
        ms(app.max_timeout)
    );
    for (name, latency, addr) in &app.backends {
        let _ = writeln!(s, "backend {name:<6} {addr}, answers in {}", ms(*latency));
    }
    for q in queries {
        let deadline = q.deadline.map_or("none (the front end's cap)".into(), ms);
        let _ = writeln!(
            s,
            "\nquery {:?}, request id {}, deadline {deadline}:",
            q.query, q.request_id
        );
        match &q.result {
            Ok(r) => {
                let _ = writeln!(
                    s,
                    "  OK after {}: {} results",
                    ms(q.elapsed),
                    r.results.len()
                );
                for hit in &r.results {
                    let _ = writeln!(s, "    {hit}");
                }
            }
            Err(st) => {
                let _ = writeln!(
                    s,
                    "  {:?} after {}: {:?}",
                    st.code(),
                    ms(q.elapsed),
                    st.message()
                );
            }
        }
        for e in &q.events {
            let left = e
                .budget
                .map_or("no deadline".into(), |b| format!("{} left", ms(b)));
            let what = match &e.outcome {
                Outcome::Answered => "answered".to_string(),
                Outcome::Stopped { err, cause } if *cause == err.to_string() => {
                    format!("saw its context end ({err}) and stopped")
                }
                Outcome::Stopped { err, cause } => {
                    format!("saw its context end ({err}; cause: {cause}) and stopped")
                }
            };
            let _ = writeln!(
                s,
                "  backend {:<6} {what} after {} (context had {left})",
                e.backend,
                ms(e.after)
            );
        }
    }
    let _ = writeln!(s, "\nbackend work still running: {}", app.journal.running());
    s
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let app = start(Config::default()).await?;
    let queries = demo(&app).await;
    print!("{}", render(&app, &queries));
    Ok(())
}
