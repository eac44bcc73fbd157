//! `gochan::synctest`: virtual time in a bubble, mirroring Go 1.25's `testing/synctest`
//! (its package examples and the rules of its documentation: time moves only when every
//! goroutine of the bubble is durably blocked; `Wait`; deadlock reporting; no nesting).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gochan::group::{ErrGroup, WaitGroup};
use gochan::time::{now, sleep, Ticker, Timer};
use gochan::{after, bounded, context, select, synctest, tick, RecvTimeoutError};

const HOUR: Duration = Duration::from_secs(3600);

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// Go's synctest package example "context.WithTimeout": the context ends exactly at its
/// deadline, not a nanosecond before.
#[test]
fn context_with_timeout_ends_exactly_at_deadline() {
    let real = Instant::now();
    synctest::run(|| {
        let timeout = Duration::from_secs(5);
        let (ctx, _cancel) = context::with_timeout(&context::background(), timeout);
        sleep(timeout - Duration::from_nanos(1));
        synctest::wait();
        assert_eq!(ctx.err(), None);
        sleep(Duration::from_nanos(1));
        synctest::wait();
        assert_eq!(ctx.err(), Some(context::Error::DeadlineExceeded));
    });
    assert!(
        real.elapsed() < Duration::from_secs(3),
        "virtual time took real time"
    );
}

/// Go's synctest package example "context.AfterFunc".
#[test]
fn context_after_func_runs_after_cancel() {
    synctest::run(|| {
        let (ctx, cancel) = context::with_cancel(&context::background());
        let called = Arc::new(AtomicBool::new(false));
        let c = called.clone();
        let _af = context::after_func(&ctx, move || c.store(true, Ordering::SeqCst));
        synctest::wait();
        assert!(!called.load(Ordering::SeqCst));
        cancel.cancel();
        synctest::wait();
        assert!(called.load(Ordering::SeqCst));
    });
}

#[test]
fn after_an_hour_takes_no_real_time_and_reads_the_virtual_clock() {
    let real = Instant::now();
    let (start, fired, end) = synctest::run(|| {
        let start = now();
        let fired = after(HOUR).recv().unwrap();
        (start, fired, now())
    });
    assert_eq!(fired - start, HOUR);
    assert_eq!(end - start, HOUR);
    assert!(real.elapsed() < Duration::from_secs(3));
}

#[test]
fn timers_fire_in_deadline_order_at_their_exact_times() {
    synctest::run(|| {
        let start = now();
        let (tx, rx) = bounded::<u64>(3);
        let mut handles = Vec::new();
        for secs in [3u64, 1, 2] {
            let tx = tx.clone();
            handles.push(synctest::spawn(move || {
                let t = after(Duration::from_secs(secs)).recv().unwrap();
                tx.send(secs).unwrap();
                t
            }));
        }
        drop(tx);
        let order: Vec<u64> = rx.iter().collect();
        assert_eq!(order, [1, 2, 3]);
        let mut at: Vec<Duration> = handles
            .into_iter()
            .map(|h| h.join().unwrap() - start)
            .collect();
        at.sort();
        assert_eq!(at, [1, 2, 3].map(Duration::from_secs));
    });
}

#[test]
fn ticker_ticks_on_the_virtual_clock() {
    synctest::run(|| {
        let start = now();
        let t = Ticker::new(Duration::from_secs(10));
        for i in 1..=3u32 {
            let at = t.c.recv().unwrap();
            assert_eq!(at - start, Duration::from_secs(10) * i);
        }
        t.stop();
        let ticks = tick(Duration::from_millis(250));
        ticks.recv().unwrap();
        assert_eq!(now() - start, Duration::from_millis(30_250));
    });
}

#[test]
fn recv_timeout_and_select_timeouts_are_virtual() {
    synctest::run(|| {
        let (_tx, rx) = bounded::<u8>(0);
        let start = now();
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(10)),
            Err(RecvTimeoutError::Timeout)
        );
        assert_eq!(now() - start, Duration::from_secs(10));
        let timed_out = select! {
            recv(rx) -> _ => false,
            default(Duration::from_secs(20)) => true,
        };
        assert!(timed_out);
        assert_eq!(now() - start, Duration::from_secs(30));
        let timer = after(Duration::from_secs(5));
        let which = select! {
            recv(rx) -> _ => "rx",
            recv(timer) -> _ => "timer",
        };
        assert_eq!(which, "timer");
        assert_eq!(now() - start, Duration::from_secs(35));
    });
}

