//! [`Timer`] and [`Ticker`], with Go 1.23 semantics: after `stop` or `reset` returns, no
//! value from before the call is ever received.
//!
//! A timer's state lives in a `TimerCore` shared by the handle and the service callback.
//! Every stop/reset (and a firing done by a receive that found the timer expired) bumps
//! `gen`; a service callback holding an older `gen` does nothing, and the check and the
//! send happen under the same lock that `stop`/`reset` take, so a firing can never slip in
//! after a stop.
//!
//! As in Go 1.23, an expired timer is ready the moment a receive or select looks at its
//! channel: the channel asks the core to fire ([`TimerHook::run_if_expired`]) instead of
//! waiting for the service thread, so `after(Duration::ZERO)` in a select with `default`
//! is always ready. The same look resumes a ticker that paused because nobody read it
//! (`TState::paused`): a receiver always looks before it waits, so a paused ticker is
//! back in the service before anyone blocks on it.

use std::fmt;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::service::{self, Entry};
use crate::chan::core::{Chan, TimerHook};
use crate::chan::waiter::Wake;
use crate::chan::Receiver;
use crate::prim::Mutex;

/// The `Arc` allocation (two counts and the core) is a request above glibc's fastbin
/// sizes (up to 120 bytes on 64-bit; `layout_tests`): a freed fastbin chunk stays marked
/// in use, so after a burst of timers is dropped the freed channels between the cores
/// could not coalesce and the heap would not shrink (a million dropped timers once left
/// RSS 320 MiB up until `malloc_trim`).
struct TimerCore {
    chan: Arc<Chan<Instant>>,
    /// The core itself, for a paused ticker to hold (`TState::keep`).
    me: Weak<TimerCore>,
    state: Mutex<TState>,
    /// The timer's place in the service (armed with `TState::gen` as its token).
    entry: Entry,
}

struct TState {
    /// Bumped by every stop/reset and by a firing on look; service callbacks of older
    /// generations are void.
    gen: u64,
    /// The entry is armed in the service: scheduled and not yet fired (one-shot) /
    /// running (periodic).
    armed: bool,
    /// The deadline of the next firing (set by `arm`).
    next: Option<Instant>,
    /// A ticker's period.
    period: Option<Duration>,
    /// A ticker whose last tick found the one before still unreceived: nobody is
    /// reading, so it is out of the service (still `armed`, `next` kept) until a receive
    /// or select looks at its channel (`run_if_expired` puts it back). Go 1.23 likewise
    /// keeps channel timers that nobody waits on out of its timer heap, so an unread fast
    /// ticker costs nothing.
    paused: bool,
    /// While paused, the core holds itself: `after`/`tick` hand out only the channel, whose
    /// link to the core is weak, and the service no longer holds it. Cleared when resumed
    /// or cancelled (the last receiver going cancels it), always by a caller that holds
    /// another strong reference, so clearing it under the lock never frees the core.
    keep: Option<Arc<TimerCore>>,
}

impl TimerHook for TimerCore {
    /// Nobody can receive the time any more: the timer is cancelled. Nothing is drained:
    /// the channel has dropped its buffer already, and no receive can be pending.
    fn receivers_gone(&self) {
        self.cancel_locked(&mut self.state.lock());
    }

    /// Fires now if due: the service's pending entry is voided (cancelled, and its
    /// generation bumped in case the service thread already took it), and a ticker is
    /// re-armed for its next period.
    fn run_if_expired(self: Arc<Self>) {
        let mut st = self.state.lock();
        let due = match st.next {
            Some(at) if st.armed => at,
            _ => return,
        };
        let now = crate::time::now();
        if due > now {
            if std::mem::replace(&mut st.paused, false) {
                // Someone is reading again: back in the service for its next tick.
                st.keep = None; // not the last reference: `self` is one
                st.gen += 1;
                service::arm(&self, due, st.gen);
            }
            return;
        }
        service::cancel(&self.entry); // armed (checked above), or paused: a no-op
        st.paused = false;
        st.keep = None; // not the last reference: `self` is one
        st.gen += 1;
        let (next_at, wake) = self.fire_locked(&mut st, now);
        if let Some(at) = next_at {
            service::arm(&self, at, st.gen);
        }
        drop(st);
        if let Some(w) = wake {
            w.wake();
        }
    }
}

