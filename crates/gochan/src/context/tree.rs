//! The context tree: nodes, the cancellation links between them, and the cancel walk.
//!
//! Every `Context` is an `Arc<Node>`. A node's `parent` is the context it was derived from
//! (values and `Display` walk this chain). Cancelable nodes (`Body::Cancel`) are also
//! linked into a second, sparser tree: each is a *child entry* in the slab of its nearest
//! cancelable ancestor (its "canceler"), skipping value and `WithoutCancel` nodes, as Go's
//! `propagateCancel` does.
//!
//! # Ownership
//! Handles (`Context`, `CancelFunc`) own nodes; a node owns its parent; a parent's slab
//! holds only `Weak` references to its children, so a child whose handles are all
//! dropped is freed and removes its slab entry in O(1). An `AfterFunc` node is held
//! strongly by its parent's slab (it must survive its handle) until it runs or is
//! stopped; a cancelable parent always ends (its `CancelFunc` cancels on drop), which
//! releases it.
//!
//! # Locking
//! Each cancel node has one mutex (`CancelState::inner`). **No code path holds two node
//! locks at once**: the cancel walk takes a node's children out of its slab, releases
//! the lock, then visits them; a child leaving its parent swaps its own `index` out
//! (an atomic, no lock) and then locks only the parent. So there is no lock order to get
//! wrong. Channel locks (the done channel) and the timer service lock are taken only
//! after the node lock is released, with one exception: `CancelState::done` creates the
//! done channel under the node lock and, for a node that has already ended, closes it
//! there. That channel is new and not yet shared, so no other party can hold its lock or
//! wait on it: the close cannot block or wake anyone.
//!
//! # Invariants
//! - `state` leaves `LIVE` once, under `inner`'s lock; `cause` is written in the same
//!   critical section, so whoever sees the state can read the cause.
//! - After a node ends its slab is empty and never refilled (registration checks `state`
//!   under the same lock), so a late `remove` by a child finds nothing to remove.
//! - A child's `index` is `NO_INDEX` or the slot it occupies in its canceler's slab; it is
//!   swapped out exactly once (by the child leaving, or by the parent's cancel walk).

use std::any::Any;
use std::sync::Arc;
use std::time::Instant;

use crate::prim::{AtomicU32, AtomicU8, Mutex, Ordering};

use super::done_slot::DoneSlot;
use super::error::{CancelFuncDropped, DroppedFunc, Error};
use super::slab::{Slab, Slot, NO_INDEX};
use crate::chan::{self, Receiver};
use crate::time::service::{self, Handle};

/// The cause stored by a cause-cancel.
pub(crate) type Cause = Arc<dyn std::error::Error + Send + Sync>;

/// What a cancel records besides its error (and what `cause()` reports).
#[derive(Clone)]
pub(crate) enum Why {
    /// Nothing: the cause is the error itself.
    Error,
    /// A cancel function was dropped (which one): kept as a state
    /// bit, so a dropped `CancelFunc` allocates nothing.
    Dropped(DroppedFunc),
    /// An explicit cause.
    Cause(Cause),
}

impl From<Option<Cause>> for Why {
    fn from(c: Option<Cause>) -> Why {
        c.map_or(Why::Error, Why::Cause)
    }
}

const LIVE: u8 = 0;
const CANCELED: u8 = 1;
const DEADLINE: u8 = 2;
/// Set once the done channel (if any) is closed. `err()` reports an end only with this
/// bit set, so a non-nil `err()` implies a closed `done()` (Go issue #75533), and the
/// state is stored before the close, so a closed `done()` implies a non-nil `err()`.
const DONE_CLOSED: u8 = 4;
/// Set with `CANCELED` when the node (or the ancestor it inherits from) was ended by
/// dropping its `CancelFunc` / `CancelCauseFunc`.
const DROPPED_PLAIN: u8 = 8;
const DROPPED_CAUSE: u8 = 16;
/// The bits that say which error the node ended with.
const ERR_MASK: u8 = CANCELED | DEADLINE;

