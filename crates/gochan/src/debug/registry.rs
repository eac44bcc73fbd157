//! The registry behind [`blocked`](super::blocked): every channel that has ever had a
//! waiting party, so a dump can walk their wait queues.
//!
//! A channel registers itself the first time a party waits in it (`Chan::watch`, after the
//! waiter is queued and the channel lock released), never on a fast path, and leaves in its
//! `Drop`. A dump holds the registry lock while it walks: a channel being dropped waits in
//! its `Drop` for that lock, so every registered channel stays alive for the walk. Lock
//! order: registry, then a channel; nobody takes the registry lock while holding a channel
//! lock (registration happens after unlocking).

use std::cell::Cell;
use std::panic::Location;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::{BlockedOp, Party};
use crate::prim::{AtomicU64, Ordering};

/// What a channel reports about one waiting party.
pub(crate) struct Waiting {
    /// Identifies the wait: the node's or select waiter's address.
    pub(crate) key: usize,
    pub(crate) party: Party,
    pub(crate) op: BlockedOp,
    pub(crate) location: &'static Location<'static>,
    pub(crate) since: Instant,
}

/// Lists a registered channel's waiting parties into the walk, with the channel's
/// identity.
pub(crate) type ListFn = unsafe fn(*const (), &mut Walk);

/// What a walk over the registered channels collects.
#[derive(Default)]
pub(crate) struct Walk {
    /// Every waiting party, once per channel it waits on.
    pub(crate) waits: Vec<(Waiting, ChannelId)>,
    /// Who can end a wait on each channel that has waiting parties (when asked for).
    #[cfg(feature = "debug-handles")]
    pub(crate) wakers: Vec<(usize, crate::debug::handles::Wakers)>,
    #[cfg(feature = "debug-handles")]
    pub(crate) want_wakers: bool,
}

/// A channel as the dump shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ChannelId {
    pub(crate) addr: usize,
    pub(crate) capacity: Option<usize>,
    pub(crate) len: usize,
}

struct Slots {
    slots: Vec<Option<(usize, ListFn)>>,
    free: Vec<usize>,
}

static REGISTRY: Mutex<Slots> = Mutex::new(Slots {
    slots: Vec::new(),
    free: Vec::new(),
});

/// Registers the channel at `addr`; returns its slot (for [`unregister`]).
///
/// The channel must call [`unregister`] in its `Drop`, before its memory goes.
pub(crate) fn register(addr: usize, list: ListFn) -> usize {
    let mut r = REGISTRY.lock();
    match r.free.pop() {
        Some(i) => {
            r.slots[i] = Some((addr, list));
            i
        }
        None => {
            r.slots.push(Some((addr, list)));
            r.slots.len() - 1
        }
    }
}

/// Removes a channel's registration (its `Drop`). Waits for a dump in progress.
pub(crate) fn unregister(slot: usize) {
    let mut r = REGISTRY.lock();
    r.slots[slot] = None;
    r.free.push(slot);
}

/// Every waiting party of every registered channel.
pub(crate) fn walk() -> Vec<(Waiting, ChannelId)> {
    let mut w = Walk::default();
    walk_into(&mut w);
    w.waits
}

/// Fills `w` from every registered channel.
pub(crate) fn walk_into(w: &mut Walk) {
    let r = REGISTRY.lock();
    for &(addr, list) in r.slots.iter().flatten() {
        // SAFETY: a registered channel is alive until it unregisters, which needs the lock
        // we hold (module docs); `list` is the function it registered for its own type.
        unsafe { list(addr as *const (), w) };
    }
}

/// A thread waiting in [`crate::sync::Mutex::lock`].
pub(crate) struct LockWait {
    /// Identifies the wait (a stack address of the waiting call).
    pub(crate) key: usize,
    pub(crate) party: Party,
    pub(crate) location: &'static Location<'static>,
    pub(crate) since: Instant,
    /// The mutex's address.
    pub(crate) mutex: usize,
    /// The mutex's owner cell: valid while the wait is registered (the waiting call
    /// borrows the mutex until it has unregistered).
    pub(crate) owner: *const std::sync::atomic::AtomicU64,
}

// SAFETY: `owner` is only read under `LOCKS`'s lock while its mutex is alive (see the
// field); the rest is plain data.
unsafe impl Send for LockWait {}

static LOCKS: Mutex<Vec<LockWait>> = Mutex::new(Vec::new());

/// Lists a thread waiting for a mutex until [`lock_wait_end`] with the same key.
pub(crate) fn lock_wait_begin(w: LockWait) {
    LOCKS.lock().push(w);
}

/// Removes the wait registered with `key`.
pub(crate) fn lock_wait_end(key: usize) {
    let mut l = LOCKS.lock();
    if let Some(i) = l.iter().position(|w| w.key == key) {
        l.swap_remove(i);
    }
}

/// A snapshot of one mutex wait: (key, party, location, since, mutex, owner key).
pub(crate) type LockSnapshot = (
    usize,
    Party,
    &'static Location<'static>,
    Instant,
    usize,
    u64,
);

/// Every thread waiting for a mutex, with the owner (thread key, 0 = unlocked) read now.
pub(crate) fn lock_waits() -> Vec<LockSnapshot> {
    let l = LOCKS.lock();
    l.iter()
        .map(|w| {
            // SAFETY: the wait is registered, so its mutex is alive (field docs).
            let owner = unsafe { &*w.owner }.load(std::sync::atomic::Ordering::Relaxed);
            (w.key, w.party.clone(), w.location, w.since, w.mutex, owner)
        })
        .collect()
}

/// The process's time base for "since" stamps (nanoseconds after it; 0 = not yet seen).
fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

/// Stamps `since` with now unless it is set (a waiting thread stamps itself before it
/// parks; a dump stamps async waits the first time it sees them, as Go's runtime sets a
/// goroutine's wait time lazily). Returns the stamp.
pub(crate) fn stamp(since: &AtomicU64) -> Instant {
    let now = base().elapsed().as_nanos() as u64 + 1;
    let t = match since.compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => now,
        Err(t) => t,
    };
    base() + Duration::from_nanos(t - 1)
}

thread_local! {
    /// The operation a blocking call made of channel operations is doing (a
    /// `WaitGroup::wait` waits on a channel): its waits are listed under it.
    static CURRENT: Cell<Option<(BlockedOp, &'static Location<'static>)>> =
        const { Cell::new(None) };
}

/// Lists the calling thread's waits until the guard drops as `op` at `location`, unless
/// an outer call set a scope already (`ErrGroup::wait` waits in a `WaitGroup::wait`: the
/// outermost call is the one the user made).
pub(crate) fn scope(op: BlockedOp, location: &'static Location<'static>) -> Scope {
    Scope(CURRENT.with(|c| {
        let prev = c.get();
        if prev.is_none() {
            c.set(Some((op, location)));
        }
        prev
    }))
}

/// The operation a thread's wait is part of, if a [`scope`] is active.
pub(crate) fn current() -> Option<(BlockedOp, &'static Location<'static>)> {
    CURRENT.with(|c| c.get())
}

/// Restores the previous operation on drop.
pub(crate) struct Scope(Option<(BlockedOp, &'static Location<'static>)>);

impl Drop for Scope {
    fn drop(&mut self) {
        let prev = self.0.take();
        CURRENT.with(|c| c.set(prev));
    }
}
