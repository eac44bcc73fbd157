//! Ports of Go's `AfterFunc` tests (`context/x_test.go`, `context/afterfunc_test.go`,
//! Go 1.21+) and further `after_func` behaviour: runs once, off the cancelling thread,
//! `stop` semantics, chains, and the stop/cancel race.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use gochan::context::{self, Error};
use gochan::RecvTimeoutError;

/// Go's `shortDuration`-style wait used to show that something did NOT happen.
const A_WHILE: Duration = Duration::from_millis(50);
const SOON: Duration = Duration::from_secs(5);

/// Go: `TestAfterFuncCalledAfterCancel`.
#[test]
fn after_func_called_after_cancel() {
    let (ctx, cancel) = context::with_cancel(&context::background());
    let (donec_tx, donec) = gochan::bounded::<()>(1);
    let stop = context::after_func(&ctx, move || {
        donec_tx.close();
    });
    assert_eq!(
        donec.recv_timeout(A_WHILE),
        Err(RecvTimeoutError::Timeout),
        "AfterFunc called before context is done"
    );
    cancel.cancel();
    assert_eq!(
        donec.recv_timeout(SOON),
        Err(RecvTimeoutError::Closed),
        "AfterFunc not called after context is canceled"
    );
    assert!(!stop.stop(), "stop() = true, want false");
}

/// Go: `TestAfterFuncCalledAfterTimeout`.
#[test]
fn after_func_called_after_timeout() {
    let (ctx, _cancel) = context::with_timeout(&context::background(), Duration::from_millis(1));
    let (tx, rx) = gochan::bounded::<Option<Error>>(1);
    let c = ctx.clone();
    let _stop = context::after_func(&ctx, move || tx.send(c.err()).unwrap());
    assert_eq!(
        rx.recv_timeout(SOON),
        Ok(Some(Error::DeadlineExceeded)),
        "AfterFunc not called after the deadline"
    );
}

/// Go: `TestAfterFuncCalledImmediately`: for a context already done, f is called at
/// once, in its own goroutine (here: not on the calling thread).
#[test]
fn after_func_called_immediately() {
    let (ctx, cancel) = context::with_cancel(&context::background());
    cancel.cancel();
    let (tx, rx) = gochan::bounded::<thread::ThreadId>(1);
    let stop = context::after_func(&ctx, move || tx.send(thread::current().id()).unwrap());
    let ran_on = rx
        .recv_timeout(SOON)
        .expect("AfterFunc not called for already-canceled context");
    assert_ne!(
        ran_on,
        thread::current().id(),
        "f must run off the calling thread"
    );
    assert!(!stop.stop());
    assert_eq!(ctx.child_count(), 0);
}

/// Go: `TestAfterFuncNotCalledAfterStop`.
#[test]
fn after_func_not_called_after_stop() {
    let (ctx, cancel) = context::with_cancel(&context::background());
    let (donec_tx, donec) = gochan::bounded::<()>(1);
    let stop = context::after_func(&ctx, move || {
        donec_tx.close();
    });
    assert!(stop.stop(), "stop() = false, want true");
    cancel.cancel();
    assert_eq!(
        donec.recv_timeout(A_WHILE),
        Err(RecvTimeoutError::Closed),
        "the stopped f was dropped (its sender closed the channel on drop)"
    );
    assert!(!stop.stop(), "second stop() = true, want false");
}

/// Go: `TestAfterFuncNotCalledAfterStop`, with a counter: f never runs after a stop.
#[test]
fn after_func_stopped_never_runs() {
    let (ctx, cancel) = context::with_cancel(&context::background());
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let stop = context::after_func(&ctx, move || {
        r.fetch_add(1, Ordering::SeqCst);
    });
    assert!(stop.stop());
    assert!(!stop.stop(), "stop twice: the second is false");
    cancel.cancel();
    thread::sleep(A_WHILE);
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    assert!(!stop.stop());
}

/// Go: `TestAfterFuncCalledAsynchronously`: cancelling does not wait for f; f blocks on
/// an unbuffered send that is only read after `cancel` returns.
#[test]
fn after_func_called_asynchronously() {
    let (ctx, cancel) = context::with_cancel(&context::background());
    let (donec_tx, donec) = gochan::bounded::<()>(0);
    let _stop = context::after_func(&ctx, move || donec_tx.send(()).unwrap());
    let (returned_tx, returned) = gochan::bounded::<()>(1);
    thread::spawn(move || {
        cancel.cancel();
        returned_tx.send(()).unwrap();
    });
    assert_eq!(
        returned.recv_timeout(SOON),
        Ok(()),
        "cancel() blocked waiting for the AfterFunc"
    );
    assert_eq!(donec.recv_timeout(SOON), Ok(()), "AfterFunc not called");
}

