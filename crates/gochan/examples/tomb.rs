//! Adapting another cancellation mechanism to contexts: a context that ends when its parent
//! does or when a `Tomb` is killed.
//!
//! Mirrors the Go blog post "Go Concurrency Patterns: Context"
//! (<https://go.dev/blog/context>), section "Adapting code for Contexts": "Tomb provides a
//! Kill method that signals cancellation by closing a Dying channel ... In tomb.go, we
//! provide a Context implementation that is canceled when either its parent Context is
//! canceled or a provided Tomb is killed." The post shows no code; the `tomb.go` it links
//! to is:
//!
//! ```go
//! func NewContext(parent context.Context, t *tomb.Tomb) context.Context {
//!     ctx, cancel := context.WithCancel(parent)
//!     go func() {
//!         select {
//!         case <-t.Dying():
//!             cancel()
//!         case <-ctx.Done():
//!         }
//!     }()
//!     return ctx
//! }
//! ```
//!
//! - A minimal [`Tomb`] (`Kill`, `Dying`, `Go`, `Wait`) is built from a channel that is
//!   closed on kill and a [`WaitGroup`].
//! - [`new_context`] is the blog's version: a goroutine (thread) waits on either channel.
//!   The `CancelFunc` moves into that thread: dropping it would cancel the context.
//! - [`new_context_no_thread`] is gochan's [`context::cancel_when`]: the dying channel's
//!   `recv_async()` is the source, and the returned watcher future runs on any executor
//!   (here `futures::executor::block_on` on one thread; in a server, a task).
//! - The blog's other adapter (gorilla/context, a `Context` whose `Value` reads a
//!   per-request map) has no twin: gochan's `Context` is a concrete type, not an interface,
//!   so values come in through `with_value`, not through a user implementation.

use std::thread;

use gochan::context::{self, Context};
use gochan::group::WaitGroup;
use gochan::{bounded, Receiver, Sender};
use parking_lot::Mutex;

/// A tiny `gopkg.in/tomb.v2`: `kill` closes the dying channel; `go`/`wait` track workers.
#[derive(Clone)]
pub struct Tomb {
    kill_tx: Sender<()>,
    dying: Receiver<()>,
    reason: std::sync::Arc<Mutex<Option<String>>>,
    wg: WaitGroup,
}

impl Tomb {
    pub fn new() -> Tomb {
        let (kill_tx, dying) = bounded(0);
        Tomb {
            kill_tx,
            dying,
            reason: Default::default(),
            wg: WaitGroup::new(),
        }
    }
    /// `t.Kill(reason)`: the first reason sticks; closes `Dying`.
    pub fn kill(&self, reason: &str) {
        self.reason.lock().get_or_insert_with(|| reason.to_string());
        self.kill_tx.close();
    }
    /// `t.Dying()`.
    pub fn dying(&self) -> Receiver<()> {
        self.dying.clone()
    }
    /// `t.Go(f)`.
    pub fn go(&self, f: impl FnOnce() + Send + 'static) {
        self.wg.add(1);
        let wg = self.wg.clone();
        thread::spawn(move || {
            f();
            wg.done();
        });
    }
    /// `t.Wait()`: waits for the workers, returns the kill reason.
    pub fn wait(&self) -> Option<String> {
        self.wg.wait();
        self.reason.lock().clone()
    }
}

impl Default for Tomb {
    fn default() -> Self {
        Tomb::new()
    }
}

/// The blog's `tomb.go` `NewContext`.
pub fn new_context(parent: &Context, t: &Tomb) -> Context {
    let (ctx, cancel) = context::with_cancel(parent);
    let (dying, c) = (t.dying(), ctx.clone());
    thread::spawn(move || {
        gochan::select! {
            recv(dying) -> _ => cancel.cancel(),
            recv(c.done()) -> _ => {},
        }
    });
    ctx
}

/// The same with `context::cancel_when` and a future instead of a dedicated goroutine.
pub fn new_context_no_thread(parent: &Context, t: &Tomb) -> Context {
    let dying = t.dying();
    let (ctx, watch) = context::cancel_when(parent, async move {
        let _ = dying.recv_async().await; // ends when the tomb is killed (closed)
    });
    thread::spawn(move || futures::executor::block_on(watch)); // or tokio::spawn(watch)
    ctx
}

fn demo(name: &'static str, make: fn(&Context, &Tomb) -> Context) -> Vec<String> {
    let (stdout, printed) = gochan::unbounded();
    let t = Tomb::new();
    let ctx = make(&context::background(), &t);
    for i in 1..=2 {
        let (ctx, stdout) = (ctx.clone(), stdout.clone());
        t.go(move || {
            ctx.wait(); // a worker that only knows about contexts
            let _ = stdout.send(format!(
                "{name}: worker {i} stopped: {}",
                ctx.err().unwrap()
            ));
        });
    }
    t.kill("shutting down");
    let reason = t.wait();
    let mut lines: Vec<String> = {
        drop(stdout);
        printed.iter().collect()
    };
    lines.sort(); // the two workers finish in either order
    lines.push(format!("{name}: tomb dead: {}", reason.unwrap()));

    // The parent's cancellation reaches the context too.
    let (parent, cancel_parent) = context::with_cancel(&context::background());
    let alive = Tomb::new(); // kept alive: dropping a Tomb closes its dying channel
    let ctx = make(&parent, &alive);
    cancel_parent.cancel();
    lines.push(format!("{name}: parent cancelled: {}", ctx.err().unwrap()));
    drop(alive);
    lines
}

/// Runs the pattern and returns the lines the program prints.
pub fn run() -> Vec<String> {
    let mut out = demo("tomb.go", new_context);
    out.extend(demo("cancel_when", new_context_no_thread));
    out
}

#[allow(dead_code)]
fn main() {
    for line in run() {
        println!("{line}");
    }
}
