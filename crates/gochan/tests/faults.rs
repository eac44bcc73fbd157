//! Fault injection (issue 8): panics in user code at the worst places leave every channel
//! and context usable and consistent.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use gochan::context;

/// A value whose `Drop` panics (once armed) and counts drops.
struct Bomb {
    armed: bool,
    drops: Arc<AtomicUsize>,
}

impl Drop for Bomb {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
        if self.armed && !thread::panicking() {
            panic!("bomb went off");
        }
    }
}

fn quiet<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    catch_unwind(AssertUnwindSafe(f))
}

/// Buffered values whose Drop panics, dropped when the last receiver goes: the panic
/// reaches the dropping thread, and the channel stays consistent (sends fail cleanly).
#[test]
fn panicking_drop_of_buffered_values() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = gochan::bounded::<Bomb>(4);
    tx.send(Bomb {
        armed: true,
        drops: drops.clone(),
    })
    .unwrap();
    let r = quiet(move || drop(rx));
    assert!(
        r.is_err(),
        "the Drop panic surfaces in the thread that dropped the receiver"
    );
    let err = tx
        .try_send(Bomb {
            armed: false,
            drops: drops.clone(),
        })
        .unwrap_err();
    assert!(err.is_closed());
    drop(err);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    assert!(!tx.close() || tx.is_closed());
}

/// A receiver whose thread panics (unwinding drops its `Receiver`) while a sender is
/// blocked: the sender fails with its value instead of blocking forever.
#[test]
fn receiver_thread_panics_while_sender_blocked() {
    let (tx, rx) = gochan::bounded::<u32>(0);
    let (ready_tx, ready_rx) = gochan::bounded::<()>(0);
    let consumer = thread::spawn(move || {
        let _rx = rx;
        ready_rx.recv().unwrap();
        panic!("consumer crashed");
    });
    let producer = thread::spawn(move || tx.send(42));
    thread::sleep(Duration::from_millis(10)); // let the producer block
    ready_tx.send(()).unwrap();
    assert!(consumer.join().is_err());
    let r = producer.join().unwrap();
    assert_eq!(r.unwrap_err().into_inner(), 42);
}

/// A sender thread that panics while others wait on the channel: its `Sender` drop closes
/// nothing while other senders live, and closes the channel when it was the last.
#[test]
fn sender_thread_panics() {
    let (tx, rx) = gochan::bounded::<u32>(0);
    let t = thread::spawn(move || {
        let _tx = tx;
        panic!("producer crashed");
    });
    assert!(t.join().is_err());
    assert!(
        rx.recv().is_err(),
        "the last sender's unwinding closed the channel"
    );
}

/// A panicking select arm body: the select already completed exactly one operation; the
/// channels are untouched otherwise and keep working.
#[test]
fn panic_in_select_arm_body() {
    let (tx, rx) = gochan::bounded::<u32>(1);
    let (tx2, rx2) = gochan::bounded::<u32>(1);
    tx.send(1).unwrap();
    let r = quiet(|| {
        gochan::select_biased! {
            recv(rx) -> _ => panic!("arm body panicked"),
            send(tx2, 9) -> _ => {}
        }
    });
    assert!(r.is_err());
    assert!(
        rx.try_recv().is_err(),
        "the received value was consumed once"
    );
    assert!(rx2.try_recv().is_err(), "the unchosen send did not happen");
    tx.send(2).unwrap();
    assert_eq!(rx.recv(), Ok(2));
}

/// A panicking `after_func` callback runs on its own thread: the context, other
/// callbacks and the cancelling thread are unaffected.
#[test]
fn panicking_after_func_callback() {
    let (ctx, cancel) = context::with_cancel(&context::background());
    let ran = Arc::new(AtomicUsize::new(0));
    let _a = context::after_func(&ctx, || panic!("callback panicked"));
    let r = ran.clone();
    let (done_tx, done_rx) = gochan::bounded::<()>(1);
    let _b = context::after_func(&ctx, move || {
        r.fetch_add(1, Ordering::SeqCst);
        done_tx.send(()).unwrap();
    });
    cancel.cancel(); // must not panic here
    done_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 1);
    assert_eq!(ctx.err(), Some(context::Error::Canceled));
    let (child, _c) = context::with_cancel(&ctx);
    assert!(child.is_done());
}

/// A task dropped mid-`select_async!` (its future dropped at a random await point while a
/// sender races) leaves the channels consistent: every value is received exactly once.
#[test]
fn task_dropped_mid_select_async() {
    let (tx, rx) = gochan::bounded::<u32>(0);
    let (_keep, idle) = gochan::bounded::<u32>(0);
    let producer = thread::spawn(move || {
        for i in 0..2000 {
            tx.send(i).unwrap();
        }
    });
    let mut got = Vec::new();
    let waker = futures::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    while got.len() < 2000 {
        let mut fut = Box::pin(async {
            gochan::select_async! {
                recv(rx) -> v => v.ok(),
                recv(idle) -> _ => None,
            }
        });
        // Poll a few times, then drop it, wherever it is.
        for _ in 0..fastrand_like(got.len()) {
            if let std::task::Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                got.extend(v);
                break;
            }
            thread::yield_now();
        }
        drop(fut);
    }
    producer.join().unwrap();
    got.sort_unstable();
    assert_eq!(got, (0..2000).collect::<Vec<_>>());
    assert!(rx.try_recv().is_err());
}

fn fastrand_like(seed: usize) -> usize {
    1 + (seed.wrapping_mul(2654435761) >> 7) % 4
}

use std::future::Future;

/// An `ErrGroup` task panicking while others block on the group's context: they are
/// released (the context is cancelled) and `wait` re-raises the panic.
#[test]
fn errgroup_panic_releases_siblings() {
    let (g, ctx) = gochan::group::ErrGroup::<String>::with_context(&context::background());
    let c = ctx.clone();
    g.go(move || {
        c.wait();
        Ok(())
    });
    g.go(|| panic!("worker exploded"));
    assert!(quiet(|| g.wait()).is_err());
    assert!(ctx.is_done());
}
