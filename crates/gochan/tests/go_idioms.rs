//! Go idioms that must just work (issue "Go idioms"): the `ch = nil` select loop, atomic
//! expired-deadline selects, expired timers ready at once, `select_async!` arms on any
//! future, `at`, and `never()` channels comparing equal.

mod common;

use std::time::{Duration, Instant};

use gochan::{after, at, bounded, never, Receiver, Select, Sender};

/// Go's merge loop with the nil-channel idiom: once an input is closed, its variable is
/// set to nil (here `never()`) so its arm is never chosen again.
fn merge_nil_idiom(mut a: Receiver<i32>, mut b: Receiver<i32>) -> Vec<i32> {
    let mut out = Vec::new();
    let mut open = 2;
    while open > 0 {
        gochan::select! {
            recv(a) -> v => match v {
                Ok(v) => out.push(v),
                Err(_) => { a = never(); open -= 1; }
            },
            recv(b) -> v => match v {
                Ok(v) => out.push(v),
                Err(_) => { b = never(); open -= 1; }
            },
        }
    }
    out
}

fn two_closed_inputs() -> (Receiver<i32>, Receiver<i32>) {
    let (ta, a) = bounded(3);
    let (tb, b) = bounded(3);
    for i in 0..3 {
        ta.send(i).unwrap();
        tb.send(10 + i).unwrap();
    }
    (a, b)
}

#[test]
fn nil_channel_idiom_in_select() {
    let (a, b) = two_closed_inputs();
    let mut got = merge_nil_idiom(a, b);
    got.sort_unstable();
    assert_eq!(got, [0, 1, 2, 10, 11, 12]);
}

#[test]
fn nil_channel_idiom_in_select_biased() {
    let (mut a, mut b) = two_closed_inputs();
    let mut out = Vec::new();
    let mut open = 2;
    while open > 0 {
        gochan::select_biased! {
            recv(a) -> v => match v {
                Ok(v) => out.push(v),
                Err(_) => { a = never(); open -= 1; }
            },
            recv(b) -> v => match v {
                Ok(v) => out.push(v),
                Err(_) => { b = never(); open -= 1; }
            },
        }
    }
    // Biased: `a` drains first.
    assert_eq!(out, [0, 1, 2, 10, 11, 12]);
}

#[test]
fn nil_channel_idiom_in_async_selects() {
    futures::executor::block_on(async {
        let (mut a, mut b) = two_closed_inputs();
        let mut out = Vec::new();
        let mut open = 2;
        while open > 0 {
            gochan::select_async! {
                recv(a) -> v => match v {
                    Ok(v) => out.push(v),
                    Err(_) => { a = never(); open -= 1; }
                },
                recv(b) -> v => match v {
                    Ok(v) => out.push(v),
                    Err(_) => { b = never(); open -= 1; }
                },
            }
        }
        out.sort_unstable();
        assert_eq!(out, [0, 1, 2, 10, 11, 12]);

        let (mut a, mut b) = two_closed_inputs();
        let mut out = Vec::new();
        let mut open = 2;
        while open > 0 {
            gochan::select_biased_async! {
                recv(a) -> v => match v {
                    Ok(v) => out.push(v),
                    Err(_) => { a = never(); open -= 1; }
                },
                recv(b) -> v => match v {
                    Ok(v) => out.push(v),
                    Err(_) => { b = never(); open -= 1; }
                },
            }
        }
        assert_eq!(out, [0, 1, 2, 10, 11, 12]);
    });
}

