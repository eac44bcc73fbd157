//! Select waiters: the decision point of a select, shared by its arms.
//!
//! A plain send or receive waits in a wait node (`node.rs`), decided by being popped under
//! the channel lock. A select has arms in several channels at once, so its fate is decided
//! by a single compare-and-swap on its [`Waiter`]'s `state`:
//!
//! ```text
//!   WAITING ──CAS by a completer──▶ SELECTED(arm, closed?)
//!      │
//!      └────CAS by the owner──────▶ ABORTED   (timeout, future dropped, select retry)
//! ```
//!
//! Exactly one of those two transitions succeeds, and the state never changes again.
//! That is what makes a select perform exactly one operation: every arm's entry points
//! at the same waiter, and only the party whose CAS wins may move a value.
//!
//! Each arm embeds a [`SelectNode`]: a pointer to the waiter plus a value slot. A waiting
//! receiver's slot is where a completer drops the value it hands over; a waiting sender's
//! slot holds the value it offers (taken eagerly, as Go does). The slot protocol:
//! - recv entry: the completer puts the value in the slot, *then* CASes the waiter. On a
//!   failed CAS it takes the value back. The owner reads the slot only after seeing
//!   `SELECTED(its arm)`, so it always finds the value there.
//! - send entry: the completer CASes first and only then takes the value. On
//!   `SELECTED(arm, closed)` (or `ABORTED`) the value stays for the owner to take back.
//!
//! # Lifetime of nodes and waiters (no allocation per wait)
//! The waiter lives in the select's owner (the blocked thread's frame in `engine::run`, the
//! pinned `SelectFuture`) and each node in its arm, which the owner keeps in place while
//! registered. Queues hold raw pointers to nodes ([`SelectPtr`]). Soundness rests on one
//! rule: **a completer touches a node, and through it the waiter, only while holding the
//! lock of the channel the node is queued in** (including the winner's moves after its
//! CAS, and taking the owner's waker or parker, which it then wakes after unlocking
//! without touching the waiter again); and **the owner, once the waiter is decided, locks
//! every channel it registered in (the winner's too) before a node or the waiter may go
//! away** (`Arm::unregister`). A select torn down early (a dropped future, a panic) first
//! aborts or reads the decision, then does the same.
//!
//! Signals: a parked thread or a task's `Waker`, chosen at construction; the same channel
//! queues hold both kinds (and wait nodes), so threads and tasks talk to each other freely.

use std::panic::Location;
use std::ptr::NonNull;
use std::task::Waker;
use std::time::Instant;

use super::node::NodePtr;
use crate::debug::registry::{self, Waiting};
use crate::debug::{BlockedOp, Party};
use crate::prim::blocking;
use crate::prim::{
    spin_wait, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Mutex, Ordering, Parker,
};

/// The waiter has not been decided yet.
pub(crate) const WAITING: usize = 0;
/// The owner gave up (timeout, drop, or select retry).
pub(crate) const ABORTED: usize = 1;

/// The decided outcome of a waiter, as read from its state word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Nobody decided yet.
    Waiting,
    /// The owner aborted.
    Aborted,
    /// A completer chose arm `arm`; `closed` means the channel was closed (a receive got
    /// no value, a send's value is still in its slot).
    Selected {
        /// The arm index chosen.
        arm: usize,
        /// Whether the operation completed by the channel closing.
        closed: bool,
    },
}

fn encode(arm: usize, closed: bool) -> usize {
    2 + arm * 2 + closed as usize
}

fn decode(state: usize) -> Outcome {
    match state {
        WAITING => Outcome::Waiting,
        ABORTED => Outcome::Aborted,
        s => Outcome::Selected {
            arm: (s - 2) / 2,
            closed: (s - 2) % 2 == 1,
        },
    }
}

/// How a waiter is woken.
enum Signal {
    /// A blocked OS thread: `unpark` it.
    Thread(Parker),
    /// An async task: wake its latest `Waker` (replaced on every poll).
    Task(Mutex<Option<Waker>>),
}