/// Go's doc: "stop returns false if f has already been started" (stop after the run).
#[test]
fn stop_after_run_started() {
    let (ctx, cancel) = context::with_cancel(&context::background());
    let (started_tx, started) = gochan::bounded::<()>(1);
    let (release_tx, release) = gochan::bounded::<()>(0);
    let stop = context::after_func(&ctx, move || {
        started_tx.send(()).unwrap();
        let _ = release.recv(); // still running while stop is called
    });
    cancel.cancel();
    assert_eq!(started.recv_timeout(SOON), Ok(()));
    assert!(!stop.stop(), "f already started: stop() = false");
    assert!(!stop.stop());
    drop(release_tx);
}

/// f runs exactly once, however many times and ways the context is ended.
#[test]
fn after_func_runs_once() {
    let (parent, pcancel) = context::with_cancel(&context::background());
    let (ctx, cancel) = context::with_timeout(&parent, Duration::from_millis(5));
    let runs = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = gochan::unbounded::<()>();
    let r = runs.clone();
    let _stop = context::after_func(&ctx, move || {
        r.fetch_add(1, Ordering::SeqCst);
        tx.send(()).unwrap();
    });
    cancel.cancel();
    cancel.cancel();
    pcancel.cancel();
    assert_eq!(rx.recv_timeout(SOON), Ok(()));
    thread::sleep(Duration::from_millis(30)); // past the deadline too
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert!(rx.try_recv().is_err());
}

/// f observes the ended context: `err()` and `cause()` are set when f runs.
#[test]
fn after_func_sees_err_and_cause() {
    let (ctx, cancel) = context::with_cancel_cause(&context::background());
    let (tx, rx) = gochan::bounded::<(Option<Error>, String)>(1);
    let c = ctx.clone();
    let _stop = context::after_func(&ctx, move || {
        let cause = context::cause(&c)
            .map(|e| e.to_string())
            .unwrap_or_default();
        tx.send((c.err(), cause)).unwrap();
    });
    cancel.cancel("shutting down");
    assert_eq!(
        rx.recv_timeout(SOON),
        Ok((Some(Error::Canceled), "shutting down".to_string()))
    );
}

/// On a context that can never end (Background, TODO, WithoutCancel of an ended
/// context) f never runs, and stop reports that it prevented the run.
#[test]
fn after_func_never_cancelled_never_runs() {
    let runs = Arc::new(AtomicUsize::new(0));
    let (parent, pcancel) = context::with_cancel(&context::background());
    let detached = context::without_cancel(&parent);
    pcancel.cancel();
    let mut stops = Vec::new();
    for ctx in [context::background(), context::todo(), detached] {
        let r = runs.clone();
        stops.push(context::after_func(&ctx, move || {
            r.fetch_add(1, Ordering::SeqCst);
        }));
        let r = runs.clone();
        drop(context::after_func(&ctx, move || {
            r.fetch_add(1, Ordering::SeqCst);
        }));
    }
    thread::sleep(A_WHILE);
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    for s in &stops {
        assert!(s.stop(), "f never ran: stop() = true");
        assert!(!s.stop());
    }
}

/// Several AfterFuncs on one context: each runs exactly once; stopped ones never do.
#[test]
fn multiple_after_funcs() {
    const N: usize = 16;
    let (ctx, cancel) = context::with_cancel(&context::background());
    let counts: Arc<Vec<AtomicUsize>> = Arc::new((0..N).map(|_| AtomicUsize::new(0)).collect());
    let (tx, rx) = gochan::unbounded::<usize>();
    let mut stops = Vec::new();
    for i in 0..N {
        let (counts, tx) = (counts.clone(), tx.clone());
        stops.push(context::after_func(&ctx, move || {
            counts[i].fetch_add(1, Ordering::SeqCst);
            tx.send(i).unwrap();
        }));
    }
    drop(tx);
    assert_eq!(ctx.child_count(), N);
    for s in stops.iter().step_by(4) {
        assert!(s.stop());
    }
    assert_eq!(ctx.child_count(), N - N / 4);
    cancel.cancel();
    assert_eq!(ctx.child_count(), 0);
    let mut ran: Vec<usize> = Vec::new();
    // The channel closes once every f (run or dropped by stop) is gone.
    loop {
        match rx.recv_timeout(SOON) {
            Ok(i) => ran.push(i),
            Err(RecvTimeoutError::Closed) => break,
            Err(RecvTimeoutError::Timeout) => panic!("after funcs did not all finish: {ran:?}"),
        }
    }
    ran.sort_unstable();
    let want: Vec<usize> = (0..N).filter(|i| i % 4 != 0).collect();
    assert_eq!(ran, want);
    for (i, c) in counts.iter().enumerate() {
        assert_eq!(c.load(Ordering::SeqCst), usize::from(i % 4 != 0), "f{i}");
    }
}

