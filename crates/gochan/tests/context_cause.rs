//! Ports of Go's `TestCause` table (every case of Go 1.21+), `TestCauseRace`,
//! `TestCustomContextCause` analogues and further cause rules (`context/x_test.go`).
//!
//! Go compares causes by identity; here each cause is a distinct value of one error
//! type, compared after downcasting, and `Canceled`/`DeadlineExceeded` are recognised
//! by downcasting to `context::Error`.

use std::fmt;
use std::thread;
use std::time::{Duration, Instant};

use gochan::context::{self, Context, Error};

/// Go's `forever = 1e6 * time.Second`.
const FOREVER: Duration = Duration::from_secs(1_000_000);
const SOON: Duration = Duration::from_secs(5);

/// A named cause (Go's `fmt.Errorf("parentCause")` etc.).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Named(&'static str);
impl fmt::Display for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}
impl std::error::Error for Named {}

const PARENT_CAUSE: Named = Named("parentCause");
const CHILD_CAUSE: Named = Named("childCause");
const TOO_SLOW: Named = Named("tooSlow");
const FINISHED_EARLY: Named = Named("finishedEarly");

/// What `cause(ctx)` returned, in comparable form.
#[derive(Debug, PartialEq, Eq)]
enum Cause {
    Nil,
    Ctx(Error),
    Named(Named),
}

fn cause_of(ctx: &Context) -> Cause {
    match context::cause(ctx) {
        None => Cause::Nil,
        Some(c) => {
            if let Some(e) = c.downcast_ref::<Error>() {
                Cause::Ctx(*e)
            } else if let Some(n) = c.downcast_ref::<Named>() {
                Cause::Named(*n)
            } else {
                panic!("unexpected cause type: {c}")
            }
        }
    }
}

/// Holds whatever must stay alive (cancel funcs) while the case is checked: in Go the
/// cancel funcs are simply not called again; here dropping one would cancel.
type Keep = Vec<Box<dyn std::any::Any>>;

/// One row of Go's `TestCause` table.
struct Case {
    name: &'static str,
    ctx: fn(&mut Keep) -> Context,
    err: Option<Error>,
    cause: Cause,
}

