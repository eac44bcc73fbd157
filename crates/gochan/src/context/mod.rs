//! Go's `context` package: cancellation trees, deadlines, request-scoped values, causes
//! and `AfterFunc`, for threads and async tasks.
//!
//! Rust improvements over Go: a [`CancelFunc`] cancels when dropped (Go's forgotten
//! `cancel()` leak cannot happen); values are keyed by their type (no key collisions, no
//! casts); [`Context::done`] is a gochan [`Receiver`], so it works with `recv()`,
//! `recv_async().await`, `select!` and `select_async!`.
//!
//! ```
//! use std::time::Duration;
//! use gochan::context;
//!
//! let (ctx, _cancel) = context::with_timeout(&context::background(), Duration::from_millis(20));
//! let (_tx, results) = gochan::bounded::<u32>(0); // a slow operation that never answers
//! gochan::select! {
//!     recv(results) -> _ => unreachable!(),
//!     recv(ctx.done()) -> _ => assert_eq!(ctx.err(), Some(context::Error::DeadlineExceeded)),
//! }
//! ```

mod after_func;
mod bridge;
mod cancel_func;
mod display;
mod done_slot;
mod error;
mod slab;
mod tree;

use std::any::TypeId;
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

pub use after_func::{after_func, AfterFunc};
pub use bridge::{cancel_when, CancelWhen};
#[cfg(feature = "tokio")]
pub use bridge::{from_cancellation_token, to_cancellation_token};
pub use cancel_func::{CancelCauseFunc, CancelFunc, WeakCancelFunc};
pub use error::{CancelFuncDropped, Error};

use self::tree::{Body, CancelKind, Cause, Node};
use crate::chan::Receiver;

/// A context: a cancellation signal, an optional deadline and request-scoped values,
/// shared by everything working on one request. Cheap to clone (one `Arc`).
///
/// ```
/// use gochan::context;
/// let (ctx, cancel) = context::with_cancel(&context::background());
/// assert_eq!(ctx.err(), None);
/// cancel.cancel();
/// assert_eq!(ctx.err(), Some(context::Error::Canceled));
/// assert!(ctx.done().recv().is_err()); // closed
/// ```
#[derive(Clone)]
pub struct Context {
    node: Arc<Node>,
}

/// The type-erased cause of a context's end.
///
/// What [`cause`] returns: the error given to a [`CancelCauseFunc`], or else the
/// context's own [`Error`]. Downcast it to read a typed cause.
///
/// ```
/// use gochan::context::{self, CauseError};
/// let (ctx, cancel) = context::with_cancel_cause(&context::background());
/// cancel.cancel("disk full");
/// let cause: CauseError = context::cause(&ctx).unwrap();
/// assert_eq!(cause.to_string(), "disk full");
/// assert_eq!(ctx.err(), Some(context::Error::Canceled)); // err() stays Go's sentinel
/// ```
pub type CauseError = Arc<dyn std::error::Error + Send + Sync>;

/// The root context: never cancelled, no values, no deadline. Go's `context.Background()`.
///
/// ```
/// let ctx = gochan::context::background();
/// assert_eq!(ctx.to_string(), "context.Background");
/// assert!(ctx.err().is_none());
/// ```
pub fn background() -> Context {
    static BG: OnceLock<Context> = OnceLock::new();
    BG.get_or_init(|| root("context.Background")).clone()
}

/// A placeholder root for code not yet given a context. Go's `context.TODO()`.
///
/// ```
/// assert_eq!(gochan::context::todo().to_string(), "context.TODO");
/// ```
pub fn todo() -> Context {
    static TODO: OnceLock<Context> = OnceLock::new();
    TODO.get_or_init(|| root("context.TODO")).clone()
}

fn root(name: &'static str) -> Context {
    Context {
        node: Arc::new(Node {
            parent: None,
            body: Body::Root(name),
        }),
    }
}

/// A child that ends when `parent` ends or when the returned [`CancelFunc`] is called
/// or dropped. Go's `context.WithCancel`.
///
/// Keep the `CancelFunc` alive as long as the context should live: `let (ctx, _) =
/// with_cancel(..)` drops it at once (the `_` pattern does not bind) and so cancels the
/// context immediately. Bind it to a name (`_cancel` is fine) instead; see
/// [`CancelFunc`] for the trap and [`CancelFuncDropped`], the cause it leaves.
///
/// ```
/// use gochan::context;
/// let (parent, cancel_parent) = context::with_cancel(&context::background());
/// let (child, _cancel_child) = context::with_cancel(&parent);
/// cancel_parent.cancel();
/// assert_eq!(child.err(), Some(context::Error::Canceled));
/// ```
pub fn with_cancel(parent: &Context) -> (Context, CancelFunc) {
    let node = tree::new_cancel_node(&parent.node, CancelKind::Cancel, None, None);
    (Context { node: node.clone() }, CancelFunc { node })
}

