//! The receiving half of a channel: blocking, async, iterators and `Stream`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_core::{FusedStream, Stream};

use super::core::{Chan, Inner};
use super::error::{RecvError, RecvTimeoutError, TryRecvError};
use super::waiter::{Outcome, Packet, Waiter};
use crate::sync::SpinGuard;

/// The receiving half of a channel. Clone it for more consumers (each value goes to
/// exactly one of them). When the last one is dropped, every blocked and future send fails
/// with its value, and buffered values are dropped.
///
/// ```
/// let (tx, rx) = gochan::bounded(4);
/// for i in 0..3 { tx.send(i).unwrap(); }
/// drop(tx); // closes the channel
/// assert_eq!(rx.iter().collect::<Vec<_>>(), [0, 1, 2]);
/// ```
pub struct Receiver<T> {
    pub(crate) chan: Arc<Chan<T>>,
}

impl<T> Receiver<T> {
    pub(crate) fn from_chan(chan: Arc<Chan<T>>) -> Receiver<T> {
        Receiver { chan }
    }

    /// Receives a value, blocking until one arrives. After the channel is closed,
    /// buffered values still come out in order; then `Err(RecvError)`.
    ///
    /// # Panics
    /// Blocking a thread that runs async tasks stalls them (and usually deadlocks): in
    /// async code use [`recv_async`](Receiver::recv_async). With the `tokio` feature, a
    /// `recv` that would park a tokio worker thread panics with that advice (outside
    /// `block_in_place`); on other executors it blocks the executor's thread. The same
    /// holds for every blocking call of gochan (`send`, `select!`, `WaitGroup::wait`,
    /// `Context::wait`, ...).
    ///
    /// ```
    /// let (tx, rx) = gochan::bounded(1);
    /// std::thread::spawn(move || tx.send(1).unwrap());
    /// assert_eq!(rx.recv(), Ok(1));
    /// assert!(rx.recv().is_err()); // the sender is gone
    /// ```
    #[track_caller]
    pub fn recv(&self) -> Result<T, RecvError> {
        self.recv_until(None).map_err(|_| RecvError)
    }

