//! loom models of the channel engine's state machines. Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test -p gochan --release --test loom_chan`
//! (see docs/loom.md).
#![cfg(loom)]

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll};

use loom::thread;

fn noop_cx() -> Context<'static> {
    Context::from_waker(futures::task::noop_waker_ref())
}

/// A waker that records whether it was woken (with loom's atomics, so the model sees it).
struct Flag(loom::sync::atomic::AtomicBool);

impl futures::task::ArcWake for Flag {
    fn wake_by_ref(this: &Arc<Self>) {
        this.0.store(true, loom::sync::atomic::Ordering::SeqCst);
    }
}

fn flag() -> (Arc<Flag>, std::task::Waker) {
    let f = Arc::new(Flag(loom::sync::atomic::AtomicBool::new(false)));
    let w = futures::task::waker(f.clone());
    (f, w)
}

fn woken(f: &Flag) -> bool {
    f.0.load(loom::sync::atomic::Ordering::SeqCst)
}

/// Rendezvous hand-off racing close (Go: close wakes a blocked sender with a panic; here
/// with its value back). The send and the receive agree: both succeed with the same
/// value, or both see the channel closed.
#[test]
fn rendezvous_handoff_vs_close() {
    loom::model(|| {
        let (tx, rx) = gochan::bounded::<u32>(0);
        let tx2 = tx.clone();
        let s = thread::spawn(move || tx2.send(7));
        let c = thread::spawn(move || {
            tx.close();
        });
        let got = rx.recv();
        let sent = s.join().unwrap();
        c.join().unwrap();
        match (sent, got) {
            (Ok(()), Ok(7)) => {}
            (Err(e), Err(_)) => assert_eq!(e.into_inner(), 7),
            (s, g) => panic!("inconsistent: send {s:?}, recv {g:?}"),
        }
    });
}

/// Bounded channel full/empty wake-ups: a producer blocked on a full buffer and a
/// consumer blocked on an empty one always wake; FIFO order holds.
#[test]
fn bounded_full_empty_wakeups() {
    loom::model(|| {
        let (tx, rx) = gochan::bounded::<u32>(1);
        let p = thread::spawn(move || {
            tx.send(1).unwrap();
            tx.send(2).unwrap();
        });
        assert_eq!(rx.recv(), Ok(1));
        assert_eq!(rx.recv(), Ok(2));
        p.join().unwrap();
        assert!(rx.recv().is_err()); // the sender is gone
    });
}

/// The last receiver dropped while a sender is blocked: the send fails with its value.
#[test]
fn receiver_drop_vs_blocked_sender() {
    loom::model(|| {
        let (tx, rx) = gochan::bounded::<u32>(0);
        let s = thread::spawn(move || tx.send(9));
        drop(rx);
        assert_eq!(s.join().unwrap().unwrap_err().into_inner(), 9);
    });
}

/// An async receive dropped while a sender hands it a value: the value is not lost, it
/// is given back to the channel and the other receiver gets it.
#[test]
fn async_waiter_drop_vs_handoff() {
    loom::model(|| {
        let (tx, rx) = gochan::bounded::<u32>(0);
        let rx2 = rx.clone();
        let s = thread::spawn(move || tx.send(5));
        let mut fut = Box::pin(rx.recv_async());
        let first = fut.as_mut().poll(&mut noop_cx());
        drop(fut);
        match first {
            Poll::Ready(v) => assert_eq!(v, Ok(5)),
            Poll::Pending => assert_eq!(rx2.recv(), Ok(5)),
        }
        assert!(s.join().unwrap().is_ok());
    });
}

/// An async send dropped while a receiver waits: either the value was delivered (and the
/// receiver has it) or it was not, never half.
#[test]
fn async_send_drop_vs_receiver() {
    loom::model(|| {
        let (tx, rx) = gochan::bounded::<u32>(0);
        let r = thread::spawn(move || rx.recv());
        let mut fut = Box::pin(tx.send_async(3));
        let first = fut.as_mut().poll(&mut noop_cx());
        drop(fut);
        drop(tx);
        let got = r.join().unwrap();
        match first {
            Poll::Ready(Ok(())) => assert_eq!(got, Ok(3)),
            Poll::Ready(Err(_)) => panic!("receiver alive: send cannot fail"),
            Poll::Pending => assert!(got == Ok(3) || got.is_err()),
        }
    });
}

