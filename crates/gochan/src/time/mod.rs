//! Timers on one process-wide service: [`after`], [`tick`], [`Timer`], [`Ticker`],
//! [`at`], [`after_func`].
//!
//! All of them (and context deadlines) are entries in one lazily started timer thread's
//! wheel (`service`, `wheel`), so a million pending timers cost memory, not threads. A timer whose
//! channel nobody holds any more is removed from the service.

pub(crate) mod duration;
mod func_timer;
pub(crate) mod service;
mod timer;
mod wheel;

use std::time::{Duration, Instant};

pub use duration::{format_duration, parse_duration, ParseDurationError};
pub use func_timer::{after_func, FuncTimer};
pub use timer::{Ticker, Timer};

use crate::chan::Receiver;

/// A channel that receives the time it was due (start + `d`) once: Go's `time.After`. Dropping
/// the receiver cancels the timer. As in Go 1.23, an expired timer is ready the moment a
/// receive or select looks at it: `after(Duration::ZERO)` wins over `default`.
///
/// ```
/// use std::time::Duration;
/// let (_tx, rx) = gochan::bounded::<i32>(0);
/// gochan::select! {
///     recv(rx) -> _ => unreachable!(),
///     recv(gochan::after(Duration::from_millis(5))) -> t => assert!(t.is_ok()),
/// }
/// ```
#[must_use = "the timer is cancelled when its receiver is dropped"]
pub fn after(d: Duration) -> Receiver<Instant> {
    Timer::new(d).c
}

/// A channel that receives `when` once, at `when`: crossbeam-channel's `at`.
/// An instant in the past is ready at once (the moment a receive or select looks at
/// it). Dropping the receiver cancels the timer.
///
/// ```
/// use std::time::{Duration, Instant};
/// let when = Instant::now() + Duration::from_millis(5);
/// assert_eq!(gochan::at(when).recv(), Ok(when));
/// // A past instant is ready at once, even for a non-blocking look.
/// let past = Instant::now();
/// assert_eq!(gochan::at(past).try_recv(), Ok(past));
/// ```
#[must_use = "the timer is cancelled when its receiver is dropped"]
pub fn at(when: Instant) -> Receiver<Instant> {
    Timer::new_at(Some(when)).c
}

/// A channel that receives the time every `d`, dropping ticks a slow receiver missed: Go's
/// `time.Tick`. As in Go, a zero period gives a channel that never delivers. Dropping the
/// receiver stops the ticker.
///
/// ```
/// let ticks = gochan::tick(std::time::Duration::from_millis(1));
/// for _ in 0..3 { ticks.recv().unwrap(); }
/// ```
#[must_use = "the ticker is stopped when its receiver is dropped"]
pub fn tick(d: Duration) -> Receiver<Instant> {
    if d.is_zero() {
        return crate::chan::never();
    }
    Ticker::new(d).c
}

/// The current time: Go's `time.Now`. Inside a [`synctest`](crate::synctest) bubble it is
/// the bubble's virtual clock (it moves only when every thread of the bubble is blocked);
/// elsewhere it is `Instant::now()`. Every gochan deadline (`after`, `Timer`,
/// `recv_timeout`, `with_timeout`, ...) is measured on this clock.
///
/// ```
/// use std::time::Duration;
/// let elapsed = gochan::synctest::run(|| {
///     let start = gochan::time::now();
///     gochan::time::sleep(Duration::from_secs(30)); // virtual: returns at once
///     gochan::time::now() - start
/// });
/// assert_eq!(elapsed, Duration::from_secs(30));
/// ```
pub fn now() -> Instant {
    #[cfg(not(loom))]
    if let Some(now) = crate::synctest::virtual_now() {
        return now;
    }
    Instant::now()
}

/// Blocks the calling thread for `d`: Go's `time.Sleep`. Inside a
/// [`synctest`](crate::synctest) bubble the sleep is on the virtual clock (the thread is
/// durably blocked meanwhile); elsewhere it is `std::thread::sleep`.
///
/// ```
/// let t = std::time::Instant::now();
/// gochan::time::sleep(std::time::Duration::from_millis(2));
/// assert!(t.elapsed() >= std::time::Duration::from_millis(2));
/// ```
pub fn sleep(d: Duration) {
    match now().checked_add(d) {
        Some(at) => sleep_until(at),
        None => loop {
            // Longer than any clock can say: forever, as Go's Sleep of a huge duration.
            sleep_until(now() + Duration::from_secs(86_400 * 365));
        },
    }
}

/// Blocks until [`now`] reaches `at`.
pub(crate) fn sleep_until(at: Instant) {
    #[cfg(not(loom))]
    if crate::synctest::virtual_now().is_some() {
        while !crate::prim::park_until(Some(at), true) {}
        return;
    }
    let now = Instant::now();
    if at > now {
        std::thread::sleep(at - now);
    }
}

/// Number of timers pending in the process-wide service (diagnostics and tests).
///
/// ```
/// let _t = gochan::time::Timer::new(std::time::Duration::from_secs(3600));
/// assert!(gochan::time::pending_timers() >= 1);
/// ```
pub fn pending_timers() -> usize {
    service::pending()
}

/// Drives the timer service from loom models: under loom there is no service thread, so a
/// model fires due timers itself, from whichever model thread races the timer's owner.
#[cfg(loom)]
#[doc(hidden)]
pub mod loom_service {
    use std::time::Instant;

    use super::service::{self, Handle};

    /// Runs one round of the service as its thread would when woken at `now`: every
    /// timer due by `now` fires (unless cancelled meanwhile) on the calling thread.
    pub fn fire_due(now: Instant) {
        service::fire_due_now(now);
    }

    /// A raw service entry (what `Timer`, `after_func` and context deadlines are made of).
    #[derive(Debug)]
    pub struct Entry(Handle);

    /// Schedules `f` at `at`; `f` returns its next deadline to fire again.
    pub fn schedule(
        at: Instant,
        f: impl FnMut(Instant) -> Option<Instant> + Send + 'static,
    ) -> Entry {
        Entry(service::schedule(at, f))
    }

    /// Cancels `e`: whether that prevented a run (any further run, for a periodic one).
    pub fn cancel(e: &Entry) -> bool {
        e.0.cancel()
    }
}
