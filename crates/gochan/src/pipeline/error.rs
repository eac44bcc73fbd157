//! The error of [`first`](super::first).

use std::fmt;

use crate::context;

/// Why [`first`](super::first) has no answer.
///
/// ```
/// use gochan::{context, pipeline};
/// let none: Vec<fn(&context::Context) -> u8> = Vec::new();
/// let err = pipeline::first(&context::background(), none).unwrap_err();
/// assert_eq!(err, pipeline::FirstError::NoQueries);
/// assert_eq!(err.to_string(), "pipeline::first: no queries to run");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FirstError {
    /// The query list was empty: nothing could answer.
    NoQueries,
    /// The context ended before any query answered: its error (displayed as Go's
    /// "context canceled" / "context deadline exceeded").
    Context(context::Error),
}

impl FirstError {
    /// The context's error, for [`FirstError::Context`].
    ///
    /// ```
    /// use gochan::context::Error;
    /// use gochan::pipeline::FirstError;
    /// assert_eq!(FirstError::Context(Error::Canceled).context_error(), Some(Error::Canceled));
    /// assert_eq!(FirstError::NoQueries.context_error(), None);
    /// ```
    pub fn context_error(&self) -> Option<context::Error> {
        match self {
            FirstError::NoQueries => None,
            FirstError::Context(e) => Some(*e),
        }
    }
}

/// ```
/// use gochan::{context, pipeline::FirstError};
/// let e: FirstError = context::Error::DeadlineExceeded.into();
/// assert_eq!(e.to_string(), "context deadline exceeded");
/// ```
impl From<context::Error> for FirstError {
    fn from(e: context::Error) -> FirstError {
        FirstError::Context(e)
    }
}

impl fmt::Display for FirstError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FirstError::NoQueries => f.write_str("pipeline::first: no queries to run"),
            FirstError::Context(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl std::error::Error for FirstError {}
