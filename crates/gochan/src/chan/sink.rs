//! [`SendSink`]: a [`Sender`] as a `futures_sink::Sink`, for `StreamExt::forward`,
//! `SinkExt::send` and friends.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_sink::Sink;

use super::error::SendError;
use super::send_future::SendWait;
use super::sender::Sender;

/// A [`Sender`] as a [`Sink`]: [`Sender::sink`] or [`Sender::into_sink`].
///
/// `start_send` takes one item; `poll_ready` and `poll_flush` complete when it has been
/// delivered (taken by a receiver at capacity 0, buffered otherwise), exactly like
/// awaiting [`Sender::send_async`]. `poll_close` flushes and does *not* close the channel
/// (other senders may still be sending; drop the sink, or call [`SendSink::close_channel`],
/// to close it when it was the last sender).
///
/// Errors are [`SendError`] with the undelivered item: the channel was closed or every
/// receiver is gone.
///
/// # Cancel safety
/// Dropping the sink with an item not yet delivered drops that item (it is taken back out
/// of the channel's queue); an item a receiver already took stays delivered.
///
/// ```
/// use futures::{SinkExt, StreamExt};
/// let (tx, rx) = gochan::bounded(0);
/// let consumer = std::thread::spawn(move || rx.iter().collect::<Vec<i32>>());
/// futures::executor::block_on(async move {
///     let mut sink = tx.into_sink();
///     futures::stream::iter(vec![1, 2, 3]).map(Ok).forward(&mut sink).await.unwrap();
/// }); // the sink, the last sender, is dropped here: the channel closes
/// assert_eq!(consumer.join().unwrap(), [1, 2, 3]);
/// ```
pub struct SendSink<T> {
    /// Dropped before `sender`: an item still queued is taken back before the sink's
    /// sender (maybe the last one) closes the channel.
    wait: SendWait<T>,
    sender: Sender<T>,
}

// The item in flight is never pinned (it moves into the channel), and the wait node is
// boxed: the sink itself may move freely.
impl<T> Unpin for SendSink<T> {}

impl<T> SendSink<T> {
    #[track_caller]
    pub(crate) fn new(sender: Sender<T>) -> SendSink<T> {
        SendSink {
            wait: SendWait::new(std::panic::Location::caller()),
            sender,
        }
    }

    /// The sender this sink sends with.
    ///
    /// ```
    /// let (tx, rx) = gochan::bounded::<i32>(1);
    /// let sink = tx.into_sink();
    /// assert_eq!(sink.sender().receiver_count(), 1);
    /// sink.sender().send(5).unwrap(); // a plain blocking send through the same sender
    /// assert_eq!(rx.recv(), Ok(5));
    /// ```
    pub fn sender(&self) -> &Sender<T> {
        &self.sender
    }

    /// Closes the channel (Go's `close(ch)`), as [`Sender::close`].
    ///
    /// ```
    /// use futures::SinkExt;
    /// let (tx, rx) = gochan::bounded(4);
    /// let mut sink = tx.sink(); // a clone: `tx` alone would keep the channel open
    /// futures::executor::block_on(sink.send(1)).unwrap();
    /// assert!(sink.close_channel());
    /// assert_eq!(rx.recv(), Ok(1)); // buffered values are still delivered
    /// assert!(rx.recv().is_err()); // then the receiver sees the close
    /// ```
    pub fn close_channel(&self) -> bool {
        self.sender.close()
    }

    /// Drives the item in flight, if any, to delivery.
    fn drive(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), SendError<T>>> {
        self.wait.poll(&self.sender.chan, cx)
    }
}

impl<T> Sink<T> for SendSink<T> {
    type Error = SendError<T>;

    fn poll_ready(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), SendError<T>>> {
        self.drive(cx)
    }

    /// # Panics
    /// If an item is still in flight (`poll_ready` was not `Ready(Ok)` first), as the
    /// `Sink` contract allows.
    fn start_send(mut self: Pin<&mut Self>, item: T) -> Result<(), SendError<T>> {
        assert!(
            !self.wait.is_busy(),
            "SendSink::start_send called before poll_ready returned Ready(Ok)"
        );
        self.wait.start(item);
        Ok(())
    }

    fn poll_flush(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), SendError<T>>> {
        self.drive(cx)
    }

    fn poll_close(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), SendError<T>>> {
        self.drive(cx)
    }
}

impl<T> fmt::Debug for SendSink<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendSink")
            .field("in_flight", &self.wait.is_busy())
            .finish()
    }
}
