//! Second-round group behaviour (issue 12): one first-error core behind every error
//! group, `AsyncErrGroup` with `&self` methods and cancel-safe `wait`, `WaitGroup::go`
//! (Go 1.25) and RAII semaphore permits.

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::thread;
use std::time::Duration;

use gochan::context;
use gochan::group::{AsyncErrGroup, ErrGroup, Semaphore, WaitGroup};

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: Future + ?Sized>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    let waker = futures::task::noop_waker();
    fut.poll(&mut TaskContext::from_waker(&waker))
}

/// A `wait` future dropped midway leaves the tasks in the group: the next `wait` goes on
/// polling them and does not return before they finish.
#[test]
fn async_dropped_wait_keeps_tasks() {
    let (tx, rx) = gochan::bounded::<()>(1);
    let finished = AtomicUsize::new(0);
    let g = AsyncErrGroup::<String>::new(); // after what its futures borrow
    g.go(async {
        let _ = rx.recv_async().await;
        finished.fetch_add(1, Ordering::SeqCst);
        Err("late failure".to_string())
    });
    {
        let mut first = Box::pin(g.wait());
        assert!(poll_once(first.as_mut()).is_pending());
    } // dropped while the task is blocked
    let mut second = Box::pin(g.wait());
    assert!(
        poll_once(second.as_mut()).is_pending(),
        "a later wait must not return while the task still runs"
    );
    assert_eq!(finished.load(Ordering::SeqCst), 0);
    tx.send(()).unwrap();
    assert_eq!(
        futures::executor::block_on(second),
        Err("late failure".to_string())
    );
    assert_eq!(finished.load(Ordering::SeqCst), 1);
}

/// Several `wait` futures polled on different threads at once all return once the tasks
/// are done; the first error goes to exactly one of them (it is moved out, `E` need not be
/// `Clone`).
#[test]
fn async_concurrent_waits_on_threads() {
    for round in 0..50 {
        let g = Arc::new(AsyncErrGroup::<String>::new());
        let (tx, rx) = gochan::bounded::<u32>(0);
        for _ in 0..3 {
            let rx = rx.clone();
            g.go(async move {
                match rx.recv_async().await {
                    Ok(7) => Err("seven".to_string()),
                    _ => Ok(()),
                }
            });
        }
        let waits: Vec<_> = (0..3)
            .map(|_| {
                let g = g.clone();
                thread::spawn(move || futures::executor::block_on(g.wait()))
            })
            .collect();
        for v in [1, 7, 2] {
            tx.send(v).unwrap();
        }
        let results = common::within(10, move || {
            waits
                .into_iter()
                .map(|w| w.join().unwrap())
                .collect::<Vec<_>>()
        })
        .unwrap_or_else(|| panic!("round {round}: a wait hung"));
        let errs: Vec<_> = results.into_iter().filter_map(Result::err).collect();
        assert_eq!(errs, ["seven".to_string()], "round {round}");
    }
}

/// Futures may borrow from the caller's stack: nothing is spawned.
#[test]
fn async_group_futures_borrow() {
    let words = vec!["a".to_string(), "bb".to_string(), "ccc".to_string()];
    let total = AtomicUsize::new(0);
    let g = AsyncErrGroup::<String>::new();
    for w in &words {
        let total = &total;
        g.go(async move {
            total.fetch_add(w.len(), Ordering::SeqCst);
            Ok(())
        });
    }
    futures::executor::block_on(g.wait()).unwrap();
    assert_eq!(total.load(Ordering::SeqCst), 6);
}

/// errgroup: tasks that start more tasks through a shared handle (Go passes `g` to its
/// goroutines). `wait` returns only after the grandchildren finished.
#[test]
fn async_tasks_add_tasks_while_waiting() {
    let g = Arc::new(AsyncErrGroup::<String>::new());
    let done = Arc::new(AtomicUsize::new(0));
    for _ in 0..3 {
        let (g2, done) = (g.clone(), done.clone());
        g.go(async move {
            for _ in 0..2 {
                let done = done.clone();
                g2.go(async move {
                    done.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                });
            }
            Ok(())
        });
    }
    futures::executor::block_on(g.wait()).unwrap();
    assert_eq!(done.load(Ordering::SeqCst), 6);
}

