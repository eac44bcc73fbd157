//! Ports of Go's deadline tests from `context/x_test.go` (Go 1.21+): `TestDeadline`,
//! `TestTimeout`, `TestCanceledTimeout`, `TestDeadlineExceededSupportsTimeout`, deadline
//! reporting and `Display`.
//!
//! Go's `otherContext{ctx}` (an opaque wrapper) has no Rust analogue; the ports wrap the
//! context in a `with_value` node instead.

use std::thread;
use std::time::{Duration, Instant};

use gochan::context::{self, Context, Error};
use gochan::TryRecvError;

/// Go's `veryLongDuration`.
const VERY_LONG: Duration = Duration::from_secs(1000 * 3600);
/// Go's `shortDuration`.
const SHORT: Duration = Duration::from_millis(1);
/// Generous bound for anything that should happen "soon" (noisy shared machine).
const SOON: Duration = Duration::from_secs(5);

/// `select { case <-ctx.Done(): true; default: false }`.
fn done_now(ctx: &Context) -> bool {
    match ctx.done().try_recv() {
        Err(TryRecvError::Closed) => true,
        Err(TryRecvError::Empty) => false,
        Ok(()) => panic!("a done channel never carries a value"),
    }
}

#[track_caller]
fn assert_finished(ctx: &Context, name: &str, want: Error) {
    assert!(done_now(ctx), "<-{name}.Done() blocked, but shouldn't have");
    assert_eq!(ctx.err(), Some(want), "{name}.err()");
    assert!(ctx.is_done());
}

/// A stand-in for Go's `otherContext{c}` (see the module docs).
struct Other;
fn other(ctx: &Context) -> Context {
    context::with_value(ctx, Other)
}

/// Go's `testDeadline`: `ctx` ends (within a generous bound) with `DeadlineExceeded`.
#[track_caller]
fn test_deadline(c: &Context, name: &str) {
    gochan::select! {
        recv(gochan::after(SOON)) -> _ => panic!("{name}: context not timed out after {SOON:?}"),
        recv(c.done()) -> _ => {}
    }
    assert_eq!(c.err(), Some(Error::DeadlineExceeded), "{name}");
}

/// Go: `TestDeadline`.
#[test]
fn deadline() {
    let (c, _c1) = context::with_deadline(&context::background(), Instant::now() + SHORT);
    let s = c.to_string();
    assert!(s.starts_with("context.Background.WithDeadline("), "{s}");
    test_deadline(&c, "WithDeadline");

    let (c, _c2) = context::with_deadline(&context::background(), Instant::now() + SHORT);
    test_deadline(&other(&c), "WithDeadline+otherContext");

    let (c, _c3) = context::with_deadline(&context::background(), Instant::now() + SHORT);
    let o = other(&c);
    let (c, _c4) = context::with_deadline(&o, Instant::now() + VERY_LONG);
    test_deadline(&c, "WithDeadline+otherContext+WithDeadline");

    let (c, _c5) = context::with_deadline(&context::background(), Instant::now() - SHORT);
    test_deadline(&c, "WithDeadline+inthepast");
    assert!(c.is_done(), "a past deadline ends the context at once");

    let (c, _c6) = context::with_deadline(&context::background(), Instant::now());
    test_deadline(&c, "WithDeadline+now");
    assert!(c.is_done(), "a deadline of now ends the context at once");
}

/// Go: `TestTimeout`.
#[test]
fn timeout() {
    let (c, _c1) = context::with_timeout(&context::background(), SHORT);
    let s = c.to_string();
    assert!(s.starts_with("context.Background.WithDeadline("), "{s}");
    test_deadline(&c, "WithTimeout");

    let (c, _c2) = context::with_timeout(&context::background(), SHORT);
    test_deadline(&other(&c), "WithTimeout+otherContext");

    let (c, _c3) = context::with_timeout(&context::background(), SHORT);
    let (c, _c4) = context::with_timeout(&other(&c), VERY_LONG);
    test_deadline(&c, "WithTimeout+otherContext+WithTimeout");

    let (c, _c5) = context::with_timeout(&context::background(), Duration::ZERO);
    assert_finished(&c, "WithTimeout(0)", Error::DeadlineExceeded);
}