/// `wait` returns while another thread sleeps; nothing happens until time moves.
#[test]
fn wait_returns_when_the_others_are_blocked() {
    synctest::run(|| {
        let (tx, rx) = bounded::<&str>(1);
        synctest::spawn(move || {
            tx.send("early").unwrap();
            sleep(Duration::from_secs(1));
            tx.send("late").unwrap();
        });
        synctest::wait();
        assert_eq!(rx.try_recv(), Ok("early"));
        synctest::wait();
        assert!(
            rx.try_recv().is_err(),
            "the sender is asleep: nothing more yet"
        );
        sleep(Duration::from_secs(1));
        synctest::wait();
        assert_eq!(rx.try_recv(), Ok("late"));
    });
}

#[test]
fn context_deadlines_wait_timeout_and_timers_stop_reset() {
    synctest::run(|| {
        let start = now();
        let (ctx, _c) = context::with_deadline(&context::background(), start + HOUR);
        assert!(!ctx.wait_timeout(Duration::from_secs(60)));
        assert_eq!(now() - start, Duration::from_secs(60));
        ctx.wait();
        assert_eq!(now() - start, HOUR);
        assert_eq!(ctx.err(), Some(context::Error::DeadlineExceeded));

        let t = Timer::new(Duration::from_secs(5));
        assert!(t.stop());
        t.reset(Duration::from_secs(7));
        let fired = t.c.recv().unwrap();
        assert_eq!(fired - start, HOUR + Duration::from_secs(7));
    });
}

#[test]
fn group_threads_join_the_bubble() {
    synctest::run(|| {
        let start = now();
        let g = ErrGroup::<String>::new();
        for i in 1..=3u64 {
            g.go(move || {
                sleep(Duration::from_secs(60 * i));
                Ok(())
            });
        }
        g.wait().unwrap();
        assert_eq!(now() - start, Duration::from_secs(180));

        let wg = WaitGroup::new();
        let n = Arc::new(AtomicUsize::new(0));
        for _ in 0..4 {
            let n = n.clone();
            wg.go(move || {
                sleep(HOUR);
                n.fetch_add(1, Ordering::SeqCst);
            });
        }
        wg.wait();
        assert_eq!(n.load(Ordering::SeqCst), 4);
        assert_eq!(now() - start, Duration::from_secs(180) + HOUR);
    });
}

#[test]
fn block_on_runs_async_code_on_virtual_time() {
    let elapsed = synctest::run(|| {
        let start = now();
        synctest::block_on(async {
            let (tx, rx) = bounded::<u32>(0);
            let sender = synctest::spawn(move || {
                sleep(Duration::from_secs(90));
                tx.send(9).unwrap();
            });
            assert_eq!(rx.recv_async().await, Ok(9));
            sender.join().unwrap();
            after(Duration::from_secs(10)).recv_async().await.unwrap();
        });
        now() - start
    });
    assert_eq!(elapsed, Duration::from_secs(100));
}

/// Go: "If every goroutine in the bubble is durably blocked and no timer is pending, the
/// test fails" (deadlock). The report names the stuck operation and its call site.
#[test]
fn deadlock_is_reported_not_hung() {
    let p = catch_unwind(AssertUnwindSafe(|| {
        synctest::run(|| {
            let (_tx, rx) = bounded::<u8>(0);
            let _ = rx.recv();
        })
    }))
    .expect_err("a deadlocked bubble must panic");
    let text = panic_text(p);
    assert!(text.contains("deadlock"), "{text}");
    assert!(text.contains("chan receive"), "{text}");
    assert!(text.contains("synctest.rs"), "{text}");
}