/// A send arm's channel and value variables can be reassigned in any arm's body (Go's
/// `out = nil` once nothing is left to send, `v = next` after a send).
#[test]
fn send_arm_variables_can_be_reassigned() {
    let (in_tx, in_rx) = bounded::<i32>(4);
    let (out_tx, out_rx) = bounded::<i32>(8);
    for i in 1..=4 {
        in_tx.send(i).unwrap();
    }
    drop(in_tx);
    // A one-slot forwarder (Go: `in = nil` while holding a value, `out = nil` while
    // empty): every arm's variables are reassigned inside the bodies.
    // A sender nobody receives from (its receiver is kept alive): never ready.
    let (parked, _parked_rx) = bounded::<i32>(0);
    let mut input = in_rx.clone();
    let mut out: Sender<i32> = parked.clone();
    let mut pending = 0;
    loop {
        gochan::select! {
            recv(input) -> v => match v {
                Ok(v) => { pending = v; input = never(); out = out_tx.clone(); }
                Err(_) => break,
            },
            send(out, pending) -> r => {
                r.unwrap();
                pending = -1;
                out = parked.clone();
                input = in_rx.clone();
            },
        }
    }
    assert_eq!(pending, -1);
    drop(out_tx);
    drop(out);
    assert_eq!(out_rx.try_iter().collect::<Vec<_>>(), [1, 2, 3, 4]);
}

/// Go's TestNonblockSelectRace, with the expired-deadline spellings of a non-blocking
/// select: at every moment one of `c1`, `c2` holds a value, so the select must never
/// report that nothing was ready. `kind` picks the spelling.
fn nonblock_race(kind: u8, rounds: usize) {
    let (jobs_tx, jobs_rx) = bounded::<(Receiver<i32>, Receiver<i32>)>(0);
    let (done_tx, done_rx) = bounded::<bool>(0);
    let worker = std::thread::spawn(move || {
        for (c1, c2) in jobs_rx {
            let ready = match kind {
                0 => gochan::select! {
                    recv(c1) -> _ => true,
                    recv(c2) -> _ => true,
                    default(Duration::ZERO) => false,
                },
                1 => {
                    let mut sel = Select::new();
                    sel.recv(&c1);
                    sel.recv(&c2);
                    match sel.select_timeout(Duration::ZERO) {
                        Ok(op) => {
                            let i = op.index();
                            if i == 0 {
                                op.recv(&c1).is_ok()
                            } else {
                                op.recv(&c2).is_ok()
                            }
                        }
                        Err(_) => false,
                    }
                }
                _ => {
                    let mut sel = Select::new();
                    sel.recv(&c1);
                    sel.recv(&c2);
                    let past = Instant::now() - Duration::from_millis(1);
                    match sel.select_deadline(past) {
                        Ok(op) => {
                            let i = op.index();
                            if i == 0 {
                                op.recv(&c1).is_ok()
                            } else {
                                op.recv(&c2).is_ok()
                            }
                        }
                        Err(_) => false,
                    }
                }
            };
            done_tx.send(ready).unwrap();
        }
    });
    for i in 0..rounds {
        let (t1, c1) = bounded(1);
        let (t2, c2) = bounded(1);
        t1.send(1).unwrap();
        jobs_tx.send((c1.clone(), c2)).unwrap();
        t2.send(1).unwrap();
        let _ = c1.try_recv();
        assert!(
            done_rx.recv().unwrap(),
            "round {i}: no channel was ready (spelling {kind})"
        );
    }
    drop(jobs_tx);
    worker.join().unwrap();
}

#[test]
fn expired_deadline_select_is_atomic_macro() {
    nonblock_race(0, 20_000);
}

#[test]
fn expired_deadline_select_is_atomic_select_timeout() {
    nonblock_race(1, 20_000);
}

#[test]
fn expired_deadline_select_is_atomic_select_deadline() {
    nonblock_race(2, 20_000);
}

/// Go 1.23: an expired timer is ready the moment a select looks at it.
#[test]
fn after_zero_is_ready_at_once() {
    for i in 0..2_000 {
        gochan::select! {
            recv(after(Duration::ZERO)) -> t => assert!(t.is_ok()),
            default => panic!("round {i}: after(0) was not ready"),
        }
    }
    for _ in 0..200 {
        assert!(after(Duration::ZERO).try_recv().is_ok());
        assert!(at(Instant::now()).try_recv().is_ok());
        let t = gochan::time::Timer::new(Duration::ZERO);
        let mut sel = Select::new();
        sel.recv(&t.c);
        assert!(sel.try_select().is_ok(), "Select::try_select missed it");
    }
}

