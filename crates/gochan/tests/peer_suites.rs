//! Tests ported from the test suites of peer crates, where their semantics map onto
//! gochan's API: crossbeam-channel (`crossbeam-channel/tests/*.rs`), flume (`tests/*.rs`)
//! and tokio (`tokio/tests/sync_mpsc*.rs`).
//!
//! Where the peers and Go differ, Go wins (gochan's contract): `bounded(0)` is a
//! rendezvous, dropping the last `Sender` closes the channel for good, `tick(0)` is a nil
//! channel (never ready), send values in `select!` are evaluated on entry, and so on.
//! Counts and durations are scaled down from the originals so the whole file runs in a
//! few seconds of a debug build on a loaded two-core machine; orderings that the originals
//! got from long sleeps are made explicit with hand-shakes, so no assertion depends on
//! scheduling (sleeps only make it likely that a party is blocked, for coverage).

#![allow(clippy::bool_assert_comparison, clippy::redundant_clone)]

use std::any::Any;
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use gochan::{
    after, bounded, never, tick, unbounded, Receiver, RecvError, RecvTimeoutError, Select,
    SendError, SendTimeoutError, Sender, TryRecvError, TrySendError,
};

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// A channel of the given flavor: `Some(0)` zero (rendezvous), `Some(n)` array (buffered),
/// `None` list (unbounded).
fn chan<T>(cap: Option<usize>) -> (Sender<T>, Receiver<T>) {
    match cap {
        Some(c) => bounded(c),
        None => unbounded(),
    }
}

/// Calls `f` until it gives `Some`, sleeping a millisecond between tries; panics after
/// 10 s (a generous bound: only a hang gets there).
fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(ms(1));
    }
}

/// Counts drops of its values (per test, so tests can run in parallel).
#[derive(Debug)]
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

// ---------------------------------------------------------------------------------------
// Bodies shared by the zero / array / list flavors (crossbeam has one copy per flavor).
// ---------------------------------------------------------------------------------------

fn spsc_body(cap: Option<usize>, count: usize) {
    let (s, r) = chan(cap);
    thread::scope(|scope| {
        scope.spawn(move || {
            for i in 0..count {
                assert_eq!(r.recv(), Ok(i));
            }
            assert_eq!(r.recv(), Err(RecvError));
        });
        scope.spawn(move || {
            for i in 0..count {
                s.send(i).unwrap();
            }
        });
    });
}

fn mpmc_body(cap: Option<usize>, count: usize, threads: usize) {
    let (s, r) = chan::<usize>(cap);
    let v = (0..count).map(|_| AtomicUsize::new(0)).collect::<Vec<_>>();
    thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                for _ in 0..count {
                    let n = r.recv().unwrap();
                    v[n].fetch_add(1, Ordering::SeqCst);
                }
            });
        }
        for _ in 0..threads {
            scope.spawn(|| {
                for i in 0..count {
                    s.send(i).unwrap();
                }
            });
        }
    });
    assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
    for c in v {
        assert_eq!(c.load(Ordering::SeqCst), threads);
    }
}

fn stress_oneshot_body(cap: Option<usize>, count: usize) {
    for _ in 0..count {
        let (s, r) = chan(cap);
        thread::scope(|scope| {
            scope.spawn(|| r.recv().unwrap());
            scope.spawn(|| s.send(0).unwrap());
        });
    }
}

fn stress_iter_body(cap: Option<usize>, count: usize) {
    let (request_s, request_r) = chan(cap);
    let (response_s, response_r) = chan(cap);
    thread::scope(|scope| {
        scope.spawn(move || {
            let mut total = 0;
            loop {
                for x in response_r.try_iter() {
                    total += x;
                    if total == count {
                        return; // drops response_r: the responder's next send fails
                    }
                }
                // A rendezvous request succeeds only while the responder waits for one.
                if cap == Some(0) {
                    let _ = request_s.try_send(());
                } else {
                    request_s.send(()).unwrap();
                }
            }
        });
        for _ in request_r.iter() {
            if response_s.send(1).is_err() {
                break;
            }
        }
    });
}

fn stress_timeout_two_threads_body(cap: Option<usize>) {
    const COUNT: usize = 20;
    let (s, r) = chan(cap);
    thread::scope(|scope| {
        scope.spawn(|| {
            for i in 0..COUNT {
                if i % 2 == 0 {
                    thread::sleep(ms(5));
                }
                loop {
                    if let Ok(()) = s.send_timeout(i, ms(2)) {
                        break;
                    }
                }
            }
        });
        scope.spawn(|| {
            for i in 0..COUNT {
                if i % 2 == 0 {
                    thread::sleep(ms(5));
                }
                loop {
                    if let Ok(x) = r.recv_timeout(ms(2)) {
                        assert_eq!(x, i);
                        break;
                    }
                }
            }
        });
    });
}

fn drops_body(cap: Option<usize>, additional_max: usize) {
    const RUNS: usize = 10;
    const STEPS: usize = 500;
    let mut rng = fastrand_like(7);
    for _ in 0..RUNS {
        let steps = rng() % STEPS;
        let additional = if additional_max == 0 {
            0
        } else {
            rng() % additional_max
        };
        let drops = Arc::new(AtomicUsize::new(0));
        let (s, r) = chan::<DropCounter>(cap);
        thread::scope(|scope| {
            scope.spawn(|| {
                for _ in 0..steps {
                    r.recv().unwrap();
                }
            });
            scope.spawn(|| {
                for _ in 0..steps {
                    s.send(DropCounter(drops.clone())).unwrap();
                }
            });
        });
        for _ in 0..additional {
            s.try_send(DropCounter(drops.clone())).unwrap();
        }
        assert_eq!(drops.load(Ordering::SeqCst), steps);
        drop(s);
        drop(r);
        assert_eq!(drops.load(Ordering::SeqCst), steps + additional);
    }
}

/// A tiny deterministic generator (xorshift) for the test's random sizes.
fn fastrand_like(seed: u64) -> impl FnMut() -> usize {
    let mut x = seed.max(1);
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x as usize
    }
}

/// `cap`: at least the number of threads (4), or `None`.
fn linearizable_body(cap: Option<usize>) {
    const COUNT: usize = 2_000;
    const THREADS: usize = 4;
    let (s, r) = chan(cap);
    thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                for _ in 0..COUNT {
                    s.send(0).unwrap();
                    // Our own value is in the channel: a receive must find one.
                    r.try_recv().unwrap();
                }
            });
        }
    });
}

/// Both channels always ready: each arm is chosen about half the time.
fn fairness_buffered_body(cap: Option<usize>) {
    const COUNT: usize = 4_000;
    let (s1, r1) = chan::<()>(cap.map(|c| c.max(COUNT)));
    let (s2, r2) = chan::<()>(cap.map(|c| c.max(COUNT)));
    for _ in 0..COUNT {
        s1.send(()).unwrap();
        s2.send(()).unwrap();
    }
    let mut hits = [0usize; 2];
    for _ in 0..COUNT {
        gochan::select! {
            recv(r1) -> _ => hits[0] += 1,
            recv(r2) -> _ => hits[1] += 1,
        }
    }
    assert!(
        hits.iter().all(|x| *x >= COUNT / hits.len() / 2),
        "{hits:?}"
    );
}

fn fairness_duplicates_buffered_body(cap: Option<usize>) {
    const COUNT: usize = 4_000;
    let (s, r) = chan::<()>(cap.map(|c| c.max(COUNT)));
    for _ in 0..COUNT {
        s.send(()).unwrap();
    }
    let mut hits = [0usize; 5];
    for _ in 0..COUNT {
        gochan::select! {
            recv(r) -> _ => hits[0] += 1,
            recv(r) -> _ => hits[1] += 1,
            recv(r) -> _ => hits[2] += 1,
            recv(r) -> _ => hits[3] += 1,
            recv(r) -> _ => hits[4] += 1,
        }
    }
    assert!(
        hits.iter().all(|x| *x >= COUNT / hits.len() / 2),
        "{hits:?}"
    );
}

type Payload = Box<dyn Any + Send>;

fn channel_through_channel_body(cap: Option<usize>, count: usize) {
    let (s, r) = chan::<Payload>(cap);
    thread::scope(|scope| {
        scope.spawn(move || {
            let mut s = s;
            for _ in 0..count {
                let (new_s, new_r) = chan::<Payload>(cap);
                let new_r: Payload = Box::new(Some(new_r));
                s.send(new_r).unwrap();
                s = new_s;
            }
        });
        scope.spawn(move || {
            let mut r = r;
            for _ in 0..count {
                r = r
                    .recv()
                    .unwrap()
                    .downcast_mut::<Option<Receiver<Payload>>>()
                    .unwrap()
                    .take()
                    .unwrap()
            }
        });
    });
}

fn disconnect_wakes_receiver_body(cap: Option<usize>) {
    let (s, r) = chan::<()>(cap);
    thread::scope(|scope| {
        scope.spawn(move || {
            assert_eq!(r.recv(), Err(RecvError));
        });
        scope.spawn(move || {
            thread::sleep(ms(30));
            drop(s);
        });
    });
}

fn recv_after_disconnect_body(cap: Option<usize>) {
    let (s, r) = chan(cap);
    s.send(1).unwrap();
    s.send(2).unwrap();
    s.send(3).unwrap();
    drop(s);
    assert_eq!(r.recv(), Ok(1));
    assert_eq!(r.recv(), Ok(2));
    assert_eq!(r.recv(), Ok(3));
    assert_eq!(r.recv(), Err(RecvError));
}

fn send_after_disconnect_body(cap: Option<usize>) {
    let (s, r) = chan(cap);
    s.send(1).unwrap();
    s.send(2).unwrap();
    s.send(3).unwrap();
    drop(r);
    assert_eq!(s.send(4), Err(SendError(4)));
    assert_eq!(s.try_send(5), Err(TrySendError::Closed(5)));
    assert_eq!(s.send_timeout(6, ms(50)), Err(SendTimeoutError::Closed(6)));
}

/// The receiver waits for `go` (so its first look finds nothing), then polls with
/// `try_recv` while the sender is (most likely) blocked, then sees the close.
fn try_recv_body(cap: Option<usize>) {
    let (s, r) = chan(cap);
    let (go_s, go_r) = bounded::<()>(0);
    thread::scope(|scope| {
        let sender = scope.spawn(move || {
            go_r.recv().unwrap();
            s.send(7).unwrap();
        });
        assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
        go_s.send(()).unwrap();
        thread::sleep(ms(30));
        let v = eventually("a value", || r.try_recv().ok());
        assert_eq!(v, 7);
        sender.join().unwrap();
        assert_eq!(r.try_recv(), Err(TryRecvError::Closed));
    });
}

fn recv_body(cap: Option<usize>) {
    let (s, r) = chan(cap);
    thread::scope(|scope| {
        scope.spawn(move || {
            assert_eq!(r.recv(), Ok(7));
            thread::sleep(ms(20));
            assert_eq!(r.recv(), Ok(8));
            thread::sleep(ms(20));
            assert_eq!(r.recv(), Ok(9));
            assert_eq!(r.recv(), Err(RecvError));
        });
        scope.spawn(move || {
            thread::sleep(ms(30));
            s.send(7).unwrap();
            s.send(8).unwrap();
            s.send(9).unwrap();
        });
    });
}

fn recv_timeout_body(cap: Option<usize>) {
    let (s, r) = chan::<i32>(cap);
    let (go_s, go_r) = bounded::<()>(0);
    thread::scope(|scope| {
        scope.spawn(move || {
            let start = Instant::now();
            assert_eq!(r.recv_timeout(ms(30)), Err(RecvTimeoutError::Timeout));
            assert!(start.elapsed() >= ms(30));
            go_s.send(()).unwrap();
            assert_eq!(r.recv_timeout(ms(5_000)), Ok(7));
            assert_eq!(r.recv_timeout(ms(5_000)), Err(RecvTimeoutError::Closed));
        });
        scope.spawn(move || {
            go_r.recv().unwrap();
            thread::sleep(ms(20));
            s.send(7).unwrap();
        });
    });
}

// ---------------------------------------------------------------------------------------
// crossbeam-channel tests/zero.rs: bounded(0), Go's unbuffered channel.
// ---------------------------------------------------------------------------------------

// crossbeam-channel tests/zero.rs: smoke
#[test]
fn zero_smoke() {
    let (s, r) = bounded(0);
    assert_eq!(s.try_send(7), Err(TrySendError::Full(7)));
    assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
}

// crossbeam-channel tests/zero.rs: capacity
#[test]
fn zero_capacity() {
    let (s, r) = bounded::<()>(0);
    assert_eq!(s.capacity(), Some(0));
    assert_eq!(r.capacity(), Some(0));
}

// crossbeam-channel tests/zero.rs: len_empty_full
#[test]
fn zero_len_empty_full() {
    let (s, r) = bounded(0);
    let check = |s: &Sender<i32>, r: &Receiver<i32>| {
        assert_eq!(s.len(), 0);
        assert!(s.is_empty());
        assert!(s.is_full());
        assert_eq!(r.len(), 0);
        assert!(r.is_empty());
        assert!(r.is_full());
    };
    check(&s, &r);
    thread::scope(|scope| {
        scope.spawn(|| s.send(0).unwrap());
        scope.spawn(|| r.recv().unwrap());
    });
    check(&s, &r);
}

// crossbeam-channel tests/zero.rs: try_recv
#[test]
fn zero_try_recv() {
    try_recv_body(Some(0));
}

// crossbeam-channel tests/zero.rs: recv
#[test]
fn zero_recv() {
    recv_body(Some(0));
}

// crossbeam-channel tests/zero.rs: recv_timeout
#[test]
fn zero_recv_timeout() {
    recv_timeout_body(Some(0));
}

// crossbeam-channel tests/zero.rs: try_send
#[test]
fn zero_try_send() {
    let (s, r) = bounded(0);
    let (go_s, go_r) = bounded::<()>(0);
    thread::scope(|scope| {
        let receiver = scope.spawn(move || {
            go_r.recv().unwrap();
            assert_eq!(r.recv(), Ok(8));
        });
        assert_eq!(s.try_send(7), Err(TrySendError::Full(7)));
        go_s.send(()).unwrap();
        thread::sleep(ms(30));
        // A rendezvous try_send succeeds once the receiver waits.
        eventually("a waiting receiver", || s.try_send(8).ok());
        receiver.join().unwrap(); // the receiver is gone
        assert_eq!(s.try_send(9), Err(TrySendError::Closed(9)));
    });
}

// crossbeam-channel tests/zero.rs: send
#[test]
fn zero_send() {
    let (s, r) = bounded(0);
    thread::scope(|scope| {
        scope.spawn(move || {
            s.send(7).unwrap();
            thread::sleep(ms(20));
            s.send(8).unwrap();
            thread::sleep(ms(20));
            s.send(9).unwrap();
        });
        scope.spawn(move || {
            thread::sleep(ms(30));
            assert_eq!(r.recv(), Ok(7));
            assert_eq!(r.recv(), Ok(8));
            assert_eq!(r.recv(), Ok(9));
        });
    });
}

// crossbeam-channel tests/zero.rs: send_timeout
#[test]
fn zero_send_timeout() {
    let (s, r) = bounded(0);
    let (go_s, go_r) = bounded::<()>(0);
    thread::scope(|scope| {
        let receiver = scope.spawn(move || {
            go_r.recv().unwrap();
            thread::sleep(ms(20));
            assert_eq!(r.recv(), Ok(8));
        });
        let start = Instant::now();
        assert_eq!(s.send_timeout(7, ms(30)), Err(SendTimeoutError::Timeout(7)));
        assert!(start.elapsed() >= ms(30));
        go_s.send(()).unwrap();
        assert_eq!(s.send_timeout(8, ms(5_000)), Ok(()));
        receiver.join().unwrap();
        assert_eq!(
            s.send_timeout(9, ms(5_000)),
            Err(SendTimeoutError::Closed(9))
        );
    });
}

// crossbeam-channel tests/zero.rs: len
#[test]
fn zero_len() {
    const COUNT: usize = 2_000;
    let (s, r) = bounded(0);
    assert_eq!(s.len(), 0);
    assert_eq!(r.len(), 0);
    thread::scope(|scope| {
        scope.spawn(|| {
            for i in 0..COUNT {
                assert_eq!(r.recv(), Ok(i));
                assert_eq!(r.len(), 0);
            }
        });
        scope.spawn(|| {
            for i in 0..COUNT {
                s.send(i).unwrap();
                assert_eq!(s.len(), 0);
            }
        });
    });
    assert_eq!(s.len(), 0);
    assert_eq!(r.len(), 0);
}

// crossbeam-channel tests/zero.rs: disconnect_wakes_sender
#[test]
fn zero_disconnect_wakes_sender() {
    let (s, r) = bounded(0);
    thread::scope(|scope| {
        scope.spawn(move || {
            assert_eq!(s.send(()), Err(SendError(())));
        });
        scope.spawn(move || {
            thread::sleep(ms(30));
            drop(r);
        });
    });
}

// crossbeam-channel tests/zero.rs: disconnect_wakes_receiver
#[test]
fn zero_disconnect_wakes_receiver() {
    disconnect_wakes_receiver_body(Some(0));
}

// crossbeam-channel tests/zero.rs: spsc
#[test]
fn zero_spsc() {
    spsc_body(Some(0), 3_000);
}

// crossbeam-channel tests/zero.rs: mpmc
#[test]
fn zero_mpmc() {
    mpmc_body(Some(0), 500, 4);
}

// crossbeam-channel tests/zero.rs: stress_oneshot
#[test]
fn zero_stress_oneshot() {
    stress_oneshot_body(Some(0), 100);
}

// crossbeam-channel tests/zero.rs: stress_iter
#[test]
fn zero_stress_iter() {
    stress_iter_body(Some(0), 300);
}

// crossbeam-channel tests/zero.rs: stress_timeout_two_threads
#[test]
fn zero_stress_timeout_two_threads() {
    stress_timeout_two_threads_body(Some(0));
}

// crossbeam-channel tests/zero.rs: drops
#[test]
fn zero_drops() {
    drops_body(Some(0), 0);
}

// crossbeam-channel tests/zero.rs: fairness
#[test]
fn zero_fairness() {
    const COUNT: usize = 2_000;
    let (s1, r1) = bounded::<()>(0);
    let (s2, r2) = bounded::<()>(0);
    thread::scope(|scope| {
        scope.spawn(|| {
            let mut hits = [0usize; 2];
            for _ in 0..COUNT {
                gochan::select! {
                    recv(r1) -> _ => hits[0] += 1,
                    recv(r2) -> _ => hits[1] += 1,
                }
            }
            assert!(
                hits.iter().all(|x| *x >= COUNT / hits.len() / 2),
                "{hits:?}"
            );
        });
        let mut hits = [0usize; 2];
        for _ in 0..COUNT {
            gochan::select! {
                send(s1, ()) -> _ => hits[0] += 1,
                send(s2, ()) -> _ => hits[1] += 1,
            }
        }
        assert!(
            hits.iter().all(|x| *x >= COUNT / hits.len() / 2),
            "{hits:?}"
        );
    });
}

// crossbeam-channel tests/zero.rs: fairness_duplicates
#[test]
fn zero_fairness_duplicates() {
    const COUNT: usize = 2_000;
    let (s, r) = bounded::<()>(0);
    thread::scope(|scope| {
        scope.spawn(|| {
            let mut hits = [0usize; 5];
            for _ in 0..COUNT {
                gochan::select! {
                    recv(r) -> _ => hits[0] += 1,
                    recv(r) -> _ => hits[1] += 1,
                    recv(r) -> _ => hits[2] += 1,
                    recv(r) -> _ => hits[3] += 1,
                    recv(r) -> _ => hits[4] += 1,
                }
            }
            assert!(
                hits.iter().all(|x| *x >= COUNT / hits.len() / 2),
                "{hits:?}"
            );
        });
        let mut hits = [0usize; 5];
        for _ in 0..COUNT {
            gochan::select! {
                send(s, ()) -> _ => hits[0] += 1,
                send(s, ()) -> _ => hits[1] += 1,
                send(s, ()) -> _ => hits[2] += 1,
                send(s, ()) -> _ => hits[3] += 1,
                send(s, ()) -> _ => hits[4] += 1,
            }
        }
        assert!(
            hits.iter().all(|x| *x >= COUNT / hits.len() / 2),
            "{hits:?}"
        );
    });
}

// crossbeam-channel tests/zero.rs: recv_in_send
// The send value `r.recv().unwrap()` is evaluated on entering the select (Go's rule, and
// crossbeam's for a blocking select). Waiting receivers are served FIFO: the main thread's
// receive was queued first, so it gets the value of the thread that sends.
#[test]
fn zero_recv_in_send() {
    let (s, r) = bounded(0);
    let (first_s, first_r) = bounded::<()>(0);
    thread::scope(|scope| {
        scope.spawn(|| {
            first_r.recv().unwrap();
            thread::sleep(ms(150));
            r.recv_timeout(ms(5_000)).unwrap()
        });
        scope.spawn(|| {
            first_r.recv().unwrap();
            thread::sleep(ms(300));
            s.send(()).unwrap();
        });
        first_s.send(()).unwrap();
        first_s.send(()).unwrap();
        // (A timeout instead of `recv()`: were this thread not queued first, it would fail
        // instead of hanging.)
        gochan::select! {
            send(s, r.recv_timeout(ms(5_000)).unwrap()) -> res => res.unwrap(),
        }
    });
}

// crossbeam-channel tests/zero.rs: channel_through_channel
#[test]
fn zero_channel_through_channel() {
    channel_through_channel_body(Some(0), 200);
}

// ---------------------------------------------------------------------------------------
// crossbeam-channel tests/array.rs: bounded(n > 0), Go's buffered channel.
// ---------------------------------------------------------------------------------------

// crossbeam-channel tests/array.rs: smoke
#[test]
fn array_smoke() {
    let (s, r) = bounded(1);
    s.send(7).unwrap();
    assert_eq!(r.try_recv(), Ok(7));
    s.send(8).unwrap();
    assert_eq!(r.recv(), Ok(8));
    assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(r.recv_timeout(ms(20)), Err(RecvTimeoutError::Timeout));
}

// crossbeam-channel tests/array.rs: capacity
#[test]
fn array_capacity() {
    for i in 1..10 {
        let (s, r) = bounded::<()>(i);
        assert_eq!(s.capacity(), Some(i));
        assert_eq!(r.capacity(), Some(i));
    }
}

// crossbeam-channel tests/array.rs: len_empty_full
#[test]
fn array_len_empty_full() {
    let (s, r) = bounded(2);
    let check = |len: usize, empty: bool, full: bool| {
        assert_eq!(s.len(), len);
        assert_eq!(s.is_empty(), empty);
        assert_eq!(s.is_full(), full);
        assert_eq!(r.len(), len);
        assert_eq!(r.is_empty(), empty);
        assert_eq!(r.is_full(), full);
    };
    check(0, true, false);
    s.send(()).unwrap();
    check(1, false, false);
    s.send(()).unwrap();
    check(2, false, true);
    r.recv().unwrap();
    check(1, false, false);
}

// crossbeam-channel tests/array.rs: try_recv
#[test]
fn array_try_recv() {
    try_recv_body(Some(100));
}

// crossbeam-channel tests/array.rs: recv
#[test]
fn array_recv() {
    recv_body(Some(100));
}

// crossbeam-channel tests/array.rs: recv_timeout
#[test]
fn array_recv_timeout() {
    recv_timeout_body(Some(100));
}

// crossbeam-channel tests/array.rs: try_send
#[test]
fn array_try_send() {
    let (s, r) = bounded(1);
    let (go_s, go_r) = bounded::<()>(0);
    thread::scope(|scope| {
        let receiver = scope.spawn(move || {
            go_r.recv().unwrap();
            assert_eq!(r.try_recv(), Ok(1));
            assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
            assert_eq!(r.recv(), Ok(3));
        });
        assert_eq!(s.try_send(1), Ok(()));
        assert_eq!(s.try_send(2), Err(TrySendError::Full(2)));
        go_s.send(()).unwrap();
        eventually("room in the buffer", || s.try_send(3).ok());
        receiver.join().unwrap();
        assert_eq!(s.try_send(4), Err(TrySendError::Closed(4)));
    });
}

// crossbeam-channel tests/array.rs: send
#[test]
fn array_send() {
    let (s, r) = bounded(1);
    thread::scope(|scope| {
        scope.spawn(|| {
            s.send(7).unwrap();
            thread::sleep(ms(20));
            s.send(8).unwrap();
            thread::sleep(ms(20));
            s.send(9).unwrap();
            thread::sleep(ms(20));
            s.send(10).unwrap(); // `r` is borrowed, still alive: buffered
        });
        scope.spawn(|| {
            thread::sleep(ms(30));
            assert_eq!(r.recv(), Ok(7));
            assert_eq!(r.recv(), Ok(8));
            assert_eq!(r.recv(), Ok(9));
        });
    });
    assert_eq!(r.try_recv(), Ok(10));
}