/// After `f` returns, `run` waits for the bubble's threads; if they are blocked for good,
/// it says so.
#[test]
fn threads_left_blocked_after_f_are_a_deadlock() {
    let p = catch_unwind(AssertUnwindSafe(|| {
        synctest::run(|| {
            let (tx, rx) = bounded::<u8>(0);
            synctest::spawn(move || {
                let _keep = tx;
                let _ = rx.recv();
            });
        })
    }))
    .expect_err("a blocked leftover thread is a deadlock");
    assert!(panic_text(p).contains("returned"));
}

#[test]
fn run_waits_for_its_threads_to_end() {
    let done = Arc::new(AtomicBool::new(false));
    let d = done.clone();
    synctest::run(move || {
        synctest::spawn(move || {
            sleep(HOUR);
            d.store(true, Ordering::SeqCst);
        });
    });
    assert!(done.load(Ordering::SeqCst));
}

#[test]
fn misuse_panics_with_a_clear_message() {
    let p = catch_unwind(synctest::wait).expect_err("wait outside a bubble");
    assert!(panic_text(p).contains("outside a bubble"));
    let p = catch_unwind(|| synctest::run(|| synctest::run(|| ()))).expect_err("nested run");
    assert!(panic_text(p).contains("do not nest"));
    let p = catch_unwind(|| synctest::run(|| panic!("boom in f"))).expect_err("f panics");
    assert_eq!(panic_text(p), "boom in f");
    // The bubble is gone: the thread is back on real time.
    assert!(!synctest::in_bubble());
    let t = Instant::now();
    let n = now();
    assert!(n >= t && n - t < Duration::from_secs(1));
}

/// Code outside a bubble keeps real time while a bubble runs.
#[test]
fn outside_the_bubble_time_is_real() {
    let (tx, rx) = bounded::<()>(0);
    let outside = std::thread::spawn(move || {
        let t = Instant::now();
        rx.recv().unwrap();
        after(Duration::from_millis(30)).recv().unwrap();
        t.elapsed()
    });
    synctest::run(|| {
        tx.send(()).unwrap();
        sleep(HOUR);
    });
    assert!(outside.join().unwrap() >= Duration::from_millis(30));
}

/// The race the bubble must never lose: a woken thread counts as running before it runs.
/// Ping-pong with timeouts that must never fire: if the bubble ever moved time while one
/// side was woken but not yet running, a `recv_timeout` would time out.
#[test]
fn time_never_moves_while_a_woken_thread_has_yet_to_run() {
    synctest::run(|| {
        let (ping_tx, ping_rx) = bounded::<u32>(0);
        let (pong_tx, pong_rx) = bounded::<u32>(0);
        let start = now();
        let echo = synctest::spawn(move || {
            while let Ok(v) = ping_rx.recv_timeout(Duration::from_secs(1)) {
                pong_tx.send_timeout(v, Duration::from_secs(1)).unwrap();
            }
        });
        for i in 0..2000 {
            ping_tx.send_timeout(i, Duration::from_secs(1)).unwrap();
            assert_eq!(pong_rx.recv_timeout(Duration::from_secs(1)), Ok(i));
        }
        assert_eq!(now(), start, "no timer may fire while both sides can run");
        drop(ping_tx);
        echo.join().unwrap();
    });
}

/// Go: a goroutine blocked on a channel created outside its bubble is not durably blocked,
/// so the bubble's clock stands still while it waits for the outside world.
#[test]
fn waiting_on_an_outside_channel_is_not_durable() {
    let (tx, rx) = bounded::<u8>(0);
    let outside = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        tx.send(1).unwrap();
    });
    synctest::run(move || {
        let start = now();
        let sleeper = synctest::spawn(|| sleep(HOUR));
        assert_eq!(rx.recv(), Ok(1)); // real time passes, virtual time does not
        assert_eq!(now(), start);
        sleeper.join().unwrap();
        assert_eq!(now() - start, HOUR);
    });
    outside.join().unwrap();
}

/// A thread started with `std::thread::spawn` is outside the bubble; when it wakes a
/// member after a short real delay, that is not a deadlock (the bubble waits a moment of
/// real time before it reports one).
#[test]
fn a_plain_thread_waking_a_member_is_not_a_deadlock() {
    let got = synctest::run(|| {
        let (tx, rx) = bounded::<u8>(0);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            tx.send(5).unwrap();
        });
        rx.recv()
    });
    assert_eq!(got, Ok(5));
}
