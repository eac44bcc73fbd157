//! Select arms: one typed receive or send operation that the select engine drives through
//! a type-erased [`Arm`] trait object.
//!
//! An arm's life in one select round: `try_complete` (non-blocking attempt), or
//! `register` (an entry in the channel's queue sharing the select's waiter), then exactly
//! one of `on_selected` (a counterpart completed this arm), `unregister` (another arm won,
//! or the select gave up), or `on_abandoned` (an async select dropped after this arm was
//! chosen). A send arm that is not chosen keeps its value.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use crate::chan::core::{Chan, ChanGuard};
use crate::chan::queue::{Pop, Push};
use crate::chan::waiter::{SelectNode, Waiter, Wake};
use crate::chan::{Receiver, RecvError, SendError, Sender, TryRecvError, TrySendError};

/// The select's shared waiter, handed to each arm as it registers. The waiter stays in
/// place until every arm registered with it is unregistered (`chan/waiter.rs`).
#[doc(hidden)]
pub struct Token<'w> {
    pub(crate) waiter: &'w Waiter,
}

impl fmt::Debug for Token<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.waiter.fmt(f)
    }
}

/// Which operation an arm performs (used to check the type of a dynamic select's arm).
#[doc(hidden)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// A receive.
    Recv,
    /// A send.
    Send,
    /// A future (`select_async!` only).
    Future,
}

/// One operation of a select, type-erased. Implemented by [`RecvArm`] and [`SendArm`];
/// public only for the macros.
#[doc(hidden)]
pub trait Arm {
    /// The channel's change counter.
    fn version(&self) -> u64;
    /// Attempts the operation without blocking; `true` if it completed (result stored).
    fn try_complete(&mut self) -> bool;
    /// Queues this arm as `index` of the select owning `token`. Returns `false` without
    /// queuing if the operation is ready right now.
    fn register(&mut self, token: &Token<'_>, index: usize) -> bool;
    /// After the select's waiter was decided or aborted: removes the queued entry if it is
    /// still there, and locks the arm's channel once in any case, after which no completer
    /// touches the arm's node (`chan/waiter.rs`). A send arm gets its value back unless
    /// it was sent.
    fn unregister(&mut self);
    /// A counterpart chose this arm (called after [`Arm::unregister`]); collect the outcome.
    fn on_selected(&mut self, closed: bool);
    /// An async select chose this arm but was dropped before returning (called after
    /// [`Arm::unregister`]): give a received value back to the channel.
    fn on_abandoned(&mut self, closed: bool);
    /// Channel identity and kind, for the dynamic select's typed accessors.
    fn identity(&self) -> (*const (), Kind);
    /// The locked pass (see the engine): takes this arm's channel lock and keeps it, so
    /// that `try_complete` works under it, until [`Arm::release_lock`].
    fn hold_lock(&mut self) {}
    /// Releases the lock taken by [`Arm::hold_lock`]; a wake owed by an operation done
    /// under it is kept for [`Arm::flush_wake`].
    fn release_lock(&mut self) {}
    /// Wakes the counterpart of an operation done under a held lock (after every lock of
    /// the pass is released).
    fn flush_wake(&mut self) {}
    /// Whether this arm awaits a future instead of a channel operation (`select_async!`).
    fn is_future(&self) -> bool {
        false
    }
    /// Polls a future arm; `true` once its output is stored. Channel arms are never
    /// polled.
    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> bool {
        false
    }
}

/// A channel lock held by an arm during a select's locked pass (`engine::locked_pass`).
struct Held<'a, T>(ChanGuard<'a, T>);

// Under loom the channel lock is loom's mutex, whose guard is `!Send`; gochan's own spin
// lock guard is `Send`, so outside the models this impl is not needed.
#[cfg(loom)]
// SAFETY: a `Held` exists only inside `engine::locked_pass`, a synchronous function that
// takes every lock and releases it again on the same thread before returning; an arm that
// moves between threads (an async select between two polls) never holds one.
unsafe impl<T: Send> Send for Held<'_, T> {}

