//! Ports of Go's `context/x_test.go` and `context/context_test.go` (Go 1.21+): roots,
//! trees and their bookkeeping, values, `WithoutCancel`. Deadlines are in
//! `context_deadline.rs`, concurrency in `context_race.rs`, causes in
//! `context_cause.rs`, `AfterFunc` in `context_afterfunc.rs`, async twins in
//! `context_async.rs`, deep/wide trees in `context_deep.rs`.
//!
//! Go's `otherContext{ctx}` (a wrapper the package does not recognise, forcing the slow
//! propagation path) has no Rust analogue; where a Go test uses one, the port wraps the
//! context in a `with_value` node instead, which is the only transparent non-cancel node
//! that can sit between a parent and a child.

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
fn assert_blocks(ctx: &Context, name: &str) {
    gochan::select! {
        recv(ctx.done()) -> x => panic!("<-{name}.Done() == {x:?}, want nothing (it should block)"),
        default => {}
    }
    assert_eq!(ctx.err(), None, "{name}.err()");
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

/// Go: `TestBackground`.
#[test]
fn background() {
    let c = context::background();
    assert_blocks(&c, "background");
    assert_eq!(c.to_string(), "context.Background");
    assert_eq!(c.deadline(), None);
    assert_eq!(c.value::<u32>(), None);
    assert_eq!(context::cause(&c).map(|e| e.to_string()), None);
    assert!(!c.wait_timeout(Duration::from_millis(5)));
    assert_eq!(
        format!("{c:?}"),
        r#"Context { name: "context.Background", err: None }"#
    );
}

/// Go: `TestTODO`.
#[test]
fn todo() {
    let c = context::todo();
    assert_blocks(&c, "todo");
    assert_eq!(c.to_string(), "context.TODO");
    assert_eq!(c.deadline(), None);
}

/// Go: `TestWithCancel` (cancellation propagates synchronously).
#[test]
fn with_cancel() {
    let (c1, cancel) = context::with_cancel(&context::background());
    assert_eq!(c1.to_string(), "context.Background.WithCancel");
    let o = other(&c1);
    let (c2, _cancel2) = context::with_cancel(&o);
    let contexts = [c1, o, c2];
    for (i, c) in contexts.iter().enumerate() {
        assert_blocks(c, &format!("c[{i}]"));
    }
    cancel.cancel(); // Should propagate synchronously.
    for (i, c) in contexts.iter().enumerate() {
        assert_finished(c, &format!("c[{i}]"), Error::Canceled);
    }
}

/// Go: `TestParentFinishesChild` (`XTestParentFinishesChild`), with the children
/// bookkeeping checked through `child_count()`.
#[test]
fn parent_finishes_child() {
    // parent -> cancel_child; parent -> value_child -> timer_child; parent -> after_func
    let (parent, cancel) = context::with_cancel(&context::background());
    let (cancel_child, _stop1) = context::with_cancel(&parent);
    let value_child = context::with_value(&parent, "value");
    let (timer_child, _stop2) = context::with_timeout(&value_child, VERY_LONG);
    let _after_stop = context::after_func(&parent, || {});

    for (c, n) in [
        (&parent, "parent"),
        (&cancel_child, "cancel_child"),
        (&timer_child, "timer_child"),
        (&value_child, "value_child"),
    ] {
        assert_blocks(c, n);
    }
    // The parent's children: the two cancelable children (the timer child is linked
    // through the value node) and the after_func.
    assert_eq!(parent.child_count(), 3, "bad linkage");
    assert_eq!(cancel_child.child_count(), 0);
    assert_eq!(timer_child.child_count(), 0);

    cancel.cancel();
    assert_eq!(
        parent.child_count(),
        0,
        "cancel didn't clear the parent's children"
    );

    assert_finished(&parent, "parent", Error::Canceled);
    assert_finished(&cancel_child, "cancel_child", Error::Canceled);
    assert_finished(&value_child, "value_child", Error::Canceled);
    assert_finished(&timer_child, "timer_child", Error::Canceled);

    // Deriving from a canceled parent gives a canceled context.
    let precanceled = context::with_value(&parent, "value");
    assert_finished(&precanceled, "precanceled_child", Error::Canceled);
    let (precanceled2, _c) = context::with_cancel(&parent);
    assert_finished(&precanceled2, "precanceled_child2", Error::Canceled);
    assert_eq!(
        parent.child_count(),
        0,
        "a canceled parent takes no new children"
    );
}

/// Go: `TestChildFinishesFirst` (`XTestChildFinishesFirst`).
#[test]
fn child_finishes_first() {
    let (cancelable, _stop) = context::with_cancel(&context::background());
    for (parent, has_children) in [(context::background(), false), (cancelable, true)] {
        let (child, cancel) = context::with_cancel(&parent);
        assert_blocks(&parent, "parent");
        assert_blocks(&child, "child");
        if has_children {
            assert_eq!(parent.child_count(), 1, "bad linkage");
        }
        cancel.cancel();
        assert_eq!(parent.child_count(), 0, "child's cancel didn't remove it");
        assert_finished(&child, "child", Error::Canceled);
        assert_blocks(&parent, "parent"); // ending a child never touches the parent
    }
}

/// Keys of `TestValues`. Go's `k2 = key2(1)` and `k3 = key2(3)` are the same type with
/// different values; gochan keys by type, so k3 gets its own type. `None` is Go's nil
/// value, which shadows an outer value.
#[derive(Debug, PartialEq)]
struct K1(Option<&'static str>);
#[derive(Debug, PartialEq)]
struct K2(Option<&'static str>);
#[derive(Debug, PartialEq)]
struct K3(Option<&'static str>);

/// Go: `TestValues` (the key/value chain with shadowing, and `String()`).
#[test]
fn values() {
    fn get1(c: &Context) -> &str {
        c.value::<K1>().and_then(|k| k.0).unwrap_or("")
    }
    fn get2(c: &Context) -> &str {
        c.value::<K2>().and_then(|k| k.0).unwrap_or("")
    }
    fn get3(c: &Context) -> &str {
        c.value::<K3>().and_then(|k| k.0).unwrap_or("")
    }
    #[track_caller]
    fn check(c: &Context, nm: &str, v1: &str, v2: &str, v3: &str) {
        assert_eq!((get1(c), get2(c), get3(c)), (v1, v2, v3), "{nm}");
    }
    let k1 = std::any::type_name::<K1>();
    let k2 = std::any::type_name::<K2>();
    let k3 = std::any::type_name::<K3>();

    let c0 = context::background();
    check(&c0, "c0", "", "", "");

    let c1 = context::with_value(&context::background(), K1(Some("c1k1")));
    check(&c1, "c1", "c1k1", "", "");
    assert_eq!(
        c1.to_string(),
        format!("context.Background.WithValue({k1}, {k1})")
    );

    let c2 = context::with_value(&c1, K2(Some("c2k2")));
    check(&c2, "c2", "c1k1", "c2k2", "");
    assert_eq!(
        c2.to_string(),
        format!("context.Background.WithValue({k1}, {k1}).WithValue({k2}, {k2})")
    );

    let c3 = context::with_value(&c2, K3(Some("c3k3")));
    check(&c3, "c3", "c1k1", "c2k2", "c3k3");

    let c4 = context::with_value(&c3, K1(None));
    check(&c4, "c4", "", "c2k2", "c3k3");
    assert_eq!(c4.value::<K1>(), Some(&K1(None)), "nearest value wins");
    assert_eq!(
        c4.to_string(),
        format!(
            "context.Background.WithValue({k1}, {k1}).WithValue({k2}, {k2})\
             .WithValue({k3}, {k3}).WithValue({k1}, {k1})"
        )
    );

    // Go's otherContext cases: values pass through non-value nodes (WithoutCancel and
    // cancel nodes stand in for the opaque wrapper).
    let o0 = context::without_cancel(&context::background());
    check(&o0, "o0", "", "", "");
    let o1 = context::without_cancel(&context::with_value(
        &context::background(),
        K1(Some("c1k1")),
    ));
    check(&o1, "o1", "c1k1", "", "");
    let o2 = context::with_value(&o1, K2(Some("o2k2")));
    check(&o2, "o2", "c1k1", "o2k2", "");
    let (o3, _c) = context::with_cancel(&c4);
    check(&o3, "o3", "", "c2k2", "c3k3");
    let o4 = context::with_value(&o3, K3(None));
    check(&o4, "o4", "", "c2k2", "");

    // Same inner value, different type: different keys (Go's k1 vs k2).
    let n = context::with_value(&context::background(), 1u32);
    assert_eq!(n.value::<u32>(), Some(&1));
    assert_eq!(n.value::<i32>(), None);
    assert_eq!(n.value::<u64>(), None);
}

/// Go: `TestAllocs`. Not ported: counting allocations needs a global allocator hook in
/// the test binary; the per-node allocation budget belongs in a benchmark.
#[test]
#[ignore = "SKIP (not a bug): Go's TestAllocs counts allocations; not portable"]
fn allocs() {}

/// Go: `TestCancelRemoves` (`XTestCancelRemoves`), plus removal when a child's handles
/// are dropped instead of cancelled, and for children linked through a value node.
#[test]
fn cancel_removes() {
    let (ctx, _c) = context::with_cancel(&context::background());
    assert_eq!(ctx.child_count(), 0, "after creation");
    let (_child, cancel) = context::with_cancel(&ctx);
    assert_eq!(ctx.child_count(), 1, "with WithCancel child");
    cancel.cancel();
    assert_eq!(ctx.child_count(), 0, "after canceling WithCancel child");

    let (ctx, _c) = context::with_cancel(&context::background());
    let (_child, cancel) = context::with_timeout(&ctx, Duration::from_secs(3600));
    assert_eq!(ctx.child_count(), 1, "with WithTimeout child");
    cancel.cancel();
    assert_eq!(ctx.child_count(), 0, "after canceling WithTimeout child");

    let (ctx, _c) = context::with_cancel(&context::background());
    let stop = context::after_func(&ctx, || {});
    assert_eq!(ctx.child_count(), 1, "with AfterFunc child");
    assert!(stop.stop());
    assert_eq!(ctx.child_count(), 0, "after stopping AfterFunc child");

    // Dropping the handles: the CancelFunc first (cancels), or the Context first.
    let (child, cancel) = context::with_cancel(&ctx);
    assert_eq!(ctx.child_count(), 1);
    drop(cancel);
    assert_eq!(ctx.child_count(), 0, "after dropping the CancelFunc");
    assert_eq!(
        child.err(),
        Some(Error::Canceled),
        "dropping a CancelFunc cancels"
    );
    drop(child);

    let (child, cancel) = context::with_deadline(&ctx, Instant::now() + VERY_LONG);
    drop(child);
    assert_eq!(ctx.child_count(), 1, "the CancelFunc keeps the child alive");
    drop(cancel);
    assert_eq!(ctx.child_count(), 0, "after dropping both handles");

    // Linked through a value node, and grandchildren stay with their own parent.
    let v = context::with_value(&ctx, 3u16);
    let (child, cancel) = context::with_cancel(&v);
    let (grandchild, gcancel) = context::with_cancel(&child);
    assert_eq!(ctx.child_count(), 1);
    assert_eq!(child.child_count(), 1);
    drop(gcancel);
    assert_eq!(child.child_count(), 0);
    assert_eq!(grandchild.err(), Some(Error::Canceled));
    assert_eq!(
        child.err(),
        None,
        "a grandchild's cancel never touches its parent"
    );
    drop((child, cancel));
    assert_eq!(ctx.child_count(), 0);

    // A child whose deadline fires leaves too.
    let (child, _cf) = context::with_timeout(&ctx, SHORT);
    assert!(child.wait_timeout(SOON));
    assert_eq!(child.err(), Some(Error::DeadlineExceeded));
    assert_eq!(ctx.child_count(), 0, "after the child's deadline fired");

    // Children of a WithoutCancel context are not linked to the cancelable ancestor.
    let (_free, _fc) = context::with_cancel(&context::without_cancel(&ctx));
    assert_eq!(ctx.child_count(), 0);
}

/// Go: `TestWithCancelCanceledParent`: a child of a canceled parent is born canceled,
/// with the parent's error and cause.
#[test]
fn with_cancel_canceled_parent() {
    #[derive(Debug)]
    struct Because;
    impl std::fmt::Display for Because {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Because!")
        }
    }
    impl std::error::Error for Because {}

    let (parent, pcancel) = context::with_cancel_cause(&context::background());
    pcancel.cancel(Because);

    let (c, _c) = context::with_cancel(&parent);
    assert!(done_now(&c), "child not done immediately upon construction");
    assert_eq!(c.err(), Some(Error::Canceled));
    let cause = context::cause(&c).expect("cause");
    assert!(
        cause.downcast_ref::<Because>().is_some(),
        "child has wrong cause: {cause}"
    );

    // Every derived kind, through a value node too.
    let v = context::with_value(&parent, 1u8);
    let (t, _t) = context::with_timeout(&v, VERY_LONG);
    let (d, _d) = context::with_deadline_cause(&v, Instant::now() + VERY_LONG, "unused");
    let (cc, _cc) = context::with_cancel_cause(&v);
    for (ctx, n) in [
        (&v, "value"),
        (&t, "timeout"),
        (&d, "deadline"),
        (&cc, "cause"),
    ] {
        assert_finished(ctx, n, Error::Canceled);
        assert_eq!(context::cause(ctx).unwrap().to_string(), "Because!", "{n}");
    }
}

/// Go: `TestWithValueChecksKey` and `TestInvalidDerivedFail`. Go panics at run time on
/// a nil or non-comparable key and on a nil parent; in gochan keys are types and
/// parents are references, so those misuses do not compile. What remains checkable:
/// any `Send + Sync + 'static` type is a usable key, including zero-sized and
/// non-comparable ones (Go's `[]byte` key), and lookups never confuse types.
#[test]
fn with_value_checks_key() {
    #[derive(Debug, PartialEq)]
    struct Marker;
    let c = context::with_value(&context::background(), ());
    let c = context::with_value(&c, Marker);
    let c = context::with_value(&c, b"foo".to_vec());
    let c = context::with_value(&c, "bar");
    let c = context::with_value(&c, String::from("baz"));
    assert_eq!(c.value::<()>(), Some(&()));
    assert_eq!(c.value::<Marker>(), Some(&Marker));
    assert_eq!(c.value::<Vec<u8>>().map(Vec::as_slice), Some(&b"foo"[..]));
    assert_eq!(c.value::<&str>(), Some(&"bar"));
    assert_eq!(c.value::<String>().map(String::as_str), Some("baz"));
    assert_eq!(c.value::<Box<str>>(), None);
    assert_eq!(c.value::<&[u8]>(), None);
}

/// Go: `TestWithoutCancel`: values kept, no deadline, never done (nil `Done()`).
#[test]
fn without_cancel() {
    let ctx = context::with_value(&context::background(), "value");
    let (ctx, cancel) = context::with_timeout(&ctx, VERY_LONG);
    let wc = context::without_cancel(&ctx);
    assert_eq!(wc.deadline(), None);
    assert_eq!(wc.err(), None);
    assert_eq!(wc.value::<&str>(), Some(&"value"));
    assert!(wc.to_string().ends_with("]).WithoutCancel"), "{wc}");
    assert!(wc.to_string().starts_with(&format!(
        "context.Background.WithValue({t}, {t}).WithDeadline(",
        t = std::any::type_name::<&str>()
    )));
    cancel.cancel();
    assert_eq!(ctx.err(), Some(Error::Canceled));
    assert_blocks(&wc, "without_cancel");
    assert!(!wc.wait_timeout(Duration::from_millis(10)));
    assert!(context::cause(&wc).is_none());
    assert_eq!(
        wc.value::<&str>(),
        Some(&"value"),
        "values outlive the parent's end"
    );

    let plain = context::without_cancel(&context::background());
    assert_eq!(plain.to_string(), "context.Background.WithoutCancel");
    let (c, _c) = context::with_cancel(&plain);
    assert_eq!(c.to_string(), "context.Background.WithoutCancel.WithCancel");
}

/// A `CancelFunc` cancels when dropped (Go's `defer cancel()` by default), and so does a
/// `CancelCauseFunc` (with a `CancelFuncDropped` cause, see `context_dropped.rs`);
/// `cancel()` is idempotent.
#[test]
fn dropping_cancel_func_cancels() {
    let (ctx, cancel) = context::with_cancel(&context::background());
    let (child, _cc) = context::with_cancel(&ctx);
    drop(cancel);
    assert_finished(&ctx, "ctx", Error::Canceled);
    assert_finished(&child, "child", Error::Canceled);

    let (ctx, cancel) = context::with_timeout(&context::background(), VERY_LONG);
    drop(cancel);
    assert_finished(&ctx, "timeout ctx", Error::Canceled);

    let (ctx, cancel) = context::with_cancel_cause(&context::background());
    drop(cancel);
    assert_finished(&ctx, "cause ctx", Error::Canceled);
    let cause = context::cause(&ctx).unwrap();
    let dropped = cause.downcast_ref::<context::CancelFuncDropped>();
    assert!(dropped.is_some_and(|d| d.was_cause_func()), "{cause}");

    // `let (ctx, _) = ...` drops the func at once: the context is born cancelled.
    let (ctx, _) = context::with_cancel(&context::background());
    assert!(ctx.is_done());

    let (ctx, cancel) = context::with_cancel(&context::background());
    cancel.cancel();
    cancel.cancel();
    drop(cancel);
    assert_eq!(ctx.err(), Some(Error::Canceled));
}

/// Go's `TestCustomContextAfterFuncCancel` / `...Timeout` / `...Unregister*` and
/// `TestCustomContextPropagation`: gochan has no custom `Context` implementations; its
/// way to adapt another cancellation source is `cancel_when`, whose context must
/// propagate to children and keep the parent's cause.
#[test]
fn custom_context_via_cancel_when() {
    // Cancel / Timeout: a child of the adapted context ends when the source fires.
    let (tx, rx) = gochan::bounded::<()>(1);
    let (ctx0, watch) = context::cancel_when(&context::background(), async move {
        let _ = rx.recv_async().await;
    });
    let (ctx1, _c1) = context::with_cancel(&ctx0);
    let (ctx2, _c2) = context::with_timeout(&ctx0, VERY_LONG);
    // Unregister: children leave the adapted context's bookkeeping.
    let (_x, cx) = context::with_cancel(&ctx0);
    let (_y, cy) = context::with_timeout(&ctx0, VERY_LONG);
    assert_eq!(ctx0.child_count(), 4);
    cx.cancel();
    cy.cancel();
    assert_eq!(ctx0.child_count(), 2);
    tx.send(()).unwrap();
    futures::executor::block_on(watch);
    assert!(ctx1.wait_timeout(SOON));
    assert!(ctx2.wait_timeout(SOON));
    assert_eq!(ctx2.err(), Some(Error::Canceled));

    // Propagation: the parent is cancelled with a cause first, then the source fires;
    // the grandchild reports the parent's cause.
    let (p, pcancel) = context::with_cancel_cause(&context::background());
    let (donec_tx, donec_rx) = gochan::bounded::<()>(0);
    let (ctx2, watch) = context::cancel_when(&p, async move {
        let _ = donec_rx.recv_async().await;
    });
    let (ctx3, _c3) = context::with_cancel(&ctx2);
    pcancel.cancel("TestCustomContextPropagation");
    donec_tx.close();
    futures::executor::block_on(watch);
    assert!(ctx3.wait_timeout(SOON));
    assert_eq!(ctx3.err(), Some(Error::Canceled));
    assert_eq!(
        context::cause(&ctx3).unwrap().to_string(),
        "TestCustomContextPropagation"
    );
}

/// The API's auto traits and formatting (DESIGN: `Context: Clone + Send + Sync + Debug +
/// Display`); handles can move to other threads.
#[test]
fn api_traits() {
    fn send_sync<T: Send + Sync>() {}
    fn clone_fmt<T: Clone + std::fmt::Debug + std::fmt::Display>() {}
    send_sync::<Context>();
    send_sync::<context::CancelFunc>();
    send_sync::<context::CancelCauseFunc>();
    send_sync::<context::AfterFunc>();
    send_sync::<Error>();
    clone_fmt::<Context>();
    clone_fmt::<Error>();
    let (c, f) = context::with_cancel(&context::todo());
    assert_eq!(c.to_string(), "context.TODO.WithCancel");
    assert_eq!(format!("{f:?}"), "CancelFunc");
    let dbg = format!("{c:?}");
    assert!(
        dbg.contains("context.TODO.WithCancel") && dbg.contains("None"),
        "{dbg}"
    );
    drop(f);
    assert!(format!("{c:?}").contains("Canceled"));
}

/// Go's `Context.Done` doc: "Successive calls to Done return the same value", and the
/// channel closes when the context ends. gochan's done channel is a signal (its receivers
/// are not counted and `try_recv` reads the close without the lock): receivers made and
/// dropped in any number leave it open until the cancel, and every one sees the close.
#[test]
fn done_is_one_channel_open_until_the_end() {
    let (ctx, cancel) = gochan::context::with_cancel(&gochan::context::background());
    let first = ctx.done();
    for _ in 0..3 {
        let d = ctx.done();
        assert!(d.same_channel(&first));
        assert_eq!(d.try_recv(), Err(gochan::TryRecvError::Empty));
        drop(d);
    }
    drop(first);
    let later = ctx.done();
    assert!(
        !later.is_closed(),
        "dropping receivers does not close a done channel"
    );
    let waiter = std::thread::spawn({
        let d = ctx.done();
        move || d.recv()
    });
    cancel.cancel();
    assert!(waiter.join().unwrap().is_err());
    assert_eq!(later.try_recv(), Err(gochan::TryRecvError::Closed));
    assert!(later.is_closed());
    assert_eq!(ctx.done().try_recv(), Err(gochan::TryRecvError::Closed));
}
