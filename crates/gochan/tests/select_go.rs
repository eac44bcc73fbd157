//! Go's `select`: ports of the select tests in `runtime/chan_test.go` and the spec's
//! select rules, for `select!`, `select_biased!` and the dynamic `Select`.
//!
//! Every potentially blocking body runs under a watchdog, so a hang fails the test instead
//! of stalling the suite.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use gochan::{Receiver, RecvError, RecvTimeoutError, Select, Sender, TryRecvError};

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
}

/// `count` must be within `sigmas` standard deviations of a Binomial(n, p) mean.
fn assert_binomial(count: usize, n: usize, p: f64, sigmas: f64, what: &str) {
    let mean = n as f64 * p;
    let sd = (n as f64 * p * (1.0 - p)).sqrt();
    assert!(
        (count as f64 - mean).abs() <= sigmas * sd,
        "unfair select ({what}): {count} of {n}, expected {mean} +- {}",
        sigmas * sd
    );
}

// ---------------------------------------------------------------------------------------
// fairness

/// Go: `TestSelectFairness`: two ready buffered channels (plus two never-ready unbuffered
/// ones) are chosen about equally often (within 7 sigma over 30k selects).
#[test]
fn test_select_fairness() {
    const TRIALS: usize = 30_000;
    let (t1, c1) = gochan::bounded::<u8>(TRIALS + 1);
    let (t2, c2) = gochan::bounded::<u8>(TRIALS + 1);
    for _ in 0..=TRIALS {
        t1.send(1).unwrap();
        t2.send(2).unwrap();
    }
    let (_t3, c3) = gochan::bounded::<u8>(0);
    let (_t4, c4) = gochan::bounded::<u8>(0);
    let mut cnt = [0usize; 3];
    for _ in 0..TRIALS {
        let b = gochan::select! {
            recv(c3) -> b => b,
            recv(c4) -> b => b,
            recv(c1) -> b => b,
            recv(c2) -> b => b,
        };
        cnt[b.unwrap() as usize] += 1;
    }
    assert_eq!(cnt[0], 0);
    assert_binomial(cnt[1], TRIALS, 0.5, 7.0, "2 recv arms");
}

/// Go's fairness rule ("chosen via a uniform pseudo-random selection") for 4 ready receive
/// arms, for `select!` and the dynamic `Select`, and for 2 ready send arms.
#[test]
fn select_fairness_4_arms_and_send_arms() {
    const TRIALS: usize = 30_000;
    let chans: Vec<_> = (0..4)
        .map(|_| gochan::bounded::<usize>(2 * TRIALS))
        .collect();
    for (i, (tx, _)) in chans.iter().enumerate() {
        for _ in 0..2 * TRIALS {
            tx.send(i).unwrap();
        }
    }
    let (r0, r1, r2, r3) = (&chans[0].1, &chans[1].1, &chans[2].1, &chans[3].1);
    let mut cnt = [0usize; 4];
    for _ in 0..TRIALS {
        let v = gochan::select! {
            recv(r0) -> v => v,
            recv(r1) -> v => v,
            recv(r2) -> v => v,
            recv(r3) -> v => v,
        };
        cnt[v.unwrap()] += 1;
    }
    for c in cnt {
        assert_binomial(c, TRIALS, 0.25, 7.0, "select! 4 recv arms");
    }
    let mut cnt = [0usize; 4];
    for _ in 0..TRIALS {
        let mut sel = Select::new();
        for (_, rx) in &chans {
            sel.recv(rx);
        }
        let op = sel.select();
        let i = op.index();
        assert_eq!(op.recv(&chans[i].1), Ok(i));
        cnt[i] += 1;
    }
    for c in cnt {
        assert_binomial(c, TRIALS, 0.25, 7.0, "Select 4 recv arms");
    }

    let (ta, ra) = gochan::unbounded::<u8>();
    let (tb, rb) = gochan::unbounded::<u8>();
    for _ in 0..TRIALS {
        gochan::select! {
            send(ta, 0) -> r => r.unwrap(),
            send(tb, 1) -> r => r.unwrap(),
        }
    }
    assert_eq!(ra.len() + rb.len(), TRIALS);
    assert_binomial(ra.len(), TRIALS, 0.5, 7.0, "2 send arms");
}

// ---------------------------------------------------------------------------------------
// exactly once

