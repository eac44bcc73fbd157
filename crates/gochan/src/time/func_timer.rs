//! [`after_func`]: run a function on its own thread after a duration. Go's
//! `time.AfterFunc`.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::service::{self, Entry, Target};
use crate::prim::Mutex;

/// Runs `f` on its own thread once `d` has elapsed, unless stopped first. The returned
/// [`FuncTimer`] can stop or re-arm it (`reset` runs `f` again later). Go's
/// `time.AfterFunc`.
///
/// ```
/// use std::time::Duration;
/// let (tx, rx) = gochan::bounded(1);
/// let _t = gochan::time::after_func(Duration::from_millis(5), move || {
///     let _ = tx.try_send("fired");
/// });
/// assert_eq!(rx.recv(), Ok("fired"));
/// ```
pub fn after_func<F>(d: Duration, f: F) -> FuncTimer
where
    F: Fn() + Send + Sync + 'static,
{
    let t = FuncTimer {
        core: Arc::new(FuncCore {
            f: Arc::new(f),
            state: Mutex::new(FState {
                gen: 0,
                armed: false,
            }),
            entry: Entry::new(service::table_here()),
        }),
    };
    {
        let mut st = t.core.state.lock();
        t.arm(&mut st, d);
    }
    t
}

/// The handle of [`after_func`]. Dropping it does not stop the timer.
///
/// Go's `*time.Timer` as `time.AfterFunc` returns it: [`stop`](FuncTimer::stop) and
/// [`reset`](FuncTimer::reset), no channel.
///
/// ```
/// use std::time::Duration;
/// let (tx, rx) = gochan::bounded(1);
/// let timer: gochan::time::FuncTimer =
///     gochan::time::after_func(Duration::from_millis(1), move || { let _ = tx.try_send("ran"); });
/// drop(timer); // dropping the handle does not stop it
/// assert_eq!(rx.recv(), Ok("ran"));
/// ```
pub struct FuncTimer {
    core: Arc<FuncCore>,
}

struct FuncCore {
    f: Arc<dyn Fn() + Send + Sync>,
    state: Mutex<FState>,
    /// Armed in the service with `FState::gen` as its token.
    entry: Entry,
}

struct FState {
    /// Bumped by every stop/reset: a firing of an older arming does nothing.
    gen: u64,
    armed: bool,
}

impl Target for FuncCore {
    fn entry(&self) -> &Entry {
        &self.entry
    }

    fn fire(&self, gen: u64, _now: Instant) -> Option<Instant> {
        let mut st = self.state.lock();
        if st.gen == gen && st.armed {
            st.armed = false;
            let f = self.f.clone();
            drop(st);
            run_off_timer_thread(f);
        }
        None
    }
}

/// Runs `f` off the timer thread, as Go runs f in its own goroutine; if no thread can be
/// started, runs it here rather than lose it. Under loom it runs here (the models check
/// that stop and the firing agree, as `context::after_func`'s do).
fn run_off_timer_thread(f: Arc<dyn Fn() + Send + Sync>) {
    #[cfg(not(loom))]
    {
        let g = f.clone();
        let spawned = crate::prim::spawn_named("gochan-after-func", move || g());
        if spawned.is_err() {
            f();
        }
    }
    #[cfg(loom)]
    f();
}

impl FuncTimer {
    fn arm(&self, st: &mut FState, d: Duration) {
        let Some(at) = crate::time::now().checked_add(d) else {
            return; // too far in the future to ever fire
        };
        st.armed = true;
        service::arm(&self.core, at, st.gen);
    }

    fn disarm(&self, st: &mut FState) -> bool {
        st.gen += 1;
        if std::mem::replace(&mut st.armed, false) {
            service::cancel(&self.core.entry);
            return true;
        }
        false
    }

    /// Prevents the function from running. Returns `true` if this call stopped it,
    /// `false` if it already started (or was stopped).
    ///
    /// ```
    /// let t = gochan::time::after_func(std::time::Duration::from_secs(60), || unreachable!());
    /// assert!(t.stop());
    /// assert!(!t.stop());
    /// ```
    pub fn stop(&self) -> bool {
        let mut st = self.core.state.lock();
        self.disarm(&mut st)
    }

    /// Re-arms the timer to run the function after `d`. Returns whether it was active.
    ///
    /// ```
    /// use std::time::Duration;
    /// let (tx, rx) = gochan::bounded(2);
    /// let t = gochan::time::after_func(Duration::from_secs(60), move || { let _ = tx.try_send(()); });
    /// assert!(t.reset(Duration::from_millis(1)));
    /// rx.recv().unwrap();
    /// ```
    pub fn reset(&self, d: Duration) -> bool {
        let mut st = self.core.state.lock();
        let was = self.disarm(&mut st);
        self.arm(&mut st, d);
        was
    }
}

impl fmt::Debug for FuncTimer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FuncTimer")
            .field("armed", &self.core.state.lock().armed)
            .finish()
    }
}
