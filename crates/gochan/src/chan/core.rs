//! The channel engine, after Go's `hchan` (runtime/chan.go): one short-held lock around a
//! buffer and two FIFO queues of waiting parties, with values handed straight into a
//! waiting party's slot.
//!
//! Invariants, all under `Chan::inner`'s lock:
//! - Live (undecided) waiting receivers exist only while `buf` is empty.
//! - Live waiting senders exist only while the channel is bounded and `buf.len() >= cap`.
//! - `buf.len() <= cap`, except for values given back by a dropped receive future that
//!   found nobody to hand them to (they go to the front, and are never lost).
//! - Once `closed`, no sender entry is queued again. Receiver entries are queued after
//!   close only while values handed to async receivers are outstanding: such a value may
//!   still come back (its future dropped), so the channel is not yet "closed and
//!   drained"; they are completed when the last such value is taken (closed) or given
//!   back (the value).
//! - Outstanding hand-offs are `Inner::handed - Chan::taken`: `handed` counts values
//!   delivered into async receivers (under the lock) minus those given back, `taken` those
//!   their futures returned (an atomic, so taking needs no lock). A receive reports
//!   `Closed` only when `closed`, nothing is outstanding and `buf` is empty, so "closed
//!   and drained" is final, as in Go.
//! - Once `rx_gone`, `buf` is empty and stays so, and sends fail.
//! - Queues hold wait nodes (`node.rs`: plain sends and receives, decided by being popped)
//!   and select entries (`waiter.rs`: decided by a CAS). Select entries may be stale
//!   (decided through another arm); whoever pops one drops it. A popped node is decided in
//!   the same critical section.
//! - `version` increases on every change of state that could make an operation ready; a
//!   select's non-blocking pass uses it to prove it saw all its channels at one moment.
//!
//! The lock-free buffer (`queue.rs`), "the ring" below: a ring (`ring.rs`) for a bounded
//! channel with `RING_MIN <= cap <= RING_MAX` and at most `RING_MAX_BYTES`; a list of
//! blocks (`list.rs`) for an unbounded one.
//! - Buffered values are `buf` (only values given back, see above) followed by the ring's.
//! - Sends and receives first try the ring without the lock ([`Chan::send_fast`],
//!   [`Chan::recv_fast`]); they take the lock when the ring is full/empty or its SLOW bit
//!   sends them there.
//! - `Inner::slow_head` / `slow_tail` say the SLOW bits of `head` / `tail` are set (changed
//!   only under the lock). `tail`'s bit is also set for good once `closed` or `rx_gone`.
//!   A waiting receiver needs only `tail`'s (the ring is empty, and senders must hand off
//!   to it); a waiting sender, a given-back value and a locked pass need both (a receive
//!   must move the sender's value in before any other send takes the freed slot).
//! - A locked operation that finds the ring full or empty sets the bits before it
//!   concludes so (`buf_push`, `buf_pop`): from then on nothing enters or leaves the ring
//!   without the lock (`ring.rs` says why), so a party queued after that check is seen by
//!   the next operation, which finds the bits and takes the lock. A select's registration
//!   and its locked pass set them too (`send_ready`, `recv_ready`, `freeze`).
//! - While a party is queued or `buf` is not empty, the bits stay set; the unlock that
//!   leaves neither clears them ([`ChanGuard`]'s `Drop`). So an operation with nobody
//!   waiting costs the ring's CAS and never the lock, and Go's order stays exact: once a
//!   sender waits, later senders queue behind it, and a receive that frees a slot moves
//!   the first waiting sender's value in (under the lock).
//! - `version` does not move on lock-free operations; [`Chan::version`] adds the ring's
//!   positions, which do.
//!
//! Lock order: a thread holds at most one channel lock at a time, except a select's locked
//! pass (`select/engine.rs`), which takes its channels' locks in address order. Wakes
//! happen after the locks are released.

use std::collections::VecDeque;
use std::sync::{Arc, Weak};

use crate::prim::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering, SpinLock};

use super::error::{TryRecvError, TrySendError};
use super::list::List;
use super::queue::Queue;
use super::ring::Ring;
use super::wait_queue::WaitQueue;
use super::waiter::{Entry, Waiter, Wake};
use crate::debug::{registry, BlockedOp};

mod buffer;
pub(crate) use buffer::ChanGuard;

