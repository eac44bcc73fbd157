//! Wait nodes: the waiting party of a plain (non-select) send or receive, stored inside
//! the party itself (a blocked thread's stack frame, a pinned future, a stream's box), so
//! that waiting allocates nothing. A select's arms use `waiter::SelectNode` instead.
//!
//! # Protocol (Go's `sudog` for a goroutine that is not in a select)
//! `state` is `IDLE` until the owner queues the node, under the channel lock, as
//! `WAITING`. A queued node is decided by being popped: a completer holding the lock pops
//! the entry and, in the same critical section, moves the value (into a receive node's
//! slot, or out of a send node's slot), takes the node's signal (the waker or thread
//! handle: moved, not cloned) and stores the final state (`DONE` or `CLOSED`, Release).
//! It wakes the taken signal after unlocking and never
//! touches the node again. No CAS: nobody else can decide a node that is no longer
//! queued, and the owner cannot give up on one that is (giving up takes the lock). So,
//! under the channel lock, `state == WAITING` exactly when the node is queued.
//!
//! The owner
//! - reads `state` without the lock (Acquire): a final state makes the slot its own;
//! - gives up ([`WaitNode::finish`], `Drop`) by taking the lock: a `WAITING` node is
//!   unlinked (nothing happened), otherwise the state is already final;
//! - replaces its waker only under the lock, and only when it changed; to tell without
//!   the lock, it compares the new waker with a copy of the installed one's identity
//!   (data and vtable pointers, what [`Waker::will_wake`] compares), kept in an
//!   owner-only field: the signal itself may be taken by a completer at any moment. The
//!   identity cannot be reused by another task while the node waits, since the signal
//!   holds that task's waker until it is taken, and after that the state is final.
//!
//! A value delivered into an async receiver's node may still come back (the future is
//! dropped before it returns the value); the channel counts such values (`Chan::handed`)
//! so that "closed and drained" stays final. The node reports the value's fate: taken
//! (`handoff_taken`, in [`WaitNode::finish`]) or given back (`give_back`, in `Drop`).
//!
//! # Pinning and aliasing
//! Queues hold raw pointers ([`NodePtr`]). A queued node must neither move nor be freed:
//! - the push methods take `Pin<&mut Self>`: the node stays put until it is dropped;
//! - `Drop` unlinks a node that is still queued, under the lock, before its memory goes;
//! - the node holds its channel (a borrow, or an `Arc` for owning streams) for its whole
//!   life, so the channel outlives every node queued in it.
//!
//! Completers reach a node through `&WaitNode` while its owner may hold `Pin<&mut>` to
//! it: every field they touch is an atomic or a cell, and the node is `!Unpin`
//! (`PhantomPinned`), as tokio's intrusive waiters are, so the owner's `&mut` asserts no
//! uniqueness. The owner's own methods only read through `&self` after the pin.

use std::cell::Cell;
use std::marker::PhantomPinned;
use std::mem::MaybeUninit;
use std::ops::Deref;
use std::panic::Location;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::Waker;
use std::time::Instant;

use super::core::{Chan, Inner};
use super::waiter::{Entry, Wake};
use crate::debug::registry::{self, Waiting};
use crate::debug::{BlockedOp, Party};
use crate::prim::blocking;
use crate::prim::{spin_wait, AtomicU64, AtomicU8, Ordering, Parker, UnsafeCell};

/// Not queued; the slot is the owner's.
const IDLE: u8 = 0;
/// Queued in the channel (see the module protocol).
const WAITING: u8 = 1;
/// A completer performed the operation.
const DONE: u8 = 2;
/// A completer finished the node because the channel closed (or lost its receivers).
const CLOSED: u8 = 3;

/// How a wait ended, with the value that is the owner's.
#[derive(Debug)]
pub(crate) enum Finished<T> {
    /// The operation happened: a receive's value (`None` for a send).
    Done(Option<T>),
    /// The channel closed: a send's value back (`None` for a receive).
    Closed(Option<T>),
    /// The owner gave up before anyone decided the node: a send's value back.
    Cancelled(Option<T>),
}

/// Which queue a node waits in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Recv,
    Send,
}

/// How a node's owner is woken.
pub(crate) enum Signal {
    /// A blocked OS thread.
    Thread(Parker),
    /// An async task's latest waker.
    Task(Waker),
}

impl Signal {
    /// A signal that unparks the calling thread.
    pub(crate) fn thread() -> Signal {
        Signal::Thread(Parker::current())
    }
}