    /// Receives without blocking: `Empty` if nothing is ready, `Closed` once closed and
    /// drained.
    ///
    /// ```
    /// use gochan::TryRecvError;
    /// let (tx, rx) = gochan::bounded(1);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        let mut inner = self.chan.lock_for_recv();
        let (v, wake) = self.chan.try_recv_locked(&mut inner, None)?;
        drop(inner);
        if let Some(p) = wake {
            p.waiter().wake();
        }
        Ok(v)
    }

    /// Like [`Receiver::recv`], but gives up after `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let (_tx, rx) = gochan::bounded::<u8>(0);
    /// assert!(rx.recv_timeout(Duration::from_millis(5)).unwrap_err().is_timeout());
    /// ```
    #[track_caller]
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.recv_until(Instant::now().checked_add(timeout))
    }

    /// Like [`Receiver::recv`], but gives up at `deadline`.
    ///
    /// ```
    /// let (_tx, rx) = gochan::bounded::<u8>(0);
    /// assert!(rx.recv_deadline(std::time::Instant::now()).is_err());
    /// ```
    #[track_caller]
    pub fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.recv_until(Some(deadline))
    }

    #[inline]
    #[track_caller]
    fn recv_until(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        let mut inner = self.chan.lock_for_recv();
        match self.chan.try_recv_locked(&mut inner, None) {
            Ok((v, None)) => Ok(v),
            Ok((v, Some(p))) => {
                drop(inner);
                p.waiter().wake();
                Ok(v)
            }
            Err(TryRecvError::Closed) => Err(RecvTimeoutError::Closed),
            Err(TryRecvError::Empty) => self.recv_wait(inner, deadline),
        }
    }

    /// The blocking part of a receive: queue a waiting receiver and wait for a value.
    #[inline(never)]
    #[track_caller]
    fn recv_wait(
        &self,
        mut inner: SpinGuard<'_, Inner<T>>,
        deadline: Option<Instant>,
    ) -> Result<T, RecvTimeoutError> {
        if deadline.is_some_and(|d| d <= Instant::now()) {
            return Err(RecvTimeoutError::Timeout);
        }
        let packet = Arc::new(Packet::own(Waiter::for_thread(), None));
        self.chan.push_receiver(&mut inner, packet.clone(), 0);
        drop(inner);
        match packet
            .waiter()
            .wait(deadline, crate::sync::blocking::Op::Recv)
        {
            Outcome::Selected { closed: false, .. } => Ok(packet
                .take()
                .expect("a selected receiver's slot holds the value")),
            Outcome::Selected { closed: true, .. } => Err(RecvTimeoutError::Closed),
            Outcome::Aborted => {
                self.chan.remove_receiver(&packet);
                Err(RecvTimeoutError::Timeout)
            }
            Outcome::Waiting => unreachable!("wait returns a decided outcome"),
        }
    }

    /// Receives from async code.
    ///
    /// # Cancel safety
    /// Dropping the future never loses a value: if a sender already handed it a value,
    /// the value goes to the next waiting receiver or back to the front of the channel.
    ///
    /// ```
    /// let (tx, rx) = gochan::unbounded();
    /// tx.send(3).unwrap();
    /// assert_eq!(futures::executor::block_on(rx.recv_async()), Ok(3));
    /// ```
    pub fn recv_async(&self) -> RecvFuture<'_, T> {
        RecvFuture {
            chan: &self.chan,
            wait: RecvWait { packet: None },
        }
    }

    /// A blocking iterator over received values, ending when the channel is closed and
    /// drained: Go's `for v := range ch`.
    ///
    /// ```
    /// let (tx, rx) = gochan::unbounded();
    /// tx.send(1).unwrap(); tx.send(2).unwrap(); drop(tx);
    /// assert_eq!(rx.iter().sum::<i32>(), 3);
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    /// A non-blocking iterator over the values available right now.
    ///
    /// ```
    /// let (tx, rx) = gochan::unbounded();
    /// tx.send(1).unwrap(); tx.send(2).unwrap();
    /// assert_eq!(rx.try_iter().count(), 2);
    /// ```
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { rx: self }
    }

    /// A `futures_core::Stream` of received values, ending when closed and drained.
    ///
    /// ```
    /// use futures::StreamExt;
    /// let (tx, rx) = gochan::unbounded();
    /// tx.send(1).unwrap(); drop(tx);
    /// let all: Vec<i32> = futures::executor::block_on(rx.stream().collect());
    /// assert_eq!(all, [1]);
    /// ```
    pub fn stream(&self) -> RecvStream<'_, T> {
        RecvStream {
            chan: &self.chan,
            wait: RecvWait { packet: None },
            done: false,
        }
    }

    /// An owning `Stream` (`'static` when `T` is), for moving into spawned tasks.
    ///
    /// ```
    /// use futures::StreamExt;
    /// let (tx, rx) = gochan::unbounded();
    /// tx.send(1).unwrap(); drop(tx);
    /// let s = rx.into_stream();
    /// assert_eq!(futures::executor::block_on(s.collect::<Vec<i32>>()), [1]);
    /// ```
    pub fn into_stream(self) -> IntoStream<T> {
        IntoStream {
            rx: self,
            wait: RecvWait { packet: None },
            done: false,
        }
    }

    /// Number of buffered values.
    ///
    /// ```
    /// let (tx, rx) = gochan::bounded(2);
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// Whether no value is buffered.
    ///
    /// ```
    /// assert!(gochan::unbounded::<u8>().1.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the buffer is full (always true for an unbuffered channel).
    ///
    /// ```
    /// assert!(!gochan::bounded::<u8>(1).1.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.chan.is_full()
    }

    /// The capacity; `None` for an unbounded channel.
    ///
    /// ```
    /// assert_eq!(gochan::bounded::<u8>(0).1.capacity(), Some(0));
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        self.chan.capacity()
    }

    /// Whether the channel is closed (values may still be buffered).
    ///
    /// ```
    /// let (tx, rx) = gochan::bounded::<u8>(1);
    /// tx.close();
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// The number of live [`Sender`](crate::Sender) handles (a channel made by the
    /// library itself, such as a timer's or a context's done channel, counts one while it
    /// can still deliver).
    ///
    /// ```
    /// let (tx, rx) = gochan::bounded::<i32>(1);
    /// assert_eq!(rx.sender_count(), 1);
    /// drop(tx); // the last sender closes the channel
    /// assert_eq!(rx.sender_count(), 0);
    /// ```
    pub fn sender_count(&self) -> usize {
        self.chan.sender_count()
    }

    /// Whether both handles belong to the same channel.
    ///
    /// Every [`never`](crate::never) receiver is the same channel, as Go's nil channels
    /// are all equal. `==` compares the same way.
    ///
    /// ```
    /// let (_tx, rx) = gochan::unbounded::<u8>();
    /// assert!(rx.same_channel(&rx.clone()));
    /// assert!(gochan::never::<u8>().same_channel(&gochan::never()));
    /// assert!(!rx.same_channel(&gochan::never()));
    /// ```
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan) || (self.chan.is_never() && other.chan.is_never())
    }
}

