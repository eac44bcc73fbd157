//! Load test of the search server, loopback only, bounded in time:
//! `cargo run --release -p gochan-search --bin search-load [-- --seconds S --concurrency C]`.
//!
//! Three scenarios, each followed by a check that no handler or backend work is left
//! running (the live-task counter returns to zero):
//! 1. instant backends, no timeout: the HTTP + context overhead per request;
//! 2. the default backends (20/150/250 ms), no timeout: every backend answers;
//! 3. the default backends with `timeout=100ms`: two of three backend calls are cancelled.

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use gochan_search::{load, Backend, Config};

fn main() -> ExitCode {
    let (mut seconds, mut concurrency) = (5u64, 32usize);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().and_then(|v| v.parse::<u64>().ok());
        match (a.as_str(), v) {
            ("--seconds", Some(v)) => seconds = v.max(1),
            ("--concurrency", Some(v)) => concurrency = v.max(1) as usize,
            _ => {
                eprintln!("usage: search-load [--seconds S] [--concurrency C]");
                return ExitCode::from(2);
            }
        }
    }
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let quiet: gochan_search::Log = Arc::new(|_| {});
    let instant = vec![
        Backend {
            name: "web".into(),
            latency: Duration::ZERO,
        },
        Backend {
            name: "images".into(),
            latency: Duration::ZERO,
        },
        Backend {
            name: "news".into(),
            latency: Duration::ZERO,
        },
    ];
    let scenarios = [
        ("instant backends, no timeout", instant, "search?q=golang"),
        (
            "20/150/250ms backends, no timeout",
            Config::default().backends,
            "search?q=golang",
        ),
        (
            "20/150/250ms backends, timeout=100ms",
            Config::default().backends,
            "search?q=golang&timeout=100ms",
        ),
    ];
    println!("search-load: {seconds} s per scenario, {concurrency} concurrent clients, loopback, {} CPUs",
        std::thread::available_parallelism().map_or(0, |n| n.get()));
    let mut ok = true;
    for (name, backends, path) in scenarios {
        let cfg = Config {
            backends,
            log: quiet.clone(),
            ..Config::default()
        };
        rt.block_on(async {
            let app = gochan_search::start(cfg).await.expect("start");
            let report = load::run(&format!("{}{path}", app.url), concurrency, Duration::from_secs(seconds)).await;
            let live = load::settle(&app.stats, Duration::from_secs(5)).await;
            let s = &app.stats;
            println!("{name:<40} {report}");
            println!(
                "{:<40} backend work: {} started, {} completed, {} cancelled; live tasks after the run: {live}",
                "",
                s.started.load(Ordering::SeqCst),
                s.completed.load(Ordering::SeqCst),
                s.cancelled.load(Ordering::SeqCst),
            );
            ok &= live == 0 && report.errors == 0;
            app.shutdown().await;
        });
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