/// errgroup.TestTryGo for the async group: `try_go` fails while the limit is full and
/// succeeds again once `wait` has run the holder.
#[test]
fn async_try_go() {
    let g = AsyncErrGroup::<String>::new();
    g.set_limit(2);
    assert!(g.try_go(async { Ok(()) }));
    assert!(g.try_go(async { Ok(()) }));
    assert!(!g.try_go(async { Err("must not run".to_string()) }));
    futures::executor::block_on(g.wait()).unwrap();
    assert!(g.try_go(async { Ok(()) }));
    futures::executor::block_on(g.wait()).unwrap();
}

/// A panicking member under `set_limit(1)` gives its slot back in every group, and `wait`
/// re-raises the panic after the members queued behind it ran.
#[test]
fn panic_under_limit_gives_slot_back() {
    let ran = Arc::new(AtomicUsize::new(0));
    let r = common::within(10, {
        let ran = ran.clone();
        move || {
            let g = ErrGroup::<String>::new();
            g.set_limit(1);
            g.go(|| panic!("thread member exploded"));
            for _ in 0..3 {
                let ran = ran.clone();
                g.go(move || {
                    ran.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                });
            }
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| g.wait()))
        }
    })
    .expect("ErrGroup::wait hung");
    let payload = r.unwrap_err();
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"thread member exploded")
    );
    assert_eq!(ran.load(Ordering::SeqCst), 3);

    let ran = AtomicUsize::new(0);
    let g = AsyncErrGroup::<String>::new();
    g.set_limit(1);
    g.go(async { panic!("async member exploded") });
    for _ in 0..3 {
        g.go(async {
            ran.fetch_add(1, Ordering::SeqCst);
            Ok(())
        });
    }
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        futures::executor::block_on(g.wait())
    }));
    assert_eq!(
        r.unwrap_err().downcast_ref::<&str>(),
        Some(&"async member exploded")
    );
    assert_eq!(ran.load(Ordering::SeqCst), 3);
}

/// errgroup.SetLimit takes Go's `int`: every group accepts any integer type; a value
/// beyond `isize` (like a negative one) means no limit.
#[test]
fn set_limit_takes_any_integer() {
    let g = ErrGroup::<String>::new();
    g.set_limit(u64::MAX);
    let (tx, rx) = gochan::bounded::<()>(0);
    for _ in 0..8 {
        let rx = rx.clone();
        assert!(g.try_go(move || {
            let _ = rx.recv();
            Ok(())
        }));
    }
    drop(tx);
    g.wait().unwrap();
    g.set_limit(2u8);
    g.set_limit(-1i32);
    g.set_limit(3usize);
    let a = AsyncErrGroup::<String>::new();
    a.set_limit(u64::MAX);
    a.set_limit(2i64);
    a.set_limit(-1isize);
}

/// errgroup's "modify limit while N goroutines in the group are still active" panic,
/// for the async group: futures added under the limit count until they finish.
#[test]
#[should_panic(
    expected = "errgroup: modify limit while 1 goroutines in the group are still active"
)]
fn async_set_limit_while_active_panics() {
    let g = AsyncErrGroup::<String>::new();
    g.set_limit(1);
    g.go(async { Ok(()) });
    g.set_limit(4);
}

/// errgroup: after `wait`, the limit may change again (nothing is active).
#[test]
fn set_limit_after_wait() {
    let g = ErrGroup::<String>::new();
    g.set_limit(1);
    g.go(|| Ok(()));
    g.wait().unwrap();
    g.set_limit(5);
    let a = AsyncErrGroup::<String>::new();
    a.set_limit(1);
    a.go(async { Ok(()) });
    futures::executor::block_on(a.wait()).unwrap();
    a.set_limit(5);
}

/// `ErrGroup::wait_async` dropped midway, then `wait` still waits for the running task.
#[test]
fn err_group_dropped_wait_async() {
    let g = ErrGroup::<String>::new();
    let (tx, rx) = gochan::bounded::<()>(0);
    g.go(move || {
        let _ = rx.recv();
        Err("late".to_string())
    });
    {
        let mut w = Box::pin(g.wait_async());
        assert!(poll_once(w.as_mut()).is_pending());
    }
    let g2 = g.clone();
    let waiter = thread::spawn(move || g2.wait());
    thread::sleep(Duration::from_millis(20));
    assert!(!waiter.is_finished(), "wait returned while the task runs");
    tx.send(()).unwrap();
    assert_eq!(waiter.join().unwrap(), Err("late".to_string()));
}

