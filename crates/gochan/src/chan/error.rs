//! Channel errors. Every error of a send gives the unsent value back (`into_inner`).

use std::fmt;

/// A send failed because the channel is closed or every receiver is gone.
///
/// The error keeps crossbeam-channel's shape (`SendError(value)`, so
/// `assert_eq!(tx.send(1), Err(SendError(1)))` works) and so does not carry the reason
/// itself: both states are final, and [`Sender::receiver_count`](crate::Sender::receiver_count)
/// tells them apart (`0`: every receiver is gone; otherwise the channel was closed).
///
/// ```
/// let (tx, rx) = gochan::bounded::<i32>(1);
/// drop(rx);
/// let err = tx.send(7).unwrap_err();
/// assert_eq!(err.into_inner(), 7);
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

/// A non-blocking send failed.
///
/// ```
/// use gochan::TrySendError;
/// let (tx, _rx) = gochan::bounded::<i32>(0);
/// assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum TrySendError<T> {
    /// The buffer is full and no receiver is waiting.
    Full(T),
    /// The channel is closed or every receiver is gone.
    Closed(T),
}

/// A send with a time limit failed.
///
/// ```
/// use std::time::Duration;
/// use gochan::SendTimeoutError;
/// let (tx, _rx) = gochan::bounded::<i32>(0);
/// let r = tx.send_timeout(1, Duration::from_millis(1));
/// assert_eq!(r, Err(SendTimeoutError::Timeout(1)));
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum SendTimeoutError<T> {
    /// Nobody took the value in time.
    Timeout(T),
    /// The channel is closed or every receiver is gone.
    Closed(T),
}

/// A receive failed: the channel is closed (or every sender is gone) and drained.
///
/// ```
/// let (tx, rx) = gochan::bounded::<i32>(1);
/// tx.close();
/// assert_eq!(rx.recv(), Err(gochan::RecvError));
/// ```
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
pub struct RecvError;

/// A non-blocking receive failed.
///
/// ```
/// use gochan::TryRecvError;
/// let (_tx, rx) = gochan::bounded::<i32>(1);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// ```
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
pub enum TryRecvError {
    /// Nothing to receive right now.
    Empty,
    /// Closed and drained.
    Closed,
}

/// A receive with a time limit failed.
///
/// ```
/// use std::time::Duration;
/// use gochan::RecvTimeoutError;
/// let (_tx, rx) = gochan::bounded::<i32>(1);
/// assert_eq!(rx.recv_timeout(Duration::from_millis(1)), Err(RecvTimeoutError::Timeout));
/// ```
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
pub enum RecvTimeoutError {
    /// Nothing arrived in time.
    Timeout,
    /// Closed and drained.
    Closed,
}

impl<T> SendError<T> {
    /// The value that was not sent.
    ///
    /// ```
    /// let (tx, _rx) = gochan::bounded(1);
    /// tx.close();
    /// let err = tx.send(String::from("late")).unwrap_err();
    /// assert_eq!(err.into_inner(), "late"); // the value comes back, nothing is lost
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> TrySendError<T> {
    /// The value that was not sent.
    ///
    /// ```
    /// let (tx, _rx) = gochan::bounded(1);
    /// tx.try_send(1).unwrap();
    /// let err = tx.try_send(2).unwrap_err(); // the buffer holds one value
    /// assert_eq!(err.into_inner(), 2);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(v) | TrySendError::Closed(v) => v,
        }
    }
    /// Whether the send failed because the buffer was full.
    ///
    /// ```
    /// let (tx, _rx) = gochan::bounded::<i32>(0); // unbuffered, nobody receiving
    /// assert!(tx.try_send(1).unwrap_err().is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, TrySendError::Full(_))
    }
    /// Whether the send failed because the channel is closed.
    ///
    /// ```
    /// let (tx, _rx) = gochan::bounded::<i32>(1);
    /// tx.close();
    /// assert!(tx.try_send(1).unwrap_err().is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self, TrySendError::Closed(_))
    }
}