/// Go's select rule "exactly one case proceeds": a 4-way send select over unbuffered
/// channels, each drained by its own receiver thread, never delivers a value twice; the
/// receivers together get exactly the values sent, each once.
#[test]
fn send_select_delivers_exactly_once() {
    watchdog(|| {
        const M: usize = 10_000;
        for cap in [0, 1] {
            let chans: Vec<_> = (0..4).map(|_| gochan::bounded::<usize>(cap)).collect();
            let receivers: Vec<_> = chans
                .iter()
                .map(|(_, rx)| {
                    let rx = rx.clone();
                    thread::spawn(move || rx.iter().collect::<Vec<_>>())
                })
                .collect();
            let (t0, t1, t2, t3) = (&chans[0].0, &chans[1].0, &chans[2].0, &chans[3].0);
            let mut per_arm = [0usize; 4];
            for i in 0..M {
                let arm = gochan::select! {
                    send(t0, i) -> r => { r.unwrap(); 0 },
                    send(t1, i) -> r => { r.unwrap(); 1 },
                    send(t2, i) -> r => { r.unwrap(); 2 },
                    send(t3, i) -> r => { r.unwrap(); 3 },
                };
                per_arm[arm] += 1;
            }
            drop(chans);
            let mut all = Vec::new();
            for (k, h) in receivers.into_iter().enumerate() {
                let got = h.join().unwrap();
                assert_eq!(got.len(), per_arm[k], "cap {cap}: arm {k} count");
                assert!(got.windows(2).all(|w| w[0] < w[1]), "cap {cap}: FIFO");
                all.extend(got);
            }
            all.sort_unstable();
            assert!(
                all.iter().copied().eq(0..M),
                "cap {cap}: a value was lost or sent twice"
            );
        }
    });
}

/// Exactly once, with two threads each running 4-way send selects and two threads each
/// running 4-way receive selects over the same unbuffered channels.
#[test]
fn competing_selects_exactly_once() {
    watchdog(|| {
        const M: usize = 5_000;
        let chans: Vec<_> = (0..4).map(|_| gochan::bounded::<usize>(0)).collect();
        let txs: Arc<Vec<Sender<usize>>> = Arc::new(chans.iter().map(|c| c.0.clone()).collect());
        let rxs: Arc<Vec<Receiver<usize>>> = Arc::new(chans.iter().map(|c| c.1.clone()).collect());
        drop(chans);
        let senders: Vec<_> = (0..2)
            .map(|s| {
                let txs = txs.clone();
                thread::spawn(move || {
                    for i in 0..M {
                        let v = s * M + i;
                        gochan::select! {
                            send(txs[0], v) -> r => r.unwrap(),
                            send(txs[1], v) -> r => r.unwrap(),
                            send(txs[2], v) -> r => r.unwrap(),
                            send(txs[3], v) -> r => r.unwrap(),
                        }
                    }
                })
            })
            .collect();
        drop(txs);
        let receivers: Vec<_> = (0..2)
            .map(|_| {
                let rxs = rxs.clone();
                thread::spawn(move || {
                    let mut got = Vec::new();
                    let mut open = 4;
                    let never = gochan::never::<usize>();
                    let mut closed = [false; 4];
                    while open > 0 {
                        let pick = |k: usize| if closed[k] { &never } else { &rxs[k] };
                        let (a, b, c, d) = (pick(0), pick(1), pick(2), pick(3));
                        let (k, r) = gochan::select! {
                            recv(a) -> r => (0, r),
                            recv(b) -> r => (1, r),
                            recv(c) -> r => (2, r),
                            recv(d) -> r => (3, r),
                        };
                        match r {
                            Ok(v) => got.push(v),
                            Err(RecvError) => {
                                closed[k] = true;
                                open -= 1;
                            }
                        }
                    }
                    got
                })
            })
            .collect();
        drop(rxs);
        for s in senders {
            s.join().unwrap();
        }
        let mut all = Vec::new();
        for r in receivers {
            all.extend(r.join().unwrap());
        }
        all.sort_unstable();
        assert!(
            all.iter().copied().eq(0..2 * M),
            "a value was lost or delivered twice"
        );
    });
}