impl service::Target for TimerCore {
    fn entry(&self) -> &Entry {
        &self.entry
    }

    /// Delivers the time on the channel if the arming `gen` is still current.
    fn fire(&self, gen: u64, now: Instant) -> Option<Instant> {
        let mut st = self.state.lock();
        if st.gen != gen {
            return None;
        }
        let (next_at, wake) = self.fire_locked(&mut st, now);
        // The receiver is woken after `state` is released: waking may drop the last
        // receiver, whose hook locks `state`.
        drop(st);
        if let Some(w) = wake {
            w.wake();
        }
        next_at
    }
}

impl TimerCore {
    /// Sends the time the firing was due (Go 1.23's `sendTime` subtracts the delay, so a
    /// late or lazily run timer still delivers its deadline; crossbeam's `at` delivers
    /// `when`); a full buffer means the reader is behind: the tick is dropped, like Go.
    /// Computes the next firing of a ticker; returns it with the receiver to wake.
    ///
    /// A ticker whose tick is dropped pauses (see `TState::paused`): it returns no next
    /// firing, so the service lets it go until a receive looks at the channel.
    fn fire_locked(&self, st: &mut TState, now: Instant) -> (Option<Instant>, Option<Wake>) {
        let due = st.next.map_or(now, |at| at.min(now));
        let sent = {
            let mut inner = self.chan.lock();
            self.chan.try_send_locked(&mut inner, due, None)
        };
        let (delivered, wake) = match sent {
            Ok(wake) => (true, wake),
            Err(_) => (false, None),
        };
        let next_at = match st.period {
            None => {
                st.armed = false;
                None
            }
            Some(p) => {
                // The first tick after `now` on the period grid, in O(1) (a slow service
                // thread may be many periods behind). Past the representable range the
                // ticker stops, as a timer that far out never fires.
                let last = st.next.unwrap_or(now);
                let behind = now.saturating_duration_since(last).as_nanos();
                let periods = behind / p.as_nanos().max(1) + 1;
                let step = p.as_nanos().max(1) * periods;
                let next = u64::try_from(step / 1_000_000_000)
                    .ok()
                    .map(|secs| Duration::new(secs, (step % 1_000_000_000) as u32))
                    .and_then(|step| last.checked_add(step));
                st.next = next;
                if next.is_none() {
                    st.armed = false;
                }
                next
            }
        };
        if !delivered && next_at.is_some() {
            st.paused = true;
            st.keep = self.me.upgrade();
            return (None, wake);
        }
        (next_at, wake)
    }
}

impl TimerCore {
    /// A core whose channel cancels the timer when its last receiver is dropped.
    fn new() -> (Arc<TimerCore>, Receiver<Instant>) {
        let core = Arc::new_cyclic(|weak: &Weak<TimerCore>| {
            let hook: Weak<dyn TimerHook> = weak.clone();
            TimerCore {
                chan: Arc::new(Chan::new_timer(hook)),
                state: Mutex::new(TState {
                    gen: 0,
                    armed: false,
                    next: None,
                    period: None,
                    paused: false,
                    keep: None,
                }),
                me: weak.clone(),
                entry: Entry::new(service::table_here()),
            }
        });
        let rx = Receiver::from_chan(core.chan.clone());
        (core, rx)
    }