/// One select's decision point. Invariant: `state` moves at most once away from
/// `WAITING`, and only by [`Waiter::try_select`] or [`Waiter::try_abort`].
pub(crate) struct Waiter {
    state: AtomicUsize,
    signal: Signal,
    /// Where the select was called, and what it is part of (for `debug`).
    location: &'static Location<'static>,
    op: BlockedOp,
    /// When the wait was first seen (`debug::registry::stamp`; 0 = not yet).
    since: AtomicU64,
}

impl std::fmt::Debug for Waiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waiter")
            .field("outcome", &self.outcome())
            .finish()
    }
}

impl Waiter {
    /// A waiter that parks the current thread, for a select called at `location` (or the
    /// blocking call it is part of: `debug::registry::scope`).
    pub(crate) fn for_thread(location: &'static Location<'static>) -> Waiter {
        let (op, location) = registry::current().unwrap_or((BlockedOp::Select, location));
        Waiter {
            state: AtomicUsize::new(WAITING),
            signal: Signal::Thread(Parker::current()),
            location,
            op,
            since: AtomicU64::new(0),
        }
    }

    /// A waiter that wakes a task; the waker is installed by [`Waiter::set_waker`].
    pub(crate) fn for_task(waker: &Waker, location: &'static Location<'static>) -> Waiter {
        Waiter {
            state: AtomicUsize::new(WAITING),
            signal: Signal::Task(Mutex::new(Some(waker.clone()))),
            location,
            op: BlockedOp::Select,
            since: AtomicU64::new(0),
        }
    }

    /// What `debug::blocked` shows of this select (under a lock of one of its channels).
    fn describe(&self) -> Waiting {
        Waiting {
            key: self as *const Waiter as usize,
            party: match &self.signal {
                Signal::Thread(p) => p.party(),
                Signal::Task(_) => Party::Task,
            },
            op: self.op,
            location: self.location,
            since: registry::stamp(&self.since),
        }
    }

    /// Whether this waiter belongs to an async task (whose future may be dropped while
    /// holding a handed-over value).
    pub(crate) fn is_task(&self) -> bool {
        matches!(self.signal, Signal::Task(_))
    }

    /// The current outcome (acquire: a `Selected` outcome makes the slot contents visible).
    pub(crate) fn outcome(&self) -> Outcome {
        decode(self.state.load(Ordering::Acquire))
    }