/// An arm's part in a locked pass: the lock it holds and the wake it owes.
struct Locked<'a, T> {
    held: Option<Held<'a, T>>,
    wake: Option<Wake>,
}

impl<T> Default for Locked<'_, T> {
    fn default() -> Self {
        Locked {
            held: None,
            wake: None,
        }
    }
}

impl<'a, T> Locked<'a, T> {
    fn hold(&mut self, chan: &'a Chan<T>) {
        let mut inner = chan.lock();
        chan.freeze(&mut inner);
        self.held = Some(Held(inner));
    }

    fn release(&mut self) {
        self.held = None;
    }

    /// Wakes the counterpart of an operation done under the lock (after every lock of the
    /// pass is released).
    fn flush_wake(&mut self) {
        if let Some(w) = self.wake.take() {
            w.wake();
        }
    }
}

/// A receive arm.
#[doc(hidden)]
pub struct RecvArm<'a, T> {
    chan: &'a Chan<T>,
    /// Its place in the channel's queue while the select waits.
    node: SelectNode<T>,
    /// Registered since the last unregister: `chan` must be locked once more before `node`
    /// may go away (`chan/waiter.rs`).
    registered: bool,
    /// The select belongs to a task (a value handed to it counts in `handed`).
    task: bool,
    result: Option<Result<T, RecvError>>,
    /// The channel's lock during a locked pass, and the wake it owes.
    locked: Locked<'a, T>,
}

impl<'a, T> RecvArm<'a, T> {
    /// An arm receiving from `rx`.
    pub fn new(rx: &'a Receiver<T>) -> Self {
        RecvArm {
            chan: &rx.chan,
            node: SelectNode::default(),
            registered: false,
            task: false,
            result: None,
            locked: Locked::default(),
        }
    }

    /// The outcome of the operation, once chosen.
    pub fn take(&mut self) -> Result<T, RecvError> {
        self.result
            .take()
            .expect("select arm taken twice or not chosen")
    }
}

impl<T> Arm for RecvArm<'_, T> {
    fn version(&self) -> u64 {
        self.chan.version()
    }

    fn try_complete(&mut self) -> bool {
        let chan = self.chan;
        let r = match self.locked.held.as_mut() {
            // A locked pass: the wake waits until every lock of the pass is released.
            Some(Held(inner)) => chan.try_recv_locked(inner, None).map(|(v, wake)| {
                self.locked.wake = wake;
                v
            }),
            None => match chan.recv_fast() {
                Ok(v) => Ok(v),
                Err(Pop::Empty) => Err(TryRecvError::Empty),
                Err(Pop::Slow) => {
                    let mut inner = chan.lock_for_recv();
                    let r = chan.try_recv_locked(&mut inner, None);
                    drop(inner);
                    r.map(|(v, wake)| {
                        if let Some(w) = wake {
                            w.wake();
                        }
                        v
                    })
                }
            },
        };
        match r {
            Ok(v) => {
                self.result = Some(Ok(v));
                true
            }
            Err(TryRecvError::Closed) => {
                self.result = Some(Err(RecvError));
                true
            }
            Err(TryRecvError::Empty) => false,
        }
    }

    fn hold_lock(&mut self) {
        self.locked.hold(self.chan);
    }

    fn release_lock(&mut self) {
        self.locked.release();
    }

    fn flush_wake(&mut self) {
        self.locked.flush_wake();
    }

    fn register(&mut self, token: &Token<'_>, index: usize) -> bool {
        self.forget_old();
        let mut inner = self.chan.lock_for_recv();
        if self.chan.recv_ready(&mut inner, Some(token.waiter)) {
            return false;
        }
        self.node.arm(token.waiter, None);
        self.task = token.waiter.is_task();
        self.chan.push_receiver(&mut inner, self.node.entry(index));
        self.registered = true;
        drop(inner);
        self.chan.watch();
        true
    }

    fn unregister(&mut self) {
        if std::mem::take(&mut self.registered) {
            let mut inner = self.chan.lock();
            self.chan.remove_select(&mut inner, self.node_addr(), false);
        }
    }

    fn on_selected(&mut self, closed: bool) {
        self.result = Some(if closed {
            Err(RecvError)
        } else {
            let v = self.node.take().expect("a chosen receive holds its value");
            if self.task {
                self.chan.handoff_taken();
            }
            Ok(v)
        });
    }

    fn on_abandoned(&mut self, closed: bool) {
        if !closed {
            if let Some(v) = self.node.take() {
                self.chan.give_back(v, self.task, self.node.epoch());
            }
        }
    }

    fn identity(&self) -> (*const (), Kind) {
        (self.chan as *const Chan<T> as *const (), Kind::Recv)
    }
}

