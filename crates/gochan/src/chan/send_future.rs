//! Async sends: [`SendFuture`] (its wait node inline, so it is `!Unpin`) and [`SendWait`],
//! the state of the `Sink` (one boxed wait node, reused for every item).

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::core::Chan;
use super::error::{SendError, TrySendError};
use super::node::{Finished, LazyNode, NodeBox, Signal, WaitNode};

/// One step of an async send of `value` that waits in `node` (a node of `chan`): the first
/// step sends without waiting or queues the node with the value; later steps refresh the
/// waker and collect the outcome. Leaves `node` idle when it returns `Ready`.
///
/// # Panics
/// If the node is idle and `value` is `None` (polled after completion).
pub(crate) fn poll_send<C: Deref<Target = Chan<T>>, T>(
    chan: &Chan<T>,
    value: &mut Option<T>,
    node: Pin<&mut WaitNode<C, T>>,
    cx: &mut Context<'_>,
) -> Poll<Result<(), SendError<T>>> {
    if node.is_idle() {
        start_send(chan, value, || node, cx)
    } else {
        poll_queued_send(node, cx)
    }
}

/// The first step of an async send: send without waiting, or queue the value in the node
/// that `node` gives (asked for only then).
fn start_send<'n, C: Deref<Target = Chan<T>> + 'n, T: 'n>(
    chan: &Chan<T>,
    value: &mut Option<T>,
    node: impl FnOnce() -> Pin<&'n mut WaitNode<C, T>>,
    cx: &mut Context<'_>,
) -> Poll<Result<(), SendError<T>>> {
    let v = value.take().expect("SendFuture polled after completion");
    match chan.send_fast(v) {
        Ok(()) => Poll::Ready(Ok(())),
        Err(e) => start_send_locked(chan, e.into_inner(), node, cx),
    }
}

/// [`start_send`] past its lock-free attempt: send under the lock, or queue `v` in the
/// node.
#[inline]
fn start_send_locked<'n, C: Deref<Target = Chan<T>> + 'n, T: 'n>(
    chan: &Chan<T>,
    v: T,
    node: impl FnOnce() -> Pin<&'n mut WaitNode<C, T>>,
    cx: &mut Context<'_>,
) -> Poll<Result<(), SendError<T>>> {
    let mut inner = chan.lock();
    match chan.try_send_locked(&mut inner, v, None) {
        Ok(wake) => {
            drop(inner);
            if let Some(w) = wake {
                w.wake();
            }
            Poll::Ready(Ok(()))
        }
        Err(TrySendError::Closed(v)) => Poll::Ready(Err(SendError(v))),
        Err(TrySendError::Full(v)) => {
            let signal = Signal::Task(cx.waker().clone());
            node().push_send(chan, &mut inner, v, signal);
            drop(inner);
            chan.watch();
            Poll::Pending
        }
    }
}

/// A later step of an async send whose node is queued or decided.
#[inline(never)]
fn poll_queued_send<C: Deref<Target = Chan<T>>, T>(
    mut node: Pin<&mut WaitNode<C, T>>,
    cx: &mut Context<'_>,
) -> Poll<Result<(), SendError<T>>> {
    if node.as_mut().refresh_waker(cx.waker()) {
        return Poll::Pending;
    }
    match node.finish() {
        Finished::Done(_) => Poll::Ready(Ok(())),
        Finished::Closed(v) => {
            Poll::Ready(Err(SendError(v.expect("a failed send keeps its value"))))
        }
        Finished::Cancelled(_) => unreachable!("only the owner cancels, and it is polling"),
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Sender::send_async`](super::Sender::send_async). It waits in a node
    /// stored inside itself (no allocation), so it is `!Unpin`, like tokio's and kanal's
    /// send futures: `.await` it, or pin it (`std::pin::pin!`, `Box::pin`) to poll it by
    /// hand.
    ///
    /// # Cancel safety
    /// Dropping it before a receiver took the value never delivers it: the queued entry is
    /// removed and the value dropped with the future. A value a receiver already took stays
    /// delivered (exactly once), even if the future is dropped before it is polled again.
    ///
    /// ```
    /// use std::future::Future;
    /// let (tx, rx) = gochan::bounded(0);
    /// let mut fut = std::pin::pin!(tx.send_async(5));
    /// let waker = futures::task::noop_waker();
    /// let mut cx = std::task::Context::from_waker(&waker);
    /// assert!(fut.as_mut().poll(&mut cx).is_pending()); // waits for a receiver
    /// assert_eq!(rx.try_recv(), Ok(5)); // takes the waiting sender's value
    /// assert!(fut.poll(&mut cx).is_ready());
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct SendFuture<'a, T> {
        chan: &'a Chan<T>,
        location: &'static Location<'static>,
        value: Option<T>,
        #[pin]
        node: LazyNode<&'a Chan<T>, T>,
    }
}

