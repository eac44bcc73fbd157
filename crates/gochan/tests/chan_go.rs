//! Go's channel behaviour: ports of `runtime/chan_test.go` and the Go spec's channel rules,
//! plus the gochan contract where it goes beyond Go (receiver drop, drop accounting,
//! thread/async interop, streams).
//!
//! Every potentially blocking body runs under a watchdog, so a hang fails the test instead
//! of stalling the suite.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use futures::StreamExt;
use gochan::{RecvError, RecvTimeoutError, SendTimeoutError, TryRecvError, TrySendError};

mod common;
#[allow(unused_imports)]
use common::*;

// ---------------------------------------------------------------------------------------
// helpers

impl DropLog {
    fn new(n: usize) -> Arc<DropLog> {
        Arc::new(DropLog((0..n).map(|_| AtomicUsize::new(0)).collect()))
    }
    fn count(&self, id: usize) -> usize {
        self.0[id].load(SeqCst)
    }
    fn total(&self) -> usize {
        self.0.iter().map(|c| c.load(SeqCst)).sum()
    }
    fn assert_all_once(&self) {
        for (id, c) in self.0.iter().enumerate() {
            assert_eq!(
                c.load(SeqCst),
                1,
                "value {id} dropped the wrong number of times"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// runtime/chan_test.go

/// Go: `TestChan` (runtime/chan_test.go) for capacities 0..=10: receive from an empty
/// channel blocks, non-blocking receive does not; send to a full channel blocks,
/// non-blocking send does not; a closed channel yields buffered values then the zero
/// value (here `Err`); close unblocks a receiver; FIFO order; 4x4 MPMC; len/cap.
#[test]
fn test_chan() {
    watchdog(|| {
        for cap in 0..=10 {
            test_chan_cap(cap);
        }
    });
}

fn test_chan_cap(cap: usize) {
    {
        // Receive from an empty chan blocks.
        let (tx, rx) = gochan::bounded::<i32>(cap);
        let flags = [
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        ];
        let hs: Vec<_> = flags
            .iter()
            .map(|flag| {
                let (rx, flag) = (rx.clone(), flag.clone());
                thread::spawn(move || {
                    let _ = rx.recv();
                    flag.store(true, SeqCst);
                })
            })
            .collect();
        thread::sleep(Duration::from_millis(1));
        assert!(
            flags.iter().all(|f| !f.load(SeqCst)),
            "chan[{cap}]: receive from empty chan"
        );
        // Non-blocking receive does not block.
        gochan::select! {
            recv(rx) -> _ => panic!("chan[{cap}]: receive from empty chan"),
            default => {}
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        tx.send(0).unwrap();
        tx.send(0).unwrap();
        for h in hs {
            h.join().unwrap();
        }
        assert!(flags.iter().all(|f| f.load(SeqCst)));
    }
    {
        // Send to a full chan blocks.
        let (tx, rx) = gochan::bounded::<i32>(cap);
        for i in 0..cap {
            tx.send(i as i32).unwrap();
        }
        let sent = Arc::new(AtomicBool::new(false));
        let h = {
            let (tx, sent) = (tx.clone(), sent.clone());
            thread::spawn(move || {
                tx.send(0).unwrap();
                sent.store(true, SeqCst);
            })
        };
        thread::sleep(Duration::from_millis(1));
        assert!(!sent.load(SeqCst), "chan[{cap}]: send to full chan");
        // Non-blocking send does not block.
        gochan::select! {
            send(tx, 0) -> _ => panic!("chan[{cap}]: send to full chan"),
            default => {}
        }
        assert_eq!(tx.try_send(0), Err(TrySendError::Full(0)));
        rx.recv().unwrap();
        h.join().unwrap();
        assert!(sent.load(SeqCst));
    }
    {
        // A closed chan yields its buffered values, then the zero value (here: Err).
        let (tx, rx) = gochan::bounded::<i32>(cap);
        for i in 0..cap {
            tx.send(i as i32).unwrap();
        }
        assert!(tx.close());
        for i in 0..cap {
            assert_eq!(rx.recv(), Ok(i as i32), "chan[{cap}]");
        }
        assert_eq!(rx.recv(), Err(RecvError));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(5)),
            Err(RecvTimeoutError::Closed)
        );
    }
    {
        // Close unblocks a receive.
        let (tx, rx) = gochan::bounded::<i32>(cap);
        let h = thread::spawn(move || rx.recv());
        thread::sleep(Duration::from_millis(1));
        tx.close();
        assert_eq!(h.join().unwrap(), Err(RecvError), "chan[{cap}]");
    }
    {
        // 100 integers arrive uncorrupted in FIFO order (twice, as Go checks both
        // receive forms).
        let (tx, rx) = gochan::bounded::<i32>(cap);
        for _ in 0..2 {
            let tx2 = tx.clone();
            let h = thread::spawn(move || {
                for i in 0..100 {
                    tx2.send(i).unwrap();
                }
            });
            for i in 0..100 {
                assert_eq!(rx.recv(), Ok(i), "chan[{cap}]");
            }
            h.join().unwrap();
        }
        // 1000 integers from each of 4 producers, received by 4 consumers.
        const P: usize = 4;
        const L: i32 = 1000;
        let producers: Vec<_> = (0..P)
            .map(|_| {
                let tx = tx.clone();
                thread::spawn(move || {
                    for i in 0..L {
                        tx.send(i).unwrap();
                    }
                })
            })
            .collect();
        let consumers: Vec<_> = (0..P)
            .map(|_| {
                let rx = rx.clone();
                thread::spawn(move || {
                    let mut recv = HashMap::<i32, usize>::new();
                    for _ in 0..L {
                        *recv.entry(rx.recv().unwrap()).or_default() += 1;
                    }
                    recv
                })
            })
            .collect();
        let mut recv = HashMap::<i32, usize>::new();
        for c in consumers {
            for (k, v) in c.join().unwrap() {
                *recv.entry(k).or_default() += v;
            }
        }
        for p in producers {
            p.join().unwrap();
        }
        assert_eq!(recv.len(), L as usize, "chan[{cap}]: distinct values");
        assert!(recv.values().all(|&v| v == P), "chan[{cap}]: {recv:?}");
    }
    {
        // len/cap.
        let (tx, rx) = gochan::bounded::<i32>(cap);
        assert_eq!((rx.len(), rx.capacity()), (0, Some(cap)));
        for i in 0..cap {
            tx.send(i as i32).unwrap();
        }
        assert_eq!((tx.len(), tx.capacity()), (cap, Some(cap)));
        assert!(tx.is_full() && rx.is_full());
        assert_eq!(rx.is_empty(), cap == 0);
    }
}

/// Go: `TestNonblockRecvRace`: a non-blocking receive on a channel that holds a value
/// (and is being closed and drained concurrently) must never report "not ready".
#[test]
fn test_nonblock_recv_race() {
    watchdog(|| {
        for _ in 0..10_000 {
            let (tx, rx) = gochan::bounded::<i32>(1);
            tx.send(1).unwrap();
            let rx2 = rx.clone();
            let h = thread::spawn(move || {
                gochan::select! {
                    recv(rx2) -> _ => true,
                    default => false,
                }
            });
            tx.close();
            let _ = rx.recv();
            assert!(h.join().unwrap(), "chan is not ready");
        }
    });
}

/// Go: `TestMultiConsumer`: 23 workers range over a work channel and forward to a result
/// channel; every item is processed exactly once (count and sum check).
#[test]
fn test_multi_consumer() {
    watchdog(|| {
        const NWORK: usize = 23;
        const NITER: usize = 30_000;
        let pn = [2u64, 3, 7, 11, 13, 17, 19, 23, 27, 31];
        let (q_tx, q) = gochan::bounded::<u64>(NWORK * 3);
        let (r_tx, r) = gochan::bounded::<u64>(NWORK * 3);
        let workers: Vec<_> = (0..NWORK)
            .map(|w| {
                let (q, r_tx) = (q.clone(), r_tx.clone());
                thread::spawn(move || {
                    for v in &q {
                        // Mess with the FIFO-ish nature of range.
                        if pn[w % pn.len()] == v {
                            thread::yield_now();
                        }
                        r_tx.send(v).unwrap();
                    }
                })
            })
            .collect();
        drop(q);
        let feeder = thread::spawn(move || {
            let mut expect = 0;
            for i in 0..NITER {
                let v = pn[i % pn.len()];
                expect += v;
                q_tx.send(v).unwrap();
            }
            assert!(q_tx.close()); // no more work
            for w in workers {
                w.join().unwrap(); // workers done
            }
            assert!(r_tx.close()); // so there can't be any more results
            expect
        });
        let (mut n, mut s) = (0, 0);
        for v in &r {
            n += 1;
            s += v;
        }
        let expect = feeder.join().unwrap();
        assert_eq!((n, s), (NITER, expect));
    });
}

// ---------------------------------------------------------------------------------------
// close semantics (Go spec "Close"; "Receive operator")

/// Go spec, Receive operator: after close, buffered values are still received in order;
/// then a receive proceeds immediately with the zero value (`Err`), forever.
#[test]
fn close_drains_buffered_then_err() {
    let (tx, rx) = gochan::bounded::<String>(3);
    tx.send("a".into()).unwrap();
    tx.send("b".into()).unwrap();
    assert!(tx.close());
    assert!(tx.is_closed() && rx.is_closed());
    assert_eq!(rx.len(), 2);
    assert_eq!(rx.recv().as_deref(), Ok("a"));
    assert_eq!(rx.try_recv().as_deref(), Ok("b"));
    for _ in 0..3 {
        assert_eq!(rx.recv(), Err(RecvError));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        assert_eq!(
            rx.recv_timeout(Duration::ZERO),
            Err(RecvTimeoutError::Closed)
        );
        assert_eq!(
            rx.recv_deadline(Instant::now()),
            Err(RecvTimeoutError::Closed)
        );
    }
    // Ranging over a closed channel terminates.
    assert_eq!(rx.iter().count(), 0);
    assert_eq!((&rx).into_iter().count(), 0);
    let (tx, rx) = gochan::unbounded::<i32>();
    for i in 0..5 {
        tx.send(i).unwrap();
    }
    tx.close();
    assert_eq!(rx.into_iter().collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
}

/// Go: close unblocks every blocked receiver (`TestChan` "close unblocks receive", for
/// many receivers at once).
#[test]
fn close_wakes_all_blocked_receivers() {
    watchdog(|| {
        for cap in [0, 3] {
            let (tx, rx) = gochan::bounded::<i32>(cap);
            let hs: Vec<_> = (0..5)
                .map(|_| {
                    let rx = rx.clone();
                    thread::spawn(move || rx.recv())
                })
                .collect();
            wait_until("5 receivers block", || waiting_receivers(&rx) == 5);
            assert!(tx.close());
            for h in hs {
                assert_eq!(h.join().unwrap(), Err(RecvError));
            }
        }
    });
}

/// Go panics when a channel is closed under a blocked sender; gochan's contract instead
/// fails each blocked sender with its own value back, and keeps the buffered values.
#[test]
fn close_fails_blocked_senders_with_their_values() {
    watchdog(|| {
        for cap in [0, 1] {
            let (tx, rx) = gochan::bounded::<i32>(cap);
            if cap == 1 {
                tx.send(100).unwrap();
            }
            let mut hs = Vec::new();
            for i in 0..3 {
                let tx2 = tx.clone();
                hs.push(thread::spawn(move || tx2.send(i)));
                wait_until("sender blocks", || waiting_senders(&tx) == i as usize + 1);
            }
            assert!(tx.close());
            for (i, h) in hs.into_iter().enumerate() {
                let err = h.join().unwrap().unwrap_err();
                assert_eq!(err.into_inner(), i as i32, "cap {cap}");
            }
            if cap == 1 {
                assert_eq!(rx.recv(), Ok(100));
            }
            assert_eq!(rx.recv(), Err(RecvError));
        }
    });
}

/// Go spec, Close: closing a closed channel panics in Go; gochan returns `false` for every
/// close after the first, from any handle, and dropping the senders afterwards is fine.
#[test]
fn close_twice_returns_false() {
    let (tx, rx) = gochan::bounded::<i32>(1);
    let tx2 = tx.clone();
    assert!(!rx.is_closed());
    assert!(tx.close());
    assert!(!tx.close());
    assert!(!tx2.close());
    drop(tx);
    drop(tx2);
    assert!(rx.is_closed());
    assert_eq!(rx.recv(), Err(RecvError));
}

/// Go spec, Close: sending on a closed channel panics in Go; gochan fails every form of
/// send and gives the value back.
#[test]
fn send_on_closed_channel_fails_with_value() {
    for cap in [Some(0), Some(2), None] {
        let (tx, _rx) = match cap {
            Some(c) => gochan::bounded::<i32>(c),
            None => gochan::unbounded::<i32>(),
        };
        tx.close();
        assert_eq!(tx.send(1).unwrap_err().into_inner(), 1);
        assert_eq!(tx.try_send(2), Err(TrySendError::Closed(2)));
        assert_eq!(
            tx.send_timeout(3, Duration::from_secs(5)),
            Err(SendTimeoutError::Closed(3))
        );
        assert_eq!(
            tx.send_deadline(4, Instant::now()),
            Err(SendTimeoutError::Closed(4))
        );
        let r = futures::executor::block_on(tx.send_async(5));
        assert_eq!(r.unwrap_err().into_inner(), 5);
    }
}

/// gochan contract: dropping the last `Sender` closes the channel (waking blocked
/// receivers); dropping one of several does not.
#[test]
fn dropping_last_sender_closes() {
    watchdog(|| {
        let (tx, rx) = gochan::bounded::<i32>(0);
        let tx2 = tx.clone();
        let rx2 = rx.clone();
        let h = thread::spawn(move || rx2.recv());
        wait_until("receiver blocks", || waiting_receivers(&rx) == 1);
        drop(tx);
        assert!(!rx.is_closed());
        tx2.send(9).unwrap();
        assert_eq!(h.join().unwrap(), Ok(9));
        let rx2 = rx.clone();
        let h = thread::spawn(move || rx2.recv());
        wait_until("receiver blocks", || waiting_receivers(&rx) == 1);
        drop(tx2);
        assert_eq!(h.join().unwrap(), Err(RecvError));
        assert!(rx.is_closed());
    });
}

/// Go spec, Channel types: a nil channel is never ready (gochan: `never()`): a receive
/// blocks (here: times out), a non-blocking receive finds nothing, a select skips it.
#[test]
fn never_is_nil_channel() {
    let rx = gochan::never::<i32>();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(10)),
        Err(RecvTimeoutError::Timeout)
    );
    assert!(!rx.is_closed());
    let (tx, ready) = gochan::bounded(1);
    tx.send(5).unwrap();
    for _ in 0..100 {
        gochan::select! {
            recv(rx) -> _ => panic!("a nil channel was chosen"),
            default => {}
        }
    }
    gochan::select! {
        recv(rx) -> _ => panic!("a nil channel was chosen"),
        recv(ready) -> v => assert_eq!(v, Ok(5)),
    }
}

/// Go spec, Channel types: on an unbuffered channel "communication succeeds only when
/// both a sender and receiver are ready".
#[test]
fn unbuffered_send_needs_a_receiver() {
    let (tx, rx) = gochan::bounded::<i32>(0);
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    assert_eq!(
        tx.send_timeout(2, Duration::from_millis(10)),
        Err(SendTimeoutError::Timeout(2))
    );
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert!(rx.is_empty() && rx.is_full());
    // A timed-out send left nothing behind.
    assert_eq!(waiting_senders(&tx), 0);
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(10)),
        Err(RecvTimeoutError::Timeout)
    );
    assert_eq!(waiting_receivers(&rx), 0);
}