    /// Tries to decide this waiter for `arm`. Only a completer holding the lock of the
    /// channel the entry sits in may call this. Returns `false` if already decided.
    pub(crate) fn try_select(&self, arm: usize, closed: bool) -> bool {
        self.state
            .compare_exchange(
                WAITING,
                encode(arm, closed),
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }

    /// The owner gives up. `Err(outcome)` if a completer decided first.
    pub(crate) fn try_abort(&self) -> Result<(), Outcome> {
        self.state
            .compare_exchange(WAITING, ABORTED, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(decode)
    }

    /// The owner's signal, taken by the completer that decided this waiter (under the lock
    /// of the channel its entry was in), to wake it after unlocking.
    fn take_wake(&self) -> Wake {
        match &self.signal {
            Signal::Thread(t) => Wake::Thread(t.clone()),
            // `None` only after the deadline's alarm woke it, which decided it first.
            Signal::Task(w) => Wake::Task(w.lock().take().unwrap_or_else(|| Waker::noop().clone())),
        }
    }

    /// Wakes the owner (a deadline's alarm, under the alarm's lock).
    pub(crate) fn wake(&self) {
        match &self.signal {
            Signal::Thread(t) => t.unpark(),
            Signal::Task(w) => {
                let waker = w.lock().take();
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
        }
    }

    /// Installs the waker of the task polling now. The caller must read
    /// [`Waiter::outcome`] *after* this call before returning `Pending`.
    pub(crate) fn set_waker(&self, waker: &Waker) {
        if let Signal::Task(w) = &self.signal {
            let mut slot = w.lock();
            match &*slot {
                Some(old) if old.will_wake(waker) => {}
                _ => *slot = Some(waker.clone()),
            }
        }
    }

    /// Blocks the current (owning) thread until the waiter is decided or `deadline`
    /// passes, in which case it aborts. Spins briefly first: when the partner is running
    /// on another core a hand-off usually lands within a microsecond, far cheaper than a
    /// park/unpark round trip. The spin is bounded, so nobody burns a core for a partner
    /// that is not coming.
    ///
    /// # Panics
    /// Before parking, if the thread drives a tokio runtime ([`blocking::check`]): `op`
    /// names the call in the message.
    #[track_caller]
    pub(crate) fn wait(&self, deadline: Option<Instant>, op: blocking::Op) -> Outcome {
        if spin_wait(|| self.outcome() != Outcome::Waiting) {
            return self.outcome();
        }
        blocking::check(op);
        registry::stamp(&self.since);
        let durable = crate::prim::select_durable();
        loop {
            let o = self.outcome();
            if o != Outcome::Waiting {
                return o;
            }
            if crate::prim::park_until(deadline, durable) {
                return match self.try_abort() {
                    Ok(()) => Outcome::Aborted,
                    Err(o) => o,
                };
            }
        }
    }
}

/// One arm's place in a select: the waiter while registered and the arm's value slot.
/// Embedded in the arm (see "Lifetime of nodes and waiters").
pub(crate) struct SelectNode<T> {
    /// The select's waiter, set by the owner before the entry is queued (under the lock).
    waiter: AtomicPtr<Waiter>,
    slot: Mutex<Option<T>>,
    /// The channel's epoch when a value was delivered into `slot` (see `Chan::epoch`).
    epoch: AtomicU32,
}

impl<T> Default for SelectNode<T> {
    fn default() -> Self {
        SelectNode {
            waiter: AtomicPtr::new(std::ptr::null_mut()),
            slot: Mutex::new(None),
            epoch: AtomicU32::new(0),
        }
    }
}

impl<T> std::fmt::Debug for SelectNode<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SelectNode").finish_non_exhaustive()
    }
}

impl<T> SelectNode<T> {
    /// Prepares the node to be queued for the select of `waiter`, holding `value` (a
    /// send) or nothing (a receive). The owner calls it under the channel lock, just
    /// before queuing the entry [`SelectNode::entry`] makes.
    pub(crate) fn arm(&self, waiter: &Waiter, value: Option<T>) {
        self.waiter
            .store(waiter as *const Waiter as *mut Waiter, Ordering::Relaxed);
        *self.slot.lock() = value;
    }

    /// The queue entry for this node as arm `arm` of its select.
    pub(crate) fn entry(&self, arm: usize) -> Entry<T> {
        Entry::Select {
            node: SelectPtr(NonNull::from(self)),
            arm,
        }
    }

    /// Aborts the select this node was registered with (a select torn down without its
    /// owner, see `RecvArm`'s `Drop`). Only while registered.
    pub(crate) fn abort(&self) -> Result<(), Outcome> {
        let w = self.waiter.load(Ordering::Relaxed);
        // SAFETY: the node is registered, so its waiter is still in place (module rules:
        // the owner unregisters every arm before its waiter goes, or leaks both).
        unsafe { (*w).try_abort() }
    }

    /// The channel epoch recorded at delivery.
    pub(crate) fn epoch(&self) -> u32 {
        self.epoch.load(Ordering::Relaxed)
    }

