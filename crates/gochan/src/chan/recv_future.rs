//! Async receives: [`RecvFuture`] (its wait node inline, so it is `!Unpin`) and the two
//! streams (one boxed wait node each, reused for every item, so they stay `Unpin`).

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::{FusedStream, Stream};

use super::core::Chan;
use super::error::{RecvError, TryRecvError};
use super::node::{Finished, LazyNode, NodeBox, Signal, WaitNode};
use super::receiver::Receiver;

/// A stream's next item (both streams): the lock-free attempt inline, the rest out of line
/// (see `Sender::send_until`). `node` is the stream's wait node, built by `make` at its
/// first wait and reused for every item; `done` is set once the channel is closed and
/// drained.
#[inline]
fn poll_stream<C: Deref<Target = Chan<T>>, T>(
    chan: &Chan<T>,
    node: &mut Option<NodeBox<C, T>>,
    done: &mut bool,
    make: impl FnOnce() -> WaitNode<C, T>,
    cx: &mut Context<'_>,
) -> Poll<Option<T>> {
    if !*done && node.as_ref().is_none_or(|n| n.is_idle()) {
        if let Ok(v) = chan.recv_fast() {
            return Poll::Ready(Some(v));
        }
    }
    poll_stream_slow(chan, node, done, make, cx)
}

/// [`poll_stream`] past its lock-free attempt: receive under the lock or queue the node
/// (an idle node), or collect the outcome of the queued one. Leaves the node idle when it
/// returns `Ready`.
#[inline(never)]
fn poll_stream_slow<C: Deref<Target = Chan<T>>, T>(
    chan: &Chan<T>,
    node: &mut Option<NodeBox<C, T>>,
    done: &mut bool,
    make: impl FnOnce() -> WaitNode<C, T>,
    cx: &mut Context<'_>,
) -> Poll<Option<T>> {
    if *done {
        return Poll::Ready(None);
    }
    let node = node.get_or_insert_with(|| Box::pin(make())).as_mut();
    let r = if node.is_idle() {
        start_recv_locked(chan, || node, cx)
    } else {
        poll_queued_recv(node, cx)
    };
    r.map(|r| {
        *done = r.is_err();
        r.ok()
    })
}

/// The first step of an async receive past its lock-free attempt: receive under the
/// lock, or queue the node that `node` gives (asked for only then).
#[inline]
fn start_recv_locked<'n, C: Deref<Target = Chan<T>> + 'n, T: 'n>(
    chan: &Chan<T>,
    node: impl FnOnce() -> Pin<&'n mut WaitNode<C, T>>,
    cx: &mut Context<'_>,
) -> Poll<Result<T, RecvError>> {
    let mut inner = chan.lock_for_recv();
    match chan.try_recv_locked(&mut inner, None) {
        Ok((v, wake)) => {
            drop(inner);
            if let Some(w) = wake {
                w.wake();
            }
            Poll::Ready(Ok(v))
        }
        Err(TryRecvError::Closed) => Poll::Ready(Err(RecvError)),
        Err(TryRecvError::Empty) => {
            let signal = Signal::Task(cx.waker().clone());
            node().push_recv(chan, &mut inner, signal);
            drop(inner);
            chan.watch();
            Poll::Pending
        }
    }
}

/// A later step of an async receive whose node is queued or decided.
#[inline(never)]
fn poll_queued_recv<C: Deref<Target = Chan<T>>, T>(
    mut node: Pin<&mut WaitNode<C, T>>,
    cx: &mut Context<'_>,
) -> Poll<Result<T, RecvError>> {
    if node.as_mut().refresh_waker(cx.waker()) {
        return Poll::Pending;
    }
    match node.finish() {
        Finished::Done(v) => Poll::Ready(Ok(v.expect("a receiver decided DONE holds its value"))),
        Finished::Closed(_) => Poll::Ready(Err(RecvError)),
        Finished::Cancelled(_) => unreachable!("only the owner cancels, and it is polling"),
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Receiver::recv_async`]. It waits in a node stored inside itself
    /// (no allocation), so it is `!Unpin`, like tokio's and kanal's receive futures: `.await`
    /// it, or pin it (`std::pin::pin!`, `Box::pin`) to poll it by hand.
    ///
    /// # Cancel safety
    /// Dropping it never loses a value: one handed to it before the drop goes to the next
    /// waiting receiver or back to the front of the channel.
    ///
    /// A value handed to a pending future belongs to it until it is polled again or
    /// dropped: keep polling (or drop) futures you start. Until then, once the channel is
    /// closed, other receivers wait instead of reporting "closed", since the value may
    /// still come back; a future that is leaked (`mem::forget`) or kept forever unpolled
    /// holds them up.
    ///
    /// ```
    /// use std::future::Future;
    /// let (tx, rx) = gochan::bounded(0);
    /// let mut fut = std::pin::pin!(rx.recv_async());
    /// let waker = futures::task::noop_waker();
    /// let mut cx = std::task::Context::from_waker(&waker);
    /// assert!(fut.as_mut().poll(&mut cx).is_pending()); // waits in the channel
    /// tx.try_send(5).unwrap(); // a waiting receiver takes it at once
    /// assert_eq!(fut.poll(&mut cx), std::task::Poll::Ready(Ok(5)));
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct RecvFuture<'a, T> {
        chan: &'a Chan<T>,
        location: &'static Location<'static>,
        #[pin]
        node: LazyNode<&'a Chan<T>, T>,
    }
}