// ---------------------------------------------------------------------------------------
// FIFO among waiting parties (Go's hchan sendq/recvq)

/// Go runtime `chanrecv`: with the buffer full, a receive takes the head of the buffer and
/// moves the *first* waiting sender's value in behind the buffered ones, so blocked
/// senders are served in the order they blocked.
#[test]
fn waiting_senders_are_fifo() {
    watchdog(|| {
        for cap in [0usize, 1, 2, 3] {
            let (tx, rx) = gochan::bounded::<usize>(cap);
            for i in 0..cap {
                tx.send(i).unwrap();
            }
            let mut hs = Vec::new();
            for k in 0..5 {
                let tx2 = tx.clone();
                hs.push(thread::spawn(move || tx2.send(cap + k)));
                wait_until("sender blocks", || waiting_senders(&tx) == k + 1);
            }
            if cap > 0 {
                // The first receive moves the first blocked sender's value into the buffer.
                assert_eq!(rx.recv(), Ok(0));
                let first = hs.remove(0);
                assert_eq!(first.join().unwrap(), Ok(()));
                assert_eq!(
                    rx.len(),
                    cap,
                    "the sender's value moved in behind the buffer"
                );
                assert_eq!(waiting_senders(&tx), 4);
                for i in 1..cap + 5 {
                    assert_eq!(rx.recv(), Ok(i), "cap {cap}");
                }
            } else {
                for i in 0..5 {
                    assert_eq!(rx.recv(), Ok(i), "cap {cap}");
                }
            }
            for h in hs {
                h.join().unwrap().unwrap();
            }
            assert!(rx.is_empty());
        }
    });
}