/// Like [`with_cancel`], but the cancel function records a cause, read back with
/// [`cause`]. Go's `context.WithCancelCause`.
///
/// ```
/// use gochan::context;
/// let (ctx, cancel) = context::with_cancel_cause(&context::background());
/// cancel.cancel("backend unreachable");
/// assert_eq!(ctx.err(), Some(context::Error::Canceled));
/// assert_eq!(context::cause(&ctx).unwrap().to_string(), "backend unreachable");
/// ```
pub fn with_cancel_cause(parent: &Context) -> (Context, CancelCauseFunc) {
    let node = tree::new_cancel_node(&parent.node, CancelKind::Cancel, None, None);
    (Context { node: node.clone() }, CancelCauseFunc { node })
}

/// A child that also ends with [`Error::DeadlineExceeded`] at `deadline`. If the parent's
/// deadline is earlier, this is just [`with_cancel`] (and reports the parent's deadline);
/// a deadline already past ends the child at once. Go's `context.WithDeadline`.
///
/// ```
/// use std::time::{Duration, Instant};
/// use gochan::context;
/// let at = Instant::now() + Duration::from_millis(10);
/// let (ctx, _cancel) = context::with_deadline(&context::background(), at);
/// assert_eq!(ctx.deadline(), Some(at));
/// ctx.wait();
/// assert_eq!(ctx.err(), Some(context::Error::DeadlineExceeded));
/// ```
pub fn with_deadline(parent: &Context, deadline: Instant) -> (Context, CancelFunc) {
    deadline_node(parent, deadline, None)
}

