//! Ports of golang.org/x/sync's singleflight_test.go to `gochan::group::SingleFlight`,
//! plus its async form.

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::thread;
use std::time::Duration;

use gochan::group::{FlightResult, SingleFlight, WaitGroup};

fn poll_once<F: Future + ?Sized>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    let waker = futures::task::noop_waker();
    fut.poll(&mut TaskContext::from_waker(&waker))
}

/// singleflight.TestDo.
#[test]
fn do_call() {
    let g = SingleFlight::<&str, String>::new();
    let (v, shared) = g.do_call("key", || "bar".to_string());
    assert_eq!(v, "bar");
    assert!(!shared);
}

#[derive(Debug)]
struct SomeError;

impl std::fmt::Display for SomeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Some error")
    }
}

impl std::error::Error for SomeError {}

/// singleflight.TestDoErr: the function's error comes back as is (Go compares the error
/// value itself; here the very same `Arc`).
#[test]
fn do_err() {
    let g = SingleFlight::<&str, Result<String, Arc<SomeError>>>::new();
    let some_err = Arc::new(SomeError);
    let e2 = some_err.clone();
    let (v, _) = g.do_call("key", move || Err(e2));
    let err = v.unwrap_err();
    assert!(Arc::ptr_eq(&err, &some_err), "got a different error: {err}");
}

/// singleflight.TestDoDupSuppress: callers arriving while a call is in flight share it.
#[test]
fn do_dup_suppress() {
    let g = Arc::new(SingleFlight::<&str, String>::new());
    let (wg1, wg2) = (WaitGroup::new(), WaitGroup::new());
    let (c_tx, c_rx) = gochan::bounded::<String>(1);
    let calls = Arc::new(AtomicUsize::new(0));
    let shared_seen = Arc::new(AtomicUsize::new(0));
    const N: usize = 10;
    wg1.add(1);
    for _ in 0..N {
        wg1.add(1);
        wg2.add(1);
        let (g, wg1, wg2) = (g.clone(), wg1.clone(), wg2.clone());
        let (c_tx, c_rx, calls) = (c_tx.clone(), c_rx.clone(), calls.clone());
        let shared_seen = shared_seen.clone();
        thread::spawn(move || {
            let wg1b = wg1.clone();
            wg1.done();
            let (v, shared) = g.do_call("key", move || {
                if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    wg1b.done(); // first invocation
                }
                let v = c_rx.recv().unwrap();
                c_tx.send(v.clone()).unwrap(); // pump; make available for any future calls
                thread::sleep(Duration::from_millis(10)); // let more goroutines enter Do
                v
            });
            assert_eq!(v, "bar");
            if shared {
                shared_seen.fetch_add(1, Ordering::SeqCst);
            }
            wg2.done();
        });
    }
    wg1.wait();
    // At least one thread is in the function now and all of them have at least reached
    // the line before `do_call`.
    c_tx.send("bar".to_string()).unwrap();
    let w = wg2.clone();
    common::within(10, move || w.wait()).expect("do_call hung");
    let got = calls.load(Ordering::SeqCst);
    assert!(
        got > 0 && got < N,
        "number of calls = {got}; want over 0 and less than {N}"
    );
    assert!(
        shared_seen.load(Ordering::SeqCst) >= 2,
        "some results were shared"
    );
}

/// singleflight.TestForget: after `forget`, a new call starts even though the first is
/// still in flight; when the first finishes it must not remove the second from the map,
/// so a third call joins the second.
#[test]
fn forget() {
    let g = SingleFlight::<&str, i32>::new();
    let (first_started_tx, first_started) = gochan::bounded::<()>(0);
    let (unblock_first, unblock_first_rx) = gochan::bounded::<()>(0);
    let (first_finished_tx, first_finished) = gochan::bounded::<()>(0);
    let g1 = g.clone();
    thread::spawn(move || {
        g1.do_call("key", || {
            first_started_tx.close();
            let _ = unblock_first_rx.recv();
            first_finished_tx.close();
            1
        })
    });
    let _ = first_started.recv();
    g.forget("key");

    let (unblock_second, unblock_second_rx) = gochan::bounded::<()>(0);
    let second_result = g.do_chan("key", move || {
        let _ = unblock_second_rx.recv();
        2
    });

    unblock_first.close();
    let _ = first_finished.recv();

    let third_result = g.do_chan("key", || 3);

    unblock_second.close();
    second_result.recv().unwrap();
    let r = third_result.recv().unwrap();
    assert_eq!(
        r.val, 2,
        "we should receive the result produced by the second call"
    );
}

/// singleflight.TestDoChan.
#[test]
fn do_chan() {
    let g = SingleFlight::<&str, String>::new();
    let ch = g.do_chan("key", || "bar".to_string());
    let res = ch.recv().unwrap();
    assert_eq!(
        res,
        FlightResult {
            val: "bar".to_string(),
            shared: false
        }
    );
    assert!(ch.recv().is_err(), "one result, then the channel is closed");
}