/// Go runtime `chansend`/`chanrecv` under the lock-free buffer: once a sender is blocked,
/// a sender that comes later queues behind it, even while a receive frees a slot (the
/// freed slot goes to the blocked sender's value, never to the later sender's).
#[test]
fn later_senders_do_not_barge_past_a_blocked_one() {
    watchdog(|| {
        for _ in 0..50 {
            // Capacity 2: a lock-free ring (capacity 1 keeps the locked buffer).
            let (tx, rx) = gochan::bounded::<usize>(2);
            tx.send(0).unwrap();
            tx.send(1).unwrap();
            let tx2 = tx.clone();
            let blocked = thread::spawn(move || tx2.send(2));
            wait_until("sender blocks", || waiting_senders(&tx) == 1);
            let tx3 = tx.clone();
            let later = thread::spawn(move || {
                let mut v = 100;
                loop {
                    match tx3.try_send(v) {
                        Ok(()) => return,
                        Err(gochan::TrySendError::Full(x)) => v = x,
                        Err(e) => panic!("{e:?}"),
                    }
                    std::hint::spin_loop();
                }
            });
            assert_eq!(rx.recv(), Ok(0));
            assert_eq!(rx.recv(), Ok(1));
            assert_eq!(rx.recv(), Ok(2), "a later sender took the freed slot");
            assert_eq!(rx.recv(), Ok(100));
            blocked.join().unwrap().unwrap();
            later.join().unwrap();
        }
    });
}

