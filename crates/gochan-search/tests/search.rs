//! The Go blog's Context search server over real loopback HTTP, with a real client: timeouts
//! bound the response, slow backends are cancelled (and say so), a client that goes away
//! cancels everything it started, bad input gets Go's answers.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use gochan::context;
use gochan_search::{Backend, Config};
use http::StatusCode;
use http_body_util::{BodyExt, Full};
use tokio::io::AsyncWriteExt;

fn backends(latencies_ms: &[(&str, u64)]) -> Vec<Backend> {
    latencies_ms
        .iter()
        .map(|(n, ms)| Backend {
            name: n.to_string(),
            latency: Duration::from_millis(*ms),
        })
        .collect()
}

/// An app on a free port whose log lines are collected.
async fn app(latencies_ms: &[(&str, u64)]) -> (gochan_search::App, Arc<Mutex<Vec<String>>>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let cfg = Config {
        backends: backends(latencies_ms),
        log: Arc::new(move |l: &str| sink.lock().unwrap().push(l.to_string())),
        ..Config::default()
    };
    (gochan_search::start(cfg).await.unwrap(), lines)
}

async fn get(url: String, headers: &[(&str, &str)]) -> (StatusCode, http::HeaderMap, String) {
    let mut req = http::Request::get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = gochan_http::send(
        &context::background(),
        req.body(Full::new(Bytes::new())).unwrap(),
    )
    .await
    .unwrap();
    let (status, h) = (resp.status(), resp.headers().clone());
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, h, String::from_utf8(body.to_vec()).unwrap())
}

/// Polls `f` until it holds or `limit` passes.
async fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    f()
}

