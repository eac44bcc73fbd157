//! The search page in a real browser: headless Chromium driven over WebDriver
//! (chromedriver, Debian's `chromium` and `chromium-driver` packages). Load `/`, type a
//! query and a timeout, submit the form, see the results and the timed-out backend, and
//! take a screenshot: `search-page.png` in the directory cargo gives integration tests
//! (`CARGO_TARGET_TMPDIR`, under whatever target dir is in use); with
//! `GOCHAN_UPDATE_SCREENSHOT=1` it also replaces the committed `docs/search-page.png`.
//!
//! Without chromium/chromedriver the test says so and passes, unless
//! `GOCHAN_REQUIRE_BROWSER=1` (set by `.ci/run`, which installs them) makes it fail.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use gochan::context;
use gochan_search::{Backend, Config};
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_tool(env: &str, default: &str) -> Option<PathBuf> {
    let p = std::env::var_os(env).map_or_else(|| PathBuf::from(default), PathBuf::from);
    p.exists().then_some(p)
}

/// Kills chromedriver and the browsers it started (its own process group) however the
/// test ends, also when it fails before closing its WebDriver session.
struct Driver(Child);
impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Chromium's profile directory, removed however the test ends (declared before the
/// [`Driver`], so dropped after the browser is killed).
struct Profile(PathBuf);
impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A minimal WebDriver client over gochan-http's client.
struct WebDriver {
    base: String,
    client: gochan_http::Client,
}