/// Go runtime `chansend`: a send hands its value to the receiver that has waited longest.
#[test]
fn waiting_receivers_are_fifo() {
    watchdog(|| {
        for cap in [0usize, 2] {
            let (tx, rx) = gochan::bounded::<usize>(cap);
            let mut hs = Vec::new();
            for k in 0..5 {
                let rx2 = rx.clone();
                hs.push(thread::spawn(move || rx2.recv()));
                wait_until("receiver blocks", || waiting_receivers(&rx) == k + 1);
            }
            for i in 0..5 {
                tx.send(i).unwrap();
            }
            for (k, h) in hs.into_iter().enumerate() {
                assert_eq!(h.join().unwrap(), Ok(k), "cap {cap}");
            }
        }
    });
}

// ---------------------------------------------------------------------------------------
// receiver drop

/// gochan contract (no goroutine leak): dropping the last `Receiver` fails a blocked
/// sender with its value, for unbuffered and full buffered channels.
#[test]
fn receiver_drop_fails_blocked_sender() {
    watchdog(|| {
        for cap in [0, 1, 4] {
            let (tx, rx) = gochan::bounded::<i32>(cap);
            for i in 0..cap {
                tx.send(i as i32).unwrap();
            }
            let tx2 = tx.clone();
            let h = thread::spawn(move || tx2.send(77));
            wait_until("sender blocks", || waiting_senders(&tx) == 1);
            drop(rx);
            assert_eq!(h.join().unwrap().unwrap_err().into_inner(), 77);
            assert!(tx.is_closed());
        }
    });
}