#[test]
fn after_zero_is_ready_at_once_in_async_select() {
    futures::executor::block_on(async {
        for i in 0..500 {
            gochan::select_async! {
                recv(after(Duration::ZERO)) -> t => assert!(t.is_ok()),
                default => panic!("round {i}: after(0) was not ready"),
            }
            assert!(after(Duration::ZERO).recv_async().await.is_ok());
        }
    });
}

/// Several expired timers: each is chosen with equal probability (Go's uniform choice).
#[test]
fn expired_timers_are_chosen_fairly() {
    let mut counts = [0u32; 3];
    let n = 3_000;
    for _ in 0..n {
        let (a, b, c) = (
            after(Duration::ZERO),
            at(Instant::now()),
            after(Duration::ZERO),
        );
        gochan::select! {
            recv(a) -> _ => counts[0] += 1,
            recv(b) -> _ => counts[1] += 1,
            recv(c) -> _ => counts[2] += 1,
            default => panic!("no expired timer was ready"),
        }
    }
    for c in counts {
        // Expected 1000 each; 800 is over 8 standard deviations away.
        assert!(c > 800, "unfair choice among expired timers: {counts:?}");
    }
}

/// A stopped or reset timer that had expired unobserved: Go 1.23 counts it as active
/// (its value was pending), and no stale value is received afterwards.
#[test]
fn expired_unobserved_timer_stop_and_reset() {
    let t = gochan::time::Timer::new(Duration::ZERO);
    assert!(t.stop(), "an expired, unreceived timer is active");
    assert!(t.c.try_recv().is_err(), "no stale value after stop");
    let t = gochan::time::Timer::new(Duration::ZERO);
    assert!(t.reset(Duration::from_secs(60)));
    assert!(t.c.try_recv().is_err(), "no stale value after reset");
}

/// An expired ticker delivers on look and keeps ticking afterwards.
#[test]
fn ticker_fires_on_look_and_keeps_ticking() {
    let t = gochan::time::Ticker::new(Duration::from_millis(2));
    std::thread::sleep(Duration::from_millis(5));
    assert!(t.c.try_recv().is_ok());
    for _ in 0..3 {
        assert!(t.c.recv_timeout(Duration::from_secs(5)).is_ok());
    }
    t.stop();
}

#[test]
fn at_delivers_at_the_instant() {
    let when = Instant::now() + Duration::from_millis(20);
    let rx = at(when);
    assert!(rx.try_recv().is_err());
    let got = rx.recv().unwrap();
    assert!(got >= when);
    assert!(rx.try_recv().is_err(), "at delivers once");
}

#[test]
fn never_channels_are_all_the_same_channel() {
    let a = never::<u8>();
    let b = never::<u8>();
    assert!(a.same_channel(&b));
    assert_eq!(a, b);
    let (_tx, rx) = bounded::<u8>(0);
    assert_ne!(a, rx);
    assert!(rx.same_channel(&rx.clone()));
}

#[test]
fn handles_are_unwind_safe() {
    fn assert_unwind_safe<T: std::panic::UnwindSafe + std::panic::RefUnwindSafe>() {}
    assert_unwind_safe::<Sender<String>>();
    assert_unwind_safe::<Receiver<String>>();
    let (tx, rx) = bounded::<i32>(1);
    let r = std::panic::catch_unwind(|| {
        tx.send(1).unwrap();
        panic!("boom");
    });
    assert!(r.is_err());
    assert_eq!(rx.recv(), Ok(1));
}

// ---- select_async! on any future ----

#[test]
fn select_async_arm_on_a_tokio_sleep_and_join_handle() {
    let rt = common::tokio_rt();
    rt.block_on(async {
        let (_tx, rx) = bounded::<i32>(0);
        let got = gochan::select_async! {
            recv(rx) -> _ => "recv",
            () = tokio::time::sleep(Duration::from_millis(10)) => "sleep",
        };
        assert_eq!(got, "sleep");

        let h = tokio::spawn(async { 7 });
        let got = gochan::select_async! {
            recv(never::<i32>()) -> _ => unreachable!(),
            r = h => r.unwrap(),
        };
        assert_eq!(got, 7);
    });
}

