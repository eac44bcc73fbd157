//! [`Mutex`]: `parking_lot`'s lock plus an owner cell and a registered slow path.
//!
//! Uncontended `lock` is `parking_lot`'s `try_lock` (one CAS) plus a relaxed store of the
//! owner's thread key. A `lock` that must wait lists itself in the `debug` registry
//! (call site, since when, which mutex) before it blocks and leaves it once it holds the
//! lock. The guard is `!Send` (as `parking_lot`'s), so the thread that locked is the
//! thread that unlocks: the owner cell is exact.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::debug::{registry, threads};

/// A mutual-exclusion lock over a `T` whose waiters show up in gochan's diagnostics
/// (Go's `sync.Mutex`; no poisoning, as `parking_lot`'s and Go's).
///
/// Use it instead of `std::sync::Mutex` where a lock and channels meet: a thread that
/// holds it while blocked on a channel, and a thread that waits for it, are then both
/// listed by [`debug::blocked`](crate::debug::blocked), with the holder named.
///
/// As with Go's `sync.Mutex` under `testing/synctest`, a thread waiting for it is not
/// durably blocked inside a [`synctest`](crate::synctest) bubble: the bubble's clock does
/// not advance while it waits.
///
/// ```
/// use std::sync::Arc;
/// let counter = Arc::new(gochan::sync::Mutex::new(0));
/// let wg = gochan::group::WaitGroup::new();
/// for _ in 0..4 {
///     let counter = counter.clone();
///     wg.go(move || *counter.lock() += 1);
/// }
/// wg.wait();
/// assert_eq!(*counter.lock(), 4);
/// ```
pub struct Mutex<T: ?Sized> {
    /// The holder's thread key (`debug::threads`), 0 when unlocked. Written by the
    /// holder only (after locking, before unlocking), read by the diagnostics.
    owner: AtomicU64,
    inner: parking_lot::Mutex<T>,
}

/// Holds a [`Mutex`] locked; unlocks on drop. Not `Send`: the thread that locked unlocks.
///
/// ```
/// let m = gochan::sync::Mutex::new(vec![1]);
/// let mut g = m.lock();
/// g.push(2);
/// drop(g); // unlocks
/// assert_eq!(*m.lock(), [1, 2]);
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    guard: parking_lot::MutexGuard<'a, T>,
}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    ///
    /// ```
    /// static M: gochan::sync::Mutex<u32> = gochan::sync::Mutex::new(0);
    /// *M.lock() += 1;
    /// assert_eq!(*M.lock(), 1);
    /// ```
    pub const fn new(value: T) -> Mutex<T> {
        Mutex {
            owner: AtomicU64::new(0),
            inner: parking_lot::const_mutex(value),
        }
    }

    /// The value, consuming the mutex.
    ///
    /// ```
    /// assert_eq!(gochan::sync::Mutex::new(5).into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks, blocking the thread until the lock is free. While it waits, the thread is
    /// listed by [`debug::blocked`](crate::debug::blocked) as `sync.Mutex.Lock` at the
    /// caller's line, with the holder.
    ///
    /// Locking a mutex the calling thread already holds deadlocks (as in Go).
    ///
    /// ```
    /// let m = gochan::sync::Mutex::new(1);
    /// *m.lock() += 1;
    /// assert_eq!(*m.lock(), 2);
    /// ```
    #[track_caller]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        let guard = match self.inner.try_lock() {
            Some(g) => g,
            None => self.lock_slow(Location::caller()),
        };
        self.owner.store(threads::key(), Ordering::Relaxed);
        MutexGuard { mutex: self, guard }
    }

    #[cold]
    fn lock_slow(&self, location: &'static Location<'static>) -> parking_lot::MutexGuard<'_, T> {
        threads::key(); // the diagnostics know a waiting thread by its key's record
        let marker = 0u8;
        let key = &marker as *const u8 as usize;
        let me = std::thread::current();
        registry::lock_wait_begin(registry::LockWait {
            key,
            party: crate::debug::Party::Thread {
                id: me.id(),
                name: me.name().map(String::from),
            },
            location,
            since: Instant::now(),
            mutex: self as *const Mutex<T> as *const () as usize,
            owner: &self.owner,
        });
        let guard = self.inner.lock();
        registry::lock_wait_end(key);
        guard
    }

    /// Locks if the lock is free right now (Go's `TryLock`).
    ///
    /// ```
    /// let m = gochan::sync::Mutex::new(());
    /// let g = m.lock();
    /// assert!(m.try_lock().is_none());
    /// drop(g);
    /// assert!(m.try_lock().is_some());
    /// ```
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        let guard = self.inner.try_lock()?;
        self.owner.store(threads::key(), Ordering::Relaxed);
        Some(MutexGuard { mutex: self, guard })
    }

    /// Whether some thread holds the lock right now (a snapshot).
    ///
    /// ```
    /// let m = gochan::sync::Mutex::new(());
    /// let g = m.lock();
    /// assert!(m.is_locked());
    /// drop(g);
    /// assert!(!m.is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }

    /// The value, through exclusive access (no locking needed).
    ///
    /// ```
    /// let mut m = gochan::sync::Mutex::new(1);
    /// *m.get_mut() = 2;
    /// assert_eq!(*m.lock(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        // Before `guard` unlocks (fields drop after this body).
        self.mutex.owner.store(0, Ordering::Relaxed);
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Mutex<T> {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner.try_lock() {
            Some(g) => f.debug_struct("Mutex").field("data", &&*g).finish(),
            None => f.debug_struct("Mutex").field("data", &"<locked>").finish(),
        }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
