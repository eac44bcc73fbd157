//! Ports of golang.org/x/sync's errgroup and semaphore tests, and of Go's sync.WaitGroup
//! tests, to `gochan::group`.

use std::future::Future;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use gochan::context::{self, Error};
use gochan::group::{AsyncErrGroup, ErrGroup, Semaphore, WaitGroup};

/// sync.TestWaitGroup: two rounds of n workers, wait returns only after all done.
#[test]
fn wait_group_rounds() {
    let wg = WaitGroup::new();
    for _round in 0..2 {
        let done = Arc::new(AtomicUsize::new(0));
        wg.add(16);
        for _ in 0..16 {
            let (wg, done) = (wg.clone(), done.clone());
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(1));
                done.fetch_add(1, Ordering::SeqCst);
                wg.done();
            });
        }
        wg.wait();
        assert_eq!(done.load(Ordering::SeqCst), 16);
    }
}

/// sync.TestWaitGroupMisuse: a negative counter panics with Go's message.
#[test]
#[should_panic(expected = "sync: negative WaitGroup counter")]
fn wait_group_negative_panics() {
    let wg = WaitGroup::new();
    wg.add(1);
    wg.done();
    wg.done();
}

/// WaitGroup::wait_async on tokio and on a bare executor.
#[test]
fn wait_group_async() {
    let wg = WaitGroup::new();
    wg.add(2usize);
    for _ in 0..2 {
        let wg = wg.clone();
        thread::spawn(move || wg.done());
    }
    futures::executor::block_on(wg.wait_async());
    assert_eq!(wg.count(), 0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        wg.add(1);
        let w = wg.clone();
        tokio::spawn(async move { w.done() });
        wg.wait_async().await;
    });
}

/// errgroup.TestZeroGroup: the first error wins; a group with no errors returns Ok.
#[test]
fn zero_group() {
    let err1 = "errgroup_test: 1";
    let err2 = "errgroup_test: 2";
    let cases: Vec<(Vec<Option<&str>>, Option<&str>)> = vec![
        (vec![], None),
        (vec![None], None),
        (vec![Some(err1)], Some(err1)),
        (vec![Some(err1), None], Some(err1)),
        (vec![Some(err1), None, Some(err2)], Some(err1)),
    ];
    for (errs, want) in cases {
        let g = ErrGroup::<&str>::new();
        let mut first_err = None;
        for (i, e) in errs.into_iter().enumerate() {
            g.go(move || e.map_or(Ok(()), Err));
            // Go waits for each result before starting the next, so "first" is defined.
            let got = g.wait().err();
            if first_err.is_none() {
                first_err = got;
            }
            let _ = i;
        }
        assert_eq!(first_err, want);
    }
}

/// errgroup.TestWithContext: the first error cancels the context, with that error as
/// the cause.
#[test]
fn with_context() {
    let err_doom = "group_test: doomed".to_string();
    let cases: Vec<(Vec<Option<String>>, Option<String>)> = vec![
        (vec![], None),
        (vec![None], None),
        (vec![Some(err_doom.clone())], Some(err_doom.clone())),
        (vec![Some(err_doom.clone()), None], Some(err_doom.clone())),
    ];
    for (errs, want) in cases {
        let (g, ctx) = ErrGroup::<String>::with_context(&context::background());
        for e in errs {
            g.go(move || e.map_or(Ok(()), Err));
        }
        assert_eq!(g.wait().err(), want);
        assert!(ctx.is_done(), "wait cancels the context");
        assert_eq!(ctx.err(), Some(Error::Canceled));
        let cause = context::cause(&ctx).unwrap().to_string();
        assert_eq!(cause, want.unwrap_or_else(|| "context canceled".into()));
    }
}

/// errgroup: the first error cancels the context before wait (the other task sees it).
#[test]
fn first_error_cancels_siblings() {
    let (g, ctx) = ErrGroup::<String>::with_context(&context::background());
    let c = ctx.clone();
    g.go(move || {
        c.wait();
        Ok(())
    });
    g.go(|| Err("boom".into()));
    assert_eq!(g.wait(), Err("boom".into()));
    assert_eq!(context::cause(&ctx).unwrap().to_string(), "boom");
}

