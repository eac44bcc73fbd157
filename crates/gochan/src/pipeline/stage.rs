//! [`Stage`]: a stage's output channel plus the panic, if the stage panicked.

use std::any::Any;
use std::fmt;
use std::panic;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use futures_core::{FusedStream, Stream};

use crate::chan::{IntoStream, Receiver, RecvError, RecvTimeoutError, TryRecvError};
use crate::prim::Mutex;

/// A panic payload, as `std::thread::Result` carries it.
pub(crate) type Payload = Box<dyn Any + Send + 'static>;

/// Where a stage leaves its panic before closing its output.
#[derive(Default)]
pub(crate) struct PanicSlot {
    state: Mutex<Slot>,
}

#[derive(Default)]
enum Slot {
    #[default]
    Clear,
    Panicked(Payload),
    /// The payload went to one receiver; the others get this message.
    Taken(String),
}

impl PanicSlot {
    /// Records `p` unless a panic is already recorded (the first one wins).
    pub(crate) fn set(&self, p: Payload) {
        let mut s = self.state.lock();
        if matches!(*s, Slot::Clear) {
            *s = Slot::Panicked(p);
        }
    }

    /// The original payload the first time; a `String` payload repeating its message
    /// after that; `None` if the stage did not panic.
    fn take(&self) -> Option<Payload> {
        let mut s = self.state.lock();
        match &*s {
            Slot::Clear => None,
            Slot::Taken(msg) => Some(Box::new(format!(
                "a pipeline stage panicked (payload taken by another receiver): {msg}"
            ))),
            Slot::Panicked(p) => {
                let msg = message(&**p).to_string();
                match std::mem::replace(&mut *s, Slot::Taken(msg)) {
                    Slot::Panicked(p) => Some(p),
                    _ => unreachable!("matched above"),
                }
            }
        }
    }

    /// Moves a recorded panic into `to` while holding this slot's lock, so that among
    /// several threads forwarding the same panic the original payload lands first.
    fn forward(&self, to: &PanicSlot) -> bool {
        let mut s = self.state.lock();
        match &*s {
            Slot::Clear => false,
            Slot::Taken(msg) => {
                to.set(Box::new(format!("a pipeline stage panicked: {msg}")));
                true
            }
            Slot::Panicked(p) => {
                let msg = message(&**p).to_string();
                if let Slot::Panicked(p) = std::mem::replace(&mut *s, Slot::Taken(msg)) {
                    to.set(p);
                }
                true
            }
        }
    }
}

/// The text of a panic payload (`panic!` gives `&str` or `String`).
fn message(p: &(dyn Any + Send)) -> &str {
    if let Some(s) = p.downcast_ref::<&str>() {
        s
    } else if let Some(s) = p.downcast_ref::<String>() {
        s
    } else {
        "Box<dyn Any>"
    }
}

/// The output of a pipeline stage ([`generate`](super::generate), [`map`](super::map),
/// [`map_parallel`](super::map_parallel), [`merge`](super::merge)): a channel receiver
/// that also reports the stage's panic.
///
/// # Panics propagate
/// If the stage's function panics, the stage stops, the values it sent before are still
/// delivered, and then, where the channel would report "closed", the receiving call
/// ([`recv`](Stage::recv), the iterators, the stream...) re-raises the panic with
/// [`std::panic::resume_unwind`] and the original payload, as `std::thread::scope` and
/// rayon do. So `for v in stage` cannot mistake a crashed stage for a finished one. A
/// downstream stage forwards an upstream panic to its own output; upstream stages see
/// their output dropped and stop. Use [`take_panic`](Stage::take_panic) to inspect the
/// panic instead of re-raising it.
///
/// When the stage ends because its context ended, the channel just closes (check
/// `ctx.err()`, as in Go).
///
/// ```
/// use std::panic::{catch_unwind, AssertUnwindSafe};
/// use gochan::{context, pipeline};
/// let ctx = context::background();
/// let out = pipeline::map(&ctx, pipeline::generate(&ctx, [1, 2, 0, 4]), |n: i32| 12 / n);
/// let mut got = Vec::new();
/// let crashed = catch_unwind(AssertUnwindSafe(|| {
///     for v in &out {
///         got.push(v);
///     }
/// }));
/// assert_eq!(got, [12, 6]); // the values before the panic
/// assert!(crashed.is_err()); // then the stage's panic, re-raised here
/// ```
///
/// Cloning gives another receiver of the same channel (fan-out). Only one receiver gets
/// the original payload; the others get a `String` payload repeating its message.
pub struct Stage<T> {
    rx: Receiver<T>,
    panic: Option<Arc<PanicSlot>>,
}

