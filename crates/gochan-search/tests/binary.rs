//! The `gochan-search` binary as a user runs it: `--demo` fires requests at itself and
//! exits 0 with nothing left running; without it, it prints its URL, serves, and stops
//! cleanly on Ctrl-C (SIGINT).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use gochan::context;
use http_body_util::{BodyExt, Full};

const BIN: &str = env!("CARGO_BIN_EXE_gochan-search");

#[test]
fn demo_runs_every_case_and_exits_cleanly() {
    let out = Command::new(BIN)
        .arg("--demo")
        .output()
        .expect("run gochan-search --demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("gochan search listening on http://127.0.0.1:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("GET /search?q=golang&timeout=100ms -> 200 OK"),
        "{stdout}"
    );
    assert!(stdout.contains("news: timed out"), "{stdout}");
    assert!(
        stdout.contains("GET /search -> 400 Bad Request\n  no query"),
        "{stdout}"
    );
    assert!(stdout.contains("; still running: 0"), "{stdout}");
    // The backends said which work was cancelled.
    assert!(String::from_utf8_lossy(&out.stderr).contains("cancelled after"));
}

#[test]
fn bad_arguments_are_a_usage_error() {
    for args in [
        &["--addr", "nowhere"][..],
        &["--backend", "web=fast"],
        &["--bogus"],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("usage: gochan-search"));
    }
}

#[test]
fn serves_until_ctrl_c() {
    let mut child = Command::new(BIN)
        .args(["--addr", "127.0.0.1:0", "--backend", "only=1ms"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let body = rt.block_on(async {
        let req = http::Request::get(format!("{url}search?q=x&format=json"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let resp = gochan_http::send(&context::background(), req)
            .await
            .unwrap();
        resp.into_body().collect().await.unwrap().to_bytes()
    });
    assert!(String::from_utf8_lossy(&body).contains("\"only\":\"ok\""));
    let t = Instant::now();
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            break;
        }
        if t.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("gochan-search did not stop on SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
