//! A bounded loopback load test: a tonic + gochan server under many concurrent calls,
//! a third of them with deadlines shorter than their work. Reports throughput, p50/p99,
//! how many calls ended by their context and how many handlers stopped on it; asserts no
//! handler work and no runtime task is left afterwards.
//!
//! The README's figures come from `cargo test --release -p gochan-grpc --test load --
//! --nocapture`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gochan::context;
use gochan_grpc::search::{Search, SearchClient, SearchRequest, SearchResponse, SearchServer};
use tonic::{Request, Response, Status};

#[derive(Clone, Default)]
struct Worker {
    active: Arc<AtomicUsize>,
    started: Arc<AtomicUsize>,
    completed: Arc<AtomicUsize>,
    stopped: Arc<AtomicUsize>,
}

impl Search for Worker {
    async fn search(
        &self,
        req: Request<SearchRequest>,
    ) -> Result<Response<SearchResponse>, Status> {
        let ctx = gochan_grpc::context(&req);
        let w = self.clone();
        let work_ms = req.get_ref().work_ms;
        let work = tokio::spawn(async move {
            w.active.fetch_add(1, Ordering::SeqCst);
            w.started.fetch_add(1, Ordering::SeqCst);
            let out = tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(work_ms)) => {
                    w.completed.fetch_add(1, Ordering::SeqCst);
                    Ok(SearchResponse::default())
                }
                _ = ctx.cancelled() => {
                    w.stopped.fetch_add(1, Ordering::SeqCst);
                    Err(gochan_grpc::context_error_to_status(ctx.err().unwrap()))
                }
            };
            w.active.fetch_sub(1, Ordering::SeqCst);
            out
        });
        work.await
            .map_err(|e| Status::internal(e.to_string()))?
            .map(Response::new)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_load() {
    let worker = Worker::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .layer(gochan_grpc::server_layer(gochan_http::ContextLayer::new()))
            .add_service(SearchServer::new(worker.clone()))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    // One call so the server's connection task exists, then count the runtime's tasks.
    SearchClient::new(channel.clone())
        .search(SearchRequest::default())
        .await
        .unwrap();
    let metrics = tokio::runtime::Handle::current().metrics();
    let baseline_tasks = metrics.num_alive_tasks();

    const CALLS: usize = 600;
    const CONCURRENCY: usize = 32;
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (next, channel) = (next.clone(), channel.clone());
        tasks.push(tokio::spawn(async move {
            let mut client = SearchClient::new(channel);
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= CALLS {
                    return out;
                }
                // Every third call has 5 ms of budget for 2 s of work.
                let (budget, work_ms) = if i % 3 == 0 { (5, 2000) } else { (1000, 1) };
                let (ctx, _c) =
                    context::with_timeout(&context::background(), Duration::from_millis(budget));
                let t = Instant::now();
                let r = client
                    .search_ctx(
                        &ctx,
                        SearchRequest {
                            query: i.to_string(),
                            work_ms,
                        },
                    )
                    .await;
                out.push((i, t.elapsed(), r.map(|_| ()).map_err(|s| s.code())));
            }
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.extend(
            tokio::time::timeout(Duration::from_secs(60), t)
                .await
                .unwrap()
                .unwrap(),
        );
    }
    let elapsed = started.elapsed();
    assert_eq!(results.len(), CALLS);
    let mut ok_lat: Vec<Duration> = Vec::new();
    let mut expired = 0;
    for (i, lat, r) in &results {
        match r {
            Ok(()) => {
                assert!(i % 3 != 0, "call {i} had 5 ms for 2 s of work");
                ok_lat.push(*lat);
            }
            Err(code) => {
                assert_eq!(*code, tonic::Code::DeadlineExceeded, "call {i}");
                assert_eq!(i % 3, 0, "call {i} had a second for 1 ms of work");
                assert!(
                    *lat < Duration::from_millis(1000),
                    "call {i} ended by its deadline, not its work: {lat:?}"
                );
                expired += 1;
            }
        }
    }
    ok_lat.sort();
    let p = |q: f64| ok_lat[((ok_lat.len() - 1) as f64 * q) as usize];
    assert_eq!(expired, CALLS.div_ceil(3));
    // Every handler's work ended: the expired ones stopped on their context, not after 2 s,
    // and every task they spawned is gone (the client tasks above were awaited).
    let deadline = Instant::now() + Duration::from_secs(5);
    let active = &worker.active;
    while active.load(Ordering::SeqCst) != 0 || metrics.num_alive_tasks() > baseline_tasks {
        assert!(
            Instant::now() < deadline,
            "handler work left: {}, tasks: {} (before the load: {baseline_tasks})",
            active.load(Ordering::SeqCst),
            metrics.num_alive_tasks()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (started, completed, stopped) = (
        worker.started.load(Ordering::SeqCst),
        worker.completed.load(Ordering::SeqCst),
        worker.stopped.load(Ordering::SeqCst),
    );
    eprintln!(
        "{CALLS} calls, {CONCURRENCY} at a time, in {elapsed:.2?}: {:.0} calls/s; completed calls p50 {:.2?} p99 {:.2?}; \
         {expired} ended by their 5 ms deadline; handlers: {started} started, {completed} completed, {stopped} stopped on their context; \
         afterwards handler work left {}, tasks left {}",
        CALLS as f64 / elapsed.as_secs_f64(),
        p(0.5),
        p(0.99),
        active.load(Ordering::SeqCst),
        metrics.num_alive_tasks().saturating_sub(baseline_tasks),
    );
    // The warm-up call, every completed call, and a stop for each expired call that reached
    // the server (one whose deadline passed before it was sent never does).
    assert_eq!(completed, 1 + ok_lat.len());
    assert_eq!(started, completed + stopped);
    assert!(stopped <= expired, "{stopped} > {expired}");
}