impl<T> Stage<T> {
    pub(crate) fn with_slot(rx: Receiver<T>, slot: Arc<PanicSlot>) -> Stage<T> {
        Stage {
            rx,
            panic: Some(slot),
        }
    }

    /// Re-raises the stage's panic, if any (called where the channel reports closed).
    fn resume(&self) {
        if let Some(p) = self.take_panic() {
            panic::resume_unwind(p);
        }
    }

    /// Forwards this stage's panic, if any, to `to` (a downstream stage's slot).
    pub(crate) fn forward_panic(&self, to: &PanicSlot) -> bool {
        self.panic.as_ref().is_some_and(|s| s.forward(to))
    }

    /// Receives a value, blocking; `Err(RecvError)` once the stage finished and its
    /// channel is drained.
    ///
    /// # Panics
    /// Re-raises the stage's panic in place of `Err(RecvError)`.
    ///
    /// ```
    /// let ctx = gochan::context::background();
    /// let s = gochan::pipeline::generate(&ctx, [1]);
    /// assert_eq!(s.recv(), Ok(1));
    /// assert!(s.recv().is_err());
    /// ```
    pub fn recv(&self) -> Result<T, RecvError> {
        self.rx.recv().inspect_err(|_| self.resume())
    }

    /// [`Receiver::try_recv`], re-raising the stage's panic in place of `Closed`.
    ///
    /// ```
    /// let (tx, rx) = gochan::unbounded();
    /// let s = gochan::pipeline::Stage::from(rx);
    /// tx.send(1).unwrap();
    /// assert_eq!(s.try_recv(), Ok(1));
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.rx.try_recv().inspect_err(|e| {
            if *e == TryRecvError::Closed {
                self.resume();
            }
        })
    }

    /// [`Receiver::recv_timeout`], re-raising the stage's panic in place of `Closed`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let (_tx, rx) = gochan::unbounded::<u8>();
    /// let s = gochan::pipeline::Stage::from(rx);
    /// assert!(s.recv_timeout(Duration::from_millis(1)).is_err());
    /// ```
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.rx.recv_timeout(timeout).inspect_err(|e| {
            if *e == RecvTimeoutError::Closed {
                self.resume();
            }
        })
    }

    /// Receives from async code (cancel-safe, as [`Receiver::recv_async`]); re-raises
    /// the stage's panic in place of `Err(RecvError)`.
    ///
    /// ```
    /// let ctx = gochan::context::background();
    /// let s = gochan::pipeline::generate(&ctx, [5]);
    /// assert_eq!(futures::executor::block_on(s.recv_async()), Ok(5));
    /// ```
    pub async fn recv_async(&self) -> Result<T, RecvError> {
        let r = self.rx.recv_async().await;
        if r.is_err() {
            self.resume();
        }
        r
    }

    /// A blocking iterator over the values (Go's `for v := range out`); it re-raises the
    /// stage's panic where it would end.
    ///
    /// ```
    /// let ctx = gochan::context::background();
    /// let s = gochan::pipeline::generate(&ctx, 1..=3);
    /// assert_eq!(s.iter().sum::<i32>(), 6);
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { stage: self }
    }

    /// An owning `futures_core::Stream` of the values (see [`Receiver::into_stream`]); it
    /// re-raises the stage's panic where it would end.
    ///
    /// ```
    /// use futures::StreamExt;
    /// let ctx = gochan::context::background();
    /// let s = gochan::pipeline::generate(&ctx, [1, 2]).into_stream();
    /// assert_eq!(futures::executor::block_on(s.collect::<Vec<_>>()), [1, 2]);
    /// ```
    pub fn into_stream(self) -> StageStream<T> {
        StageStream {
            inner: self.rx.into_stream(),
            panic: self.panic,
        }
    }

    /// The channel itself, for `select!` and the other [`Receiver`] methods. A select
    /// arm does not re-raise the stage's panic: once the arm reports "closed", call
    /// [`take_panic`](Stage::take_panic).
    ///
    /// ```
    /// let ctx = gochan::context::background();
    /// let s = gochan::pipeline::generate(&ctx, [1]);
    /// gochan::select! {
    ///     recv(s.receiver()) -> v => assert_eq!(v, Ok(1)),
    /// }
    /// ```
    pub fn receiver(&self) -> &Receiver<T> {
        &self.rx
    }

    /// The stage's panic payload, if it panicked, without re-raising it (as
    /// `JoinHandle::join` gives it). The first call, on any clone, gets the original
    /// payload; later calls get a `String` payload with its message. Meaningful once
    /// the channel reports closed: a stage that is still running has not panicked yet.
    ///
    /// ```
    /// use gochan::{context, pipeline};
    /// let ctx = context::background();
    /// let out = pipeline::map(&ctx, pipeline::generate(&ctx, [1]), |_: i32| -> i32 {
    ///     panic!("boom")
    /// });
    /// // Wait for the end on the raw channel (which does not re-raise).
    /// assert!(out.receiver().recv().is_err());
    /// let p = out.take_panic().expect("the stage panicked");
    /// assert_eq!(p.downcast_ref::<&str>(), Some(&"boom"));
    /// ```
    pub fn take_panic(&self) -> Option<Box<dyn Any + Send + 'static>> {
        self.panic.as_ref().and_then(|s| s.take())
    }
}

