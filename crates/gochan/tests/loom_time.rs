//! loom models of the timers and the timer service. Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test -p gochan --release --test loom_time`
//! (see docs/loom.md).
//!
//! Under loom there is no timer thread: a model thread plays it by calling
//! `loom_service::fire_due(now)` (one round of the service, woken at `now`). Timers are
//! armed an hour out and fired with `now` two hours out, so the real clock decides nothing:
//! a receive's "fire if expired" look (Go 1.23) never finds them due, and the service
//! always does. `expired_timer_look_vs_service` uses a zero timer to race that look.
#![cfg(loom)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gochan::time::{self, loom_service, Ticker, Timer};
use loom::thread;

const HOUR: Duration = Duration::from_secs(3600);

/// The service's "now" for a round that finds every timer armed an hour out due.
fn later(hours: u32) -> Instant {
    Instant::now() + HOUR * hours
}

/// Stop racing the firing (Go 1.23): after `stop` returns no value is received, and
/// `stop` returns true exactly when the value was not received by anyone.
#[test]
fn timer_stop_vs_fire() {
    loom::model(|| {
        let t = Timer::new(HOUR);
        let rx = t.c.clone();
        let fire = thread::spawn(move || {
            loom_service::fire_due(later(2));
            rx.try_recv().is_ok()
        });
        let stopped = t.stop();
        assert!(t.c.try_recv().is_err(), "a stale value after stop");
        let got = fire.join().unwrap();
        assert_ne!(
            stopped, got,
            "stop said {stopped}, the receiver got a value: {got}"
        );
        assert!(t.c.try_recv().is_err(), "a value after stop");
        assert_eq!(time::pending_timers(), 0);
    });
}

/// Reset racing the firing of the old arming: no value from before the reset arrives
/// after it, reset's result says whether the old value was received, and the new arming
/// is neither lost nor fired early (it fires exactly once, when due).
#[test]
fn timer_reset_vs_fire() {
    loom::model(|| {
        let t = Timer::new(HOUR);
        let rx = t.c.clone();
        let fire = thread::spawn(move || {
            loom_service::fire_due(later(2));
            rx.try_recv().is_ok()
        });
        let was_active = t.reset(HOUR * 10);
        assert!(t.c.try_recv().is_err(), "a stale value after reset");
        let got = fire.join().unwrap();
        assert_ne!(was_active, got);
        assert!(t.c.try_recv().is_err(), "a value from before the reset");
        assert_eq!(time::pending_timers(), 1, "the new arming was lost");
        loom_service::fire_due(later(20));
        assert!(t.c.try_recv().is_ok(), "the new arming did not fire");
        assert!(t.c.try_recv().is_err());
        assert_eq!(time::pending_timers(), 0);
    });
}

/// A ticker's tick racing stop: the service's reschedule of a tick that runs while stop
/// cancels it is dropped (nothing stays pending), and no tick arrives after stop, also
/// not from a later round of the service.
#[test]
fn ticker_fire_vs_stop() {
    loom::model(|| {
        let t = Ticker::new(HOUR);
        let fire = thread::spawn(|| loom_service::fire_due(later(2)));
        t.stop();
        assert!(t.c.try_recv().is_err(), "a tick from before stop");
        fire.join().unwrap();
        assert!(t.c.try_recv().is_err(), "a tick after stop");
        assert_eq!(
            time::pending_timers(),
            0,
            "a stopped ticker was rescheduled"
        );
        loom_service::fire_due(later(10));
        assert!(t.c.try_recv().is_err(), "a stopped ticker ticked");
    });
}

/// A ticker's reset racing its tick: the entry is re-armed while the service may be
/// firing (or about to fire) the old arming. The re-arm stands: exactly one arming stays
/// pending (the old one's reschedule is dropped), no tick from before the reset arrives
/// after it, and the new period ticks when due.
#[test]
fn ticker_reset_vs_fire() {
    loom::model(|| {
        let t = Ticker::new(HOUR);
        let fire = thread::spawn(|| loom_service::fire_due(later(2)));
        t.reset(HOUR * 10);
        assert!(t.c.try_recv().is_err(), "a tick from before the reset");
        fire.join().unwrap();
        assert!(
            t.c.try_recv().is_err(),
            "a tick from before the reset, late"
        );
        assert_eq!(time::pending_timers(), 1, "the re-arm was lost or doubled");
        loom_service::fire_due(later(20));
        assert!(t.c.try_recv().is_ok(), "the reset ticker did not tick");
        assert_eq!(time::pending_timers(), 1, "the ticker stopped ticking");
        t.stop();
        assert_eq!(time::pending_timers(), 0);
    });
}

