//! loom models of the select commit protocol. Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test -p gochan --release --test loom_select`.
//! Selects here are biased (fixed arm order) so that every loom run is deterministic.
#![cfg(loom)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use loom::thread;

/// Two selects race for one sent value: exactly one receives it; the other sees the
/// close that follows.
#[test]
fn two_selects_race_for_one_sender() {
    loom::model(|| {
        let (tx, rx) = gochan::bounded::<u32>(0);
        let rx2 = rx.clone();
        let (_keep, other) = gochan::bounded::<u32>(0);
        let other2 = other.clone();
        let a = thread::spawn(move || {
            gochan::select_biased! {
                recv(rx) -> v => v.ok(),
                recv(other) -> _ => None,
            }
        });
        let b = thread::spawn(move || {
            gochan::select_biased! {
                recv(rx2) -> v => v.ok(),
                recv(other2) -> _ => None,
            }
        });
        tx.send(1).unwrap();
        tx.close();
        let (ra, rb) = (a.join().unwrap(), b.join().unwrap());
        assert_eq!(ra.into_iter().chain(rb).collect::<Vec<_>>(), [1]);
    });
}

/// A select registering on two channels while one of them is closed: it wakes, and the
/// closed arm reports closed.
#[test]
fn select_registration_vs_close() {
    loom::model(|| {
        let (tx, rx) = gochan::bounded::<u32>(0);
        let (_tx2, rx2) = gochan::bounded::<u32>(0);
        let c = thread::spawn(move || {
            tx.close();
        });
        let closed = gochan::select_biased! {
            recv(rx2) -> _ => false,
            recv(rx) -> v => v.is_err(),
        };
        assert!(closed);
        c.join().unwrap();
    });
}

/// A select with a send arm and a receive arm: exactly one operation happens, and a send
/// that was not chosen did not deliver.
#[test]
fn select_send_exactly_once() {
    loom::model(|| {
        let (tx, rx) = gochan::bounded::<u32>(0);
        let (tx2, rx2) = gochan::bounded::<u32>(0);
        let peer = thread::spawn(move || {
            // Take a value from the select's send arm, unless the select took ours.
            gochan::select_biased! {
                recv(rx) -> v => v.ok(),
                send(tx2, 20) -> _ => None,
            }
        });
        let mine = gochan::select_biased! {
            send(tx, 10) -> r => { r.unwrap(); "sent" },
            recv(rx2) -> v => { assert_eq!(v, Ok(20)); "received" },
        };
        let theirs = peer.join().unwrap();
        match mine {
            "sent" => assert_eq!(theirs, Some(10)),
            _ => assert_eq!(theirs, None),
        }
    });
}

/// An async select dropped while a sender hands it a value: the value goes back to the
/// channel, where another receiver finds it.
#[test]
fn async_select_dropped_during_handoff() {
    loom::model(|| {
        let (tx, rx) = gochan::bounded::<u32>(0);
        let rx_other = rx.clone();
        let (_t, idle) = gochan::bounded::<u32>(0);
        let s = thread::spawn(move || tx.send(4));
        let mut got = None;
        {
            let mut a = gochan::select::__private::RecvArm::new(&rx);
            let mut b = gochan::select::__private::RecvArm::new(&idle);
            let list: &mut [&mut (dyn gochan::select::__private::Arm + Send)] =
                &mut [&mut a, &mut b];
            // SAFETY: the arms stay in place until the future is dropped (below).
            let mut fut = Box::pin(unsafe {
                gochan::select::__private::run_async(
                    list,
                    true,
                    gochan::select::__private::Mode::Block,
                )
            });
            let mut cx = Context::from_waker(futures::task::noop_waker_ref());
            if let Poll::Ready(i) = fut.as_mut().poll(&mut cx) {
                got = i;
            }
            drop(fut);
            if got == Some(0) {
                assert_eq!(a.take(), Ok(4));
            }
        }
        if got.is_none() {
            assert_eq!(rx_other.recv(), Ok(4));
        }
        assert!(s.join().unwrap().is_ok());
    });
}

/// An async select with a send arm, dropped while a receiver claims that arm: the value
/// ends up in exactly one place, the receiver or the arm (never both, never neither).
#[test]
fn async_select_send_arm_drop_vs_claim() {
    loom::model(|| {
        let (tx, rx) = gochan::bounded::<u32>(0);
        let mut arm = gochan::select::__private::SendArm::new(&tx, 5);
        let r;
        {
            let list: &mut [&mut (dyn gochan::select::__private::Arm + Send)] = &mut [&mut arm];
            // SAFETY: the arm stays in place until the future is dropped (below).
            let mut fut = Box::pin(unsafe {
                gochan::select::__private::run_async(
                    list,
                    true,
                    gochan::select::__private::Mode::Block,
                )
            });
            let mut cx = Context::from_waker(futures::task::noop_waker_ref());
            assert!(fut.as_mut().poll(&mut cx).is_pending());
            r = thread::spawn(move || rx.try_recv().ok());
            drop(fut);
        }
        let got = r.join().unwrap();
        let kept = arm.into_value();
        assert!(
            (got == Some(5)) ^ (kept == Some(5)),
            "got {got:?}, kept {kept:?}"
        );
    });
}

/// Go's TestNonblockSelectRace as a model: `c1` holds a value while another thread puts
/// one in `c2` and takes the one in `c1`. At every moment one channel holds a value, so
/// the non-blocking select must never take `default`. Under loom the validated pass gives
/// up after one retry, so this also drives the locked pass (every channel locked in
/// address order).
#[test]
fn nonblock_select_sees_one_moment() {
    nonblock_select_model(1);
}

/// The same over lock-free rings (capacity 2): the validated pass sees the rings' moves
/// through the positions `Chan::version` adds, and the locked pass freezes the rings.
#[test]
fn nonblock_select_sees_one_moment_on_rings() {
    nonblock_select_model(2);
}

fn nonblock_select_model(cap: usize) {
    loom::model(move || {
        let (t1, c1) = gochan::bounded::<u32>(cap);
        let (t2, c2) = gochan::bounded::<u32>(cap);
        t1.send(1).unwrap();
        let (r1, r2) = (c1.clone(), c2.clone());
        // Biased (a random arm order would make the model nondeterministic), `c2` first:
        // the order in which a plain pass can miss both.
        let sel = thread::spawn(move || {
            gochan::select_biased! {
                recv(r2) -> v => v.is_ok(),
                recv(r1) -> v => v.is_ok(),
                default => false,
            }
        });
        t2.send(2).unwrap();
        let _ = c1.try_recv();
        assert!(sel.join().unwrap(), "no channel was ready at one moment");
        drop((t1, t2));
    });
}

/// A select waiter and a plain waiter on one channel: one value goes to exactly one of
/// them (the select decided by its CAS, the plain receive by being popped), and the close
/// that follows reaches the other.
#[test]
fn select_waiter_and_plain_waiter_share_a_channel() {
    loom::model(|| {
        let (tx, rx) = gochan::bounded::<u32>(0);
        let rx2 = rx.clone();
        let (_keep, idle) = gochan::bounded::<u32>(0);
        let a = thread::spawn(move || {
            gochan::select_biased! {
                recv(rx) -> v => v.ok(),
                recv(idle) -> _ => None,
            }
        });
        let b = thread::spawn(move || rx2.recv().ok());
        tx.send(1).unwrap();
        tx.close();
        let (ra, rb) = (a.join().unwrap(), b.join().unwrap());
        assert_eq!(ra.into_iter().chain(rb).collect::<Vec<_>>(), [1]);
    });
}
