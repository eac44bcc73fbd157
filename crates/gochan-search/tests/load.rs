//! A bounded load run against the search server (loopback, ~2 s in all): every request
//! succeeds, and once the load stops no handler or backend work is left running (the
//! live-task counter returns to zero), with and without timeouts that cancel backends.
//! Throughput figures come from the release binary `search-load`, not from here.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use gochan_search::{load, Backend, Config};

fn cfg(latencies_ms: &[u64]) -> Config {
    Config {
        backends: latencies_ms
            .iter()
            .enumerate()
            .map(|(i, ms)| Backend {
                name: format!("b{i}"),
                latency: Duration::from_millis(*ms),
            })
            .collect(),
        log: Arc::new(|_| {}),
        ..Config::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_without_timeouts_leaves_nothing_running() {
    let app = gochan_search::start(cfg(&[0, 1, 2])).await.unwrap();
    let r = load::run(
        &format!("{}search?q=load", app.url),
        16,
        Duration::from_secs(1),
    )
    .await;
    assert!(r.ok > 0, "{r}");
    assert_eq!(r.errors, 0, "{r}");
    assert_eq!(load::settle(&app.stats, Duration::from_secs(5)).await, 0);
    let s = &app.stats;
    assert_eq!(s.started.load(Ordering::SeqCst), 3 * r.ok);
    assert_eq!(s.cancelled.load(Ordering::SeqCst), 0);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_with_timeouts_cancels_and_leaves_nothing_running() {
    // Two backends far slower than the settle limit below: a call to them that is not
    // cancelled is still live when the test looks.
    let app = gochan_search::start(cfg(&[0, 10_000, 20_000]))
        .await
        .unwrap();
    let url = format!("{}search?q=load&timeout=20ms", app.url);
    let r = load::run(&url, 16, Duration::from_secs(1)).await;
    assert!(r.ok > 0, "{r}");
    assert_eq!(r.errors, 0, "{r}");
    assert_eq!(
        load::settle(&app.stats, Duration::from_secs(5)).await,
        0,
        "slow backend work outlived its cancelled calls"
    );
    let s = &app.stats;
    // Every started backend call either completed or was cancelled: none is lost.
    let (started, completed, cancelled) = (
        s.started.load(Ordering::SeqCst),
        s.completed.load(Ordering::SeqCst),
        s.cancelled.load(Ordering::SeqCst),
    );
    assert_eq!(started, completed + cancelled);
    // The two slow backends never finish their work: each call that reaches them is
    // cancelled (by the 20 ms deadline it carries, or by the front end dropping the call).
    // Only the instant backend completes, at most once per request. (Not `cancelled >= 2 *
    // ok`: under CPU contention a call can be dropped before its backend handler starts,
    // so it is neither started nor cancelled.)
    assert!(
        completed <= r.ok,
        "slow backend work ran to its end: {completed} completed for {} requests ({started} started, {cancelled} cancelled)",
        r.ok
    );
    assert!(
        cancelled > 0,
        "nothing was cancelled: {started} started, {completed} completed"
    );
    app.shutdown().await;
}