/// gochan contract: after the last `Receiver` is gone, every send fails at once with its
/// value (never blocks), even on an unbuffered channel; buffered values are gone.
#[test]
fn receiver_drop_future_sends_fail() {
    watchdog(|| {
        let (tx, rx) = gochan::bounded::<i32>(0);
        let rx2 = rx.clone();
        drop(rx);
        assert!(!tx.is_closed(), "a receiver is still alive");
        drop(rx2);
        assert!(tx.is_closed());
        assert_eq!(tx.send(1).unwrap_err().into_inner(), 1);
        assert_eq!(tx.try_send(2), Err(TrySendError::Closed(2)));
        assert_eq!(
            tx.send_timeout(3, Duration::from_secs(10)),
            Err(SendTimeoutError::Closed(3))
        );
        let r = futures::executor::block_on(tx.send_async(4));
        assert_eq!(r.unwrap_err().into_inner(), 4);
        let (tx, rx) = gochan::bounded::<i32>(3);
        tx.send(1).unwrap();
        drop(rx);
        assert_eq!(tx.len(), 0);
        assert_eq!(tx.try_send(5), Err(TrySendError::Closed(5)));
    });
}

// ---------------------------------------------------------------------------------------
// values are dropped exactly once

/// gochan contract: values still buffered when the whole channel is dropped are dropped
/// exactly once, in either drop order, for bounded and unbounded channels.
#[test]
fn buffered_values_dropped_once_with_channel() {
    for (flavor, rx_first) in [(0, false), (0, true), (1, false), (1, true)] {
        let log = DropLog::new(5);
        let (tx, rx) = if flavor == 0 {
            gochan::bounded::<Tracked>(8)
        } else {
            gochan::unbounded::<Tracked>()
        };
        for i in 0..5 {
            tx.send(tracked(&log, i)).unwrap();
        }
        assert_eq!(log.total(), 0);
        if rx_first {
            drop(rx);
            drop(tx);
        } else {
            drop(tx);
            assert_eq!(log.total(), 0, "closing must not drop buffered values");
            drop(rx);
        }
        log.assert_all_once();
    }
}