/// A plain channel as a stage input: it never carries a panic.
///
/// ```
/// let (tx, rx) = gochan::unbounded();
/// tx.send(2).unwrap();
/// drop(tx);
/// let ctx = gochan::context::background();
/// let sq = gochan::pipeline::map(&ctx, rx, |n: i32| n * n);
/// assert_eq!(sq.iter().collect::<Vec<_>>(), [4]);
/// ```
/// A stage is its output channel for everything but the panic: `select!` arms
/// (`recv(stage)`), `len`, `is_closed`, ... reach the [`Receiver`]. A select arm does not
/// re-raise the stage's panic (see [`Stage::receiver`]).
///
/// ```
/// let ctx = gochan::context::background();
/// let out = gochan::pipeline::generate(&ctx, [7]);
/// gochan::select! {
///     recv(out) -> v => assert_eq!(v, Ok(7)),
///     recv(gochan::after(std::time::Duration::from_secs(5))) -> _ => panic!("timed out"),
/// }
/// ```
impl<T> std::ops::Deref for Stage<T> {
    type Target = Receiver<T>;

    fn deref(&self) -> &Receiver<T> {
        &self.rx
    }
}

impl<T> From<Receiver<T>> for Stage<T> {
    fn from(rx: Receiver<T>) -> Stage<T> {
        Stage { rx, panic: None }
    }
}

impl<T> Clone for Stage<T> {
    fn clone(&self) -> Stage<T> {
        Stage {
            rx: self.rx.clone(),
            panic: self.panic.clone(),
        }
    }
}

impl<T> fmt::Debug for Stage<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stage").field("rx", &self.rx).finish()
    }
}

impl<'a, T> IntoIterator for &'a Stage<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T> IntoIterator for Stage<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    fn into_iter(self) -> IntoIter<T> {
        IntoIter { stage: self }
    }
}

/// Blocking iterator over a [`Stage`]; see [`Stage::iter`].
///
/// ```
/// let ctx = gochan::context::background();
/// let s = gochan::pipeline::generate(&ctx, [1, 2]);
/// let it: gochan::pipeline::Iter<'_, i32> = s.iter();
/// assert_eq!(it.collect::<Vec<_>>(), [1, 2]);
/// ```
#[derive(Debug)]
pub struct Iter<'a, T> {
    stage: &'a Stage<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.stage.recv().ok()
    }
}

/// Owning blocking iterator over a [`Stage`] (`for v in stage`).
///
/// ```
/// let ctx = gochan::context::background();
/// let mut sum = 0;
/// for v in gochan::pipeline::generate(&ctx, [1, 2]) {
///     sum += v;
/// }
/// assert_eq!(sum, 3);
/// ```
#[derive(Debug)]
pub struct IntoIter<T> {
    stage: Stage<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.stage.recv().ok()
    }
}

/// The `Stream` of [`Stage::into_stream`]. Cancel-safe like [`IntoStream`]; re-raises
/// the stage's panic where it would end.
///
/// ```
/// use futures::StreamExt;
/// let ctx = gochan::context::background();
/// let mut s: gochan::pipeline::StageStream<i32> = gochan::pipeline::generate(&ctx, [7]).into_stream();
/// assert_eq!(futures::executor::block_on(s.next()), Some(7));
/// assert_eq!(futures::executor::block_on(s.next()), None);
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct StageStream<T> {
    inner: IntoStream<T>,
    panic: Option<Arc<PanicSlot>>,
}

impl<T> Stream for StageStream<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<T>> {
        let r = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(None) = r {
            if let Some(p) = self.panic.take().and_then(|s| s.take()) {
                panic::resume_unwind(p);
            }
        }
        r
    }
}

impl<T> FusedStream for StageStream<T> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl<T> fmt::Debug for StageStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StageStream")
            .field("inner", &self.inner)
            .finish()
    }
}