/// When a future arm wins, no channel operation happens: the send arm's value is not
/// delivered.
#[test]
fn future_arm_winning_means_no_channel_operation() {
    futures::executor::block_on(async {
        for _ in 0..200 {
            let (tx, rx) = bounded::<i32>(0); // nobody receives: the send is never ready
            let won = gochan::select_async! {
                send(tx, 1) -> _ => "send",
                v = async { 5 } => { assert_eq!(v, 5); "future" },
            };
            assert_eq!(won, "future");
            assert!(rx.try_recv().is_err());
        }
    });
}

/// A ready channel arm and a ready future arm: exactly one body runs, each wins
/// sometimes (uniform choice in the first pass), and a chosen receive is not lost.
#[test]
fn future_and_channel_arms_exactly_once() {
    futures::executor::block_on(async {
        let (tx, rx) = bounded::<i32>(1);
        let (mut by_chan, mut by_fut) = (0, 0);
        for i in 0..2_000 {
            tx.send(i).unwrap();
            gochan::select_async! {
                recv(rx) -> v => { assert_eq!(v, Ok(i)); by_chan += 1; },
                () = async {} => {
                    by_fut += 1;
                    assert_eq!(rx.try_recv(), Ok(i), "the value stayed in the channel");
                },
            }
            assert!(rx.try_recv().is_err());
        }
        assert!(by_chan > 700 && by_fut > 700, "{by_chan} / {by_fut}");
    });
}

/// A future arm that becomes ready later wakes the select (it was polled with the
/// select's waker), and the channel registrations are removed.
#[test]
fn future_arm_completing_later_wakes_the_select() {
    let rt = common::tokio_rt();
    rt.block_on(async {
        let (tx, rx) = bounded::<i32>(0);
        let (otx, orx) = tokio::sync::oneshot::channel::<u8>();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            otx.send(3).unwrap();
        });
        let got = gochan::select_async! {
            recv(rx) -> _ => 0,
            v = orx => v.unwrap(),
        };
        assert_eq!(got, 3);
        assert_eq!(common::waiting_receivers(&rx), 0);
        // The receive arm is gone: a send finds nobody.
        assert!(tx.try_send(1).is_err());
    });
}

#[test]
fn async_default_timeout() {
    let rt = common::tokio_rt();
    rt.block_on(async {
        let (tx, rx) = bounded::<i32>(0);
        let start = Instant::now();
        let got = gochan::select_async! {
            recv(rx) -> _ => "recv",
            default(Duration::from_millis(30)) => "timeout",
        };
        assert_eq!(got, "timeout");
        assert!(start.elapsed() >= Duration::from_millis(30));
        assert_eq!(common::waiting_receivers(&rx), 0);

        // A value arriving before the deadline wins.
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(10));
            tx.send(9).unwrap();
        });
        let got = gochan::select_async! {
            recv(rx) -> v => v.unwrap(),
            default(Duration::from_secs(10)) => -1,
        };
        assert_eq!(got, 9);
        sender.join().unwrap();

        // Zero timeout: a non-blocking pass.
        let (_tx, rx) = bounded::<i32>(0);
        let got = gochan::select_async! {
            recv(rx) -> _ => "recv",
            default(Duration::ZERO) => "timeout",
        };
        assert_eq!(got, "timeout");
    });
}

/// Dropping an async select with a deadline while it waits cancels its timer and its
/// registrations.
#[test]
fn async_default_timeout_dropped_midway() {
    futures::executor::block_on(async {
        let (_tx, rx) = bounded::<i32>(0);
        let before = gochan::time::pending_timers();
        {
            let fut = async {
                gochan::select_async! {
                    recv(rx) -> _ => (),
                    default(Duration::from_secs(3600)) => (),
                }
            };
            let mut fut = std::pin::pin!(fut);
            let waker = futures::task::noop_waker();
            let mut cx = std::task::Context::from_waker(&waker);
            assert!(fut.as_mut().poll(&mut cx).is_pending());
            assert_eq!(common::waiting_receivers(&rx), 1);
        }
        assert_eq!(common::waiting_receivers(&rx), 0);
        common::wait_until("the select's timer is cancelled", || {
            gochan::time::pending_timers() <= before
        });
    });
}

use std::future::Future;