/// One context.
pub(crate) struct Node {
    pub(crate) parent: Option<Arc<Node>>,
    pub(crate) body: Body,
}

/// What kind of context a node is.
pub(crate) enum Body {
    /// `background()` / `todo()`: never ends.
    Root(&'static str),
    /// `with_value`: carries one value keyed by its type; `canceler` is the nearest
    /// cancelable ancestor (so `err()` is one hop).
    Value {
        canceler: Option<Arc<Node>>,
        /// The value's type, kept in the node so a lookup compares without a call
        /// through the value's vtable.
        key: std::any::TypeId,
        value: Box<dyn AnyValue>,
    },
    /// `without_cancel`: values pass through, cancellation does not.
    WithoutCancel,
    /// `with_cancel*`, `with_deadline*`, and the hidden nodes of `after_func`.
    Cancel(CancelState),
}

/// A context value: `Any` plus its type's name (for `Display`), in one vtable so a value
/// node stays small.
pub(crate) trait AnyValue: Any + Send + Sync {
    fn as_any(&self) -> &dyn Any;
    fn type_name(&self) -> &'static str;
}

impl<T: Any + Send + Sync> AnyValue for T {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
}

/// What a cancel node is, for `Display` (a deadline node's instant is in its `Extra`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum CancelKind {
    Cancel,
    Deadline,
    Hook,
}

pub(crate) struct CancelState {
    state: AtomicU8,
    /// Slot in the canceler's slab, or `NO_INDEX`.
    index: AtomicU32,
    pub(crate) kind: CancelKind,
    /// The done channel once created: set under `inner`'s lock (so a cancel either sees it
    /// and closes it, or the creator sees the node ended and makes it closed), read
    /// without a lock (`done()` is one atomic load after the first call).
    done: DoneSlot,
    inner: Mutex<Inner>,
    /// The threads that created or used the node's cancel function (feature
    /// `debug-handles`): who can end a wait on `done`.
    #[cfg(feature = "debug-handles")]
    pub(crate) holders: crate::debug::handles::Holders,
}

struct Inner {
    /// Child links, allocated with the first child (most nodes are leaves).
    children: Option<Box<Slab>>,
    /// Rarely used parts, allocated on first use to keep plain nodes small.
    extra: Option<Box<Extra>>,
}

#[derive(Default)]
struct Extra {
    /// The deadline of a `Deadline` node (set before the node is published).
    deadline: Option<Instant>,
    /// Set when ended with an explicit cause; `None` means "the error itself".
    cause: Option<Cause>,
    timer: Option<Handle>,
    /// Run once when the node ends (after_func, bridges); `None` after it ran or stop.
    hook: Option<Box<dyn FnOnce() + Send>>,
}

impl CancelState {
    fn new(kind: CancelKind) -> CancelState {
        CancelState {
            state: AtomicU8::new(LIVE),
            index: AtomicU32::new(NO_INDEX),
            kind,
            done: DoneSlot::new(),
            inner: Mutex::new(Inner {
                children: None,
                extra: None,
            }),
            #[cfg(feature = "debug-handles")]
            holders: crate::debug::handles::Holders::new(),
        }
    }

    /// The error, if ended: one atomic load (plus, in the microseconds between a cancel
    /// storing its error and closing the done channel, a wait for that close).
    pub(crate) fn err(&self) -> Option<Error> {
        let mut s = self.state.load(Ordering::Acquire);
        if s == LIVE {
            return None;
        }
        while s & DONE_CLOSED == 0 {
            crate::prim::yield_now();
            s = self.state.load(Ordering::Acquire);
        }
        Some(if s & ERR_MASK == CANCELED {
            Error::Canceled
        } else {
            Error::DeadlineExceeded
        })
    }

    /// Whether the node has ended (without waiting for its done channel to close).
    fn has_ended(&self) -> bool {
        self.state.load(Ordering::Acquire) != LIVE
    }

