//! [`SpinLock`]: the channel engine's lock. Critical sections are a few dozen
//! instructions (a queue push or pop), so waiting for the lock by spinning (then
//! yielding, so a preempted holder gets the core back) beats parking the thread, which
//! `parking_lot` does under contention and which costs microseconds per hand-off when
//! more threads than cores share a channel. It never parks and never burns a core for
//! long: after a short spin it yields on every retry.
//!
//! The only unsafe code is the guard's access to the protected value, justified by the
//! `locked` flag's acquire/release protocol. Its loom model is at the bottom of this file.

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};

use super::{AtomicBool, Ordering};

/// A test-and-test-and-set lock around a `T`.
#[cfg_attr(loom, allow(dead_code))]
pub(crate) struct SpinLock<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands out access to `value` to one thread at a time (see `lock`), so
// sharing a `SpinLock<T>` between threads is sound whenever `T` may move between them.
unsafe impl<T: Send> Sync for SpinLock<T> {}
// SAFETY: moving the lock moves the `T` it owns.
unsafe impl<T: Send> Send for SpinLock<T> {}

/// Exclusive access to the value until dropped.
pub(crate) struct SpinGuard<'a, T> {
    lock: &'a SpinLock<T>,
    /// Makes the guard `Sync` only when `T: Sync` (it hands out `&T`), like std's guard.
    _marker: std::marker::PhantomData<&'a mut T>,
}

#[cfg_attr(loom, allow(dead_code))]
impl<T> SpinLock<T> {
    pub(crate) fn new(value: T) -> SpinLock<T> {
        SpinLock {
            locked: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Acquires the lock: one CAS when free; otherwise spin on a plain load (no cache
    /// line ping-pong), then yield between attempts.
    pub(crate) fn lock(&self) -> SpinGuard<'_, T> {
        if self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
        SpinGuard {
            lock: self,
            _marker: std::marker::PhantomData,
        }
    }

    #[cold]
    fn lock_contended(&self) {
        let mut spins = 0u32;
        loop {
            while self.locked.load(Ordering::Relaxed) {
                if cfg!(not(loom)) && spins < 6 {
                    for _ in 0..(1u32 << spins) {
                        std::hint::spin_loop();
                    }
                    spins += 1;
                } else {
                    super::yield_now();
                }
            }
            if self
                .locked
                .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
        }
    }
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a guard exists only while `locked` is held by this thread (set by the
        // acquiring CAS in `lock`, cleared only by this guard's drop), so no other
        // reference to `value` is live.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only reference via the guard.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    fn drop(&mut self) {
        // Release: every write through the guard happens-before the next acquirer's CAS.
        self.lock.locked.store(false, Ordering::Release);
    }
}

#[cfg(all(test, loom))]
mod loom_model {
    use super::SpinLock;
    use loom::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// Mutual exclusion: two threads never hold the lock at once, and increments made
    /// under the lock are never lost.
    #[test]
    fn spin_lock_excludes() {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(3);
        builder.max_branches = 100_000;
        builder.check(|| {
            let lock = Arc::new(SpinLock::new(0u32));
            let inside = Arc::new(AtomicUsize::new(0));
            let t = {
                let (lock, inside) = (lock.clone(), inside.clone());
                loom::thread::spawn(move || {
                    let mut g = lock.lock();
                    assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                    *g += 1;
                    inside.fetch_sub(1, Ordering::SeqCst);
                })
            };
            {
                let mut g = lock.lock();
                assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                *g += 1;
                inside.fetch_sub(1, Ordering::SeqCst);
            }
            t.join().unwrap();
            assert_eq!(*lock.lock(), 2);
        });
    }
}
