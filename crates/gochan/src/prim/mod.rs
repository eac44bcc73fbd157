//! The synchronization primitives the engines are built on, swapped for loom's under
//! `--cfg loom` so the loom models in `tests/loom_*.rs` explore every interleaving of the
//! channel, select and context state machines.
//!
//! `Arc` stays `std`'s in both builds (loom's has no `Weak`); its reference counting is
//! std's to get right. The channel engine, waiters, the context tree, the timers (with
//! their service) and the groups all use this module. Under loom there is no timer
//! thread: the models drive the service's fire step themselves (`time::loom_service`).

pub(crate) mod blocking;
mod cell;
mod spin;

pub(crate) use cell::UnsafeCell;

#[cfg(not(loom))]
pub(crate) use spin::{SpinGuard, SpinLock};

/// Under loom the channel engine locks with loom's mutex (a spin lock multiplies the
/// models' branches beyond loom's limits); `spin.rs` has its own model.
#[cfg(loom)]
pub(crate) type SpinLock<T> = Mutex<T>;
#[cfg(loom)]
pub(crate) type SpinGuard<'a, T> = MutexGuard<'a, T>;

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering,
};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering,
};

/// Wakes one blocked thread: `std`'s park/unpark, or under loom a mutex and condvar per
/// thread (loom's `unpark` wrongly unblocks a thread that is blocked on a mutex, not
/// parked: tokio-rs/loom#249).
///
/// A thread inside a `synctest` bubble carries its seat: `unpark` then also tells the
/// bubble that the thread is running again, before it is scheduled, so the bubble never
/// sees "everyone blocked" while a woken thread has yet to run.
#[derive(Debug, Clone)]
pub(crate) struct Parker {
    #[cfg(not(loom))]
    thread: std::thread::Thread,
    #[cfg(not(loom))]
    seat: Option<std::sync::Arc<crate::synctest::Seat>>,
    #[cfg(loom)]
    inner: std::sync::Arc<(loom::sync::Mutex<bool>, loom::sync::Condvar)>,
}

#[cfg(loom)]
loom::thread_local! {
    /// The calling thread's token and condvar (one per thread, like std's park token).
    static TOKEN: std::sync::Arc<(loom::sync::Mutex<bool>, loom::sync::Condvar)> =
        std::sync::Arc::new((loom::sync::Mutex::new(false), loom::sync::Condvar::new()));
}

impl Parker {
    /// A parker for the calling thread: its `unpark` wakes this thread's
    /// [`Parker::park_current`].
    pub(crate) fn current() -> Parker {
        Parker {
            #[cfg(not(loom))]
            thread: std::thread::current(),
            #[cfg(not(loom))]
            seat: crate::synctest::seat(),
            #[cfg(loom)]
            inner: TOKEN.with(|t| t.clone()),
        }
    }

    /// The thread this parker wakes, for [`crate::debug`] (under loom: the caller).
    pub(crate) fn party(&self) -> crate::debug::Party {
        #[cfg(not(loom))]
        let t = &self.thread;
        #[cfg(loom)]
        let t = &std::thread::current();
        crate::debug::Party::Thread {
            id: t.id(),
            name: t.name().map(String::from),
        }
    }

    /// Makes the token available and wakes the thread if it is parked.
    pub(crate) fn unpark(&self) {
        #[cfg(not(loom))]
        {
            if let Some(seat) = &self.seat {
                seat.wake();
            }
            self.thread.unpark();
        }
        #[cfg(loom)]
        {
            *self.inner.0.lock().unwrap() = true;
            self.inner.1.notify_one();
        }
    }

    /// Blocks the calling thread until its token is available, for at most `timeout`
    /// (may return spuriously; under loom the timeout is ignored: models use none).
    pub(crate) fn park_current(timeout: Option<std::time::Duration>) {
        #[cfg(not(loom))]
        match timeout {
            None => std::thread::park(),
            Some(d) => std::thread::park_timeout(d),
        }
        #[cfg(loom)]
        {
            let _ = timeout;
            TOKEN.with(|t| {
                let mut token = t.0.lock().unwrap();
                while !*token {
                    token = t.1.wait(token).unwrap();
                }
                *token = false;
            });
        }
    }
}