impl<T> RecvArm<'_, T> {
    fn node_addr(&self) -> *const () {
        &self.node as *const SelectNode<T> as *const ()
    }

    /// Still registered only if its select's future was forgotten (the waiter is then
    /// leaked with it, so still in place) and the arm is used again or dropped: that select
    /// ends here, and a value handed to this arm goes back to the channel.
    fn forget_old(&mut self) {
        if self.registered {
            let _ = self.node.abort();
            self.unregister();
            if let Some(v) = self.node.take() {
                self.chan.give_back(v, self.task, self.node.epoch());
            }
        }
    }
}

impl<T> Drop for RecvArm<'_, T> {
    fn drop(&mut self) {
        self.forget_old();
    }
}

impl<T> fmt::Debug for RecvArm<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvArm").finish_non_exhaustive()
    }
}

/// A send arm; its value is taken eagerly (Go evaluates it before selecting).
#[doc(hidden)]
pub struct SendArm<'a, T> {
    chan: &'a Chan<T>,
    value: Option<T>,
    /// Its place in the channel's queue while the select waits (holding the value).
    node: SelectNode<T>,
    /// As for [`RecvArm`].
    registered: bool,
    result: Option<Result<(), SendError<T>>>,
    /// The channel's lock during a locked pass, and the wake it owes.
    locked: Locked<'a, T>,
}

impl<'a, T> SendArm<'a, T> {
    /// An arm sending `value` on `tx`.
    pub fn new(tx: &'a Sender<T>, value: T) -> Self {
        SendArm {
            chan: &tx.chan,
            value: Some(value),
            node: SelectNode::default(),
            registered: false,
            result: None,
            locked: Locked::default(),
        }
    }

    /// The outcome of the operation, once chosen.
    pub fn take(&mut self) -> Result<(), SendError<T>> {
        self.result
            .take()
            .expect("select arm taken twice or not chosen")
    }

    /// The value of an arm that was not chosen.
    pub fn into_value(mut self) -> Option<T> {
        self.value.take()
    }
}

impl<T> Arm for SendArm<'_, T> {
    fn version(&self) -> u64 {
        self.chan.version()
    }

    fn try_complete(&mut self) -> bool {
        let Some(value) = self.value.take() else {
            return false;
        };
        let chan = self.chan;
        let r = match self.locked.held.as_mut() {
            // A locked pass: the wake waits until every lock of the pass is released.
            Some(Held(inner)) => chan.try_send_locked(inner, value, None).map(|wake| {
                self.locked.wake = wake;
            }),
            None => match chan.send_fast(value) {
                Ok(()) => Ok(()),
                Err(Push::Full(v)) => Err(TrySendError::Full(v)),
                Err(Push::Slow(value)) => {
                    let mut inner = chan.lock();
                    let r = chan.try_send_locked(&mut inner, value, None);
                    drop(inner);
                    r.map(|wake| {
                        if let Some(w) = wake {
                            w.wake();
                        }
                    })
                }
            },
        };
        match r {
            Ok(()) => {
                self.result = Some(Ok(()));
                true
            }
            Err(TrySendError::Closed(v)) => {
                self.result = Some(Err(SendError(v)));
                true
            }
            Err(TrySendError::Full(v)) => {
                self.value = Some(v);
                false
            }
        }
    }

    fn hold_lock(&mut self) {
        self.locked.hold(self.chan);
    }

    fn release_lock(&mut self) {
        self.locked.release();
    }

    fn flush_wake(&mut self) {
        self.locked.flush_wake();
    }

    fn register(&mut self, token: &Token<'_>, index: usize) -> bool {
        self.forget_old();
        if self.value.is_none() {
            return true; // spent by an earlier select: never ready again
        }
        let mut inner = self.chan.lock();
        if self.chan.send_ready(&mut inner, Some(token.waiter)) {
            return false;
        }
        self.node.arm(token.waiter, self.value.take());
        self.chan.push_sender(&mut inner, self.node.entry(index));
        self.registered = true;
        drop(inner);
        self.chan.watch();
        true
    }

    fn unregister(&mut self) {
        if self.registered {
            let mut inner = self.chan.lock();
            self.take_back(&mut inner);
        }
    }

    fn on_selected(&mut self, closed: bool) {
        self.result = Some(if closed {
            Err(SendError(
                self.value.take().expect("a failed send keeps its value"),
            ))
        } else {
            Ok(())
        });
    }

    fn on_abandoned(&mut self, _closed: bool) {
        // Chosen and not closed: the receiver that chose it took the value. Closed: the
        // value came back in `unregister`.
    }

    fn identity(&self) -> (*const (), Kind) {
        (self.chan as *const Chan<T> as *const (), Kind::Send)
    }
}

