//! Go's `time` package behaviour for `gochan::time` (after time/sleep_test.go and
//! tick_test.go), including Go 1.23's "no stale value after Stop/Reset".

use std::time::{Duration, Instant};

use gochan::time::{Ticker, Timer};

/// Tests that read the process-wide pending-timer count run one at a time.
static GLOBAL_COUNT: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn threads() -> usize {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// TestAfter: the value arrives no earlier than the duration.
#[test]
fn after_waits_at_least_d() {
    let d = Duration::from_millis(20);
    let start = Instant::now();
    let t = gochan::after(d).recv().unwrap();
    assert!(t >= start + d);
    assert!(start.elapsed() >= d);
}

/// TestAfterStress-like: many concurrent `after` channels all deliver.
#[test]
fn many_afters_deliver() {
    let rxs: Vec<_> = (0..1000)
        .map(|i| gochan::after(Duration::from_millis(1 + i % 20)))
        .collect();
    for rx in rxs {
        rx.recv_timeout(Duration::from_secs(10)).unwrap();
    }
}

/// TestTimerStopStress / Stop semantics: stop before firing returns true and nothing
/// is ever delivered; stop again returns false.
#[test]
fn timer_stop_prevents_delivery() {
    let t = Timer::new(Duration::from_millis(20));
    assert!(t.stop());
    assert!(!t.stop());
    assert!(t.c.recv_timeout(Duration::from_millis(60)).is_err());
}

/// Go 1.23: a timer that fired but whose value was not received is still "running":
/// Stop returns true and no stale value is received afterwards.
#[test]
fn timer_stop_after_fire_drops_stale_value() {
    let t = Timer::new(Duration::from_millis(1));
    std::thread::sleep(Duration::from_millis(30));
    assert!(t.stop(), "unreceived value: stop reports the timer active");
    assert!(t.c.try_recv().is_err(), "no stale value after stop");
}

/// TestReset: reset re-arms; a value from before the reset is never received.
#[test]
fn timer_reset_no_stale_value() {
    let t = Timer::new(Duration::from_millis(1));
    std::thread::sleep(Duration::from_millis(20));
    let before = Instant::now();
    assert!(t.reset(Duration::from_millis(30)));
    let got = t.c.recv().unwrap();
    assert!(
        got >= before + Duration::from_millis(30),
        "the value is from the new arm"
    );
    assert!(
        !t.reset(Duration::from_millis(1)),
        "fired and received: not active"
    );
    t.c.recv().unwrap();
}

/// TestTicker: ticks arrive repeatedly; a slow reader misses ticks instead of piling up.
#[test]
fn ticker_drops_missed_ticks() {
    // A period long enough that the next tick is not due between the two `try_recv`s
    // below even on a loaded machine (a due ticker fires when its channel is looked at).
    let t = Ticker::new(Duration::from_millis(40));
    t.c.recv().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    // At most one tick is buffered, however many periods passed.
    assert!(t.c.try_recv().is_ok());
    assert!(t.c.try_recv().is_err());
    t.stop();
    std::thread::sleep(Duration::from_millis(10));
    assert!(t.c.try_recv().is_err(), "no tick after stop");
}

/// TestTickerResetLtZero analogue: a zero period panics with Go's message.
#[test]
#[should_panic(expected = "non-positive interval")]
fn ticker_zero_panics() {
    let _ = Ticker::new(Duration::ZERO);
}

/// time.Tick(0) returns nil (a channel that never delivers).
#[test]
fn tick_zero_never_delivers() {
    let rx = gochan::tick(Duration::ZERO);
    assert!(rx.recv_timeout(Duration::from_millis(10)).is_err());
}

/// Ticker::reset changes the period.
#[test]
fn ticker_reset() {
    let t = Ticker::new(Duration::from_secs(3600));
    t.reset(Duration::from_millis(1));
    t.c.recv_timeout(Duration::from_secs(5)).unwrap();
}

/// A huge duration never fires and does not panic.
#[test]
fn huge_durations() {
    let t = Timer::new(Duration::MAX);
    assert!(t.c.try_recv().is_err());
    assert!(t.stop() || !t.stop());
    let rx = gochan::after(Duration::MAX);
    assert!(rx.try_recv().is_err());
}

/// Timers nobody holds are removed: dropping `after`'s receiver cancels its timer, and
/// 100,000 pending timers cost no extra threads.
#[test]
fn dropped_timers_are_removed_and_no_thread_per_timer() {
    let _serial = GLOBAL_COUNT.lock().unwrap_or_else(|e| e.into_inner());
    let _warm = gochan::after(Duration::from_millis(1)).recv();
    let base_threads = threads();
    let base_pending = gochan::time::pending_timers();
    let rxs: Vec<_> = (0..100_000)
        .map(|_| gochan::after(Duration::from_secs(3600)))
        .collect();
    assert!(gochan::time::pending_timers() >= 100_000);
    if base_threads > 0 {
        // Other tests run in parallel threads; 100,000 timers must not add anything close.
        assert!(threads() <= base_threads + 50, "no thread per timer");
    }
    drop(rxs);
    assert!(
        gochan::time::pending_timers() < base_pending + 5000,
        "dropped receivers cancel their timers"
    );
}

/// `after` in a select loop: each iteration's timer is dropped with the select, so a
/// loop of a million iterations does not pile up timers (the Go 1.23 fix).
#[test]
fn after_in_loop_does_not_accumulate() {
    let _serial = GLOBAL_COUNT.lock().unwrap_or_else(|e| e.into_inner());
    let (tx, rx) = gochan::bounded::<u32>(1);
    let before = gochan::time::pending_timers();
    for i in 0..20_000 {
        tx.send(i).unwrap();
        gochan::select! {
            recv(rx) -> v => assert_eq!(v, Ok(i)),
            recv(gochan::after(Duration::from_secs(60))) -> _ => unreachable!(),
        }
    }
    assert!(gochan::time::pending_timers() < before + 1000);
}

fn poll_once<F: std::future::Future>(f: std::pin::Pin<&mut F>, waker: &std::task::Waker) -> bool {
    let mut cx = std::task::Context::from_waker(waker);
    f.poll(&mut cx).is_ready()
}

/// Go 1.23: no value from before `Reset` is received after it, even when that value was
/// handed to an async receive that is dropped after the reset (it must not come back).
#[test]
fn reset_discards_value_handed_to_dropped_future() {
    // 200 ms: the first poll must come before the timer is due, even on a loaded machine
    // (at 5 ms a CI run once saw it expired at that poll).
    let t = Timer::new(Duration::from_millis(200));
    let waker = futures::task::noop_waker();
    let mut fut = Box::pin(t.c.recv_async());
    assert!(
        !poll_once(fut.as_mut(), &waker),
        "pending: registered as a waiting receiver"
    );
    std::thread::sleep(Duration::from_millis(400)); // fires: the value is handed to `fut`
    let before = Instant::now();
    t.reset(Duration::from_millis(30));
    drop(fut); // must not give the stale value back
    let got = t.c.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(
        got >= before + Duration::from_millis(30),
        "a stale value came back"
    );
}

/// A timer callback that panics (here: a waker whose `wake` panics) does not take the
/// process-wide timer service down: later timers still fire.
#[test]
fn panicking_waker_does_not_kill_the_timer_service() {
    use std::sync::Arc;
    use std::task::{Wake, Waker};
    struct Bad;
    impl Wake for Bad {
        fn wake(self: Arc<Self>) {
            panic!("waker exploded");
        }
    }
    let waker = Waker::from(Arc::new(Bad));
    // Long enough that the first poll finds it pending on a loaded machine (an expired
    // timer would be ready at once, Go 1.23).
    let rx = gochan::after(Duration::from_millis(50));
    let mut fut = Box::pin(rx.recv_async());
    assert!(!poll_once(fut.as_mut(), &waker));
    std::thread::sleep(Duration::from_millis(150));
    drop(fut);
    // The service survived: a new timer fires.
    gochan::after(Duration::from_millis(1))
        .recv_timeout(Duration::from_secs(5))
        .expect("the timer service still runs");
}

/// Go 1.23 release notes ("Timer changes"): a timer channel is unbuffered, so `len` and
/// `cap` of `t.C` return 0, before and after the timer fires.
#[test]
fn timer_channels_present_as_unbuffered() {
    let t = Timer::new(Duration::from_secs(60));
    assert_eq!(t.c.capacity(), Some(0));
    assert_eq!(t.c.len(), 0);
    let fired = gochan::at(Instant::now());
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!((fired.len(), fired.capacity()), (0, Some(0)));
    assert!(fired.try_recv().is_ok(), "len 0, yet the value is there");
    let ticker = Ticker::new(Duration::from_millis(1));
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!((ticker.c.len(), ticker.c.capacity()), (0, Some(0)));
}

/// Go 1.23's `sendTime` subtracts the delay from `Now()`: a timer run late (here, lazily,
/// when its channel is looked at) delivers the time it was due, not the time it ran;
/// crossbeam-channel's `at` delivers `when` the same way.
#[test]
fn late_timer_delivers_its_deadline() {
    let when = Instant::now();
    let rx = gochan::at(when);
    std::thread::sleep(Duration::from_millis(30));
    assert_eq!(rx.recv(), Ok(when));
    let t = Timer::new(Duration::from_millis(1));
    let due_after = Instant::now();
    std::thread::sleep(Duration::from_millis(30));
    let got = t.c.recv().unwrap();
    assert!(got <= due_after + Duration::from_millis(1), "{got:?}");
    // A ticker's values are its tick times, one period apart on its grid.
    let period = Duration::from_millis(2);
    let start = Instant::now();
    let tk = Ticker::new(period);
    let a = tk.c.recv().unwrap();
    let b = tk.c.recv().unwrap();
    assert!(a >= start + period && a <= Instant::now());
    let gap = b.duration_since(a);
    assert_eq!(gap.as_nanos() % period.as_nanos(), 0, "{gap:?}");
}