fn count(stats: &gochan_search::Stats, c: &std::sync::atomic::AtomicU64) -> u64 {
    let _ = stats;
    c.load(std::sync::atomic::Ordering::SeqCst)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_response_arrives_within_the_timeout_and_slow_backends_are_cancelled() {
    let (app, log) = app(&[("fast", 0), ("slow", 2_000), ("slower", 3_000)]).await;
    let t = Instant::now();
    let (status, _, body) = get(format!("{}search?q=golang&timeout=150ms", app.url), &[]).await;
    let took = t.elapsed();
    assert_eq!(status, StatusCode::OK);
    assert!(took >= Duration::from_millis(150), "{took:?}");
    assert!(
        took < Duration::from_millis(150 + 500),
        "timeout + slack exceeded: {took:?}"
    );
    assert!(
        body.contains("<li class=\"status\">fast: ok</li>"),
        "{body}"
    );
    assert!(
        body.contains("<li class=\"timedout\">slow: timed out</li>"),
        "{body}"
    );
    assert!(
        body.contains("<li class=\"timedout\">slower: timed out</li>"),
        "{body}"
    );
    assert!(body.contains("3 results in "), "{body}");
    assert!(body.contains("; timeout 150ms</p>"), "{body}");
    // Both slow backends see their work cancelled, within a bounded time after the deadline.
    let s = app.stats.clone();
    assert!(eventually(Duration::from_secs(1), || count(&s, &s.cancelled) == 2).await);
    assert_eq!(count(&s, &s.completed), 1);
    assert_eq!(
        gochan_search::load::settle(&s, Duration::from_secs(2)).await,
        0
    );
    let lines = log.lock().unwrap().clone();
    for name in ["slow", "slower"] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("backend {name}: request "))
                    && l.contains("cancelled after")),
            "{lines:?}"
        );
    }
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_disconnects_cancels_the_backend_calls() {
    let (app, log) = app(&[("a", 5_000), ("b", 5_000), ("c", 5_000)]).await;
    let mut sock = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    sock.write_all(b"GET /search?q=leak HTTP/1.1\r\nhost: x\r\nx-request-id: gone-1\r\n\r\n")
        .await
        .unwrap();
    let s = app.stats.clone();
    assert!(eventually(Duration::from_secs(5), || count(&s, &s.started) == 3).await);
    let t = Instant::now();
    drop(sock);
    assert!(
        eventually(Duration::from_secs(2), || count(&s, &s.cancelled) == 3).await,
        "backend work outlived the client: {:?}",
        log.lock().unwrap()
    );
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(
        gochan_search::load::settle(&s, Duration::from_secs(2)).await,
        0
    );
    let lines = log.lock().unwrap().clone();
    // The request id travelled to every backend, and the cause says the client left.
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("request gone-1 "))
            .count(),
        3,
        "{lines:?}"
    );
    assert!(
        lines.iter().all(|l| l.contains("client disconnected")),
        "{lines:?}"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_id_and_deadline_travel_to_the_backends() {
    let (app, log) = app(&[("x", 3_000)]).await;
    let t = Instant::now();
    // No `timeout` parameter: the deadline comes from the caller's grpc-timeout header.
    let (status, headers, body) = get(
        format!("{}search?q=q&format=json", app.url),
        &[("x-request-id", "trace-9"), ("grpc-timeout", "200m")],
    )
    .await;
    assert!(
        t.elapsed() < Duration::from_millis(700),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-request-id"], "trace-9");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["backends"]["x"], "timed out");
    let s = app.stats.clone();
    assert!(eventually(Duration::from_secs(1), || count(&s, &s.cancelled) == 1).await);
    let lines = log.lock().unwrap().clone();
    // The backend got the id and a budget of at most the caller's 200 ms; its work ended
    // by its own deadline or by the front end dropping the call at the same moment,
    // whichever came first.
    let line = lines
        .iter()
        .find(|l| l.starts_with("backend x: request trace-9 "))
        .unwrap_or_else(|| panic!("{lines:?}"));
    let budget = line
        .split("(deadline in ")
        .nth(1)
        .and_then(|r| r.split(')').next());
    let budget = gochan::time::parse_duration(budget.unwrap_or_else(|| panic!("{line}"))).unwrap();
    assert!(budget <= Duration::from_millis(200), "{line}");
    assert!(
        line.ends_with("context deadline exceeded")
            || line.ends_with("client disconnected before the response was complete"),
        "{line}"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_gos_answers() {
    let (app, _log) = app(&[("web", 0)]).await;
    // q missing or empty -> 400 "no query" (http.Error adds a newline).
    for path in ["search", "search?q=", "search?timeout=1s"] {
        let (status, h, body) = get(format!("{}{path}", app.url), &[]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(body, "no query\n");
        assert_eq!(h["content-type"], "text/plain; charset=utf-8");
    }
    // A bad timeout means no timeout (Go: ParseDuration fails -> WithCancel).
    for t in ["bogus", "10", "-1s", ""] {
        let (status, _, body) = get(format!("{}search?q=go&timeout={t}", app.url), &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            body.contains("3 results in ") && body.contains("; timeout 0s</p>"),
            "{t}: {body}"
        );
    }
    // Malformed deadline headers: a clear 400 from the layer, never a panic.
    let (status, _, body) = get(format!("{}search?q=go", app.url), &[("grpc-timeout", "1x")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.starts_with("invalid grpc-timeout \"1x\""), "{body}");
    // The form, JSON by Accept, 404 elsewhere, and escaping of what the user typed.
    let (status, h, body) = get(app.url.clone(), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h["content-type"], "text/html; charset=utf-8");
    assert!(body.contains("<form id=\"search\" action=\"/search\""));
    let (_, h, body) = get(
        format!("{}search?q=a%26b", app.url),
        &[("accept", "application/json")],
    )
    .await;
    assert_eq!(h["content-type"], "application/json");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["query"], "a&b");
    assert_eq!(v["results"].as_array().unwrap().len(), 3);
    assert_eq!(v["timeout"], serde_json::Value::Null);
    let (_, _, body) = get(format!("{}search?q=%3Cscript%3E", app.url), &[]).await;
    assert!(!body.contains("<script>") && body.contains("&lt;script&gt;"));
    let (status, _, _) = get(format!("{}nope", app.url), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        gochan_search::load::settle(&app.stats, Duration::from_secs(2)).await,
        0
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_ip_is_a_context_value() {
    let (app, _log) = app(&[("web", 0)]).await;
    let (_, _, body) = get(format!("{}search?q=ip&format=json", app.url), &[]).await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["userip"], "127.0.0.1");
    assert_eq!(v["backends"]["web"], "ok");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_lists_must_be_usable() {
    let dup = Config {
        backends: backends(&[("web", 0), ("web", 5)]),
        ..Config::default()
    };
    let err = gochan_search::start(dup).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert_eq!(err.to_string(), "two backends are named \"web\"");
    let none = Config {
        backends: vec![],
        ..Config::default()
    };
    assert!(gochan_search::start(none).await.is_err());
}