    /// The cause: `None` while live, the explicit cause, the dropped cancel function,
    /// else the error.
    pub(crate) fn cause(&self) -> Option<Cause> {
        let err = self.err()?;
        let inner = self.inner.lock();
        Some(match self.why(&inner) {
            Why::Cause(c) => c,
            Why::Dropped(which) => CancelFuncDropped::shared(which),
            Why::Error => Arc::new(err),
        })
    }

    /// What an ended node recorded besides its error (`inner` is its locked state).
    fn why(&self, inner: &Inner) -> Why {
        if let Some(c) = inner.extra.as_ref().and_then(|e| e.cause.clone()) {
            return Why::Cause(c);
        }
        let s = self.state.load(Ordering::Acquire);
        if s & DROPPED_PLAIN != 0 {
            Why::Dropped(DroppedFunc::Plain)
        } else if s & DROPPED_CAUSE != 0 {
            Why::Dropped(DroppedFunc::Cause)
        } else {
            Why::Error
        }
    }

    /// The done channel, created on first use (closed at once if already ended).
    #[inline]
    pub(crate) fn done(&self) -> Receiver<()> {
        match self.done.get() {
            Some(rx) => rx,
            None => self.make_done(),
        }
    }

    #[cold]
    fn make_done(&self) -> Receiver<()> {
        let _inner = self.inner.lock();
        if let Some(rx) = self.done.get() {
            return rx;
        }
        let (chan, rx) = chan::signal();
        if self.has_ended() {
            chan.close(); // born closed; DONE_CLOSED is already set (no channel then)
        }
        self.done.set(rx.clone());
        rx
    }

    /// The deadline of a `Deadline` node.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.inner.lock().extra.as_ref().and_then(|e| e.deadline)
    }

    /// Number of live child links (tests and diagnostics).
    pub(crate) fn child_count(&self) -> usize {
        self.inner.lock().children.as_ref().map_or(0, |c| c.live())
    }
}

impl Node {
    /// The cancel state, if this node is cancelable itself.
    pub(crate) fn cancel_state(&self) -> Option<&CancelState> {
        match &self.body {
            Body::Cancel(cs) => Some(cs),
            _ => None,
        }
    }
}

/// Who can end a wait on the done channel of cancel node `node` (feature
/// `debug-handles`): the holders of every cancel function up the chain; a deadline or a
/// hook (after_func, a tokio token) on the way may end it, untracked.
#[cfg(feature = "debug-handles")]
pub(crate) fn wakers(node: &Arc<Node>) -> crate::debug::handles::Wakers {
    use crate::debug::handles::Wakers;
    let mut w = Wakers::default();
    let mut cur = Some(node);
    while let Some(n) = cur {
        match &n.body {
            Body::Cancel(cs) if cs.kind == CancelKind::Cancel => w.add(&cs.holders),
            Body::Cancel(_) => return Wakers::unknown(),
            Body::Value { .. } => {}
            Body::WithoutCancel | Body::Root(_) => break,
        }
        cur = n.parent.as_ref();
    }
    w
}

/// The nearest cancelable node at or above `node`.
pub(crate) fn canceler(node: &Arc<Node>) -> Option<&Arc<Node>> {
    match &node.body {
        Body::Cancel(_) => Some(node),
        Body::Value { canceler, .. } => canceler.as_ref(),
        Body::Root(_) | Body::WithoutCancel => None,
    }
}

