//! The cancel functions returned by the `with_*` constructors.

use std::fmt;
use std::sync::{Arc, Weak};

use super::error::DroppedFunc;
use super::tree::{self, Node, Why};
use super::{CauseError, Error};

/// Cancels its context when called or dropped (Go's `defer cancel()` by default).
/// Cancelling is idempotent: the first cancellation wins.
///
/// ```
/// use gochan::context;
/// let (ctx, cancel) = context::with_cancel(&context::background());
/// cancel.cancel();
/// cancel.cancel(); // no effect
/// assert!(ctx.is_done());
/// ```
///
/// # Keep it bound: the `let (ctx, _) = ...` trap
/// Dropping a `CancelFunc` cancels its context, and `_` is not a variable: a value
/// matched by `_` is dropped at the end of the statement. So `let (ctx, _) =
/// context::with_timeout(..)` returns a context that is **already cancelled**: every
/// `select!` on its `done()` fires at once and `err()` is `Canceled`, not
/// `DeadlineExceeded` later. Bind the function to a name for as long as the context
/// should live; `_cancel` is fine (a leading underscore silences the unused-variable
/// lint but, unlike `_`, keeps the value until the end of the scope, which is Go's
/// `defer cancel()`).
///
/// A context ended by a dropped `CancelFunc` says so: its [`cause`](super::cause) (and
/// that of every descendant) is a [`CancelFuncDropped`](super::CancelFuncDropped),
/// displayed as `context canceled (CancelFunc dropped)`.
///
/// ```
/// use std::time::Duration;
/// use gochan::context::{self, CancelFuncDropped};
/// let bg = context::background();
///
/// // Wrong: `_` drops the CancelFunc right here, so the context is already over.
/// let (ctx, _) = context::with_timeout(&bg, Duration::from_secs(5));
/// assert_eq!(ctx.err(), Some(context::Error::Canceled));
/// let cause = context::cause(&ctx).unwrap();
/// assert!(cause.is::<CancelFuncDropped>());
/// assert_eq!(cause.to_string(), "context canceled (CancelFunc dropped)");
///
/// // Right: `_cancel` lives until the end of the scope.
/// let (ctx, _cancel) = context::with_timeout(&bg, Duration::from_secs(5));
/// assert_eq!(ctx.err(), None);
/// ```
#[must_use = "dropping a CancelFunc cancels its context at once"]
pub struct CancelFunc {
    pub(super) node: Arc<Node>,
}

impl CancelFunc {
    /// Cancels the context (and its descendants) with [`Error::Canceled`]; its cause is
    /// `Canceled` too (as in Go; only a drop records [`CancelFuncDropped`](super::CancelFuncDropped)).
    ///
    /// ```
    /// use gochan::context;
    /// let (ctx, cancel) = context::with_cancel(&context::background());
    /// cancel.cancel();
    /// assert!(ctx.is_done());
    /// let cause = context::cause(&ctx).unwrap();
    /// assert_eq!(cause.downcast_ref::<context::Error>(), Some(&context::Error::Canceled));
    /// ```
    pub fn cancel(&self) {
        tree::cancel(&self.node, Error::Canceled, None);
    }

    /// A [`WeakCancelFunc`]: it can cancel the context, but dropping it does not, and it
    /// does not keep "cancel when the `CancelFunc` is dropped" from happening. Give it to
    /// a struct its own worker holds, and keep the `CancelFunc` with the owner.
    ///
    /// ```
    /// use gochan::context;
    /// let (ctx, cancel) = context::with_cancel(&context::background());
    /// let weak = cancel.downgrade();
    /// drop(weak); // no effect
    /// assert!(!ctx.is_done());
    /// cancel.downgrade().cancel();
    /// assert_eq!(ctx.err(), Some(context::Error::Canceled));
    /// ```
    pub fn downgrade(&self) -> WeakCancelFunc {
        #[cfg(feature = "debug-handles")]
        touch(&self.node);
        WeakCancelFunc {
            node: Arc::downgrade(&self.node),
        }
    }
}

/// Records the calling thread as a holder of `node`'s cancel function (`debug-handles`).
#[cfg(feature = "debug-handles")]
fn touch(node: &Node) {
    if let Some(cs) = node.cancel_state() {
        cs.holders.touch();
    }
}

