//! Timers on one process-wide service: [`after`], [`tick`], [`Timer`], [`Ticker`],
//! [`after_func`].
//!
//! All of them (and context deadlines) are entries in one lazily started timer thread's
//! heap (`service`), so a million pending timers cost memory, not threads. A timer whose
//! channel nobody holds any more is removed from the service.

pub(crate) mod duration;
mod func_timer;
pub(crate) mod service;
mod timer;

use std::time::{Duration, Instant};

pub use duration::{format_duration, parse_duration, ParseDurationError};
pub use func_timer::{after_func, FuncTimer};
pub use timer::{Ticker, Timer};

use crate::chan::Receiver;

/// A channel that receives the current time once, after `d`: Go's `time.After`. Dropping
/// the receiver cancels the timer.
///
/// ```
/// use std::time::Duration;
/// let (_tx, rx) = gochan::bounded::<i32>(0);
/// gochan::select! {
///     recv(rx) -> _ => unreachable!(),
///     recv(gochan::after(Duration::from_millis(5))) -> t => assert!(t.is_ok()),
/// }
/// ```
pub fn after(d: Duration) -> Receiver<Instant> {
    Timer::new(d).c
}

/// A channel that receives the time every `d`, dropping ticks a slow receiver missed: Go's
/// `time.Tick`. As in Go, a zero period gives a channel that never delivers. Dropping the
/// receiver stops the ticker.
///
/// ```
/// let ticks = gochan::tick(std::time::Duration::from_millis(1));
/// for _ in 0..3 { ticks.recv().unwrap(); }
/// ```
pub fn tick(d: Duration) -> Receiver<Instant> {
    if d.is_zero() {
        return crate::chan::never();
    }
    Ticker::new(d).c
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