    /// Takes the slot's value (the received value, or a send's value given back). The
    /// owner calls it only after locking the node's channel since the decision.
    pub(crate) fn take(&self) -> Option<T> {
        self.slot.lock().take()
    }
}

/// A queued select node, as its channel's queue holds it: valid while queued, and, for
/// the completer that pops it, until that completer unlocks the channel (module rules).
pub(crate) struct SelectPtr<T>(NonNull<SelectNode<T>>);

// SAFETY: used only under the lock of the channel it is queued in (module rules); the
// value it moves goes between threads with it.
unsafe impl<T: Send> Send for SelectPtr<T> {}

impl<T> SelectPtr<T> {
    fn node(&self) -> &SelectNode<T> {
        // SAFETY: the owner keeps the node in place until it has locked this channel after
        // the decision, and we hold this channel's lock (module rules).
        unsafe { self.0.as_ref() }
    }

    fn waiter(&self) -> &Waiter {
        // SAFETY: as for the node: the waiter outlives the owner's last lock of every
        // channel it registered in; set before the entry was queued.
        unsafe { &*self.node().waiter.load(Ordering::Relaxed) }
    }
}

/// The deadline of a waiting async select: its timer aborts the select's waiter and wakes
/// the task, through a pointer the owner clears ([`Alarm::detach`]) before the waiter
/// goes. (The waiter lives in the select's future, which the timer cannot keep alive.)
pub(crate) struct Alarm {
    waiter: Mutex<WaiterPtr>,
}

struct WaiterPtr(*const Waiter);

// SAFETY: the pointer is followed only under the alarm's lock while the owner has not
// detached it, and `Waiter` is `Sync`.
unsafe impl Send for WaiterPtr {}

impl std::fmt::Debug for Alarm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alarm").finish_non_exhaustive()
    }
}

impl Alarm {
    /// An alarm for `waiter`, which must stay in place until [`Alarm::detach`].
    pub(crate) fn new(waiter: &Waiter) -> Alarm {
        Alarm {
            waiter: Mutex::new(WaiterPtr(waiter)),
        }
    }

    /// The deadline passed: abort the waiter if nobody decided it, and wake its owner.
    pub(crate) fn ring(&self) {
        let w = self.waiter.lock();
        if !w.0.is_null() {
            // SAFETY: not detached, and the owner detaches (taking this lock) before the
            // waiter goes.
            let waiter = unsafe { &*w.0 };
            if waiter.try_abort().is_ok() {
                waiter.wake();
            }
        }
    }

    /// The owner is done with the waiter: the alarm never touches it afterwards.
    pub(crate) fn detach(&self) {
        self.waiter.lock().0 = std::ptr::null();
    }
}

/// An entry in a channel's queue of waiting senders or receivers.
pub(crate) enum Entry<T> {
    /// A plain send or receive (a thread or a task): decided by being popped under the
    /// channel lock (`node.rs`).
    Node(NodePtr<T>),
    /// One arm of a select: decided by a CAS on the select's shared waiter, so that one
    /// select completes exactly one arm. May be stale (decided through another arm).
    Select {
        /// The arm's node.
        node: SelectPtr<T>,
        /// The arm's index in its select.
        arm: usize,
    },
}

impl<T> Entry<T> {
    /// Whether this entry belongs to the select `waiter` (a select must not pair with
    /// itself).
    pub(crate) fn is_of(&self, waiter: *const Waiter) -> bool {
        match self {
            Entry::Node(_) => false,
            Entry::Select { node, .. } => std::ptr::eq(node.waiter(), waiter),
        }
    }

    /// Whether this entry is the select node at `addr`.
    pub(crate) fn is_select_node(&self, addr: *const ()) -> bool {
        matches!(self, Entry::Select { node, .. } if node.0.as_ptr() as *const () == addr)
    }

    /// Whether this entry is the wait node at `addr`.
    pub(crate) fn is_node(&self, addr: *const ()) -> bool {
        matches!(self, Entry::Node(n) if n.addr() == addr)
    }

    /// Whether a value handed to this receiver may come back (its owner is a task whose
    /// future can be dropped before it returns the value).
    pub(crate) fn is_task(&self) -> bool {
        match self {
            Entry::Node(n) => n.is_task(),
            Entry::Select { node, .. } => node.waiter().is_task(),
        }
    }