/// Go: `TestSelfSelect`: two threads each run selects with a send and a receive on the
/// same channel; on an unbuffered channel a select must never pair with itself (the value
/// received always comes from the other thread). Also with capacity 10 (no deadlock).
#[test]
fn test_self_select() {
    watchdog(|| {
        for cap in [0usize, 10] {
            let (tx, rx) = gochan::bounded::<usize>(cap);
            let hs: Vec<_> = (0..2)
                .map(|p| {
                    let (tx, rx) = (tx.clone(), rx.clone());
                    thread::spawn(move || {
                        let mut received = 0;
                        for i in 0..1000 {
                            let got = if p == 0 || i % 2 == 0 {
                                gochan::select! {
                                    send(tx, p) -> r => { r.unwrap(); None },
                                    recv(rx) -> v => Some(v.unwrap()),
                                }
                            } else {
                                gochan::select! {
                                    recv(rx) -> v => Some(v.unwrap()),
                                    send(tx, p) -> r => { r.unwrap(); None },
                                }
                            };
                            if let Some(v) = got {
                                if cap == 0 {
                                    assert_ne!(v, p, "self receive");
                                }
                                received += 1;
                            }
                        }
                        received
                    })
                })
                .collect();
            let received: Vec<usize> = hs.into_iter().map(|h| h.join().unwrap()).collect();
            if cap == 0 {
                // Every select paired with one of the other thread's: half received.
                assert_eq!(received[0] + received[1], 1000, "cap 0 pairing");
            }
        }
    });
}

/// Go allows the same channel in several cases of one select; still exactly one
/// operation happens: duplicate receive arms get each value once, duplicate send arms send
/// once per select.
#[test]
fn duplicate_channel_in_one_select() {
    watchdog(|| {
        const M: usize = 5_000;
        for cap in [0, 2] {
            // Duplicate receive arms.
            let (tx, rx) = gochan::bounded::<usize>(cap);
            let h = thread::spawn(move || {
                for i in 0..M {
                    tx.send(i).unwrap();
                }
            });
            let mut got = Vec::new();
            loop {
                let r = gochan::select! {
                    recv(rx) -> r => r,
                    recv(rx) -> r => r,
                    recv(rx) -> r => r,
                };
                match r {
                    Ok(v) => got.push(v),
                    Err(_) => break,
                }
            }
            h.join().unwrap();
            assert!(
                got.iter().copied().eq(0..M),
                "cap {cap}: duplicate recv arms"
            );

            // Duplicate send arms: one value per select.
            let (tx, rx) = gochan::bounded::<usize>(cap);
            let h = thread::spawn(move || rx.iter().collect::<Vec<_>>());
            for i in 0..M {
                gochan::select! {
                    send(tx, 2 * i) -> r => r.unwrap(),
                    send(tx, 2 * i + 1) -> r => r.unwrap(),
                }
            }
            drop(tx);
            let got = h.join().unwrap();
            assert_eq!(got.len(), M, "cap {cap}: duplicate send arms sent twice");
            assert!(got.iter().enumerate().all(|(i, v)| v / 2 == i));

            // The dynamic Select, with the same channel three times.
            let (tx, rx) = gochan::bounded::<usize>(cap);
            let h = thread::spawn(move || rx.iter().collect::<Vec<_>>());
            for i in 0..M {
                let mut sel = Select::new();
                sel.send(&tx, 3 * i);
                sel.send(&tx, 3 * i + 1);
                sel.send(&tx, 3 * i + 2);
                sel.select().send(&tx).unwrap();
            }
            drop(tx);
            let got = h.join().unwrap();
            assert_eq!(got.len(), M, "cap {cap}: dynamic duplicate send arms");
            assert!(got.iter().enumerate().all(|(i, v)| v / 3 == i));
        }
    });
}

// ---------------------------------------------------------------------------------------
// non-blocking select races

/// Go: `TestNonblockSelectRace`: a non-blocking select over two channels, one of which
/// always holds a value at every instant (c1 is drained only after c2 was filled), must
/// never take the default.
#[test]
fn test_nonblock_select_race() {
    watchdog(|| {
        for _ in 0..10_000 {
            let (t1, c1) = gochan::bounded::<i32>(1);
            let (t2, c2) = gochan::bounded::<i32>(1);
            t1.send(1).unwrap();
            let (c1x, c2x) = (c1.clone(), c2.clone());
            let h = thread::spawn(move || {
                gochan::select! {
                    recv(c1x) -> _ => true,
                    recv(c2x) -> _ => true,
                    default => false,
                }
            });
            t2.send(1).unwrap();
            gochan::select! {
                recv(c1) -> _ => {},
                default => {},
            }
            assert!(h.join().unwrap(), "no chan is ready");
        }
    });
}