/// AfterFunc on a context deep in a chain (through value and cancel nodes) runs when
/// the root is cancelled; one on a child runs when only the child is cancelled, and
/// the root's does not.
#[test]
fn after_func_child_context_chain() {
    let (root, root_cancel) = context::with_cancel(&context::background());
    let v = context::with_value(&root, "v");
    let (child, child_cancel) = context::with_cancel(&v);
    let (grandchild, _gc) =
        context::with_timeout(&context::with_value(&child, 1u8), Duration::from_secs(3600));

    let (tx, rx) = gochan::unbounded::<&'static str>();
    let t = tx.clone();
    let _a_root = context::after_func(&root, move || t.send("root").unwrap());
    let t = tx.clone();
    let _a_val = context::after_func(&v, move || t.send("value").unwrap());
    let t = tx.clone();
    let _a_child = context::after_func(&child, move || t.send("child").unwrap());
    let t = tx.clone();
    let _a_gc = context::after_func(&grandchild, move || t.send("grandchild").unwrap());
    drop(tx);
    assert_eq!(
        root.child_count(),
        3,
        "child, after_func(root), after_func(value)"
    );
    assert_eq!(child.child_count(), 2, "grandchild, after_func(child)");

    child_cancel.cancel();
    let mut got = vec![
        rx.recv_timeout(SOON).unwrap(),
        rx.recv_timeout(SOON).unwrap(),
    ];
    got.sort_unstable();
    assert_eq!(got, ["child", "grandchild"]);
    assert_eq!(rx.recv_timeout(A_WHILE), Err(RecvTimeoutError::Timeout));
    assert_eq!(root.child_count(), 2);

    root_cancel.cancel();
    let mut got = vec![
        rx.recv_timeout(SOON).unwrap(),
        rx.recv_timeout(SOON).unwrap(),
    ];
    got.sort_unstable();
    assert_eq!(got, ["root", "value"]);
    assert_eq!(root.child_count(), 0);
}

/// Dropping the `AfterFunc` handle does not stop f (Go: not calling stop).
#[test]
fn dropped_handle_still_runs() {
    let (ctx, cancel) = context::with_cancel(&context::background());
    let (tx, rx) = gochan::bounded::<()>(1);
    drop(context::after_func(&ctx, move || tx.send(()).unwrap()));
    assert_eq!(ctx.child_count(), 1, "still registered");
    cancel.cancel();
    assert_eq!(rx.recv_timeout(SOON), Ok(()));
}

/// stop racing cancel: exactly one of "stop returned true" and "f ran" happens.
#[test]
fn stop_cancel_race_exactly_once() {
    for i in 0..300 {
        let (ctx, cancel) = context::with_cancel(&context::background());
        let runs = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = gochan::bounded::<()>(1);
        let r = runs.clone();
        let stop = context::after_func(&ctx, move || {
            r.fetch_add(1, Ordering::SeqCst);
            tx.send(()).unwrap();
        });
        let h = thread::spawn(move || cancel.cancel());
        let stopped = stop.stop();
        h.join().unwrap();
        if stopped {
            // f was dropped unrun: its sender is gone, so the channel reports closed.
            assert_eq!(
                rx.recv_timeout(SOON),
                Err(RecvTimeoutError::Closed),
                "iter {i}"
            );
            assert_eq!(runs.load(Ordering::SeqCst), 0, "iter {i}: stopped but ran");
        } else {
            assert_eq!(
                rx.recv_timeout(SOON),
                Ok(()),
                "iter {i}: not stopped, never ran"
            );
            assert_eq!(runs.load(Ordering::SeqCst), 1, "iter {i}");
        }
        assert_eq!(ctx.child_count(), 0, "iter {i}");
    }
}

/// Go: `TestCustomContextAfterFuncAfterFunc` / `...UnregisterAfterFunc`: AfterFunc on a
/// context adapted from another cancellation source (`cancel_when`) runs when the
/// source fires, and stopping it unregisters it.
#[test]
fn after_func_on_adapted_context() {
    let (src_tx, src_rx) = gochan::bounded::<()>(1);
    let (ctx0, watch) = context::cancel_when(&context::background(), async move {
        let _ = src_rx.recv_async().await;
    });
    let stop = context::after_func(&ctx0, || {});
    assert_eq!(ctx0.child_count(), 1);
    assert!(stop.stop());
    assert_eq!(ctx0.child_count(), 0);

    let (donec_tx, donec) = gochan::bounded::<()>(1);
    let _stop = context::after_func(&ctx0, move || donec_tx.send(()).unwrap());
    src_tx.send(()).unwrap();
    futures::executor::block_on(watch);
    assert_eq!(donec.recv_timeout(SOON), Ok(()));
}