// crossbeam-channel tests/array.rs: send_timeout
#[test]
fn array_send_timeout() {
    let (s, r) = bounded(2);
    let (go_s, go_r) = bounded::<()>(0);
    thread::scope(|scope| {
        let receiver = scope.spawn(move || {
            go_r.recv().unwrap();
            assert_eq!(r.recv(), Ok(1));
            thread::sleep(ms(20));
            assert_eq!(r.recv(), Ok(2));
            assert_eq!(r.recv(), Ok(4));
        });
        assert_eq!(s.send_timeout(1, ms(5_000)), Ok(()));
        assert_eq!(s.send_timeout(2, ms(5_000)), Ok(()));
        assert_eq!(s.send_timeout(3, ms(30)), Err(SendTimeoutError::Timeout(3)));
        go_s.send(()).unwrap();
        assert_eq!(s.send_timeout(4, ms(5_000)), Ok(()));
        receiver.join().unwrap();
        assert_eq!(s.send(5), Err(SendError(5)));
    });
}

// crossbeam-channel tests/array.rs: send_after_disconnect
#[test]
fn array_send_after_disconnect() {
    send_after_disconnect_body(Some(100));
}

// crossbeam-channel tests/array.rs: recv_after_disconnect
#[test]
fn array_recv_after_disconnect() {
    recv_after_disconnect_body(Some(100));
}

// crossbeam-channel tests/array.rs: len
#[test]
fn array_len() {
    const COUNT: usize = 5_000;
    const CAP: usize = 1000;
    let (s, r) = bounded(CAP);
    assert_eq!(s.len(), 0);
    assert_eq!(r.len(), 0);
    for _ in 0..CAP / 10 {
        for i in 0..50 {
            s.send(i).unwrap();
            assert_eq!(s.len(), i + 1);
        }
        for i in 0..50 {
            r.recv().unwrap();
            assert_eq!(r.len(), 50 - i - 1);
        }
    }
    assert_eq!(s.len(), 0);
    assert_eq!(r.len(), 0);
    for i in 0..CAP {
        s.send(i).unwrap();
        assert_eq!(s.len(), i + 1);
    }
    for _ in 0..CAP {
        r.recv().unwrap();
    }
    assert_eq!(s.len(), 0);
    assert_eq!(r.len(), 0);
    thread::scope(|scope| {
        scope.spawn(|| {
            for i in 0..COUNT {
                assert_eq!(r.recv(), Ok(i));
                assert!(r.len() <= CAP);
            }
        });
        scope.spawn(|| {
            for i in 0..COUNT {
                s.send(i).unwrap();
                assert!(s.len() <= CAP);
            }
        });
    });
    assert_eq!(s.len(), 0);
    assert_eq!(r.len(), 0);
}

// crossbeam-channel tests/array.rs: disconnect_wakes_sender
#[test]
fn array_disconnect_wakes_sender() {
    let (s, r) = bounded(1);
    thread::scope(|scope| {
        scope.spawn(move || {
            assert_eq!(s.send(()), Ok(()));
            assert_eq!(s.send(()), Err(SendError(())));
        });
        scope.spawn(move || {
            thread::sleep(ms(30));
            drop(r);
        });
    });
}

// crossbeam-channel tests/array.rs: disconnect_wakes_receiver
#[test]
fn array_disconnect_wakes_receiver() {
    disconnect_wakes_receiver_body(Some(1));
}

// crossbeam-channel tests/array.rs: spsc
#[test]
fn array_spsc() {
    spsc_body(Some(3), 10_000);
}

// crossbeam-channel tests/array.rs: mpmc
#[test]
fn array_mpmc() {
    mpmc_body(Some(3), 1_000, 4);
}

// crossbeam-channel tests/array.rs: stress_oneshot
#[test]
fn array_stress_oneshot() {
    stress_oneshot_body(Some(1), 100);
}

// crossbeam-channel tests/array.rs: stress_iter
#[test]
fn array_stress_iter() {
    stress_iter_body(Some(1), 3_000);
}

// crossbeam-channel tests/array.rs: stress_timeout_two_threads
#[test]
fn array_stress_timeout_two_threads() {
    stress_timeout_two_threads_body(Some(2));
}

// crossbeam-channel tests/array.rs: drops
#[test]
fn array_drops() {
    drops_body(Some(50), 50);
}

// crossbeam-channel tests/array.rs: linearizable
#[test]
fn array_linearizable() {
    linearizable_body(Some(4));
}

// crossbeam-channel tests/array.rs: fairness
#[test]
fn array_fairness() {
    fairness_buffered_body(Some(1));
}

// crossbeam-channel tests/array.rs: fairness_duplicates
#[test]
fn array_fairness_duplicates() {
    fairness_duplicates_buffered_body(Some(1));
}

// crossbeam-channel tests/array.rs: recv_in_send
// (The first half, `send(s, panic!())` with `default`, relies on crossbeam evaluating a
// send value only when its arm runs; Go and gochan evaluate it on entry, so it is left
// out.)
#[test]
fn array_recv_in_send() {
    let (s, r) = bounded(2);
    s.send(()).unwrap();
    gochan::select! {
        send(s, assert_eq!(r.recv(), Ok(()))) -> res => res.unwrap(),
    }
    assert_eq!(r.try_recv(), Ok(()));
}

// crossbeam-channel tests/array.rs: channel_through_channel
#[test]
fn array_channel_through_channel() {
    channel_through_channel_body(Some(1), 300);
}

// crossbeam-channel tests/array.rs: panic_on_drop
// The panicking value is the last one buffered: crossbeam leaks the values after the one
// that panicked, which is not a contract of gochan (a second panicking drop while the
// first unwinds would abort the process).
#[test]
fn array_panic_on_drop() {
    // crossbeam's Msg1 (`panics: false`) and Msg2 (`panics: true`) in one type.
    struct Msg {
        drops: Arc<AtomicUsize>,
        panics: bool,
    }
    impl Drop for Msg {
        fn drop(&mut self) {
            if self.drops.fetch_add(1, Ordering::SeqCst) != 0 && !thread::panicking() {
                panic!("double drop");
            }
            if self.panics {
                panic!("first drop");
            }
        }
    }
    let msg = |drops: &Arc<AtomicUsize>, panics| Msg {
        drops: drops.clone(),
        panics,
    };

    // normal
    let (s, r) = bounded(2);
    let (a, b) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    s.send(msg(&a, false)).unwrap();
    s.send(msg(&b, false)).unwrap();
    drop(s);
    drop(r);
    assert_eq!(a.load(Ordering::SeqCst), 1);
    assert_eq!(b.load(Ordering::SeqCst), 1);

    // panic on drop
    let (s, r) = bounded(2);
    let (a, b) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    s.send(msg(&a, false)).unwrap();
    s.send(msg(&b, true)).unwrap();
    drop(s);
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(r)));
    assert_eq!(
        *res.unwrap_err().downcast_ref::<&str>().unwrap(),
        "first drop"
    );
    assert_eq!(a.load(Ordering::SeqCst), 1);
    assert_eq!(b.load(Ordering::SeqCst), 1);
}

// crossbeam-channel tests/array.rs: zero_sender_revival
// crossbeam can make a new sender for a disconnected channel (`Receiver::new_sender`). In
// Go a closed channel stays closed; gochan's nearest API, `WeakSender::upgrade`, gives
// nothing once the last sender is gone.
#[test]
fn array_zero_sender_revival() {
    let (s, r) = bounded::<i32>(1);
    let weak = s.downgrade();
    s.send(1).unwrap();
    drop(s);
    assert_eq!(r.recv(), Ok(1));
    assert_eq!(r.recv(), Err(RecvError));
    assert!(weak.upgrade().is_none());
    assert_eq!(r.recv(), Err(RecvError));
}

// ---------------------------------------------------------------------------------------
// crossbeam-channel tests/array.rs again, on a capacity above gochan's lock-free ring
// (2^20 slots / 4 MiB): such a buffer is a locked queue that grows as it fills, a
// separate code path. (Capacity 1, another path of its own, is covered above by
// `array_smoke`, `array_try_send`, `array_send`, `array_stress_*`, ...)
// ---------------------------------------------------------------------------------------

/// Above the ring's 4 MiB for 8-byte values (16 bytes a slot with its stamp).
const BIG: usize = 300_000;

// crossbeam-channel tests/array.rs: smoke, capacity
#[test]
fn array_big_smoke() {
    let (s, r) = bounded(BIG);
    assert_eq!(s.capacity(), Some(BIG));
    s.send(7usize).unwrap();
    assert_eq!(r.try_recv(), Ok(7));
    s.send(8).unwrap();
    assert_eq!(r.recv(), Ok(8));
    assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(r.recv_timeout(ms(20)), Err(RecvTimeoutError::Timeout));
}

// crossbeam-channel tests/array.rs: len_empty_full, len, try_send
#[test]
fn array_big_len_full() {
    let (s, r) = bounded(BIG);
    for i in 0..BIG {
        assert_eq!(s.try_send(i), Ok(()));
    }
    assert_eq!(s.len(), BIG);
    assert!(s.is_full());
    assert_eq!(s.try_send(BIG), Err(TrySendError::Full(BIG)));
    assert_eq!(
        s.send_timeout(BIG, ms(10)),
        Err(SendTimeoutError::Timeout(BIG))
    );
    assert_eq!(r.recv(), Ok(0));
    assert!(!r.is_full());
    assert_eq!(r.len(), BIG - 1);
    s.send(BIG).unwrap();
    for i in 1..=BIG {
        assert_eq!(r.try_recv(), Ok(i));
    }
    assert!(r.is_empty());
}

// crossbeam-channel tests/array.rs: try_recv, recv, recv_timeout
#[test]
fn array_big_recv_variants() {
    try_recv_body(Some(BIG));
    recv_body(Some(BIG));
    recv_timeout_body(Some(BIG));
}

// crossbeam-channel tests/array.rs: send_after_disconnect, recv_after_disconnect,
// disconnect_wakes_receiver
#[test]
fn array_big_disconnect() {
    send_after_disconnect_body(Some(BIG));
    recv_after_disconnect_body(Some(BIG));
    disconnect_wakes_receiver_body(Some(BIG));
}

// crossbeam-channel tests/array.rs: spsc, mpmc
#[test]
fn array_big_spsc_mpmc() {
    spsc_body(Some(BIG), 10_000);
    mpmc_body(Some(BIG), 1_000, 4);
}

// crossbeam-channel tests/array.rs: stress_iter, stress_timeout_two_threads, drops
#[test]
fn array_big_stress() {
    stress_iter_body(Some(BIG), 3_000);
    stress_timeout_two_threads_body(Some(BIG));
    drops_body(Some(BIG), 50);
}

// crossbeam-channel tests/array.rs: linearizable
#[test]
fn array_big_linearizable() {
    linearizable_body(Some(BIG));
}

// crossbeam-channel tests/array.rs: fairness, fairness_duplicates
#[test]
fn array_big_fairness() {
    fairness_buffered_body(Some(BIG));
    fairness_duplicates_buffered_body(Some(BIG));
}

// ---------------------------------------------------------------------------------------
// crossbeam-channel tests/list.rs: unbounded().
// ---------------------------------------------------------------------------------------

// crossbeam-channel tests/list.rs: gh_971
// The original injects a 2 s pause inside the first send (a test-only cfg) so that the
// receiver is dropped while that send is half done. Without the hook this is a race of a
// send, a second send and the receiver's drop: every outcome must be consistent, and
// whatever was buffered is dropped with the last receiver.
#[test]
fn list_gh_971() {
    for _ in 0..100 {
        let drops = Arc::new(AtomicUsize::new(0));
        let (s1, r) = unbounded::<DropCounter>();
        let s2 = s1.clone();
        let d = drops.clone();
        let t1 = thread::spawn(move || s1.send(DropCounter(d)).is_ok());
        let s2_ok = s2.send(DropCounter(drops.clone())).is_ok();
        drop(r);
        let t1_ok = t1.join().unwrap();
        // Every value was dropped: in the buffer with the receiver, or given back.
        assert_eq!(drops.load(Ordering::SeqCst), 2, "{t1_ok} {s2_ok}");
        assert!(s2.send(DropCounter(drops.clone())).is_err());
        assert_eq!(drops.load(Ordering::SeqCst), 3);
    }
}

// crossbeam-channel tests/list.rs: smoke
#[test]
fn list_smoke() {
    let (s, r) = unbounded();
    s.try_send(7).unwrap();
    assert_eq!(r.try_recv(), Ok(7));
    s.send(8).unwrap();
    assert_eq!(r.recv(), Ok(8));
    assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(r.recv_timeout(ms(20)), Err(RecvTimeoutError::Timeout));
}

// crossbeam-channel tests/list.rs: capacity
#[test]
fn list_capacity() {
    let (s, r) = unbounded::<()>();
    assert_eq!(s.capacity(), None);
    assert_eq!(r.capacity(), None);
}

// crossbeam-channel tests/list.rs: len_empty_full
#[test]
fn list_len_empty_full() {
    let (s, r) = unbounded();
    let check = |len: usize, empty: bool| {
        assert_eq!(s.len(), len);
        assert_eq!(s.is_empty(), empty);
        assert!(!s.is_full());
        assert_eq!(r.len(), len);
        assert_eq!(r.is_empty(), empty);
        assert!(!r.is_full());
    };
    check(0, true);
    s.send(()).unwrap();
    check(1, false);
    r.recv().unwrap();
    check(0, true);
}

// crossbeam-channel tests/list.rs: try_recv
#[test]
fn list_try_recv() {
    try_recv_body(None);
}

// crossbeam-channel tests/list.rs: recv
#[test]
fn list_recv() {
    recv_body(None);
}

// crossbeam-channel tests/list.rs: recv_timeout
#[test]
fn list_recv_timeout() {
    recv_timeout_body(None);
}

// crossbeam-channel tests/list.rs: try_send
#[test]
fn list_try_send() {
    const COUNT: usize = 1000;
    let (s, r) = unbounded();
    for i in 0..COUNT {
        assert_eq!(s.try_send(i), Ok(()));
    }
    drop(r);
    assert_eq!(s.try_send(777), Err(TrySendError::Closed(777)));
}

// crossbeam-channel tests/list.rs: send
#[test]
fn list_send() {
    const COUNT: usize = 1000;
    let (s, r) = unbounded();
    for i in 0..COUNT {
        assert_eq!(s.send(i), Ok(()));
    }
    drop(r);
    assert_eq!(s.send(777), Err(SendError(777)));
}

// crossbeam-channel tests/list.rs: send_timeout
#[test]
fn list_send_timeout() {
    const COUNT: usize = 1000;
    let (s, r) = unbounded();
    for i in 0..COUNT {
        assert_eq!(s.send_timeout(i, ms(i as u64)), Ok(()));
    }
    drop(r);
    assert_eq!(
        s.send_timeout(777, ms(0)),
        Err(SendTimeoutError::Closed(777))
    );
}

// crossbeam-channel tests/list.rs: send_after_disconnect
#[test]
fn list_send_after_disconnect() {
    send_after_disconnect_body(None);
}

// crossbeam-channel tests/list.rs: recv_after_disconnect
#[test]
fn list_recv_after_disconnect() {
    recv_after_disconnect_body(None);
}

// crossbeam-channel tests/list.rs: len
#[test]
fn list_len() {
    let (s, r) = unbounded();
    assert_eq!(s.len(), 0);
    assert_eq!(r.len(), 0);
    for i in 0..50 {
        s.send(i).unwrap();
        assert_eq!(s.len(), i + 1);
    }
    for i in 0..50 {
        r.recv().unwrap();
        assert_eq!(r.len(), 50 - i - 1);
    }
    assert_eq!(s.len(), 0);
    assert_eq!(r.len(), 0);
}

// crossbeam-channel tests/list.rs: disconnect_wakes_receiver
#[test]
fn list_disconnect_wakes_receiver() {
    disconnect_wakes_receiver_body(None);
}

// crossbeam-channel tests/list.rs: spsc
#[test]
fn list_spsc() {
    spsc_body(None, 10_000);
}

// crossbeam-channel tests/list.rs: mpmc
#[test]
fn list_mpmc() {
    mpmc_body(None, 1_000, 4);
}

// crossbeam-channel tests/list.rs: stress_oneshot
#[test]
fn list_stress_oneshot() {
    stress_oneshot_body(None, 100);
}

// crossbeam-channel tests/list.rs: stress_iter
#[test]
fn list_stress_iter() {
    stress_iter_body(None, 3_000);
}

// crossbeam-channel tests/list.rs: stress_timeout_two_threads
#[test]
fn list_stress_timeout_two_threads() {
    stress_timeout_two_threads_body(None);
}

// crossbeam-channel tests/list.rs: drops
#[test]
fn list_drops() {
    drops_body(None, 500);
}

// crossbeam-channel tests/list.rs: linearizable
#[test]
fn list_linearizable() {
    linearizable_body(None);
}

// crossbeam-channel tests/list.rs: fairness
#[test]
fn list_fairness() {
    fairness_buffered_body(None);
}

// crossbeam-channel tests/list.rs: fairness_duplicates
#[test]
fn list_fairness_duplicates() {
    fairness_duplicates_buffered_body(None);
}

// crossbeam-channel tests/list.rs: recv_in_send
#[test]
fn list_recv_in_send() {
    let (s, r) = unbounded();
    s.send(()).unwrap();
    gochan::select! {
        send(s, assert_eq!(r.recv(), Ok(()))) -> res => res.unwrap(),
    }
    assert_eq!(r.try_recv(), Ok(()));
}

// crossbeam-channel tests/list.rs: channel_through_channel
#[test]
fn list_channel_through_channel() {
    channel_through_channel_body(None, 300);
}

// ---------------------------------------------------------------------------------------
// crossbeam-channel tests/after.rs: `after(d)`, Go's time.After.
// ---------------------------------------------------------------------------------------

// crossbeam-channel tests/after.rs: fire
// crossbeam delivers the deadline itself; gochan delivers the time of the firing, at or
// after the deadline, so `now - fired` is only checked against the sleep that follows the
// deadline by a wide margin.
#[test]
fn after_fire() {
    let start = Instant::now();
    let r = after(ms(50));
    assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
    thread::sleep(ms(150));
    let fired = r.try_recv().unwrap();
    assert!(start < fired);
    assert!(fired - start >= ms(50));
    let now = Instant::now();
    assert!(fired < now);
    assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
    gochan::select! {
        recv(r) -> _ => panic!(),
        default => {}
    }
    gochan::select! {
        recv(r) -> _ => panic!(),
        recv(after(ms(50))) -> _ => {}
    }
}

// crossbeam-channel tests/after.rs: capacity (Go 1.23: a timer channel is unbuffered,
// `cap(t.C) == 0`, where crossbeam reports 1)
#[test]
fn after_capacity() {
    for i in 0..10 {
        let r = after(ms(i));
        assert_eq!(r.capacity(), Some(0));
    }
}

// crossbeam-channel tests/after.rs: len_empty_full
#[test]
fn after_len_empty_full() {
    // Go 1.23: `len` and `cap` of a timer channel are 0 even once it fired (it presents
    // itself as unbuffered: empty, and full in that no send could buffer), where
    // crossbeam reports 1 / full.
    let r = after(ms(50));
    assert_eq!(r.len(), 0);
    assert!(r.is_empty());
    assert!(r.is_full());
    thread::sleep(ms(150));
    assert_eq!(r.len(), 0);
    assert!(r.is_empty());
    assert!(r.is_full());
    r.try_recv().unwrap();
    assert_eq!(r.len(), 0);
    assert!(r.is_empty());
    assert!(r.is_full());
}

// crossbeam-channel tests/after.rs: try_recv
#[test]
fn after_try_recv() {
    let r = after(ms(200));
    assert!(r.try_recv().is_err());
    thread::sleep(ms(300));
    assert!(r.try_recv().is_ok());
    assert!(r.try_recv().is_err());
    thread::sleep(ms(50));
    assert!(r.try_recv().is_err());
}

// crossbeam-channel tests/after.rs: recv
#[test]
fn after_recv() {
    let start = Instant::now();
    let r = after(ms(50));
    let fired = r.recv().unwrap();
    assert!(start < fired);
    assert!(fired - start >= ms(50));
    let now = Instant::now();
    assert!(fired <= now);
    assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
}

// crossbeam-channel tests/after.rs: recv_timeout
#[test]
fn after_recv_timeout() {
    let start = Instant::now();
    let r = after(ms(200));
    assert!(r.recv_timeout(ms(50)).is_err());
    let now = Instant::now();
    assert!(now - start >= ms(50));
    let fired = r.recv_timeout(ms(5_000)).unwrap();
    assert!(fired - start >= ms(200));
    assert!(r.recv_timeout(ms(50)).is_err());
    let now = Instant::now();
    assert!(now - start >= ms(250));
    assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
}

// crossbeam-channel tests/after.rs: recv_two
#[test]
fn after_recv_two() {
    let r1 = after(ms(50));
    let r2 = after(ms(50));
    thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                gochan::select! {
                    recv(r1) -> _ => {}
                    recv(r2) -> _ => {}
                }
            });
        }
    });
}

// crossbeam-channel tests/after.rs: recv_race
// (The losing timer is 1 s instead of 100 ms, so a descheduled thread cannot see both
// expired.)
#[test]
fn after_recv_race() {
    gochan::select! {
        recv(after(ms(50))) -> _ => {}
        recv(after(ms(1_000))) -> _ => panic!(),
    }
    gochan::select! {
        recv(after(ms(1_000))) -> _ => panic!(),
        recv(after(ms(50))) -> _ => {}
    }
}

// crossbeam-channel tests/after.rs: stress_default
// An expired timer is ready the moment a select looks at it (Go 1.23).
#[test]
fn after_stress_default() {
    const COUNT: usize = 10;
    for _ in 0..COUNT {
        gochan::select! {
            recv(after(ms(0))) -> _ => {}
            default => panic!(),
        }
    }
    for _ in 0..COUNT {
        gochan::select! {
            recv(after(ms(100))) -> _ => panic!(),
            default => {}
        }
    }
}

