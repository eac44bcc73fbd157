//! Async twins of Go's context tests: waiting for a context with `cancelled().await`,
//! `done().recv_async().await` and `select_async!`, on tokio's multi-thread runtime and
//! on `futures::executor`. Every wait is bounded (5 s) so a lost wake-up fails instead
//! of hanging.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use gochan::context::{self, Error};

const SOON: Duration = Duration::from_secs(5);

async fn bounded<F: std::future::Future>(what: &str, f: F) -> F::Output {
    match tokio::time::timeout(SOON, f).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: not finished within {SOON:?}"),
    }
}

/// Go: `TestWithCancel` / `TestParentFinishesChild`, awaited: `cancelled()` resolves on
/// every context of the tree when the root is cancelled from another task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_cancelled_await_tree() {
    let (root, cancel) = context::with_cancel(&context::background());
    let (child, _c) = context::with_cancel(&context::with_value(&root, 1u8));
    let (timer_child, _t) = context::with_timeout(&root, Duration::from_secs(3600));
    let mut waiters = Vec::new();
    for ctx in [root.clone(), child.clone(), timer_child.clone()] {
        waiters.push(tokio::spawn(async move {
            ctx.cancelled().await;
            ctx.err()
        }));
    }
    tokio::task::yield_now().await;
    tokio::spawn(async move { cancel.cancel() });
    for w in waiters {
        assert_eq!(bounded("waiter", w).await.unwrap(), Some(Error::Canceled));
    }
}

/// `done().recv_async()` resolves with `Err` (closed) once the context ends, whether it
/// ended before or during the wait; `cancelled()` on an ended context is ready at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_done_recv_async() {
    let (ctx, cancel) = context::with_cancel(&context::background());
    let c = ctx.clone();
    let waiter = tokio::spawn(async move { c.done().recv_async().await });
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(!waiter.is_finished());
    thread::spawn(move || cancel.cancel()); // from a plain thread
    assert!(bounded("recv_async", waiter).await.unwrap().is_err());
    assert!(ctx.done().recv_async().await.is_err());
    bounded("cancelled on ended ctx", ctx.cancelled()).await;
}

/// Go: `TestTimeout`, awaited: a deadline wakes an async waiter with `DeadlineExceeded`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_timeout_wakes_waiter() {
    let (ctx, _c) = context::with_timeout(&context::background(), Duration::from_millis(10));
    bounded("deadline", ctx.cancelled()).await;
    assert_eq!(ctx.err(), Some(Error::DeadlineExceeded));
}

/// `select_async!` on a done channel against a work channel: work wins while the context
/// is live, done wins once it is cancelled, and a `default` arm is taken when neither
/// is ready.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_select_async_done_vs_channel() {
    let (ctx, cancel) = context::with_cancel(&context::background());
    let (tx, rx) = gochan::bounded::<u32>(0);

    let producer = tokio::spawn(async move {
        tx.send_async(7).await.unwrap();
        tx
    });
    let got = bounded("work arm", async {
        gochan::select_async! {
            recv(rx) -> v => v.unwrap(),
            recv(ctx.done()) -> _ => panic!("ctx is live"),
        }
    })
    .await;
    assert_eq!(got, 7);
    let _tx = producer.await.unwrap();

    let nothing_ready = gochan::select_async! {
        recv(rx) -> _ => false,
        recv(ctx.done()) -> _ => false,
        default => true,
    };
    assert!(nothing_ready);

    let c = ctx.clone();
    let waiter = tokio::spawn(async move {
        gochan::select_async! {
            recv(rx) -> v => panic!("no value was sent: {v:?}"),
            recv(c.done()) -> r => { assert!(r.is_err()); c.err() }
        }
    });
    tokio::time::sleep(Duration::from_millis(10)).await;
    cancel.cancel();
    assert_eq!(
        bounded("done arm", waiter).await.unwrap(),
        Some(Error::Canceled)
    );
}

/// Many tasks awaiting one context are all woken by one cancel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_many_waiters() {
    let (ctx, cancel) = context::with_cancel(&context::background());
    let woke = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..200 {
        let (c, w) = (ctx.clone(), woke.clone());
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                c.cancelled().await;
            } else {
                let _ = c.done().recv_async().await;
            }
            w.fetch_add(1, Ordering::SeqCst);
        }));
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(woke.load(Ordering::SeqCst), 0);
    cancel.cancel();
    for t in tasks {
        bounded("waiter", t).await.unwrap();
    }
    assert_eq!(woke.load(Ordering::SeqCst), 200);
}

/// Dropping a pending `cancelled()` future (tokio timeout, select) loses nothing: the
/// context still ends normally and later waits still complete. A context that can never
/// end never resolves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_dropped_waits_and_never() {
    let (ctx, cancel) = context::with_cancel(&context::background());
    for _ in 0..20 {
        let r = tokio::time::timeout(Duration::from_millis(1), ctx.cancelled()).await;
        assert!(r.is_err(), "live ctx: cancelled() must stay pending");
    }
    cancel.cancel();
    bounded("after dropped waits", ctx.cancelled()).await;

    let bg = context::background();
    assert!(
        tokio::time::timeout(Duration::from_millis(20), bg.cancelled())
            .await
            .is_err()
    );
    let (p, pc) = context::with_cancel(&bg);
    let detached = context::without_cancel(&p);
    pc.cancel();
    assert!(
        tokio::time::timeout(Duration::from_millis(20), detached.cancelled())
            .await
            .is_err()
    );
}