    /// Schedules a firing at `at`, then every `period` if given (missed ticks dropped).
    /// Must be called with `st` locked and `st.gen` freshly bumped.
    fn arm(self: &Arc<Self>, st: &mut TState, at: Instant, period: Option<Duration>) {
        st.armed = true;
        st.paused = false;
        st.keep = None; // callers hold the core (a handle)
        st.next = Some(at);
        st.period = period;
        service::arm(self, at, st.gen);
    }

    /// Voids every firing scheduled so far (a newer generation, the service entry
    /// cancelled) without touching the channel. Returns whether a pending firing was
    /// prevented.
    fn cancel_locked(&self, st: &mut TState) -> bool {
        st.gen += 1;
        st.paused = false;
        st.keep = None; // callers hold the core (a handle, or the upgraded hook)
        std::mem::replace(&mut st.armed, false) && service::cancel(&self.entry)
    }

    /// Stops the timer and drains a value not yet received. Returns whether the timer
    /// was active (pending, or fired with its value still unreceived).
    fn disarm_locked(&self, st: &mut TState) -> bool {
        let was_armed = st.armed;
        let prevented = self.cancel_locked(st);
        if prevented && st.period.is_none() {
            // A one-shot timer stopped before it fired has sent nothing since the last
            // disarm drained the channel and bumped its epoch (a firing on look clears
            // `id`), so there is nothing to drain and no handed value to make stale.
            return true;
        }
        // A value already handed to a pending async receive must not come back later.
        let drained = self.chan.bump_epoch_and_drain();
        was_armed || drained
    }

    fn disarm(&self) -> bool {
        let mut st = self.state.lock();
        self.disarm_locked(&mut st)
    }
}

fn deadline(d: Duration) -> Option<Instant> {
    crate::time::now().checked_add(d)
}

/// A single event: its channel `c` receives the time it was due once, after the duration. Go's
/// `time.Timer`, with Go 1.23's channel: `c` presents itself as unbuffered
/// (`capacity() == Some(0)`, `len() == 0`); poll it with `try_recv`, not `len`.
///
/// ```
/// use std::time::Duration;
/// let t = gochan::time::Timer::new(Duration::from_millis(5));
/// assert!(t.c.recv().is_ok());
/// assert!(!t.stop()); // already fired and received
/// ```
pub struct Timer {
    /// The channel the time is delivered on (Go's `C`).
    pub c: Receiver<Instant>,
    core: Arc<TimerCore>,
}

impl Timer {
    /// Starts a timer firing after `d`. A duration too large to represent never fires.
    ///
    /// ```
    /// let t = gochan::time::Timer::new(std::time::Duration::ZERO);
    /// t.c.recv().unwrap();
    /// ```
    pub fn new(d: Duration) -> Timer {
        Timer::new_at(deadline(d))
    }

    /// A timer firing at `at` (`None`: never).
    pub(crate) fn new_at(at: Option<Instant>) -> Timer {
        let (core, c) = TimerCore::new();
        if let Some(at) = at {
            let mut st = core.state.lock();
            core.arm(&mut st, at, None);
        }
        Timer { c, core }
    }

    /// The timer's channel (same as the field `c`).
    ///
    /// ```
    /// let t = gochan::time::Timer::new(std::time::Duration::ZERO);
    /// t.c().recv().unwrap();
    /// ```
    pub fn c(&self) -> &Receiver<Instant> {
        &self.c
    }

    /// Stops the timer. Returns `true` if this call stopped it, `false` if it had already
    /// fired (and its value was received) or been stopped. After `stop` returns, no stale
    /// value is received from `c` (Go 1.23).
    ///
    /// ```
    /// let t = gochan::time::Timer::new(std::time::Duration::from_secs(60));
    /// assert!(t.stop());
    /// assert!(!t.stop());
    /// assert!(t.c.try_recv().is_err());
    /// ```
    pub fn stop(&self) -> bool {
        self.core.disarm()
    }