/// Go's channel equality: two receivers are equal when they are the same channel.
///
/// ```
/// let (_tx, rx) = gochan::bounded::<u8>(1);
/// assert_eq!(rx, rx.clone());
/// assert_eq!(gochan::never::<u8>(), gochan::never());
/// ```
impl<T> PartialEq for Receiver<T> {
    fn eq(&self, other: &Receiver<T>) -> bool {
        self.same_channel(other)
    }
}

impl<T> Eq for Receiver<T> {}

// A receiver's operations leave the channel consistent at every point a panic can come
// from (a value's `Drop`), as crossbeam-channel's handles do.
impl<T> std::panic::UnwindSafe for Receiver<T> {}
impl<T> std::panic::RefUnwindSafe for Receiver<T> {}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.chan.acquire_receiver();
        Receiver {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.chan.release_receiver();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("chan", &*self.chan)
            .finish()
    }
}

/// The async receive state shared by [`RecvFuture`] and the streams.
struct RecvWait<T> {
    packet: Option<Arc<Packet<T>>>,
}

impl<T> RecvWait<T> {
    fn poll(&mut self, chan: &Chan<T>, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        if let Some(p) = &self.packet {
            p.waiter().set_waker(cx.waker());
            return match p.waiter().outcome() {
                Outcome::Waiting => Poll::Pending,
                Outcome::Selected { closed, .. } => {
                    let p = self.packet.take().expect("checked above");
                    if closed {
                        Poll::Ready(Err(RecvError))
                    } else {
                        let v = p.take().expect("a selected receiver holds a value");
                        chan.handoff_taken();
                        Poll::Ready(Ok(v))
                    }
                }
                Outcome::Aborted => unreachable!("only the owner aborts"),
            };
        }
        let mut inner = chan.lock_for_recv();
        match chan.try_recv_locked(&mut inner, None) {
            Ok((v, wake)) => {
                drop(inner);
                if let Some(p) = wake {
                    p.waiter().wake();
                }
                Poll::Ready(Ok(v))
            }
            Err(TryRecvError::Closed) => Poll::Ready(Err(RecvError)),
            Err(TryRecvError::Empty) => {
                let p = Arc::new(Packet::own(Waiter::for_task(cx.waker()), None));
                chan.push_receiver(&mut inner, p.clone(), 0);
                self.packet = Some(p);
                Poll::Pending
            }
        }
    }