/// What [`Waker::will_wake`] compares: the data and vtable pointers.
fn waker_id(w: &Waker) -> (usize, usize) {
    (w.data() as usize, w.vtable() as *const _ as usize)
}

/// One plain wait (see the module docs): the channel `C` (a `&Chan` or an `Arc<Chan>`,
/// which outlives the node either way) and the [`NodeCore`] its queue points at.
pub(crate) struct WaitNode<C: Deref<Target = Chan<T>>, T> {
    chan: C,
    core: NodeCore<T>,
}

/// A wait node of its own allocation, reused for every item of a stream or sink.
pub(crate) type NodeBox<C, T> = Pin<Box<WaitNode<C, T>>>;

/// The part of a wait node that completers reach. Invariants: `state` leaves `IDLE` only
/// by the owner's push and leaves `WAITING` only under the channel lock; `slot` and
/// `epoch` belong to completers (under the lock) while `WAITING` and to the owner
/// otherwise; `signal` is written only by the owner, while `IDLE` or under the lock.
pub(crate) struct NodeCore<T> {
    state: AtomicU8,
    /// The queue the node is pushed to (the owner's alone).
    kind: Cell<Kind>,
    /// Whether the owner is a task (the owner's alone).
    task: Cell<bool>,
    /// The identity of the waker in `signal` (the owner's alone; see the module docs).
    waker_id: Cell<(usize, usize)>,
    /// Where the operation was called, and what it is part of (`debug`): written by the
    /// owner while idle, read by dumps under the lock.
    location: Cell<&'static Location<'static>>,
    op: Cell<Option<BlockedOp>>,
    /// When the wait was first seen (`debug::registry::stamp`; 0 = not yet), reset by
    /// each push.
    since: AtomicU64,
    signal: UnsafeCell<Option<Signal>>,
    /// A send's offer while `WAITING`; a received value once `DONE`.
    slot: UnsafeCell<Option<T>>,
    /// The channel's epoch when a value was delivered (see `Chan::epoch`).
    epoch: UnsafeCell<u32>,
    _pin: PhantomPinned,
}

// SAFETY: a shared `&NodeCore` gives its owner's side access only to the state (an atomic
// load); every other owner method takes `Pin<&mut WaitNode>`, and completers follow the
// module protocol (the lock, and the final state's release/acquire), so sharing one
// between threads is sound whenever its values may move between them.
unsafe impl<T: Send> Sync for NodeCore<T> {}