/// Creates a cancel node under `parent` and links it to the parent's canceler. If the
/// canceler already ended, the node is born ended with the same error and cause.
/// A `hook` runs once when the node ends; hook nodes are linked strongly.
pub(crate) fn new_cancel_node(
    parent: &Arc<Node>,
    kind: CancelKind,
    deadline: Option<Instant>,
    hook: Option<Box<dyn FnOnce() + Send>>,
) -> Arc<Node> {
    let node = Arc::new(Node {
        parent: Some(parent.clone()),
        body: Body::Cancel(CancelState::new(kind)),
    });
    let cs = node.cancel_state().expect("cancel node");
    if hook.is_some() || deadline.is_some() {
        let mut inner = cs.inner.lock();
        let extra = inner.extra.get_or_insert_with(Default::default);
        extra.hook = hook;
        extra.deadline = deadline;
    }
    let Some(owner) = canceler(parent) else {
        return node; // the parent can never end: nothing to link to
    };
    let ocs = owner.cancel_state().expect("canceler is a cancel node");
    let mut oin = ocs.inner.lock();
    let ended = if ocs.has_ended() { ocs.err() } else { None };
    match ended {
        None => {
            let slot = if kind == CancelKind::Hook {
                Slot::Strong(node.clone())
            } else {
                Slot::Weak(Arc::downgrade(&node))
            };
            match oin
                .children
                .get_or_insert_with(Default::default)
                .insert(slot)
            {
                Some(i) => cs.index.store(i, Ordering::Release),
                None => panic!("gochan::context: more than 4 billion live children of one context"),
            }
        }
        Some(err) => {
            let why = ocs.why(&oin);
            drop(oin);
            cancel_why(&node, err, why);
        }
    }
    node
}

/// Unlinks a cancel node from its canceler's slab (O(1)); idempotent.
fn detach(node: &Node) {
    let Some(cs) = node.cancel_state() else {
        return;
    };
    let i = cs.index.swap(NO_INDEX, Ordering::AcqRel);
    if i == NO_INDEX {
        return;
    }
    let Some(owner) = node.parent.as_ref().and_then(canceler) else {
        return;
    };
    let ocs = owner.cancel_state().expect("canceler is a cancel node");
    let removed = ocs.inner.lock().children.as_mut().and_then(|c| c.remove(i));
    drop(removed); // outside the lock: it may be the last reference of a hook node
}

/// Ends `node` and, iteratively, every cancelable descendant (no recursion: a tree a
/// million deep is fine). The first end wins: an ended node keeps its error and cause.
/// The node leaves its parent's slab.
pub(crate) fn cancel(node: &Arc<Node>, err: Error, cause: Option<Cause>) {
    cancel_why(node, err, cause.into());
}

/// [`cancel`] with any [`Why`] (a dropped cancel function is inherited like a cause).
#[inline]
pub(crate) fn cancel_why(node: &Arc<Node>, err: Error, why: Why) {
    // Already ended (a cancel function called twice, or dropped after its parent ended):
    // nothing to do, and nothing to detach, since whoever ended the node took it out of
    // its parent's slab before storing its state (the walk's `take_child`, or the
    // `detach` below).
    if node.cancel_state().is_some_and(CancelState::has_ended) {
        return;
    }
    cancel_walk(node, err, why);
}

/// [`cancel_why`] past its check.
#[inline(never)]
fn cancel_walk(node: &Arc<Node>, err: Error, why: Why) {
    detach(node);
    // Each node's first child is walked next without the stack, so a chain (or a node
    // with one child) allocates nothing; the stack holds the other children.
    let mut stack: Vec<Arc<Node>> = Vec::new();
    let mut next = end_one(node, err, &why, &mut stack);
    while let Some(n) = next.take().or_else(|| stack.pop()) {
        next = end_one(&n, err, &why, &mut stack);
    }
}

