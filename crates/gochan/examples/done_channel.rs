//! Explicit cancellation: closing a shared `done` channel tells every stage to return.
//!
//! Mirrors the Go blog post "Go Concurrency Patterns: Pipelines and cancellation"
//! (<https://go.dev/blog/pipelines>), section "Explicit cancellation" (closing a channel
//! tells every goroutine to stop):
//!
//! ```go
//! func main() {
//!     done := make(chan struct{})
//!     defer close(done)
//!     in := gen(done, 2, 3)
//!     c1 := sq(done, in)
//!     c2 := sq(done, in)
//!     out := merge(done, c1, c2)
//!     fmt.Println(<-out) // 4 or 9
//!     // done will be closed by the deferred call.
//! }
//!
//! func merge(done <-chan struct{}, cs ...<-chan int) <-chan int {
//!     ...
//!     output := func(c <-chan int) {
//!         defer wg.Done()
//!         for n := range c {
//!             select {
//!             case out <- n:
//!             case <-done:
//!                 return
//!             }
//!         }
//!     }
//!     // ... the rest is unchanged ...
//!
//! func sq(done <-chan struct{}, in <-chan int) <-chan int {
//!     out := make(chan int)
//!     go func() {
//!         defer close(out)
//!         for n := range in {
//!             select {
//!             case out <- n * n:
//!             case <-done:
//!                 return
//!             }
//!         }
//!     }()
//!     return out
//! }
//! ```
//!
//! - `done := make(chan struct{})` is `bounded::<()>(0)`; `<-chan struct{}` is
//!   `Receiver<()>`. A closed channel is always ready to receive, so `recv(done)` fires in
//!   every select once `done` is closed: a broadcast to all stages.
//! - `defer close(done)` is a guard that closes `done` when `run` returns ([`Defer`]).
//!   (Dropping the only `Sender` would close it as well.)
//! - `defer close(out)` / `defer wg.Done()` inside goroutines are the same guard.
//! - `gen(done, nums...)` (used but not shown above) sends like `sq` does.
//!
//! Go prints one line, `4` or `9`. After it, this program also checks (by assertion, so the
//! output stays Go's) that every goroutine it started has returned.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use gochan::group::WaitGroup;
use gochan::{bounded, Receiver, Sender};

/// Goroutines started by this example that are still running.
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Go's `go f()`: runs `f` on a new thread, counted in [`RUNNING`].
fn go(f: impl FnOnce() + Send + 'static) {
    RUNNING.fetch_add(1, Ordering::SeqCst);
    thread::spawn(move || {
        let _count = Defer(Some(|| {
            RUNNING.fetch_sub(1, Ordering::SeqCst);
        }));
        f();
    });
}

/// Go's `defer`: runs the closure when dropped.
struct Defer<F: FnOnce()>(Option<F>);

impl<F: FnOnce()> Drop for Defer<F> {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

fn gen(done: &Receiver<()>, nums: &[i32]) -> Receiver<i32> {
    let (out, rx) = bounded(0);
    let (done, nums) = (done.clone(), nums.to_vec());
    go(move || {
        let _close = Defer(Some(|| {
            out.close();
        }));
        for n in nums {
            gochan::select! {
                send(out, n) -> res => if res.is_err() { return },
                recv(done) -> _ => return,
            }
        }
    });
    rx
}

fn sq(done: &Receiver<()>, input: Receiver<i32>) -> Receiver<i32> {
    let (out, rx) = bounded(0);
    let done = done.clone();
    go(move || {
        let _close = Defer(Some(|| {
            out.close();
        }));
        for n in &input {
            gochan::select! {
                send(out, n * n) -> res => if res.is_err() { return },
                recv(done) -> _ => return,
            }
        }
    });
    rx
}

fn merge(done: &Receiver<()>, cs: Vec<Receiver<i32>>) -> Receiver<i32> {
    let wg = WaitGroup::new();
    let (out, rx) = bounded(0);

    // output copies values from c to out until c or done is closed, then calls wg.Done.
    let output = |c: Receiver<i32>, out: Sender<i32>, done: Receiver<()>, wg: WaitGroup| {
        move || {
            let _done = Defer(Some(|| wg.done()));
            for n in &c {
                gochan::select! {
                    send(out, n) -> res => if res.is_err() { return },
                    recv(done) -> _ => return,
                }
            }
        }
    };
    wg.add(cs.len() as i64);
    for c in cs {
        go(output(c, out.clone(), done.clone(), wg.clone()));
    }
    go(move || {
        wg.wait();
        out.close();
    });
    rx
}

fn pipeline_main() -> Vec<String> {
    // Set up a done channel that's shared by the whole pipeline, and close that channel
    // when this pipeline exits, as a signal for all the goroutines we started to exit.
    let (done_tx, done) = bounded::<()>(0);
    let _close_done = Defer(Some(move || {
        done_tx.close();
    }));

    let input = gen(&done, &[2, 3]);

    // Distribute the sq work across two goroutines that both read from in.
    let c1 = sq(&done, input.clone());
    let c2 = sq(&done, input);

    // Consume the first value from output.
    let out = merge(&done, vec![c1, c2]);
    vec![out.recv().unwrap().to_string()] // 4 or 9

    // done will be closed by the deferred call.
}

/// Runs the pattern and returns the lines the program prints.
pub fn run() -> Vec<String> {
    let lines = pipeline_main();
    // Every stage saw `done` closed (or its output dropped) and returned.
    let start = Instant::now();
    while RUNNING.load(Ordering::SeqCst) != 0 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{} goroutines still running after done was closed",
            RUNNING.load(Ordering::SeqCst)
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