impl<C: Deref<Target = Chan<T>>, T> std::fmt::Debug for WaitNode<C, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaitNode")
            .field("state", &self.core.state.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl<C: Deref<Target = Chan<T>>, T> Deref for WaitNode<C, T> {
    type Target = NodeCore<T>;

    fn deref(&self) -> &NodeCore<T> {
        &self.core
    }
}

impl<C: Deref<Target = Chan<T>>, T> WaitNode<C, T> {
    /// An idle node of `chan` for an operation called at `location`.
    pub(crate) fn new(chan: C, location: &'static Location<'static>) -> WaitNode<C, T> {
        WaitNode {
            chan,
            core: NodeCore {
                state: AtomicU8::new(IDLE),
                kind: Cell::new(Kind::Recv),
                task: Cell::new(false),
                waker_id: Cell::new((0, 0)),
                location: Cell::new(location),
                op: Cell::new(None),
                since: AtomicU64::new(0),
                signal: UnsafeCell::new(None),
                slot: UnsafeCell::new(None),
                epoch: UnsafeCell::new(0),
                _pin: PhantomPinned,
            },
        }
    }

    /// The node's channel.
    pub(crate) fn chan(&self) -> &Chan<T> {
        &self.chan
    }

    /// Whether the node is queued and undecided, as far as the owner can tell without the
    /// lock (a completer may decide it any moment).
    pub(crate) fn is_waiting(&self) -> bool {
        self.state.load(Ordering::Acquire) == WAITING
    }

    /// Whether the node is idle (not queued, nothing to collect).
    pub(crate) fn is_idle(&self) -> bool {
        self.state.load(Ordering::Acquire) == IDLE
    }

    /// Queues the node as a waiting receiver. `inner` is the locked state of `chan`, which
    /// must be the node's own channel; the node must be idle.
    ///
    /// # Panics
    /// If `chan` is not the node's channel (a bug in the caller).
    pub(crate) fn push_recv(
        self: Pin<&mut Self>,
        chan: &Chan<T>,
        inner: &mut Inner<T>,
        signal: Signal,
    ) {
        self.push(chan, inner, Kind::Recv, None, signal);
    }

    /// Queues the node as a waiting sender offering `value` (as [`WaitNode::push_recv`]).
    pub(crate) fn push_send(
        self: Pin<&mut Self>,
        chan: &Chan<T>,
        inner: &mut Inner<T>,
        value: T,
        signal: Signal,
    ) {
        self.push(chan, inner, Kind::Send, Some(value), signal);
    }

    fn push(
        self: Pin<&mut Self>,
        chan: &Chan<T>,
        inner: &mut Inner<T>,
        kind: Kind,
        value: Option<T>,
        s: Signal,
    ) {
        let this: &Self = &self;
        // The node unlinks itself through its own channel: it must be queued there.
        assert!(
            std::ptr::eq(chan, this.chan()),
            "a node queued in a foreign channel"
        );
        assert_eq!(
            this.state.load(Ordering::Relaxed),
            IDLE,
            "a node pushed twice"
        );
        this.kind.set(kind);
        match &s {
            Signal::Task(w) => {
                this.task.set(true);
                this.waker_id.set(waker_id(w));
            }
            Signal::Thread(_) => {
                this.task.set(false);
                // A thread's wait may be part of a bigger blocking call (`WaitGroup::wait`).
                if let Some((op, location)) = registry::current() {
                    this.op.set(Some(op));
                    this.location.set(location);
                }
            }
        }
        this.since.store(0, Ordering::Relaxed);
        // SAFETY: the node is idle, so no completer can reach it: the owner's alone.
        this.signal.with_mut(|p| unsafe { *p = Some(s) });
        // SAFETY: as above.
        this.slot.with_mut(|p| unsafe { *p = value });
        // Completers read the state under the lock we hold: Relaxed is enough.
        this.state.store(WAITING, Ordering::Relaxed);
        let ptr = NodePtr(NonNull::from(&this.core));
        match kind {
            Kind::Recv => this.chan.push_receiver(inner, Entry::Node(ptr)),
            Kind::Send => this.chan.push_sender(inner, Entry::Node(ptr)),
        }
    }

    /// A re-poll while waiting: installs `waker` if it would not wake the same task as the
    /// installed one (taking the lock only then). Returns whether the node still waits.
    pub(crate) fn refresh_waker(self: Pin<&mut Self>, waker: &Waker) -> bool {
        let this: &Self = &self;
        if this.state.load(Ordering::Acquire) != WAITING {
            return false;
        }
        if this.task.get() && this.waker_id.get() == waker_id(waker) {
            return true;
        }
        let inner = this.chan.lock();
        if this.state.load(Ordering::Relaxed) == WAITING {
            // SAFETY: queued, and we hold the lock under which completers take it.
            let old = this
                .signal
                .with_mut(|p| unsafe { (*p).replace(Signal::Task(waker.clone())) });
            this.task.set(true);
            this.waker_id.set(waker_id(waker));
            drop(inner);
            drop(old); // a waker's drop may run arbitrary code: not under the lock
            return true;
        }
        drop(inner);
        false
    }

    /// Blocks the calling (owning) thread until a completer decides the node, or until
    /// `deadline`, when it gives up; then collects the outcome ([`WaitNode::finish`]).
    /// Spins briefly first: a partner running on another core usually answers within a
    /// microsecond, far cheaper than a park/unpark round trip.
    ///
    /// # Panics
    /// Before parking, if the thread drives a tokio runtime ([`blocking::check`]); the
    /// node's `Drop` then unlinks it.
    #[track_caller]
    pub(crate) fn wait(
        self: Pin<&mut Self>,
        deadline: Option<Instant>,
        op: blocking::Op,
    ) -> Finished<T> {
        let this: &Self = &self;
        let decided = || this.state.load(Ordering::Acquire) != WAITING;
        if !spin_wait(decided) {
            blocking::check(op);
            registry::stamp(&this.since);
            let durable = this.chan.durable_wait();
            while !decided() {
                if crate::prim::park_until(deadline, durable) {
                    break; // `finish` unlinks the node unless it was just decided
                }
            }
        }
        self.finish()
    }

    /// Stops waiting and collects the outcome: a node still queued is unlinked
    /// (`Cancelled`); the node is idle again afterwards. A received value taken here is
    /// reported to the channel (`handoff_taken`).
    pub(crate) fn finish(self: Pin<&mut Self>) -> Finished<T> {
        // A value handed over while waiting is an operation of this thread too.
        #[cfg(feature = "debug-handles")]
        crate::debug::threads::note_op();
        let this: &Self = &self;
        let state = this.settle();
        // SAFETY: the state is idle or final: the slot is the owner's.
        let value = this.slot.with_mut(|p| unsafe { (*p).take() });
        this.state.store(IDLE, Ordering::Relaxed);
        match state {
            DONE => {
                if value.is_some() && this.kind.get() == Kind::Recv && this.task.get() {
                    this.chan.handoff_taken();
                }
                Finished::Done(value)
            }
            CLOSED => Finished::Closed(value),
            _ => Finished::Cancelled(value),
        }
    }

    /// Makes the state final or idle: a queued node is unlinked under the lock. Returns
    /// the state (`IDLE` if it was unlinked).
    fn settle(&self) -> u8 {
        let state = self.state.load(Ordering::Acquire);
        if state != WAITING {
            return state;
        }
        let mut inner = self.chan.lock();
        // Under the lock, WAITING means queued (module protocol).
        if self.state.load(Ordering::Relaxed) == WAITING {
            let addr = &self.core as *const NodeCore<T> as *const ();
            self.chan
                .unlink_node(&mut inner, addr, self.kind.get() == Kind::Recv);
            self.state.store(IDLE, Ordering::Relaxed);
            return IDLE;
        }
        drop(inner);
        self.state.load(Ordering::Acquire)
    }
}

impl<T> NodeCore<T> {
    /// Whether the owner of this queued node is a task (whose received values the
    /// channel counts). Under the lock.
    fn is_task(&self) -> bool {
        // SAFETY: queued, under the lock: the owner writes the signal only under it.
        self.signal
            .with(|p| matches!(unsafe { &*p }, Some(Signal::Task(_))))
    }
}

impl<C: Deref<Target = Chan<T>>, T> Drop for WaitNode<C, T> {
    #[inline]
    fn drop(&mut self) {
        // Most nodes end idle (never queued, or collected): nothing to do.
        if self.state.load(Ordering::Acquire) != IDLE {
            self.release();
        }
    }
}

impl<C: Deref<Target = Chan<T>>, T> WaitNode<C, T> {
    /// `Drop` of a node that is queued or holds an outcome nobody collected: unlinks it,
    /// or gives a received value back to the channel.
    #[cold]
    fn release(&self) {
        let state = self.settle();
        if state == DONE && self.kind.get() == Kind::Recv {
            // SAFETY: the state is final: the slot is the owner's.
            if let Some(v) = self.slot.with_mut(|p| unsafe { (*p).take() }) {
                // SAFETY: as above (completers write `epoch` before the final state).
                let epoch = self.epoch.with(|p| unsafe { *p });
                self.chan.give_back(v, self.task.get(), epoch);
            }
        }
        // A send's value still in the slot (closed, cancelled) is dropped with the node.
    }
}

/// A wait node built in place the first time the future that owns it must wait. Until
/// then the future is a few words, and an operation that completes at once never writes a
/// node: building one (on the stack, then copied into place, as the compiler does) costs
/// store-forwarding stalls that doubled the cost of a buffered async channel operation
/// in our measurements (perf annotate, docs/ROADMAP.md).
pub(crate) struct LazyNode<C: Deref<Target = Chan<T>>, T> {
    init: bool,
    node: MaybeUninit<WaitNode<C, T>>,
    _pin: PhantomPinned,
}

impl<C: Deref<Target = Chan<T>>, T> LazyNode<C, T> {
    /// No node yet.
    pub(crate) fn new() -> LazyNode<C, T> {
        LazyNode {
            init: false,
            node: MaybeUninit::uninit(),
            _pin: PhantomPinned,
        }
    }

    /// The node, built by `make` on the first call.
    pub(crate) fn get_or_init(
        self: Pin<&mut Self>,
        make: impl FnOnce() -> WaitNode<C, T>,
    ) -> Pin<&mut WaitNode<C, T>> {
        // SAFETY: nothing is moved out of `self`: the node is written in place and only
        // handed out pinned, and it is dropped in place (`Drop` below).
        let this = unsafe { self.get_unchecked_mut() };
        if !this.init {
            this.node.write(make());
            this.init = true;
        }
        // SAFETY: initialized above or earlier; pinned because `self` is.
        unsafe { Pin::new_unchecked(this.node.assume_init_mut()) }
    }

    /// The node, pinned, if one was built.
    pub(crate) fn get_pin(self: Pin<&mut Self>) -> Option<Pin<&mut WaitNode<C, T>>> {
        // SAFETY: as in `get_or_init`: nothing moves out, the node is handed out pinned.
        let this = unsafe { self.get_unchecked_mut() };
        if !this.init {
            return None;
        }
        // SAFETY: `init` says the node was written; pinned because `self` is.
        Some(unsafe { Pin::new_unchecked(this.node.assume_init_mut()) })
    }

    /// The node, if one was built.
    pub(crate) fn get(&self) -> Option<&WaitNode<C, T>> {
        // SAFETY: `init` says the node was written.
        self.init.then(|| unsafe { self.node.assume_init_ref() })
    }
}

impl<C: Deref<Target = Chan<T>>, T> Drop for LazyNode<C, T> {
    fn drop(&mut self) {
        if self.init {
            // SAFETY: written once (`init`), dropped once, in place (the pin guarantee).
            unsafe { self.node.assume_init_drop() }
        }
    }
}

/// A queued node, as its channel's queue holds it. It exists from the owner's push until
/// a completer pops it (and decides it, consuming this pointer) or the owner unlinks it,
/// all under the channel lock, so it always points at a live node.
pub(crate) struct NodePtr<T>(NonNull<NodeCore<T>>);

// SAFETY: a `NodePtr` is used only under its channel's lock (module protocol); the value it
// moves goes between threads with it.
unsafe impl<T: Send> Send for NodePtr<T> {}

impl<T> NodePtr<T> {
    fn node(&self) -> &NodeCore<T> {
        // SAFETY: a queued node is alive until unlinked or decided (module protocol), and
        // only completers holding the lock use this pointer.
        unsafe { self.0.as_ref() }
    }

    /// The node's address (to find it when its owner unlinks it).
    pub(crate) fn addr(&self) -> *const () {
        self.0.as_ptr() as *const ()
    }

    /// Whether the waiting party is a task (a value delivered to it may come back).
    pub(crate) fn is_task(&self) -> bool {
        self.node().is_task()
    }

    /// What `debug::blocked` shows of this queued node (under the lock); `default` is the
    /// operation of the queue it is in.
    pub(crate) fn describe(&self, default: BlockedOp) -> Waiting {
        let n = self.node();
        // SAFETY: queued, under the lock: the owner writes the signal only under it.
        let party = n.signal.with(|p| match unsafe { &*p } {
            Some(Signal::Thread(parker)) => parker.party(),
            _ => Party::Task,
        });
        Waiting {
            key: self.addr() as usize,
            party,
            op: n.op.get().unwrap_or(default),
            location: n.location.get(),
            since: registry::stamp(&n.since),
        }
    }

    /// Takes the signal of this popped node, to wake after unlocking.
    fn signal(&self) -> Wake {
        // SAFETY: popped under the lock while WAITING: the owner writes the signal only
        // under the lock and no longer reads it (it reads `waker_id`).
        let signal = self.node().signal.with_mut(|p| unsafe { (*p).take() });
        match signal.expect("a queued node has a signal") {
            Signal::Thread(p) => Wake::Thread(p),
            Signal::Task(w) => Wake::Task(w),
        }
    }

    /// Hands `value` to this popped receiver, recording the channel's `epoch`. Returns
    /// the wake to send after unlocking.
    pub(crate) fn deliver(self, value: T, epoch: u32) -> Wake {
        let n = self.node();
        // SAFETY: popped under the lock while WAITING: the slot is the completer's until
        // the final state is stored below.
        n.slot.with_mut(|p| unsafe { *p = Some(value) });
        // SAFETY: as above.
        n.epoch.with_mut(|p| unsafe { *p = epoch });
        let wake = self.signal();
        n.state.store(DONE, Ordering::Release);
        wake
    }

    /// Takes the value of this popped sender.
    pub(crate) fn claim(self) -> (T, Wake) {
        let n = self.node();
        // SAFETY: as in `deliver`.
        let v = n.slot.with_mut(|p| unsafe { (*p).take() });
        let wake = self.signal();
        n.state.store(DONE, Ordering::Release);
        (v.expect("a waiting sender's slot holds its value"), wake)
    }

    /// Finishes this popped node with "closed" (a sender keeps its value).
    pub(crate) fn close(self) -> Wake {
        let wake = self.signal();
        self.node().state.store(CLOSED, Ordering::Release);
        wake
    }
}
