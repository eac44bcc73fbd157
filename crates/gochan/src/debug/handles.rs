//! Who may hold a handle (feature `debug-handles`): the bookkeeping behind
//! [`never_wakes`](super::never_wakes).
//!
//! Rust cannot say which thread owns a value (a move is a copy of bytes that nobody
//! sees), so gochan keeps the next best thing per channel, per context and per
//! `WaitGroup`: [`Holders`], the set of threads that have *touched* it (created it,
//! cloned, dropped or downgraded a handle, or used one: every channel operation locks
//! the channel and records the caller), plus when it was created. A handle moved into a
//! thread that has not used it yet is invisible here; the analysis covers that case with
//! the threads' start times (see `never_wakes.rs`).
//!
//! Cost: one thread-local read and one relaxed load per operation when the same thread
//! touches the object again; a short lock when another thread does. Only with the
//! feature.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use parking_lot::Mutex;

use super::threads;

/// Who can end a wait, as far as the bookkeeping knows.
#[derive(Clone, Debug, Default)]
pub(crate) struct Wakers {
    /// Threads that touched a handle that can end the wait.
    pub(crate) threads: Vec<u64>,
    /// The earliest creation among the objects whose handles can end the wait: a thread
    /// started after it may hold one of those handles without having touched it.
    pub(crate) since: Option<Instant>,
    /// The earliest creation epoch among those objects (`threads::new_epoch`): a thread
    /// that operated on any channel since may have received one of their handles in a
    /// message from a holder that did the same.
    pub(crate) epoch: Option<u64>,
    /// Something the bookkeeping does not follow can end the wait (a timer, a deadline,
    /// a tokio token, a semaphore): the wait may end.
    pub(crate) unknown: bool,
}

impl Wakers {
    /// A wait that something untracked may end.
    pub(crate) fn unknown() -> Wakers {
        Wakers {
            unknown: true,
            ..Wakers::default()
        }
    }

    /// Adds `h`'s holders.
    pub(crate) fn add(&mut self, h: &Holders) {
        self.threads.push(h.creator);
        self.threads.extend(h.more.lock().iter().copied());
        self.since = Some(self.since.map_or(h.created, |s| s.min(h.created)));
        self.epoch = Some(self.epoch.map_or(h.epoch, |e| e.min(h.epoch)));
    }
}

/// Computes who can end a wait on an internal channel (a context's done channel, a
/// `WaitGroup`'s zero signal) from the object that closes it.
pub(crate) type WakeFn = Box<dyn Fn() -> Wakers + Send + Sync>;

/// The threads that touched one object.
///
/// Invariant: `creator` and `more` hold every thread that touched the object since it
/// was created (minus threads that have exited, pruned when `more` grows); `last` is
/// one of them, so a thread whose key equals `last` needs no lock. `more` allocates only
/// once a second thread touches the object.
pub(crate) struct Holders {
    created: Instant,
    epoch: u64,
    creator: u64,
    last: AtomicU64,
    more: Mutex<Vec<u64>>,
    /// For an internal channel: who can close it. Unset on an internal channel = unknown
    /// (a timer's channel); unused on an ordinary channel (its own holders are used).
    wakers: OnceLock<WakeFn>,
    internal: bool,
}

/// Prune exited threads from a set this large before growing it.
const PRUNE_AT: usize = 64;

impl Holders {
    /// Holders of an object the calling thread is creating.
    pub(crate) fn new() -> Holders {
        let k = threads::key();
        Holders {
            created: Instant::now(),
            epoch: threads::new_epoch(),
            creator: k,
            last: AtomicU64::new(k),
            more: Mutex::new(Vec::new()),
            wakers: OnceLock::new(),
            internal: false,
        }
    }

    /// Makes these the holders of an internal channel: who can end a wait on it comes
    /// from [`Holders::set_wakers`], or is unknown.
    pub(crate) fn set_internal(&mut self) {
        self.internal = true;
    }

    /// Records the calling thread as a holder.
    #[inline]
    pub(crate) fn touch(&self) {
        let k = threads::note_op();
        if self.last.load(Ordering::Relaxed) != k {
            self.touch_slow(k);
        }
    }

    #[cold]
    fn touch_slow(&self, k: u64) {
        let mut more = self.more.lock();
        if k != self.creator && !more.contains(&k) {
            if more.len() >= PRUNE_AT {
                more.retain(|&t| threads::record(t).is_some());
            }
            more.push(k);
        }
        self.last.store(k, Ordering::Relaxed);
    }

    /// Says who can end a wait on this internal channel (first call wins).
    pub(crate) fn set_wakers(&self, f: WakeFn) {
        let _ = self.wakers.set(f);
    }

    /// Whether [`Holders::set_wakers`] was called.
    pub(crate) fn has_wakers(&self) -> bool {
        self.wakers.get().is_some()
    }

    /// Who can end a wait on the object.
    pub(crate) fn wakers(&self) -> Wakers {
        if !self.internal {
            let mut w = Wakers::default();
            w.add(self);
            return w;
        }
        match self.wakers.get() {
            Some(f) => f(),
            None => Wakers::unknown(),
        }
    }
}

#[cfg(all(test, target_os = "linux", target_pointer_width = "64"))]
mod tests {
    /// `tests/context_memory.rs` adds exactly this much per node and per channel.
    #[test]
    fn holders_size_is_what_the_memory_test_allows() {
        assert_eq!(std::mem::size_of::<super::Holders>(), 104);
    }
}
