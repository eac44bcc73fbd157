//! The context tree's rules, as the source of Go's `context` package implements them,
//! checked from the outside.
//!
//! Mirrors Go's `context` package (<https://pkg.go.dev/context>) and its source,
//! `src/context/context.go` (here as of Go 1.20): `WithCancel`, `WithDeadline`,
//! `WithTimeout`, `WithValue`, `emptyCtx`, `cancelCtx` (lazy `Done`, `cancel`), `timerCtx`,
//! `valueCtx`, `propagateCancel`, `parentCancelCtx` and the exported functions' signatures.
//! Those are the library's internals (gochan's `context::tree`), so instead of a port this
//! program shows the behaviour they implement:
//!
//! ```go
//! func (*emptyCtx) Done() <-chan struct{} { return nil }       // Background never ends
//! // Done: "Successive calls to Done return the same value."
//! // propagateCancel: parent already canceled -> child.cancel(false, parent.Err())
//! // cancel: close(c.done); for child := range c.children { child.cancel(false, err) }
//! //         ...; if removeFromParent { removeChild(c.Context, c) }
//! // WithDeadline: if cur, ok := parent.Deadline(); ok && cur.Before(d) { return WithCancel(parent) }
//! //               if dur <= 0 { c.cancel(true, DeadlineExceeded) }
//! func WithTimeout(parent Context, timeout time.Duration) (Context, CancelFunc) {
//!     return WithDeadline(parent, time.Now().Add(timeout))
//! }
//! // valueCtx.Value: if c.key == key { return c.val }; return c.Context.Value(key)
//! ```
//!
//! and the example in `WithTimeout`'s doc comment:
//!
//! ```go
//! func slowOperationWithTimeout(ctx context.Context) (Result, error) {
//!     ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
//!     defer cancel()  // releases resources if slowOperation completes before timeout elapses
//!     return slowOperation(ctx)
//! }
//! ```
//!
//! - `ctx.Err() == nil` is `ctx.err().is_none()`; printed here as Go prints it (`<nil>`).
//! - `ctx.Deadline()` (`deadline, ok`) is `ctx.deadline() -> Option<Instant>`.
//! - `ctx.Value(key)` is `ctx.value::<KeyType>()`; the nearest node with that type wins.
//! - Go's `removeChild` bookkeeping is visible through `Context::child_count`.

use std::time::{Duration, Instant};

use gochan::context::{self, Context};

fn err(ctx: &Context) -> String {
    ctx.err().map_or("<nil>".to_string(), |e| e.to_string())
}

/// A slow operation that gives up when its context ends.
fn slow_operation(ctx: &Context, takes: Duration) -> Result<&'static str, context::Error> {
    gochan::select! {
        recv(ctx.done()) -> _ => Err(ctx.err().unwrap()),
        recv(gochan::after(takes)) -> _ => Ok("result"),
    }
}

/// The `WithTimeout` doc example (100 ms scaled to 50 ms).
fn slow_operation_with_timeout(
    ctx: &Context,
    takes: Duration,
) -> Result<&'static str, context::Error> {
    let (ctx, _cancel) = context::with_timeout(ctx, Duration::from_millis(50)); // defer cancel()
    slow_operation(&ctx, takes)
}

#[derive(Debug)]
struct User(&'static str);

/// Runs the demonstrations and returns the lines the program prints.
pub fn run() -> Vec<String> {
    let mut out = Vec::new();
    let bg = context::background();
    out.push(format!(
        "{}: err {}, deadline {:?}, done ready {}; {}",
        bg,
        err(&bg),
        bg.deadline(),
        bg.done().try_recv().is_ok(),
        context::todo()
    ));

    // WithCancel: a tree; cancelling a node cancels its subtree only.
    let (parent, cancel_parent) = context::with_cancel(&bg);
    let (child, cancel_child) = context::with_cancel(&parent);
    let (grandchild, _cancel_grandchild) = context::with_cancel(&child);
    out.push(format!(
        "{grandchild}: Done() is the same channel each call: {}",
        child.done().same_channel(&child.done())
    ));
    cancel_child.cancel();
    out.push(format!(
        "cancel(child): parent {}, child {}, grandchild {}",
        err(&parent),
        err(&child),
        err(&grandchild)
    ));
    let (sibling, _cancel_sibling) = context::with_cancel(&parent);
    cancel_parent.cancel();
    cancel_parent.cancel(); // idempotent
    out.push(format!(
        "cancel(parent): parent {}, sibling {}",
        err(&parent),
        err(&sibling)
    ));
    let (late, _cancel_late) = context::with_cancel(&parent);
    out.push(format!(
        "child of an already cancelled parent: {}",
        err(&late)
    ));

    // Children leave their parent's bookkeeping when they end or are dropped.
    let (root, _cancel_root) = context::with_cancel(&bg);
    let kids: Vec<_> = (0..1000).map(|_| context::with_cancel(&root)).collect();
    let live = root.child_count();
    drop(kids);
    out.push(format!(
        "1000 children: {live} linked, {} after they were cancelled",
        root.child_count()
    ));

    // WithDeadline / WithTimeout.
    let soon = Instant::now() + Duration::from_millis(30);
    let (d1, _c1) = context::with_deadline(&bg, soon);
    let (d2, _c2) = context::with_deadline(&d1, soon + Duration::from_secs(60));
    out.push(format!(
        "a later deadline under an earlier one keeps the earlier: {}",
        d2.deadline() == Some(soon)
    ));
    let (past, cancel_past) = context::with_deadline(&bg, Instant::now());
    let at_once = err(&past);
    cancel_past.cancel();
    out.push(format!(
        "deadline already passed: {at_once} at once, still {} after cancel()",
        err(&past)
    ));
    d2.wait();
    out.push(format!(
        "after the deadline: d1 {}, d2 {}",
        err(&d1),
        err(&d2)
    ));
    out.push(format!(
        "slowOperationWithTimeout: fast op {:?}, slow op {:?}",
        slow_operation_with_timeout(&bg, Duration::from_millis(1)),
        slow_operation_with_timeout(&bg, Duration::from_secs(5)).map_err(|e| e.to_string())
    ));

    // WithValue: an immutable chain, searched from the node upwards.
    let a = context::with_value(&bg, User("alice"));
    let (a_cancel, _c) = context::with_cancel(&a);
    let b = context::with_value(&a_cancel, User("bob"));
    out.push(format!(
        "values: a sees {:?}, b sees {:?} (through a cancel node), background sees {:?}",
        a.value::<User>().map(|u| u.0),
        b.value::<User>().map(|u| u.0),
        bg.value::<User>().map(|u| u.0)
    ));
    let (c, cancel_c) = context::with_cancel(&b);
    let detached = context::without_cancel(&c);
    cancel_c.cancel();
    out.push(format!(
        "without_cancel: err {}, still sees {:?}",
        err(&detached),
        detached.value::<User>().map(|u| u.0)
    ));

    // WithCancelCause / Cause.
    let (cc, cancel_cc) = context::with_cancel_cause(&bg);
    cancel_cc.cancel("db is down");
    out.push(format!(
        "with_cancel_cause: err {}, cause {}",
        err(&cc),
        context::cause(&cc).unwrap()
    ));
    out
}

#[allow(dead_code)]
fn main() {
    for line in run() {
        println!("{line}");
    }
}
