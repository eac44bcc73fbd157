//! A generator that does not leak: it stops when its context is cancelled.
//!
//! Mirrors the `context` package's `WithCancel` example
//! (<https://pkg.go.dev/context#example-WithCancel>: a cancelable context prevents a
//! goroutine leak):
//!
//! ```go
//! func main() {
//!     gen := func(ctx context.Context) <-chan int {
//!         dst := make(chan int)
//!         n := 1
//!         go func() {
//!             for {
//!                 select {
//!                 case <-ctx.Done():
//!                     return // returning not to leak the goroutine
//!                 case dst <- n:
//!                     n++
//!                 }
//!             }
//!         }()
//!         return dst
//!     }
//!
//!     ctx, cancel := context.WithCancel(context.Background())
//!     defer cancel() // cancel when we are finished consuming integers
//!
//!     for n := range gen(ctx) {
//!         fmt.Println(n)
//!         if n == 5 {
//!             break
//!         }
//!     }
//! }
//! ```
//!
//! Prints 1 to 5.
//!
//! - `context.WithCancel(context.Background())` is `context::with_cancel(&background())`;
//!   `defer cancel()` is holding the `CancelFunc` until `run` returns (drop cancels).
//! - `select { case <-ctx.Done(): return; case dst <- n: n++ }` is the same `select!` with a
//!   `recv(ctx.done())` arm and a `send(dst, n)` arm; a send arm that is not chosen does
//!   not send.
//! - In gochan the generator would stop even without the context: `break` drops the
//!   loop's receiver, and a send to a channel nobody can read fails at once. The context
//!   is still the way to stop a generator whose receiver is kept alive elsewhere.
//!
//! After printing, the program checks (by assertion) that the generator's thread returned.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use gochan::bounded;
use gochan::context::{self, Context};

/// Generator threads still running.
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Generates 1, 2, 3, ... on the returned channel until `ctx` ends.
fn gen(ctx: &Context) -> gochan::Receiver<i32> {
    let (dst, rx) = bounded(0);
    let ctx = ctx.clone();
    let mut n = 1;
    RUNNING.fetch_add(1, Ordering::SeqCst);
    thread::spawn(move || {
        let done = ctx.done();
        loop {
            gochan::select! {
                recv(done) -> _ => break, // returning not to leak the thread
                send(dst, n) -> res => match res {
                    Ok(()) => n += 1,
                    Err(_) => break, // the receiver is gone
                },
            }
        }
        RUNNING.fetch_sub(1, Ordering::SeqCst);
    });
    rx
}

fn generator_main() -> Vec<String> {
    let (ctx, _cancel) = context::with_cancel(&context::background()); // defer cancel()

    let mut out = Vec::new();
    for n in gen(&ctx) {
        out.push(n.to_string());
        if n == 5 {
            break;
        }
    }
    out
}

/// Runs the pattern and returns the lines the program prints.
pub fn run() -> Vec<String> {
    let lines = generator_main();
    let start = Instant::now();
    while RUNNING.load(Ordering::SeqCst) != 0 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the generator leaked"
        );
        thread::sleep(Duration::from_millis(1));
    }
    lines
}

#[allow(dead_code)]
fn main() {
    for line in run() {
        println!("{line}");
    }
}