    /// Hands `value` to this popped receiver, recording the channel's `epoch`.
    /// `Err(value)` if the entry is stale (its select was decided elsewhere).
    pub(crate) fn deliver(self, value: T, epoch: u32) -> Result<Wake, T> {
        match self {
            Entry::Node(n) => Ok(n.deliver(value, epoch)),
            Entry::Select { node, arm } => {
                let n = node.node();
                let mut slot = n.slot.lock();
                *slot = Some(value);
                n.epoch.store(epoch, Ordering::Relaxed);
                if node.waiter().try_select(arm, false) {
                    drop(slot);
                    Ok(node.waiter().take_wake())
                } else {
                    Err(slot.take().expect("slot holds the value just put"))
                }
            }
        }
    }

    /// Takes the value offered by this popped sender. `None` if the entry is stale.
    pub(crate) fn claim(self) -> Option<(T, Wake)> {
        match self {
            Entry::Node(n) => Some(n.claim()),
            Entry::Select { node, arm } => {
                if !node.waiter().try_select(arm, false) {
                    return None;
                }
                let v = node
                    .node()
                    .take()
                    .expect("a waiting sender's slot holds its value");
                Some((v, node.waiter().take_wake()))
            }
        }
    }

    /// Completes this popped entry with "closed". `None` if the entry is stale.
    pub(crate) fn close(self) -> Option<Wake> {
        match self {
            Entry::Node(n) => Some(n.close()),
            Entry::Select { node, arm } => node
                .waiter()
                .try_select(arm, true)
                .then(|| node.waiter().take_wake()),
        }
    }

    /// What `debug::blocked` shows of this entry's party (`None` for a stale select
    /// entry); `default` is the operation of the queue it is in. Under the lock.
    pub(crate) fn describe(&self, default: BlockedOp) -> Option<Waiting> {
        match self {
            Entry::Node(n) => Some(n.describe(default)),
            Entry::Select { node, .. } => self.is_live().then(|| node.waiter().describe()),
        }
    }

    /// Whether the entry's waiter is still undecided (a queued node always is).
    pub(crate) fn is_live(&self) -> bool {
        match self {
            Entry::Node(_) => true,
            Entry::Select { node, .. } => node.waiter().outcome() == Outcome::Waiting,
        }
    }
}

/// A party to wake once the channel lock is released.
pub(crate) enum Wake {
    /// A blocked thread (a clone of its node's parker).
    Thread(Parker),
    /// A task (a clone of its node's waker).
    Task(Waker),
}

impl Wake {
    /// Wakes the party.
    pub(crate) fn wake(self) {
        match self {
            Wake::Thread(p) => p.unpark(),
            Wake::Task(w) => w.wake(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_moves_once() {
        let w = Waiter::for_thread(std::panic::Location::caller());
        assert!(w.try_select(3, false));
        assert!(!w.try_select(1, true));
        assert_eq!(
            w.try_abort(),
            Err(Outcome::Selected {
                arm: 3,
                closed: false
            })
        );
        let w = Waiter::for_thread(std::panic::Location::caller());
        assert_eq!(w.try_abort(), Ok(()));
        assert!(!w.try_select(0, false));
        assert_eq!(w.outcome(), Outcome::Aborted);
    }

    #[test]
    fn encode_roundtrip() {
        for arm in [0, 1, 7, 1000] {
            for closed in [false, true] {
                assert_eq!(
                    decode(encode(arm, closed)),
                    Outcome::Selected { arm, closed }
                );
            }
        }
    }

    #[test]
    fn wait_times_out_and_aborts() {
        let w = Waiter::for_thread(std::panic::Location::caller());
        let o = w.wait(
            Some(Instant::now() + std::time::Duration::from_millis(5)),
            blocking::Op::Recv,
        );
        assert_eq!(o, Outcome::Aborted);
    }
}