/// The shared state of one channel.
pub(crate) struct Chan<T> {
    inner: SpinLock<Inner<T>>,
    /// The lock-free buffer ("the ring" in the module docs): a ring for `RING_MIN <= cap <=
    /// RING_MAX`, a list for an unbounded channel; `None` for unbuffered, huge and internal
    /// channels, whose buffer is `Inner::buf`.
    queue: Option<Box<Queue<T>>>,
    /// Capacity; meaningless when `unbounded`.
    cap: usize,
    unbounded: bool,
    /// Live `Sender` handles. When it drops to zero the channel closes.
    senders: AtomicUsize,
    /// Live `Receiver` handles. When it drops to zero every send fails.
    receivers: AtomicUsize,
    /// Bumped (under the lock) on each state change; read without it by select.
    version: AtomicU64,
    /// Mirror of `closed || rx_gone` for lock-free `is_closed`.
    closed_flag: AtomicBool,
    /// Values handed to async receivers that their futures returned (see the module
    /// invariants). Not padded to a line of its own: that would double the size of a
    /// small channel (a context's done channel), and the hand-off that precedes every
    /// increment has just brought the lock's line to this core anyway.
    taken: AtomicUsize,
    /// Bumped by a timer's stop/reset: a value handed over before the bump is stale, so a
    /// dropped future gives it back only if the epoch is unchanged (Go 1.23: no value from
    /// before `Stop`/`Reset` is ever received). Always 0 for ordinary channels.
    epoch: AtomicU32,
    /// The timer feeding this channel, if it is a timer's channel: told when the last
    /// receiver goes (it cancels itself) and asked to fire when a receive finds it
    /// expired (Go 1.23). `None` for every other channel.
    timer: Option<Weak<dyn TimerHook>>,
    /// A `never()` channel: never ready, and every one is "the same channel" (Go's nil).
    never: bool,
    /// A signal: an internal channel nothing is ever sent on, only closed (a context's
    /// done channel, a `WaitGroup`'s zero signal). Its receivers are not counted (no send
    /// can fail for want of one), and `try_recv` reads `closed_flag` without the lock, as
    /// Go's non-blocking receive does on an empty channel.
    signal: bool,
    /// The channel's slot in the `debug` registry, plus one; 0 until a party first waits
    /// in it (`watch`), `usize::MAX` while registering.
    reg: AtomicUsize,
    /// The `synctest` bubble the channel was made in (0: none; `u32::MAX`: every bubble's,
    /// for `never()`). Only a wait on a channel of one's own bubble is durably blocked.
    #[cfg(not(loom))]
    bubble: u32,
    /// The threads that touched the channel (feature `debug-handles`; see
    /// `debug/handles.rs`).
    #[cfg(feature = "debug-handles")]
    pub(crate) holders: crate::debug::handles::Holders,
}

pub(crate) struct Inner<T> {
    /// A timer's channel (`Chan::timer.is_some()`, kept where receives read anyway).
    timer: bool,
    /// The buffer; with a lock-free one, only values given back by dropped receive
    /// futures, which come before the ring's.
    buf: VecDeque<T>,
    /// The ring's SLOW bit of `head` is set (see "The ring").
    slow_head: bool,
    /// The ring's SLOW bit of `tail` is set by a waiting party, a select or a given-back
    /// value (`closed` and `rx_gone` set it for good without this flag).
    slow_tail: bool,
    /// Values delivered into async receivers, minus those given back (wrapping; see
    /// the module invariants).
    handed: usize,
    closed: bool,
    rx_gone: bool,
    senders_q: WaitQueue<T>,
    receivers_q: WaitQueue<T>,
}

/// The timer that owns a timer channel.
pub(crate) trait TimerHook: Send + Sync {
    /// The last receiver was dropped: nobody can receive the time any more.
    fn receivers_gone(&self);
    /// A receive or select is looking at the channel: if the timer is due and has not
    /// fired yet, fire it now (Go 1.23 runs expired timers when their channel is used).
    fn run_if_expired(self: Arc<Self>);
}

/// Default number of slots reserved up front in `Inner::buf`; larger buffers grow as they
/// fill, so a huge capacity costs nothing until it is used.
const EAGER_SLOTS: usize = 64;

/// The smallest capacity served by a ring. A channel of capacity 1 alternates between full
/// and empty on nearly every operation, so its operations would mostly wait anyway: the
/// locked buffer with direct hand-offs serves it better (measured: spsc cap 1 sync ~30%
/// and mpmc cap 1 async ~40% slower with a ring), as crossfire gives size 1 its own flavor.
pub(crate) const RING_MIN: usize = 2;

