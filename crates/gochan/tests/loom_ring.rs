//! loom models of the buffered channel's lock-free ring and its SLOW bits
//! (`src/chan/ring.rs`, "The ring" in `src/chan/core.rs`). Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test -p gochan --release --test loom_ring`
//! (see docs/loom.md).
#![cfg(loom)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use loom::thread;

/// A waker that records whether it was woken (with loom's atomics, so the model sees it).
struct Flag(loom::sync::atomic::AtomicBool);

impl futures::task::ArcWake for Flag {
    fn wake_by_ref(this: &Arc<Self>) {
        this.0.store(true, loom::sync::atomic::Ordering::SeqCst);
    }
}

// Rings serve capacities of 2 and more (capacity 1 keeps the locked buffer).

/// A sender blocks on a full ring while a receiver frees a slot (lock-free or under the
/// lock, whichever the interleaving gives): the sender always completes, and the values
/// come out in order (Go: a receive that frees a slot moves the first waiting sender's
/// value in).
#[test]
fn sender_blocking_while_receiver_frees_a_slot() {
    loom::model(|| {
        let (tx, rx) = gochan::bounded::<u32>(2);
        tx.send(0).unwrap();
        tx.send(1).unwrap();
        let s = thread::spawn(move || tx.send(2));
        let r = thread::spawn(move || {
            let a = rx.recv();
            let b = rx.recv();
            let c = rx.recv();
            (a, b, c)
        });
        s.join().unwrap().unwrap();
        assert_eq!(r.join().unwrap(), (Ok(0), Ok(1), Ok(2)));
    });
}

/// A receiver blocks on an empty ring while a lock-free send lands: it always wakes with
/// the value (the SLOW bit and the send's CAS are ordered on one word).
#[test]
fn receiver_blocking_while_sender_fills() {
    loom::model(|| {
        let (tx, rx) = gochan::bounded::<u32>(2);
        let s = thread::spawn(move || {
            tx.send(1).unwrap();
            tx.send(2).unwrap();
        });
        assert_eq!(rx.recv(), Ok(1));
        assert_eq!(rx.recv(), Ok(2));
        s.join().unwrap();
        assert!(rx.recv().is_err());
    });
}

/// Close racing a sender blocked on a full ring and a receiver draining it: the blocked
/// send either lands (and is received before "closed") or fails with its value; nothing
/// buffered is lost, and "closed" is final.
#[test]
fn close_racing_a_blocked_sender() {
    loom::model(|| {
        let (tx, rx) = gochan::bounded::<u32>(2);
        tx.send(0).unwrap();
        tx.send(1).unwrap();
        let tx2 = tx.clone();
        let s = thread::spawn(move || tx2.send(2));
        let c = thread::spawn(move || tx.close());
        let mut got = Vec::new();
        while let Ok(v) = rx.recv() {
            got.push(v);
        }
        let sent = s.join().unwrap();
        c.join().unwrap();
        match sent {
            Ok(()) => assert_eq!(got, [0, 1, 2]),
            Err(e) => {
                assert_eq!(e.into_inner(), 2);
                assert_eq!(got, [0, 1]);
            }
        }
        assert!(rx.try_recv().is_err());
    });
}

/// A select registering on an empty ring while a lock-free send races it: the select
/// either finds the value in its pass or is woken by the send (which found the SLOW bit
/// its registration set); it never sleeps through it.
#[test]
fn select_registration_vs_fast_send() {
    loom::model(|| {
        let (tx, rx) = gochan::bounded::<u32>(2);
        let (_keep, idle) = gochan::bounded::<u32>(2);
        let s = thread::spawn(move || tx.send(5).unwrap());
        let got = gochan::select_biased! {
            recv(rx) -> v => v.ok(),
            recv(idle) -> _ => None,
        };
        assert_eq!(got, Some(5));
        s.join().unwrap();
    });
}

/// An async receive pending on an empty ring while a thread sends twice: the first value
/// goes to the waiting future (hand-off under the lock), the second into the ring once
/// nobody waits; the task is woken and nothing is lost or duplicated.
#[test]
fn pending_async_receive_vs_sends() {
    loom::model(|| {
        let (tx, rx) = gochan::bounded::<u32>(2);
        let flag = Arc::new(Flag(loom::sync::atomic::AtomicBool::new(false)));
        let waker = futures::task::waker(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let mut fut = pin!(rx.recv_async());
        let first = fut.as_mut().poll(&mut cx);
        let s = thread::spawn(move || {
            tx.send(1).unwrap();
            tx.send(2).unwrap();
        });
        let a = match first {
            Poll::Ready(v) => v,
            Poll::Pending => loop {
                if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                    break v;
                }
                thread::yield_now();
            },
        };
        assert_eq!(a, Ok(1));
        s.join().unwrap();
        assert_eq!(rx.try_recv(), Ok(2));
        assert!(rx.try_recv().is_err());
    });
}

/// An unbounded channel's list across a block end (two slots per block under loom): the
/// send of the second value installs the next block while a receiver drains; values come
/// out in order, each once, and every block is freed (loom checks the frees and accesses).
#[test]
fn unbounded_list_across_blocks() {
    loom::model(|| {
        let (tx, rx) = gochan::unbounded::<u32>();
        let s = thread::spawn(move || {
            for i in 0..3 {
                tx.send(i).unwrap();
            }
        });
        for i in 0..3 {
            assert_eq!(rx.recv(), Ok(i));
        }
        s.join().unwrap();
        assert!(rx.recv().is_err());
    });
}

/// Two receivers reading slots of one block while its last slot's reader starts freeing
/// it: the block is freed once, after both reads (the DESTROY hand-over).
#[test]
fn unbounded_block_freed_once_under_concurrent_reads() {
    loom::model(|| {
        let (tx, rx) = gochan::unbounded::<u32>();
        for i in 0..3 {
            tx.send(i).unwrap();
        }
        drop(tx);
        let rx2 = rx.clone();
        let a = thread::spawn(move || rx2.recv().ok());
        let mut got: Vec<u32> = std::iter::from_fn(|| rx.recv().ok()).collect();
        got.extend(a.join().unwrap());
        got.sort_unstable();
        assert_eq!(got, [0, 1, 2]);
    });
}

/// A receiver blocking on an empty list while a lock-free send lands, then close: the
/// receiver wakes with the value, then sees "closed".
#[test]
fn unbounded_receiver_blocking_vs_send_and_close() {
    loom::model(|| {
        let (tx, rx) = gochan::unbounded::<u32>();
        let s = thread::spawn(move || {
            tx.send(7).unwrap();
            drop(tx);
        });
        assert_eq!(rx.recv(), Ok(7));
        assert!(rx.recv().is_err());
        s.join().unwrap();
    });
}

/// A value handed to a pending async receive whose future is then dropped goes back in
/// front of the ring's values (in `buf`, with both SLOW bits set so the lock-free paths
/// cannot pass it): receives see the values in the order they were sent.
#[test]
fn given_back_value_comes_before_the_ring() {
    loom::model(|| {
        let (tx, rx) = gochan::bounded::<u32>(2);
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut fut = Box::pin(rx.recv_async());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        let s = thread::spawn(move || {
            tx.send(1).unwrap();
            tx.send(2).unwrap();
        });
        drop(fut); // it may hold 1, handed over before the drop
        s.join().unwrap();
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(rx.try_recv(), Ok(2));
        assert!(rx.recv().is_err());
    });
}