/// Go: `TestCause`: every row of the table, in order.
#[test]
fn cause_table() {
    use Cause::{Ctx, Named as N, Nil};
    let cases: Vec<Case> = vec![
        Case {
            name: "Background",
            ctx: |_| context::background(),
            err: None,
            cause: Nil,
        },
        Case {
            name: "TODO",
            ctx: |_| context::todo(),
            err: None,
            cause: Nil,
        },
        Case {
            name: "WithCancel",
            ctx: |_| {
                let (ctx, cancel) = context::with_cancel(&context::background());
                cancel.cancel();
                ctx
            },
            err: Some(Error::Canceled),
            cause: Ctx(Error::Canceled),
        },
        Case {
            name: "WithCancelCause",
            ctx: |_| {
                let (ctx, cancel) = context::with_cancel_cause(&context::background());
                cancel.cancel(PARENT_CAUSE);
                ctx
            },
            err: Some(Error::Canceled),
            cause: N(PARENT_CAUSE),
        },
        Case {
            name: "WithCancelCause nil",
            ctx: |_| {
                let (ctx, cancel) = context::with_cancel_cause(&context::background());
                cancel.cancel_without_cause();
                ctx
            },
            err: Some(Error::Canceled),
            cause: Ctx(Error::Canceled),
        },
        Case {
            name: "WithCancelCause: parent cause before child",
            ctx: |k| {
                let (ctx, cancel_parent) = context::with_cancel_cause(&context::background());
                let (ctx, cancel_child) = context::with_cancel_cause(&ctx);
                cancel_parent.cancel(PARENT_CAUSE);
                cancel_child.cancel(CHILD_CAUSE);
                k.push(Box::new((cancel_parent, cancel_child)));
                ctx
            },
            err: Some(Error::Canceled),
            cause: N(PARENT_CAUSE),
        },
        Case {
            name: "WithCancelCause: parent cause after child",
            ctx: |k| {
                let (ctx, cancel_parent) = context::with_cancel_cause(&context::background());
                let (ctx, cancel_child) = context::with_cancel_cause(&ctx);
                cancel_child.cancel(CHILD_CAUSE);
                cancel_parent.cancel(PARENT_CAUSE);
                k.push(Box::new((cancel_parent, cancel_child)));
                ctx
            },
            err: Some(Error::Canceled),
            cause: N(CHILD_CAUSE),
        },
        Case {
            name: "WithCancelCause: parent cause before nil",
            ctx: |k| {
                let (ctx, cancel_parent) = context::with_cancel_cause(&context::background());
                let (ctx, cancel_child) = context::with_cancel(&ctx);
                cancel_parent.cancel(PARENT_CAUSE);
                cancel_child.cancel();
                k.push(Box::new((cancel_parent, cancel_child)));
                ctx
            },
            err: Some(Error::Canceled),
            cause: N(PARENT_CAUSE),
        },
        Case {
            name: "WithCancelCause: parent cause after nil",
            ctx: |k| {
                let (ctx, cancel_parent) = context::with_cancel_cause(&context::background());
                let (ctx, cancel_child) = context::with_cancel(&ctx);
                cancel_child.cancel();
                cancel_parent.cancel(PARENT_CAUSE);
                k.push(Box::new((cancel_parent, cancel_child)));
                ctx
            },
            err: Some(Error::Canceled),
            cause: Ctx(Error::Canceled),
        },
        Case {
            name: "WithCancelCause: child cause after nil",
            ctx: |k| {
                let (ctx, cancel_parent) = context::with_cancel(&context::background());
                let (ctx, cancel_child) = context::with_cancel_cause(&ctx);
                cancel_parent.cancel();
                cancel_child.cancel(CHILD_CAUSE);
                k.push(Box::new((cancel_parent, cancel_child)));
                ctx
            },
            err: Some(Error::Canceled),
            cause: Ctx(Error::Canceled),
        },
        Case {
            name: "WithCancelCause: child cause before nil",
            ctx: |k| {
                let (ctx, cancel_parent) = context::with_cancel(&context::background());
                let (ctx, cancel_child) = context::with_cancel_cause(&ctx);
                cancel_child.cancel(CHILD_CAUSE);
                cancel_parent.cancel();
                k.push(Box::new((cancel_parent, cancel_child)));
                ctx
            },
            err: Some(Error::Canceled),
            cause: N(CHILD_CAUSE),
        },
        Case {
            name: "WithTimeout",
            ctx: |_| {
                let (ctx, cancel) = context::with_timeout(&context::background(), Duration::ZERO);
                cancel.cancel();
                ctx
            },
            err: Some(Error::DeadlineExceeded),
            cause: Ctx(Error::DeadlineExceeded),
        },
        Case {
            name: "WithTimeout canceled",
            ctx: |_| {
                let (ctx, cancel) = context::with_timeout(&context::background(), FOREVER);
                cancel.cancel();
                ctx
            },
            err: Some(Error::Canceled),
            cause: Ctx(Error::Canceled),
        },
        Case {
            name: "WithTimeoutCause",
            ctx: |_| {
                let (ctx, cancel) =
                    context::with_timeout_cause(&context::background(), Duration::ZERO, TOO_SLOW);
                cancel.cancel();
                ctx
            },
            err: Some(Error::DeadlineExceeded),
            cause: N(TOO_SLOW),
        },
        Case {
            name: "WithTimeoutCause canceled",
            ctx: |_| {
                let (ctx, cancel) =
                    context::with_timeout_cause(&context::background(), FOREVER, TOO_SLOW);
                cancel.cancel();
                ctx
            },
            err: Some(Error::Canceled),
            cause: Ctx(Error::Canceled),
        },
        Case {
            name: "WithTimeoutCause stacked",
            ctx: |k| {
                let (ctx, cancel) = context::with_cancel_cause(&context::background());
                let (ctx, c2) = context::with_timeout_cause(&ctx, Duration::ZERO, TOO_SLOW);
                cancel.cancel(FINISHED_EARLY);
                k.push(Box::new((cancel, c2)));
                ctx
            },
            err: Some(Error::DeadlineExceeded),
            cause: N(TOO_SLOW),
        },
        Case {
            name: "WithTimeoutCause stacked canceled",
            ctx: |k| {
                let (ctx, cancel) = context::with_cancel_cause(&context::background());
                let (ctx, c2) = context::with_timeout_cause(&ctx, FOREVER, TOO_SLOW);
                cancel.cancel(FINISHED_EARLY);
                k.push(Box::new((cancel, c2)));
                ctx
            },
            err: Some(Error::Canceled),
            cause: N(FINISHED_EARLY),
        },
        Case {
            name: "WithoutCancel",
            ctx: |_| context::without_cancel(&context::background()),
            err: None,
            cause: Nil,
        },
        Case {
            name: "WithoutCancel canceled",
            ctx: |_| {
                let (ctx, cancel) = context::with_cancel_cause(&context::background());
                let ctx = context::without_cancel(&ctx);
                cancel.cancel(FINISHED_EARLY);
                ctx
            },
            err: None,
            cause: Nil,
        },
        Case {
            name: "WithoutCancel timeout",
            ctx: |_| {
                let (ctx, cancel) =
                    context::with_timeout_cause(&context::background(), Duration::ZERO, TOO_SLOW);
                let ctx = context::without_cancel(&ctx);
                cancel.cancel();
                ctx
            },
            err: None,
            cause: Nil,
        },
        // Go's "parent of custom context ..." rows use a custom Context built on
        // AfterFunc; the gochan equivalent of a context with its own cancel is a plain
        // child, and for it the right answer is recorded (Go's last row notes that its
        // custom context "isn't really right" and inherits the parent's cause).
        Case {
            name: "parent of custom context not canceled",
            ctx: |k| {
                let (ctx, c1) = context::with_cancel_cause(&context::background());
                let (ctx, cancel2) = context::with_cancel(&ctx);
                cancel2.cancel();
                k.push(Box::new((c1, cancel2)));
                ctx
            },
            err: Some(Error::Canceled),
            cause: Ctx(Error::Canceled),
        },
        Case {
            name: "parent of custom context is canceled before",
            ctx: |k| {
                let (ctx, cancel1) = context::with_cancel_cause(&context::background());
                let (ctx, cancel2) = context::with_cancel(&ctx);
                cancel1.cancel(PARENT_CAUSE);
                cancel2.cancel();
                k.push(Box::new((cancel1, cancel2)));
                ctx
            },
            err: Some(Error::Canceled),
            cause: N(PARENT_CAUSE),
        },
        Case {
            name: "parent of custom context is canceled after",
            ctx: |k| {
                let (ctx, cancel1) = context::with_cancel_cause(&context::background());
                let (ctx, cancel2) = context::with_cancel(&ctx);
                cancel2.cancel();
                cancel1.cancel(PARENT_CAUSE);
                k.push(Box::new((cancel1, cancel2)));
                ctx
            },
            err: Some(Error::Canceled),
            cause: Ctx(Error::Canceled),
        },
    ];
    let mut failures = Vec::new();
    for case in &cases {
        let mut keep = Keep::new();
        let ctx = (case.ctx)(&mut keep);
        let (err, cause) = (ctx.err(), cause_of(&ctx));
        if err != case.err || cause != case.cause {
            failures.push(format!(
                "{}: err = {err:?} want {:?}; cause = {cause:?} want {:?}",
                case.name, case.err, case.cause
            ));
        }
        // A value node answers for its nearest cancelable ancestor (Go's Cause goes
        // through Value(&cancelCtxKey)).
        let v = context::with_value(&ctx, 0u8);
        assert_eq!(
            (v.err(), cause_of(&v)),
            (err, cause),
            "{}: via value",
            case.name
        );
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Go: `TestCauseRace`: poll `cause` (not `done`) while another thread cancels with a
/// cause; the first non-nil cause seen is that cause.
#[test]
fn cause_race() {
    for _ in 0..50 {
        let (ctx, cancel) = context::with_cancel_cause(&context::background());
        let h = thread::spawn(move || cancel.cancel(Named("TestCauseRace")));
        let start = Instant::now();
        loop {
            match cause_of(&ctx) {
                Cause::Nil => {
                    assert!(start.elapsed() < SOON, "cause never set");
                    thread::yield_now();
                }
                got => {
                    assert_eq!(got, Cause::Named(Named("TestCauseRace")));
                    break;
                }
            }
        }
        assert_eq!(
            ctx.err(),
            Some(Error::Canceled),
            "cause set, err must be too"
        );
        h.join().unwrap();
    }
}

/// Go: `TestCustomContextCause` (second and third parts, which do not depend on a
/// custom `Context`): a child cancelled with a cause keeps it when the parent later
/// ends; the parent is untouched by the child's cancel and ends with cause `Canceled`.
#[test]
fn child_cause_survives_parent_cancel() {
    let (parent, pcancel) = context::with_cancel(&context::background());
    let (ctx, cause_func) = context::with_cancel_cause(&parent);
    cause_func.cancel(Named("TestCustomContextCause"));
    assert_eq!(ctx.err(), Some(Error::Canceled));
    assert_eq!(
        cause_of(&ctx),
        Cause::Named(Named("TestCustomContextCause"))
    );
    assert_eq!(parent.err(), None);
    assert_eq!(cause_of(&parent), Cause::Nil);

    pcancel.cancel();
    assert_eq!(
        cause_of(&ctx),
        Cause::Named(Named("TestCustomContextCause"))
    );
    assert_eq!(parent.err(), Some(Error::Canceled));
    assert_eq!(cause_of(&parent), Cause::Ctx(Error::Canceled));

    // The child of a parent cancelled without a cause: Canceled / Canceled.
    let (parent, pcancel) = context::with_cancel(&context::background());
    let (ctx, _c) = context::with_cancel(&parent);
    pcancel.cancel();
    assert_eq!(
        (ctx.err(), cause_of(&ctx)),
        (Some(Error::Canceled), Cause::Ctx(Error::Canceled))
    );
}

/// `WithDeadlineCause` / `WithTimeoutCause` firing by the timer (not already past at
/// creation), and the cause inherited by descendants, including ones born afterwards.
#[test]
fn deadline_cause_fires() {
    let at = Instant::now() + Duration::from_millis(20);
    let (ctx, _c) = context::with_deadline_cause(&context::background(), at, TOO_SLOW);
    let (child, _cc) = context::with_cancel(&context::with_value(&ctx, 1u8));
    assert_eq!(cause_of(&ctx), Cause::Nil, "live: no cause");
    assert!(child.wait_timeout(SOON), "deadline never fired");
    assert_eq!(ctx.err(), Some(Error::DeadlineExceeded));
    assert_eq!(cause_of(&ctx), Cause::Named(TOO_SLOW));
    assert_eq!(child.err(), Some(Error::DeadlineExceeded));
    assert_eq!(cause_of(&child), Cause::Named(TOO_SLOW));
    let (late, _l) = context::with_cancel_cause(&ctx);
    assert_eq!(
        (late.err(), cause_of(&late)),
        (Some(Error::DeadlineExceeded), Cause::Named(TOO_SLOW))
    );

    let (ctx, _c) =
        context::with_timeout_cause(&context::background(), Duration::from_millis(20), TOO_SLOW);
    assert!(ctx.wait_timeout(SOON));
    assert_eq!(cause_of(&ctx), Cause::Named(TOO_SLOW));

    // A plain deadline firing: cause is the error itself.
    let (ctx, _c) = context::with_timeout(&context::background(), Duration::from_millis(5));
    assert!(ctx.wait_timeout(SOON));
    assert_eq!(cause_of(&ctx), Cause::Ctx(Error::DeadlineExceeded));
}

/// Go's `WithDeadlineCause`: when the parent's deadline is earlier the child is just
/// `WithCancel(parent)` and its cause argument is never used; the parent's deadline
/// (without a cause) decides.
#[test]
fn deadline_cause_with_earlier_parent_deadline() {
    let (parent, _p) = context::with_timeout(&context::background(), Duration::from_millis(20));
    let (child, _c) = context::with_timeout_cause(&parent, FOREVER, TOO_SLOW);
    assert!(child.to_string().ends_with(".WithCancel"), "{child}");
    assert!(child.wait_timeout(SOON));
    assert_eq!(child.err(), Some(Error::DeadlineExceeded));
    assert_eq!(cause_of(&child), Cause::Ctx(Error::DeadlineExceeded));

    // The parent's own deadline cause is what descendants see.
    let (parent, _p) =
        context::with_timeout_cause(&context::background(), Duration::ZERO, TOO_SLOW);
    let (child, _c) = context::with_timeout_cause(&parent, FOREVER, Named("unused"));
    assert_eq!(cause_of(&child), Cause::Named(TOO_SLOW));
}

/// Go's `WithDeadlineCause` calls `propagateCancel` before checking for a past
/// deadline: a child of an already-ended parent takes the parent's error and cause even
/// when its own deadline is already past.
#[test]
fn past_deadline_on_ended_parent() {
    let (parent, pcancel) = context::with_cancel_cause(&context::background());
    pcancel.cancel(PARENT_CAUSE);
    let (ctx, _c) = context::with_timeout_cause(&parent, Duration::ZERO, TOO_SLOW);
    assert_eq!(
        (ctx.err(), cause_of(&ctx)),
        (Some(Error::Canceled), Cause::Named(PARENT_CAUSE))
    );
    let (ctx, _c) = context::with_deadline(&parent, Instant::now() - Duration::from_secs(1));
    assert_eq!(
        (ctx.err(), cause_of(&ctx)),
        (Some(Error::Canceled), Cause::Named(PARENT_CAUSE))
    );
}

/// A first cancel wins: later cancels (with or without cause, from the func, from the
/// parent, from the timer) change neither the error nor the cause.
#[test]
fn first_cause_wins() {
    let (parent, pcancel) = context::with_cancel_cause(&context::background());
    let (ctx, cancel) = context::with_deadline_cause(
        &parent,
        Instant::now() + Duration::from_millis(10),
        TOO_SLOW,
    );
    let (c2, cancel2) = context::with_cancel_cause(&ctx);
    cancel2.cancel(CHILD_CAUSE);
    cancel2.cancel(Named("second"));
    cancel2.cancel_without_cause();
    cancel.cancel();
    pcancel.cancel(PARENT_CAUSE);
    thread::sleep(Duration::from_millis(30)); // the deadline passes too
    assert_eq!(
        (c2.err(), cause_of(&c2)),
        (Some(Error::Canceled), Cause::Named(CHILD_CAUSE))
    );
    assert_eq!(
        (ctx.err(), cause_of(&ctx)),
        (Some(Error::Canceled), Cause::Ctx(Error::Canceled))
    );
    assert_eq!(
        (parent.err(), cause_of(&parent)),
        (Some(Error::Canceled), Cause::Named(PARENT_CAUSE))
    );
    drop(cancel2); // dropping after a cancel changes nothing
    assert_eq!(cause_of(&c2), Cause::Named(CHILD_CAUSE));
}

/// Cause types: `&str`, `String`, `std::io::Error`, boxed errors are all accepted and
/// shown by `Display`; a context under `without_cancel` has no cause even when its own
/// cancelable ancestor (above the `WithoutCancel`) ended.
#[test]
fn cause_kinds_and_without_cancel_children() {
    let (ctx, c) = context::with_cancel_cause(&context::background());
    c.cancel(std::io::Error::other("disk full"));
    assert_eq!(context::cause(&ctx).unwrap().to_string(), "disk full");
    let (ctx, c) = context::with_cancel_cause(&context::background());
    c.cancel(String::from("owned"));
    assert_eq!(context::cause(&ctx).unwrap().to_string(), "owned");
    let (ctx, c) = context::with_cancel_cause(&context::background());
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(Named("boxed"));
    c.cancel(boxed);
    assert_eq!(cause_of(&ctx), Cause::Named(Named("boxed")));

    let (parent, pcancel) = context::with_cancel_cause(&context::background());
    let detached = context::without_cancel(&parent);
    let (child, _c) = context::with_cancel_cause(&detached);
    pcancel.cancel(PARENT_CAUSE);
    assert_eq!((child.err(), cause_of(&child)), (None, Cause::Nil));
}
