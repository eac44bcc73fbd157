//! A context ended by dropping its `CancelFunc` / `CancelCauseFunc` says so in `cause()`
//! (issue 12, item 10), while `err()` stays `Canceled`.
//!
//! Go has no drop, so there is no Go test to port; what is mirrored is Go's rule for
//! causes (`context.Cause` doc and `TestCause` in `context/x_test.go`): a child ended by
//! its parent has the parent's cause, and a plain `cancel()` gives cause == err.

use std::time::{Duration, Instant};

use gochan::context::{self, CancelFuncDropped, Context, Error};

const LONG: Duration = Duration::from_secs(3600);

/// The dropped-func cause of `ctx`, if that is what its cause is.
fn dropped(ctx: &Context) -> Option<CancelFuncDropped> {
    context::cause(ctx)?
        .downcast_ref::<CancelFuncDropped>()
        .copied()
}

fn cause_text(ctx: &Context) -> String {
    context::cause(ctx).expect("ended").to_string()
}

#[test]
fn dropped_cancel_func_is_the_cause_and_err_stays_canceled() {
    let (ctx, cancel) = context::with_cancel(&context::background());
    assert!(context::cause(&ctx).is_none());
    drop(cancel);
    assert_eq!(ctx.err(), Some(Error::Canceled));
    let d = dropped(&ctx).expect("cause is CancelFuncDropped");
    assert!(!d.was_cause_func());
    assert_eq!(d.error(), Error::Canceled);
    assert_eq!(cause_text(&ctx), "context canceled (CancelFunc dropped)");
    assert!(ctx.done().recv().is_err(), "done is closed");
}

/// Go: `cancel()` gives `Cause(ctx) == ctx.Err()` (`TestCause`, "WithCancel canceled").
/// A drop after an explicit cancel changes nothing (the first cancel wins).
#[test]
fn explicit_cancel_keeps_cause_equal_to_err() {
    let (ctx, cancel) = context::with_cancel(&context::background());
    cancel.cancel();
    drop(cancel);
    let c = context::cause(&ctx).unwrap();
    assert_eq!(c.downcast_ref::<Error>(), Some(&Error::Canceled));
    assert_eq!(c.to_string(), "context canceled");

    let (ctx, cancel) = context::with_cancel_cause(&context::background());
    cancel.cancel_without_cause();
    drop(cancel);
    let c = context::cause(&ctx).unwrap();
    assert_eq!(c.downcast_ref::<Error>(), Some(&Error::Canceled));
}

#[test]
fn dropped_cancel_cause_func_says_which() {
    let (ctx, cancel) = context::with_cancel_cause(&context::background());
    drop(cancel);
    assert_eq!(ctx.err(), Some(Error::Canceled));
    assert!(dropped(&ctx).expect("dropped cause").was_cause_func());
    assert_eq!(
        cause_text(&ctx),
        "context canceled (CancelCauseFunc dropped)"
    );

    // An explicit cause set before the drop wins.
    let (ctx, cancel) = context::with_cancel_cause(&context::background());
    cancel.cancel("backend gone");
    drop(cancel);
    assert_eq!(cause_text(&ctx), "backend gone");
}

/// Go: a child ended by its parent has the parent's cause (`context.Cause` doc;
/// `TestCause` rows "parent canceled ... child ... cause is parentCause"). Here for
/// children that exist when the func is dropped, through a value node, and for
/// children derived afterwards (born ended).
#[test]
fn children_inherit_the_dropped_cause() {
    let (parent, cancel) = context::with_cancel(&context::background());
    let (child, _c1) = context::with_cancel(&parent);
    let valued = context::with_value(&child, 7u8);
    let (grandchild, _c2) = context::with_cancel_cause(&valued);
    let (timed, _c3) = context::with_timeout(&grandchild, LONG);
    drop(cancel);
    for ctx in [&child, &valued, &grandchild, &timed] {
        assert_eq!(ctx.err(), Some(Error::Canceled), "{ctx}");
        let d = dropped(ctx).unwrap_or_else(|| panic!("{ctx}: cause {:?}", context::cause(ctx)));
        assert!(
            !d.was_cause_func(),
            "{ctx}: the parent's CancelFunc was dropped"
        );
    }

    // Derived after the parent ended: born ended, with the same cause.
    let (late, _c4) = context::with_cancel(&parent);
    let (late_deadline, _c5) = context::with_deadline(&valued, Instant::now() + LONG);
    for ctx in [&late, &late_deadline] {
        assert_eq!(ctx.err(), Some(Error::Canceled), "{ctx}");
        assert!(dropped(ctx).is_some(), "{ctx}: {:?}", context::cause(ctx));
    }

    // A CancelCauseFunc's drop is inherited the same way.
    let (parent, cancel) = context::with_cancel_cause(&context::background());
    let (child, _c) = context::with_cancel(&parent);
    drop(cancel);
    assert!(dropped(&child).expect("inherited").was_cause_func());
}

/// A child's own dropped func does not touch its parent (ending a child never does).
#[test]
fn a_childs_dropped_func_leaves_the_parent_live() {
    let (parent, _cancel) = context::with_cancel(&context::background());
    let (child, cancel_child) = context::with_cancel(&parent);
    drop(cancel_child);
    assert!(dropped(&child).is_some());
    assert_eq!(parent.err(), None);
    assert!(context::cause(&parent).is_none());
}

/// The `let (ctx, _) = with_timeout(..)` trap: `_` drops the CancelFunc at once, so the
/// context is already cancelled (not timed out later), and the cause tells why.
#[test]
fn underscore_pattern_cancels_at_once_and_the_cause_says_so() {
    let (ctx, _) = context::with_timeout(&context::background(), LONG);
    assert_eq!(ctx.err(), Some(Error::Canceled));
    assert_eq!(cause_text(&ctx), "context canceled (CancelFunc dropped)");

    let (ctx, _cancel) = context::with_timeout(&context::background(), LONG);
    assert_eq!(ctx.err(), None);
}

/// A deadline that fired first keeps its cause; the later drop changes nothing.
#[test]
fn deadline_before_drop_keeps_deadline_cause() {
    let (ctx, cancel) = context::with_timeout(&context::background(), Duration::ZERO);
    drop(cancel);
    assert_eq!(ctx.err(), Some(Error::DeadlineExceeded));
    let c = context::cause(&ctx).unwrap();
    assert_eq!(c.downcast_ref::<Error>(), Some(&Error::DeadlineExceeded));

    let (ctx, cancel) =
        context::with_timeout_cause(&context::background(), Duration::ZERO, "too slow");
    drop(cancel);
    assert_eq!(cause_text(&ctx), "too slow");
}

/// The cause is one shared value: reading it twice gives the same allocation.
#[test]
fn dropped_cause_is_shared() {
    let (a, ca) = context::with_cancel(&context::background());
    let (b, cb) = context::with_cancel(&context::background());
    drop((ca, cb));
    let (x, y) = (context::cause(&a).unwrap(), context::cause(&b).unwrap());
    assert!(std::sync::Arc::ptr_eq(&x, &y));
}