// crossbeam-channel tests/after.rs: select
#[test]
fn after_select() {
    const THREADS: usize = 4;
    const COUNT: usize = 200;
    const TIMEOUT_MS: u64 = 100;
    let v = (0..COUNT)
        .map(|i| after(ms(i as u64 / 50)))
        .collect::<Vec<_>>();
    let hits = AtomicUsize::new(0);
    thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| loop {
                let timeout = after(ms(TIMEOUT_MS));
                let mut sel = Select::new();
                for r in &v {
                    sel.recv(r);
                }
                let oper_timeout = sel.recv(&timeout);
                let oper = sel.select();
                match oper.index() {
                    i if i == oper_timeout => {
                        oper.recv(&timeout).unwrap();
                        break;
                    }
                    i => {
                        oper.recv(&v[i]).unwrap();
                        hits.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    assert_eq!(hits.load(Ordering::SeqCst), COUNT);
}

// crossbeam-channel tests/after.rs: stress_clone
#[test]
fn after_stress_clone() {
    const RUNS: usize = 50;
    const THREADS: usize = 4;
    const COUNT: usize = 50;
    for i in 0..RUNS {
        let r = after(ms(i as u64 % 5));
        thread::scope(|scope| {
            for _ in 0..THREADS {
                scope.spawn(|| {
                    let r = r.clone();
                    let _ = r.try_recv();
                    for _ in 0..COUNT {
                        drop(r.clone());
                        thread::yield_now();
                    }
                });
            }
        });
    }
}

// crossbeam-channel tests/after.rs: fairness
// With `dur = 1` crossbeam's lazily computed timers are all ready when its select wakes;
// gochan's (and Go's) timers fire one by one, so a blocked select takes the earlier one.
// The arms are made ready first (they expire, then the select looks), which is the case
// the equal-probability rule is about.
#[test]
fn after_fairness() {
    const COUNT: usize = 1000;
    for dur in [0, 1] {
        let timers: Vec<_> = (0..COUNT)
            .map(|_| (after(ms(dur)), after(ms(dur))))
            .collect();
        thread::sleep(ms(10));
        let mut hits = [0usize; 2];
        for (a, b) in &timers {
            gochan::select! {
                recv(a) -> _ => hits[0] += 1,
                recv(b) -> _ => hits[1] += 1,
            }
        }
        assert!(
            hits.iter().all(|x| *x >= COUNT / hits.len() / 2),
            "{hits:?}"
        );
    }
}

// crossbeam-channel tests/after.rs: fairness_duplicates
#[test]
fn after_fairness_duplicates() {
    const COUNT: usize = 400;
    for dur in [0, 1] {
        let mut hits = [0usize; 5];
        for _ in 0..COUNT {
            let r = after(ms(dur));
            gochan::select! {
                recv(r) -> _ => hits[0] += 1,
                recv(r) -> _ => hits[1] += 1,
                recv(r) -> _ => hits[2] += 1,
                recv(r) -> _ => hits[3] += 1,
                recv(r) -> _ => hits[4] += 1,
            }
        }
        assert!(
            hits.iter().all(|x| *x >= COUNT / hits.len() / 2),
            "{hits:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// crossbeam-channel tests/tick.rs: `tick(d)`, Go's time.Tick.
// ---------------------------------------------------------------------------------------

// crossbeam-channel tests/tick.rs: fire
#[test]
fn tick_fire() {
    let start = Instant::now();
    let r = tick(ms(200));
    assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
    thread::sleep(ms(300));
    let fired = r.try_recv().unwrap();
    assert!(start < fired);
    assert!(fired - start >= ms(200));
    let now = Instant::now();
    assert!(fired < now);
    assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
    gochan::select! {
        recv(r) -> _ => panic!(),
        default => {}
    }
    gochan::select! {
        recv(r) -> _ => {}
        recv(tick(ms(2_000))) -> _ => panic!(),
    }
}

// crossbeam-channel tests/tick.rs: intervals
// A slow receiver gets the oldest undelivered tick (the one at 200 ms; the later ones
// were dropped, Go's rule), then the next tick on the period grid (600 ms). Scaled to a
// 100 ms period so every check has 50 ms to spare.
#[test]
fn tick_intervals() {
    let start = Instant::now();
    let r = tick(ms(100));
    let t1 = r.recv().unwrap();
    assert!(start + ms(100) <= t1);
    thread::sleep(ms(450));
    let t2 = r.try_recv().unwrap();
    assert!(start + ms(200) <= t2);
    assert!(
        t2 < start + ms(500),
        "the tick at 200 ms was replaced by a later one: {:?}",
        t2 - start
    );
    assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
    let t3 = r.recv().unwrap();
    assert!(start + ms(600) <= t3, "{:?}", t3 - start);
    assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
}

// crossbeam-channel tests/tick.rs: capacity (Go 1.23: 0, where crossbeam reports 1)
// (`tick(0)` is Go's nil channel: see `tick_stress_default`.)
#[test]
fn tick_capacity() {
    for i in 1..10 {
        let r = tick(ms(i));
        assert_eq!(r.capacity(), Some(0));
    }
}

// crossbeam-channel tests/tick.rs: len_empty_full
#[test]
fn tick_len_empty_full() {
    // Go 1.23: `len` and `cap` of a timer channel are 0 even once it fired (it presents
    // itself as unbuffered: empty, and full in that no send could buffer), where
    // crossbeam reports 1 / full.
    let r = tick(ms(200));
    assert_eq!(r.len(), 0);
    assert!(r.is_empty());
    assert!(r.is_full());
    thread::sleep(ms(300));
    assert_eq!(r.len(), 0);
    assert!(r.is_empty());
    assert!(r.is_full());
    r.try_recv().unwrap();
    assert_eq!(r.len(), 0);
    assert!(r.is_empty());
    assert!(r.is_full());
}

// crossbeam-channel tests/tick.rs: try_recv
#[test]
fn tick_try_recv() {
    let r = tick(ms(200));
    assert!(r.try_recv().is_err());
    thread::sleep(ms(100));
    assert!(r.try_recv().is_err());
    thread::sleep(ms(200));
    assert!(r.try_recv().is_ok());
    assert!(r.try_recv().is_err());
    thread::sleep(ms(200));
    assert!(r.try_recv().is_ok());
    assert!(r.try_recv().is_err());
}

// crossbeam-channel tests/tick.rs: recv
#[test]
fn tick_recv() {
    let start = Instant::now();
    let r = tick(ms(50));
    let fired = r.recv().unwrap();
    assert!(start < fired);
    assert!(fired - start >= ms(50));
    let now = Instant::now();
    assert!(fired <= now);
    assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
}

// crossbeam-channel tests/tick.rs: recv_timeout
#[test]
fn tick_recv_timeout() {
    let start = Instant::now();
    let r = tick(ms(200));
    assert!(r.recv_timeout(ms(100)).is_err());
    let now = Instant::now();
    assert!(now - start >= ms(100));
    let fired = r.recv_timeout(ms(5_000)).unwrap();
    assert!(fired - start >= ms(200));
    assert!(r.recv_timeout(ms(100)).is_err());
    let now = Instant::now();
    assert!(now - start >= ms(300));
    let fired = r.recv_timeout(ms(5_000)).unwrap();
    assert!(fired - start >= ms(400));
}

// crossbeam-channel tests/tick.rs: recv_two
#[test]
fn tick_recv_two() {
    let r1 = tick(ms(50));
    let r2 = tick(ms(50));
    thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                for _ in 0..5 {
                    gochan::select! {
                        recv(r1) -> _ => {}
                        recv(r2) -> _ => {}
                    }
                }
            });
        }
    });
}

// crossbeam-channel tests/tick.rs: recv_race
#[test]
fn tick_recv_race() {
    gochan::select! {
        recv(tick(ms(50))) -> _ => {}
        recv(tick(ms(1_000))) -> _ => panic!(),
    }
    gochan::select! {
        recv(tick(ms(1_000))) -> _ => panic!(),
        recv(tick(ms(50))) -> _ => {}
    }
}

// crossbeam-channel tests/tick.rs: stress_default
// crossbeam's `tick(0)` is always ready; Go's `time.Tick(0)` is nil, never ready, and so
// is gochan's.
#[test]
fn tick_stress_default() {
    const COUNT: usize = 10;
    for _ in 0..COUNT {
        gochan::select! {
            recv(tick(ms(0))) -> _ => panic!(),
            default => {}
        }
    }
    for _ in 0..COUNT {
        gochan::select! {
            recv(tick(ms(100))) -> _ => panic!(),
            default => {}
        }
    }
}

// crossbeam-channel tests/tick.rs: select
#[test]
fn tick_select() {
    const THREADS: usize = 4;
    let hits = AtomicUsize::new(0);
    let r1 = tick(ms(200));
    let r2 = tick(ms(300));
    thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                let timeout = after(ms(1100));
                loop {
                    let mut sel = Select::new();
                    let oper1 = sel.recv(&r1);
                    let oper2 = sel.recv(&r2);
                    let oper3 = sel.recv(&timeout);
                    let oper = sel.select();
                    match oper.index() {
                        i if i == oper1 => {
                            oper.recv(&r1).unwrap();
                            hits.fetch_add(1, Ordering::SeqCst);
                        }
                        i if i == oper2 => {
                            oper.recv(&r2).unwrap();
                            hits.fetch_add(1, Ordering::SeqCst);
                        }
                        i if i == oper3 => {
                            oper.recv(&timeout).unwrap();
                            break;
                        }
                        _ => unreachable!(),
                    }
                }
            });
        }
    });
    assert_eq!(hits.load(Ordering::SeqCst), 8);
}

// crossbeam-channel tests/tick.rs: fairness
// Only `dur = 1` (`tick(0)` never delivers), and as in `after_fairness` the arms are
// made ready before the select looks.
#[test]
fn tick_fairness() {
    const COUNT: usize = 30;
    let mut hits = [0usize; 2];
    for _ in 0..COUNT / 5 {
        let r1 = tick(ms(1));
        let r2 = tick(ms(1));
        for _ in 0..COUNT {
            thread::sleep(ms(2));
            gochan::select! {
                recv(r1) -> _ => hits[0] += 1,
                recv(r2) -> _ => hits[1] += 1,
            }
        }
    }
    let total: usize = hits.iter().sum();
    assert!(
        hits.iter().all(|x| *x >= total / hits.len() / 2),
        "{hits:?}"
    );
}

// crossbeam-channel tests/tick.rs: fairness_duplicates
#[test]
fn tick_fairness_duplicates() {
    const COUNT: usize = 30;
    let mut hits = [0usize; 5];
    for _ in 0..COUNT / 3 {
        let r = tick(ms(1));
        for _ in 0..COUNT {
            gochan::select! {
                recv(r) -> _ => hits[0] += 1,
                recv(r) -> _ => hits[1] += 1,
                recv(r) -> _ => hits[2] += 1,
                recv(r) -> _ => hits[3] += 1,
                recv(r) -> _ => hits[4] += 1,
            }
        }
    }
    let total: usize = hits.iter().sum();
    assert!(
        hits.iter().all(|x| *x >= total / hits.len() / 2),
        "{hits:?}"
    );
}

// ---------------------------------------------------------------------------------------
// crossbeam-channel tests/never.rs: `never()`, Go's nil channel.
// ---------------------------------------------------------------------------------------

// crossbeam-channel tests/never.rs: smoke
#[test]
fn never_smoke() {
    gochan::select! {
        recv(never::<i32>()) -> _ => panic!(),
        default => {}
    }
}

// crossbeam-channel tests/never.rs: optional
#[test]
fn never_optional() {
    let (s, r) = unbounded::<i32>();
    s.send(1).unwrap();
    s.send(2).unwrap();
    let nil = never();
    let mut r = Some(&r);
    gochan::select! {
        recv(r.unwrap_or(&nil)) -> _ => {}
        default => panic!(),
    }
    r = None;
    gochan::select! {
        recv(r.unwrap_or(&nil)) -> _ => panic!(),
        default => {}
    }
}

// crossbeam-channel tests/never.rs: tick_n
#[test]
fn never_tick_n() {
    let mut r = tick(ms(20));
    let mut step = 0;
    loop {
        gochan::select! {
            recv(r) -> _ => step += 1,
            default(ms(300)) => break,
        }
        if step == 10 {
            r = never();
        }
    }
    assert_eq!(step, 10);
}

// crossbeam-channel tests/never.rs: capacity
#[test]
fn never_capacity() {
    let r = never::<i32>();
    assert_eq!(r.capacity(), Some(0));
}

// crossbeam-channel tests/never.rs: len_empty_full
#[test]
fn never_len_empty_full() {
    let r = never::<i32>();
    assert_eq!(r.len(), 0);
    assert_eq!(r.is_empty(), true);
    assert_eq!(r.is_full(), true);
}

// crossbeam-channel tests/never.rs: try_recv
#[test]
fn never_try_recv() {
    let r = never::<i32>();
    assert!(r.try_recv().is_err());
    thread::sleep(ms(20));
    assert!(r.try_recv().is_err());
}

// crossbeam-channel tests/never.rs: recv_timeout
#[test]
fn never_recv_timeout() {
    let start = Instant::now();
    let r = never::<i32>();
    assert!(r.recv_timeout(ms(50)).is_err());
    assert!(start.elapsed() >= ms(50));
    assert!(r.recv_timeout(ms(50)).is_err());
    assert!(start.elapsed() >= ms(100));
}

// crossbeam-channel tests/never.rs: same_channel
// crossbeam-channel tests/same_channel.rs: never_same_channel
#[test]
fn never_same_channel() {
    let r = never::<usize>();
    let r2 = r.clone();
    assert!(r.same_channel(&r2));
    let r3 = never::<usize>();
    assert!(r.same_channel(&r3));
    assert!(r2.same_channel(&r3));
    assert_eq!(r, r3);
}

// ---------------------------------------------------------------------------------------
// crossbeam-channel tests/same_channel.rs
// ---------------------------------------------------------------------------------------

// crossbeam-channel tests/same_channel.rs: after_same_channel
#[test]
fn same_channel_after() {
    let r = after(ms(50));
    let r2 = r.clone();
    assert!(r.same_channel(&r2));
    let r3 = after(ms(50));
    assert!(!r.same_channel(&r3));
    assert!(!r2.same_channel(&r3));
    let r4 = after(ms(100));
    assert!(!r.same_channel(&r4));
    assert!(!r2.same_channel(&r4));
}

// crossbeam-channel tests/same_channel.rs: array_same_channel, list_same_channel,
// zero_same_channel
#[test]
fn same_channel_flavors() {
    for cap in [Some(0), Some(1), None] {
        let (s, r) = chan::<usize>(cap);
        let s2 = s.clone();
        assert!(s.same_channel(&s2));
        let r2 = r.clone();
        assert!(r.same_channel(&r2));
        let (s3, r3) = chan::<usize>(cap);
        assert!(!s.same_channel(&s3));
        assert!(!s2.same_channel(&s3));
        assert!(!r.same_channel(&r3));
        assert!(!r2.same_channel(&r3));
        assert_eq!(s, s2);
        assert_ne!(s, s3);
    }
}

// crossbeam-channel tests/same_channel.rs: tick_same_channel
#[test]
fn same_channel_tick() {
    let r = tick(ms(50));
    let r2 = r.clone();
    assert!(r.same_channel(&r2));
    let r3 = tick(ms(50));
    assert!(!r.same_channel(&r3));
    assert!(!r2.same_channel(&r3));
    let r4 = tick(ms(100));
    assert!(!r.same_channel(&r4));
    assert!(!r2.same_channel(&r4));
}

// crossbeam-channel tests/same_channel.rs: different_flavours_same_channel
#[test]
fn same_channel_different_flavours() {
    let (s1, r1) = bounded::<usize>(0);
    let (s2, r2) = unbounded::<usize>();
    assert!(!s1.same_channel(&s2));
    assert!(!r1.same_channel(&r2));
}

// ---------------------------------------------------------------------------------------
// crossbeam-channel tests/iter.rs
// ---------------------------------------------------------------------------------------

// crossbeam-channel tests/iter.rs: nested_recv_iter
#[test]
fn iter_nested_recv_iter() {
    let (s, r) = unbounded::<i32>();
    let (total_s, total_r) = unbounded::<i32>();
    thread::scope(|scope| {
        scope.spawn(move || {
            let mut acc = 0;
            for x in r.iter() {
                acc += x;
            }
            total_s.send(acc).unwrap();
        });
        s.send(3).unwrap();
        s.send(1).unwrap();
        s.send(2).unwrap();
        drop(s);
        assert_eq!(total_r.recv().unwrap(), 6);
    });
}

// crossbeam-channel tests/iter.rs: recv_iter_break
#[test]
fn iter_recv_iter_break() {
    let (s, r) = unbounded::<i32>();
    let (count_s, count_r) = unbounded();
    thread::scope(|scope| {
        scope.spawn(move || {
            let mut count = 0;
            for x in r.iter() {
                if count >= 3 {
                    break;
                } else {
                    count += x;
                }
            }
            count_s.send(count).unwrap();
        });
        s.send(2).unwrap();
        s.send(2).unwrap();
        s.send(2).unwrap();
        let _ = s.send(2);
        drop(s);
        assert_eq!(count_r.recv().unwrap(), 4);
    });
}

// crossbeam-channel tests/iter.rs: recv_try_iter
#[test]
fn iter_recv_try_iter() {
    let (request_s, request_r) = unbounded();
    let (response_s, response_r) = unbounded();
    thread::scope(|scope| {
        scope.spawn(move || {
            let mut count = 0;
            loop {
                for x in response_r.try_iter() {
                    count += x;
                    if count == 6 {
                        return;
                    }
                }
                request_s.send(()).unwrap();
            }
        });
        for _ in request_r.iter() {
            if response_s.send(2).is_err() {
                break;
            }
        }
    });
}

// crossbeam-channel tests/iter.rs: recv_into_iter_owned
#[test]
fn iter_recv_into_iter_owned() {
    let mut iter = {
        let (s, r) = unbounded::<i32>();
        s.send(1).unwrap();
        s.send(2).unwrap();
        r.into_iter()
    };
    assert_eq!(iter.next().unwrap(), 1);
    assert_eq!(iter.next().unwrap(), 2);
    assert!(iter.next().is_none());
}

// crossbeam-channel tests/iter.rs: recv_into_iter_borrowed
#[test]
fn iter_recv_into_iter_borrowed() {
    let (s, r) = unbounded::<i32>();
    s.send(1).unwrap();
    s.send(2).unwrap();
    drop(s);
    let mut iter = (&r).into_iter();
    assert_eq!(iter.next().unwrap(), 1);
    assert_eq!(iter.next().unwrap(), 2);
    assert!(iter.next().is_none());
}

// ---------------------------------------------------------------------------------------
// crossbeam-channel tests/thread_locals.rs
// ---------------------------------------------------------------------------------------

// crossbeam-channel tests/thread_locals.rs: use_while_exiting
// A gochan operation in a thread-local's destructor, after gochan's own thread-locals
// were torn down, must not panic. (Also a blocking receive and a timer there.)
#[test]
fn thread_locals_use_while_exiting() {
    struct Foo;
    impl Drop for Foo {
        fn drop(&mut self) {
            let (_s, r) = unbounded::<()>();
            gochan::select! {
                recv(r) -> _ => {}
                default(ms(20)) => {}
            }
            let (_s, r) = bounded::<()>(0);
            assert!(r.recv_timeout(ms(5)).is_err());
            assert!(after(ms(1)).recv().is_ok());
        }
    }
    thread_local! {
        static FOO: Foo = const { Foo };
    }
    let (s, r) = unbounded::<()>();
    thread::scope(|scope| {
        scope.spawn(|| {
            // First `FOO`, then gochan's thread-locals: at exit gochan's go first.
            FOO.with(|_| ());
            r.recv().unwrap();
        });
        scope.spawn(|| {
            thread::sleep(ms(30));
            s.send(()).unwrap();
        });
    });
}

// ---------------------------------------------------------------------------------------
// crossbeam-channel tests/select_macro.rs: `select!` (and `select_biased!`).
// ---------------------------------------------------------------------------------------

// crossbeam-channel tests/select_macro.rs: trailing_comma (a comma after the last
// argument of an arm is accepted, as in function calls)
#[test]
fn select_macro_trailing_comma() {
    let (s, r) = unbounded::<i32>();
    gochan::select! {
        send(s, 1,) -> res => assert!(res.is_ok()),
        default(ms(1000),) => panic!(),
    }
    gochan::select! {
        recv(r,) -> v => assert_eq!(v, Ok(1)),
        default(ms(1000),) => panic!(),
    }
    gochan::select_biased! {
        recv(r,) -> _ => panic!(),
        default => {}
    }
}

// crossbeam-channel tests/select_macro.rs: smoke1
#[test]
fn select_macro_smoke1() {
    let (s1, r1) = unbounded::<usize>();
    let (s2, r2) = unbounded::<usize>();
    s1.send(1).unwrap();
    gochan::select! {
        recv(r1) -> v => assert_eq!(v, Ok(1)),
        recv(r2) -> _ => panic!(),
    }
    s2.send(2).unwrap();
    gochan::select! {
        recv(r1) -> _ => panic!(),
        recv(r2) -> v => assert_eq!(v, Ok(2)),
    }
}

// crossbeam-channel tests/select_macro.rs: smoke2
#[test]
fn select_macro_smoke2() {
    let (_s1, r1) = unbounded::<i32>();
    let (_s2, r2) = unbounded::<i32>();
    let (_s3, r3) = unbounded::<i32>();
    let (_s4, r4) = unbounded::<i32>();
    let (s5, r5) = unbounded::<i32>();
    s5.send(5).unwrap();
    gochan::select! {
        recv(r1) -> _ => panic!(),
        recv(r2) -> _ => panic!(),
        recv(r3) -> _ => panic!(),
        recv(r4) -> _ => panic!(),
        recv(r5) -> v => assert_eq!(v, Ok(5)),
    }
}

// crossbeam-channel tests/select_macro.rs: disconnected
#[test]
fn select_macro_disconnected() {
    let (s1, r1) = unbounded::<i32>();
    let (s2, r2) = unbounded::<i32>();
    thread::scope(|scope| {
        scope.spawn(|| {
            drop(s1);
            thread::sleep(ms(30));
            s2.send(5).unwrap();
        });
        gochan::select! {
            recv(r1) -> v => assert!(v.is_err()),
            recv(r2) -> _ => panic!(),
            default(ms(5_000)) => panic!(),
        }
        r2.recv().unwrap();
    });
    gochan::select! {
        recv(r1) -> v => assert!(v.is_err()),
        recv(r2) -> _ => panic!(),
        default(ms(5_000)) => panic!(),
    }
    thread::scope(|scope| {
        scope.spawn(|| {
            thread::sleep(ms(30));
            drop(s2);
        });
        gochan::select! {
            recv(r2) -> v => assert!(v.is_err()),
            default(ms(5_000)) => panic!(),
        }
    });
}

// crossbeam-channel tests/select_macro.rs: default
#[test]
fn select_macro_default() {
    let (s1, r1) = unbounded::<i32>();
    let (s2, r2) = unbounded::<i32>();
    gochan::select! {
        recv(r1) -> _ => panic!(),
        recv(r2) -> _ => panic!(),
        default => {}
    }
    drop(s1);
    gochan::select! {
        recv(r1) -> v => assert!(v.is_err()),
        recv(r2) -> _ => panic!(),
        default => panic!(),
    }
    s2.send(2).unwrap();
    gochan::select! {
        recv(r2) -> v => assert_eq!(v, Ok(2)),
        default => panic!(),
    }
    gochan::select! {
        recv(r2) -> _ => panic!(),
        default => {},
    }
    gochan::select! {
        default => {},
    }
}

// crossbeam-channel tests/select_macro.rs: timeout
#[test]
fn select_macro_timeout() {
    let (_s1, r1) = unbounded::<i32>();
    let (s2, r2) = unbounded::<i32>();
    let (go_s, go_r) = bounded::<()>(0);
    thread::scope(|scope| {
        scope.spawn(|| {
            go_r.recv().unwrap();
            thread::sleep(ms(20));
            s2.send(2).unwrap();
        });
        gochan::select! {
            recv(r1) -> _ => panic!(),
            recv(r2) -> _ => panic!(),
            default(ms(30)) => {},
        }
        go_s.send(()).unwrap();
        gochan::select! {
            recv(r1) -> _ => panic!(),
            recv(r2) -> v => assert_eq!(v, Ok(2)),
            default(ms(5_000)) => panic!(),
        }
    });
    thread::scope(|scope| {
        let (s, r) = unbounded::<i32>();
        let dropper = scope.spawn(move || {
            thread::sleep(ms(20));
            drop(s);
        });
        dropper.join().unwrap();
        gochan::select! {
            default(ms(30)) => {
                gochan::select! {
                    recv(r) -> v => assert!(v.is_err()),
                    default => panic!(),
                }
            }
        }
    });
}

// crossbeam-channel tests/select_macro.rs: default_when_disconnected
#[test]
fn select_macro_default_when_disconnected() {
    let (_, r) = unbounded::<i32>();
    gochan::select! {
        recv(r) -> res => assert!(res.is_err()),
        default => panic!(),
    }
    let (_, r) = unbounded::<i32>();
    gochan::select! {
        recv(r) -> res => assert!(res.is_err()),
        default(ms(1000)) => panic!(),
    }
    let (s, _) = bounded::<i32>(0);
    gochan::select! {
        send(s, 0) -> res => assert!(res.is_err()),
        default => panic!(),
    }
    let (s, _) = bounded::<i32>(0);
    gochan::select! {
        send(s, 0) -> res => assert!(res.is_err()),
        default(ms(1000)) => panic!(),
    }
}

// crossbeam-channel tests/select_macro.rs: default_only
// (Lower bound only: an upper bound would measure the machine's load.)
#[test]
fn select_macro_default_only() {
    let start = Instant::now();
    gochan::select! {
        default => {}
    }
    assert!(start.elapsed() <= ms(1_000));
    let start = Instant::now();
    gochan::select! {
        default(ms(50)) => {}
    }
    assert!(start.elapsed() >= ms(50));
}

// crossbeam-channel tests/select_macro.rs: unblocks
#[test]
fn select_macro_unblocks() {
    let (s1, r1) = bounded::<i32>(0);
    let (s2, r2) = bounded::<i32>(0);
    thread::scope(|scope| {
        scope.spawn(|| {
            thread::sleep(ms(30));
            s2.send(2).unwrap();
        });
        gochan::select! {
            recv(r1) -> _ => panic!(),
            recv(r2) -> v => assert_eq!(v, Ok(2)),
            default(ms(5_000)) => panic!(),
        }
    });
    thread::scope(|scope| {
        scope.spawn(|| {
            thread::sleep(ms(30));
            assert_eq!(r1.recv().unwrap(), 1);
        });
        gochan::select! {
            send(s1, 1) -> _ => {},
            send(s2, 2) -> _ => panic!(),
            default(ms(5_000)) => panic!(),
        }
    });
}

// crossbeam-channel tests/select_macro.rs: both_ready
#[test]
fn select_macro_both_ready() {
    let (s1, r1) = bounded(0);
    let (s2, r2) = bounded(0);
    thread::scope(|scope| {
        scope.spawn(|| {
            thread::sleep(ms(30));
            s1.send(1).unwrap();
            assert_eq!(r2.recv().unwrap(), 2);
        });
        for _ in 0..2 {
            gochan::select! {
                recv(r1) -> v => assert_eq!(v, Ok(1)),
                send(s2, 2) -> _ => {},
            }
        }
    });
}

// crossbeam-channel tests/select_macro.rs: loop_try
#[test]
fn select_macro_loop_try() {
    const RUNS: usize = 10;
    for _ in 0..RUNS {
        let (s1, r1) = bounded::<i32>(0);
        let (s2, r2) = bounded::<i32>(0);
        let (s_end, r_end) = bounded::<()>(0);
        thread::scope(|scope| {
            scope.spawn(|| loop {
                gochan::select! {
                    send(s1, 1) -> _ => break,
                    default => {}
                }
                gochan::select! {
                    recv(r_end) -> _ => break,
                    default => {}
                }
            });
            scope.spawn(|| loop {
                if let Ok(x) = r2.try_recv() {
                    assert_eq!(x, 2);
                    break;
                }
                gochan::select! {
                    recv(r_end) -> _ => break,
                    default => {}
                }
            });
            scope.spawn(|| {
                thread::sleep(ms(10));
                gochan::select! {
                    recv(r1) -> v => assert_eq!(v, Ok(1)),
                    send(s2, 2) -> _ => {},
                    default(ms(5_000)) => panic!(),
                }
                drop(s_end);
            });
        });
    }
}

// crossbeam-channel tests/select_macro.rs: cloning1
#[test]
fn select_macro_cloning1() {
    thread::scope(|scope| {
        let (s1, r1) = unbounded::<i32>();
        let (_s2, r2) = unbounded::<i32>();
        let (s3, r3) = unbounded::<()>();
        scope.spawn(move || {
            r3.recv().unwrap();
            drop(s1.clone());
            assert_eq!(r3.try_recv(), Err(TryRecvError::Empty));
            s1.send(1).unwrap();
            r3.recv().unwrap();
        });
        s3.send(()).unwrap();
        gochan::select! {
            recv(r1) -> _ => {},
            recv(r2) -> _ => {},
        }
        s3.send(()).unwrap();
    });
}

