//! The synchronization primitives the engines are built on, swapped for loom's under
//! `--cfg loom` so the loom models in `tests/loom_*.rs` explore every interleaving of the
//! channel, select and context state machines.
//!
//! `Arc` stays `std`'s in both builds (loom's has no `Weak`); its reference counting is
//! std's to get right. Only the channel engine, waiters and the context tree use this
//! module; the timer service and the groups keep plain `parking_lot` (the models do not
//! involve timers).

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};

/// Thread handles and parking.
pub(crate) mod thread {
    #[cfg(not(loom))]
    pub(crate) use std::thread::{current, park, park_timeout, Thread};

    #[cfg(loom)]
    pub(crate) use loom::thread::{current, park, Thread};

    /// loom has no timed park: a timed wait is modelled as an untimed one that may also
    /// wake spuriously (callers re-check their condition and deadline in a loop).
    #[cfg(loom)]
    pub(crate) fn park_timeout(_d: std::time::Duration) {
        loom::thread::yield_now();
    }
}

/// A mutex with `parking_lot`'s API (no poisoning), or loom's in models.
#[derive(Default)]
pub(crate) struct Mutex<T> {
    #[cfg(not(loom))]
    inner: parking_lot::Mutex<T>,
    #[cfg(loom)]
    inner: loom::sync::Mutex<T>,
}

#[cfg(not(loom))]
pub(crate) type MutexGuard<'a, T> = parking_lot::MutexGuard<'a, T>;

#[cfg(loom)]
pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Mutex<T> {
        Mutex {
            #[cfg(not(loom))]
            inner: parking_lot::Mutex::new(value),
            #[cfg(loom)]
            inner: loom::sync::Mutex::new(value),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        #[cfg(not(loom))]
        {
            self.inner.lock()
        }
        #[cfg(loom)]
        {
            self.inner.lock().unwrap_or_else(|e| e.into_inner())
        }
    }

    pub(crate) fn get_mut(&mut self) -> &mut T {
        #[cfg(not(loom))]
        {
            self.inner.get_mut()
        }
        #[cfg(loom)]
        {
            self.inner.get_mut().unwrap_or_else(|e| e.into_inner())
        }
    }
}

/// Spin briefly before parking (not under loom: spinning only multiplies its states).
pub(crate) fn spin_wait(mut ready: impl FnMut() -> bool) -> bool {
    #[cfg(not(loom))]
    {
        let backoff = crossbeam_utils::Backoff::new();
        while !backoff.is_completed() {
            if ready() {
                return true;
            }
            backoff.snooze();
        }
    }
    ready()
}