/// The largest capacity served by a ring (allocated whole when the channel is made, as
/// Go's buffer is); larger ones use `Inner::buf`, which grows as it fills.
pub(crate) const RING_MAX: usize = 1 << 20;

/// The largest ring in bytes (slots of a stamp and a value), for the same reason.
const RING_MAX_BYTES: usize = 4 << 20;

impl<T> Chan<T> {
    /// A channel of capacity `cap` (`None` = unbounded) with the given handle counts.
    #[track_caller]
    pub(crate) fn new(cap: Option<usize>, senders: usize, receivers: usize) -> Chan<T> {
        Chan::build(cap, senders, receivers, true)
    }

    #[track_caller]
    fn build(cap: Option<usize>, senders: usize, receivers: usize, ring: bool) -> Chan<T> {
        let (cap, unbounded) = match cap {
            Some(c) => {
                let bytes = c.checked_mul(std::mem::size_of::<T>());
                if bytes.is_none_or(|b| b > isize::MAX as usize) {
                    panic!(
                        "gochan::bounded: capacity {c} of {}-byte values is out of range \
                         (Go: makechan: size out of range)",
                        std::mem::size_of::<T>()
                    );
                }
                (c, false)
            }
            None => (0, true),
        };
        let queue = match (ring, unbounded) {
            (false, _) => None,
            (true, true) => Some(Box::new(Queue::List(List::new()))),
            (true, false)
                if (RING_MIN..=RING_MAX).contains(&cap)
                    && cap * (std::mem::size_of::<T>() + std::mem::size_of::<usize>())
                        <= RING_MAX_BYTES =>
            {
                Some(Box::new(Queue::Ring(Ring::new(cap))))
            }
            (true, false) => None,
        };
        // Capacity 1 (Go's `make(chan T, 1)`, every timer channel) allocates on first use:
        // a timer that is stopped before it fires never needs its slot.
        let reserve = if unbounded || cap == 1 || queue.is_some() {
            0
        } else {
            cap.min(EAGER_SLOTS)
        };
        Chan {
            queue,
            inner: SpinLock::new(Inner {
                timer: false,
                buf: VecDeque::with_capacity(reserve),
                slow_head: false,
                slow_tail: false,
                handed: 0,
                closed: false,
                rx_gone: false,
                senders_q: WaitQueue::new(),
                receivers_q: WaitQueue::new(),
            }),
            cap,
            unbounded,
            senders: AtomicUsize::new(senders),
            receivers: AtomicUsize::new(receivers),
            version: AtomicU64::new(0),
            closed_flag: AtomicBool::new(false),
            taken: AtomicUsize::new(0),
            epoch: AtomicU32::new(0),
            timer: None,
            never: false,
            signal: false,
            reg: AtomicUsize::new(0),
            #[cfg(not(loom))]
            bubble: crate::synctest::bubble_of_new_channel(),
            #[cfg(feature = "debug-handles")]
            holders: crate::debug::handles::Holders::new(),
        }
    }

    /// A channel with no `Sender` handle (a timer's, `never()`, a signal): who can close
    /// it is told to the `debug-handles` bookkeeping by its owner, or unknown.
    pub(crate) fn new_internal(cap: usize) -> Chan<T> {
        #[allow(unused_mut)]
        let mut chan = Chan::build(Some(cap), 1, 1, false);
        #[cfg(feature = "debug-handles")]
        chan.holders.set_internal();
        chan
    }

    /// A timer's channel (capacity 1, no `Sender` handle) fed by `timer`.
    pub(crate) fn new_timer(timer: Weak<dyn TimerHook>) -> Chan<T> {
        let mut chan = Chan::new_internal(1);
        chan.timer = Some(timer);
        chan.lock().timer = true;
        chan
    }

    /// A signal channel (see the `signal` field): internal, capacity 0, only ever closed.
    pub(crate) fn new_signal() -> Chan<T> {
        let mut chan = Chan::new_internal(0);
        chan.signal = true;
        chan
    }

    /// Whether this is a signal channel (nothing is ever sent on it).
    #[inline]
    pub(crate) fn is_signal(&self) -> bool {
        self.signal
    }