// crossbeam-channel tests/select_macro.rs: cloning2
#[test]
fn select_macro_cloning2() {
    let (s1, r1) = unbounded::<()>();
    let (s2, r2) = unbounded::<()>();
    let (_s3, _r3) = unbounded::<()>();
    thread::scope(|scope| {
        scope.spawn(move || {
            gochan::select! {
                recv(r1) -> _ => panic!(),
                recv(r2) -> _ => {},
            }
        });
        thread::sleep(ms(30));
        drop(s1.clone());
        s2.send(()).unwrap();
    });
}

// crossbeam-channel tests/select_macro.rs: preflight1
#[test]
fn select_macro_preflight1() {
    let (s, r) = unbounded();
    s.send(()).unwrap();
    gochan::select! {
        recv(r) -> _ => {}
    }
}

// crossbeam-channel tests/select_macro.rs: preflight2
#[test]
fn select_macro_preflight2() {
    let (s, r) = unbounded();
    drop(s.clone());
    s.send(()).unwrap();
    drop(s);
    gochan::select! {
        recv(r) -> v => assert!(v.is_ok()),
    }
    assert_eq!(r.try_recv(), Err(TryRecvError::Closed));
}

// crossbeam-channel tests/select_macro.rs: preflight3
#[test]
fn select_macro_preflight3() {
    let (s, r) = unbounded();
    drop(s.clone());
    s.send(()).unwrap();
    drop(s);
    r.recv().unwrap();
    gochan::select! {
        recv(r) -> v => assert!(v.is_err())
    }
}

// crossbeam-channel tests/select_macro.rs: duplicate_operations
#[test]
fn select_macro_duplicate_operations() {
    let (s, r) = unbounded::<i32>();
    let mut hit = [false; 4];
    while hit.iter().any(|hit| !hit) {
        gochan::select! {
            recv(r) -> _ => hit[0] = true,
            recv(r) -> _ => hit[1] = true,
            send(s, 0) -> _ => hit[2] = true,
            send(s, 0) -> _ => hit[3] = true,
        }
    }
}