/// errgroup.TestTryGo: with a limit, TryGo fails while the group is full.
#[test]
fn try_go() {
    let g = ErrGroup::<String>::new();
    let (tx, rx) = gochan::bounded::<()>(0);
    let n = 42;
    g.set_limit(42);
    for i in 0..n {
        let rx = rx.clone();
        assert!(
            g.try_go(move || {
                rx.recv().unwrap();
                Ok(())
            }),
            "try_go {i} should succeed"
        );
    }
    assert!(!g.try_go(|| Err("should not run".into())));
    for _ in 0..n {
        tx.send(()).unwrap();
    }
    g.wait().unwrap();
    g.set_limit(1);
    assert!(g.try_go(|| Ok(())));
    g.wait().unwrap();
}

/// errgroup.TestGoLimit: never more than `limit` tasks at once.
#[test]
fn go_limit() {
    const LIMIT: i64 = 3;
    let g = ErrGroup::<String>::new();
    g.set_limit(LIMIT);
    let active = Arc::new(AtomicI64::new(0));
    for _ in 0..40 {
        let active = active.clone();
        g.go(move || {
            let n = active.fetch_add(1, Ordering::SeqCst) + 1;
            if n > LIMIT {
                return Err(format!("saw {n} active goroutines; want <= {LIMIT}"));
            }
            thread::sleep(Duration::from_micros(200));
            active.fetch_sub(1, Ordering::SeqCst);
            Ok(())
        });
    }
    g.wait().unwrap();
}

/// Changing the limit while tasks run panics like Go.
#[test]
#[should_panic(expected = "errgroup: modify limit while")]
fn set_limit_while_active_panics() {
    let g = ErrGroup::<String>::new();
    g.set_limit(1);
    let (tx, rx) = gochan::bounded::<()>(0);
    g.go(move || {
        let _ = rx.recv();
        Ok(())
    });
    let _keep = tx;
    g.set_limit(2);
}

/// A panicking task: its panic is re-raised by wait, and the context is cancelled.
#[test]
fn panic_is_reraised_by_wait() {
    let (g, ctx) = ErrGroup::<String>::with_context(&context::background());
    g.go(|| panic!("task exploded"));
    g.go(|| Ok(()));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| g.wait()));
    let payload = r.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"task exploded"));
    assert!(ctx.is_done());
}

/// AsyncErrGroup: first error wins, cancels the context; limit respected.
#[test]
fn async_group() {
    let (g, ctx) = AsyncErrGroup::<String>::with_context(&context::background());
    g.set_limit(2);
    let active = Arc::new(AtomicI64::new(0));
    for i in 0..10 {
        let active = active.clone();
        let ctx = ctx.clone();
        g.go(async move {
            let n = active.fetch_add(1, Ordering::SeqCst) + 1;
            assert!(n <= 2, "limit exceeded: {n}");
            if i == 3 {
                active.fetch_sub(1, Ordering::SeqCst);
                return Err(format!("task {i} failed"));
            }
            if i > 3 {
                ctx.cancelled().await;
            }
            active.fetch_sub(1, Ordering::SeqCst);
            Ok(())
        });
    }
    let r = futures::executor::block_on(g.wait());
    assert_eq!(r, Err("task 3 failed".to_string()));
    assert_eq!(context::cause(&ctx).unwrap().to_string(), "task 3 failed");
}