/// Go: `TestNonblockSelectRace2`: as above, but c2 becomes ready by being closed.
#[test]
fn test_nonblock_select_race2() {
    watchdog(|| {
        for _ in 0..10_000 {
            let (t1, c1) = gochan::bounded::<i32>(1);
            let (t2, c2) = gochan::bounded::<i32>(1);
            t1.send(1).unwrap();
            let (c1x, c2x) = (c1.clone(), c2.clone());
            let h = thread::spawn(move || {
                gochan::select! {
                    recv(c1x) -> _ => true,
                    recv(c2x) -> _ => true,
                    default => false,
                }
            });
            t2.close();
            gochan::select! {
                recv(c1) -> _ => {},
                default => {},
            }
            assert!(h.join().unwrap(), "no chan is ready");
        }
    });
}

/// `TestNonblockSelectRace` through the dynamic `Select::try_select`.
#[test]
fn nonblock_select_race_dynamic() {
    watchdog(|| {
        for _ in 0..5_000 {
            let (t1, c1) = gochan::bounded::<i32>(1);
            let (t2, c2) = gochan::bounded::<i32>(1);
            t1.send(1).unwrap();
            let (c1x, c2x) = (c1.clone(), c2.clone());
            let h = thread::spawn(move || {
                let mut sel = Select::new();
                sel.recv(&c1x);
                sel.recv(&c2x);
                let ok = sel.try_select().is_ok();
                ok
            });
            t2.send(1).unwrap();
            let _ = c1.try_recv();
            assert!(h.join().unwrap(), "no chan is ready");
        }
    });
}

/// The property behind Go's `TestNonblockSelectRace`, stressed: a non-blocking select
/// sees all its channels at one moment. Three tokens circulate between two channels (a
/// mover thread drains one into the other and back); at most two are ever outside the
/// channels (one held by the mover, one by the selector, which puts each back), so at
/// every instant some channel holds a token and `default` must never be taken.
#[test]
fn nonblock_select_sees_one_moment() {
    watchdog(|| {
        let (t1, r1) = gochan::bounded::<u8>(3);
        let (t2, r2) = gochan::bounded::<u8>(3);
        for _ in 0..3 {
            t1.send(0).unwrap();
        }
        let stop = Arc::new(AtomicBool::new(false));
        let mover = {
            let (t1, t2, r1, r2, stop) =
                (t1.clone(), t2.clone(), r1.clone(), r2.clone(), stop.clone());
            thread::spawn(move || {
                while !stop.load(SeqCst) {
                    while let Ok(v) = r1.try_recv() {
                        t2.send(v).unwrap();
                    }
                    while let Ok(v) = r2.try_recv() {
                        t1.send(v).unwrap();
                    }
                }
            })
        };
        let start = Instant::now();
        let (mut selects, mut defaults) = (0u64, 0u64);
        while selects < 300_000 && start.elapsed() < Duration::from_secs(3) {
            gochan::select! {
                recv(r1) -> v => t1.send(v.unwrap()).unwrap(),
                recv(r2) -> v => t2.send(v.unwrap()).unwrap(),
                default => defaults += 1,
            }
            selects += 1;
        }
        stop.store(true, SeqCst);
        mover.join().unwrap();
        assert_eq!(
            defaults, 0,
            "default taken in {defaults} of {selects} selects"
        );
    });
}

// ---------------------------------------------------------------------------------------
// stress