impl<T> SendArm<'_, T> {
    /// Under the channel lock: removes the entry if still queued and takes back the value
    /// if no receiver took it.
    fn take_back(&mut self, inner: &mut crate::chan::core::Inner<T>) {
        let addr = &self.node as *const SelectNode<T> as *const ();
        self.chan.remove_select(inner, addr, true);
        if let Some(v) = self.node.take() {
            self.value = Some(v);
        }
        self.registered = false;
    }

    /// As `RecvArm`'s: ends a forgotten select's registration (the value comes back
    /// unless a receiver took it).
    fn forget_old(&mut self) {
        if self.registered {
            let _ = self.node.abort();
            self.unregister();
        }
    }
}

impl<T> Drop for SendArm<'_, T> {
    fn drop(&mut self) {
        self.forget_old();
    }
}

impl<T> fmt::Debug for SendArm<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendArm").finish_non_exhaustive()
    }
}

/// An arm of `select_async!` on any future (`pat = future => body`, as `tokio::select!`).
/// It has no channel: the engine polls it in its try pass and whenever the select is
/// woken, and it wins only if it aborts the select's waiter first.
#[doc(hidden)]
pub struct FutArm<'a, F: Future> {
    fut: Pin<&'a mut F>,
    result: Option<F::Output>,
}

impl<'a, F: Future> FutArm<'a, F> {
    /// An arm awaiting `fut`.
    pub fn new(fut: Pin<&'a mut F>) -> Self {
        FutArm { fut, result: None }
    }

    /// The future's output, once chosen.
    pub fn take(&mut self) -> F::Output {
        self.result
            .take()
            .expect("select arm taken twice or not chosen")
    }
}

impl<F: Future> Arm for FutArm<'_, F> {
    fn version(&self) -> u64 {
        0
    }

    fn try_complete(&mut self) -> bool {
        false
    }

    fn register(&mut self, _token: &Token<'_>, _index: usize) -> bool {
        true
    }

    fn unregister(&mut self) {}

    fn on_selected(&mut self, _closed: bool) {
        unreachable!("a future arm is never registered in a channel")
    }

    fn on_abandoned(&mut self, _closed: bool) {}

    fn identity(&self) -> (*const (), Kind) {
        (std::ptr::null(), Kind::Future)
    }

    fn is_future(&self) -> bool {
        true
    }

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> bool {
        if self.result.is_some() {
            return true;
        }
        match self.fut.as_mut().poll(cx) {
            Poll::Ready(v) => {
                self.result = Some(v);
                true
            }
            Poll::Pending => false,
        }
    }
}

impl<F: Future> fmt::Debug for FutArm<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FutArm")
            .field("ready", &self.result.is_some())
            .finish()
    }
}
