//! Timeout control with a context: a handler gives a slow rpc `ms` milliseconds.
//!
//! Mirrors the classic timeout-control program for Go's `context.WithTimeout`
//! (<https://pkg.go.dev/context#WithTimeout>): a handler waits for a slow rpc or for its
//! context's deadline, whichever comes first:
//!
//! ```go
//! func rpc() (string, error) {
//!     time.Sleep(100 * time.Millisecond)
//!     return "rpc done", nil
//! }
//!
//! func handle(ctx context.Context, ms int) {
//!     ctx, cancel := context.WithTimeout(ctx, time.Duration(ms)*time.Millisecond)
//!     defer cancel()
//!     r := make(chan result)
//!     go func() {
//!         data, err := rpc()
//!         r <- result{data: data, err: err}
//!     }()
//!     select {
//!     case <-ctx.Done():
//!         fmt.Printf("timeout: %d ms, context exit: %+v\n", ms, ctx.Err())
//!     case res := <-r:
//!         fmt.Printf("result: %s, err: %+v\n", res.data, res.err)
//!     }
//! }
//!
//! func main() {
//!     for i := 1; i < 5; i++ {
//!         time.Sleep(1 * time.Second)
//!         go handle(context.Background(), i*50)
//!     }
//!     time.Sleep(time.Second)
//! }
//! ```
//!
//! Go's output:
//!
//! ```text
//! timeout: 50 ms, context exit: context deadline exceeded
//! result: rpc done, err: <nil>
//! result: rpc done, err: <nil>
//! result: rpc done, err: <nil>
//! ```
//!
//! - `context.WithTimeout(ctx, d)` is `context::with_timeout(&ctx, d)`; `defer cancel()`
//!   is keeping the returned [`CancelFunc`](gochan::context::CancelFunc) until the end of
//!   the function (it cancels when dropped). Bind it to a name: `let (ctx, _cancel)`.
//!   `let (ctx, _) = ...` would drop it at once, so every request would print
//!   `timeout: .. context exit: context canceled` immediately; `context::cause(&ctx)`
//!   then says `context canceled (CancelFunc dropped)`.
//! - `case <-ctx.Done():` is `recv(ctx.done()) -> _ =>`; `ctx.Err()` is `ctx.err()`
//!   (`Some(Error)`, displayed with Go's messages).
//! - Go's `main` starts each request one second after the previous one only so the output
//!   lines do not interleave; here each request's thread is joined before the next starts,
//!   which gives the same order without four seconds of sleeping.
//! - The 100 ms request is a tie between a 100 ms deadline and a 100 ms rpc. Go's output
//!   above shows `result`; the deadline's timer is armed before the rpc starts, so either line
//!   can appear, in Go as here (the test accepts both).
//! - In Go, the rpc goroutine of the request that timed out leaks: it blocks forever on
//!   `r <- result{...}` since nobody receives from the unbuffered `r` any more. In gochan,
//!   `handle` returning drops `r`'s only receiver, so that send fails and the thread ends.

use std::thread;
use std::time::Duration;

use gochan::context::{self, Context};
use gochan::{bounded, Sender};

/// A slow operation.
fn rpc() -> (String, Option<String>) {
    thread::sleep(Duration::from_millis(100));
    ("rpc done".to_string(), None)
}

struct RpcResult {
    data: String,
    err: Option<String>,
}

fn handle(ctx: &Context, ms: u64, stdout: &Sender<String>) {
    let (ctx, _cancel) = context::with_timeout(ctx, Duration::from_millis(ms)); // defer cancel()

    let (r_tx, r) = bounded::<RpcResult>(0);
    thread::spawn(move || {
        let (data, err) = rpc();
        let _ = r_tx.send(RpcResult { data, err }); // fails at once if handle has returned
    });

    let line = gochan::select! {
        recv(ctx.done()) -> _ => format!(
            "timeout: {ms} ms, context exit: {}",
            ctx.err().expect("done is closed, so err is set")
        ),
        recv(r) -> res => {
            let res = res.expect("the rpc thread always sends");
            format!("result: {}, err: {}", res.data, res.err.as_deref().unwrap_or("<nil>"))
        }
    };
    let _ = stdout.send(line);
}

/// Runs the pattern and returns the lines the program prints.
pub fn run() -> Vec<String> {
    let (stdout, printed) = gochan::unbounded();
    // Simulate incoming requests, each handled on its own thread.
    for i in 1..5 {
        let stdout = stdout.clone();
        thread::spawn(move || handle(&context::background(), i * 50, &stdout))
            .join()
            .unwrap();
    }
    drop(stdout);
    printed.iter().collect()
}

#[allow(dead_code)]
fn main() {
    for line in run() {
        println!("{line}");
    }
}