impl<'a, T> SendFuture<'a, T> {
    pub(crate) fn new(chan: &'a Chan<T>, value: T, location: &'static Location<'static>) -> Self {
        SendFuture {
            chan,
            location,
            value: Some(value),
            node: LazyNode::new(),
        }
    }
}

impl<T> Future for SendFuture<'_, T> {
    type Output = Result<(), SendError<T>>;

    /// The lock-free attempt inline; the rest out of line (see `Sender::send_until`).
    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let (chan, location) = (*this.chan, *this.location);
        let mut lazy = this.node;
        match lazy.as_mut().get_pin() {
            Some(node) if !node.is_idle() => poll_queued_send(node, cx),
            _ => {
                let v = this
                    .value
                    .take()
                    .expect("SendFuture polled after completion");
                match chan.send_fast(v) {
                    Ok(()) => Poll::Ready(Ok(())),
                    Err(e) => start_unbuilt(chan, e.into_inner(), lazy, location, cx),
                }
            }
        }
    }
}

/// A [`SendFuture`] poll past its lock-free attempt (out of line).
#[inline(never)]
fn start_unbuilt<'a, T>(
    chan: &'a Chan<T>,
    v: T,
    lazy: Pin<&mut LazyNode<&'a Chan<T>, T>>,
    location: &'static Location<'static>,
    cx: &mut Context<'_>,
) -> Poll<Result<(), SendError<T>>> {
    start_send_locked(
        chan,
        v,
        || lazy.get_or_init(|| WaitNode::new(chan, location)),
        cx,
    )
}

impl<T> fmt::Debug for SendFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFuture")
            .field("waiting", &self.node.get().is_some_and(|n| n.is_waiting()))
            .finish()
    }
}

/// One async send at a time for the `Sink`: the value not yet offered, and the node it
/// waits in (allocated at the first wait, reused for every item after).
pub(crate) struct SendWait<T> {
    /// Dropped first: a queued offer is unlinked before anything else goes.
    node: Option<NodeBox<Arc<Chan<T>>, T>>,
    value: Option<T>,
    location: &'static Location<'static>,
}

impl<T> SendWait<T> {
    pub(crate) fn new(location: &'static Location<'static>) -> SendWait<T> {
        SendWait {
            node: None,
            value: None,
            location,
        }
    }

    /// Whether a send is in progress (a value to offer, or one waiting in the channel).
    pub(crate) fn is_busy(&self) -> bool {
        self.value.is_some() || self.node.as_ref().is_some_and(|n| !n.is_idle())
    }

    /// Starts sending `value`.
    ///
    /// # Panics
    /// If a send is in progress.
    pub(crate) fn start(&mut self, value: T) {
        assert!(!self.is_busy(), "a send is already in progress");
        self.value = Some(value);
    }

    /// Drives the send in progress on `chan` to delivery (`Ready(Ok)` at once if none).
    pub(crate) fn poll(
        &mut self,
        chan: &Arc<Chan<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), SendError<T>>> {
        if !self.is_busy() {
            return Poll::Ready(Ok(()));
        }
        let location = self.location;
        let node = self
            .node
            .get_or_insert_with(|| Box::pin(WaitNode::new(chan.clone(), location)));
        poll_send(chan, &mut self.value, node.as_mut(), cx)
    }
}