/// "Closed and drained" is final: a value handed to a pending async receive may come back
/// when its future is dropped, so a receiver racing the close waits for the outcome and
/// gets the value back rather than a premature `Err`.
#[test]
fn closed_and_drained_is_final_when_future_drops() {
    loom::model(|| {
        let (tx, rx) = gochan::bounded::<u32>(0);
        let rx2 = rx.clone();
        let mut fut = Box::pin(rx.recv_async());
        assert!(fut.as_mut().poll(&mut noop_cx()).is_pending());
        let s = thread::spawn(move || tx.send(1)); // hands to `fut`, then closes (drop)
        let r = thread::spawn(move || rx2.recv());
        assert!(s.join().unwrap().is_ok());
        drop(fut);
        assert_eq!(r.join().unwrap(), Ok(1));
    });
}

/// The other outcome: the future takes the value; the racing receiver sees closed.
#[test]
fn closed_and_drained_is_final_when_future_takes() {
    loom::model(|| {
        let (tx, rx) = gochan::bounded::<u32>(0);
        let rx2 = rx.clone();
        let mut fut = Box::pin(rx.recv_async());
        assert!(fut.as_mut().poll(&mut noop_cx()).is_pending());
        let s = thread::spawn(move || tx.send(1));
        let r = thread::spawn(move || rx2.recv());
        assert!(s.join().unwrap().is_ok());
        assert_eq!(fut.as_mut().poll(&mut noop_cx()), Poll::Ready(Ok(1)));
        assert!(r.join().unwrap().is_err());
    });
}

/// A weak sender upgrading while the last strong sender drops: either the upgrade wins
/// (and the channel stays open until the upgraded sender is dropped, so its send lands)
/// or it sees `None` and the channel is closed. Never an upgrade of a closed channel.
#[test]
fn weak_upgrade_vs_last_sender_drop() {
    loom::model(|| {
        let (tx, rx) = gochan::bounded::<u32>(1);
        let weak = tx.downgrade();
        let u = thread::spawn(move || match weak.upgrade() {
            Some(tx) => tx.send(9).is_ok(),
            None => false,
        });
        drop(tx);
        let sent = u.join().unwrap();
        assert_eq!(rx.recv().ok(), sent.then_some(9));
        assert!(
            rx.recv().is_err(),
            "closed once every strong sender is gone"
        );
    });
}

/// A pending async receive whose channel closes: the closer finishes the wait node and
/// wakes the task; the next poll reports closed.
#[test]
fn close_vs_pending_async_receive() {
    loom::model(|| {
        let (tx, rx) = gochan::bounded::<u32>(0);
        let (woke, waker) = flag();
        let mut fut = Box::pin(rx.recv_async());
        assert!(fut
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        let c = thread::spawn(move || drop(tx));
        c.join().unwrap();
        assert!(woken(&woke), "the close woke the pending receive");
        assert_eq!(
            fut.as_mut().poll(&mut Context::from_waker(&waker)),
            Poll::Ready(Err(gochan::RecvError))
        );
    });
}

/// A re-poll with a new waker (the future moved to another task) racing the hand-off:
/// the node's waker is replaced under the channel lock, so a re-poll that returns
/// `Pending` is always followed by a wake of the *new* waker.
#[test]
fn waker_change_vs_handoff() {
    loom::model(|| {
        let (tx, rx) = gochan::bounded::<u32>(0);
        let (_old, old_waker) = flag();
        let (new, new_waker) = flag();
        let mut fut = Box::pin(rx.recv_async());
        assert!(fut
            .as_mut()
            .poll(&mut Context::from_waker(&old_waker))
            .is_pending());
        let s = thread::spawn(move || tx.send(8));
        let second = fut.as_mut().poll(&mut Context::from_waker(&new_waker));
        assert!(s.join().unwrap().is_ok());
        match second {
            Poll::Ready(v) => assert_eq!(v, Ok(8)),
            Poll::Pending => {
                assert!(woken(&new), "the hand-off woke the current waker");
                assert_eq!(
                    fut.as_mut().poll(&mut Context::from_waker(&new_waker)),
                    Poll::Ready(Ok(8))
                );
            }
        }
    });
}

/// A pending async send whose receiver side goes away: the send fails with its value,
/// after a wake.
#[test]
fn receiver_drop_vs_pending_async_send() {
    loom::model(|| {
        let (tx, rx) = gochan::bounded::<u32>(0);
        let (woke, waker) = flag();
        let mut fut = Box::pin(tx.send_async(6));
        assert!(fut
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        let d = thread::spawn(move || drop(rx));
        d.join().unwrap();
        assert!(woken(&woke));
        match fut.as_mut().poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(Err(e)) => assert_eq!(e.into_inner(), 6),
            other => panic!("expected the value back, got {other:?}"),
        }
    });
}