/// `after_func` + async: f's message is awaited with `recv_async`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_after_func_signal() {
    let (ctx, cancel) = context::with_timeout(&context::background(), Duration::from_secs(3600));
    let (tx, rx) = gochan::bounded::<&'static str>(1);
    let _af = context::after_func(&ctx, move || tx.send("ran").unwrap());
    tokio::spawn(async move { cancel.cancel() });
    assert_eq!(bounded("after_func", rx.recv_async()).await, Ok("ran"));
}

/// `cancel_when` on tokio: the context ends when the source future completes, and the
/// watcher ends (without firing) when the parent is cancelled first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_cancel_when() {
    let (tx, rx) = gochan::bounded::<()>(1);
    let (ctx, watch) = context::cancel_when(&context::background(), async move {
        let _ = rx.recv_async().await;
    });
    let w = tokio::spawn(watch);
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(ctx.err(), None);
    tx.send_async(()).await.unwrap();
    bounded("ctx ends with the source", ctx.cancelled()).await;
    assert_eq!(ctx.err(), Some(Error::Canceled));
    bounded("watcher", w).await.unwrap();

    let (parent, pcancel) = context::with_cancel(&context::background());
    let (ctx, watch) = context::cancel_when(&parent, std::future::pending::<()>());
    let w = tokio::spawn(watch);
    pcancel.cancel();
    bounded("watcher ends with the parent", w).await.unwrap();
    assert_eq!(ctx.err(), Some(Error::Canceled));

    // Dropping the watcher cancels (nothing watches the source any more).
    let (ctx, watch) = context::cancel_when(&context::background(), std::future::pending::<()>());
    drop(watch);
    assert_eq!(ctx.err(), Some(Error::Canceled));
}

/// The same waits on `futures::executor` (no tokio): `cancelled()`,
/// `done().recv_async()`, and `select_async!` over done vs a channel, with the cancel
/// coming from another thread.
#[test]
fn futures_executor_twins() {
    let (ctx, cancel) = context::with_cancel(&context::background());
    let h = thread::spawn(move || {
        thread::sleep(Duration::from_millis(10));
        cancel.cancel();
    });
    futures::executor::block_on(ctx.cancelled());
    assert_eq!(ctx.err(), Some(Error::Canceled));
    h.join().unwrap();

    let (ctx, cancel) = context::with_cancel(&context::background());
    let h = thread::spawn(move || {
        thread::sleep(Duration::from_millis(10));
        drop(cancel); // dropping cancels
    });
    assert!(futures::executor::block_on(ctx.done().recv_async()).is_err());
    h.join().unwrap();

    let (ctx, _c) = context::with_timeout(&context::background(), Duration::from_millis(10));
    let (_tx, rx) = gochan::bounded::<u8>(0);
    let outcome = futures::executor::block_on(async {
        gochan::select_async! {
            recv(rx) -> _ => "work",
            recv(ctx.done()) -> _ => "done",
            recv(gochan::after(SOON)) -> _ => "stuck",
        }
    });
    assert_eq!(outcome, "done");
    assert_eq!(ctx.err(), Some(Error::DeadlineExceeded));

    let (ctx, _c) = context::with_cancel(&context::background());
    let (tx, rx) = gochan::bounded::<u8>(1);
    tx.send(9).unwrap();
    let outcome = futures::executor::block_on(async {
        gochan::select_async! {
            recv(rx) -> v => v.unwrap(),
            recv(ctx.done()) -> _ => 0,
        }
    });
    assert_eq!(outcome, 9);
}

/// `futures::executor::LocalPool`: many local tasks awaiting one context, cancelled from
/// a thread; `run()` returns only when all were woken.
#[test]
fn futures_local_pool_many_waiters() {
    use futures::task::LocalSpawnExt;
    let (ctx, cancel) = context::with_cancel(&context::background());
    let mut pool = futures::executor::LocalPool::new();
    let woke = Arc::new(AtomicUsize::new(0));
    for _ in 0..100 {
        let (c, w) = (ctx.clone(), woke.clone());
        pool.spawner()
            .spawn_local(async move {
                c.cancelled().await;
                w.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
    }
    pool.run_until_stalled();
    assert_eq!(woke.load(Ordering::SeqCst), 0);
    let h = thread::spawn(move || cancel.cancel());
    pool.run();
    h.join().unwrap();
    assert_eq!(woke.load(Ordering::SeqCst), 100);
}

/// `cancelled()` first polled while another thread cancels: never a lost wake-up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_cancelled_races_cancel() {
    for i in 0..300 {
        let (ctx, cancel) = context::with_cancel(&context::background());
        let h = thread::spawn(move || cancel.cancel());
        let what = format!("iter {i}");
        if i % 2 == 0 {
            bounded(&what, ctx.cancelled()).await;
        } else {
            assert!(bounded(&what, ctx.done().recv_async()).await.is_err());
        }
        h.join().unwrap();
    }
}