/// Go: `TestSelectStress`: on channels of capacity 0, 0, 2, 3, one plain sender and one
/// plain receiver per channel, plus one thread sending N values on every channel through
/// a select (here the dynamic `Select`, dropping finished channels like Go's nil-ing) and
/// one receiving N from every channel through `select!` (finished channels replaced by
/// `never()`, Go's nil channel). Every value is received exactly once and nothing
/// deadlocks.
#[test]
fn test_select_stress() {
    watchdog(|| {
        const N: usize = 2_000;
        let caps = [0usize, 0, 2, 3];
        let chans: Vec<_> = caps.iter().map(|&c| gochan::bounded::<usize>(c)).collect();
        let txs: Arc<Vec<Sender<usize>>> = Arc::new(chans.iter().map(|c| c.0.clone()).collect());
        let rxs: Arc<Vec<Receiver<usize>>> = Arc::new(chans.iter().map(|c| c.1.clone()).collect());
        drop(chans);
        // Value of the i-th send on channel k by source s (0 plain, 1 select).
        let value = |k: usize, s: usize, i: usize| (k * 2 + s) * N + i;
        let mut hs: Vec<thread::JoinHandle<Vec<usize>>> = Vec::new();
        for k in 0..4 {
            let txs = txs.clone();
            hs.push(thread::spawn(move || {
                for i in 0..N {
                    txs[k].send(value(k, 0, i)).unwrap();
                }
                Vec::new()
            }));
            let rxs = rxs.clone();
            hs.push(thread::spawn(move || {
                (0..N)
                    .map(|_| {
                        let v = rxs[k].recv().unwrap();
                        assert_eq!(v / (2 * N), k, "value from the wrong channel");
                        v
                    })
                    .collect()
            }));
        }
        {
            let txs = txs.clone();
            hs.push(thread::spawn(move || {
                let mut n = [0usize; 4];
                for _ in 0..4 * N {
                    let mut sel = Select::new();
                    let mut index = [usize::MAX; 4];
                    for (k, tx) in txs.iter().enumerate() {
                        if n[k] < N {
                            index[k] = sel.send(tx, value(k, 1, n[k]));
                        }
                    }
                    let op = sel.select();
                    let k = index.iter().position(|&i| i == op.index()).unwrap();
                    op.send(&txs[k]).unwrap();
                    n[k] += 1;
                }
                Vec::new()
            }));
        }
        {
            let rxs = rxs.clone();
            hs.push(thread::spawn(move || {
                let never = gochan::never::<usize>();
                let mut n = [0usize; 4];
                let mut got = Vec::with_capacity(4 * N);
                for _ in 0..4 * N {
                    let pick = |k: usize| if n[k] < N { &rxs[k] } else { &never };
                    let (a, b, c, d) = (pick(0), pick(1), pick(2), pick(3));
                    let (k, v) = gochan::select! {
                        recv(a) -> v => (0, v),
                        recv(b) -> v => (1, v),
                        recv(c) -> v => (2, v),
                        recv(d) -> v => (3, v),
                    };
                    let v = v.unwrap();
                    assert_eq!(v / (2 * N), k, "value from the wrong channel");
                    n[k] += 1;
                    got.push(v);
                }
                got
            }));
        }
        drop((txs, rxs));
        let mut all = Vec::new();
        for h in hs {
            all.extend(h.join().unwrap());
        }
        all.sort_unstable();
        assert!(
            all.iter().copied().eq(0..8 * N),
            "a value was lost or duplicated"
        );
    });
}

// ---------------------------------------------------------------------------------------
// close and receiver drop while blocked in a select

/// Go spec: a receive from a closed channel proceeds at once; a select blocked on a
/// channel that gets closed completes that arm with `Err`.
#[test]
fn close_while_blocked_in_select_recv() {
    watchdog(|| {
        let (t1, r1) = gochan::bounded::<i32>(0);
        let (_t2, r2) = gochan::bounded::<i32>(0);
        let (r1x, r2x) = (r1.clone(), r2.clone());
        let h = thread::spawn(move || {
            gochan::select! {
                recv(r1x) -> r => (1, r),
                recv(r2x) -> r => (2, r),
            }
        });
        wait_until("select blocks", || {
            waiting_receivers(&r1) == 1 && waiting_receivers(&r2) == 1
        });
        assert!(t1.close());
        assert_eq!(h.join().unwrap(), (1, Err(RecvError)));
        // The other arm's registration is gone.
        assert_eq!(waiting_receivers(&r2), 0);
        // A closed channel's arm is always ready afterwards.
        for _ in 0..10 {
            gochan::select! {
                recv(r1) -> r => assert_eq!(r, Err(RecvError)),
                recv(r2) -> _ => panic!("nothing was sent"),
            }
        }
    });
}

/// gochan contract (Go panics here): a select blocked in a send arm on a channel that gets
/// closed completes that arm with `Err` carrying its value; the other send arm sent
/// nothing.
#[test]
fn close_while_blocked_in_select_send() {
    watchdog(|| {
        let (t1, r1) = gochan::bounded::<i32>(0);
        let (t2, r2) = gochan::bounded::<i32>(0);
        let (t1x, t2x) = (t1.clone(), t2.clone());
        let h = thread::spawn(move || {
            gochan::select! {
                send(t1x, 10) -> r => (1, r.map_err(|e| e.into_inner())),
                send(t2x, 20) -> r => (2, r.map_err(|e| e.into_inner())),
            }
        });
        wait_until("select blocks", || {
            waiting_senders(&t1) == 1 && waiting_senders(&t2) == 1
        });
        assert!(t2.close());
        assert_eq!(h.join().unwrap(), (2, Err(20)));
        assert_eq!(
            r1.try_recv(),
            Err(TryRecvError::Empty),
            "the other arm sent"
        );
        assert_eq!(waiting_senders(&t1), 0);
        assert_eq!(r2.recv(), Err(RecvError));
    });
}