    /// `try_recv` on a signal channel: `Closed` once closed, else `Empty`, lock-free (a
    /// signal never holds a value, so "closed and drained" is "closed").
    #[inline]
    pub(crate) fn try_recv_signal(&self) -> Result<T, TryRecvError> {
        if self.closed_flag.load(Ordering::Acquire) {
            Err(TryRecvError::Closed)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    /// A channel that is never ready (no handle can send or close it).
    pub(crate) fn new_never() -> Chan<T> {
        let mut chan = Chan::new_internal(0);
        chan.never = true;
        #[cfg(feature = "debug-handles")]
        chan.holders
            .set_wakers(Box::new(crate::debug::handles::Wakers::default)); // nobody
        #[cfg(not(loom))]
        {
            chan.bubble = u32::MAX;
        }
        chan
    }

    /// Makes the channel visible to `debug::blocked` (after a party was queued in it, with
    /// the lock released): one relaxed load once registered.
    #[inline]
    pub(crate) fn watch(&self) {
        #[cfg(not(loom))]
        {
            if self.reg.load(Ordering::Relaxed) == 0 {
                self.register();
            }
            crate::synctest::note_channel(self.bubble);
        }
    }

    /// Whether the calling thread waiting on this channel is durably blocked, as far as a
    /// `synctest` bubble is concerned (always true outside bubbles).
    pub(crate) fn durable_wait(&self) -> bool {
        #[cfg(not(loom))]
        return crate::synctest::owns(self.bubble);
        #[cfg(loom)]
        true
    }

    #[cfg(not(loom))]
    #[cold]
    fn register(&self) {
        if self
            .reg
            .compare_exchange(0, usize::MAX, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            let slot = registry::register(self as *const Chan<T> as usize, list_waiting::<T>);
            self.reg.store(slot + 1, Ordering::Relaxed);
        }
    }

    /// The parties waiting in this channel, for `debug::blocked`.
    fn list_waiting(&self, walk: &mut registry::Walk) {
        let out = &mut walk.waits;
        // Not `lock()`: the walking thread is no holder of the channel.
        let inner = self.inner.lock();
        #[cfg(feature = "debug-handles")]
        let waiting = !(inner.senders_q.is_empty() && inner.receivers_q.is_empty());
        let id = registry::ChannelId {
            addr: self as *const Chan<T> as usize,
            capacity: self.capacity(),
            len: self.buf_len(&inner),
        };
        for e in inner.senders_q.iter() {
            out.extend(e.describe(BlockedOp::Send).map(|w| (w, id)));
        }
        for e in inner.receivers_q.iter() {
            out.extend(e.describe(BlockedOp::Recv).map(|w| (w, id)));
        }
        drop(inner);
        #[cfg(feature = "debug-handles")]
        if walk.want_wakers && waiting {
            walk.wakers.push((id.addr, self.holders.wakers()));
        }
    }

    /// Whether this is a `never()` channel.
    pub(crate) fn is_never(&self) -> bool {
        self.never
    }

    /// Locks the channel for a receive. On a timer's channel it first lets a due timer
    /// fire, as Go 1.23's `chanrecv` runs `maybeRunChan` before looking: a due ticker
    /// then catches up (its tick dropped if one is already buffered) before the receive
    /// takes a value, and `after(ZERO)` is ready at once. Other channels pay one read of
    /// `Inner::timer`, on the line the lock brings in anyway.
    #[inline]
    pub(crate) fn lock_for_recv(&self) -> ChanGuard<'_, T> {
        let inner = self.lock();
        if !inner.timer {
            return inner;
        }
        drop(inner);
        self.run_expired_timer();
        self.lock()
    }

    /// Lets a due timer fire now (Go 1.23), without the channel lock (firing takes the
    /// timer's lock, then the channel's).
    #[cold]
    pub(crate) fn run_expired_timer(&self) -> bool {
        match self.timer.as_ref().and_then(Weak::upgrade) {
            Some(t) => {
                t.run_if_expired();
                true
            }
            None => false,
        }
    }

    /// Locks the channel for an operation (with `debug-handles`, the caller is recorded
    /// as a holder).
    #[inline]
    pub(crate) fn lock(&self) -> ChanGuard<'_, T> {
        #[cfg(feature = "debug-handles")]
        self.holders.touch();
        ChanGuard {
            chan: self,
            inner: self.inner.lock(),
        }
    }

    fn bump(&self) {
        // Written under the lock only, so a plain load+store is race free.
        let v = self.version.load(Ordering::Relaxed);
        self.version.store(v + 1, Ordering::Release);
    }