impl<T> SendTimeoutError<T> {
    /// The value that was not sent.
    ///
    /// ```
    /// use std::time::Duration;
    /// let (tx, _rx) = gochan::bounded(0);
    /// let err = tx.send_timeout("job", Duration::from_millis(1)).unwrap_err();
    /// assert_eq!(err.into_inner(), "job");
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            SendTimeoutError::Timeout(v) | SendTimeoutError::Closed(v) => v,
        }
    }
    /// Whether the time ran out.
    ///
    /// ```
    /// use std::time::Duration;
    /// let (tx, _rx) = gochan::bounded(0); // nobody receives
    /// assert!(tx.send_timeout(1, Duration::from_millis(1)).unwrap_err().is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, SendTimeoutError::Timeout(_))
    }
    /// Whether the channel is closed.
    ///
    /// ```
    /// use std::time::Duration;
    /// let (tx, rx) = gochan::bounded(0);
    /// drop(rx); // every receiver is gone: the send fails at once, no waiting
    /// assert!(tx.send_timeout(1, Duration::from_secs(60)).unwrap_err().is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self, SendTimeoutError::Closed(_))
    }
}

impl TryRecvError {
    /// Whether nothing was there.
    ///
    /// ```
    /// let (_tx, rx) = gochan::bounded::<i32>(1);
    /// assert!(rx.try_recv().unwrap_err().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        matches!(self, TryRecvError::Empty)
    }
    /// Whether the channel is closed and drained.
    ///
    /// ```
    /// let (tx, rx) = gochan::bounded(1);
    /// tx.send(1).unwrap();
    /// tx.close();
    /// assert_eq!(rx.try_recv(), Ok(1)); // buffered values outlive the close
    /// assert!(rx.try_recv().unwrap_err().is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self, TryRecvError::Closed)
    }
}

impl RecvTimeoutError {
    /// Whether the time ran out.
    ///
    /// ```
    /// use std::time::Duration;
    /// let (_tx, rx) = gochan::bounded::<i32>(0);
    /// assert!(rx.recv_timeout(Duration::from_millis(1)).unwrap_err().is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, RecvTimeoutError::Timeout)
    }
    /// Whether the channel is closed and drained.
    ///
    /// ```
    /// use std::time::Duration;
    /// let (tx, rx) = gochan::bounded::<i32>(0);
    /// drop(tx); // the last sender is gone: the channel is closed
    /// assert!(rx.recv_timeout(Duration::from_secs(60)).unwrap_err().is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self, RecvTimeoutError::Closed)
    }
}

impl<T> From<SendError<T>> for TrySendError<T> {
    fn from(e: SendError<T>) -> Self {
        TrySendError::Closed(e.0)
    }
}

impl<T> From<SendError<T>> for SendTimeoutError<T> {
    fn from(e: SendError<T>) -> Self {
        SendTimeoutError::Closed(e.0)
    }
}

impl From<RecvError> for TryRecvError {
    fn from(_: RecvError) -> Self {
        TryRecvError::Closed
    }
}

impl From<RecvError> for RecvTimeoutError {
    fn from(_: RecvError) -> Self {
        RecvTimeoutError::Closed
    }
}

// Debug does not require `T: Debug`, like std and crossbeam: the value is elided.
impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError { .. }")
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Debug for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendTimeoutError::Timeout(_) => f.write_str("Timeout(..)"),
            SendTimeoutError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sending on a closed channel")
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("sending on a full channel"),
            TrySendError::Closed(_) => f.write_str("sending on a closed channel"),
        }
    }
}

impl<T> fmt::Display for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendTimeoutError::Timeout(_) => f.write_str("timed out waiting on send operation"),
            SendTimeoutError::Closed(_) => f.write_str("sending on a closed channel"),
        }
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("receiving on a closed channel")
    }
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("receiving on an empty channel"),
            TryRecvError::Closed => f.write_str("receiving on a closed channel"),
        }
    }
}

impl fmt::Display for RecvTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvTimeoutError::Timeout => f.write_str("timed out waiting on receive operation"),
            RecvTimeoutError::Closed => f.write_str("receiving on a closed channel"),
        }
    }
}

impl<T> std::error::Error for SendError<T> {}
impl<T> std::error::Error for TrySendError<T> {}
impl<T> std::error::Error for SendTimeoutError<T> {}
impl std::error::Error for RecvError {}
impl std::error::Error for TryRecvError {}
impl std::error::Error for RecvTimeoutError {}