/// gochan contract: dropping the last receiver fails a select blocked in a send arm on
/// that channel, giving the value back.
#[test]
fn receiver_drop_while_blocked_in_select_send() {
    watchdog(|| {
        let (t1, r1) = gochan::bounded::<i32>(0);
        let (t2, r2) = gochan::bounded::<i32>(1);
        t2.send(0).unwrap();
        let (t1x, t2x) = (t1.clone(), t2.clone());
        let h = thread::spawn(move || {
            gochan::select! {
                send(t1x, 10) -> r => (1, r.map_err(|e| e.into_inner())),
                send(t2x, 20) -> r => (2, r.map_err(|e| e.into_inner())),
            }
        });
        wait_until("select blocks", || {
            waiting_senders(&t1) == 1 && waiting_senders(&t2) == 1
        });
        drop(r1);
        assert_eq!(h.join().unwrap(), (1, Err(10)));
        assert_eq!(r2.recv(), Ok(0));
        assert_eq!(
            r2.try_recv(),
            Err(TryRecvError::Empty),
            "the other arm sent"
        );
    });
}

// ---------------------------------------------------------------------------------------
// timers and timeouts

/// Go: `select { case <-c: case <-time.After(d): }`: the timer arm fires no earlier than
/// `d`; a value that arrives first wins.
#[test]
fn after_arm() {
    watchdog(|| {
        let (_tx, rx) = gochan::bounded::<i32>(0);
        let start = Instant::now();
        let t = gochan::select! {
            recv(rx) -> _ => panic!("nothing was sent"),
            recv(gochan::after(Duration::from_millis(30))) -> t => t.unwrap(),
        };
        assert!(
            start.elapsed() >= Duration::from_millis(30),
            "the timer fired early"
        );
        assert!(
            t >= start + Duration::from_millis(30),
            "the timer's time is early"
        );

        let (tx, rx) = gochan::bounded::<i32>(0);
        let h = thread::spawn(move || {
            thread::sleep(Duration::from_millis(5));
            tx.send(7).unwrap();
        });
        gochan::select! {
            recv(rx) -> v => assert_eq!(v, Ok(7)),
            recv(gochan::after(Duration::from_secs(20))) -> _ => panic!("timed out"),
        }
        h.join().unwrap();

        // A ticker drives a loop; an `after` ends it.
        let ticks = gochan::tick(Duration::from_millis(2));
        let mut n = 0;
        while n < 3 {
            gochan::select! {
                recv(ticks) -> t => { t.unwrap(); n += 1; },
                recv(gochan::after(Duration::from_secs(20))) -> _ => panic!("no tick"),
            }
        }
    });
}

/// Go 1.23 `time.Timer`: after `Stop` or `Reset` returns, no value from before the call is
/// received, even if the timer had already fired.
#[test]
fn timer_stop_and_reset_leave_no_stale_value() {
    watchdog(|| {
        let t = gochan::time::Timer::new(Duration::from_millis(1));
        thread::sleep(Duration::from_millis(20));
        assert!(t.stop(), "fired but unreceived counts as active");
        assert_eq!(t.c.try_recv(), Err(TryRecvError::Empty));
        assert!(!t.stop());

        let t = gochan::time::Timer::new(Duration::from_millis(1));
        thread::sleep(Duration::from_millis(20));
        t.reset(Duration::from_secs(3600));
        gochan::select! {
            recv(t.c) -> _ => panic!("stale value after reset"),
            default(Duration::from_millis(20)) => {}
        }
        t.reset(Duration::from_millis(1));
        assert!(t.c.recv_timeout(Duration::from_secs(20)).is_ok());
    });
}

/// Go `time.Ticker`: a slow receiver misses ticks instead of piling them up (at most one
/// is waiting); `stop` ends them.
#[test]
fn ticker_drops_missed_ticks() {
    watchdog(|| {
        let t = gochan::time::Ticker::new(Duration::from_millis(2));
        thread::sleep(Duration::from_millis(40));
        assert!(t.c.len() <= 1, "ticks piled up: {}", t.c.len());
        assert!(t.c.recv_timeout(Duration::from_secs(20)).is_ok());
        assert!(t.c.recv_timeout(Duration::from_secs(20)).is_ok());
        t.stop();
        assert_eq!(
            t.c.recv_timeout(Duration::from_millis(20)),
            Err(RecvTimeoutError::Timeout)
        );
    });
}