/// A ticker's tick that finds the previous one unreceived pauses the ticker (it leaves
/// the service, as Go 1.23 keeps channel timers nobody waits on out of its heap); a
/// receive racing that tick looks first, so either the tick lands after the receive
/// took the old one (and the ticker stays armed), or the look finds it paused and puts
/// it back. Either way the ticker is pending afterwards and ticks again: a receiver
/// that then blocks is woken (fails if the look does not resume a paused ticker).
#[test]
fn ticker_pause_vs_receive() {
    loom::model(|| {
        let t = Ticker::new(HOUR);
        loom_service::fire_due(later(2)); // tick 1, unreceived
        let rx = t.c.clone();
        let recv = thread::spawn(move || rx.try_recv().is_ok());
        loom_service::fire_due(later(3)); // tick 2: dropped and paused, or delivered
        assert!(recv.join().unwrap(), "tick 1 was lost");
        let buffered = t.c.try_recv().is_ok();
        assert_eq!(
            time::pending_timers(),
            1,
            "the ticker is out of the service with a reader looking (tick 2 buffered: {buffered})"
        );
        loom_service::fire_due(later(10));
        assert!(t.c.try_recv().is_ok(), "the ticker stopped ticking");
        t.stop();
        assert_eq!(time::pending_timers(), 0);
    });
}

/// `time::after_func` stop racing the firing: `f` runs exactly when stop returned false.
#[test]
fn after_func_stop_vs_fire() {
    loom::model(|| {
        let runs = Arc::new(AtomicUsize::new(0));
        let r = runs.clone();
        let t = time::after_func(HOUR, move || {
            r.fetch_add(1, Ordering::SeqCst);
        });
        let fire = thread::spawn(|| loom_service::fire_due(later(2)));
        let stopped = t.stop();
        fire.join().unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), usize::from(!stopped));
        assert_eq!(time::pending_timers(), 0);
    });
}

/// The service alone: cancel racing a one-shot entry's firing (taken out to fire, about
/// to run, running). The action runs exactly when cancel returned false; the freed slot
/// goes to a new entry, which the stale firing round must neither run nor drop, and the
/// old id no longer cancels anything.
#[test]
fn service_cancel_vs_fire() {
    loom::model(|| {
        let runs = Arc::new(AtomicUsize::new(0));
        let r = runs.clone();
        let e = loom_service::schedule(later(1), move |_| {
            r.fetch_add(1, Ordering::SeqCst);
            None
        });
        let fire = thread::spawn(|| loom_service::fire_due(later(2)));
        let cancelled = loom_service::cancel(&e);
        let runs2 = runs.clone();
        let next = loom_service::schedule(later(10), move |_| {
            runs2.fetch_add(100, Ordering::SeqCst);
            None
        });
        fire.join().unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), usize::from(!cancelled));
        assert!(!loom_service::cancel(&e), "a stale id cancelled something");
        assert_eq!(time::pending_timers(), 1, "the next entry was lost");
        assert!(loom_service::cancel(&next));
        assert_eq!(time::pending_timers(), 0);
    });
}

/// The service alone: cancel racing a periodic entry's firing. Cancelled while its action
/// runs, it is not rescheduled (cancel says false: the run was not prevented); cancelled
/// before, it never runs; cancelled after, its next run is prevented.
#[test]
fn service_cancel_vs_periodic_fire() {
    loom::model(|| {
        let runs = Arc::new(AtomicUsize::new(0));
        let r = runs.clone();
        let e = loom_service::schedule(later(1), move |now| {
            r.fetch_add(1, Ordering::SeqCst);
            Some(now + HOUR)
        });
        let fire = thread::spawn(|| loom_service::fire_due(later(2)));
        let cancelled = loom_service::cancel(&e);
        fire.join().unwrap();
        let n = runs.load(Ordering::SeqCst);
        assert!(n <= 1);
        if !cancelled {
            assert_eq!(n, 1, "cancel said the run happened");
        }
        assert_eq!(
            time::pending_timers(),
            0,
            "a cancelled periodic entry is pending"
        );
        loom_service::fire_due(later(10));
        assert_eq!(
            runs.load(Ordering::SeqCst),
            n,
            "a cancelled entry ran again"
        );
    });
}

/// An expired timer is fired by the receive that looks at it (Go 1.23) while the service
/// fires it too: the value arrives exactly once.
#[test]
fn expired_timer_look_vs_service() {
    loom::model(|| {
        let t = Timer::new(Duration::ZERO);
        let fire = thread::spawn(|| loom_service::fire_due(later(2)));
        assert!(t.c.recv().is_ok());
        fire.join().unwrap();
        assert!(t.c.try_recv().is_err(), "the timer fired twice");
        assert!(!t.stop(), "stop of a fired and received timer");
        assert_eq!(time::pending_timers(), 0);
    });
}