    /// The change counter (see the module invariants), plus the ring's positions.
    pub(crate) fn version(&self) -> u64 {
        let v = self.version.load(Ordering::Acquire);
        match &self.queue {
            Some(r) => v.wrapping_add(r.moves()),
            None => v,
        }
    }

    /// `Some(cap)` for bounded channels. A timer's channel has a slot for its value but
    /// presents itself as unbuffered, as in Go 1.23 (`cap(t.C) == 0`, `len(t.C) == 0`).
    pub(crate) fn capacity(&self) -> Option<usize> {
        if self.timer.is_some() {
            return Some(0);
        }
        (!self.unbounded).then_some(self.cap)
    }

    fn has_room(&self, inner: &Inner<T>) -> bool {
        self.unbounded || self.buf_len(inner) < self.cap
    }

    /// The number of buffered values (0 for a timer's channel: see [`Chan::capacity`]).
    pub(crate) fn len(&self) -> usize {
        if self.timer.is_some() {
            return 0;
        }
        self.buf_len(&self.lock())
    }

    /// Whether a send would find no room (always for unbuffered and timer channels).
    pub(crate) fn is_full(&self) -> bool {
        self.timer.is_some() || !self.has_room(&self.lock())
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed_flag.load(Ordering::Acquire)
    }

    /// Tries to send without blocking, with the lock held. On success, returns the waiter
    /// to wake (if a receiver was waiting). `me` is the caller's own select waiter: its
    /// entries are skipped (no self-pairing).
    #[inline]
    pub(crate) fn try_send_locked(
        &self,
        inner: &mut Inner<T>,
        value: T,
        me: Option<&Waiter>,
    ) -> Result<Option<Wake>, TrySendError<T>> {
        if inner.closed || inner.rx_gone {
            return Err(TrySendError::Closed(value));
        }
        if !inner.receivers_q.is_empty() {
            return self.send_to_waiting(inner, value, me);
        }
        self.push_buffered(inner, value)
    }

    /// Buffers `value` if there is room (no receiver is waiting).
    #[inline]
    fn push_buffered(
        &self,
        inner: &mut Inner<T>,
        value: T,
    ) -> Result<Option<Wake>, TrySendError<T>> {
        match self.buf_push(inner, value) {
            Ok(()) => {
                self.bump();
                Ok(None)
            }
            Err(v) => Err(TrySendError::Full(v)),
        }
    }

    /// `try_send_locked` when receivers wait: hand the value to the first live one.
    #[inline(never)]
    fn send_to_waiting(
        &self,
        inner: &mut Inner<T>,
        mut value: T,
        me: Option<&Waiter>,
    ) -> Result<Option<Wake>, TrySendError<T>> {
        while let Some(entry) = pop_first(&mut inner.receivers_q, me) {
            self.bump();
            match self.deliver(inner, entry, value) {
                Ok(wake) => return Ok(Some(wake)),
                Err(v) => value = v,
            }
        }
        self.push_buffered(inner, value)
    }

    /// Tries to receive without blocking, with the lock held. Go's `recv`: take the head
    /// of the buffer and move the first waiting sender's value in behind it, or take
    /// straight from a waiting sender when there is no buffer.
    #[inline]
    pub(crate) fn try_recv_locked(
        &self,
        inner: &mut Inner<T>,
        me: Option<&Waiter>,
    ) -> Result<(T, Option<Wake>), TryRecvError> {
        if inner.senders_q.is_empty() {
            if let Some(v) = self.buf_pop(inner) {
                self.bump();
                return Ok((v, None));
            }
        }
        self.recv_slow(inner, me)
    }

