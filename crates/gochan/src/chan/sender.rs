//! The sending half of a channel: blocking sends, and the doors to the async forms
//! (`send_future.rs`, `sink.rs`).

use std::fmt;
use std::panic::Location;
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::core::{Chan, ChanGuard};
use super::error::{SendError, SendTimeoutError, TrySendError};
use super::node::{Finished, Signal, WaitNode};
use super::queue::Push;
use super::send_future::SendFuture;

/// The sending half of a channel. Clone it for more producers; dropping the last one
/// closes the channel (like Go's `close`).
///
/// ```
/// let (tx, rx) = gochan::bounded(1);
/// let tx2 = tx.clone();
/// std::thread::spawn(move || tx2.send("hi").unwrap());
/// assert_eq!(rx.recv(), Ok("hi"));
/// ```
pub struct Sender<T> {
    pub(crate) chan: Arc<Chan<T>>,
}

impl<T> Sender<T> {
    pub(crate) fn from_chan(chan: Arc<Chan<T>>) -> Sender<T> {
        Sender { chan }
    }

    /// Sends `value`, blocking until a receiver takes it (unbuffered) or it fits in the
    /// buffer. Waiting senders are served in FIFO order.
    ///
    /// Fails, giving the value back, if the channel is closed or every receiver is gone,
    /// including when that happens while this call waits (where Go would panic or block
    /// forever).
    ///
    /// # Panics
    /// With the `tokio` feature, a `send` that would park a tokio worker thread panics
    /// (use [`send_async`](Sender::send_async) in async code); see
    /// [`Receiver::recv`](crate::Receiver::recv).
    ///
    /// ```
    /// let (tx, rx) = gochan::bounded(0);
    /// let h = std::thread::spawn(move || rx.recv().unwrap());
    /// tx.send(5).unwrap();
    /// assert_eq!(h.join().unwrap(), 5);
    /// ```
    #[inline]
    #[track_caller]
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.send_until(value, None)
            .map_err(|e| SendError(e.into_inner()))
    }

    /// Sends without blocking: `Full(value)` if it would block, `Closed(value)` if the
    /// channel is closed or every receiver is gone.
    ///
    /// ```
    /// use gochan::TrySendError;
    /// let (tx, rx) = gochan::bounded(1);
    /// assert_eq!(tx.try_send(1), Ok(()));
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    /// drop(rx);
    /// assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let value = match self.chan.send_fast(value) {
            Ok(()) => return Ok(()),
            Err(Push::Full(v)) => return Err(TrySendError::Full(v)),
            Err(Push::Slow(v)) => v,
        };
        let mut inner = self.chan.lock();
        let wake = self.chan.try_send_locked(&mut inner, value, None)?;
        drop(inner);
        if let Some(w) = wake {
            w.wake();
        }
        Ok(())
    }

    /// Like [`Sender::send`], but gives up after `timeout` with `Timeout(value)`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let (tx, _rx) = gochan::bounded(0);
    /// assert!(tx.send_timeout(1, Duration::from_millis(10)).unwrap_err().is_timeout());
    /// ```
    #[track_caller]
    pub fn send_timeout(&self, value: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        self.send_until(value, crate::time::now().checked_add(timeout))
    }

    /// Like [`Sender::send`], but gives up at `deadline` with `Timeout(value)`. A deadline
    /// in the past still completes a send that is ready at once.
    ///
    /// ```
    /// use std::time::Instant;
    /// let (tx, rx) = gochan::bounded(1);
    /// tx.send_deadline(1, Instant::now()).unwrap();
    /// assert_eq!(rx.recv(), Ok(1));
    /// ```
    #[track_caller]
    pub fn send_deadline(&self, value: T, deadline: Instant) -> Result<(), SendTimeoutError<T>> {
        self.send_until(value, Some(deadline))
    }

    /// The lock-free attempt inline in the caller; everything else out of line (a large
    /// function's register saves cost a buffered send a third of its instructions).
    #[inline]
    #[track_caller]
    fn send_until(&self, value: T, deadline: Option<Instant>) -> Result<(), SendTimeoutError<T>> {
        match self.chan.send_fast(value) {
            Ok(()) => Ok(()),
            Err(p) => self.send_slow(p, deadline),
        }
    }

    /// [`Sender::send_until`] past a failed lock-free attempt: retry a full ring, else
    /// take the lock, and wait if need be.
    #[inline(never)]
    #[track_caller]
    fn send_slow(&self, p: Push<T>, deadline: Option<Instant>) -> Result<(), SendTimeoutError<T>> {
        let value = match p {
            Push::Full(v) => match self.chan.send_retry(v) {
                Ok(()) => return Ok(()),
                Err(e) => e.into_inner(),
            },
            Push::Slow(v) => v,
        };
        let mut inner = self.chan.lock();
        match self.chan.try_send_locked(&mut inner, value, None) {
            Ok(None) => Ok(()),
            Ok(Some(w)) => {
                drop(inner);
                w.wake();
                Ok(())
            }
            Err(TrySendError::Closed(v)) => Err(SendTimeoutError::Closed(v)),
            Err(TrySendError::Full(v)) => self.send_wait(inner, v, deadline),
        }
    }

    /// The blocking part of a send: queue a waiting sender and wait for a receiver.
    #[inline(never)]
    #[track_caller]
    fn send_wait(
        &self,
        mut inner: ChanGuard<'_, T>,
        value: T,
        deadline: Option<Instant>,
    ) -> Result<(), SendTimeoutError<T>> {
        if deadline.is_some_and(|d| d <= crate::time::now()) {
            return Err(SendTimeoutError::Timeout(value));
        }
        // Marked before the wait is queued: a timed wait is never "stuck".
        #[cfg(feature = "debug-handles")]
        let _timed = crate::debug::threads::timed_wait(deadline.is_some());
        let mut node = pin!(WaitNode::new(&*self.chan, Location::caller()));
        node.as_mut()
            .push_send(&self.chan, &mut inner, value, Signal::thread());
        drop(inner);
        self.chan.watch();
        match node.wait(deadline, crate::prim::blocking::Op::Send) {
            Finished::Done(_) => Ok(()),
            Finished::Closed(v) => Err(SendTimeoutError::Closed(
                v.expect("a failed send keeps its value"),
            )),
            Finished::Cancelled(v) => Err(SendTimeoutError::Timeout(
                v.expect("an abandoned send keeps its value"),
            )),
        }
    }

    /// Sends from async code: a future that completes when the value is delivered.
    ///
    /// # Cancel safety
    /// Dropping the future before a receiver took the value never delivers it: the value
    /// is taken back out of the channel's queue and dropped with the future. If a receiver
    /// already took it (the send happened) and the future is dropped before being polled
    /// again, the value stays delivered, exactly once.
    ///
    /// ```
    /// let (tx, rx) = gochan::bounded(0);
    /// let t = std::thread::spawn(move || rx.recv().unwrap());
    /// futures::executor::block_on(tx.send_async(9)).unwrap();
    /// assert_eq!(t.join().unwrap(), 9);
    /// ```
    #[track_caller]
    pub fn send_async(&self, value: T) -> SendFuture<'_, T> {
        SendFuture::new(&self.chan, value, Location::caller())
    }

    /// A [`Sink`](futures_sink::Sink) sending with a clone of this sender; see
    /// [`SendSink`](super::SendSink).
    ///
    /// ```
    /// use futures::SinkExt;
    /// let (tx, rx) = gochan::bounded(1);
    /// futures::executor::block_on(tx.sink().send(7)).unwrap();
    /// assert_eq!(rx.recv(), Ok(7));
    /// ```
    #[track_caller]
    pub fn sink(&self) -> super::SendSink<T> {
        super::SendSink::new(self.clone())
    }

    /// This sender as a [`Sink`](futures_sink::Sink); see [`SendSink`](super::SendSink).
    ///
    /// Unlike [`sink`](Sender::sink) it does not clone: when the sink is dropped and it
    /// held the last sender, the channel closes.
    ///
    /// ```
    /// use futures::{SinkExt, StreamExt};
    /// let (tx, rx) = gochan::unbounded();
    /// futures::executor::block_on(async move {
    ///     let mut sink = tx.into_sink();
    ///     sink.send_all(&mut futures::stream::iter([1, 2]).map(Ok)).await.unwrap();
    /// }); // the sink (the only sender) is dropped: the channel closes
    /// assert_eq!(rx.iter().collect::<Vec<_>>(), [1, 2]);
    /// ```
    #[track_caller]
    pub fn into_sink(self) -> super::SendSink<T> {
        super::SendSink::new(self)
    }

    /// Closes the channel, like Go's `close(ch)`: receivers drain what is buffered and then
    /// see `Err`; every blocked sender fails with its value back. Returns `true` for the
    /// call that closed it and `false` if it was already closed (where Go panics).
    ///
    /// ```
    /// let (tx, rx) = gochan::bounded(2);
    /// tx.send(1).unwrap();
    /// assert!(tx.close());
    /// assert!(!tx.close());
    /// assert_eq!(rx.recv(), Ok(1));
    /// assert!(rx.recv().is_err());
    /// ```
    pub fn close(&self) -> bool {
        self.chan.close()
    }

    /// Number of buffered values.
    ///
    /// ```
    /// let (tx, _rx) = gochan::bounded(3);
    /// tx.send(1).unwrap();
    /// assert_eq!(tx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// Whether no value is buffered.
    ///
    /// ```
    /// let (tx, _rx) = gochan::bounded::<u8>(3);
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the buffer is full (always true for an unbuffered channel).
    ///
    /// ```
    /// let (tx, _rx) = gochan::bounded::<u8>(0);
    /// assert!(tx.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.chan.is_full()
    }

    /// The capacity; `None` for an unbounded channel.
    ///
    /// ```
    /// assert_eq!(gochan::bounded::<u8>(4).0.capacity(), Some(4));
    /// assert_eq!(gochan::unbounded::<u8>().0.capacity(), None);
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        self.chan.capacity()
    }

    /// Whether a send would fail: the channel is closed or every receiver is gone.
    ///
    /// ```
    /// let (tx, rx) = gochan::unbounded::<u8>();
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// The number of live [`Receiver`](crate::Receiver) handles. After a failed send it
    /// tells why: `0` means every receiver is gone, otherwise the channel was closed
    /// (both states are final).
    ///
    /// ```
    /// let (tx, rx) = gochan::bounded::<i32>(1);
    /// assert_eq!(tx.receiver_count(), 1);
    /// drop(rx);
    /// assert!(tx.send(1).is_err());
    /// assert_eq!(tx.receiver_count(), 0); // failed because every receiver is gone
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.chan.receiver_count()
    }

    /// Whether both handles belong to the same channel.
    ///
    /// ```
    /// let (tx, _rx) = gochan::unbounded::<u8>();
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

/// Go's channel equality: two senders are equal when they are the same channel.
///
/// ```
/// let (tx, _rx) = gochan::bounded::<u8>(1);
/// let (tx2, _rx2) = gochan::bounded::<u8>(1);
/// assert_eq!(tx, tx.clone());
/// assert_ne!(tx, tx2);
/// ```
impl<T> PartialEq for Sender<T> {
    fn eq(&self, other: &Sender<T>) -> bool {
        self.same_channel(other)
    }
}

impl<T> Eq for Sender<T> {}

// A sender's operations leave the channel consistent at every point a panic can come
// from (a value's `Drop`), as crossbeam-channel's handles do.
impl<T> std::panic::UnwindSafe for Sender<T> {}
impl<T> std::panic::RefUnwindSafe for Sender<T> {}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.acquire_sender();
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.release_sender();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").field("chan", &*self.chan).finish()
    }
}