    /// Abandons a pending receive without losing a value already handed over.
    fn cancel(&mut self, chan: &Chan<T>) {
        if let Some(p) = self.packet.take() {
            match p.waiter().try_abort() {
                Ok(()) => chan.remove_receiver(&p),
                Err(Outcome::Selected { closed: false, .. }) => {
                    if let Some(v) = p.take() {
                        chan.give_back(v, &p);
                    }
                }
                Err(_) => {}
            }
        }
    }
}

/// The future of [`Receiver::recv_async`].
///
/// # Cancel safety
/// Dropping it never loses a value: one handed to it before the drop goes to the next
/// waiting receiver or back to the front of the channel.
///
/// A value handed to a pending future belongs to it until it is polled again or dropped:
/// keep polling (or drop) futures you start. Until then, once the channel is closed, other
/// receivers wait instead of reporting "closed", since the value may still come back; a
/// future that is leaked (`mem::forget`) or kept forever unpolled holds them up.
#[must_use = "futures do nothing unless polled"]
pub struct RecvFuture<'a, T> {
    chan: &'a Arc<Chan<T>>,
    wait: RecvWait<T>,
}

impl<T> Unpin for RecvFuture<'_, T> {}

impl<T> Future for RecvFuture<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        this.wait.poll(this.chan, cx)
    }
}

impl<T> Drop for RecvFuture<'_, T> {
    fn drop(&mut self) {
        self.wait.cancel(self.chan);
    }
}

impl<T> fmt::Debug for RecvFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvFuture")
            .field("waiting", &self.wait.packet.is_some())
            .finish()
    }
}

/// A borrowing `Stream` of received values; see [`Receiver::stream`].
///
/// # Cancel safety
/// Dropping it between items loses nothing; a value handed to a pending `next()` that is
/// dropped goes back to the channel.
#[must_use = "streams do nothing unless polled"]
pub struct RecvStream<'a, T> {
    chan: &'a Arc<Chan<T>>,
    wait: RecvWait<T>,
    done: bool,
}

impl<T> Unpin for RecvStream<'_, T> {}

impl<T> Stream for RecvStream<'_, T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        this.wait.poll(this.chan, cx).map(|r| {
            this.done = r.is_err();
            r.ok()
        })
    }
}

impl<T> FusedStream for RecvStream<'_, T> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<T> Drop for RecvStream<'_, T> {
    fn drop(&mut self) {
        self.wait.cancel(self.chan);
    }
}

impl<T> fmt::Debug for RecvStream<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvStream")
            .field("done", &self.done)
            .finish()
    }
}

/// An owning `Stream` of received values; see [`Receiver::into_stream`].
///
/// # Cancel safety
/// As [`RecvStream`].
#[must_use = "streams do nothing unless polled"]
pub struct IntoStream<T> {
    rx: Receiver<T>,
    wait: RecvWait<T>,
    done: bool,
}

impl<T> Unpin for IntoStream<T> {}

impl<T> IntoStream<T> {
    /// The receiver this stream reads from.
    ///
    /// ```
    /// let (_tx, rx) = gochan::unbounded::<u8>();
    /// assert!(rx.into_stream().receiver().is_empty());
    /// ```
    pub fn receiver(&self) -> &Receiver<T> {
        &self.rx
    }
}

impl<T> Stream for IntoStream<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        this.wait.poll(&this.rx.chan, cx).map(|r| {
            this.done = r.is_err();
            r.ok()
        })
    }
}

impl<T> FusedStream for IntoStream<T> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<T> Drop for IntoStream<T> {
    fn drop(&mut self) {
        self.wait.cancel(&self.rx.chan);
    }
}

impl<T> fmt::Debug for IntoStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoStream")
            .field("done", &self.done)
            .finish()
    }
}

/// Blocking iterator; see [`Receiver::iter`].
#[derive(Debug)]
pub struct Iter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

/// Non-blocking iterator; see [`Receiver::try_iter`].
#[derive(Debug)]
pub struct TryIter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

/// Owning blocking iterator; see `IntoIterator for Receiver`.
#[derive(Debug)]
pub struct IntoIter<T> {
    rx: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { rx: self }
    }
}
