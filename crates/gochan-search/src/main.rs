//! `gochan-search`: the search server of the Go blog's "Go Concurrency Patterns: Context"
//! (<https://go.dev/blog/context>). Prints its URL and serves until Ctrl-C;
//! `--demo` fires a few requests at itself, prints what came back and exits.
//!
//! ```text
//! gochan-search [--addr 127.0.0.1:8080] [--backend NAME=LATENCY]... [--demo]
//! ```
//! Latencies are Go durations (`150ms`). Default backends: web=20ms images=150ms news=250ms.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use gochan::context;
use gochan_search::{Backend, Config};
use http_body_util::{BodyExt, Full};

/// Prints a line; a closed stdout (the reader went away) is not worth a crash.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{line}");
}

fn usage() -> ExitCode {
    eprintln!("usage: gochan-search [--addr HOST:PORT] [--backend NAME=LATENCY]... [--demo]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut cfg = Config {
        addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
        ..Config::default()
    };
    let mut demo = false;
    let mut custom = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--demo" => demo = true,
            "--addr" => match args.next().and_then(|v| v.parse().ok()) {
                Some(addr) => cfg.addr = addr,
                None => return usage(),
            },
            "--backend" => {
                let spec = args.next().unwrap_or_default();
                let Some((name, lat)) = spec.split_once('=') else {
                    return usage();
                };
                match gochan::time::parse_duration(lat) {
                    Ok(latency) => custom.push(Backend {
                        name: name.to_string(),
                        latency,
                    }),
                    Err(e) => {
                        eprintln!("--backend {spec}: {e}");
                        return usage();
                    }
                }
            }
            "-h" | "--help" => {
                usage();
                return ExitCode::SUCCESS;
            }
            _ => return usage(),
        }
    }
    if !custom.is_empty() {
        cfg.backends = custom;
    }
    if demo && cfg.addr.port() == 8080 {
        cfg.addr.set_port(0); // the demo never collides with a running server
    }
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    rt.block_on(async move {
        let backends: Vec<String> = cfg
            .backends
            .iter()
            .map(|b| format!("{} {}", b.name, gochan::time::format_duration(b.latency)))
            .collect();
        let app = match gochan_search::start(cfg).await {
            Ok(app) => app,
            Err(e) => {
                eprintln!("gochan-search: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!(
            "gochan search listening on {} (backends: {})",
            app.url,
            backends.join(", ")
        );
        if demo {
            run_demo(&app.url).await;
            let live =
                gochan_search::load::settle(&app.stats, std::time::Duration::from_secs(5)).await;
            let s = &app.stats;
            println!(
                "backend work: {} started, {} completed, {} cancelled; still running: {live}",
                s.started.load(Ordering::SeqCst),
                s.completed.load(Ordering::SeqCst),
                s.cancelled.load(Ordering::SeqCst)
            );
            app.shutdown().await;
            return if live == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            };
        }
        say("Ctrl-C to stop");
        let _ = tokio::signal::ctrl_c().await;
        say("shutting down");
        app.shutdown().await;
        ExitCode::SUCCESS
    })
}

async fn run_demo(url: &str) {
    let bg = context::background();
    for path in [
        "search?q=golang",
        "search?q=golang&timeout=100ms",
        "search?q=golang&timeout=bogus",
        "search?q=context&timeout=30ms&format=json",
        "search",
    ] {
        let req = http::Request::get(format!("{url}{path}"))
            .body(Full::new(Bytes::new()))
            .expect("valid request");
        match gochan_http::send(&bg, req).await {
            Ok(resp) => {
                let status = resp.status();
                let body = resp
                    .into_body()
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                let body = String::from_utf8_lossy(&body);
                println!("\nGET /{path} -> {status}");
                for line in body.lines().filter(|l| {
                    l.starts_with("<li") || l.starts_with("<p id") || !l.starts_with('<')
                }) {
                    println!("  {line}");
                }
            }
            Err(e) => println!("\nGET /{path} -> error: {e}"),
        }
    }
    // Let the log lines of backends cancelled by the last requests come out first.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
}
