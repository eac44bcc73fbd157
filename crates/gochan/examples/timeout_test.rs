//! A test that stops waiting for a slow job after a timeout.
//!
//! Mirrors a Go test that bounds a slow job with `context.WithTimeout`
//! (<https://pkg.go.dev/context#WithTimeout>):
//!
//! ```go
//! func doLongJob(ctx context.Context)  {
//!    time.Sleep(10*time.Second)
//!    print("done long job")
//! }
//!
//! func TestJob(t *testing.T) {
//!    ctx := context.Background()
//!    ctx, cancel := context.WithTimeout(ctx, time.Second * 5)
//!    defer cancel()
//!    start := time.Now()
//!    go doLongJob(ctx)
//!    select {
//!    case <-ctx.Done():
//!       t.Log(ctx.Err())
//!    }
//!    elapsed := time.Since(start)
//! }
//! ```
//!
//! The test logs `context deadline exceeded` after 5 s. `doLongJob` ignores its context, so
//! it keeps sleeping after the test returned and is killed when the test binary exits: it
//! never prints. A context only stops work that watches it; gochan cannot change that
//! (the same drawback as `http.TimeoutHandler`, see `timeout_handler.rs`).
//!
//! - A `select` with a single `case <-ctx.Done()` is just `ctx.wait()` (or
//!   `ctx.done().recv()`).
//! - `t.Log(...)` appends to the returned lines; Go's `elapsed` is computed and never used
//!   (which Go itself rejects: "declared and not used"), here it is logged, rounded.
//! - The 5 s timeout is scaled to 50 ms; the job still sleeps 10 s, so, as in Go, it
//!   outlives the test and its `print` never shows (the process exits first).

use std::thread;
use std::time::{Duration, Instant};

use gochan::context::{self, Context};

fn do_long_job(_ctx: Context) {
    thread::sleep(Duration::from_secs(10));
    eprint!("done long job");
}

fn test_job(t_log: &mut Vec<String>) {
    let ctx = context::background();
    let (ctx, _cancel) = context::with_timeout(&ctx, Duration::from_millis(50)); // defer cancel()
    let start = Instant::now();
    let job_ctx = ctx.clone();
    thread::spawn(move || do_long_job(job_ctx));
    ctx.wait(); // select { case <-ctx.Done(): }
    t_log.push(ctx.err().unwrap().to_string());
    let elapsed = start.elapsed();
    t_log.push(format!(
        "elapsed: {}ms",
        (elapsed.as_millis() + 5) / 10 * 10 // to 10 ms
    ));
}

/// Runs the pattern and returns the lines the program prints.
pub fn run() -> Vec<String> {
    let mut log = Vec::new();
    test_job(&mut log);
    log
}

#[allow(dead_code)]
fn main() {
    for line in run() {
        println!("{line}");
    }
}
