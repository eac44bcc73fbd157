//! Weak channel handles (`Sender::downgrade`, `Receiver::downgrade`): they never keep a
//! channel open, so the "a struct holds both ends" leak cannot happen.

mod common;

use std::sync::Arc;
use std::time::Duration;

use gochan::{bounded, unbounded, Receiver, WeakReceiver, WeakSender};

#[test]
fn upgrade_while_strong_handles_live() {
    let (tx, rx) = bounded::<i32>(2);
    let ws: WeakSender<i32> = tx.downgrade();
    let wr: WeakReceiver<i32> = rx.downgrade();
    ws.upgrade().unwrap().send(1).unwrap();
    assert_eq!(wr.upgrade().unwrap().recv(), Ok(1));
    assert_eq!(
        rx.sender_count(),
        1,
        "an upgrade dropped again leaves one sender"
    );
    drop(tx);
    assert!(ws.upgrade().is_none());
    assert!(ws.clone().upgrade().is_none());
    assert!(
        rx.recv().is_err(),
        "weak senders do not keep the channel open"
    );
    drop(rx);
    assert!(wr.upgrade().is_none());
}

/// Shape 1 of the leak issue: a worker blocks on a channel whose sender sits in a struct
/// the worker itself shares. With a strong sender in the struct the worker never wakes;
/// with a weak one, dropping the owner's strong sender ends the worker's loop.
#[test]
fn struct_field_pattern_does_not_leak() {
    struct Shared {
        // The producer side kept by the shared struct: weak, so it does not keep the
        // worker's channel open.
        tx: WeakSender<u32>,
        rx: Receiver<u32>,
    }
    let (tx, rx) = unbounded();
    let shared = Arc::new(Shared {
        tx: tx.downgrade(),
        rx,
    });
    let s = shared.clone();
    let worker = std::thread::spawn(move || {
        let mut sum = 0;
        for v in s.rx.iter() {
            sum += v;
            if let Some(tx) = s.tx.upgrade() {
                if v < 3 {
                    tx.send(v + 1).unwrap(); // work that spawns work
                }
            }
        }
        sum
    });
    tx.send(1).unwrap();
    // Let the chain 1 -> 2 -> 3 run, then drop the only strong sender: the worker's loop
    // ends even though `shared` (holding both ends) lives on.
    common::wait_until("the worker saw 3", || shared.rx.is_empty());
    std::thread::sleep(Duration::from_millis(20));
    drop(tx);
    let sum = common::watchdog(move || worker.join().unwrap());
    assert_eq!(sum, 1 + 2 + 3);
    drop(shared);
}

/// Upgrades racing the drop of the last strong handle: an upgrade either wins (and then
/// its sender keeps the channel open until it is dropped) or sees `None`; the channel
/// closes exactly once, after the last strong sender, never while one lives.
#[test]
fn upgrade_races_last_drop() {
    for _ in 0..2_000 {
        let (tx, rx) = bounded::<u8>(4);
        let weak = tx.downgrade();
        let t = std::thread::spawn(move || match weak.upgrade() {
            Some(tx) => {
                assert!(!tx.is_closed(), "upgraded a closed channel");
                tx.send(7).is_ok()
            }
            None => false,
        });
        drop(tx);
        let sent = t.join().unwrap();
        let got: Vec<u8> = rx.iter().collect();
        assert_eq!(got.len(), sent as usize);
    }
}

#[test]
fn weak_receiver_lets_sends_fail() {
    let (tx, rx) = bounded::<String>(0);
    let weak = rx.downgrade();
    let blocked = std::thread::spawn(move || tx.send("v".to_string()));
    common::wait_until("the sender waits", || {
        let rx = weak.upgrade().unwrap();
        common::debug_count(&format!("{rx:?}"), "waiting_senders") == 1
    });
    drop(rx);
    let err = common::watchdog(move || blocked.join().unwrap()).unwrap_err();
    assert_eq!(err.into_inner(), "v");
    assert!(weak.upgrade().is_none());
}

#[test]
fn weak_handles_are_send_sync_and_debug() {
    fn check<T: Send + Sync + Unpin + Clone + std::fmt::Debug>() {}
    check::<WeakSender<String>>();
    check::<WeakReceiver<String>>();
    let (tx, _rx) = bounded::<u8>(1);
    assert!(format!("{:?}", tx.downgrade()).contains("WeakSender"));
}

/// `CancelFunc::downgrade`: the struct-field pattern. A worker holding the struct (with
/// the weak function) while it waits on the context is released when the owner drops
/// the strong `CancelFunc`; a weak function cancels, but its drop does not.
#[test]
fn weak_cancel_func_in_a_shared_struct() {
    use gochan::context::{self, CancelFuncDropped, Context, WeakCancelFunc};
    struct Service {
        ctx: Context,
        stop: WeakCancelFunc,
    }
    let (ctx, cancel) = context::with_cancel(&context::background());
    let svc = Arc::new(Service {
        ctx,
        stop: cancel.downgrade(),
    });
    drop(svc.stop.clone()); // dropping a weak function does nothing
    assert!(!svc.ctx.is_done());
    let worker = {
        let svc = svc.clone();
        std::thread::spawn(move || svc.ctx.wait())
    };
    std::thread::sleep(Duration::from_millis(20));
    assert!(
        !worker.is_finished(),
        "the context is live: the worker waits"
    );
    drop(cancel);
    worker.join().unwrap();
    assert_eq!(svc.ctx.err(), Some(context::Error::Canceled));
    assert!(context::cause(&svc.ctx).unwrap().is::<CancelFuncDropped>());
    svc.stop.cancel(); // ended already: no effect, no panic

    // And a weak function cancels a live context, with the plain `Canceled` cause.
    let (ctx, _cancel) = context::with_cancel(&context::background());
    let weak = _cancel.downgrade();
    std::thread::spawn(move || weak.cancel()).join().unwrap();
    assert_eq!(ctx.err(), Some(context::Error::Canceled));
    assert!(!context::cause(&ctx).unwrap().is::<CancelFuncDropped>());
}