/// Parks the calling thread until its token is available (may return spuriously) or
/// `deadline` passes. Returns `true`, without parking, once `deadline` has passed. Inside
/// a `synctest` bubble the deadline is on the bubble's virtual clock and the thread counts
/// as durably blocked while it is parked here if `durable` (it waits only on channels of
/// its own bubble).
pub(crate) fn park_until(deadline: Option<std::time::Instant>, durable: bool) -> bool {
    #[cfg(not(loom))]
    if let Some(seat) = crate::synctest::seat() {
        return seat.park_until(deadline, durable);
    }
    let _ = durable;
    match deadline {
        None => Parker::park_current(None),
        Some(d) => {
            let now = std::time::Instant::now();
            if now >= d {
                return true;
            }
            Parker::park_current(Some(d - now));
        }
    }
    false
}

/// Starts a select's registration: from here on, registering on a channel of another
/// `synctest` bubble (or of none) makes the select's wait not durable.
pub(crate) fn select_begin() {
    #[cfg(not(loom))]
    crate::synctest::begin_select();
}

/// Whether the select registered since [`select_begin`] waits only on channels of the
/// caller's bubble (always true outside bubbles).
pub(crate) fn select_durable() -> bool {
    #[cfg(not(loom))]
    return crate::synctest::select_durable();
    #[cfg(loom)]
    true
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

    /// Locks if the lock is free now (`None` if it is held).
    pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        #[cfg(not(loom))]
        {
            self.inner.try_lock()
        }
        #[cfg(loom)]
        {
            match self.inner.try_lock() {
                Ok(guard) => Some(guard),
                Err(std::sync::TryLockError::Poisoned(e)) => Some(e.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => None,
            }
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

/// A sequentially consistent fence (`std`'s, or loom's under loom).
#[inline]
pub(crate) fn fence_seq_cst() {
    #[cfg(not(loom))]
    std::sync::atomic::fence(Ordering::SeqCst);
    #[cfg(loom)]
    loom::sync::atomic::fence(Ordering::SeqCst);
}

/// Gives up the processor (a short wait for another thread's progress).
pub(crate) fn yield_now() {
    #[cfg(not(loom))]
    std::thread::yield_now();
    #[cfg(loom)]
    loom::thread::yield_now();
}

/// Busy-spin rounds (2^0 .. 2^6 pause instructions each) before yielding.
#[cfg(not(loom))]
const SPIN_ROUNDS: u32 = 7;

/// `yield_now` rounds before parking. A hand-off partner that is running on another core
/// usually answers within a few microseconds; parking and being woken costs several
/// microseconds more. Bounded, so nobody burns a core for a partner that is not coming.
#[cfg(not(loom))]
const YIELD_ROUNDS: u32 = 50;

/// Spins, then yields, while `ready` is false; returns whether it became true. Under
/// loom, checks once (spinning only multiplies the model's states).
pub(crate) fn spin_wait(mut ready: impl FnMut() -> bool) -> bool {
    #[cfg(not(loom))]
    {
        for round in 0..SPIN_ROUNDS {
            for _ in 0..(1u32 << round) {
                std::hint::spin_loop();
            }
            if ready() {
                return true;
            }
        }
        for _ in 0..YIELD_ROUNDS {
            std::thread::yield_now();
            if ready() {
                return true;
            }
        }
    }
    ready()
}

/// Starts a thread: `std`'s (in the caller's `synctest` bubble, if any), or under loom a
/// model thread (an OS thread would touch the model's objects outside the model).
#[cfg(not(loom))]
pub(crate) fn spawn<F, T>(f: F) -> std::thread::JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let ticket = crate::synctest::ticket();
    std::thread::spawn(move || ticket.run(f))
}

#[cfg(loom)]
pub(crate) use loom::thread::spawn;

/// Starts a named OS thread in the caller's `synctest` bubble, if any (under loom too: the
/// callers of this one run outside the models or not at all there).
pub(crate) fn spawn_named<F, T>(name: &str, f: F) -> std::io::Result<std::thread::JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    #[cfg(not(loom))]
    {
        let ticket = crate::synctest::ticket();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || ticket.run(f))
    }
    #[cfg(loom)]
    std::thread::Builder::new().name(name.into()).spawn(f)
}