/// Ends one node (if still live): returns its first child and pushes the others, for the
/// walk.
fn end_one(n: &Node, err: Error, why: &Why, stack: &mut Vec<Arc<Node>>) -> Option<Arc<Node>> {
    let cs = n.cancel_state().expect("only cancel nodes are cancelled");
    if cs.has_ended() {
        return None; // first end wins; whoever ended it walks its children
    }
    let mut inner = cs.inner.lock();
    if cs.has_ended() {
        return None;
    }
    let mut code = if err == Error::Canceled {
        CANCELED
    } else {
        DEADLINE
    };
    match why {
        Why::Error => {}
        Why::Dropped(DroppedFunc::Plain) => code |= DROPPED_PLAIN,
        Why::Dropped(DroppedFunc::Cause) => code |= DROPPED_CAUSE,
        Why::Cause(c) => inner.extra.get_or_insert_with(Default::default).cause = Some(c.clone()),
    }
    let children = inner.children.take();
    let done = cs.done.chan();
    let (timer, hook) = match inner.extra.as_mut() {
        Some(e) => (e.timer.take(), e.hook.take()),
        None => (None, None),
    };
    match &done {
        Some(_) => cs.state.store(code, Ordering::Release),
        None => cs.state.store(code | DONE_CLOSED, Ordering::Release),
    }
    drop(inner);
    if let Some(chan) = done {
        let wakes = chan.close_deferred();
        cs.state.fetch_or(DONE_CLOSED, Ordering::Release);
        if let Some(w) = wakes {
            w.wake();
        }
    }
    if let Some(h) = timer {
        h.cancel();
    }
    if let Some(hook) = hook {
        hook();
    }
    let Some(children) = children else {
        return None; // a leaf
    };
    let (head, rest) = (*children).into_parts();
    let mut first = head.and_then(take_child);
    for c in rest.into_iter().filter_map(take_child) {
        match first {
            None => first = Some(c),
            Some(_) => stack.push(c),
        }
    }
    first
}

/// The live child in a slot taken from an ended node's slab, marked as out of any slab.
fn take_child(slot: Slot) -> Option<Arc<Node>> {
    let c = match slot {
        Slot::Weak(w) => w.upgrade(),
        Slot::Strong(a) => Some(a),
        Slot::Free(_) => None,
    }?;
    if let Some(ccs) = c.cancel_state() {
        ccs.index.store(NO_INDEX, Ordering::Release);
    }
    Some(c)
}

/// Arms the deadline timer of a fresh deadline node (ends it with `DeadlineExceeded` and
/// `cause`). A deadline already past ends the node at once.
pub(crate) fn arm_deadline(node: &Arc<Node>, at: Instant, cause: Option<Cause>) {
    if at <= crate::time::now() {
        cancel(node, Error::DeadlineExceeded, cause);
        return;
    }
    let weak = Arc::downgrade(node);
    let id = service::schedule(at, move |_| {
        if let Some(n) = weak.upgrade() {
            cancel(&n, Error::DeadlineExceeded, cause.clone());
        }
        None
    });
    let cs = node.cancel_state().expect("deadline node");
    let mut inner = cs.inner.lock();
    if cs.has_ended() {
        drop(inner);
        id.cancel();
    } else {
        inner.extra.get_or_insert_with(Default::default).timer = Some(id);
    }
}

/// Stops a hook node before its hook ran: `true` if this call prevented the run.
pub(crate) fn stop_hook(node: &Arc<Node>) -> bool {
    let cs = node.cancel_state().expect("hook node");
    let hook = cs.inner.lock().extra.as_mut().and_then(|e| e.hook.take());
    match hook {
        Some(h) => {
            cancel(node, Error::Canceled, None);
            drop(h);
            true
        }
        None => false,
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Body::Cancel(cs) = &mut self.body {
            if let Some(id) = cs
                .inner
                .get_mut()
                .extra
                .as_mut()
                .and_then(|e| e.timer.take())
            {
                id.cancel();
            }
        }
        detach(self);
        // Unwind the parent chain iteratively: dropping a million-deep chain must not
        // recurse a million frames.
        let mut parent = self.parent.take();
        while let Some(p) = parent {
            match Arc::into_inner(p) {
                Some(mut node) => {
                    if let Body::Cancel(cs) = &mut node.body {
                        let timer = cs
                            .inner
                            .get_mut()
                            .extra
                            .as_mut()
                            .and_then(|e| e.timer.take());
                        if let Some(id) = timer {
                            id.cancel();
                        }
                    }
                    detach(&node);
                    parent = node.parent.take();
                    if let Body::Value { canceler, .. } = &mut node.body {
                        // A value node's canceler is also an ancestor: release it without
                        // recursing through its own drop.
                        canceler.take();
                    }
                }
                None => break,
            }
        }
    }
}