/// gochan's `default(timeout)` arm: taken after the timeout when nothing is ready (no
/// earlier), skipped when a value arrives in time; a send arm that timed out sent nothing.
#[test]
fn default_timeout_arm() {
    watchdog(|| {
        let (tx, rx) = gochan::bounded::<i32>(0);
        let start = Instant::now();
        let took_default = gochan::select! {
            recv(rx) -> _ => false,
            default(Duration::from_millis(20)) => true,
        };
        assert!(took_default);
        assert!(
            start.elapsed() >= Duration::from_millis(20),
            "default taken early"
        );

        let took_default = gochan::select! {
            send(tx, 5) -> _ => false,
            default(Duration::from_millis(10)) => true,
        };
        assert!(took_default);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(
            waiting_senders(&tx),
            0,
            "a timed-out send arm left its entry"
        );

        let tx2 = tx.clone();
        let h = thread::spawn(move || {
            thread::sleep(Duration::from_millis(5));
            tx2.send(1).unwrap();
        });
        let got = gochan::select! {
            recv(rx) -> v => v.unwrap(),
            default(Duration::from_secs(20)) => panic!("the value arrived in time"),
        };
        assert_eq!(got, 1);
        h.join().unwrap();

        // A zero timeout behaves like `default`.
        let (t3, r3) = gochan::bounded::<i32>(1);
        t3.send(3).unwrap();
        gochan::select! {
            recv(r3) -> v => assert_eq!(v, Ok(3)),
            default(Duration::ZERO) => panic!("a ready arm was skipped"),
        }
    });
}

// ---------------------------------------------------------------------------------------
// the dynamic Select

/// Go's `reflect.Select` analogue: a select over a number of channels known only at run
/// time; the ready one is found with the right index and value.
#[test]
fn dynamic_select_runtime_sized() {
    watchdog(|| {
        let chans: Vec<_> = (0..40).map(|_| gochan::bounded::<usize>(0)).collect();
        for round in 0..40 {
            let target = (round * 17) % chans.len();
            let tx = chans[target].0.clone();
            let h = thread::spawn(move || tx.send(target).unwrap());
            let mut sel = Select::new();
            for (_, rx) in &chans {
                sel.recv(rx);
            }
            assert_eq!(sel.len(), 40);
            let op = sel.select();
            let i = op.index();
            assert_eq!(i, target);
            assert_eq!(op.recv(&chans[i].1), Ok(target));
            h.join().unwrap();
        }
        // Mixed sends and receives; a receive on a ready channel or a send with room.
        let (ta, ra) = gochan::bounded::<usize>(0);
        let (tb, rb) = gochan::bounded::<usize>(1);
        let mut sel = Select::new();
        let ia = sel.recv(&ra);
        let ib = sel.send(&tb, 99);
        let op = sel.select();
        assert_eq!(op.index(), ib);
        op.send(&tb).unwrap();
        assert_eq!(rb.recv(), Ok(99));
        // Run again: the spent send is never ready again; the receive still is armed.
        let h = thread::spawn(move || ta.send(5).unwrap());
        let op = sel.select();
        assert_eq!(op.index(), ia);
        assert_eq!(op.recv(&ra), Ok(5));
        h.join().unwrap();
    });
}

/// The dynamic `Select`'s non-blocking and time-limited forms.
#[test]
fn dynamic_select_try_timeout_deadline() {
    let (tx, rx) = gochan::bounded::<i32>(0);
    let (tx2, rx2) = gochan::bounded::<i32>(1);
    let mut sel = Select::new();
    sel.recv(&rx);
    sel.send(&tx, 1);
    assert!(sel.try_select().is_err());
    let start = Instant::now();
    assert!(sel.select_timeout(Duration::from_millis(20)).is_err());
    assert!(start.elapsed() >= Duration::from_millis(20));
    assert!(sel.select_deadline(Instant::now()).is_err());
    // Nothing was sent by the select that gave up.
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    drop(sel);
    tx2.send(4).unwrap();
    let mut sel = Select::new();
    sel.recv(&rx);
    let i2 = sel.recv(&rx2);
    let op = sel.try_select().unwrap();
    assert_eq!(op.index(), i2);
    assert_eq!(op.recv(&rx2), Ok(4));
}