/// gochan contract: when the last receiver drops, buffered values are dropped right away
/// (the senders live on), exactly once.
#[test]
fn buffered_values_dropped_once_when_last_receiver_drops() {
    let log = DropLog::new(4);
    let (tx, rx) = gochan::bounded::<Tracked>(4);
    for i in 0..4 {
        tx.send(tracked(&log, i)).unwrap();
    }
    let rx2 = rx.clone();
    drop(rx);
    assert_eq!(log.total(), 0);
    drop(rx2);
    log.assert_all_once();
    drop(tx);
    log.assert_all_once();
}

/// gochan contract: a failed send gives its value back: nothing drops it but the caller,
/// exactly once (closed, full, timed out, and failed by a receiver drop while blocked).
#[test]
fn failed_send_value_dropped_once() {
    watchdog(|| {
        let log = DropLog::new(6);
        let (tx, rx) = gochan::bounded::<Tracked>(0);
        let e = tx.try_send(tracked(&log, 0)).unwrap_err();
        assert!(e.is_full());
        let e2 = tx
            .send_timeout(tracked(&log, 1), Duration::from_millis(5))
            .unwrap_err();
        assert!(e2.is_timeout());
        assert_eq!(log.total(), 0);
        assert_eq!(e.into_inner().id, 0);
        assert_eq!(log.count(0), 1);
        drop(e2);
        assert_eq!(log.count(1), 1);

        let tx2 = tx.clone();
        let log2 = log.clone();
        let h = thread::spawn(move || tx2.send(tracked(&log2, 2)));
        wait_until("sender blocks", || waiting_senders(&tx) == 1);
        drop(rx);
        let e = h.join().unwrap().unwrap_err();
        assert_eq!(log.count(2), 0, "the failed send still owns its value");
        drop(e);
        assert_eq!(log.count(2), 1);

        let e = tx.send(tracked(&log, 3)).unwrap_err();
        assert_eq!(log.count(3), 0);
        drop(e);
        let (tx, rx) = gochan::bounded::<Tracked>(1);
        tx.close();
        drop(tx.send(tracked(&log, 4)).unwrap_err());
        drop(rx);
        // A successful hand-off: dropped once, by the receiver.
        let (tx, rx) = gochan::bounded::<Tracked>(0);
        let h = thread::spawn(move || drop(rx.recv().unwrap()));
        tx.send(tracked(&log, 5)).unwrap();
        h.join().unwrap();
        log.assert_all_once();
    });
}

// ---------------------------------------------------------------------------------------
// zero-sized types and capacity limits

/// Go: `make(chan struct{}, n)`: channels of zero-sized values count and block like any
/// other.
#[test]
fn zst_channels() {
    watchdog(|| {
        let (tx, rx) = gochan::bounded::<()>(0);
        let h = thread::spawn(move || rx.iter().count());
        for _ in 0..1000 {
            tx.send(()).unwrap();
        }
        drop(tx);
        assert_eq!(h.join().unwrap(), 1000);

        let (tx, rx) = gochan::bounded::<()>(3);
        for _ in 0..3 {
            tx.send(()).unwrap();
        }
        assert_eq!(tx.try_send(()), Err(TrySendError::Full(())));
        assert_eq!(rx.len(), 3);
        assert!(rx.is_full());
        assert_eq!(rx.try_iter().count(), 3);

        let (tx, rx) = gochan::unbounded::<()>();
        for _ in 0..10_000 {
            tx.send(()).unwrap();
        }
        assert_eq!(rx.len(), 10_000);
        tx.close();
        assert_eq!(rx.iter().count(), 10_000);
    });
}

