//! The two ways a context ends, with Go's messages.

use std::fmt;
use std::sync::{Arc, OnceLock};

/// Why a context ended: Go's `context.Canceled` and `context.DeadlineExceeded`.
///
/// ```
/// use gochan::context::Error;
/// assert_eq!(Error::Canceled.to_string(), "context canceled");
/// assert_eq!(Error::DeadlineExceeded.to_string(), "context deadline exceeded");
/// assert!(Error::DeadlineExceeded.is_timeout());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// The context was cancelled (Go's `context.Canceled`).
    Canceled,
    /// The context's deadline passed (Go's `context.DeadlineExceeded`).
    DeadlineExceeded,
}

impl Error {
    /// Whether this is `DeadlineExceeded` (Go's `Timeout() bool` on that error).
    ///
    /// ```
    /// assert!(!gochan::context::Error::Canceled.is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::DeadlineExceeded)
    }

    /// Whether this is `Canceled`.
    ///
    /// ```
    /// assert!(gochan::context::Error::Canceled.is_canceled());
    /// ```
    pub fn is_canceled(&self) -> bool {
        matches!(self, Error::Canceled)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Canceled => "context canceled",
            Error::DeadlineExceeded => "context deadline exceeded",
        })
    }
}

impl std::error::Error for Error {}

/// Which cancel function was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum DroppedFunc {
    /// A [`CancelFunc`](super::CancelFunc).
    Plain,
    /// A [`CancelCauseFunc`](super::CancelCauseFunc).
    Cause,
}

/// The [`cause`](super::cause) of a context that ended because its
/// [`CancelFunc`](super::CancelFunc) or [`CancelCauseFunc`](super::CancelCauseFunc) was
/// dropped without being called (its descendants inherit it, as Go's children inherit
/// their parent's cause). The context's [`err()`](super::Context::err) is
/// [`Error::Canceled`] as for any cancel; an explicit `cancel()` gives cause
/// `Canceled` instead, as in Go.
///
/// Test for it by downcasting the cause. Its `Display` is `context canceled (CancelFunc
/// dropped)` (or `(CancelCauseFunc dropped)`).
///
/// ```
/// use gochan::context::{self, CancelFuncDropped};
/// let (ctx, cancel) = context::with_cancel(&context::background());
/// let (child, _cancel_child) = context::with_cancel(&ctx);
/// drop(cancel);
/// assert_eq!(ctx.err(), Some(context::Error::Canceled));
/// let cause = context::cause(&child).unwrap(); // inherited from ctx
/// assert!(cause.is::<CancelFuncDropped>());
/// assert_eq!(cause.to_string(), "context canceled (CancelFunc dropped)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CancelFuncDropped {
    func: DroppedFunc,
}

impl CancelFuncDropped {
    /// Whether the dropped function was a [`CancelCauseFunc`](super::CancelCauseFunc)
    /// (else a [`CancelFunc`](super::CancelFunc)).
    ///
    /// ```
    /// use gochan::context::{self, CancelFuncDropped};
    /// let (ctx, cancel) = context::with_cancel_cause(&context::background());
    /// drop(cancel);
    /// let cause = context::cause(&ctx).unwrap();
    /// assert!(cause.downcast_ref::<CancelFuncDropped>().unwrap().was_cause_func());
    /// ```
    pub fn was_cause_func(&self) -> bool {
        self.func == DroppedFunc::Cause
    }

    /// The error every context ended this way reports from `err()`: `Canceled`.
    ///
    /// ```
    /// use gochan::context::{self, CancelFuncDropped};
    /// let (ctx, cancel) = context::with_cancel(&context::background());
    /// drop(cancel);
    /// let cause = context::cause(&ctx).unwrap();
    /// let dropped = cause.downcast_ref::<CancelFuncDropped>().unwrap();
    /// assert_eq!(Some(dropped.error()), ctx.err());
    /// ```
    pub fn error(&self) -> Error {
        Error::Canceled
    }

    /// One shared `Arc` per kind: reading the cause allocates nothing.
    pub(crate) fn shared(func: DroppedFunc) -> super::CauseError {
        static PLAIN: OnceLock<super::CauseError> = OnceLock::new();
        static CAUSE: OnceLock<super::CauseError> = OnceLock::new();
        let cell = match func {
            DroppedFunc::Plain => &PLAIN,
            DroppedFunc::Cause => &CAUSE,
        };
        cell.get_or_init(|| Arc::new(CancelFuncDropped { func }))
            .clone()
    }
}

impl fmt::Display for CancelFuncDropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.func {
            DroppedFunc::Plain => "context canceled (CancelFunc dropped)",
            DroppedFunc::Cause => "context canceled (CancelCauseFunc dropped)",
        })
    }
}

impl std::error::Error for CancelFuncDropped {}