/// Go: `TestDeadline`/`WithDeadline` docs: deadline reporting; a later child deadline
/// is just `WithCancel` and reports the parent's deadline.
#[test]
fn deadline_reporting() {
    let at = Instant::now() + VERY_LONG;
    let (parent, _p) = context::with_deadline(&context::background(), at);
    assert_eq!(parent.deadline(), Some(at));
    let s = parent.to_string();
    assert!(s.starts_with("context.Background.WithDeadline("), "{s}");
    assert!(s.ends_with(")]") || s.ends_with("])"), "{s}");
    assert!(
        s.contains(" +0000 UTC ["),
        "Go's time.Time.String() shape: {s}"
    );

    // Later child deadline: the parent's deadline, shown as WithCancel.
    let (later, _l) = context::with_deadline(&parent, at + Duration::from_secs(60));
    assert_eq!(later.deadline(), Some(at));
    assert!(later.to_string().ends_with("]).WithCancel"), "{later}");
    let (later_t, _lt) = context::with_timeout(&parent, VERY_LONG * 2);
    assert_eq!(later_t.deadline(), Some(at));
    assert!(later_t.to_string().ends_with(".WithCancel"), "{later_t}");

    // Earlier child deadline: its own.
    let earlier_at = at - Duration::from_secs(60);
    let (earlier, _e) = context::with_deadline(&parent, earlier_at);
    assert_eq!(earlier.deadline(), Some(earlier_at));
    assert_eq!(earlier.to_string().matches(".WithDeadline(").count(), 2);

    // Equal deadline: Go's `cur.Before(d)` is false, so a new deadline node.
    let (equal, _q) = context::with_deadline(&parent, at);
    assert_eq!(equal.deadline(), Some(at));
    assert_eq!(equal.to_string().matches(".WithDeadline(").count(), 2);

    // Deadlines pass through value and cancel nodes, not WithoutCancel.
    let v = context::with_value(&parent, 1u8);
    assert_eq!(v.deadline(), Some(at));
    let (c, _c) = context::with_cancel(&v);
    assert_eq!(c.deadline(), Some(at));
    assert_eq!(context::without_cancel(&c).deadline(), None);
    assert_eq!(context::background().deadline(), None);

    // A timeout too large to represent never fires (documented divergence: Go saturates).
    let (huge, _h) = context::with_timeout(&context::background(), Duration::MAX);
    assert_eq!(huge.err(), None);
    assert_eq!(huge.to_string(), "context.Background.WithCancel");
}

/// Go: `TestCanceledTimeout`.
#[test]
fn canceled_timeout() {
    let (c, _c1) = context::with_timeout(&context::background(), Duration::from_secs(1));
    let o = other(&c);
    let (c, cancel) = context::with_timeout(&o, VERY_LONG);
    cancel.cancel(); // Should propagate synchronously.
    assert_finished(&c, "c", Error::Canceled);
}

/// Go: `TestDeadlineExceededSupportsTimeout` (and the errors' messages).
#[test]
fn deadline_exceeded_supports_timeout() {
    assert!(Error::DeadlineExceeded.is_timeout());
    assert!(!Error::Canceled.is_timeout());
    assert!(Error::Canceled.is_canceled());
    assert!(!Error::DeadlineExceeded.is_canceled());
    assert_eq!(Error::Canceled.to_string(), "context canceled");
    assert_eq!(
        Error::DeadlineExceeded.to_string(),
        "context deadline exceeded"
    );
    let e: Box<dyn std::error::Error + Send + Sync> = Box::new(Error::DeadlineExceeded);
    assert_eq!(e.to_string(), "context deadline exceeded");

    let (c, _c) = context::with_timeout(&context::background(), Duration::ZERO);
    assert!(c.err().unwrap().is_timeout());
}

/// A deadline context whose handles are all dropped before it fires: its timer is
/// released and nothing fires on a dead node (no panic, parent unaffected).
#[test]
fn dropped_deadline_context_does_not_fire() {
    let (parent, _p) = context::with_cancel(&context::background());
    for _ in 0..100 {
        let (c, f) = context::with_timeout(&parent, Duration::from_millis(5));
        drop(c);
        drop(f);
    }
    thread::sleep(Duration::from_millis(30));
    assert_eq!(parent.err(), None);
    assert_eq!(parent.child_count(), 0);
}

/// The `[remaining]` part of a deadline context's `Display`.
fn remaining_part(ctx: &Context) -> String {
    let s = ctx.to_string();
    let (_, rest) = s
        .rsplit_once(" [")
        .expect("WithDeadline(<time> [<remaining>])");
    rest.strip_suffix("])").expect("ends with `])`").to_string()
}

/// Go's `timerCtx.String()` prints the remaining time with `time.Duration.String()`
/// (`1h59m59.9999s`); gochan prints Rust's `Debug` for `Duration` (`7199.9999s`).
#[test]
fn display_remaining_in_go_duration_format() {
    let (c, _f) = context::with_timeout(&context::background(), Duration::from_secs(2 * 3600));
    let rem = remaining_part(&c);
    assert!(
        rem.starts_with("1h59m") && rem.ends_with('s'),
        "remaining = {rem:?}"
    );
}

/// Go prints `time.Until(deadline)`, negative once the deadline passed (`[-3ms]`);
/// gochan saturates at zero and prints `[0ns]`.
#[test]
fn display_remaining_negative_after_deadline() {
    let past = Instant::now() - Duration::from_millis(50);
    let (c, _f) = context::with_deadline(&context::background(), past);
    let rem = remaining_part(&c);
    assert!(rem.starts_with('-'), "remaining = {rem:?}");
}

/// A deadline never fires early: when `done()` closes, the deadline has passed (Go:
/// `Err` is nil before the deadline).
#[test]
fn deadline_never_fires_early() {
    let start = Instant::now();
    let ctxs: Vec<_> = (0..20u64)
        .map(|i| {
            let at = start + Duration::from_millis(5 + 3 * i);
            let (c, f) = context::with_deadline(&context::background(), at);
            (c, f, at)
        })
        .collect();
    for (c, _f, at) in &ctxs {
        assert!(c.wait_timeout(SOON), "deadline never fired");
        let now = Instant::now();
        assert!(now >= *at, "fired {:?} early", *at - now);
        assert_eq!(c.err(), Some(Error::DeadlineExceeded));
    }
}