/// Taking a chosen operation's result through the wrong channel is a clear panic.
#[test]
#[should_panic(expected = "is not a")]
fn dynamic_select_wrong_accessor_panics() {
    let (tx, rx) = gochan::bounded::<i32>(1);
    let (_tx2, rx2) = gochan::bounded::<i32>(1);
    tx.send(1).unwrap();
    let mut sel = Select::new();
    sel.recv(&rx);
    let _ = sel.select().recv(&rx2);
}

/// Go's `select {}` blocks forever; gochan panics instead.
#[test]
#[should_panic(expected = "block forever")]
fn empty_select_panics() {
    gochan::select! {}
}

// ---------------------------------------------------------------------------------------
// priority and unchosen arms

/// `select_biased!` and `Select::new_biased` take the first ready arm in source order.
#[test]
fn biased_select_priority() {
    let chans: Vec<_> = (0..3).map(|_| gochan::bounded::<usize>(1000)).collect();
    for (i, (tx, _)) in chans.iter().enumerate() {
        for _ in 0..1000 {
            tx.send(i).unwrap();
        }
    }
    let (r0, r1, r2) = (&chans[0].1, &chans[1].1, &chans[2].1);
    for _ in 0..1000 {
        let v = gochan::select_biased! {
            recv(r0) -> v => v,
            recv(r1) -> v => v,
            recv(r2) -> v => v,
        };
        assert_eq!(v, Ok(0));
    }
    for _ in 0..500 {
        let v = gochan::select_biased! {
            recv(r0) -> v => v,
            recv(r1) -> v => v,
            recv(r2) -> v => v,
        };
        assert_eq!(v, Ok(1));
    }
    for _ in 0..500 {
        let mut sel = Select::new_biased();
        for (_, rx) in &chans {
            sel.recv(rx);
        }
        let op = sel.select();
        assert_eq!(op.index(), 1);
        assert_eq!(op.recv(r1), Ok(1));
    }
    // A biased select still completes the only ready arm.
    let v = gochan::select_biased! {
        recv(r0) -> _ => unreachable!(),
        recv(r2) -> v => v,
        default => unreachable!(),
    };
    assert_eq!(v, Ok(2));
}

/// Go's select rule: only the chosen case's communication happens. A send arm that was not
/// chosen sends nothing, and its value is dropped exactly once, with the select.
#[test]
fn unchosen_send_arm_does_not_send() {
    watchdog(|| {
        let log = DropLog::new(4);
        // Non-blocking pass: the ready receive wins over a send nobody can take.
        let (ta, ra) = gochan::bounded::<Tracked>(0);
        let (tr, rr) = gochan::bounded::<i32>(1);
        tr.send(1).unwrap();
        gochan::select! {
            send(ta, tracked(&log, 0)) -> _ => panic!("nobody receives on ta"),
            recv(rr) -> v => assert_eq!(v, Ok(1)),
        }
        assert_eq!(log.count(0), 1);
        assert!(ra.try_recv().is_err());

        // Blocking: a receiver arrives on b only; a's value is never sent.
        let (tb, rb) = gochan::bounded::<Tracked>(0);
        let h = thread::spawn(move || rb.recv().map(|t| t.id));
        gochan::select! {
            send(ta, tracked(&log, 1)) -> _ => panic!("nobody receives on ta"),
            send(tb, tracked(&log, 2)) -> r => assert!(r.is_ok()),
        }
        assert_eq!(h.join().unwrap(), Ok(2));
        assert_eq!(
            log.count(1),
            1,
            "the unchosen value is dropped once, with the select"
        );
        assert_eq!(log.count(2), 1);
        assert_eq!(
            ra.recv_timeout(Duration::from_millis(20)).map(|t| t.id),
            Err(RecvTimeoutError::Timeout),
            "an unchosen send arm sent"
        );

        // Dynamic select: the ready receive wins; the unsent value goes with the Select.
        let (tc, rc) = gochan::bounded::<i32>(1);
        tc.send(5).unwrap();
        let mut sel = Select::new();
        sel.send(&ta, tracked(&log, 3));
        let ic = sel.recv(&rc);
        let op = sel.select();
        assert_eq!(op.index(), ic);
        assert_eq!(op.recv(&rc), Ok(5));
        assert_eq!(log.count(3), 0, "the Select still holds the unsent value");
        drop(sel);
        assert_eq!(log.count(3), 1);
        assert!(ra.try_recv().is_err());
    });
}