    /// `try_recv_locked` when senders wait or the buffer is empty.
    #[inline(never)]
    fn recv_slow(
        &self,
        inner: &mut Inner<T>,
        me: Option<&Waiter>,
    ) -> Result<(T, Option<Wake>), TryRecvError> {
        if let Some(v) = self.buf_pop(inner) {
            self.bump();
            let mut wake = None;
            if self.has_room(inner) {
                while let Some(entry) = pop_first(&mut inner.senders_q, me) {
                    if let Some((sv, w)) = entry.claim() {
                        self.buf_push_back(inner, sv);
                        wake = Some(w);
                        break;
                    }
                }
            }
            return Ok((v, wake));
        }
        while let Some(entry) = pop_first(&mut inner.senders_q, me) {
            self.bump();
            if let Some((v, w)) = entry.claim() {
                return Ok((v, Some(w)));
            }
        }
        if self.drained(inner) {
            Err(TryRecvError::Closed)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    /// Closed, and no value handed to an async receiver can come back: a receive may
    /// report `Closed` (with `buf` empty).
    fn drained(&self, inner: &Inner<T>) -> bool {
        // SeqCst pairs with `handoff_taken`: a taker that misses `closed_flag` has its
        // increment seen here.
        inner.closed && inner.handed == self.taken.load(Ordering::SeqCst)
    }

    /// Hands `value` to a popped receiver entry, counting hand-offs to async receivers.
    fn deliver(&self, inner: &mut Inner<T>, entry: Entry<T>, value: T) -> Result<Wake, T> {
        let counted = entry.is_task();
        let wake = entry.deliver(value, self.epoch.load(Ordering::Relaxed))?;
        if counted {
            inner.handed = inner.handed.wrapping_add(1);
        }
        Ok(wake)
    }

    /// An async receiver took a value handed to it. If the channel is closed, that may
    /// have been the last outstanding one: complete receivers that were waiting to learn
    /// whether it came back.
    pub(crate) fn handoff_taken(&self) {
        self.taken.fetch_add(1, Ordering::SeqCst);
        if self.closed_flag.load(Ordering::SeqCst) {
            let mut inner = self.lock();
            let wake = self.finish_drained(&mut inner);
            drop(inner);
            wake_all(wake);
        }
    }

    /// If closed and drained, completes every waiting receiver with "closed".
    fn finish_drained(&self, inner: &mut Inner<T>) -> Vec<Wake> {
        let mut wake = Vec::new();
        if self.drained(inner) && self.buf_is_empty(inner) {
            wake.extend(inner.receivers_q.drain().filter_map(Entry::close));
            self.bump();
        }
        wake
    }

    /// A timer's stop/reset: bumps the epoch (see `epoch`) and drains a value not yet
    /// received, under one lock. Returns whether a value was drained.
    pub(crate) fn bump_epoch_and_drain(&self) -> bool {
        let mut inner = self.lock();
        self.epoch.fetch_add(1, Ordering::Relaxed);
        match self.try_recv_locked(&mut inner, None) {
            Ok((_v, wake)) => {
                drop(inner);
                if let Some(w) = wake {
                    w.wake();
                }
                true
            }
            Err(_) => false,
        }
    }

    /// Whether a send by `me` could complete now (used when registering a select arm).
    pub(crate) fn send_ready(&self, inner: &mut Inner<T>, me: Option<&Waiter>) -> bool {
        self.set_slow(inner, true);
        inner.closed
            || inner.rx_gone
            || inner
                .receivers_q
                .iter()
                .any(|e| !is_mine(e, me) && e.is_live())
            || self.has_room(inner)
    }

    /// Whether a receive by `me` could complete now.
    pub(crate) fn recv_ready(&self, inner: &mut Inner<T>, me: Option<&Waiter>) -> bool {
        self.set_slow(inner, false);
        self.drained(inner)
            || !self.buf_is_empty(inner)
            || inner
                .senders_q
                .iter()
                .any(|e| !is_mine(e, me) && e.is_live())
    }

    /// Queues a waiting sender; its value is in the entry's slot.
    pub(crate) fn push_sender(&self, inner: &mut Inner<T>, entry: Entry<T>) {
        debug_assert!(!inner.closed && !inner.rx_gone);
        debug_assert!(
            self.queue.is_none() || (inner.slow_head && inner.slow_tail),
            "queued with the fast path open"
        );
        inner.senders_q.push_back(entry);
        self.bump();
    }

    /// Queues a waiting receiver.
    ///
    /// The channel may have become "drained" since the caller's check: `taken` grows
    /// outside the lock. Then the task that took the last handed value is about to lock
    /// the channel and complete this entry with "closed" (`handoff_taken`).
    pub(crate) fn push_receiver(&self, inner: &mut Inner<T>, entry: Entry<T>) {
        debug_assert!(
            self.queue.is_none() || inner.slow_tail,
            "queued with the fast path open"
        );
        inner.receivers_q.push_back(entry);
        self.bump();
    }

    /// Unlinks the wait node at `addr` from the receivers' (`recv`) or senders' queue:
    /// its owner gives up. The node is queued (the caller checked, under the lock).
    pub(crate) fn unlink_node(&self, inner: &mut Inner<T>, addr: *const (), recv: bool) {
        let q = if recv {
            &mut inner.receivers_q
        } else {
            &mut inner.senders_q
        };
        let i = q.position(|e| e.is_node(addr));
        debug_assert!(i.is_some(), "a waiting node is queued");
        if let Some(i) = i {
            q.remove(i);
            self.bump();
        }
    }

    /// Removes the select entry of the node at `node` from the senders' (`send`) or
    /// receivers' queue, if it is still there (a completer may have popped it, as stale or
    /// to complete it). Either way, once this returns no completer touches that node any
    /// more (the select node rules in `waiter.rs`): the caller holds the lock meanwhile.
    pub(crate) fn remove_select(&self, inner: &mut Inner<T>, node: *const (), send: bool) {
        let q = if send {
            &mut inner.senders_q
        } else {
            &mut inner.receivers_q
        };
        if let Some(i) = q.position(|e| e.is_select_node(node)) {
            q.remove(i);
            self.bump();
        }
    }

    /// Puts back a value that was handed to a receive future dropped before it could
    /// return it: to the next waiting receiver, else to the front of the buffer. Never
    /// drops it (unless every receiver is gone, when nobody could ever read it).
    /// `counted`: the value was handed to a task (counted in `handed`); `epoch`: the
    /// channel's epoch at that hand-off. If the epoch moved since (a timer's stop/reset),
    /// the value is stale and is dropped instead.
    pub(crate) fn give_back(&self, mut value: T, counted: bool, epoch: u32) {
        let mut inner = self.lock();
        if counted {
            inner.handed = inner.handed.wrapping_sub(1);
        }
        if inner.rx_gone || (counted && epoch != self.epoch.load(Ordering::Relaxed)) {
            let wake = self.finish_drained(&mut inner);
            drop(inner);
            wake_all(wake);
            drop(value);
            return;
        }
        let mut wake = Vec::new();
        loop {
            match pop_first(&mut inner.receivers_q, None) {
                Some(entry) => match self.deliver(&mut inner, entry, value) {
                    Ok(w) => {
                        wake.push(w);
                        break;
                    }
                    Err(v) => value = v,
                },
                None => {
                    inner.buf.push_front(value);
                    self.set_slow(&mut inner, true);
                    break;
                }
            }
        }
        wake.extend(self.finish_drained(&mut inner));
        self.bump();
        drop(inner);
        wake_all(wake);
    }

    /// Closes the channel: waiting receivers complete with "closed", waiting senders fail
    /// with their values still in their slots. Returns `false` if it was already closed.
    pub(crate) fn close(&self) -> bool {
        match self.close_deferred() {
            Some(wake) => {
                wake.wake();
                true
            }
            None => false,
        }
    }

    /// Closes like [`Chan::close`] but leaves the waking to the caller (`None` if it was
    /// already closed): a context publishes its "done closed" state first, so code run by
    /// a waker already sees it.
    pub(crate) fn close_deferred(&self) -> Option<Wakes> {
        let mut inner = self.lock();
        if inner.closed {
            return None;
        }
        inner.closed = true;
        self.closed_flag.store(true, Ordering::SeqCst);
        if let Some(r) = &self.queue {
            r.set_slow(false, true);
        }
        let mut wake: Vec<Wake> = inner.senders_q.drain().filter_map(Entry::close).collect();
        wake.extend(self.finish_drained(&mut inner));
        self.bump();
        drop(inner);
        Some(Wakes(wake))
    }

    /// Live `Sender` handles (plus the unowned one of an internal channel).
    pub(crate) fn sender_count(&self) -> usize {
        self.senders.load(Ordering::Relaxed)
    }

    /// Live `Receiver` handles.
    pub(crate) fn receiver_count(&self) -> usize {
        self.receivers.load(Ordering::Relaxed)
    }

    /// A weak sender upgrades: counts one more `Sender` unless none is left (then the
    /// channel is closed for good and `false` is returned).
    pub(crate) fn try_acquire_sender(&self) -> bool {
        #[cfg(feature = "debug-handles")]
        self.holders.touch();
        increment_if_live(&self.senders)
    }

    /// A weak receiver upgrades (see [`Chan::try_acquire_sender`]).
    pub(crate) fn try_acquire_receiver(&self) -> bool {
        #[cfg(feature = "debug-handles")]
        self.holders.touch();
        if self.signal {
            return true; // receivers of a signal are not counted
        }
        increment_if_live(&self.receivers)
    }

    /// A `Sender` handle was cloned.
    pub(crate) fn acquire_sender(&self) {
        #[cfg(feature = "debug-handles")]
        self.holders.touch();
        self.senders.fetch_add(1, Ordering::Relaxed);
    }

    /// A `Receiver` handle was cloned.
    pub(crate) fn acquire_receiver(&self) {
        #[cfg(feature = "debug-handles")]
        self.holders.touch();
        if !self.signal {
            self.receivers.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A `Sender` handle was dropped; the last one closes the channel.
    pub(crate) fn release_sender(&self) {
        #[cfg(feature = "debug-handles")]
        self.holders.touch();
        if self.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.close();
        }
    }

    /// A `Receiver` handle was dropped; after the last one, every waiting and future
    /// send fails with its value, and buffered values are dropped (outside the lock).
    pub(crate) fn release_receiver(&self) {
        #[cfg(feature = "debug-handles")]
        self.holders.touch();
        if self.signal || self.receivers.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let mut inner = self.lock();
        inner.rx_gone = true;
        self.closed_flag.store(true, Ordering::Release);
        let mut buf = std::mem::take(&mut inner.buf);
        if let Some(r) = &self.queue {
            r.set_slow(false, true);
            while let Ok(v) = r.pop(true) {
                buf.push_back(v);
            }
        }
        // The common case, nobody waiting, builds no drain and wakes nobody.
        let wake: Option<Vec<Wake>> = (!inner.senders_q.is_empty())
            .then(|| inner.senders_q.drain().filter_map(Entry::close).collect());
        self.bump();
        drop(inner);
        if let Some(wake) = wake {
            wake_all(wake);
        }
        if let Some(owner) = self.timer.as_ref().and_then(Weak::upgrade) {
            owner.receivers_gone();
        }
        drop(buf); // last: a value's Drop may panic; the channel is consistent already
    }
}

/// Lists the waiting parties of the `Chan<T>` at `chan` (the registry's `ListFn`).
///
/// # Safety
/// `chan` points at a live `Chan<T>` (the registry guarantees it: module docs there).
unsafe fn list_waiting<T>(chan: *const (), walk: &mut registry::Walk) {
    // SAFETY: the caller's contract.
    let chan = unsafe { &*(chan as *const Chan<T>) };
    chan.list_waiting(walk);
}

impl<T> Drop for Chan<T> {
    fn drop(&mut self) {
        let reg = self.reg.load(Ordering::Relaxed);
        if reg != 0 {
            registry::unregister(reg - 1);
        }
    }
}

/// Increments a handle count unless it is zero (a side that is gone stays gone).
fn increment_if_live(count: &AtomicUsize) -> bool {
    let mut n = count.load(Ordering::Relaxed);
    loop {
        if n == 0 {
            return false;
        }
        match count.compare_exchange_weak(n, n + 1, Ordering::Acquire, Ordering::Relaxed) {
            Ok(_) => return true,
            Err(now) => n = now,
        }
    }
}

fn is_mine<T>(e: &Entry<T>, me: Option<&Waiter>) -> bool {
    me.is_some_and(|w| e.is_of(w))
}

/// Pops the first entry not belonging to `me` (FIFO among the others).
fn pop_first<T>(q: &mut WaitQueue<T>, me: Option<&Waiter>) -> Option<Entry<T>> {
    match me {
        None => q.pop_front(),
        Some(w) => {
            let i = q.position(|e| !e.is_of(w))?;
            q.remove(i)
        }
    }
}

/// Waiters decided by a close, to wake once the caller is ready.
pub(crate) struct Wakes(Vec<Wake>);

impl Wakes {
    /// Wakes them all.
    pub(crate) fn wake(self) {
        wake_all(self.0);
    }
}

/// Wakes decided waiters (after the channel lock is released).
fn wake_all(wake: Vec<Wake>) {
    for w in wake {
        w.wake();
    }
}

impl<T> std::fmt::Debug for Chan<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("Chan")
            .field("len", &self.buf_len(&inner))
            .field("capacity", &self.capacity())
            .field("closed", &inner.closed)
            .field("waiting_senders", &inner.senders_q.len())
            .field("waiting_receivers", &inner.receivers_q.len())
            .finish()
    }
}
