//! loom models of the context tree. Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test -p gochan --release --test loom_context`.
#![cfg(loom)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use gochan::context::{self, Error};
use loom::thread;

/// Cancel racing child creation: the child ends either way (born ended, or ended by the
/// walk), and the parent keeps no link to it.
#[test]
fn cancel_vs_child_creation() {
    loom::model(|| {
        let (parent, cancel) = context::with_cancel(&context::background());
        let p2 = parent.clone();
        let t = thread::spawn(move || {
            let (child, _c) = context::with_cancel(&p2);
            child
        });
        cancel.cancel();
        let child = t.join().unwrap();
        assert_eq!(child.err(), Some(Error::Canceled));
        assert_eq!(parent.child_count(), 0);
    });
}

/// Parent and child cancelled at once with different causes: both end, and the child's
/// cause is whichever cancellation reached it first (never a mix).
#[test]
fn parent_and_child_cancelled_at_once() {
    loom::model(|| {
        let (parent, pc) = context::with_cancel_cause(&context::background());
        let (child, cc) = context::with_cancel_cause(&parent);
        let t = thread::spawn(move || pc.cancel("parent"));
        cc.cancel("child");
        t.join().unwrap();
        assert_eq!(parent.err(), Some(Error::Canceled));
        assert_eq!(child.err(), Some(Error::Canceled));
        let c = context::cause(&child).unwrap().to_string();
        assert!(c == "parent" || c == "child", "{c}");
        assert_eq!(context::cause(&parent).unwrap().to_string(), "parent");
    });
}

/// The middle of a chain dropped (its cancel func too) while the root is cancelled: the
/// leaf ends, and the root's bookkeeping is empty.
#[test]
fn middle_drop_vs_parent_cancel() {
    loom::model(|| {
        let (root, rc) = context::with_cancel(&context::background());
        let (mid, mc) = context::with_cancel(&root);
        let (leaf, _lc) = context::with_cancel(&mid);
        let t = thread::spawn(move || {
            drop(mid);
            drop(mc);
        });
        rc.cancel();
        t.join().unwrap();
        assert_eq!(leaf.err(), Some(Error::Canceled));
        assert_eq!(root.child_count(), 0);
    });
}

/// after_func's stop racing the cancel: `f` runs exactly when stop returned false.
#[test]
fn after_func_stop_vs_cancel() {
    loom::model(|| {
        let (ctx, cancel) = context::with_cancel(&context::background());
        let runs = Arc::new(AtomicUsize::new(0));
        let r = runs.clone();
        let af = context::after_func(&ctx, move || {
            r.fetch_add(1, Ordering::SeqCst);
        });
        let t = thread::spawn(move || cancel.cancel());
        let stopped = af.stop();
        t.join().unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), usize::from(!stopped));
    });
}

/// Go issue #75533 (TestContextErrDoneRace): whenever `err()` reports an end, `done()` is
/// already closed; and once `done()` is closed, `err()` reports the end.
#[test]
fn err_implies_done_closed() {
    loom::model(|| {
        let (ctx, cancel) = context::with_cancel(&context::background());
        let done = ctx.done();
        let t = thread::spawn(move || cancel.cancel());
        if ctx.err().is_some() {
            assert_eq!(done.try_recv(), Err(gochan::TryRecvError::Closed));
        }
        if done.try_recv() == Err(gochan::TryRecvError::Closed) {
            assert_eq!(ctx.err(), Some(Error::Canceled));
        }
        t.join().unwrap();
        assert_eq!(ctx.err(), Some(Error::Canceled));
        assert_eq!(done.try_recv(), Err(gochan::TryRecvError::Closed));
    });
}

/// The lock-free `done()` (`context/done_slot.rs`): a first `done()` racing another first
/// `done()` and a `cancel` gets the same channel as the other, and it ends up closed.
#[test]
fn first_done_vs_second_done_and_cancel() {
    loom::model(|| {
        let (ctx, cancel) = context::with_cancel(&context::background());
        let ctx2 = ctx.clone();
        let other = thread::spawn(move || ctx2.done());
        let canceller = thread::spawn(move || cancel.cancel());
        let mine = ctx.done();
        let theirs = other.join().unwrap();
        canceller.join().unwrap();
        assert!(
            mine.same_channel(&theirs),
            "two done channels for one context"
        );
        assert_eq!(mine.try_recv(), Err(gochan::TryRecvError::Closed));
        assert_eq!(theirs.try_recv(), Err(gochan::TryRecvError::Closed));
        assert_eq!(ctx.err(), Some(Error::Canceled));
    });
}
