//! `TokioErrGroup` (feature `tokio`): a panicking task under `set_limit` gives its slot
//! back, and a `wait()` future dropped midway does not let a later `wait()` return while
//! tasks still run. Each wait is bounded by a timeout so a bug fails instead of hanging.
#![cfg(feature = "tokio")]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gochan::group::TokioErrGroup;

/// errgroup.TestGoLimit meets a panic: with `set_limit(1)`, a task that panics must free
/// its slot, or the tasks queued behind it never start and `wait` hangs.
#[test]
fn panic_under_limit_gives_slot_back() {
    common::tokio_rt().block_on(async {
        let g = Arc::new(TokioErrGroup::<String>::new());
        g.set_limit(1);
        let ran = Arc::new(AtomicUsize::new(0));
        g.go(async { panic!("first task exploded") });
        for _ in 0..3 {
            let ran = ran.clone();
            g.go(async move {
                ran.fetch_add(1, Ordering::SeqCst);
                Ok(())
            });
        }
        let g2 = g.clone();
        let waited = tokio::time::timeout(
            Duration::from_secs(5),
            tokio::spawn(async move { g2.wait().await }),
        )
        .await
        .expect("wait() hung: the panicking task kept its slot");
        let payload = waited.unwrap_err().into_panic();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"first task exploded"));
        assert_eq!(ran.load(Ordering::SeqCst), 3, "the queued tasks ran");
    });
}

/// A `wait()` future dropped midway (here by a timeout) must leave the group intact: a
/// later `wait()` still waits for the task that is still running, and returns its error.
#[test]
fn dropped_wait_does_not_lose_running_tasks() {
    common::tokio_rt().block_on(async {
        let g = TokioErrGroup::<String>::new();
        let (tx, rx) = gochan::bounded::<()>(0);
        g.go(async move {
            let _ = rx.recv_async().await;
            Err("late failure".to_string())
        });
        let first = tokio::time::timeout(Duration::from_millis(20), g.wait()).await;
        assert!(
            first.is_err(),
            "the task is blocked: the first wait times out"
        );
        let second = tokio::time::timeout(Duration::from_millis(50), g.wait()).await;
        assert!(
            second.is_err(),
            "a later wait returned {second:?} while the task still runs"
        );
        tx.send_async(()).await.unwrap();
        let third = tokio::time::timeout(Duration::from_secs(5), g.wait())
            .await
            .expect("the task finished: wait returns");
        assert_eq!(third, Err("late failure".to_string()));
    });
}

/// Tasks that a runtime drops unfinished (here: never polled, the runtime shut down)
/// are done for the group: their slots come back and `wait` returns.
#[test]
fn runtime_shutdown_does_not_hang_wait() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let g = TokioErrGroup::<String>::new();
    g.set_limit(1);
    {
        let _enter = rt.enter();
        for _ in 0..3 {
            g.go(async { Ok(()) });
        }
    }
    drop(rt); // the spawned tasks are dropped unpolled
    let waited = std::thread::spawn(move || {
        let r = futures::executor::block_on(g.wait());
        g.set_limit(5); // nothing active any more
        r
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !waited.is_finished() {
        assert!(
            std::time::Instant::now() < deadline,
            "wait hung on dropped tasks"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    waited.join().unwrap().unwrap();
}

/// errgroup.TestTryGo for tokio: `try_go` fails while the limit is full.
#[test]
fn try_go() {
    common::tokio_rt().block_on(async {
        let g = TokioErrGroup::<String>::new();
        g.set_limit(1u8);
        let (tx, rx) = gochan::bounded::<()>(0);
        assert!(g.try_go(async move {
            let _ = rx.recv_async().await;
            Ok(())
        }));
        assert!(!g.try_go(async { Err("must not run".to_string()) }));
        tx.send_async(()).await.unwrap();
        g.wait().await.unwrap();
        assert!(g.try_go(async { Ok(()) }));
        g.wait().await.unwrap();
        g.set_limit(u64::MAX); // a value beyond isize: no limit ...
        let (tx, rx) = gochan::bounded::<()>(0);
        for _ in 0..8 {
            let rx = rx.clone();
            assert!(g.try_go(async move {
                let _ = rx.recv_async().await;
                Ok(())
            }));
        }
        drop(tx);
        g.wait().await.unwrap();
        g.set_limit(-1i32); // ... as any negative one
    });
}

/// A clone is another handle to the same group: tasks can start more tasks.
#[test]
fn tasks_add_tasks() {
    common::tokio_rt().block_on(async {
        let g = TokioErrGroup::<String>::new();
        let count = Arc::new(AtomicUsize::new(0));
        for _ in 0..4 {
            let (g2, count) = (g.clone(), count.clone());
            g.go(async move {
                let count = count.clone();
                g2.go(async move {
                    count.fetch_add(1, Ordering::SeqCst);
                    Err("grandchild".to_string())
                });
                Ok(())
            });
        }
        assert_eq!(g.wait().await, Err("grandchild".to_string()));
        assert_eq!(count.load(Ordering::SeqCst), 4);
    });
}