/// sync.TestWaitGroupGo (Go 1.25): `wg.Go(f)` counts `f` until it returns.
#[test]
fn wait_group_go() {
    let wg = WaitGroup::new();
    let i = Arc::new(AtomicUsize::new(0));
    let i2 = i.clone();
    wg.go(move || {
        i2.fetch_add(1, Ordering::SeqCst);
    });
    wg.wait();
    assert_eq!(i.load(Ordering::SeqCst), 1);
    assert_eq!(wg.count(), 0);
}

/// `WaitGroup::go`: a panicking `f` still counts as done (Go's program would die instead;
/// here `wait` must not hang).
#[test]
fn wait_group_go_panic_is_done() {
    let wg = WaitGroup::new();
    let (tx, rx) = gochan::bounded::<()>(0);
    wg.go(move || {
        let _ = rx.recv();
        panic!("worker exploded");
    });
    wg.go(|| {});
    assert!(wg.count() >= 1);
    drop(tx);
    let w = wg.clone();
    common::within(10, move || w.wait()).expect("wait hung after a panic in wg.go");
    assert_eq!(wg.count(), 0);
}

/// Permits release their weight on drop, also on unwind; `forget` keeps it held.
#[test]
fn permit_released_on_drop_and_unwind() {
    let sem = Semaphore::new(3);
    let bg = context::background();
    let p = sem.acquire_permit(&bg, 2).unwrap();
    assert_eq!((p.weight(), sem.held()), (2, 2));
    assert!(sem.try_acquire_permit(2).is_none());
    drop(p);
    assert_eq!(sem.held(), 0);

    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _p = sem.acquire_permit(&bg, 3).unwrap();
        panic!("while holding the permit");
    }));
    assert!(r.is_err());
    assert_eq!(sem.held(), 0, "the unwind released the permit");

    sem.try_acquire_permit(1).unwrap().forget();
    assert_eq!(sem.held(), 1);
    sem.release(1);
    assert_eq!(sem.held(), 0);
}

/// semaphore.TestWeightedAcquireCanceled with permits: a failed acquire holds nothing,
/// and a permit granted later goes to the next waiter when dropped.
#[test]
fn permit_acquire_cancelled_holds_nothing() {
    let sem = Arc::new(Semaphore::new(1));
    let bg = context::background();
    let held = sem.acquire_permit(&bg, 1).unwrap();
    let (ctx, _c) = context::with_timeout(&bg, Duration::from_millis(10));
    assert_eq!(
        sem.acquire_permit(&ctx, 1).unwrap_err(),
        context::Error::DeadlineExceeded
    );
    assert_eq!(sem.held(), 1);
    let s2 = sem.clone();
    let next = thread::spawn(move || {
        let p = s2.acquire_permit(&context::background(), 1).unwrap();
        p.weight()
    });
    thread::sleep(Duration::from_millis(10));
    drop(held);
    assert_eq!(next.join().unwrap(), 1);
    assert_eq!(sem.held(), 0);
}

/// Async permits: granted in FIFO order; a dropped acquire future takes nothing.
#[test]
fn permit_async() {
    let sem = Semaphore::new(2);
    let bg = context::background();
    let p = futures::executor::block_on(sem.acquire_permit_async(&bg, 2)).unwrap();
    {
        let mut waiting = Box::pin(sem.acquire_permit_async(&bg, 1));
        assert!(poll_once(waiting.as_mut()).is_pending());
    } // dropped while queued
    let mut next = Box::pin(sem.acquire_permit_async(&bg, 2));
    assert!(poll_once(next.as_mut()).is_pending());
    drop(p);
    let p2 = futures::executor::block_on(next).unwrap();
    assert_eq!((p2.weight(), sem.held()), (2, 2));
    drop(p2);
    assert_eq!(sem.held(), 0);
}