/// singleflight.TestPanicDo: every caller sees the panic (re-raised in each), and none
/// hangs.
#[test]
fn panic_do() {
    let g = SingleFlight::<&str, String>::new();
    const N: usize = 5;
    let panics = common::within(5, move || {
        let handles: Vec<_> = (0..N)
            .map(|_| {
                let g = g.clone();
                thread::spawn(move || {
                    g.do_call("key", || {
                        thread::sleep(Duration::from_millis(20)); // let the others join
                        panic!("invalid memory address or nil pointer dereference")
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_err())
            .collect::<Vec<_>>()
    })
    .expect("do_call hangs");
    assert_eq!(panics.len(), N, "expect {N} panics");
    for p in panics {
        assert_eq!(
            p.downcast_ref::<&str>(),
            Some(&"invalid memory address or nil pointer dereference")
        );
    }
}

/// singleflight.TestGoexitDo, the Rust way: the call's leader goes away without a result
/// (an async leader whose future is dropped; Go's `runtime.Goexit` in the function).
/// No waiter hangs: they start over, one runs its own function, the others share it.
#[test]
fn goexit_do_abandoned_leader() {
    let g = SingleFlight::<&str, u32>::new();
    let mut leader = Box::pin(g.do_async("key", futures::future::pending::<u32>()));
    assert!(poll_once(leader.as_mut()).is_pending()); // the call is in flight
    let calls = Arc::new(AtomicUsize::new(0));
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let (g, calls) = (g.clone(), calls.clone());
            thread::spawn(move || {
                g.do_call("key", || {
                    calls.fetch_add(1, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(50));
                    99
                })
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(50)); // let them join the leader's call
    drop(leader);
    let results = common::within(10, move || {
        waiters
            .into_iter()
            .map(|w| w.join().unwrap())
            .collect::<Vec<_>>()
    })
    .expect("a waiter hung after its leader went away");
    assert!(results.iter().all(|&(v, _)| v == 99), "{results:?}");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "one waiter ran, the others shared"
    );
    assert!(results.iter().all(|&(_, shared)| shared), "{results:?}");
}

/// A `do_chan` caller that joined an async call abandoned by its leader gets its own
/// function run instead (Go's DoChan waiters get `errGoexit`).
#[test]
fn do_chan_waiter_restarts_after_abandon() {
    let g = SingleFlight::<&str, u32>::new();
    let mut leader = Box::pin(g.do_async("key", futures::future::pending::<u32>()));
    assert!(poll_once(leader.as_mut()).is_pending());
    let ch = g.do_chan("key", || 5); // joins the call in flight
    thread::sleep(Duration::from_millis(10));
    assert!(ch.try_recv().is_err(), "joined: nothing yet");
    drop(leader);
    let r = ch
        .recv_timeout(Duration::from_secs(5))
        .expect("the do_chan waiter's function runs after the abandon");
    assert_eq!(
        r,
        FlightResult {
            val: 5,
            shared: false
        }
    );
}

/// singleflight.TestPanicDoChan and TestPanicDoSharedByDoChan: Go crashes the process
/// (a DoChan panic cannot be recovered); here the channel closes without a value, and
/// the joining caller's function is never run.
#[test]
fn panic_do_chan() {
    let g = SingleFlight::<&str, String>::new();
    let ch = g.do_chan("", || panic!("Panicking in DoChan"));
    assert!(ch.recv_timeout(Duration::from_secs(5)).is_err());

    let (blocked_tx, blocked) = gochan::bounded::<()>(0);
    let (unblock, unblock_rx) = gochan::bounded::<()>(0);
    let g1 = g.clone();
    let doer = thread::spawn(move || {
        g1.do_call("", || {
            blocked_tx.close();
            let _ = unblock_rx.recv();
            panic!("Panicking in Do")
        })
    });
    let _ = blocked.recv();
    let ch = g.do_chan("", || panic!("DoChan unexpectedly executed callback"));
    unblock.close();
    assert!(ch.recv_timeout(Duration::from_secs(5)).is_err());
    let p = doer.join().unwrap_err();
    assert_eq!(p.downcast_ref::<&str>(), Some(&"Panicking in Do"));
}

/// `do_async`: callers of one key share one future's result, across threads.
#[test]
fn do_async_dup_suppress() {
    let g = SingleFlight::<u8, String>::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = gochan::bounded::<()>(0);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (g, calls, rx) = (g.clone(), calls.clone(), rx.clone());
            thread::spawn(move || {
                futures::executor::block_on(g.do_async(1, async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    let _ = rx.recv_async().await;
                    "shared".to_string()
                }))
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(50));
    tx.close();
    for h in handles {
        assert_eq!(h.join().unwrap().0, "shared");
    }
    assert!(
        calls.load(Ordering::SeqCst) < 4,
        "some callers shared a call"
    );
}

/// `do_async`: a panicking future reaches every waiting caller.
#[test]
fn do_async_panic_reaches_waiters() {
    let g = SingleFlight::<u8, u8>::new();
    let (tx, rx) = gochan::bounded::<()>(0);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        futures::executor::block_on(futures::future::join3(
            async {
                let r = std::panic::AssertUnwindSafe(g.do_async(1, async {
                    let _ = rx.recv_async().await;
                    panic!("{}", String::from("async boom"))
                }));
                futures::FutureExt::catch_unwind(r).await
            },
            async {
                let r = std::panic::AssertUnwindSafe(g.do_async(1, async { 0 }));
                futures::FutureExt::catch_unwind(r).await
            },
            async { tx.close() },
        ))
    }));
    let (a, b, _) = r.unwrap();
    for p in [a.unwrap_err(), b.unwrap_err()] {
        assert_eq!(
            p.downcast_ref::<String>().map(String::as_str),
            Some("async boom")
        );
    }
}