impl<'a, T> RecvFuture<'a, T> {
    pub(crate) fn new(chan: &'a Chan<T>, location: &'static Location<'static>) -> Self {
        RecvFuture {
            chan,
            location,
            node: LazyNode::new(),
        }
    }
}

impl<T> Future for RecvFuture<'_, T> {
    type Output = Result<T, RecvError>;

    /// The lock-free attempt inline; the rest out of line (see `Sender::send_until`).
    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let (chan, location) = (*this.chan, *this.location);
        let mut lazy = this.node;
        match lazy.as_mut().get_pin() {
            Some(node) if !node.is_idle() => poll_queued_recv(node, cx),
            Some(_) => start_unbuilt(chan, lazy, location, cx),
            None => match chan.recv_fast() {
                Ok(v) => Poll::Ready(Ok(v)),
                Err(_) => start_unbuilt(chan, lazy, location, cx),
            },
        }
    }
}

/// A [`RecvFuture`] poll past its lock-free attempt (out of line).
#[inline(never)]
fn start_unbuilt<'a, T>(
    chan: &'a Chan<T>,
    lazy: Pin<&mut LazyNode<&'a Chan<T>, T>>,
    location: &'static Location<'static>,
    cx: &mut Context<'_>,
) -> Poll<Result<T, RecvError>> {
    start_recv_locked(
        chan,
        || lazy.get_or_init(|| WaitNode::new(chan, location)),
        cx,
    )
}

impl<T> fmt::Debug for RecvFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvFuture")
            .field("waiting", &self.node.get().is_some_and(|n| n.is_waiting()))
            .finish()
    }
}

/// A borrowing `Stream` of received values; see [`Receiver::stream`].
///
/// # Cancel safety
/// Dropping it between items loses nothing; a value handed to a pending `next()` that is
/// dropped goes back to the channel.
///
/// ```
/// use futures::StreamExt;
/// let (tx, rx) = gochan::bounded(0);
/// std::thread::spawn(move || {
///     for i in 1..=3 {
///         tx.send(i).unwrap();
///     }
/// });
/// let sum = futures::executor::block_on(rx.stream().fold(0, |acc, v| async move { acc + v }));
/// assert_eq!(sum, 6);
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct RecvStream<'a, T> {
    chan: &'a Chan<T>,
    location: &'static Location<'static>,
    /// Allocated at the first poll and reused for every item.
    node: Option<NodeBox<&'a Chan<T>, T>>,
    done: bool,
}

impl<'a, T> RecvStream<'a, T> {
    pub(crate) fn new(chan: &'a Chan<T>, location: &'static Location<'static>) -> Self {
        RecvStream {
            chan,
            location,
            node: None,
            done: false,
        }
    }
}

impl<T> Stream for RecvStream<'_, T> {
    type Item = T;

    #[inline]
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = &mut *self;
        let (chan, location) = (this.chan, this.location);
        let make = || WaitNode::new(chan, location);
        poll_stream(chan, &mut this.node, &mut this.done, make, cx)
    }
}

impl<T> FusedStream for RecvStream<'_, T> {
    fn is_terminated(&self) -> bool {
        self.done
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
///
/// ```
/// use futures::StreamExt;
/// let (tx, rx) = gochan::unbounded();
/// tx.send("x").unwrap();
/// tx.send("y").unwrap();
/// drop(tx);
/// // Owning, so it can be returned or moved into a task ('static).
/// let stream = rx.into_stream();
/// let all: Vec<&str> = futures::executor::block_on(stream.collect());
/// assert_eq!(all, ["x", "y"]);
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct IntoStream<T> {
    /// Allocated at the first poll (holding its own reference to the channel) and reused
    /// for every item.
    node: Option<NodeBox<Arc<Chan<T>>, T>>,
    rx: Receiver<T>,
    location: &'static Location<'static>,
    done: bool,
}

impl<T> IntoStream<T> {
    pub(crate) fn new(rx: Receiver<T>, location: &'static Location<'static>) -> IntoStream<T> {
        IntoStream {
            node: None,
            rx,
            location,
            done: false,
        }
    }

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

    #[inline]
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = &mut *self;
        let (chan, location) = (&this.rx.chan, this.location);
        let make = || WaitNode::new(chan.clone(), location);
        poll_stream(chan, &mut this.node, &mut this.done, make, cx)
    }
}

impl<T> FusedStream for IntoStream<T> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<T> fmt::Debug for IntoStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoStream")
            .field("done", &self.done)
            .finish()
    }
}
