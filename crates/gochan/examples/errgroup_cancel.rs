//! Cancel on first error: f1 fails after 1 ms, which cancels f2's long wait.
//!
//! Mirrors cancel-on-first-error with Go's `context` package: the first goroutine to fail
//! calls the shared `cancel` (the logic of `golang.org/x/sync/errgroup`,
//! <https://pkg.go.dev/golang.org/x/sync/errgroup>):
//!
//! ```go
//! func f1(ctx context.Context) error {
//!     select {
//!     case <-ctx.Done():
//!         return fmt.Errorf("f1: %w", ctx.Err())
//!     case <-time.After(time.Millisecond): // simulate a quick failure
//!         return fmt.Errorf("f1 err in 1ms")
//!     }
//! }
//!
//! func f2(ctx context.Context) error {
//!     select {
//!     case <-ctx.Done():
//!         return fmt.Errorf("f2: %w", ctx.Err())
//!     case <-time.After(time.Hour): // simulate a slow operation
//!         return nil
//!     }
//! }
//!
//! func main() {
//!     ctx, cancel := context.WithTimeout(context.Background(), time.Second)
//!     defer cancel()
//!     var wg sync.WaitGroup
//!     wg.Add(2)
//!     go func() {
//!         defer wg.Done()
//!         if err := f1(ctx); err != nil {
//!             fmt.Println(err)
//!             cancel()
//!         }
//!     }()
//!     go func() {
//!         defer wg.Done()
//!         if err := f2(ctx); err != nil {
//!             fmt.Println(err)
//!             cancel()
//!         }
//!     }()
//!     wg.Wait()
//! }
//! ```
//!
//! Go's output: `f1 err in 1ms`, then `f2: context canceled`.
//!
//! - `cancel` is called from two goroutines: the `CancelFunc` is shared through an `Arc`
//!   (its `cancel()` takes `&self` and is idempotent).
//! - `fmt.Errorf("f2: %w", ctx.Err())` is `format!("f2: {}", err)` here (errors are
//!   `String`s to keep the twin small).
//! - `time.After(time.Hour)` is `gochan::after(Duration::from_secs(3600))`; when `f2`
//!   returns, its timer channel is dropped, which removes the timer.
//!
//! This is errgroup's logic; the second half of the program is the same thing with
//! [`gochan::group::ErrGroup`] (`errgroup.WithContext`, `g.Go`, `g.Wait`), which returns
//! the first error and has already cancelled the others' context.

use std::sync::Arc;
use std::time::Duration;

use gochan::context::{self, Context};
use gochan::group::{ErrGroup, WaitGroup};
use gochan::Sender;

fn f1(ctx: &Context) -> Result<(), String> {
    gochan::select! {
        recv(ctx.done()) -> _ => Err(format!("f1: {}", ctx.err().unwrap())),
        recv(gochan::after(Duration::from_millis(1))) -> _ => Err("f1 err in 1ms".to_string()),
    }
}

fn f2(ctx: &Context) -> Result<(), String> {
    gochan::select! {
        recv(ctx.done()) -> _ => Err(format!("f2: {}", ctx.err().unwrap())),
        recv(gochan::after(Duration::from_secs(3600))) -> _ => Ok(()),
    }
}

/// Go's `main`, with `fmt.Println` sending to `stdout`.
fn with_wait_group(stdout: Sender<String>) {
    let (ctx, cancel) = context::with_timeout(&context::background(), Duration::from_secs(1));
    let cancel = Arc::new(cancel); // defer cancel(): the last handle cancels when dropped

    let wg = WaitGroup::new();
    wg.add(2);
    for f in [f1 as fn(&Context) -> Result<(), String>, f2] {
        let (ctx, cancel, wg, stdout) = (ctx.clone(), cancel.clone(), wg.clone(), stdout.clone());
        std::thread::spawn(move || {
            if let Err(err) = f(&ctx) {
                let _ = stdout.send(err);
                cancel.cancel();
            }
            wg.done();
        });
    }
    wg.wait();
}

/// The same with an error group.
fn with_err_group(stdout: Sender<String>) {
    let (ctx, _cancel) = context::with_timeout(&context::background(), Duration::from_secs(1));
    let (g, ctx) = ErrGroup::<String>::with_context(&ctx);
    let c = ctx.clone();
    g.go(move || f1(&c));
    let c = ctx.clone();
    g.go(move || f2(&c));
    if let Err(err) = g.wait() {
        let _ = stdout.send(err);
    }
}

/// Runs the pattern and returns the lines the program prints.
pub fn run() -> Vec<String> {
    let (stdout, printed) = gochan::unbounded();
    with_wait_group(stdout.clone());
    let _ = stdout.send("-- with errgroup: g.Wait() returns the first error --".to_string());
    with_err_group(stdout);
    printed.iter().collect()
}

#[allow(dead_code)]
fn main() {
    for line in run() {
        println!("{line}");
    }
}