/// Like [`with_deadline`], but when the deadline passes the context's cause is `cause`
/// (cancelling through the returned function still gives cause `Canceled`). Go's
/// `context.WithDeadlineCause`.
///
/// ```
/// use std::time::Instant;
/// use gochan::context;
/// let (ctx, _c) = context::with_deadline_cause(&context::background(), Instant::now(), "too slow");
/// assert_eq!(ctx.err(), Some(context::Error::DeadlineExceeded));
/// assert_eq!(context::cause(&ctx).unwrap().to_string(), "too slow");
/// ```
pub fn with_deadline_cause(
    parent: &Context,
    deadline: Instant,
    cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> (Context, CancelFunc) {
    deadline_node(parent, deadline, Some(Arc::from(cause.into())))
}

/// [`with_deadline`] at now + `timeout`. A timeout too large to represent never fires.
/// Go's `context.WithTimeout`.
///
/// ```
/// use std::time::Duration;
/// let (ctx, cancel) = gochan::context::with_timeout(
///     &gochan::context::background(), Duration::from_secs(60));
/// assert!(ctx.deadline().is_some());
/// drop(cancel); // cancels: Go's `defer cancel()`
/// assert!(ctx.err().is_some());
/// ```
pub fn with_timeout(parent: &Context, timeout: Duration) -> (Context, CancelFunc) {
    match crate::time::now().checked_add(timeout) {
        Some(at) => with_deadline(parent, at),
        None => with_cancel(parent),
    }
}

/// [`with_deadline_cause`] at now + `timeout`. Go's `context.WithTimeoutCause`.
///
/// ```
/// use std::time::Duration;
/// use gochan::context;
/// let (ctx, _c) = context::with_timeout_cause(&context::background(), Duration::ZERO, "slow");
/// assert_eq!(context::cause(&ctx).unwrap().to_string(), "slow");
/// ```
pub fn with_timeout_cause(
    parent: &Context,
    timeout: Duration,
    cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> (Context, CancelFunc) {
    match crate::time::now().checked_add(timeout) {
        Some(at) => with_deadline_cause(parent, at, cause),
        None => with_cancel(parent),
    }
}

fn deadline_node(parent: &Context, at: Instant, cause: Option<Cause>) -> (Context, CancelFunc) {
    if parent.deadline().is_some_and(|cur| cur < at) {
        return with_cancel(parent); // the parent's deadline comes first anyway
    }
    let node = tree::new_cancel_node(&parent.node, CancelKind::Deadline, Some(at), None);
    tree::arm_deadline(&node, at, cause);
    (Context { node: node.clone() }, CancelFunc { node })
}

/// A child carrying `value`, found by [`Context::value::<T>`] on it and its descendants.
/// Values are keyed by type: use a newtype per key. Go's `context.WithValue`.
///
/// ```
/// use gochan::context;
/// #[derive(Debug, PartialEq)]
/// struct RequestId(u64);
/// let ctx = context::with_value(&context::background(), RequestId(7));
/// let child = context::with_cancel(&ctx).0;
/// assert_eq!(child.value::<RequestId>(), Some(&RequestId(7)));
/// assert_eq!(child.value::<String>(), None);
/// ```
#[must_use = "with_value returns a new context; the parent is unchanged"]
pub fn with_value<T: Send + Sync + 'static>(parent: &Context, value: T) -> Context {
    Context {
        node: Arc::new(Node {
            parent: Some(parent.node.clone()),
            body: Body::Value {
                canceler: tree::canceler(&parent.node).cloned(),
                key: TypeId::of::<T>(),
                value: Box::new(value),
            },
        }),
    }
}

/// A child that keeps `parent`'s values but is never cancelled and has no deadline. Go's
/// `context.WithoutCancel`.
///
/// ```
/// use gochan::context;
/// let (parent, cancel) = context::with_cancel(&context::with_value(&context::background(), 5u8));
/// let detached = context::without_cancel(&parent);
/// cancel.cancel();
/// assert!(detached.err().is_none());
/// assert_eq!(detached.value::<u8>(), Some(&5));
/// ```
#[must_use = "without_cancel returns a new context; the parent is unchanged"]
pub fn without_cancel(parent: &Context) -> Context {
    Context {
        node: Arc::new(Node {
            parent: Some(parent.node.clone()),
            body: Body::WithoutCancel,
        }),
    }
}

/// Why `ctx` ended: `None` while it is live; the cause given to a cause-cancel (or to a
/// `*_cause` deadline that fired); a [`CancelFuncDropped`] if its cancel function was
/// dropped instead of called; else the context's error. A child ended by its parent
/// has its parent's cause. Go's `context.Cause`.
///
/// ```
/// use gochan::context;
/// let (ctx, cancel) = context::with_cancel(&context::background());
/// assert!(context::cause(&ctx).is_none());
/// cancel.cancel();
/// assert_eq!(context::cause(&ctx).unwrap().to_string(), "context canceled");
/// ```
pub fn cause(ctx: &Context) -> Option<CauseError> {
    tree::canceler(&ctx.node)?.cancel_state()?.cause()
}

impl Context {
    /// A channel that is closed when this context ends: use it with `recv()`,
    /// `recv_async().await`, `select!` or `select_async!`. For a context that can never
    /// end it is [`never`](crate::never) (Go's nil `Done()`).
    ///
    /// ```
    /// use gochan::context;
    /// let (ctx, cancel) = context::with_cancel(&context::background());
    /// std::thread::spawn(move || cancel.cancel());
    /// assert!(ctx.done().recv().is_err()); // returns once cancelled
    /// ```
    pub fn done(&self) -> Receiver<()> {
        match tree::canceler(&self.node) {
            Some(n) => {
                let rx = n.cancel_state().expect("canceler is a cancel node").done();
                #[cfg(feature = "debug-handles")]
                if !rx.chan.holders.has_wakers() {
                    let node = Arc::downgrade(n);
                    rx.chan
                        .holders
                        .set_wakers(Box::new(move || match node.upgrade() {
                            Some(n) => tree::wakers(&n),
                            None => crate::debug::handles::Wakers::unknown(),
                        }));
                }
                rx
            }
            None => crate::chan::never(),
        }
    }

    /// `None` while live; why it ended otherwise. One atomic load while the context is
    /// live; once it has ended, `err()` returns only after the done channel is closed
    /// (Go's guarantee that `Err() != nil` implies `Done()` is closed), so in the few
    /// instructions between a cancel publishing its state and closing the channel a
    /// caller may yield its thread until the close lands.
    ///
    /// ```
    /// assert_eq!(gochan::context::background().err(), None);
    /// ```
    pub fn err(&self) -> Option<Error> {
        tree::canceler(&self.node)
            .and_then(|n| n.cancel_state())
            .and_then(|cs| cs.err())
    }

    /// Whether the context has ended (`err().is_some()`).
    ///
    /// ```
    /// assert!(!gochan::context::background().is_done());
    /// ```
    pub fn is_done(&self) -> bool {
        self.err().is_some()
    }

    /// The earliest deadline on the chain, if any.
    ///
    /// ```
    /// assert_eq!(gochan::context::background().deadline(), None);
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        let mut n = &self.node;
        loop {
            match &n.body {
                Body::Root(_) | Body::WithoutCancel => return None,
                Body::Cancel(cs) => {
                    if cs.kind == CancelKind::Deadline {
                        return cs.deadline();
                    }
                }
                Body::Value { .. } => {}
            }
            n = n.parent.as_ref()?;
        }
    }

    /// The nearest value of type `T` on the chain. Go's `ctx.Value(key)`.
    ///
    /// ```
    /// let ctx = gochan::context::with_value(&gochan::context::background(), "user-ip");
    /// assert_eq!(ctx.value::<&str>(), Some(&"user-ip"));
    /// ```
    pub fn value<T: Send + Sync + 'static>(&self) -> Option<&T> {
        let mut n = &self.node;
        loop {
            if let Body::Value { key, value, .. } = &n.body {
                // One comparison per node; the downcast only on a match.
                if *key == TypeId::of::<T>() {
                    return (**value).as_any().downcast_ref::<T>();
                }
            }
            n = n.parent.as_ref()?;
        }
    }

    /// Blocks the thread until the context ends (forever for one that cannot end).
    ///
    /// # Panics
    /// With the `tokio` feature, if it would park a tokio worker thread (use `ctx.cancelled().await` in
    /// async code); see [`Receiver::recv`](crate::Receiver::recv).
    ///
    /// ```
    /// let (ctx, _c) = gochan::context::with_timeout(
    ///     &gochan::context::background(), std::time::Duration::from_millis(1));
    /// ctx.wait();
    /// assert!(ctx.is_done());
    /// ```
    #[track_caller]
    pub fn wait(&self) {
        let _scope = crate::debug::registry::scope(
            crate::debug::BlockedOp::ContextWait,
            std::panic::Location::caller(),
        );
        if !self.is_done() {
            crate::prim::blocking::check(crate::prim::blocking::Op::ContextWait);
        }
        let _ = self.done().recv();
    }

    /// Blocks until the context ends or `timeout` passes; returns whether it ended.
    ///
    /// # Panics
    /// With the `tokio` feature, if it would park a tokio worker thread (use a `select_async!` on `ctx.done()` with `default(timeout)` in
    /// async code); see [`Receiver::recv`](crate::Receiver::recv).
    ///
    /// ```
    /// let ctx = gochan::context::background();
    /// assert!(!ctx.wait_timeout(std::time::Duration::from_millis(1)));
    /// ```
    #[track_caller]
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        if self.is_done() {
            return true;
        }
        if !timeout.is_zero() {
            crate::prim::blocking::check(crate::prim::blocking::Op::ContextWait);
        }
        let _scope = crate::debug::registry::scope(
            crate::debug::BlockedOp::ContextWait,
            std::panic::Location::caller(),
        );
        let _ = self.done().recv_timeout(timeout);
        self.is_done()
    }

    /// Resolves when the context ends (never, for one that cannot end). Runtime-agnostic.
    ///
    /// ```
    /// let (ctx, cancel) = gochan::context::with_cancel(&gochan::context::background());
    /// cancel.cancel();
    /// futures::executor::block_on(ctx.cancelled());
    /// ```
    pub async fn cancelled(&self) {
        let done = self.done();
        let _ = done.recv_async().await;
    }

    /// Whether this context can ever end (it has a cancelable ancestor); `done()` is
    /// `never()` otherwise.
    pub(crate) fn can_end(&self) -> bool {
        tree::canceler(&self.node).is_some()
    }

    /// Number of cancelable children linked to this context's node (diagnostics: shows
    /// that ended or dropped children leave their parent).
    ///
    /// ```
    /// use gochan::context;
    /// let (parent, _c) = context::with_cancel(&context::background());
    /// let child = context::with_cancel(&parent);
    /// assert_eq!(parent.child_count(), 1);
    /// drop(child);
    /// assert_eq!(parent.child_count(), 0);
    /// ```
    pub fn child_count(&self) -> usize {
        self.node.cancel_state().map_or(0, |cs| cs.child_count())
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("name", &self.to_string())
            .field("err", &self.err())
            .finish()
    }
}