/// A cancel function that does not cancel when dropped: [`CancelFunc::downgrade`].
///
/// It prevents a classic leak. A service struct that owns its context's `CancelFunc`,
/// shared (`Arc<Self>`) with the worker that waits on the context, keeps the context
/// alive for as long as the worker runs, and the worker runs until the context ends:
/// neither ever happens. Keep the `CancelFunc` with whoever owns the service, and put a
/// `WeakCancelFunc` in the struct.
///
/// ```
/// use std::sync::Arc;
/// use gochan::context::{self, Context, WeakCancelFunc};
///
/// struct Service { ctx: Context, stop: WeakCancelFunc }
///
/// let (ctx, cancel) = context::with_cancel(&context::background());
/// let svc = Arc::new(Service { ctx, stop: cancel.downgrade() });
/// let worker = {
///     let svc = svc.clone();
///     std::thread::spawn(move || svc.ctx.wait()) // holds the struct while it waits
/// };
/// drop(cancel); // the owner is done: the context ends, the worker returns
/// worker.join().unwrap();
/// svc.stop.cancel(); // still callable; the context has ended already
/// ```
#[derive(Clone)]
pub struct WeakCancelFunc {
    node: Weak<Node>,
}

impl WeakCancelFunc {
    /// Cancels the context with [`Error::Canceled`], like [`CancelFunc::cancel`]; no
    /// effect once the context has ended or is gone.
    ///
    /// ```
    /// use gochan::context;
    /// let (ctx, cancel) = context::with_cancel(&context::background());
    /// let weak = cancel.downgrade();
    /// weak.cancel();
    /// assert!(ctx.is_done());
    /// ```
    pub fn cancel(&self) {
        if let Some(node) = self.node.upgrade() {
            tree::cancel(&node, Error::Canceled, None);
        }
    }
}

impl fmt::Debug for WeakCancelFunc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WeakCancelFunc")
    }
}

impl Drop for CancelFunc {
    fn drop(&mut self) {
        tree::cancel_why(
            &self.node,
            Error::Canceled,
            Why::Dropped(DroppedFunc::Plain),
        );
    }
}

impl fmt::Debug for CancelFunc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CancelFunc")
    }
}

/// Cancels its context with a cause. Dropping it cancels too, with a
/// [`CancelFuncDropped`](super::CancelFuncDropped) cause (`context canceled
/// (CancelCauseFunc dropped)`); like a [`CancelFunc`], keep it bound to a name (`_cancel`,
/// never `_`) for as long as the context should live.
///
/// ```
/// use gochan::context::{self, CancelFuncDropped};
/// let (ctx, cancel) = context::with_cancel_cause(&context::background());
/// drop(cancel);
/// assert_eq!(ctx.err(), Some(context::Error::Canceled));
/// let cause = context::cause(&ctx).unwrap();
/// assert!(cause.is::<CancelFuncDropped>());
/// assert_eq!(cause.to_string(), "context canceled (CancelCauseFunc dropped)");
/// ```
#[must_use = "dropping a CancelCauseFunc cancels its context at once"]
pub struct CancelCauseFunc {
    pub(super) node: Arc<Node>,
}

impl CancelCauseFunc {
    /// Cancels with [`Error::Canceled`], recording `cause` (only the first cancel counts).
    ///
    /// ```
    /// use gochan::context;
    /// let (ctx, cancel) = context::with_cancel_cause(&context::background());
    /// cancel.cancel(std::io::Error::other("disk full"));
    /// cancel.cancel("ignored: already cancelled");
    /// assert_eq!(context::cause(&ctx).unwrap().to_string(), "disk full");
    /// ```
    pub fn cancel(&self, cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) {
        tree::cancel(&self.node, Error::Canceled, Some(Arc::from(cause.into())));
    }

    /// Cancels with cause `Canceled` (Go's `cancel(nil)`).
    ///
    /// ```
    /// use gochan::context;
    /// let (ctx, cancel) = context::with_cancel_cause(&context::background());
    /// cancel.cancel_without_cause();
    /// assert_eq!(context::cause(&ctx).unwrap().to_string(), "context canceled");
    /// ```
    pub fn cancel_without_cause(&self) {
        tree::cancel(&self.node, Error::Canceled, None);
    }

    /// Cancels with a cause that is already shared, unchanged (so `cause(&ctx)` returns
    /// this very `Arc`, and downcasts to the original error type keep working): for
    /// passing one context's cause on to another.
    ///
    /// ```
    /// use gochan::context;
    /// let (a, cancel_a) = context::with_cancel_cause(&context::background());
    /// cancel_a.cancel(std::io::Error::other("disk full"));
    /// let (b, cancel_b) = context::with_cancel_cause(&context::background());
    /// cancel_b.cancel_shared(context::cause(&a).unwrap());
    /// let c = context::cause(&b).unwrap();
    /// assert!(c.downcast_ref::<std::io::Error>().is_some());
    /// ```
    pub fn cancel_shared(&self, cause: CauseError) {
        tree::cancel(&self.node, Error::Canceled, Some(cause));
    }
}

impl Drop for CancelCauseFunc {
    fn drop(&mut self) {
        tree::cancel_why(
            &self.node,
            Error::Canceled,
            Why::Dropped(DroppedFunc::Cause),
        );
    }
}

impl fmt::Debug for CancelCauseFunc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CancelCauseFunc")
    }
}
