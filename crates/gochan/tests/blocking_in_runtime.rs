//! A blocking gochan call on a thread that runs tokio tasks panics with advice instead of
//! hanging (as tokio's own `blocking_recv` does); where blocking is allowed
//! (`spawn_blocking`, `block_in_place`, plain threads) it blocks as usual, and a call
//! that completes at once never panics.
#![cfg(feature = "tokio")]

mod common;

use std::time::Duration;

use gochan::context;
use gochan::group::WaitGroup;

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn blocking_recv_on_a_worker_panics_naming_the_async_form() {
    let rt = common::tokio_rt();
    let (_tx, rx) = gochan::bounded::<i32>(0);
    let err = rt.block_on(rt.spawn(async move { rx.recv() })).unwrap_err();
    let msg = panic_message(err.into_panic());
    assert!(msg.contains("Receiver::recv"), "{msg}");
    assert!(msg.contains("recv_async"), "{msg}");
}

#[test]
fn blocking_calls_on_a_worker_name_their_async_forms() {
    let rt = common::tokio_rt();
    let (tx, _rx) = gochan::bounded::<i32>(0);
    let err = rt
        .block_on(rt.spawn(async move { tx.send(1) }))
        .unwrap_err();
    assert!(panic_message(err.into_panic()).contains("send_async"));

    let (_tx, rx) = gochan::bounded::<i32>(0);
    let err = rt
        .block_on(rt.spawn(async move {
            gochan::select! { recv(rx) -> _ => () }
        }))
        .unwrap_err();
    assert!(panic_message(err.into_panic()).contains("select_async!"));

    let wg = WaitGroup::new();
    wg.add(1);
    let w = wg.clone();
    let err = rt.block_on(rt.spawn(async move { w.wait() })).unwrap_err();
    assert!(panic_message(err.into_panic()).contains("wait_async"));
    wg.done();

    let sem = std::sync::Arc::new(gochan::group::Semaphore::new(1));
    assert!(sem.try_acquire(1));
    let s2 = sem.clone();
    let err = rt
        .block_on(rt.spawn(async move { s2.acquire(&context::background(), 1) }))
        .unwrap_err();
    assert!(panic_message(err.into_panic()).contains("acquire_async"));
    sem.release(1);
    assert!(
        sem.try_acquire(1),
        "the panicking acquire left no waiter behind"
    );

    let (ctx, _cancel) = context::with_cancel(&context::background());
    let err = rt
        .block_on(rt.spawn(async move { ctx.wait() }))
        .unwrap_err();
    assert!(panic_message(err.into_panic()).contains("cancelled().await"));
}

#[test]
fn current_thread_runtime_is_detected() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (_tx, rx) = gochan::bounded::<i32>(0);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async { rx.recv() })
    }));
    assert!(panic_message(r.unwrap_err()).contains("recv_async"));
}

#[test]
fn calls_that_complete_at_once_are_fine_on_a_worker() {
    let rt = common::tokio_rt();
    rt.block_on(rt.spawn(async {
        let (tx, rx) = gochan::unbounded::<i32>();
        tx.send(1).unwrap(); // never blocks
        assert_eq!(rx.recv(), Ok(1)); // buffered
        let wg = WaitGroup::new();
        wg.wait(); // counter is zero
        let (ctx, cancel) = context::with_cancel(&context::background());
        cancel.cancel();
        ctx.wait(); // already done
        gochan::select! {
            recv(gochan::never::<i32>()) -> _ => unreachable!(),
            default => (),
        }
    }))
    .unwrap();
}

#[test]
fn blocking_is_allowed_in_spawn_blocking_and_block_in_place() {
    let rt = common::tokio_rt();
    rt.block_on(async {
        let (tx, rx) = gochan::bounded::<i32>(0);
        let h = tokio::task::spawn_blocking(move || rx.recv());
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(10));
            tx.send(5).unwrap();
        });
        assert_eq!(h.await.unwrap(), Ok(5));

        let got = tokio::spawn(async {
            let (tx, rx) = gochan::bounded::<i32>(0);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(10));
                tx.send(6).unwrap();
            });
            tokio::task::block_in_place(|| rx.recv())
        })
        .await
        .unwrap();
        assert_eq!(got, Ok(6));
    });
}