/// Go: `makechan: size out of range`: a capacity whose buffer cannot exist panics with a
/// clear message.
#[test]
#[should_panic(expected = "out of range")]
fn huge_capacity_of_sized_values_panics() {
    let _ = gochan::bounded::<u64>(usize::MAX);
}

/// As above for one-byte values: `usize::MAX` bytes exceed `isize::MAX`.
#[test]
#[should_panic(expected = "out of range")]
fn huge_capacity_of_bytes_panics() {
    let _ = gochan::bounded::<u8>(usize::MAX);
}

/// Go allows any capacity for zero-sized elements; so does gochan, and a large (but
/// representable) capacity costs nothing until used.
#[test]
fn huge_capacity_zst_and_lazy_buffers() {
    struct Z;
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    impl Drop for Z {
        fn drop(&mut self) {
            DROPS.fetch_add(1, SeqCst);
        }
    }
    let (tx, rx) = gochan::bounded::<Z>(usize::MAX);
    assert_eq!(tx.capacity(), Some(usize::MAX));
    for _ in 0..1000 {
        tx.send(Z).unwrap();
    }
    assert_eq!(rx.len(), 1000);
    assert!(!tx.is_full());
    drop(rx.recv().unwrap());
    drop((tx, rx));
    assert_eq!(DROPS.load(SeqCst), 1000);

    // 8 TiB of capacity: must not be allocated up front.
    let (tx, rx) = gochan::bounded::<u64>(1 << 40);
    for i in 0..100 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.iter().take(100).sum::<u64>(), 4950);
}

// ---------------------------------------------------------------------------------------
// MPMC exactly once

/// Go: `TestChan`'s MPMC section at scale, for cap 0, 1, 16 and unbounded: 4 producers x 4
/// consumers, every value received exactly once, and each consumer sees each producer's
/// values in the order they were sent (FIFO).
#[test]
fn mpmc_exactly_once() {
    watchdog(|| {
        const P: usize = 4;
        const M: usize = 2_500;
        for cap in [Some(0), Some(1), Some(16), None] {
            let (tx, rx) = match cap {
                Some(c) => gochan::bounded::<usize>(c),
                None => gochan::unbounded::<usize>(),
            };
            let producers: Vec<_> = (0..P)
                .map(|p| {
                    let tx = tx.clone();
                    thread::spawn(move || {
                        for i in 0..M {
                            tx.send(p * M + i).unwrap();
                        }
                    })
                })
                .collect();
            drop(tx);
            let consumers: Vec<_> = (0..P)
                .map(|_| {
                    let rx = rx.clone();
                    thread::spawn(move || rx.iter().collect::<Vec<_>>())
                })
                .collect();
            drop(rx);
            for p in producers {
                p.join().unwrap();
            }
            let mut all = Vec::new();
            for c in consumers {
                let got = c.join().unwrap();
                let mut last = [None::<usize>; P];
                for &v in &got {
                    let p = v / M;
                    assert!(last[p] < Some(v), "cap {cap:?}: producer {p} out of order");
                    last[p] = Some(v);
                }
                all.extend(got);
            }
            all.sort_unstable();
            assert_eq!(all.len(), P * M, "cap {cap:?}: lost or duplicated values");
            assert!(
                all.iter().copied().eq(0..P * M),
                "cap {cap:?}: wrong values"
            );
        }
    });
}

// ---------------------------------------------------------------------------------------
// threads and async tasks on one channel

/// gochan contract: a thread and a task on tokio's multi-thread runtime exchange values
/// both ways over unbuffered channels.
#[test]
fn thread_async_pingpong_tokio() {
    watchdog(|| {
        let rt = tokio_rt();
        let (to_task, task_rx) = gochan::bounded::<u64>(0);
        let (to_thread, thread_rx) = gochan::bounded::<u64>(0);
        let task = rt.spawn(async move {
            let mut n = 0;
            while let Ok(v) = task_rx.recv_async().await {
                to_thread.send_async(v * 2).await.unwrap();
                n += 1;
            }
            n
        });
        for i in 0..2_000 {
            to_task.send(i).unwrap();
            assert_eq!(thread_rx.recv(), Ok(i * 2));
        }
        drop(to_task);
        assert_eq!(rt.block_on(task).unwrap(), 2_000);
        assert_eq!(thread_rx.recv(), Err(RecvError));
    });
}