    /// Re-arms the timer to fire after `d`. Returns whether it was active before. No value
    /// from before the reset is received afterwards (Go 1.23).
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = gochan::time::Timer::new(Duration::from_secs(60));
    /// assert!(t.reset(Duration::from_millis(1)));
    /// t.c.recv().unwrap();
    /// ```
    pub fn reset(&self, d: Duration) -> bool {
        let mut st = self.core.state.lock();
        let was = self.core.disarm_locked(&mut st);
        if let Some(at) = deadline(d) {
            self.core.arm(&mut st, at, None);
        }
        was
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("armed", &self.core.state.lock().armed)
            .finish()
    }
}

/// Delivers the time of each tick on `c` every period; a slow reader misses ticks instead
/// of piling them up. Go's `time.Ticker`, with Go 1.23's channel (`len()` and `capacity()`
/// are 0). A ticker nobody reads costs nothing: once a tick finds the previous one still
/// unreceived it leaves the timer service, and the next receive or select on `c` puts it
/// back (its ticks stay on the same period grid).
///
/// ```
/// use std::time::Duration;
/// let t = gochan::time::Ticker::new(Duration::from_millis(2));
/// t.c.recv().unwrap();
/// t.c.recv().unwrap();
/// t.stop();
/// ```
pub struct Ticker {
    /// The channel ticks are delivered on (Go's `C`).
    pub c: Receiver<Instant>,
    core: Arc<TimerCore>,
}

impl Ticker {
    /// Starts a ticker with period `d`.
    ///
    /// # Panics
    /// If `d` is zero (Go: "non-positive interval for NewTicker").
    ///
    /// ```
    /// let t = gochan::time::Ticker::new(std::time::Duration::from_millis(1));
    /// t.c.recv().unwrap();
    /// ```
    #[track_caller]
    pub fn new(d: Duration) -> Ticker {
        assert!(
            !d.is_zero(),
            "gochan: non-positive interval for Ticker::new"
        );
        let (core, c) = TimerCore::new();
        if let Some(at) = deadline(d) {
            let mut st = core.state.lock();
            core.arm(&mut st, at, Some(d));
        }
        Ticker { c, core }
    }

    /// The ticker's channel (same as the field `c`).
    ///
    /// ```
    /// let t = gochan::time::Ticker::new(std::time::Duration::from_millis(1));
    /// t.c().recv().unwrap();
    /// ```
    pub fn c(&self) -> &Receiver<Instant> {
        &self.c
    }

    /// Stops the ticker; no tick from before the call is received afterwards.
    ///
    /// ```
    /// let t = gochan::time::Ticker::new(std::time::Duration::from_millis(1));
    /// t.stop();
    /// assert!(t.c.recv_timeout(std::time::Duration::from_millis(5)).is_err());
    /// ```
    pub fn stop(&self) {
        self.core.disarm();
    }

    /// Changes the period to `d` and restarts the ticker.
    ///
    /// # Panics
    /// If `d` is zero.
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = gochan::time::Ticker::new(Duration::from_secs(60));
    /// t.reset(Duration::from_millis(1));
    /// t.c.recv().unwrap();
    /// ```
    #[track_caller]
    pub fn reset(&self, d: Duration) {
        assert!(
            !d.is_zero(),
            "gochan: non-positive interval for Ticker::reset"
        );
        let mut st = self.core.state.lock();
        self.core.disarm_locked(&mut st);
        if let Some(at) = deadline(d) {
            self.core.arm(&mut st, at, Some(d));
        }
    }
}

impl fmt::Debug for Ticker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ticker")
            .field("armed", &self.core.state.lock().armed)
            .finish()
    }
}

#[cfg(all(test, target_pointer_width = "64"))]
mod layout_tests {
    /// See `TimerCore`: the `Arc` allocation (two counts + the core) must be a request
    /// above 120 bytes.
    #[test]
    fn timer_core_allocation_is_above_fastbin_sizes() {
        let size = 16 + std::mem::size_of::<super::TimerCore>();
        assert!(size > 120, "{size}");
    }
}