impl WebDriver {
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (ctx, _c) = context::with_timeout(&context::background(), Duration::from_secs(30));
        let bytes = body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string()));
        let req = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(Full::new(bytes))
            .unwrap();
        let resp = self
            .client
            .send(&ctx, req)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {path} -> {status}: {v}");
        v["value"].clone()
    }

    async fn find(&self, session: &str, css: &str) -> Option<String> {
        let (ctx, _c) = context::with_timeout(&context::background(), Duration::from_secs(30));
        let req = http::Request::post(format!("{}/session/{session}/element", self.base))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(
                json!({"using": "css selector", "value": css}).to_string(),
            )))
            .unwrap();
        let resp = self.client.send(&ctx, req).await.unwrap();
        let ok = resp.status().is_success();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let v: Value = serde_json::from_slice(&body).unwrap();
        ok.then(|| {
            v["value"][ELEMENT]
                .as_str()
                .unwrap_or_else(|| panic!("{css}: {v}"))
                .to_string()
        })
    }

    async fn text(&self, session: &str, el: &str) -> String {
        let v = self
            .call(
                "GET",
                &format!("/session/{session}/element/{el}/text"),
                None,
            )
            .await;
        v.as_str().unwrap_or_default().to_string()
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_page_works_in_headless_chromium() {
    let required = std::env::var_os("GOCHAN_REQUIRE_BROWSER").is_some_and(|v| v == "1");
    let (Some(chromium), Some(chromedriver)) = (
        find_tool("GOCHAN_CHROMIUM", "/usr/bin/chromium"),
        find_tool("GOCHAN_CHROMEDRIVER", "/usr/bin/chromedriver"),
    ) else {
        assert!(
            !required,
            "GOCHAN_REQUIRE_BROWSER=1 but chromium/chromedriver are not installed"
        );
        eprintln!("SKIPPED: install Debian's chromium and chromium-driver to run the browser test");
        return;
    };

    let cfg = Config {
        backends: vec![
            Backend {
                name: "web".into(),
                latency: Duration::from_millis(10),
            },
            Backend {
                name: "images".into(),
                latency: Duration::from_millis(60),
            },
            Backend {
                name: "news".into(),
                latency: Duration::from_secs(10),
            },
        ],
        log: Arc::new(|_| {}),
        ..Config::default()
    };
    let app = gochan_search::start(cfg).await.unwrap();

    let profile =
        Profile(std::env::temp_dir().join(format!("gochan-chromium-{}", std::process::id())));
    let port = free_port();
    let _driver = Driver(
        Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let wd = WebDriver {
        base: format!("http://127.0.0.1:{port}"),
        client: gochan_http::Client::new(),
    };
    let t = Instant::now();
    loop {
        let (ctx, _c) = context::with_timeout(&context::background(), Duration::from_secs(2));
        let req = http::Request::get(format!("{}/status", wd.base))
            .body(Full::new(Bytes::new()))
            .unwrap();
        if let Ok(r) = wd.client.send(&ctx, req).await {
            if r.status().is_success() {
                break;
            }
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "chromedriver did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let caps = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--window-size=900,760",
                     format!("--user-data-dir={}", profile.0.display())]
        }
    }}});
    let session = wd.call("POST", "/session", Some(caps)).await["sessionId"]
        .as_str()
        .unwrap()
        .to_string();
    let s = session.as_str();

    // Load `/`: the form is there.
    wd.call(
        "POST",
        &format!("/session/{s}/url"),
        Some(json!({"url": app.url})),
    )
    .await;
    let q = wd.find(s, "input[name=q]").await.expect("query box");
    let timeout = wd
        .find(s, "input[name=timeout]")
        .await
        .expect("timeout box");
    // Type a query and a timeout, submit.
    wd.call(
        "POST",
        &format!("/session/{s}/element/{q}/value"),
        Some(json!({"text": "gochan"})),
    )
    .await;
    wd.call(
        "POST",
        &format!("/session/{s}/element/{timeout}/clear"),
        Some(json!({})),
    )
    .await;
    wd.call(
        "POST",
        &format!("/session/{s}/element/{timeout}/value"),
        Some(json!({"text": "500ms"})),
    )
    .await;
    let submit = wd
        .find(s, "button[type=submit]")
        .await
        .expect("submit button");
    wd.call(
        "POST",
        &format!("/session/{s}/element/{submit}/click"),
        Some(json!({})),
    )
    .await;

    // See the results: web and images answered, news timed out after 500ms.
    let t = Instant::now();
    let summary = loop {
        if let Some(el) = wd.find(s, "#summary").await {
            break wd.text(s, &el).await;
        }
        assert!(t.elapsed() < Duration::from_secs(15), "no results page");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        summary.starts_with("6 results in ") && summary.ends_with("; timeout 500ms"),
        "{summary}"
    );
    let url = wd.call("GET", &format!("/session/{s}/url"), None).await;
    assert!(
        url.as_str()
            .unwrap()
            .contains("/search?q=gochan&timeout=500ms"),
        "{url}"
    );
    let first = wd.find(s, "li.result").await.expect("a result");
    assert!(wd
        .text(s, &first)
        .await
        .starts_with("gochan — web result 1"));
    let late = wd
        .find(s, "li.timedout")
        .await
        .expect("the timed-out backend");
    assert_eq!(wd.text(s, &late).await, "news: timed out");

    // Screenshot.
    let png = wd
        .call("GET", &format!("/session/{s}/screenshot"), None)
        .await;
    let png = base64::engine::general_purpose::STANDARD
        .decode(png.as_str().unwrap())
        .unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("search-page.png");
    std::fs::write(&shot, &png).unwrap_or_else(|e| panic!("{}: {e}", shot.display()));
    eprintln!("screenshot: {}", shot.display());
    if std::env::var_os("GOCHAN_UPDATE_SCREENSHOT").is_some_and(|v| v == "1") {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/search-page.png");
        std::fs::write(&docs, &png).unwrap_or_else(|e| panic!("{}: {e}", docs.display()));
        eprintln!("screenshot: {}", docs.display());
    }
    wd.call("DELETE", &format!("/session/{s}"), None).await;

    // The news backend's work was cancelled when the search timed out.
    assert_eq!(
        gochan_search::load::settle(&app.stats, Duration::from_secs(5)).await,
        0
    );
    assert_eq!(
        app.stats
            .cancelled
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    app.shutdown().await;
}