/// gochan contract: thread and task producers and consumers share one channel (tokio
/// multi-thread and `futures::executor`), every value delivered exactly once.
#[test]
fn thread_async_mpmc() {
    watchdog(|| {
        const M: usize = 2_000;
        for cap in [0, 1, 8] {
            let rt = tokio_rt();
            let (tx, rx) = gochan::bounded::<usize>(cap);
            let mut senders = Vec::new();
            for p in 0..2 {
                let tx = tx.clone();
                senders.push(thread::spawn(move || {
                    for i in 0..M {
                        tx.send(p * M + i).unwrap();
                    }
                }));
            }
            let mut tasks = Vec::new();
            for p in 2..4 {
                let tx = tx.clone();
                tasks.push(rt.spawn(async move {
                    for i in 0..M {
                        tx.send_async(p * M + i).await.unwrap();
                    }
                    Vec::new()
                }));
            }
            // A fifth producer on a plain futures executor thread.
            {
                let tx = tx.clone();
                senders.push(thread::spawn(move || {
                    futures::executor::block_on(async {
                        for i in 0..M {
                            tx.send_async(4 * M + i).await.unwrap();
                        }
                    })
                }));
            }
            drop(tx);
            let mut consumers = Vec::new();
            for _ in 0..2 {
                let rx = rx.clone();
                consumers.push(thread::spawn(move || rx.iter().collect::<Vec<_>>()));
            }
            for _ in 0..2 {
                let rx = rx.clone();
                tasks.push(rt.spawn(async move {
                    let mut got = Vec::new();
                    while let Ok(v) = rx.recv_async().await {
                        got.push(v);
                    }
                    got
                }));
            }
            drop(rx);
            let mut all = Vec::new();
            for s in senders {
                s.join().unwrap();
            }
            for c in consumers {
                all.extend(c.join().unwrap());
            }
            for t in tasks {
                all.extend(rt.block_on(t).unwrap());
            }
            all.sort_unstable();
            assert!(
                all.iter().copied().eq(0..5 * M),
                "cap {cap}: lost or duplicated"
            );
        }
    });
}

// ---------------------------------------------------------------------------------------
// Stream

/// gochan contract: `Receiver::stream` / `into_stream` are `futures_core::Stream`s that end
/// when the channel is closed and drained; a stream dropped between items loses nothing.
#[test]
fn stream_usage() {
    watchdog(|| {
        // Borrowing stream on a futures executor, fed by a thread.
        let (tx, rx) = gochan::bounded::<u32>(0);
        let h = thread::spawn(move || {
            for i in 0..100 {
                tx.send(i).unwrap();
            }
        });
        let all: Vec<u32> = futures::executor::block_on(rx.stream().collect());
        assert!(all.iter().copied().eq(0..100));
        h.join().unwrap();

        // Partial consumption: the rest stays in the channel.
        let (tx, rx) = gochan::unbounded::<u32>();
        for i in 0..10 {
            tx.send(i).unwrap();
        }
        let first: Vec<u32> = futures::executor::block_on(rx.stream().take(3).collect());
        assert_eq!(first, [0, 1, 2]);
        assert_eq!(rx.len(), 7);
        drop(tx);
        let mut s = rx.stream();
        let rest: Vec<u32> = futures::executor::block_on((&mut s).collect());
        assert!(rest.iter().copied().eq(3..10));
        assert!(futures::stream::FusedStream::is_terminated(&s));
        assert_eq!(futures::executor::block_on(s.next()), None);

        // Owning stream moved into a tokio task, combinators included.
        let rt = tokio_rt();
        let (tx, rx) = gochan::bounded::<u64>(4);
        let task = rt.spawn(
            rx.into_stream()
                .map(|v| v * 3)
                .fold(0, |a, v| async move { a + v }),
        );
        for i in 1..=1000 {
            tx.send(i).unwrap();
        }
        drop(tx);
        assert_eq!(rt.block_on(task).unwrap(), 3 * 500_500);
    });
}
