//! The leak that cannot happen: a worker's result channel nobody reads after a timeout.
//!
//! Mirrors the classic goroutine leak with Go's `context.WithTimeout`
//! (<https://pkg.go.dev/context#WithTimeout>): once the caller has timed out, nobody reads
//! the worker's unbuffered result channel:
//!
//! ```go
//! func worker() error {
//!     ctx, _ := context.WithTimeout(context.Background(), time.Second*1)
//!     done := make(chan struct{}) // bug -> done := make(chan struct{}, 1)
//!     go func() {
//!         // the actual work
//!         time.Sleep(time.Millisecond * 1200)
//!         done <- struct{}{} // bug
//!     }()
//!     select {
//!     case <-done:
//!         return nil
//!     case <-ctx.Done():
//!         return fmt.Errorf("backgroud timeout")
//!     }
//! }
//!
//! func main() {
//!     for i := 0; i < 50; i++ {
//!         go func() {
//!             worker()
//!         }()
//!     }
//!     for {
//!         time.Sleep(time.Second*2)
//!         fmt.Println(runtime.NumGoroutine())
//!     }
//! }
//! ```
//!
//! In Go every worker times out after 1 s, returns, and leaves its inner goroutine blocked
//! forever on `done <- struct{}{}`: the program prints 51 every two seconds, forever (50
//! leaked goroutines plus `main`). The fix in Go is a buffer of one.
//!
//! In gochan the unbuffered version is already fine: when `worker` returns it drops
//! `done`'s only receiver, and a send on a channel nobody can read fails at once (the value
//! comes back in the `SendError`), so the inner thread ends.
//!
//! - `runtime.NumGoroutine()` becomes the process's thread count (`Threads:` in
//!   `/proc/self/status` on Linux; `?` elsewhere). It includes gochan's timer thread and,
//!   under `cargo test`, the test harness's threads, so its exact value varies; the last
//!   line counts the inner workers still alive, which is the number that matters.
//! - Durations are scaled by 1/10: 100 ms timeout, 120 ms of work, a report every 200 ms
//!   (three reports instead of an endless loop).
//! - `ctx, _ := context.WithTimeout(...)` discards the cancel func (a `go vet` error). In
//!   Rust it must be bound to a named variable: `let (ctx, _) = ...` would drop it at once,
//!   and dropping a `CancelFunc` cancels.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use gochan::bounded;
use gochan::context;

const TIMEOUT: Duration = Duration::from_millis(100); // time.Second*1
const WORK: Duration = Duration::from_millis(120); // time.Millisecond*1200
const REPORT_EVERY: Duration = Duration::from_millis(200); // time.Second*2
const WORKERS: usize = 50;

/// Inner "business logic" threads still alive (Go: the goroutines that leak).
static INNER_ALIVE: AtomicUsize = AtomicUsize::new(0);
/// Inner sends that failed because their worker had already returned.
static SENDS_FAILED: AtomicUsize = AtomicUsize::new(0);

fn worker() -> Result<(), String> {
    let (ctx, _cancel) = context::with_timeout(&context::background(), TIMEOUT);

    let (done_tx, done) = bounded::<()>(0); // unbuffered, like Go's buggy version
    INNER_ALIVE.fetch_add(1, Ordering::SeqCst);
    thread::spawn(move || {
        thread::sleep(WORK); // business logic
        if done_tx.send(()).is_err() {
            // Go blocks here forever; gochan returns the value: nobody can receive it.
            SENDS_FAILED.fetch_add(1, Ordering::SeqCst);
        }
        INNER_ALIVE.fetch_sub(1, Ordering::SeqCst);
    });

    gochan::select! {
        recv(done) -> _ => Ok(()),
        recv(ctx.done()) -> _ => Err("backgroud timeout".to_string()),
    }
}

/// Go's `runtime.NumGoroutine()`, approximated by the process's thread count.
fn num_threads() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:").map(|n| n.trim().to_string()))
        })
        .unwrap_or_else(|| "?".to_string())
}

/// Runs the pattern and returns the lines the program prints.
pub fn run() -> Vec<String> {
    INNER_ALIVE.store(0, Ordering::SeqCst);
    SENDS_FAILED.store(0, Ordering::SeqCst);
    let mut out = vec![format!("threads before the workers: {}", num_threads())];

    let start = Instant::now();
    let timeouts = std::sync::Arc::new(AtomicUsize::new(0));
    for _ in 0..WORKERS {
        let timeouts = timeouts.clone();
        thread::spawn(move || {
            if worker().is_err() {
                timeouts.fetch_add(1, Ordering::SeqCst);
            }
        });
    }
    out.push(format!("threads while the workers wait: {}", num_threads()));

    for i in 1..=3 {
        let wake = start + REPORT_EVERY * i;
        thread::sleep(wake.saturating_duration_since(Instant::now()));
        out.push(format!(
            "threads after {:?}: {}",
            REPORT_EVERY * i,
            num_threads()
        ));
    }
    out.push(format!(
        "workers that timed out: {}; their inner sends that failed: {}",
        timeouts.load(Ordering::SeqCst),
        SENDS_FAILED.load(Ordering::SeqCst)
    ));
    out.push(format!(
        "inner workers still blocked (Go: {WORKERS}, forever): {}",
        INNER_ALIVE.load(Ordering::SeqCst)
    ));
    out
}

#[allow(dead_code)]
fn main() {
    for line in run() {
        println!("{line}");
    }
}