/// semaphore.TestWeighted-style: never more than the size held at once.
#[test]
fn semaphore_bounds_concurrency() {
    let sem = Arc::new(Semaphore::new(4));
    let held = Arc::new(AtomicI64::new(0));
    let ctx = context::background();
    let handles: Vec<_> = (1..=4)
        .map(|w| {
            let (sem, held, ctx) = (sem.clone(), held.clone(), ctx.clone());
            thread::spawn(move || {
                for _ in 0..200 {
                    sem.acquire(&ctx, w).unwrap();
                    let now = held.fetch_add(w, Ordering::SeqCst) + w;
                    assert!(now <= 4, "held {now} > 4");
                    held.fetch_sub(w, Ordering::SeqCst);
                    sem.release(w);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(sem.held(), 0);
}

/// semaphore.TestWeightedAcquireCanceled / TestWeightedTryAcquire.
#[test]
fn semaphore_ctx_cancelled_acquire() {
    let sem = Semaphore::new(2);
    let bg = context::background();
    sem.acquire(&bg, 1).unwrap();
    assert!(sem.try_acquire(1));
    assert!(!sem.try_acquire(1));
    let (ctx, cancel) = context::with_cancel(&bg);
    cancel.cancel();
    assert_eq!(sem.acquire(&ctx, 1), Err(Error::Canceled));
    let (ctx, _c) = context::with_timeout(&bg, Duration::from_millis(10));
    assert_eq!(sem.acquire(&ctx, 1), Err(Error::DeadlineExceeded));
    sem.release(2);
    assert!(sem.try_acquire(2));
    sem.release(2);
}

/// semaphore.TestLargeAcquireDoesntStarve: a big request at the head is not overtaken.
#[test]
fn semaphore_fifo_large_request_not_starved() {
    let sem = Arc::new(Semaphore::new(2));
    let bg = context::background();
    sem.acquire(&bg, 1).unwrap();
    let s2 = sem.clone();
    let big = thread::spawn(move || s2.acquire(&context::background(), 2));
    while sem.held() == 1 && format!("{sem:?}").contains("waiting: 0") {
        thread::yield_now();
    }
    // One unit is free, but the big request waits at the head: small ones must queue.
    assert!(!sem.try_acquire(1));
    sem.release(1);
    big.join().unwrap().unwrap();
    assert_eq!(sem.held(), 2);
    sem.release(2);
}

/// semaphore: releasing more than held panics with x/sync's message.
#[test]
#[should_panic(expected = "semaphore: released more than held")]
fn semaphore_release_too_much() {
    Semaphore::new(1).release(1);
}

/// semaphore: async acquire, and a dropped acquire future withdraws its request.
#[test]
fn semaphore_async_acquire_and_drop() {
    let sem = Semaphore::new(1);
    let bg = context::background();
    futures::executor::block_on(sem.acquire_async(&bg, 1)).unwrap();
    {
        let mut fut = Box::pin(sem.acquire_async(&bg, 1));
        let waker = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(fut.as_mut().poll(&mut cx).is_pending());
    } // dropped while queued
    sem.release(1);
    assert!(
        sem.try_acquire(1),
        "the dropped request must not hold the unit"
    );
    sem.release(1);
}

/// TokioErrGroup (feature `tokio`): tasks on tokio, first error cancels siblings, the limit
/// holds, panics are re-raised by wait.
#[cfg(feature = "tokio")]
#[test]
fn tokio_err_group() {
    use gochan::group::TokioErrGroup;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // The limit holds (no task waits on the context here: with a limit, tasks that
        // hold a slot while waiting for a sibling's error could starve it, in Go too).
        let g = TokioErrGroup::<String>::new();
        g.set_limit(2);
        let active = Arc::new(AtomicI64::new(0));
        for _ in 0..10 {
            let active = active.clone();
            g.go(async move {
                let n = active.fetch_add(1, Ordering::SeqCst) + 1;
                assert!(n <= 2, "limit exceeded: {n}");
                tokio::task::yield_now().await;
                active.fetch_sub(1, Ordering::SeqCst);
                Ok(())
            });
        }
        g.wait().await.unwrap();

        // The first error cancels the context; the siblings waiting on it return.
        let (g, ctx) = TokioErrGroup::<String>::with_context(&context::background());
        for i in 0..10 {
            let ctx = ctx.clone();
            g.go(async move {
                if i == 4 {
                    return Err("task 4 failed".to_string());
                }
                ctx.cancelled().await;
                Ok(())
            });
        }
        assert_eq!(g.wait().await, Err("task 4 failed".to_string()));
        assert_eq!(context::cause(&ctx).unwrap().to_string(), "task 4 failed");

        let g = TokioErrGroup::<String>::new();
        g.go(async { panic!("tokio task exploded") });
        let r = tokio::spawn(async move { g.wait().await }).await;
        assert!(r.unwrap_err().is_panic());
    });
}

/// Misuse: negative semaphore weights and sizes panic clearly (x/sync would corrupt its
/// count); a WaitGroup counter overflow panics instead of wrapping.
#[test]
fn absurd_arguments_panic_clearly() {
    let neg = std::panic::catch_unwind(|| Semaphore::new(-1)).unwrap_err();
    assert!(neg
        .downcast_ref::<String>()
        .unwrap()
        .contains("negative size"));
    let sem = Semaphore::new(1);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sem.try_acquire(-1)));
    assert!(r.is_err());
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sem.release(-5)));
    assert!(r.is_err());
    assert_eq!(sem.held(), 0);
    let wg = WaitGroup::new();
    wg.add(i64::MAX);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| wg.add(1)));
    assert!(r.is_err());
    wg.add(-i64::MAX);
    wg.wait();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| wg.add(u64::MAX)));
    assert!(r.is_err(), "a delta beyond i64 panics");
}