// crossbeam-channel tests/select_macro.rs: nesting
#[test]
fn select_macro_nesting() {
    let (s, r) = unbounded::<i32>();
    gochan::select! {
        send(s, 0) -> _ => {
            gochan::select! {
                recv(r) -> v => {
                    assert_eq!(v, Ok(0));
                    gochan::select! {
                        send(s, 1) -> _ => {
                            gochan::select! {
                                recv(r) -> v => {
                                    assert_eq!(v, Ok(1));
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

// crossbeam-channel tests/select_macro.rs: panic_sender
#[test]
#[should_panic(expected = "send panicked")]
fn select_macro_panic_sender() {
    fn get() -> Sender<i32> {
        panic!("send panicked")
    }
    #[allow(unreachable_code, clippy::diverging_sub_expression)]
    {
        gochan::select! {
            send(get(), panic!()) -> _ => {}
        }
    }
}

// crossbeam-channel tests/select_macro.rs: panic_receiver
#[test]
#[should_panic(expected = "recv panicked")]
fn select_macro_panic_receiver() {
    fn get() -> Receiver<i32> {
        panic!("recv panicked")
    }
    gochan::select! {
        recv(get()) -> _ => {}
    }
}

// crossbeam-channel tests/select_macro.rs: stress_recv
#[test]
fn select_macro_stress_recv() {
    const COUNT: usize = 2_000;
    let (s1, r1) = unbounded();
    let (s2, r2) = bounded(5);
    let (s3, r3) = bounded(100);
    thread::scope(|scope| {
        scope.spawn(|| {
            for i in 0..COUNT {
                s1.send(i).unwrap();
                r3.recv().unwrap();
                s2.send(i).unwrap();
                r3.recv().unwrap();
            }
        });
        for i in 0..COUNT {
            for _ in 0..2 {
                gochan::select! {
                    recv(r1) -> v => assert_eq!(v, Ok(i)),
                    recv(r2) -> v => assert_eq!(v, Ok(i)),
                }
                s3.send(()).unwrap();
            }
        }
    });
}

// crossbeam-channel tests/select_macro.rs: stress_send
#[test]
fn select_macro_stress_send() {
    const COUNT: usize = 1_000;
    let (s1, r1) = bounded(0);
    let (s2, r2) = bounded(0);
    let (s3, r3) = bounded(100);
    thread::scope(|scope| {
        scope.spawn(|| {
            for i in 0..COUNT {
                assert_eq!(r1.recv().unwrap(), i);
                assert_eq!(r2.recv().unwrap(), i);
                r3.recv().unwrap();
            }
        });
        for i in 0..COUNT {
            for _ in 0..2 {
                gochan::select! {
                    send(s1, i) -> _ => {},
                    send(s2, i) -> _ => {},
                }
            }
            s3.send(()).unwrap();
        }
    });
}

// crossbeam-channel tests/select_macro.rs: stress_mixed
#[test]
fn select_macro_stress_mixed() {
    const COUNT: usize = 1_000;
    let (s1, r1) = bounded(0);
    let (s2, r2) = bounded(0);
    let (s3, r3) = bounded(100);
    thread::scope(|scope| {
        scope.spawn(|| {
            for i in 0..COUNT {
                s1.send(i).unwrap();
                assert_eq!(r2.recv().unwrap(), i);
                r3.recv().unwrap();
            }
        });
        for i in 0..COUNT {
            for _ in 0..2 {
                gochan::select! {
                    recv(r1) -> v => assert_eq!(v, Ok(i)),
                    send(s2, i) -> _ => {},
                }
            }
            s3.send(()).unwrap();
        }
    });
}

// crossbeam-channel tests/select_macro.rs: stress_timeout_two_threads
#[test]
fn select_macro_stress_timeout_two_threads() {
    const COUNT: usize = 20;
    let (s, r) = bounded(2);
    thread::scope(|scope| {
        scope.spawn(|| {
            for i in 0..COUNT {
                if i % 2 == 0 {
                    thread::sleep(ms(10));
                }
                loop {
                    gochan::select! {
                        send(s, i) -> _ => break,
                        default(ms(2)) => {}
                    }
                }
            }
        });
        scope.spawn(|| {
            for i in 0..COUNT {
                if i % 2 == 0 {
                    thread::sleep(ms(10));
                }
                loop {
                    gochan::select! {
                        recv(r) -> v => {
                            assert_eq!(v, Ok(i));
                            break;
                        }
                        default(ms(2)) => {}
                    }
                }
            }
        });
    });
}

// crossbeam-channel tests/select_macro.rs: send_recv_same_channel
// A select never pairs its own send with its own receive.
#[test]
fn select_macro_send_recv_same_channel() {
    let (s, r) = bounded::<i32>(0);
    gochan::select! {
        send(s, 0) -> _ => panic!(),
        recv(r) -> _ => panic!(),
        default(ms(50)) => {}
    }
    let (s, r) = unbounded::<i32>();
    gochan::select! {
        send(s, 0) -> _ => {},
        recv(r) -> _ => panic!(),
        default(ms(5_000)) => panic!(),
    }
}

// crossbeam-channel tests/select_macro.rs: matching
#[test]
fn select_macro_matching() {
    const THREADS: usize = 44;
    let (s, r) = &bounded::<usize>(0);
    thread::scope(|scope| {
        for i in 0..THREADS {
            scope.spawn(move || {
                gochan::select! {
                    recv(r) -> v => assert_ne!(v.unwrap(), i),
                    send(s, i) -> _ => {},
                }
            });
        }
    });
    assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
}

// crossbeam-channel tests/select_macro.rs: matching_with_leftover
#[test]
fn select_macro_matching_with_leftover() {
    const THREADS: usize = 55;
    let (s, r) = &bounded::<usize>(0);
    thread::scope(|scope| {
        for i in 0..THREADS {
            scope.spawn(move || {
                gochan::select! {
                    recv(r) -> v => assert_ne!(v.unwrap(), i),
                    send(s, i) -> _ => {},
                }
            });
        }
        s.send(!0).unwrap();
    });
    assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
}

// crossbeam-channel tests/select_macro.rs: channel_through_channel
#[test]
fn select_macro_channel_through_channel() {
    const COUNT: usize = 200;
    for cap in 0..3 {
        let (s, r) = bounded::<Payload>(cap);
        thread::scope(|scope| {
            scope.spawn(move || {
                let mut s = s;
                for _ in 0..COUNT {
                    let (new_s, new_r) = bounded(cap);
                    let new_r: Payload = Box::new(Some(new_r));
                    gochan::select! {
                        send(s, new_r) -> res => res.unwrap(),
                    }
                    s = new_s;
                }
            });
            scope.spawn(move || {
                let mut r = r;
                for _ in 0..COUNT {
                    r = gochan::select! {
                        recv(r) -> msg => {
                            msg.unwrap()
                                .downcast_mut::<Option<Receiver<Payload>>>()
                                .unwrap()
                                .take()
                                .unwrap()
                        }
                    }
                }
            });
        });
    }
}

/// crossbeam's `linearizable_default` / `linearizable_timeout` (Go's
/// TestNonblockSelectRace): `r1` has a value when the select starts and `r2` gets one
/// concurrently while `r1` is drained by another thread; a non-blocking select must see
/// at least one of them.
fn linearizable_select_body(timeout: bool) {
    const COUNT: usize = 2_000;
    for step in 0..2 {
        let (start_s, start_r) = bounded::<()>(0);
        let (end_s, end_r) = bounded::<()>(0);
        let ((s1, r1), (s2, r2)) = if step == 0 {
            (bounded::<i32>(1), bounded::<i32>(1))
        } else {
            (unbounded::<i32>(), unbounded::<i32>())
        };
        thread::scope(|scope| {
            scope.spawn(|| {
                for _ in 0..COUNT {
                    start_s.send(()).unwrap();
                    s1.send(1).unwrap();
                    if timeout {
                        gochan::select! {
                            recv(r1) -> _ => {}
                            recv(r2) -> _ => {}
                            default(ms(0)) => unreachable!(),
                        }
                    } else {
                        gochan::select! {
                            recv(r1) -> _ => {}
                            recv(r2) -> _ => {}
                            default => unreachable!(),
                        }
                    }
                    end_s.send(()).unwrap();
                    let _ = r2.try_recv();
                }
            });
            for _ in 0..COUNT {
                start_r.recv().unwrap();
                s2.send(1).unwrap();
                let _ = r1.try_recv();
                end_r.recv().unwrap();
            }
        });
    }
}

// crossbeam-channel tests/select_macro.rs: linearizable_default
#[test]
fn select_macro_linearizable_default() {
    linearizable_select_body(false);
}

// crossbeam-channel tests/select_macro.rs: linearizable_timeout
#[test]
fn select_macro_linearizable_timeout() {
    linearizable_select_body(true);
}

// crossbeam-channel tests/select_macro.rs: fairness1
// crossbeam's `tick(0)` arm is always ready; gochan's `tick(0)` is Go's nil channel, so
// that arm is left out.
#[test]
fn select_macro_fairness1() {
    const COUNT: usize = 3_000;
    let (s1, r1) = bounded::<()>(COUNT);
    let (s2, r2) = unbounded::<()>();
    for _ in 0..COUNT {
        s1.send(()).unwrap();
        s2.send(()).unwrap();
    }
    let mut hits = [0usize; 3];
    for _ in 0..COUNT {
        gochan::select! {
            recv(r1) -> _ => hits[0] += 1,
            recv(r2) -> _ => hits[1] += 1,
            recv(after(ms(0))) -> _ => hits[2] += 1,
        }
    }
    assert!(
        hits.iter().all(|x| *x >= COUNT / hits.len() / 2),
        "{hits:?}"
    );
}

// crossbeam-channel tests/select_macro.rs: fairness2
#[test]
fn select_macro_fairness2() {
    const COUNT: usize = 3_000;
    let (s1, r1) = unbounded::<()>();
    let (s2, r2) = bounded::<()>(1);
    let (s3, r3) = bounded::<()>(0);
    thread::scope(|scope| {
        scope.spawn(|| {
            let (hole, _r) = bounded(0);
            for _ in 0..COUNT {
                let s1 = if s1.is_empty() { &s1 } else { &hole };
                let s2 = if s2.is_empty() { &s2 } else { &hole };
                gochan::select! {
                    send(s1, ()) -> res => assert!(res.is_ok()),
                    send(s2, ()) -> res => assert!(res.is_ok()),
                    send(s3, ()) -> res => assert!(res.is_ok()),
                }
            }
        });
        let hits = vec![Cell::new(0usize); 3];
        for _ in 0..COUNT {
            gochan::select! {
                recv(r1) -> _ => hits[0].set(hits[0].get() + 1),
                recv(r2) -> _ => hits[1].set(hits[1].get() + 1),
                recv(r3) -> _ => hits[2].set(hits[2].get() + 1),
            }
        }
        assert!(
            hits.iter().all(|x| x.get() >= COUNT / hits.len() / 50),
            "{hits:?}"
        );
    });
}

// crossbeam-channel tests/select_macro.rs: fairness_recv
#[test]
fn select_macro_fairness_recv() {
    const COUNT: usize = 4_000;
    let (s1, r1) = bounded::<()>(COUNT);
    let (s2, r2) = unbounded::<()>();
    for _ in 0..COUNT {
        s1.send(()).unwrap();
        s2.send(()).unwrap();
    }
    let mut hits = [0usize; 2];
    while hits[0] + hits[1] < COUNT {
        gochan::select! {
            recv(r1) -> _ => hits[0] += 1,
            recv(r2) -> _ => hits[1] += 1,
        }
    }
    assert!(hits.iter().all(|x| *x >= COUNT / 4), "{hits:?}");
}

// crossbeam-channel tests/select_macro.rs: fairness_send
#[test]
fn select_macro_fairness_send() {
    const COUNT: usize = 4_000;
    let (s1, _r1) = bounded::<()>(COUNT);
    let (s2, _r2) = unbounded::<()>();
    let mut hits = [0usize; 2];
    for _ in 0..COUNT {
        gochan::select! {
            send(s1, ()) -> _ => hits[0] += 1,
            send(s2, ()) -> _ => hits[1] += 1,
        }
    }
    assert!(hits.iter().all(|x| *x >= COUNT / 4), "{hits:?}");
}

/// crossbeam's `unfairness*`: `select_biased!` takes the first ready arm.
fn unfairness_body(mode: u8) {
    const COUNT: usize = 2_000;
    let (s1, r1) = unbounded::<()>();
    let (s2, r2) = unbounded::<()>();
    let (s3, r3) = unbounded::<()>();
    for _ in 0..COUNT {
        s1.send(()).unwrap();
        s2.send(()).unwrap();
    }
    s3.send(()).unwrap();
    let mut hits = [0usize; 3];
    let round = |hits: &mut [usize; 3]| {
        for _ in 0..COUNT {
            match mode {
                0 => gochan::select_biased! {
                    recv(r1) -> _ => hits[0] += 1,
                    recv(r2) -> _ => hits[1] += 1,
                    recv(r3) -> _ => hits[2] += 1,
                },
                1 => gochan::select_biased! {
                    recv(r1) -> _ => hits[0] += 1,
                    recv(r2) -> _ => hits[1] += 1,
                    recv(r3) -> _ => hits[2] += 1,
                    default(ms(1000)) => unreachable!(),
                },
                _ => gochan::select_biased! {
                    recv(r1) -> _ => hits[0] += 1,
                    recv(r2) -> _ => hits[1] += 1,
                    recv(r3) -> _ => hits[2] += 1,
                    default => unreachable!(),
                },
            }
        }
    };
    round(&mut hits);
    assert_eq!(hits, [COUNT, 0, 0]);
    round(&mut hits);
    assert_eq!(hits, [COUNT, COUNT, 0]);
}

// crossbeam-channel tests/select_macro.rs: unfairness
#[test]
fn select_macro_unfairness() {
    unfairness_body(0);
}

// crossbeam-channel tests/select_macro.rs: unfairness_timeout
#[test]
fn select_macro_unfairness_timeout() {
    unfairness_body(1);
}

// crossbeam-channel tests/select_macro.rs: unfairness_try
#[test]
fn select_macro_unfairness_try() {
    unfairness_body(2);
}

// crossbeam-channel tests/select_macro.rs: references
// (The original also writes `recv(Some(&r).unwrap_or(&never()))`: a temporary borrowed
// inside a call in the channel expression; see `select_macro_references_temporaries`.)
#[allow(clippy::unnecessary_literal_unwrap)]
#[test]
fn select_macro_references() {
    let (s, r) = unbounded::<i32>();
    gochan::select! {
        send(s, 0) -> _ => {}
        recv(r) -> _ => {}
    }
    gochan::select! {
        send(&&&&s, 0) -> _ => {}
        recv(&&&&r) -> _ => {}
    }
    let nil = never();
    gochan::select! {
        recv(Some(&r).unwrap_or(&nil)) -> _ => {},
        default => {}
    }
    gochan::select! {
        recv(Some(r).unwrap_or(never())) -> _ => {},
        default => {}
    }
}

// crossbeam-channel tests/select_macro.rs: once_receiver, once_sender (the handle and
// value expressions are evaluated once), with Go's rule for their order: "the channel
// operands of receive operations and the channel and right-hand-side expressions of send
// statements are evaluated exactly once, in source order, upon entering the select".
#[test]
fn select_macro_evaluation_order() {
    let log = std::cell::RefCell::new(Vec::new());
    let ev = |name: &'static str| log.borrow_mut().push(name);
    let (s1, _r1) = bounded::<i32>(0);
    let (_s2, r2) = bounded::<i32>(0);
    let (s3, _r3) = bounded::<i32>(0);
    gochan::select! {
        send({ ev("ch1"); &s1 }, { ev("v1"); 1 }) -> _ => {},
        recv({ ev("ch2"); &r2 }) -> _ => {},
        send({ ev("ch3"); &s3 }, { ev("v3"); 3 }) -> _ => {},
        default => {}
    }
    assert_eq!(*log.borrow(), ["ch1", "v1", "ch2", "ch3", "v3"]);
}

// crossbeam-channel tests/select_macro.rs: case_blocks
#[allow(clippy::never_loop, clippy::match_single_binding)]
#[test]
fn select_macro_case_blocks() {
    let (s, r) = unbounded::<i32>();
    let _ = gochan::select! {
        recv(r) -> _ => 3.0,
        recv(r) -> _ => loop {
            unreachable!()
        },
        recv(r) -> _ => match 7 + 3 {
            _ => unreachable!()
        },
        default => 7.
    };
    gochan::select! {
        recv(r) -> msg => if msg.is_ok() {
            unreachable!()
        },
        default => ()
    }
    drop(s);
}

// crossbeam-channel tests/select_macro.rs: move_handles
#[allow(clippy::redundant_closure_call)]
#[test]
fn select_macro_move_handles() {
    let (s, r) = unbounded::<i32>();
    gochan::select! {
        recv((move || r)()) -> _ => {}
        send((move || s)(), 0) -> _ => {}
    }
}

// crossbeam-channel tests/select_macro.rs: infer_types
#[test]
fn select_macro_infer_types() {
    let (s, r) = unbounded();
    gochan::select! {
        recv(r) -> _ => {}
        default => {}
    }
    s.send(()).unwrap();
    let (s, r) = unbounded();
    gochan::select! {
        send(s, ()) -> _ => {}
    }
    r.recv().unwrap();
}

// crossbeam-channel tests/select_macro.rs: default_syntax
// (crossbeam also accepts `default() => ..`; gochan's `default` takes a timeout in
// parentheses or none.)
#[test]
fn select_macro_default_syntax() {
    let (s, r) = bounded::<i32>(0);
    gochan::select! {
        recv(r) -> _ => panic!(),
        default => {}
    }
    gochan::select! {
        send(s, 0) -> _ => panic!(),
        default => {}
    }
    gochan::select! {
        default => {}
    }
}

// crossbeam-channel tests/select_macro.rs: same_variable_name
#[test]
fn select_macro_same_variable_name() {
    let (_, r) = unbounded::<i32>();
    gochan::select! {
        recv(r) -> r => assert!(r.is_err()),
    }
}

// crossbeam-channel tests/select_macro.rs: handles_on_heap
#[test]
fn select_macro_handles_on_heap() {
    let (s, r) = unbounded::<i32>();
    let (s, r) = (Box::new(s), Box::new(r));
    gochan::select! {
        send(*s, 0) -> _ => {}
        recv(*r) -> _ => {}
        default => {}
    }
    drop(s);
    drop(r);
}

// crossbeam-channel tests/select_macro.rs: once_blocks
#[test]
fn select_macro_once_blocks() {
    let (s, r) = unbounded::<i32>();
    let once = Box::new(());
    gochan::select! {
        send(s, 0) -> _ => drop(once),
    }
    let once = Box::new(());
    gochan::select! {
        recv(r) -> _ => drop(once),
    }
    let once1 = Box::new(());
    let once2 = Box::new(());
    gochan::select! {
        send(s, 0) -> _ => drop(once1),
        default => drop(once2),
    }
    let once1 = Box::new(());
    let once2 = Box::new(());
    gochan::select! {
        recv(r) -> _ => drop(once1),
        default => drop(once2),
    }
    let once1 = Box::new(());
    let once2 = Box::new(());
    gochan::select! {
        recv(r) -> _ => drop(once1),
        send(s, 0) -> _ => drop(once2),
    }
}

// crossbeam-channel tests/select_macro.rs: once_receiver
#[test]
fn select_macro_once_receiver() {
    let (_, r) = unbounded::<i32>();
    let once = Box::new(());
    let get = move || {
        drop(once);
        r
    };
    gochan::select! {
        recv(get()) -> _ => {}
    }
}

// crossbeam-channel tests/select_macro.rs: once_sender
#[test]
fn select_macro_once_sender() {
    let (s, _) = unbounded::<i32>();
    let once = Box::new(());
    let get = move || {
        drop(once);
        s
    };
    gochan::select! {
        send(get(), 5) -> _ => {}
    }
}

// crossbeam-channel tests/select_macro.rs: parse_nesting
#[test]
fn select_macro_parse_nesting() {
    let (_, r) = unbounded::<i32>();
    gochan::select! {
        recv(r) -> _ => {}
        recv(r) -> _ => {
            gochan::select! {
                recv(r) -> _ => {}
                recv(r) -> _ => {
                    gochan::select! {
                        recv(r) -> _ => {}
                        recv(r) -> _ => {
                            gochan::select! {
                                default => {}
                            }
                        }
                    }
                }
            }
        }
    }
}

// crossbeam-channel tests/select_macro.rs: evaluate
#[test]
fn select_macro_evaluate() {
    let (s, r) = unbounded::<i32>();
    let v: String = gochan::select! {
        recv(r) -> _ => "foo".into(),
        send(s, 0) -> _ => "bar".to_owned(),
        default => "baz".to_string(),
    };
    assert_eq!(v, "bar");
    let v: String = gochan::select! {
        recv(r) -> _ => "foo".into(),
        default => "baz".to_string(),
    };
    assert_eq!(v, "foo");
    let v: String = gochan::select! {
        recv(r) -> _ => "foo".into(),
        default => "baz".to_string(),
    };
    assert_eq!(v, "baz");
}

// crossbeam-channel tests/select_macro.rs: deref
#[test]
fn select_macro_deref() {
    struct MySender<T>(Sender<T>);
    struct MyReceiver<T>(Receiver<T>);
    impl<T> std::ops::Deref for MyReceiver<T> {
        type Target = Receiver<T>;
        fn deref(&self) -> &Self::Target {
            &self.0
        }
    }
    impl<T> std::ops::Deref for MySender<T> {
        type Target = Sender<T>;
        fn deref(&self) -> &Self::Target {
            &self.0
        }
    }
    let (s, r) = bounded::<i32>(0);
    let (s, r) = (MySender(s), MyReceiver(r));
    gochan::select! {
        send(s, 0) -> _ => panic!(),
        recv(r) -> _ => panic!(),
        default => {}
    }
}

// crossbeam-channel tests/select_macro.rs: result_types
#[test]
fn select_macro_result_types() {
    let (s, _) = bounded::<i32>(0);
    let (_, r) = bounded::<i32>(0);
    gochan::select! {
        recv(r) -> res => { let _: Result<i32, RecvError> = res; },
    }
    gochan::select! {
        recv(r) -> res => { let _: Result<i32, RecvError> = res; },
        default => {}
    }
    gochan::select! {
        recv(r) -> res => { let _: Result<i32, RecvError> = res; },
        default(ms(0)) => {}
    }
    gochan::select! {
        send(s, 0) -> res => { let _: Result<(), SendError<i32>> = res; },
    }
    gochan::select! {
        send(s, 0) -> res => { let _: Result<(), SendError<i32>> = res; },
        default => {}
    }
    gochan::select! {
        send(s, 0) -> res => { let _: Result<(), SendError<i32>> = res; },
        default(ms(0)) => {}
    }
    gochan::select! {
        send(s, 0) -> res => { let _: Result<(), SendError<i32>> = res; },
        recv(r) -> res => { let _: Result<i32, RecvError> = res; },
    }
}

// crossbeam-channel tests/select_macro.rs: try_recv
#[test]
fn select_macro_try_recv() {
    let (s, r) = bounded(0);
    let (go_s, go_r) = bounded::<()>(0);
    thread::scope(|scope| {
        let sender = scope.spawn(move || {
            go_r.recv().unwrap();
            gochan::select! {
                send(s, 7) -> res => res.unwrap(),
            }
        });
        gochan::select! {
            recv(r) -> _ => panic!(),
            default => {}
        }
        go_s.send(()).unwrap();
        thread::sleep(ms(30));
        let v = eventually("a waiting sender", || {
            gochan::select! {
                recv(r) -> v => Some(v),
                default => None,
            }
        });
        assert_eq!(v, Ok(7));
        sender.join().unwrap();
        gochan::select! {
            recv(r) -> v => assert_eq!(v, Err(RecvError)),
            default => panic!(),
        }
    });
}

// crossbeam-channel tests/select_macro.rs: recv
#[test]
fn select_macro_recv() {
    let (s, r) = bounded(0);
    thread::scope(|scope| {
        scope.spawn(move || {
            gochan::select! {
                recv(r) -> v => assert_eq!(v, Ok(7)),
            }
            thread::sleep(ms(20));
            gochan::select! {
                recv(r) -> v => assert_eq!(v, Ok(8)),
            }
            thread::sleep(ms(20));
            gochan::select! {
                recv(r) -> v => assert_eq!(v, Ok(9)),
            }
            gochan::select! {
                recv(r) -> v => assert_eq!(v, Err(RecvError)),
            }
        });
        scope.spawn(move || {
            thread::sleep(ms(30));
            gochan::select! {
                send(s, 7) -> res => res.unwrap(),
            }
            gochan::select! {
                send(s, 8) -> res => res.unwrap(),
            }
            gochan::select! {
                send(s, 9) -> res => res.unwrap(),
            }
        });
    });
}

// crossbeam-channel tests/select_macro.rs: recv_timeout
#[test]
fn select_macro_recv_timeout() {
    let (s, r) = bounded::<i32>(0);
    let (go_s, go_r) = bounded::<()>(0);
    thread::scope(|scope| {
        scope.spawn(move || {
            gochan::select! {
                recv(r) -> _ => panic!(),
                default(ms(30)) => {}
            }
            go_s.send(()).unwrap();
            gochan::select! {
                recv(r) -> v => assert_eq!(v, Ok(7)),
                default(ms(5_000)) => panic!(),
            }
            gochan::select! {
                recv(r) -> v => assert_eq!(v, Err(RecvError)),
                default(ms(5_000)) => panic!(),
            }
        });
        scope.spawn(move || {
            go_r.recv().unwrap();
            thread::sleep(ms(20));
            gochan::select! {
                send(s, 7) -> res => res.unwrap(),
            }
        });
    });
}

// crossbeam-channel tests/select_macro.rs: try_send
#[test]
fn select_macro_try_send() {
    let (s, r) = bounded(0);
    let (go_s, go_r) = bounded::<()>(0);
    thread::scope(|scope| {
        let receiver = scope.spawn(move || {
            go_r.recv().unwrap();
            gochan::select! {
                recv(r) -> v => assert_eq!(v, Ok(8)),
            }
        });
        gochan::select! {
            send(s, 7) -> _ => panic!(),
            default => {}
        }
        go_s.send(()).unwrap();
        thread::sleep(ms(30));
        eventually("a waiting receiver", || {
            gochan::select! {
                send(s, 8) -> res => {
                    res.unwrap();
                    Some(())
                }
                default => None,
            }
        });
        receiver.join().unwrap();
        gochan::select! {
            send(s, 8) -> res => assert_eq!(res, Err(SendError(8))),
            default => panic!(),
        }
    });
}

// crossbeam-channel tests/select_macro.rs: send
#[test]
fn select_macro_send() {
    let (s, r) = bounded(0);
    thread::scope(|scope| {
        scope.spawn(move || {
            gochan::select! {
                send(s, 7) -> res => res.unwrap(),
            }
            thread::sleep(ms(20));
            gochan::select! {
                send(s, 8) -> res => res.unwrap(),
            }
            thread::sleep(ms(20));
            gochan::select! {
                send(s, 9) -> res => res.unwrap(),
            }
        });
        scope.spawn(move || {
            thread::sleep(ms(30));
            gochan::select! {
                recv(r) -> v => assert_eq!(v, Ok(7)),
            }
            gochan::select! {
                recv(r) -> v => assert_eq!(v, Ok(8)),
            }
            gochan::select! {
                recv(r) -> v => assert_eq!(v, Ok(9)),
            }
        });
    });
}

// crossbeam-channel tests/select_macro.rs: send_timeout
#[test]
fn select_macro_send_timeout() {
    let (s, r) = bounded(0);
    let (go_s, go_r) = bounded::<()>(0);
    thread::scope(|scope| {
        let receiver = scope.spawn(move || {
            go_r.recv().unwrap();
            thread::sleep(ms(20));
            gochan::select! {
                recv(r) -> v => assert_eq!(v, Ok(8)),
            }
        });
        gochan::select! {
            send(s, 7) -> _ => panic!(),
            default(ms(30)) => {}
        }
        go_s.send(()).unwrap();
        gochan::select! {
            send(s, 8) -> res => res.unwrap(),
            default(ms(5_000)) => panic!(),
        }
        receiver.join().unwrap();
        gochan::select! {
            send(s, 9) -> res => assert_eq!(res, Err(SendError(9))),
            default(ms(5_000)) => panic!(),
        }
    });
}

// crossbeam-channel tests/select_macro.rs: disconnect_wakes_sender
#[test]
fn select_macro_disconnect_wakes_sender() {
    let (s, r) = bounded(0);
    thread::scope(|scope| {
        scope.spawn(move || {
            gochan::select! {
                send(s, ()) -> res => assert_eq!(res, Err(SendError(()))),
            }
        });
        scope.spawn(move || {
            thread::sleep(ms(30));
            drop(r);
        });
    });
}

// crossbeam-channel tests/select_macro.rs: disconnect_wakes_receiver
#[test]
fn select_macro_disconnect_wakes_receiver() {
    let (s, r) = bounded::<()>(0);
    thread::scope(|scope| {
        scope.spawn(move || {
            gochan::select! {
                recv(r) -> res => assert_eq!(res, Err(RecvError)),
            }
        });
        scope.spawn(move || {
            thread::sleep(ms(30));
            drop(s);
        });
    });
}

// ---------------------------------------------------------------------------------------
// crossbeam-channel tests/select.rs: the dynamic `Select`.
// In crossbeam the chosen operation is performed through `SelectedOperation`; in gochan
// it is performed by `select()` itself (a send's value is given when the operation is
// added) and `SelectedOperation` hands over its result.
// ---------------------------------------------------------------------------------------

// crossbeam-channel tests/select.rs: smoke1
#[test]
fn select_smoke1() {
    let (s1, r1) = unbounded::<usize>();
    let (s2, r2) = unbounded::<usize>();
    s1.send(1).unwrap();
    let mut sel = Select::new();
    let oper1 = sel.recv(&r1);
    let oper2 = sel.recv(&r2);
    let oper = sel.select();
    match oper.index() {
        i if i == oper1 => assert_eq!(oper.recv(&r1), Ok(1)),
        i if i == oper2 => panic!(),
        _ => unreachable!(),
    }
    s2.send(2).unwrap();
    let mut sel = Select::new();
    let oper1 = sel.recv(&r1);
    let oper2 = sel.recv(&r2);
    let oper = sel.select();
    match oper.index() {
        i if i == oper1 => panic!(),
        i if i == oper2 => assert_eq!(oper.recv(&r2), Ok(2)),
        _ => unreachable!(),
    }
}

// crossbeam-channel tests/select.rs: disconnected
#[test]
fn select_disconnected() {
    let (s1, r1) = unbounded::<i32>();
    let (s2, r2) = unbounded::<i32>();
    thread::scope(|scope| {
        scope.spawn(|| {
            drop(s1);
            thread::sleep(ms(30));
            s2.send(5).unwrap();
        });
        let mut sel = Select::new();
        let oper1 = sel.recv(&r1);
        let oper2 = sel.recv(&r2);
        match sel.select_timeout(ms(5_000)) {
            Err(_) => panic!(),
            Ok(oper) => match oper.index() {
                i if i == oper1 => assert!(oper.recv(&r1).is_err()),
                i if i == oper2 => panic!(),
                _ => unreachable!(),
            },
        }
        r2.recv().unwrap();
    });
    let mut sel = Select::new();
    let oper1 = sel.recv(&r1);
    let oper2 = sel.recv(&r2);
    match sel.select_timeout(ms(5_000)) {
        Err(_) => panic!(),
        Ok(oper) => match oper.index() {
            i if i == oper1 => assert!(oper.recv(&r1).is_err()),
            i if i == oper2 => panic!(),
            _ => unreachable!(),
        },
    }
    thread::scope(|scope| {
        scope.spawn(|| {
            thread::sleep(ms(30));
            drop(s2);
        });
        let mut sel = Select::new();
        let oper1 = sel.recv(&r2);
        match sel.select_timeout(ms(5_000)) {
            Err(_) => panic!(),
            Ok(oper) => match oper.index() {
                i if i == oper1 => assert!(oper.recv(&r2).is_err()),
                _ => unreachable!(),
            },
        }
    });
}

// crossbeam-channel tests/select.rs: default
#[test]
fn select_default() {
    let (s1, r1) = unbounded::<i32>();
    let (s2, r2) = unbounded::<i32>();
    let mut sel = Select::new();
    sel.recv(&r1);
    sel.recv(&r2);
    assert!(sel.try_select().is_err());
    drop(s1);
    let mut sel = Select::new();
    let oper1 = sel.recv(&r1);
    let oper2 = sel.recv(&r2);
    match sel.try_select() {
        Err(_) => panic!(),
        Ok(oper) => match oper.index() {
            i if i == oper1 => assert!(oper.recv(&r1).is_err()),
            i if i == oper2 => panic!(),
            _ => unreachable!(),
        },
    }
    s2.send(2).unwrap();
    let mut sel = Select::new();
    let oper1 = sel.recv(&r2);
    match sel.try_select() {
        Err(_) => panic!(),
        Ok(oper) => match oper.index() {
            i if i == oper1 => assert_eq!(oper.recv(&r2), Ok(2)),
            _ => unreachable!(),
        },
    }
    let mut sel = Select::new();
    sel.recv(&r2);
    assert!(sel.try_select().is_err());
    let mut sel = Select::new();
    assert!(sel.try_select().is_err());
}

// crossbeam-channel tests/select.rs: timeout
#[test]
fn select_timeout() {
    let (_s1, r1) = unbounded::<i32>();
    let (s2, r2) = unbounded::<i32>();
    let (go_s, go_r) = bounded::<()>(0);
    thread::scope(|scope| {
        scope.spawn(|| {
            go_r.recv().unwrap();
            thread::sleep(ms(20));
            s2.send(2).unwrap();
        });
        let mut sel = Select::new();
        sel.recv(&r1);
        sel.recv(&r2);
        assert!(sel.select_timeout(ms(30)).is_err());
        go_s.send(()).unwrap();
        let mut sel = Select::new();
        let oper1 = sel.recv(&r1);
        let oper2 = sel.recv(&r2);
        match sel.select_timeout(ms(5_000)) {
            Err(_) => panic!(),
            Ok(oper) => match oper.index() {
                i if i == oper1 => panic!(),
                i if i == oper2 => assert_eq!(oper.recv(&r2), Ok(2)),
                _ => unreachable!(),
            },
        }
    });
    let (s, r) = unbounded::<i32>();
    thread::spawn(move || drop(s)).join().unwrap();
    let mut sel = Select::new();
    match sel.select_timeout(ms(30)) {
        Err(_) => {
            let mut sel = Select::new();
            let oper1 = sel.recv(&r);
            match sel.try_select() {
                Err(_) => panic!(),
                Ok(oper) => match oper.index() {
                    i if i == oper1 => assert!(oper.recv(&r).is_err()),
                    _ => unreachable!(),
                },
            }
        }
        Ok(_) => unreachable!(),
    }
}

// crossbeam-channel tests/select.rs: default_when_disconnected
#[test]
fn select_default_when_disconnected() {
    let (_, r) = unbounded::<i32>();
    let mut sel = Select::new();
    let oper1 = sel.recv(&r);
    match sel.try_select() {
        Err(_) => panic!(),
        Ok(oper) => match oper.index() {
            i if i == oper1 => assert!(oper.recv(&r).is_err()),
            _ => unreachable!(),
        },
    }
    let (_, r) = unbounded::<i32>();
    let mut sel = Select::new();
    let oper1 = sel.recv(&r);
    match sel.select_timeout(ms(1000)) {
        Err(_) => panic!(),
        Ok(oper) => match oper.index() {
            i if i == oper1 => assert!(oper.recv(&r).is_err()),
            _ => unreachable!(),
        },
    }
    let (s, _) = bounded::<i32>(0);
    let mut sel = Select::new();
    let oper1 = sel.send(&s, 0);
    match sel.try_select() {
        Err(_) => panic!(),
        Ok(oper) => match oper.index() {
            i if i == oper1 => assert_eq!(oper.send(&s), Err(SendError(0))),
            _ => unreachable!(),
        },
    }
    let (s, _) = bounded::<i32>(0);
    let mut sel = Select::new();
    let oper1 = sel.send(&s, 0);
    match sel.select_timeout(ms(1000)) {
        Err(_) => panic!(),
        Ok(oper) => match oper.index() {
            i if i == oper1 => assert_eq!(oper.send(&s), Err(SendError(0))),
            _ => unreachable!(),
        },
    }
}

// crossbeam-channel tests/select.rs: default_only
#[test]
fn select_default_only() {
    let start = Instant::now();
    let mut sel = Select::new();
    assert!(sel.try_select().is_err());
    assert!(start.elapsed() <= ms(1_000));
    let start = Instant::now();
    let mut sel = Select::new();
    assert!(sel.select_timeout(ms(50)).is_err());
    assert!(start.elapsed() >= ms(50));
}

// crossbeam-channel tests/select.rs: unblocks
#[test]
fn select_unblocks() {
    let (s1, r1) = bounded::<i32>(0);
    let (s2, r2) = bounded::<i32>(0);
    thread::scope(|scope| {
        scope.spawn(|| {
            thread::sleep(ms(30));
            s2.send(2).unwrap();
        });
        let mut sel = Select::new();
        let oper1 = sel.recv(&r1);
        let oper2 = sel.recv(&r2);
        match sel.select_timeout(ms(5_000)) {
            Err(_) => panic!(),
            Ok(oper) => match oper.index() {
                i if i == oper1 => panic!(),
                i if i == oper2 => assert_eq!(oper.recv(&r2), Ok(2)),
                _ => unreachable!(),
            },
        }
    });
    thread::scope(|scope| {
        scope.spawn(|| {
            thread::sleep(ms(30));
            assert_eq!(r1.recv().unwrap(), 1);
        });
        let mut sel = Select::new();
        let oper1 = sel.send(&s1, 1);
        let oper2 = sel.send(&s2, 2);
        match sel.select_timeout(ms(5_000)) {
            Err(_) => panic!(),
            Ok(oper) => match oper.index() {
                i if i == oper1 => oper.send(&s1).unwrap(),
                i if i == oper2 => panic!(),
                _ => unreachable!(),
            },
        }
    });
}

// crossbeam-channel tests/select.rs: both_ready
#[test]
fn select_both_ready() {
    let (s1, r1) = bounded(0);
    let (s2, r2) = bounded(0);
    thread::scope(|scope| {
        scope.spawn(|| {
            thread::sleep(ms(30));
            s1.send(1).unwrap();
            assert_eq!(r2.recv().unwrap(), 2);
        });
        for _ in 0..2 {
            let mut sel = Select::new();
            let oper1 = sel.recv(&r1);
            let oper2 = sel.send(&s2, 2);
            let oper = sel.select();
            match oper.index() {
                i if i == oper1 => assert_eq!(oper.recv(&r1), Ok(1)),
                i if i == oper2 => oper.send(&s2).unwrap(),
                _ => unreachable!(),
            }
        }
    });
}

// crossbeam-channel tests/select.rs: duplicate_operations
#[test]
fn select_duplicate_operations() {
    let (s, r) = unbounded::<i32>();
    let hit = vec![Cell::new(false); 4];
    while hit.iter().map(|h| h.get()).any(|hit| !hit) {
        let mut sel = Select::new();
        let oper0 = sel.recv(&r);
        let oper1 = sel.recv(&r);
        let oper2 = sel.send(&s, 0);
        let oper3 = sel.send(&s, 0);
        let oper = sel.select();
        match oper.index() {
            i if i == oper0 => {
                assert!(oper.recv(&r).is_ok());
                hit[0].set(true);
            }
            i if i == oper1 => {
                assert!(oper.recv(&r).is_ok());
                hit[1].set(true);
            }
            i if i == oper2 => {
                assert!(oper.send(&s).is_ok());
                hit[2].set(true);
            }
            i if i == oper3 => {
                assert!(oper.send(&s).is_ok());
                hit[3].set(true);
            }
            _ => unreachable!(),
        }
    }
}

// crossbeam-channel tests/select.rs: nesting
#[test]
fn select_nesting() {
    let (s, r) = unbounded::<i32>();
    let mut sel = Select::new();
    let oper1 = sel.send(&s, 0);
    let oper = sel.select();
    assert_eq!(oper.index(), oper1);
    assert!(oper.send(&s).is_ok());
    let mut sel = Select::new();
    let oper1 = sel.recv(&r);
    let oper = sel.select();
    assert_eq!(oper.index(), oper1);
    assert_eq!(oper.recv(&r), Ok(0));
    let mut sel = Select::new();
    let oper1 = sel.send(&s, 1);
    let oper = sel.select();
    assert_eq!(oper.index(), oper1);
    assert!(oper.send(&s).is_ok());
    let mut sel = Select::new();
    let oper1 = sel.recv(&r);
    let oper = sel.select();
    assert_eq!(oper.index(), oper1);
    assert_eq!(oper.recv(&r), Ok(1));
}

// crossbeam-channel tests/select.rs: stress_mixed
#[test]
fn select_stress_mixed() {
    const COUNT: usize = 1_000;
    let (s1, r1) = bounded(0);
    let (s2, r2) = bounded(0);
    let (s3, r3) = bounded(100);
    thread::scope(|scope| {
        scope.spawn(|| {
            for i in 0..COUNT {
                s1.send(i).unwrap();
                assert_eq!(r2.recv().unwrap(), i);
                r3.recv().unwrap();
            }
        });
        for i in 0..COUNT {
            for _ in 0..2 {
                let mut sel = Select::new();
                let oper1 = sel.recv(&r1);
                let oper2 = sel.send(&s2, i);
                let oper = sel.select();
                match oper.index() {
                    ix if ix == oper1 => assert_eq!(oper.recv(&r1), Ok(i)),
                    ix if ix == oper2 => assert!(oper.send(&s2).is_ok()),
                    _ => unreachable!(),
                }
            }
            s3.send(()).unwrap();
        }
    });
}

// crossbeam-channel tests/select.rs: matching
#[test]
fn select_matching() {
    const THREADS: usize = 44;
    let (s, r) = &bounded::<usize>(0);
    thread::scope(|scope| {
        for i in 0..THREADS {
            scope.spawn(move || {
                let mut sel = Select::new();
                let oper1 = sel.recv(r);
                let oper2 = sel.send(s, i);
                let oper = sel.select();
                match oper.index() {
                    ix if ix == oper1 => assert_ne!(oper.recv(r), Ok(i)),
                    ix if ix == oper2 => assert!(oper.send(s).is_ok()),
                    _ => unreachable!(),
                }
            });
        }
    });
    assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
}

// crossbeam-channel tests/select.rs: channel_through_channel
#[test]
fn select_channel_through_channel() {
    const COUNT: usize = 200;
    for cap in 0..3 {
        let (s, r) = bounded::<Payload>(cap);
        thread::scope(|scope| {
            scope.spawn(move || {
                let mut s = s;
                for _ in 0..COUNT {
                    let (new_s, new_r) = bounded(cap);
                    let new_r: Payload = Box::new(Some(new_r));
                    {
                        let mut sel = Select::new();
                        let oper1 = sel.send(&s, new_r);
                        let oper = sel.select();
                        assert_eq!(oper.index(), oper1);
                        assert!(oper.send(&s).is_ok());
                    }
                    s = new_s;
                }
            });
            scope.spawn(move || {
                let mut r = r;
                for _ in 0..COUNT {
                    let new = {
                        let mut sel = Select::new();
                        let oper1 = sel.recv(&r);
                        let oper = sel.select();
                        assert_eq!(oper.index(), oper1);
                        oper.recv(&r)
                            .unwrap()
                            .downcast_mut::<Option<Receiver<Payload>>>()
                            .unwrap()
                            .take()
                            .unwrap()
                    };
                    r = new;
                }
            });
        });
    }
}

/// crossbeam's `linearizable_try` / `linearizable_timeout` for `Select`.
fn select_linearizable_body(timeout: bool) {
    const COUNT: usize = 2_000;
    for step in 0..2 {
        let (start_s, start_r) = bounded::<()>(0);
        let (end_s, end_r) = bounded::<()>(0);
        let ((s1, r1), (s2, r2)) = if step == 0 {
            (bounded::<i32>(1), bounded::<i32>(1))
        } else {
            (unbounded::<i32>(), unbounded::<i32>())
        };
        thread::scope(|scope| {
            scope.spawn(|| {
                for _ in 0..COUNT {
                    start_s.send(()).unwrap();
                    s1.send(1).unwrap();
                    let mut sel = Select::new();
                    let oper1 = sel.recv(&r1);
                    let oper2 = sel.recv(&r2);
                    let oper = if timeout {
                        sel.select_timeout(ms(0)).ok()
                    } else {
                        sel.try_select().ok()
                    };
                    match oper {
                        None => unreachable!("neither channel seen ready"),
                        Some(oper) => match oper.index() {
                            ix if ix == oper1 => assert!(oper.recv(&r1).is_ok()),
                            ix if ix == oper2 => assert!(oper.recv(&r2).is_ok()),
                            _ => unreachable!(),
                        },
                    }
                    end_s.send(()).unwrap();
                    let _ = r2.try_recv();
                }
            });
            for _ in 0..COUNT {
                start_r.recv().unwrap();
                s2.send(1).unwrap();
                let _ = r1.try_recv();
                end_r.recv().unwrap();
            }
        });
    }
}

// crossbeam-channel tests/select.rs: linearizable_try
#[test]
fn select_linearizable_try() {
    select_linearizable_body(false);
}

// crossbeam-channel tests/select.rs: linearizable_timeout
#[test]
fn select_linearizable_timeout() {
    select_linearizable_body(true);
}

// crossbeam-channel tests/select.rs: fairness1
// (Without the always-ready `tick(0)` arm: gochan's `tick(0)` is Go's nil channel.)
#[test]
fn select_fairness1() {
    const COUNT: usize = 3_000;
    let (s1, r1) = bounded::<()>(COUNT);
    let (s2, r2) = unbounded::<()>();
    for _ in 0..COUNT {
        s1.send(()).unwrap();
        s2.send(()).unwrap();
    }
    let hits = vec![Cell::new(0usize); 3];
    for _ in 0..COUNT {
        let after = after(ms(0));
        let mut sel = Select::new();
        let oper1 = sel.recv(&r1);
        let oper2 = sel.recv(&r2);
        let oper3 = sel.recv(&after);
        let oper = sel.select();
        match oper.index() {
            i if i == oper1 => {
                oper.recv(&r1).unwrap();
                hits[0].set(hits[0].get() + 1);
            }
            i if i == oper2 => {
                oper.recv(&r2).unwrap();
                hits[1].set(hits[1].get() + 1);
            }
            i if i == oper3 => {
                oper.recv(&after).unwrap();
                hits[2].set(hits[2].get() + 1);
            }
            _ => unreachable!(),
        }
    }
    assert!(
        hits.iter().all(|x| x.get() >= COUNT / hits.len() / 2),
        "{hits:?}"
    );
}

// crossbeam-channel tests/select.rs: fairness2
#[test]
fn select_fairness2() {
    const COUNT: usize = 3_000;
    let (s1, r1) = unbounded::<()>();
    let (s2, r2) = bounded::<()>(1);
    let (s3, r3) = bounded::<()>(0);
    thread::scope(|scope| {
        scope.spawn(|| {
            for _ in 0..COUNT {
                let mut sel = Select::new();
                let mut oper1 = None;
                let mut oper2 = None;
                if s1.is_empty() {
                    oper1 = Some(sel.send(&s1, ()));
                }
                if s2.is_empty() {
                    oper2 = Some(sel.send(&s2, ()));
                }
                let oper3 = sel.send(&s3, ());
                let oper = sel.select();
                match oper.index() {
                    i if Some(i) == oper1 => assert!(oper.send(&s1).is_ok()),
                    i if Some(i) == oper2 => assert!(oper.send(&s2).is_ok()),
                    i if i == oper3 => assert!(oper.send(&s3).is_ok()),
                    _ => unreachable!(),
                }
            }
        });
        let hits = vec![Cell::new(0usize); 3];
        for _ in 0..COUNT {
            let mut sel = Select::new();
            let oper1 = sel.recv(&r1);
            let oper2 = sel.recv(&r2);
            let oper3 = sel.recv(&r3);
            let oper = sel.select();
            match oper.index() {
                i if i == oper1 => {
                    oper.recv(&r1).unwrap();
                    hits[0].set(hits[0].get() + 1);
                }
                i if i == oper2 => {
                    oper.recv(&r2).unwrap();
                    hits[1].set(hits[1].get() + 1);
                }
                i if i == oper3 => {
                    oper.recv(&r3).unwrap();
                    hits[2].set(hits[2].get() + 1);
                }
                _ => unreachable!(),
            }
        }
        assert!(
            hits.iter().all(|x| x.get() >= COUNT / hits.len() / 50),
            "{hits:?}"
        );
    });
}

// crossbeam-channel tests/select.rs: reuse
// A gochan `Select` may be run again; a send that ran is spent, so the pair of
// operations is rebuilt for each round, and within a round each runs exactly once.
#[test]
fn select_reuse() {
    const COUNT: usize = 1_000;
    let (s1, r1) = bounded(0);
    let (s2, r2) = bounded(0);
    let (s3, r3) = bounded(100);
    thread::scope(|scope| {
        scope.spawn(|| {
            for i in 0..COUNT {
                s1.send(i).unwrap();
                assert_eq!(r2.recv().unwrap(), i);
                r3.recv().unwrap();
            }
        });
        for i in 0..COUNT {
            let mut sel = Select::new();
            let oper1 = sel.recv(&r1);
            let oper2 = sel.send(&s2, i);
            let mut done = [false; 2];
            for _ in 0..2 {
                let oper = sel.select();
                match oper.index() {
                    ix if ix == oper1 => {
                        assert!(!done[0]);
                        done[0] = true;
                        assert_eq!(oper.recv(&r1), Ok(i));
                    }
                    ix if ix == oper2 => {
                        assert!(!done[1]);
                        done[1] = true;
                        assert!(oper.send(&s2).is_ok());
                    }
                    _ => unreachable!(),
                }
            }
            s3.send(()).unwrap();
        }
    });
}

// crossbeam-channel tests/select.rs: issue_1096
// The chosen operation's result can be taken through a clone of the handle it was added
// with (same channel).
#[test]
fn select_issue_1096() {
    for cap in [None, Some(2)] {
        let (tx, rx) = chan::<u32>(cap);
        tx.send(123).unwrap();
        let mut select = Select::new();
        select.recv(&rx);
        let operation = select.select();
        assert_eq!(operation.recv(&rx.clone()).unwrap(), 123);

        let (tx, rx) = chan::<u32>(cap);
        let mut select = Select::new();
        select.send(&tx, 124);
        let operation = select.select();
        operation.send(&tx.clone()).unwrap();
        assert_eq!(rx.recv().unwrap(), 124);
    }
    let (tx, rx) = bounded::<u32>(0);
    thread::scope(|scope| {
        scope.spawn(|| tx.send(123).unwrap());
        let mut select = Select::new();
        select.recv(&rx);
        let operation = select.select();
        assert_eq!(operation.recv(&rx.clone()).unwrap(), 123);
    });
    let (tx, rx) = bounded::<u32>(0);
    thread::scope(|scope| {
        scope.spawn(|| assert_eq!(rx.recv().unwrap(), 124));
        let mut select = Select::new();
        select.send(&tx, 124);
        let operation = select.select();
        operation.send(&tx.clone()).unwrap();
    });
}

// crossbeam-channel tests/select.rs: forget_select_zero, forget_select_bounded,
// forget_select_unbounded
// Forgetting the `SelectedOperation` must not wedge the channel: in gochan the operation
// is already complete when `select()` returns.
#[test]
fn select_forget_selected_operation() {
    for cap in [Some(0), Some(2), None] {
        let (s, r) = chan::<Box<u8>>(cap);
        let s2 = s.clone();
        let th = thread::spawn(move || {
            let mut sel = Select::new();
            sel.send(&s2, Box::new(1));
            let oper = sel.select();
            #[allow(clippy::forget_non_drop)] // the point of the crossbeam test
            std::mem::forget(oper);
        });
        thread::sleep(ms(20));
        if cap == Some(0) {
            assert_eq!(*r.recv().unwrap(), 1);
        }
        th.join().unwrap();
        if cap != Some(0) {
            assert_eq!(*r.recv().unwrap(), 1);
        }
        drop(s);
        assert!(r.recv().is_err());
    }
}

// ---------------------------------------------------------------------------------------
// crossbeam-channel tests/mpsc.rs: std::sync::mpsc's tests, `channel()` as `unbounded()`
// and `sync_channel(n)` as `bounded(n)`.
// ---------------------------------------------------------------------------------------

// crossbeam-channel tests/mpsc.rs: channel_tests::smoke, sync_channel_tests::smoke
#[test]
fn mpsc_smoke() {
    for cap in [None, Some(1)] {
        let (tx, rx) = chan::<i32>(cap);
        tx.send(1).unwrap();
        assert_eq!(rx.recv().unwrap(), 1);
    }
}

// crossbeam-channel tests/mpsc.rs: channel_tests::drop_full, drop_full_shared,
// sync_channel_tests::drop_full
#[test]
fn mpsc_drop_full() {
    for cap in [None, Some(1)] {
        let (tx, _rx) = chan::<Box<isize>>(cap);
        tx.send(Box::new(1)).unwrap();
        let (tx, _rx) = chan::<Box<isize>>(cap);
        drop(tx.clone());
        drop(tx.clone());
        tx.send(Box::new(1)).unwrap();
    }
}

// crossbeam-channel tests/mpsc.rs: channel_tests::smoke_shared, sync_channel_tests::smoke_shared
#[test]
fn mpsc_smoke_shared() {
    for cap in [None, Some(1)] {
        let (tx, rx) = chan::<i32>(cap);
        tx.send(1).unwrap();
        assert_eq!(rx.recv().unwrap(), 1);
        let tx = tx.clone();
        tx.send(1).unwrap();
        assert_eq!(rx.recv().unwrap(), 1);
    }
}

// crossbeam-channel tests/mpsc.rs: channel_tests::smoke_threads, sync_channel_tests::smoke_threads
#[test]
fn mpsc_smoke_threads() {
    for cap in [None, Some(0)] {
        let (tx, rx) = chan::<i32>(cap);
        let t = thread::spawn(move || {
            tx.send(1).unwrap();
        });
        assert_eq!(rx.recv().unwrap(), 1);
        t.join().unwrap();
    }
}

// crossbeam-channel tests/mpsc.rs: smoke_port_gone, smoke_shared_port_gone,
// smoke_shared_port_gone2 (both modules)
#[test]
fn mpsc_smoke_port_gone() {
    for cap in [None, Some(0)] {
        let (tx, rx) = chan::<i32>(cap);
        drop(rx);
        assert!(tx.send(1).is_err());
        let (tx, rx) = chan::<i32>(cap);
        drop(rx);
        let tx2 = tx.clone();
        drop(tx);
        assert!(tx2.send(1).is_err());
    }
}

// crossbeam-channel tests/mpsc.rs: port_gone_concurrent, port_gone_concurrent_shared
// (both modules)
#[test]
fn mpsc_port_gone_concurrent() {
    for cap in [None, Some(0)] {
        let (tx, rx) = chan::<i32>(cap);
        let t = thread::spawn(move || {
            rx.recv().unwrap();
        });
        while tx.send(1).is_ok() {}
        t.join().unwrap();
        let (tx, rx) = chan::<i32>(cap);
        let tx2 = tx.clone();
        let t = thread::spawn(move || {
            rx.recv().unwrap();
        });
        while tx.send(1).is_ok() && tx2.send(1).is_ok() {}
        t.join().unwrap();
    }
}

// crossbeam-channel tests/mpsc.rs: smoke_chan_gone, smoke_chan_gone_shared (both modules)
#[test]
fn mpsc_smoke_chan_gone() {
    for cap in [None, Some(0)] {
        let (tx, rx) = chan::<i32>(cap);
        drop(tx);
        assert!(rx.recv().is_err());
        let (tx, rx) = chan::<()>(cap);
        let tx2 = tx.clone();
        drop(tx);
        drop(tx2);
        assert!(rx.recv().is_err());
    }
}

// crossbeam-channel tests/mpsc.rs: chan_gone_concurrent (both modules)
#[test]
fn mpsc_chan_gone_concurrent() {
    for cap in [None, Some(0)] {
        let (tx, rx) = chan::<i32>(cap);
        let t = thread::spawn(move || {
            tx.send(1).unwrap();
            tx.send(1).unwrap();
        });
        while rx.recv().is_ok() {}
        t.join().unwrap();
    }
}

// crossbeam-channel tests/mpsc.rs: stress (both modules)
#[test]
fn mpsc_stress() {
    for (cap, count) in [(None, 10_000), (Some(0), 2_000)] {
        let (tx, rx) = chan::<i32>(cap);
        let t = thread::spawn(move || {
            for _ in 0..count {
                tx.send(1).unwrap();
            }
        });
        for _ in 0..count {
            assert_eq!(rx.recv().unwrap(), 1);
        }
        t.join().ok().unwrap();
    }
}

// crossbeam-channel tests/mpsc.rs: stress_shared (both modules)
#[test]
fn mpsc_stress_shared() {
    for (cap, amt) in [(None, 1_000u32), (Some(0), 200)] {
        let nthreads: u32 = 8;
        let (tx, rx) = chan::<i32>(cap);
        let t = thread::spawn(move || {
            for _ in 0..amt * nthreads {
                assert_eq!(rx.recv().unwrap(), 1);
            }
            assert!(rx.try_recv().is_err());
        });
        let mut ts = Vec::new();
        for _ in 0..nthreads {
            let tx = tx.clone();
            ts.push(thread::spawn(move || {
                for _ in 0..amt {
                    tx.send(1).unwrap();
                }
            }));
        }
        drop(tx);
        t.join().ok().unwrap();
        for t in ts {
            t.join().unwrap();
        }
    }
}

// crossbeam-channel tests/mpsc.rs: channel_tests::send_from_outside_runtime,
// recv_from_outside_runtime, no_runtime
#[test]
fn mpsc_outside_runtime() {
    let (tx1, rx1) = unbounded::<()>();
    let (tx2, rx2) = unbounded::<i32>();
    let t1 = thread::spawn(move || {
        tx1.send(()).unwrap();
        for _ in 0..40 {
            assert_eq!(rx2.recv().unwrap(), 1);
        }
    });
    rx1.recv().unwrap();
    let t2 = thread::spawn(move || {
        for _ in 0..40 {
            tx2.send(1).unwrap();
        }
    });
    t1.join().ok().unwrap();
    t2.join().ok().unwrap();

    let (tx1, rx1) = unbounded::<i32>();
    let (tx2, rx2) = unbounded::<i32>();
    let t1 = thread::spawn(move || {
        assert_eq!(rx1.recv().unwrap(), 1);
        tx2.send(2).unwrap();
    });
    let t2 = thread::spawn(move || {
        tx1.send(1).unwrap();
        assert_eq!(rx2.recv().unwrap(), 2);
    });
    t1.join().ok().unwrap();
    t2.join().ok().unwrap();
}

// crossbeam-channel tests/mpsc.rs: oneshot_single_thread_* (both modules)
#[test]
fn mpsc_oneshot_single_thread() {
    for cap in [None, Some(0), Some(1)] {
        // close_port_first, close_chan_first
        let (_tx, rx) = chan::<i32>(cap);
        drop(rx);
        let (tx, _rx) = chan::<i32>(cap);
        drop(tx);
        // send_port_close
        let (tx, rx) = chan::<Box<i32>>(cap);
        drop(rx);
        assert!(tx.send(Box::new(0)).is_err());
        // recv_chan_close
        let (tx, rx) = chan::<i32>(cap);
        drop(tx);
        assert_eq!(rx.recv(), Err(RecvError));
        // try_send_closed
        let (tx, rx) = chan::<i32>(cap);
        drop(rx);
        assert_eq!(tx.try_send(10), Err(TrySendError::Closed(10)));
        // try_recv_closed, peek_close
        let (tx, rx) = chan::<i32>(cap);
        drop(tx);
        assert!(rx.recv().is_err());
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        // peek_open
        let (_tx, rx) = chan::<i32>(cap);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        if cap == Some(0) {
            // sync_channel_tests::oneshot_single_thread_try_send_closed2
            let (tx, _rx) = chan::<i32>(cap);
            assert_eq!(tx.try_send(10), Err(TrySendError::Full(10)));
            continue;
        }
        // send_then_recv, try_send_open, try_recv_open, peek_data
        let (tx, rx) = chan::<Box<i32>>(cap);
        tx.send(Box::new(10)).unwrap();
        assert!(*rx.recv().unwrap() == 10);
        let (tx, rx) = chan::<i32>(cap);
        assert_eq!(tx.try_send(10), Ok(()));
        assert!(rx.recv().unwrap() == 10);
        let (tx, rx) = chan::<i32>(cap);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        tx.send(10).unwrap();
        assert_eq!(rx.try_recv(), Ok(10));
        // sync_channel_tests::oneshot_single_thread_try_recv_closed_with_data
        let (tx, rx) = chan::<i32>(cap);
        tx.send(10).unwrap();
        drop(tx);
        assert_eq!(rx.try_recv(), Ok(10));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    }
}

// crossbeam-channel tests/mpsc.rs: oneshot_multi_task_recv_then_send,
// oneshot_multi_task_recv_then_close, oneshot_multi_thread_*_stress (both modules)
#[test]
fn mpsc_oneshot_multi_thread() {
    for cap in [None, Some(0)] {
        let (tx, rx) = chan::<Box<i32>>(cap);
        let t = thread::spawn(move || {
            assert!(*rx.recv().unwrap() == 10);
        });
        tx.send(Box::new(10)).unwrap();
        t.join().unwrap();

        let (tx, rx) = chan::<Box<i32>>(cap);
        let t = thread::spawn(move || drop(tx));
        thread::spawn(move || assert_eq!(rx.recv(), Err(RecvError)))
            .join()
            .unwrap();
        t.join().unwrap();

        for _ in 0..10 {
            let (tx, rx) = chan::<i32>(cap);
            let t = thread::spawn(move || drop(rx));
            thread::spawn(move || {
                let _ = tx.send(1);
            })
            .join()
            .unwrap();
            t.join().unwrap();

            let (tx, rx) = chan::<i32>(cap);
            let t = thread::spawn(move || {
                thread::spawn(move || assert_eq!(rx.recv(), Err(RecvError)))
                    .join()
                    .unwrap();
            });
            let t2 = thread::spawn(move || {
                thread::spawn(move || drop(tx)).join().unwrap();
            });
            t.join().unwrap();
            t2.join().unwrap();

            let (tx, rx) = chan::<Box<isize>>(cap);
            let t = thread::spawn(move || {
                tx.send(Box::new(10)).unwrap();
            });
            assert!(*rx.recv().unwrap() == 10);
            t.join().unwrap();
        }
    }
}

// crossbeam-channel tests/mpsc.rs: stream_send_recv_stress (both modules)
#[test]
fn mpsc_stream_send_recv_stress() {
    fn send(tx: Sender<Box<i32>>, i: i32) -> Option<thread::JoinHandle<()>> {
        if i == 10 {
            return None;
        }
        Some(thread::spawn(move || {
            tx.send(Box::new(i)).unwrap();
            if let Some(t) = send(tx, i + 1) {
                t.join().unwrap();
            }
        }))
    }
    fn recv(rx: Receiver<Box<i32>>, i: i32) -> Option<thread::JoinHandle<()>> {
        if i == 10 {
            return None;
        }
        Some(thread::spawn(move || {
            assert!(*rx.recv().unwrap() == i);
            if let Some(t) = recv(rx, i + 1) {
                t.join().unwrap();
            }
        }))
    }
    for cap in [None, Some(0)] {
        for _ in 0..5 {
            let (tx, rx) = chan(cap);
            let t1 = send(tx, 0).unwrap();
            let t2 = recv(rx, 0).unwrap();
            t1.join().unwrap();
            t2.join().unwrap();
        }
    }
}

// crossbeam-channel tests/mpsc.rs: channel_tests::oneshot_single_thread_recv_timeout,
// sync_channel_tests::recv_timeout
#[test]
fn mpsc_oneshot_single_thread_recv_timeout() {
    let (tx, rx) = unbounded();
    tx.send(()).unwrap();
    assert_eq!(rx.recv_timeout(ms(1)), Ok(()));
    assert_eq!(rx.recv_timeout(ms(1)), Err(RecvTimeoutError::Timeout));
    tx.send(()).unwrap();
    assert_eq!(rx.recv_timeout(ms(1)), Ok(()));

    let (tx, rx) = bounded::<i32>(1);
    assert_eq!(rx.recv_timeout(ms(1)), Err(RecvTimeoutError::Timeout));
    tx.send(1).unwrap();
    assert_eq!(rx.recv_timeout(ms(1)), Ok(1));
}

// crossbeam-channel tests/mpsc.rs: stress_recv_timeout_two_threads (both modules)
#[test]
fn mpsc_stress_recv_timeout_two_threads() {
    for (cap, stress, pause) in [(None, 20, 4), (Some(0), 2_000, 0)] {
        let (tx, rx) = chan(cap);
        let timeout = ms(2);
        let t = thread::spawn(move || {
            for i in 0..stress {
                if pause > 0 && i % 2 == 0 {
                    thread::sleep(ms(pause));
                }
                tx.send(1usize).unwrap();
            }
        });
        let mut recv_count = 0;
        loop {
            match rx.recv_timeout(timeout) {
                Ok(n) => {
                    assert_eq!(n, 1usize);
                    recv_count += 1;
                }
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Closed) => break,
            }
        }
        assert_eq!(recv_count, stress);
        t.join().unwrap()
    }
}

// crossbeam-channel tests/mpsc.rs: channel_tests::recv_timeout_upgrade
#[test]
fn mpsc_recv_timeout_upgrade() {
    let (tx, rx) = unbounded::<()>();
    let timeout = ms(1);
    let _tx_clone = tx.clone();
    let start = Instant::now();
    assert_eq!(rx.recv_timeout(timeout), Err(RecvTimeoutError::Timeout));
    assert!(Instant::now() >= start + timeout);
}

// crossbeam-channel tests/mpsc.rs: stress_recv_timeout_shared (both modules)
#[test]
fn mpsc_stress_recv_timeout_shared() {
    let (tx, rx) = unbounded();
    let stress = 30;
    let mut ts = Vec::new();
    for i in 0..stress {
        let tx = tx.clone();
        ts.push(thread::spawn(move || {
            thread::sleep(ms(i as u64 * 2));
            tx.send(1usize).unwrap();
        }));
    }
    drop(tx);
    let mut recv_count = 0;
    loop {
        match rx.recv_timeout(ms(2)) {
            Ok(n) => {
                assert_eq!(n, 1usize);
                recv_count += 1;
            }
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Closed) => break,
        }
    }
    assert_eq!(recv_count, stress);
    for t in ts {
        t.join().unwrap();
    }

    const AMT: u32 = 200;
    const NTHREADS: u32 = 8;
    let (tx, rx) = bounded::<i32>(0);
    let (dtx, drx) = bounded::<()>(0);
    let t = thread::spawn(move || {
        let mut recv_count = 0;
        loop {
            match rx.recv_timeout(ms(10)) {
                Ok(v) => {
                    assert_eq!(v, 1);
                    recv_count += 1;
                }
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Closed) => break,
            }
        }
        assert_eq!(recv_count, AMT * NTHREADS);
        assert!(rx.try_recv().is_err());
        dtx.send(()).unwrap();
    });
    let mut ts = Vec::new();
    for _ in 0..NTHREADS {
        let tx = tx.clone();
        ts.push(thread::spawn(move || {
            for _ in 0..AMT {
                tx.send(1).unwrap();
            }
        }));
    }
    drop(tx);
    drx.recv().unwrap();
    for t in ts {
        t.join().unwrap();
    }
    t.join().unwrap();
}

// crossbeam-channel tests/mpsc.rs: recv_a_lot (both modules)
#[test]
fn mpsc_recv_a_lot() {
    const N: usize = 10_000;
    for cap in [None, Some(N)] {
        let (tx, rx) = chan(cap);
        for _ in 0..N {
            tx.send(()).unwrap();
        }
        for _ in 0..N {
            rx.recv().unwrap();
        }
    }
}

// crossbeam-channel tests/mpsc.rs: channel_tests::shared_recv_timeout
#[test]
fn mpsc_shared_recv_timeout() {
    let (tx, rx) = unbounded();
    let total = 5;
    let mut ts = Vec::new();
    for _ in 0..total {
        let tx = tx.clone();
        ts.push(thread::spawn(move || {
            tx.send(()).unwrap();
        }));
    }
    for _ in 0..total {
        rx.recv().unwrap();
    }
    assert_eq!(rx.recv_timeout(ms(1)), Err(RecvTimeoutError::Timeout));
    tx.send(()).unwrap();
    assert_eq!(rx.recv_timeout(ms(1)), Ok(()));
    for t in ts {
        t.join().unwrap();
    }
}

// crossbeam-channel tests/mpsc.rs: shared_chan_stress (both modules)
#[test]
fn mpsc_shared_chan_stress() {
    for cap in [None, Some(0)] {
        let (tx, rx) = chan(cap);
        let total = 50;
        let mut ts = Vec::new();
        for _ in 0..total {
            let tx = tx.clone();
            ts.push(thread::spawn(move || {
                tx.send(()).unwrap();
            }));
        }
        for _ in 0..total {
            rx.recv().unwrap();
        }
        for t in ts {
            t.join().unwrap();
        }
    }
}

// crossbeam-channel tests/mpsc.rs: test_nested_recv_iter, test_recv_iter_break
// (sync_channel_tests, on a rendezvous channel)
#[test]
fn mpsc_sync_recv_iter() {
    let (tx, rx) = bounded::<i32>(0);
    let (total_tx, total_rx) = bounded::<i32>(0);
    let t = thread::spawn(move || {
        let mut acc = 0;
        for x in rx.iter() {
            acc += x;
        }
        total_tx.send(acc).unwrap();
    });
    tx.send(3).unwrap();
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    drop(tx);
    assert_eq!(total_rx.recv().unwrap(), 6);
    t.join().unwrap();

    let (tx, rx) = bounded::<i32>(0);
    let (count_tx, count_rx) = bounded(0);
    let t = thread::spawn(move || {
        let mut count = 0;
        for x in rx.iter() {
            if count >= 3 {
                break;
            } else {
                count += x;
            }
        }
        count_tx.send(count).unwrap();
    });
    tx.send(2).unwrap();
    tx.send(2).unwrap();
    tx.send(2).unwrap();
    let _ = tx.try_send(2);
    drop(tx);
    assert_eq!(count_rx.recv().unwrap(), 4);
    t.join().unwrap();
}

// crossbeam-channel tests/mpsc.rs: try_recv_states (both modules)
#[test]
fn mpsc_try_recv_states() {
    for cap in [None, Some(1)] {
        let (tx1, rx1) = chan::<i32>(cap);
        let (tx2, rx2) = chan::<()>(cap);
        let (tx3, rx3) = chan::<()>(cap);
        let t = thread::spawn(move || {
            rx2.recv().unwrap();
            tx1.send(1).unwrap();
            tx3.send(()).unwrap();
            rx2.recv().unwrap();
            drop(tx1);
            tx3.send(()).unwrap();
        });
        assert_eq!(rx1.try_recv(), Err(TryRecvError::Empty));
        tx2.send(()).unwrap();
        rx3.recv().unwrap();
        assert_eq!(rx1.try_recv(), Ok(1));
        assert_eq!(rx1.try_recv(), Err(TryRecvError::Empty));
        tx2.send(()).unwrap();
        rx3.recv().unwrap();
        assert_eq!(rx1.try_recv(), Err(TryRecvError::Closed));
        t.join().unwrap();
    }
}

// crossbeam-channel tests/mpsc.rs: destroy_upgraded_shared_port_when_sender_still_active
// (both modules)
#[test]
fn mpsc_destroy_upgraded_shared_port_when_sender_still_active() {
    for cap in [None, Some(0)] {
        let (tx, rx) = chan::<()>(cap);
        let (tx2, rx2) = chan::<()>(cap);
        let t = thread::spawn(move || {
            rx.recv().unwrap();
            drop(rx);
            tx2.send(()).unwrap();
        });
        for _ in 0..5000 {
            thread::yield_now();
        }
        let tx2 = tx.clone();
        drop(tx);
        tx2.send(()).unwrap();
        rx2.recv().unwrap();
        t.join().unwrap();
    }
}

// crossbeam-channel tests/mpsc.rs: channel_tests::issue_32114
#[test]
fn mpsc_issue_32114() {
    let (tx, _) = unbounded();
    let _ = tx.send(123);
    assert_eq!(tx.send(123), Err(SendError(123)));
}

// crossbeam-channel tests/mpsc.rs: sync_channel_tests::send1, send2, send3, send4
#[test]
fn mpsc_sync_send1234() {
    let (tx, rx) = bounded::<i32>(0);
    let t = thread::spawn(move || {
        rx.recv().unwrap();
    });
    assert_eq!(tx.send(1), Ok(()));
    t.join().unwrap();

    let (tx, rx) = bounded::<i32>(0);
    let t = thread::spawn(move || drop(rx));
    assert!(tx.send(1).is_err());
    t.join().unwrap();

    let (tx, rx) = bounded::<i32>(1);
    assert_eq!(tx.send(1), Ok(()));
    let t = thread::spawn(move || drop(rx));
    assert!(tx.send(1).is_err());
    t.join().unwrap();

    let (tx, rx) = bounded::<i32>(0);
    let tx2 = tx.clone();
    let (done, donerx) = unbounded();
    let done2 = done.clone();
    let t = thread::spawn(move || {
        assert!(tx.send(1).is_err());
        done.send(()).unwrap();
    });
    let t2 = thread::spawn(move || {
        assert!(tx2.send(2).is_err());
        done2.send(()).unwrap();
    });
    drop(rx);
    donerx.recv().unwrap();
    donerx.recv().unwrap();
    t.join().unwrap();
    t2.join().unwrap();
}

// crossbeam-channel tests/mpsc.rs: sync_channel_tests::try_send1, try_send2, try_send3
#[test]
fn mpsc_sync_try_send123() {
    let (tx, _rx) = bounded::<i32>(0);
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    let (tx, _rx) = bounded::<i32>(1);
    assert_eq!(tx.try_send(1), Ok(()));
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    let (tx, rx) = bounded::<i32>(1);
    assert_eq!(tx.try_send(1), Ok(()));
    drop(rx);
    assert_eq!(tx.try_send(1), Err(TrySendError::Closed(1)));
}

// crossbeam-channel tests/mpsc.rs: sync_channel_tests::issue_15761
#[test]
fn mpsc_sync_issue_15761() {
    fn repro() {
        let (tx1, rx1) = bounded::<()>(3);
        let (tx2, rx2) = bounded::<()>(3);
        let _t = thread::spawn(move || {
            rx1.recv().unwrap();
            tx2.try_send(()).unwrap();
        });
        tx1.try_send(()).unwrap();
        rx2.recv().unwrap();
    }
    for _ in 0..100 {
        repro()
    }
}

// crossbeam-channel tests/mpsc.rs: select_tests::smoke
#[test]
fn mpsc_select_smoke() {
    let (tx1, rx1) = unbounded::<i32>();
    let (tx2, rx2) = unbounded::<i32>();
    tx1.send(1).unwrap();
    gochan::select! {
        recv(rx1) -> foo => assert_eq!(foo.unwrap(), 1),
        recv(rx2) -> _bar => panic!(),
    }
    tx2.send(2).unwrap();
    gochan::select! {
        recv(rx1) -> _foo => panic!(),
        recv(rx2) -> bar => assert_eq!(bar.unwrap(), 2),
    }
    drop(tx1);
    gochan::select! {
        recv(rx1) -> foo => assert!(foo.is_err()),
        recv(rx2) -> _bar => panic!(),
    }
    drop(tx2);
    gochan::select! {
        recv(rx2) -> bar => assert!(bar.is_err()),
    }
}

// crossbeam-channel tests/mpsc.rs: select_tests::closed
#[test]
fn mpsc_select_closed() {
    let (_tx1, rx1) = unbounded::<i32>();
    let (tx2, rx2) = unbounded::<i32>();
    drop(tx2);
    gochan::select! {
        recv(rx1) -> _a1 => panic!(),
        recv(rx2) -> a2 => assert!(a2.is_err()),
    }
}

// crossbeam-channel tests/mpsc.rs: select_tests::unblocks
#[test]
fn mpsc_select_unblocks() {
    let (tx1, rx1) = unbounded::<i32>();
    let (_tx2, rx2) = unbounded::<i32>();
    let (tx3, rx3) = unbounded::<i32>();
    let t = thread::spawn(move || {
        for _ in 0..20 {
            thread::yield_now();
        }
        tx1.send(1).unwrap();
        rx3.recv().unwrap();
        for _ in 0..20 {
            thread::yield_now();
        }
    });
    gochan::select! {
        recv(rx1) -> a => assert_eq!(a.unwrap(), 1),
        recv(rx2) -> _b => panic!(),
    }
    tx3.send(1).unwrap();
    gochan::select! {
        recv(rx1) -> a => assert!(a.is_err()),
        recv(rx2) -> _b => panic!(),
    }
    t.join().unwrap();
}

// crossbeam-channel tests/mpsc.rs: select_tests::both_ready
#[test]
fn mpsc_select_both_ready() {
    let (tx1, rx1) = unbounded::<i32>();
    let (tx2, rx2) = unbounded::<i32>();
    let (tx3, rx3) = unbounded::<()>();
    let t = thread::spawn(move || {
        for _ in 0..20 {
            thread::yield_now();
        }
        tx1.send(1).unwrap();
        tx2.send(2).unwrap();
        rx3.recv().unwrap();
    });
    for _ in 0..2 {
        gochan::select! {
            recv(rx1) -> a => { assert_eq!(a.unwrap(), 1); },
            recv(rx2) -> a => { assert_eq!(a.unwrap(), 2); }
        }
    }
    assert_eq!(rx1.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(rx2.try_recv(), Err(TryRecvError::Empty));
    tx3.send(()).unwrap();
    t.join().unwrap();
}

// crossbeam-channel tests/mpsc.rs: select_tests::stress
#[test]
fn mpsc_select_stress() {
    const AMT: i32 = 2_000;
    let (tx1, rx1) = unbounded::<i32>();
    let (tx2, rx2) = unbounded::<i32>();
    let (tx3, rx3) = unbounded::<()>();
    let t = thread::spawn(move || {
        for i in 0..AMT {
            if i % 2 == 0 {
                tx1.send(i).unwrap();
            } else {
                tx2.send(i).unwrap();
            }
            rx3.recv().unwrap();
        }
    });
    for i in 0..AMT {
        gochan::select! {
            recv(rx1) -> i1 => { assert!(i % 2 == 0 && i == i1.unwrap()); },
            recv(rx2) -> i2 => { assert!(i % 2 == 1 && i == i2.unwrap()); }
        }
        tx3.send(()).unwrap();
    }
    t.join().unwrap();
}

// crossbeam-channel tests/mpsc.rs: select_tests::cloning, cloning2
#[test]
fn mpsc_select_cloning() {
    let (tx1, rx1) = unbounded::<i32>();
    let (_tx2, rx2) = unbounded::<i32>();
    let (tx3, rx3) = unbounded::<()>();
    let t = thread::spawn(move || {
        rx3.recv().unwrap();
        drop(tx1.clone());
        assert_eq!(rx3.try_recv(), Err(TryRecvError::Empty));
        tx1.send(2).unwrap();
        rx3.recv().unwrap();
    });
    tx3.send(()).unwrap();
    gochan::select! {
        recv(rx1) -> _i1 => {},
        recv(rx2) -> _i2 => panic!(),
    }
    tx3.send(()).unwrap();
    t.join().unwrap();
}

// crossbeam-channel tests/mpsc.rs: select_tests::cloning3
#[test]
fn mpsc_select_cloning3() {
    let (tx1, rx1) = unbounded::<()>();
    let (tx2, rx2) = unbounded::<()>();
    let (tx3, rx3) = unbounded::<()>();
    let t = thread::spawn(move || {
        gochan::select! {
            recv(rx1) -> _ => panic!(),
            recv(rx2) -> _ => {}
        }
        tx3.send(()).unwrap();
    });
    for _ in 0..1000 {
        thread::yield_now();
    }
    drop(tx1.clone());
    tx2.send(()).unwrap();
    rx3.recv().unwrap();
    t.join().unwrap();
}

// crossbeam-channel tests/mpsc.rs: select_tests::preflight1 .. preflight9
#[test]
fn mpsc_select_preflight() {
    // 1, 4
    let (tx, rx) = unbounded();
    tx.send(()).unwrap();
    gochan::select! { recv(rx) -> _n => {} }
    // 2, 5
    let (tx, rx) = unbounded();
    tx.send(()).unwrap();
    tx.send(()).unwrap();
    gochan::select! { recv(rx) -> _n => {} }
    // 3, 6
    let (tx, rx) = unbounded();
    drop(tx.clone());
    tx.send(()).unwrap();
    gochan::select! { recv(rx) -> _n => {} }
    // 7
    let (tx, rx) = unbounded::<()>();
    drop(tx);
    gochan::select! { recv(rx) -> _ => {} }
    // 8
    let (tx, rx) = unbounded();
    tx.send(()).unwrap();
    drop(tx);
    rx.recv().unwrap();
    gochan::select! { recv(rx) -> _ => {} }
    // 9
    let (tx, rx) = unbounded();
    drop(tx.clone());
    tx.send(()).unwrap();
    drop(tx);
    rx.recv().unwrap();
    gochan::select! { recv(rx) -> _ => {} }
}

// crossbeam-channel tests/mpsc.rs: select_tests::oneshot_data_waiting,
// stream_data_waiting, shared_data_waiting
#[test]
fn mpsc_select_data_waiting() {
    for variant in 0..3 {
        let (tx1, rx1) = unbounded();
        let (tx2, rx2) = unbounded();
        match variant {
            1 => {
                tx1.send(()).unwrap();
                tx1.send(()).unwrap();
                rx1.recv().unwrap();
                rx1.recv().unwrap();
            }
            2 => {
                drop(tx1.clone());
                tx1.send(()).unwrap();
                rx1.recv().unwrap();
            }
            _ => {}
        }
        let t = thread::spawn(move || {
            gochan::select! { recv(rx1) -> _n => {} }
            tx2.send(()).unwrap();
        });
        for _ in 0..100 {
            thread::yield_now()
        }
        tx1.send(()).unwrap();
        rx2.recv().unwrap();
        t.join().unwrap();
    }
}

// crossbeam-channel tests/mpsc.rs: select_tests::sync1, sync2, sync3
#[test]
fn mpsc_select_sync123() {
    let (tx, rx) = bounded::<i32>(1);
    tx.send(1).unwrap();
    gochan::select! { recv(rx) -> n => { assert_eq!(n.unwrap(), 1); } }

    let (tx, rx) = bounded::<i32>(0);
    let t = thread::spawn(move || {
        for _ in 0..100 {
            thread::yield_now()
        }
        tx.send(1).unwrap();
    });
    gochan::select! { recv(rx) -> n => { assert_eq!(n.unwrap(), 1); } }
    t.join().unwrap();

    let (tx1, rx1) = bounded::<i32>(0);
    let (tx2, rx2) = unbounded::<i32>();
    let t = thread::spawn(move || tx1.send(1).unwrap());
    let t2 = thread::spawn(move || tx2.send(2).unwrap());
    gochan::select! {
        recv(rx1) -> n => {
            assert_eq!(n.unwrap(), 1);
            assert_eq!(rx2.recv().unwrap(), 2);
        },
        recv(rx2) -> n => {
            assert_eq!(n.unwrap(), 2);
            assert_eq!(rx1.recv().unwrap(), 1);
        }
    }
    t.join().unwrap();
    t2.join().unwrap();
}

// ---------------------------------------------------------------------------------------
// flume tests/basic.rs
// ---------------------------------------------------------------------------------------

// flume tests/basic.rs: send_recv
#[test]
fn flume_send_recv() {
    let (tx, rx) = unbounded();
    for i in 0..1000 {
        tx.send(i).unwrap();
    }
    for i in 0..1000 {
        assert_eq!(rx.try_recv().unwrap(), i);
    }
    assert!(rx.try_recv().is_err());
}

// flume tests/basic.rs: iter
#[test]
fn flume_iter() {
    let (tx, rx) = unbounded();
    for i in 0..1000 {
        tx.send(i).unwrap();
    }
    drop(tx);
    assert_eq!(rx.iter().sum::<u32>(), (0..1000).sum());
}

// flume tests/basic.rs: try_iter
#[test]
fn flume_try_iter() {
    let (tx, rx) = unbounded();
    for i in 0..1000 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.try_iter().sum::<u32>(), (0..1000).sum());
}

// flume tests/basic.rs: iter_threaded
#[test]
fn flume_iter_threaded() {
    let (tx, rx) = unbounded();
    for i in 0..100 {
        let tx = tx.clone();
        thread::spawn(move || tx.send(i).unwrap());
    }
    drop(tx);
    assert_eq!(rx.iter().sum::<u32>(), (0..100).sum());
}

// flume tests/basic.rs: recv_timeout
// (flume checks the wait to 1 ms either way; only the lower bound is kept.)
#[test]
fn flume_recv_timeout() {
    let (tx, rx) = unbounded();
    let dur = ms(50);
    let then = Instant::now();
    assert!(rx.recv_timeout(dur).is_err());
    assert!(then.elapsed() >= dur);
    tx.send(42).unwrap();
    assert_eq!(rx.recv_timeout(dur), Ok(42));
}

// flume tests/basic.rs: recv_deadline
#[test]
fn flume_recv_deadline() {
    let (tx, rx) = unbounded();
    let dur = ms(50);
    let then = Instant::now();
    assert!(rx.recv_deadline(then + dur).is_err());
    let now = Instant::now();
    assert!(now.duration_since(then) >= dur);
    tx.send(42).unwrap();
    assert_eq!(rx.recv_deadline(now + dur), Ok(42));
    // A deadline in the past still takes a value that is ready.
    tx.send(43).unwrap();
    assert_eq!(rx.recv_deadline(then), Ok(43));
    assert_eq!(rx.recv_deadline(then), Err(RecvTimeoutError::Timeout));
}

// flume tests/basic.rs: disconnect_tx
#[test]
fn flume_disconnect_tx() {
    let (tx, rx) = unbounded::<()>();
    drop(tx);
    assert!(rx.recv().is_err());
}

// flume tests/basic.rs: disconnect_rx
#[test]
fn flume_disconnect_rx() {
    let (tx, rx) = unbounded();
    drop(rx);
    assert!(tx.send(0).is_err());
}

// flume tests/basic.rs: drain
// (flume's `Receiver::drain` is `try_iter` here.)
#[test]
fn flume_drain() {
    let (tx, rx) = unbounded();
    for i in 0..100 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.try_iter().sum::<u32>(), (0..100).sum());
    for i in 0..100 {
        tx.send(i).unwrap();
    }
    for i in 0..100 {
        tx.send(i).unwrap();
    }
    rx.recv().unwrap();
    drop(tx);
    (1u32..100)
        .chain(0..100)
        .zip(rx)
        .for_each(|(l, r)| assert_eq!(l, r));
}

// flume tests/basic.rs: try_send
#[test]
fn flume_try_send() {
    let (tx, rx) = bounded(5);
    for i in 0..5 {
        tx.try_send(i).unwrap();
    }
    assert!(tx.try_send(42).is_err());
    assert_eq!(rx.recv(), Ok(0));
    assert_eq!(tx.try_send(42), Ok(()));
    assert_eq!(rx.recv(), Ok(1));
    drop(rx);
    assert!(tx.try_send(42).is_err());
}

// flume tests/basic.rs: send_bounded
#[test]
fn flume_send_bounded() {
    let (tx, rx) = bounded(5);
    for _ in 0..5 {
        tx.send(42).unwrap();
    }
    let _ = rx.recv().unwrap();
    tx.send(42).unwrap();
    assert!(tx.try_send(42).is_err());
    rx.try_iter().for_each(drop);
    let mut ts = Vec::new();
    for _ in 0..8 {
        let tx = tx.clone();
        ts.push(thread::spawn(move || {
            for i in 0..1000 {
                tx.send(i).unwrap();
            }
        }));
    }
    drop(tx);
    assert_eq!(rx.iter().sum::<u64>(), (0..1000).sum::<u64>() * 8);
    for t in ts {
        t.join().unwrap();
    }
    assert!(rx.recv().is_err());
}

// flume tests/basic.rs: rendezvous
// flume asserts the send took more than 50 ms of the receiver's 250 ms sleep (a timing
// assumption); the property is that the send cannot complete before the receive starts.
#[test]
fn flume_rendezvous() {
    let (tx, rx) = bounded(0);
    for _ in 0..5 {
        let tx = tx.clone();
        let t = thread::spawn(move || {
            assert!(tx.try_send(()).is_err());
            tx.send(()).unwrap();
            Instant::now()
        });
        thread::sleep(ms(20));
        let before_recv = Instant::now();
        rx.recv().unwrap();
        let sent = t.join().unwrap();
        assert!(sent >= before_recv);
    }
}

// flume tests/basic.rs: hydra
#[test]
fn flume_hydra() {
    let thread_num = 8;
    let msg_num = 100;
    let (main_tx, main_rx) = unbounded::<()>();
    let mut txs = Vec::new();
    for _ in 0..thread_num {
        let main_tx = main_tx.clone();
        let (tx, rx) = unbounded();
        txs.push(tx);
        thread::spawn(move || {
            for msg in rx.iter() {
                main_tx.send(msg).unwrap();
            }
        });
    }
    drop(main_tx);
    for _ in 0..10 {
        for tx in &txs {
            for _ in 0..msg_num {
                tx.send(()).unwrap();
            }
        }
        for _ in 0..thread_num {
            for _ in 0..msg_num {
                main_rx.recv().unwrap();
            }
        }
    }
    drop(txs);
    assert!(main_rx.recv().is_err());
}

// flume tests/basic.rs: robin
#[test]
fn flume_robin() {
    let thread_num = 8;
    let msg_num = 10;
    let (mut main_tx, main_rx) = bounded::<()>(1);
    for _ in 0..thread_num {
        let (mut tx, rx) = bounded(100);
        std::mem::swap(&mut tx, &mut main_tx);
        thread::spawn(move || {
            for msg in rx.iter() {
                tx.send(msg).unwrap();
            }
        });
    }
    for _ in 0..200 {
        let main_tx = main_tx.clone();
        thread::spawn(move || {
            for _ in 0..msg_num {
                main_tx.send(()).unwrap();
            }
        });
        for _ in 0..msg_num {
            main_rx.recv().unwrap();
        }
    }
}

// flume tests/basic.rs: select
#[test]
fn flume_select() {
    #[derive(Debug, PartialEq)]
    struct Foo(usize);
    let (tx0, rx0) = bounded(1);
    let (tx1, rx1) = unbounded();
    for (i, t) in [tx0.clone(), tx1].into_iter().enumerate() {
        thread::spawn(move || {
            thread::sleep(ms(20));
            let _ = t.send(Foo(i));
        });
    }
    let x = gochan::select! {
        recv(rx0) -> x => x,
        recv(rx1) -> x => x,
    }
    .unwrap();
    if x == Foo(0) {
        assert!(rx1.recv().unwrap() == Foo(1));
    } else {
        assert!(rx0.recv().unwrap() == Foo(0));
    }
    tx0.send(Foo(42)).unwrap();
    let t = thread::spawn(move || {
        thread::sleep(ms(20));
        assert_eq!(rx0.recv().unwrap(), Foo(42));
        assert_eq!(rx0.recv().unwrap(), Foo(43));
    });
    gochan::select! {
        send(tx0, Foo(43)) -> res => res.unwrap(),
    }
    t.join().unwrap();
}

// ---------------------------------------------------------------------------------------
// flume tests/async.rs and tests/stream.rs
// ---------------------------------------------------------------------------------------

fn current_thread_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

// flume tests/async.rs: async_recv
#[test]
fn flume_async_recv() {
    let (tx, rx) = unbounded();
    let t = thread::spawn(move || {
        thread::sleep(ms(20));
        tx.send(42u32).unwrap();
    });
    futures::executor::block_on(async {
        assert_eq!(rx.recv_async().await.unwrap(), 42);
    });
    t.join().unwrap();
}

// flume tests/async.rs: async_send
#[test]
fn flume_async_send() {
    let (tx, rx) = bounded(1);
    let t = thread::spawn(move || {
        thread::sleep(ms(20));
        assert_eq!(rx.recv(), Ok(42));
    });
    futures::executor::block_on(async {
        tx.send_async(42u32).await.unwrap();
    });
    t.join().unwrap();
}

// flume tests/async.rs: async_recv_disconnect
#[test]
fn flume_async_recv_disconnect() {
    let (tx, rx) = bounded::<i32>(0);
    let t = thread::spawn(move || {
        thread::sleep(ms(20));
        drop(tx)
    });
    futures::executor::block_on(async {
        assert_eq!(rx.recv_async().await, Err(RecvError));
    });
    t.join().unwrap();
}

// flume tests/async.rs: async_send_disconnect
#[test]
fn flume_async_send_disconnect() {
    let (tx, rx) = bounded(0);
    let t = thread::spawn(move || {
        thread::sleep(ms(20));
        drop(rx)
    });
    futures::executor::block_on(async {
        assert_eq!(tx.send_async(42u32).await, Err(SendError(42)));
    });
    t.join().unwrap();
}

// flume tests/async.rs: async_recv_drop_recv
// A receive that timed out (dropped while registered) and one never polled do not take
// the value meant for a receive that is still waiting.
#[test]
fn flume_async_recv_drop_recv() {
    let (tx, rx) = bounded::<i32>(10);
    let recv_fut = rx.recv_async();
    current_thread_rt().block_on(async {
        let res = tokio::time::timeout(ms(30), rx.recv_async()).await;
        assert!(res.is_err());
    });
    let rx2 = rx.clone();
    let t = thread::spawn(move || futures::executor::block_on(rx2.recv_async()));
    thread::sleep(ms(30));
    tx.send(42).unwrap();
    drop(recv_fut);
    assert_eq!(t.join().unwrap(), Ok(42))
}

// flume tests/async.rs: async_send_1_million_no_drop_or_reorder
#[test]
fn flume_async_send_many_no_drop_or_reorder() {
    #[derive(Debug)]
    enum Message {
        Increment { old: u64 },
        ReturnCount,
    }
    const N: u64 = 20_000;
    let (tx, rx) = unbounded();
    let t = thread::spawn(move || {
        futures::executor::block_on(async move {
            let mut count = 0u64;
            while let Ok(Message::Increment { old }) = rx.recv_async().await {
                assert_eq!(old, count);
                count += 1;
            }
            count
        })
    });
    for next in 0..N {
        tx.send(Message::Increment { old: next }).unwrap();
    }
    tx.send(Message::ReturnCount).unwrap();
    assert_eq!(t.join().unwrap(), N)
}

// flume tests/async.rs: parallel_async_receivers
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flume_parallel_async_receivers() {
    use futures::stream::{FuturesUnordered, StreamExt};
    let (tx, rx) = unbounded();
    let send_fut = async move {
        for _ in 0..10_000usize {
            tx.send_async(()).await.unwrap();
        }
    };
    let sender = tokio::spawn(tokio::time::timeout(Duration::from_secs(10), send_fut));
    let mut futures_unordered = (0..250)
        .map(|_| async { while let Ok(()) = rx.recv_async().await {} })
        .collect::<FuturesUnordered<_>>();
    let recv_fut = async { while futures_unordered.next().await.is_some() {} };
    tokio::time::timeout(Duration::from_secs(10), recv_fut)
        .await
        .expect("receive timed out");
    sender.await.unwrap().expect("send timed out");
}

// flume tests/stream.rs: stream_recv
#[test]
fn flume_stream_recv() {
    use futures::StreamExt;
    let (tx, rx) = unbounded();
    let t = thread::spawn(move || {
        thread::sleep(ms(20));
        tx.send(42u32).unwrap();
    });
    futures::executor::block_on(async {
        let x = rx.stream().next().await;
        assert_eq!(x, Some(42));
    });
    t.join().unwrap();
}

// flume tests/stream.rs: stream_recv_disconnect
#[test]
fn flume_stream_recv_disconnect() {
    use futures::StreamExt;
    let (tx, rx) = bounded::<i32>(0);
    let t = thread::spawn(move || {
        thread::sleep(ms(20));
        drop(tx)
    });
    futures::executor::block_on(async {
        assert_eq!(rx.stream().next().await, None);
    });
    t.join().unwrap();
}

// flume tests/stream.rs: stream_recv_drop_recv
#[test]
fn flume_stream_recv_drop_recv() {
    use futures::StreamExt;
    let (tx, rx) = bounded::<i32>(10);
    let rx2 = rx.clone();
    let mut stream = rx.into_stream();
    current_thread_rt().block_on(async {
        let res = tokio::time::timeout(ms(30), stream.next()).await;
        assert!(res.is_err());
    });
    let t = thread::spawn(move || futures::executor::block_on(async { rx2.stream().next().await }));
    thread::sleep(ms(30));
    tx.send(42).unwrap();
    drop(stream);
    assert_eq!(t.join().unwrap(), Some(42))
}

// flume tests/stream.rs: stream_send_1_million_no_drop_or_reorder
#[test]
fn flume_stream_send_many_no_drop_or_reorder() {
    use futures::StreamExt;
    #[derive(Debug)]
    enum Message {
        Increment { old: u64 },
        ReturnCount,
    }
    const N: u64 = 20_000;
    let (tx, rx) = unbounded();
    let t = thread::spawn(move || {
        futures::executor::block_on(async move {
            let mut count = 0u64;
            let mut stream = rx.into_stream();
            while let Some(Message::Increment { old }) = stream.next().await {
                assert_eq!(old, count);
                count += 1;
            }
            count
        })
    });
    for next in 0..N {
        tx.send(Message::Increment { old: next }).unwrap();
    }
    tx.send(Message::ReturnCount).unwrap();
    assert_eq!(t.join().unwrap(), N)
}

// flume tests/stream.rs: parallel_streams_and_async_recv
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flume_parallel_streams_and_async_recv() {
    use futures::stream::{FuturesUnordered, StreamExt};
    let (tx, rx) = unbounded();
    let rx = &rx;
    let send_fut = async move {
        for _ in 0..10_000usize {
            tx.send_async(()).await.unwrap();
        }
    };
    let sender = tokio::spawn(tokio::time::timeout(Duration::from_secs(10), send_fut));
    let mut futures_unordered = (0..250)
        .map(|n| async move {
            if n % 2 == 0 {
                let mut stream = rx.stream();
                while let Some(()) = stream.next().await {}
            } else {
                while let Ok(()) = rx.recv_async().await {}
            }
        })
        .collect::<FuturesUnordered<_>>();
    let recv_fut = async { while futures_unordered.next().await.is_some() {} };
    tokio::time::timeout(Duration::from_secs(10), recv_fut)
        .await
        .expect("receive timed out");
    sender.await.unwrap().expect("send timed out");
}

// flume tests/stream.rs: stream_no_double_wake
#[test]
fn flume_stream_no_double_wake() {
    use futures::task::{waker, ArcWake};
    use futures::Stream;
    use std::pin::Pin;
    use std::task::Context;

    struct CounterWaker {
        count: Arc<AtomicUsize>,
    }
    impl ArcWake for CounterWaker {
        fn wake_by_ref(arc_self: &Arc<Self>) {
            arc_self.count.fetch_add(1, Ordering::SeqCst);
        }
    }
    let count = Arc::new(AtomicUsize::new(0));
    let w = waker(Arc::new(CounterWaker {
        count: count.clone(),
    }));
    let cx = &mut Context::from_waker(&w);
    let (tx, rx) = unbounded::<()>();
    let mut stream = rx.stream();
    assert!(Pin::new(&mut stream).poll_next(cx).is_pending());
    tx.send(()).unwrap();
    tx.send(()).unwrap();
    tx.send(()).unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

// flume tests/stream.rs: stream_forward_issue_55
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flume_stream_forward_issue_55() {
    use futures::{SinkExt, StreamExt};
    fn dummy_stream() -> impl futures::Stream<Item = usize> {
        futures::stream::unfold(0, |count| async move {
            if count < 1000 {
                Some((count, count + 1))
            } else {
                None
            }
        })
    }
    let (tx, rx) = bounded(100);
    let send_task = dummy_stream().map(Ok).forward(
        tx.into_sink()
            .sink_map_err(|e| -> std::convert::Infallible { panic!("send error: {e:?}") }),
    );
    let recv_task = rx.into_stream().fold(0usize, |n, _| async move { n + 1 });
    let jh = tokio::spawn(send_task);
    assert_eq!(recv_task.await, 1000);
    jh.await.unwrap().unwrap();
}

// ---------------------------------------------------------------------------------------
// tokio tests/sync_mpsc.rs
// ---------------------------------------------------------------------------------------

// tokio tests/sync_mpsc.rs: send_recv_with_buffer, async_send_recv_with_buffer
#[tokio::test]
async fn tokio_send_recv_with_buffer() {
    let (tx, rx) = bounded::<i32>(16);
    tx.send_async(1).await.unwrap();
    tx.try_send(2).unwrap();
    drop(tx);
    assert_eq!(rx.recv_async().await, Ok(1));
    assert_eq!(rx.recv_async().await, Ok(2));
    assert!(rx.recv_async().await.is_err());

    let (tx, rx) = bounded(16);
    tokio::spawn(async move {
        tx.send_async(1).await.unwrap();
        tx.send_async(2).await.unwrap();
    });
    assert_eq!(Ok(1), rx.recv_async().await);
    assert_eq!(Ok(2), rx.recv_async().await);
    assert_eq!(Err(RecvError), rx.recv_async().await);
}

// tokio tests/sync_mpsc.rs: send_recv_unbounded, async_send_recv_unbounded
#[tokio::test]
async fn tokio_send_recv_unbounded() {
    let (tx, rx) = unbounded::<i32>();
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    assert_eq!(rx.recv_async().await, Ok(1));
    assert_eq!(rx.recv_async().await, Ok(2));
    drop(tx);
    assert!(rx.recv_async().await.is_err());

    let (tx, rx) = unbounded();
    tokio::spawn(async move {
        tx.send(1).unwrap();
        tx.send(2).unwrap();
    });
    assert_eq!(Ok(1), rx.recv_async().await);
    assert_eq!(Ok(2), rx.recv_async().await);
    assert_eq!(Err(RecvError), rx.recv_async().await);
}

// tokio tests/sync_mpsc.rs: no_t_bounds_buffer, no_t_bounds_unbounded
#[tokio::test]
async fn tokio_no_t_bounds() {
    struct NoImpls;
    fn is_debug<T: std::fmt::Debug>(_: &T) {}
    for cap in [Some(100), None] {
        let (tx, rx) = chan::<NoImpls>(cap);
        is_debug(&tx);
        is_debug(&rx);
        assert!(tx.clone().try_send(NoImpls).is_ok());
        assert!(rx.recv_async().await.is_ok());
    }
}

// tokio tests/sync_mpsc.rs: tx_close_gets_none
#[tokio::test]
async fn tokio_tx_close_gets_none() {
    let (_, rx) = bounded::<i32>(10);
    assert!(rx.recv_async().await.is_err());
}

// tokio tests/sync_mpsc.rs: try_send_fail, try_send_fail_with_try_recv
#[tokio::test]
async fn tokio_try_send_fail() {
    let (tx, rx) = bounded(1);
    tx.try_send("hello").unwrap();
    assert!(matches!(tx.try_send("fail"), Err(TrySendError::Full(..))));
    assert_eq!(rx.recv_async().await, Ok("hello"));
    assert_eq!(tx.try_send("goodbye"), Ok(()));
    drop(tx);
    assert_eq!(rx.recv_async().await, Ok("goodbye"));
    assert!(rx.recv_async().await.is_err());

    let (tx, rx) = bounded(1);
    tx.try_send("hello").unwrap();
    assert!(matches!(tx.try_send("fail"), Err(TrySendError::Full(..))));
    assert_eq!(rx.try_recv(), Ok("hello"));
    assert_eq!(tx.try_send("goodbye"), Ok(()));
    drop(tx);
    assert_eq!(rx.try_recv(), Ok("goodbye"));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

// tokio tests/sync_mpsc.rs: dropping_rx_closes_channel, dropping_rx_closes_channel_for_try
// Dropping the last receiver drops what was buffered (nobody can ever receive it).
#[test]
fn tokio_dropping_rx_closes_channel() {
    for cap in [Some(100), None] {
        let (tx, rx) = chan(cap);
        let msg = Arc::new(());
        tx.try_send(msg.clone()).unwrap();
        drop(rx);
        assert!(futures::executor::block_on(tx.send_async(msg.clone())).is_err());
        assert!(matches!(
            tx.try_send(msg.clone()),
            Err(TrySendError::Closed(_))
        ));
        assert_eq!(1, Arc::strong_count(&msg));
    }
}

// tokio tests/sync_mpsc.rs: unconsumed_messages_are_dropped
#[test]
fn tokio_unconsumed_messages_are_dropped() {
    for cap in [Some(100), None] {
        let msg = Arc::new(());
        let (tx, rx) = chan(cap);
        tx.try_send(msg.clone()).unwrap();
        assert_eq!(2, Arc::strong_count(&msg));
        drop((tx, rx));
        assert_eq!(1, Arc::strong_count(&msg));
    }
}

// tokio tests/sync_mpsc.rs: blocking_recv, blocking_send
#[test]
fn tokio_blocking_recv_and_send() {
    let (tx, rx) = bounded::<u8>(1);
    let sync_code = thread::spawn(move || {
        assert_eq!(Ok(10), rx.recv());
    });
    current_thread_rt().block_on(async move {
        let _ = tx.send_async(10).await;
    });
    sync_code.join().unwrap();

    let (tx, rx) = bounded::<u8>(1);
    let sync_code = thread::spawn(move || {
        tx.send(10).unwrap();
    });
    current_thread_rt().block_on(async move {
        assert_eq!(Ok(10), rx.recv_async().await);
    });
    sync_code.join().unwrap()
}

// tokio tests/sync_mpsc.rs: try_recv_bounded
#[test]
fn tokio_try_recv_bounded() {
    let (tx, rx) = bounded(5);
    for _ in 0..5 {
        tx.try_send("hello").unwrap();
    }
    assert!(tx.try_send("hello").is_err());
    for _ in 0..5 {
        assert_eq!(Ok("hello"), rx.try_recv());
    }
    assert_eq!(Err(TryRecvError::Empty), rx.try_recv());
    for _ in 0..4 {
        tx.try_send("hello").unwrap();
    }
    assert_eq!(Ok("hello"), rx.try_recv());
    tx.try_send("hello").unwrap();
    tx.try_send("hello").unwrap();
    assert!(tx.try_send("hello").is_err());
    for _ in 0..5 {
        assert_eq!(Ok("hello"), rx.try_recv());
    }
    assert_eq!(Err(TryRecvError::Empty), rx.try_recv());
    tx.try_send("hello").unwrap();
    tx.try_send("hello").unwrap();
    tx.try_send("hello").unwrap();
    drop(tx);
    for _ in 0..3 {
        assert_eq!(Ok("hello"), rx.try_recv());
    }
    assert_eq!(Err(TryRecvError::Closed), rx.try_recv());
}

// tokio tests/sync_mpsc.rs: try_recv_unbounded
#[test]
fn tokio_try_recv_unbounded() {
    for num in 0..100 {
        let (tx, rx) = unbounded();
        for i in 0..num {
            tx.send(i).unwrap();
        }
        for i in 0..num {
            assert_eq!(rx.try_recv(), Ok(i));
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        drop(tx);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    }
}

// tokio tests/sync_mpsc.rs: try_recv_close_while_empty_bounded,
// try_recv_close_while_empty_unbounded
#[test]
fn tokio_try_recv_close_while_empty() {
    for cap in [Some(5), None] {
        let (tx, rx) = chan::<()>(cap);
        assert_eq!(Err(TryRecvError::Empty), rx.try_recv());
        drop(tx);
        assert_eq!(Err(TryRecvError::Closed), rx.try_recv());
    }
}

// tokio tests/sync_mpsc.rs: recv_timeout (which exercises `Sender::send_timeout`)
#[test]
fn tokio_send_timeout() {
    let (tx, rx) = bounded(5);
    for v in [10, 20, 30, 40, 50] {
        assert_eq!(tx.send_timeout(v, ms(1_000)), Ok(()));
    }
    assert_eq!(
        tx.send_timeout(60, ms(20)),
        Err(SendTimeoutError::Timeout(60))
    );
    drop(rx);
    assert_eq!(
        tx.send_timeout(70, ms(1_000)),
        Err(SendTimeoutError::Closed(70))
    );
}

// ---------------------------------------------------------------------------------------
// tokio tests/sync_mpsc_weak.rs: WeakSender (and, by analogy, WeakReceiver)
// ---------------------------------------------------------------------------------------

// tokio tests/sync_mpsc_weak.rs: weak_sender, weak_unbounded_sender
#[tokio::test]
async fn tokio_weak_sender() {
    for cap in [Some(11), None] {
        let (tx, rx) = chan(cap);
        let tx_weak = tokio::spawn(async move {
            let tx_weak = tx.clone().downgrade();
            for i in 0..10 {
                if tx.send_async(i).await.is_err() {
                    return None;
                }
            }
            let tx2 = tx_weak
                .upgrade()
                .expect("expected to be able to upgrade tx_weak");
            let _ = tx2.send_async(20).await;
            let tx_weak = tx2.downgrade();
            Some(tx_weak)
        })
        .await
        .unwrap();
        for i in 0..12 {
            match rx.recv_async().await {
                Ok(msg) => {
                    if i == 10 {
                        assert_eq!(msg, 20);
                    }
                }
                Err(_) => {
                    assert_eq!(i, 11);
                    break;
                }
            }
        }
        let tx_weak = tx_weak.unwrap();
        assert!(tx_weak.upgrade().is_none());
    }
}

// tokio tests/sync_mpsc_weak.rs: actor_weak_sender, actor_weak_unbounded_sender
// An actor holds a weak handle to its own mailbox, upgrades it to message itself, and
// still stops once the last outside handle is dropped.
#[test]
fn tokio_actor_weak_sender() {
    enum ActorMessage {
        GetUniqueId { respond_to: Sender<u32> },
        SelfMessage,
    }
    for cap in [Some(8), None] {
        let (sender, receiver) = chan::<ActorMessage>(cap);
        let weak = sender.downgrade();
        let actor = thread::spawn(move || {
            let mut next_id = 0;
            let mut received_self_msg = false;
            for (i, msg) in receiver.iter().enumerate() {
                // tokio's single-threaded runtime runs the actor on to its self-message
                // before the handle's task sees the reply and drops the handle; with
                // threads, the self-message goes first to keep that order.
                if i == 0 {
                    if let Some(sender) = weak.upgrade() {
                        let _ = sender.send(ActorMessage::SelfMessage);
                    }
                }
                match msg {
                    ActorMessage::GetUniqueId { respond_to } => {
                        next_id += 1;
                        let _ = respond_to.send(next_id);
                    }
                    ActorMessage::SelfMessage => received_self_msg = true,
                }
            }
            received_self_msg
        });
        let (send, recv) = bounded(1);
        let _ = sender.send(ActorMessage::GetUniqueId { respond_to: send });
        assert_eq!(recv.recv(), Ok(1));
        drop(sender);
        assert!(actor.join().unwrap());
    }
}

// tokio tests/sync_mpsc_weak.rs: test_msgs_dropped_on_rx_drop,
// test_msgs_dropped_on_unbounded_rx_drop
#[test]
fn tokio_msgs_dropped_on_rx_drop() {
    for cap in [Some(3), None] {
        let dropped = Arc::new(AtomicUsize::new(0));
        let msg = || DropCounter(dropped.clone());
        let (tx, rx) = chan(cap);
        let _weak = tx.downgrade();
        let _weak_rx = rx.downgrade(); // a weak receiver keeps nothing alive either
        tx.send(msg()).unwrap();
        tx.send(msg()).unwrap();
        let sent_fut = tx.send_async(msg());
        let _ = rx.recv().unwrap();
        let _ = rx.recv().unwrap();
        futures::executor::block_on(sent_fut).unwrap();
        drop(rx);
        assert_eq!(dropped.load(Ordering::SeqCst), 3);
        assert!(tx.send(msg()).is_err());
        assert_eq!(dropped.load(Ordering::SeqCst), 4);
    }
}

// tokio tests/sync_mpsc_weak.rs: downgrade_upgrade_sender_success,
// downgrade_upgrade_sender_failure, downgrade_drop_upgrade, test_tx_count_weak_sender
// (and the unbounded twins)
#[test]
fn tokio_downgrade_upgrade() {
    for cap in [Some(1), None] {
        let (tx, _rx) = chan::<i32>(cap);
        let weak_tx = tx.downgrade();
        assert!(weak_tx.upgrade().is_some());

        let (tx, _rx) = chan::<i32>(cap);
        let weak_tx = tx.downgrade();
        drop(tx);
        assert!(weak_tx.upgrade().is_none());

        let (tx, _rx) = chan::<i32>(cap);
        let weak_tx = tx.clone().downgrade();
        drop(tx);
        assert!(weak_tx.upgrade().is_none());

        let (tx, _rx) = chan::<i32>(cap);
        let tx_weak = tx.downgrade();
        let tx_weak2 = tx.downgrade();
        drop(tx);
        assert!(tx_weak.upgrade().is_none() && tx_weak2.upgrade().is_none());
    }
}

// tokio tests/sync_mpsc_weak.rs: downgrade_upgrade_sender_failure, for WeakReceiver and
// with weak handles outstanding: a weak sender does not keep the channel open for the
// receiver, and a weak receiver does not keep sends possible.
#[test]
fn tokio_weak_handles_do_not_keep_channel_open() {
    for cap in [Some(0), Some(1), None] {
        let (tx, rx) = chan::<i32>(cap);
        let weak_tx = tx.downgrade();
        drop(tx);
        assert_eq!(rx.recv_timeout(ms(5_000)), Err(RecvTimeoutError::Closed));
        assert!(weak_tx.upgrade().is_none());

        let (tx, rx) = chan::<i32>(cap);
        let weak_rx = rx.downgrade();
        assert!(weak_rx.upgrade().is_some());
        drop(rx);
        assert_eq!(
            tx.send_timeout(1, ms(5_000)),
            Err(SendTimeoutError::Closed(1))
        );
        assert!(weak_rx.upgrade().is_none());
    }
}

// ---------------------------------------------------------------------------------------
// Cancel safety, after flume's `async_recv_drop_recv` / `stream_recv_drop_recv` (a
// dropped receive must not lose the value) and tokio's cancel-safety notes: here the
// dropped party was already handed the value before it was dropped.
// ---------------------------------------------------------------------------------------

fn poll_once<F: std::future::Future + ?Sized>(
    fut: std::pin::Pin<&mut F>,
) -> std::task::Poll<F::Output> {
    let waker = futures::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    fut.poll(&mut cx)
}

// flume tests/async.rs: async_recv_drop_recv (the dropped receive holds the value)
#[test]
fn cancel_recv_future_dropped_after_handoff() {
    for cap in [Some(0), Some(3), None] {
        let (tx, rx) = chan::<i32>(cap);
        let mut fut = Box::pin(rx.recv_async());
        assert!(poll_once(fut.as_mut()).is_pending());
        // The waiting receive takes 1 directly.
        assert_eq!(tx.try_send(1), Ok(()), "{cap:?}");
        if cap != Some(0) {
            tx.send(2).unwrap();
            tx.send(3).unwrap();
        }
        drop(fut);
        assert_eq!(rx.try_recv(), Ok(1), "{cap:?}");
        if cap != Some(0) {
            assert_eq!(rx.try_recv(), Ok(2));
            assert_eq!(rx.try_recv(), Ok(3));
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }
}

// flume tests/stream.rs: stream_recv_drop_recv (the dropped stream holds the value)
#[test]
fn cancel_stream_dropped_after_handoff() {
    use futures::Stream;
    for cap in [Some(0), Some(3), None] {
        let (tx, rx) = chan::<i32>(cap);
        let mut stream = Box::pin(rx.stream());
        let waker = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(stream.as_mut().poll_next(&mut cx).is_pending());
        assert_eq!(tx.try_send(1), Ok(()), "{cap:?}");
        if cap != Some(0) {
            tx.send(2).unwrap();
        }
        drop(stream);
        assert_eq!(rx.try_recv(), Ok(1), "{cap:?}");
        if cap != Some(0) {
            assert_eq!(rx.try_recv(), Ok(2));
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }
}

// flume tests/async.rs: async_recv_drop_recv (the value goes to the next waiting receiver)
#[test]
fn cancel_recv_future_handoff_goes_to_next_waiter() {
    for cap in [Some(0), Some(3), None] {
        let (tx, rx) = chan::<i32>(cap);
        let mut fut = Box::pin(rx.recv_async());
        assert!(poll_once(fut.as_mut()).is_pending());
        thread::scope(|scope| {
            let rx2 = rx.clone();
            let waiter = scope.spawn(move || rx2.recv_timeout(ms(5_000)));
            thread::sleep(ms(30)); // the thread waits behind the future
            assert_eq!(tx.send_timeout(1, ms(5_000)), Ok(()));
            drop(fut);
            assert_eq!(waiter.join().unwrap(), Ok(1), "{cap:?}");
        });
    }
}

// flume tests/async.rs: async_recv_drop_recv, for a `select_async!` receive arm
#[test]
fn cancel_select_async_dropped_after_handoff() {
    for cap in [Some(0), Some(3), None] {
        let (tx, rx) = chan::<i32>(cap);
        let (_tx2, rx2) = chan::<i32>(cap);
        let mut fut = Box::pin(async {
            gochan::select_async! {
                recv(rx) -> v => v,
                recv(rx2) -> v => v,
            }
        });
        assert!(poll_once(fut.as_mut()).is_pending());
        assert_eq!(tx.try_send(1), Ok(()), "{cap:?}");
        if cap != Some(0) {
            tx.send(2).unwrap();
        }
        drop(fut);
        assert_eq!(rx.try_recv(), Ok(1), "{cap:?}");
        if cap != Some(0) {
            assert_eq!(rx.try_recv(), Ok(2));
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }
}

// flume tests/async.rs: async_send_disconnect / tokio's send cancel safety: a send future
// dropped before a receiver took its value is withdrawn; one whose value was taken stays
// delivered, exactly once.
#[test]
fn cancel_send_future() {
    for cap in [Some(0), Some(1)] {
        let (tx, rx) = chan::<i32>(cap);
        if cap == Some(1) {
            tx.send(0).unwrap(); // full
        }
        let mut fut = Box::pin(tx.send_async(1));
        assert!(poll_once(fut.as_mut()).is_pending());
        drop(fut);
        if cap == Some(1) {
            assert_eq!(rx.try_recv(), Ok(0));
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "{cap:?}");

        if cap == Some(1) {
            tx.send(0).unwrap();
        }
        let mut fut = Box::pin(tx.send_async(2));
        assert!(poll_once(fut.as_mut()).is_pending());
        if cap == Some(1) {
            assert_eq!(rx.try_recv(), Ok(0));
        }
        assert_eq!(rx.try_recv(), Ok(2), "{cap:?}");
        drop(fut);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }
}

// ---------------------------------------------------------------------------------------
// Further ports under concurrency, across every flavor.
// ---------------------------------------------------------------------------------------

// crossbeam-channel tests/array.rs: spsc, mpmc, drops, on capacity 1 (which gochan
// serves with a locked slot instead of its ring).
#[test]
fn array_cap1_spsc_mpmc_drops() {
    spsc_body(Some(1), 5_000);
    mpmc_body(Some(1), 500, 4);
    drops_body(Some(1), 1);
}

// flume tests/async.rs: parallel_async_receivers, on every flavor, with receivers that
// await `recv_async`, a `select_async!`, or a `recv_async` under a short timeout (so
// registered receives are cancelled all the time): every value arrives exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flume_parallel_async_receivers_all_flavors() {
    use futures::stream::{FuturesUnordered, StreamExt};
    for cap in [Some(0), Some(1), Some(5), Some(BIG), None] {
        let (tx, rx) = chan::<usize>(cap);
        let got = Arc::new(AtomicUsize::new(0));
        let sum = Arc::new(AtomicUsize::new(0));
        let n_sends = 3_000usize;
        let sender = tokio::spawn(async move {
            for i in 0..n_sends {
                tx.send_async(i).await.unwrap();
            }
        });
        let (_nil_s, nil_r) = chan::<usize>(cap);
        let (rx, nil_r) = (&rx, &nil_r);
        let mut futs = (0..100)
            .map(|n| {
                let (got, sum) = (got.clone(), sum.clone());
                async move {
                    loop {
                        let v = match n % 3 {
                            0 => rx.recv_async().await,
                            1 => gochan::select_async! {
                                recv(rx) -> v => v,
                                recv(nil_r) -> _ => unreachable!(),
                            },
                            _ => match tokio::time::timeout(
                                Duration::from_micros(50),
                                rx.recv_async(),
                            )
                            .await
                            {
                                Ok(v) => v,
                                Err(_) => continue,
                            },
                        };
                        match v {
                            Ok(v) => {
                                got.fetch_add(1, Ordering::SeqCst);
                                sum.fetch_add(v, Ordering::SeqCst);
                            }
                            Err(_) => break,
                        }
                    }
                }
            })
            .collect::<FuturesUnordered<_>>();
        let recv_all = async { while futs.next().await.is_some() {} };
        tokio::time::timeout(Duration::from_secs(20), recv_all)
            .await
            .expect("receive timed out");
        sender.await.unwrap();
        assert_eq!(got.load(Ordering::SeqCst), n_sends, "{cap:?}");
        assert_eq!(
            sum.load(Ordering::SeqCst),
            n_sends * (n_sends - 1) / 2,
            "{cap:?}"
        );
    }
}

// crossbeam-channel tests/mpsc.rs: port_gone_concurrent_shared, chan_gone_concurrent,
// with Go's `close(ch)` in the middle: blocked and later sends (plain and in `select!`)
// fail with their own value, buffered values are still received, and every value is
// either received or given back, exactly once.
#[test]
fn mpsc_close_concurrent_exactly_once() {
    for cap in [Some(0), Some(1), Some(4), Some(BIG), None] {
        for round in 0..10 {
            let (s, r) = chan::<usize>(cap);
            let received = AtomicUsize::new(0);
            let returned = AtomicUsize::new(0);
            let sent_ok = AtomicUsize::new(0);
            thread::scope(|scope| {
                for t in 0..3 {
                    let s = s.clone();
                    let (returned, sent_ok) = (&returned, &sent_ok);
                    scope.spawn(move || {
                        let (_nil_s, nil_r) = bounded::<usize>(0);
                        for i in 0.. {
                            let res = if (i + t) % 2 == 0 {
                                s.send(i).map_err(|e| e.into_inner())
                            } else {
                                gochan::select! {
                                    send(s, i) -> res => res.map_err(|e| e.into_inner()),
                                    recv(nil_r) -> _ => unreachable!(),
                                }
                            };
                            match res {
                                Ok(()) => {
                                    sent_ok.fetch_add(1, Ordering::SeqCst);
                                }
                                Err(v) => {
                                    assert_eq!(v, i);
                                    returned.fetch_add(1, Ordering::SeqCst);
                                    break;
                                }
                            }
                        }
                    });
                }
                for _ in 0..2 {
                    let r = r.clone();
                    let received = &received;
                    scope.spawn(move || {
                        while r.recv().is_ok() {
                            received.fetch_add(1, Ordering::SeqCst);
                        }
                    });
                }
                thread::sleep(Duration::from_micros(200 * (round % 5) as u64));
                assert!(s.close());
                assert!(!s.close());
                drop(r);
            });
            assert_eq!(returned.load(Ordering::SeqCst), 3);
            assert_eq!(
                received.load(Ordering::SeqCst),
                sent_ok.load(Ordering::SeqCst),
                "{cap:?}"
            );
        }
    }
}
