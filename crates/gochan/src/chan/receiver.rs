//! The receiving half of a channel: blocking receives, iterators, and the doors to the
//! async forms (`recv_future.rs`).

use std::fmt;
use std::panic::Location;
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::core::{Chan, ChanGuard};
use super::error::{RecvError, RecvTimeoutError, TryRecvError};
use super::node::{Finished, Signal, WaitNode};
use super::queue::Pop;
use super::recv_future::{IntoStream, RecvFuture, RecvStream};

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
    #[inline]
    #[track_caller]
    pub fn recv(&self) -> Result<T, RecvError> {
        self.recv_until(None, Location::caller())
            .map_err(|_| RecvError)
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
        if self.chan.is_signal() {
            return self.chan.try_recv_signal();
        }
        match self.chan.recv_fast() {
            Ok(v) => return Ok(v),
            Err(Pop::Empty) => return Err(TryRecvError::Empty),
            Err(Pop::Slow) => {}
        }
        let mut inner = self.chan.lock_for_recv();
        let (v, wake) = self.chan.try_recv_locked(&mut inner, None)?;
        drop(inner);
        if let Some(w) = wake {
            w.wake();
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
        self.recv_until(crate::time::now().checked_add(timeout), Location::caller())
    }

    /// Like [`Receiver::recv`], but gives up at `deadline`.
    ///
    /// ```
    /// let (_tx, rx) = gochan::bounded::<u8>(0);
    /// assert!(rx.recv_deadline(std::time::Instant::now()).is_err());
    /// ```
    #[track_caller]
    pub fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.recv_until(Some(deadline), Location::caller())
    }

    /// A receive reported at `at` (the user's call site) by `debug::blocked`.
    #[inline]
    fn recv_until(
        &self,
        deadline: Option<Instant>,
        at: &'static Location<'static>,
    ) -> Result<T, RecvTimeoutError> {
        match self.chan.recv_fast() {
            Ok(v) => Ok(v),
            Err(p) => self.recv_slow(p, deadline, at),
        }
    }

    /// [`Receiver::recv_until`] past a failed lock-free attempt (kept out of line, as
    /// `Sender::send_slow`): retry an empty ring, else take the lock, and wait if need be.
    #[inline(never)]
    fn recv_slow(
        &self,
        p: Pop,
        deadline: Option<Instant>,
        at: &'static Location<'static>,
    ) -> Result<T, RecvTimeoutError> {
        if let Pop::Empty = p {
            if let Ok(v) = self.chan.recv_spin() {
                return Ok(v);
            }
        }
        let mut inner = self.chan.lock_for_recv();
        match self.chan.try_recv_locked(&mut inner, None) {
            Ok((v, None)) => Ok(v),
            Ok((v, Some(w))) => {
                drop(inner);
                w.wake();
                Ok(v)
            }
            Err(TryRecvError::Closed) => Err(RecvTimeoutError::Closed),
            Err(TryRecvError::Empty) => self.recv_wait(inner, deadline, at),
        }
    }

    /// The blocking part of a receive: queue a waiting receiver and wait for a value.
    #[inline(never)]
    fn recv_wait(
        &self,
        mut inner: ChanGuard<'_, T>,
        deadline: Option<Instant>,
        at: &'static Location<'static>,
    ) -> Result<T, RecvTimeoutError> {
        if deadline.is_some_and(|d| d <= crate::time::now()) {
            return Err(RecvTimeoutError::Timeout);
        }
        // Marked before the wait is queued: a timed wait is never "stuck".
        #[cfg(feature = "debug-handles")]
        let _timed = crate::debug::threads::timed_wait(deadline.is_some());
        let mut node = pin!(WaitNode::new(&*self.chan, at));
        node.as_mut()
            .push_recv(&self.chan, &mut inner, Signal::thread());
        drop(inner);
        self.chan.watch();
        match node.wait(deadline, crate::prim::blocking::Op::Recv) {
            Finished::Done(v) => Ok(v.expect("a receiver decided DONE holds its value")),
            Finished::Closed(_) => Err(RecvTimeoutError::Closed),
            Finished::Cancelled(_) => Err(RecvTimeoutError::Timeout),
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
    #[track_caller]
    pub fn recv_async(&self) -> RecvFuture<'_, T> {
        RecvFuture::new(&self.chan, Location::caller())
    }

    /// A blocking iterator over received values, ending when the channel is closed and
    /// drained: Go's `for v := range ch`.
    ///
    /// ```
    /// let (tx, rx) = gochan::unbounded();
    /// tx.send(1).unwrap(); tx.send(2).unwrap(); drop(tx);
    /// assert_eq!(rx.iter().sum::<i32>(), 3);
    /// ```
    #[track_caller]
    pub fn iter(&self) -> Iter<'_, T> {
        Iter {
            rx: self,
            at: Location::caller(),
        }
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
    #[track_caller]
    pub fn stream(&self) -> RecvStream<'_, T> {
        RecvStream::new(&self.chan, Location::caller())
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
    #[track_caller]
    pub fn into_stream(self) -> IntoStream<T> {
        IntoStream::new(self, Location::caller())
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

/// Blocking iterator; see [`Receiver::iter`].
///
/// Go's `for v := range ch`: each `next()` waits for a value and the loop ends once the
/// channel is closed and drained.
///
/// ```
/// let (tx, rx) = gochan::bounded(0);
/// std::thread::spawn(move || {
///     for word in ["a", "b", "c"] {
///         tx.send(word).unwrap();
///     }
/// }); // tx drops here: the channel closes and the loop below ends
/// let mut got = String::new();
/// for word in rx.iter() {
///     got.push_str(word);
/// }
/// assert_eq!(got, "abc");
/// ```
#[derive(Debug)]
pub struct Iter<'a, T> {
    rx: &'a Receiver<T>,
    /// Where the loop was written: its waits are listed there by `debug::blocked`.
    at: &'static Location<'static>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv_until(None, self.at).ok()
    }
}

/// Non-blocking iterator; see [`Receiver::try_iter`].
///
/// Yields what can be received without waiting, then stops (the channel may stay open).
///
/// ```
/// let (tx, rx) = gochan::bounded(4);
/// tx.send(1).unwrap();
/// tx.send(2).unwrap();
/// let drained: Vec<i32> = rx.try_iter().collect();
/// assert_eq!(drained, [1, 2]);
/// assert!(!rx.is_closed()); // still open: try_iter stopped because it was empty
/// ```
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
///
/// `for v in rx` consumes the receiver; when the loop ends (closed and drained) the
/// receiver is gone too.
///
/// ```
/// let (tx, rx) = gochan::unbounded();
/// for i in 0..3 {
///     tx.send(i).unwrap();
/// }
/// drop(tx);
/// let squares: Vec<i32> = rx.into_iter().map(|i| i * i).collect();
/// assert_eq!(squares, [0, 1, 4]);
/// ```
#[derive(Debug)]
pub struct IntoIter<T> {
    rx: Receiver<T>,
    /// Where the loop was written (see [`Iter`]).
    at: &'static Location<'static>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv_until(None, self.at).ok()
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    #[track_caller]
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    #[track_caller]
    fn into_iter(self) -> IntoIter<T> {
        IntoIter {
            rx: self,
            at: Location::caller(),
        }
    }
}
