//! The pipeline helpers as `futures_core::Stream`s, for async code on any executor
//! (tokio, smol, a bare `block_on`): no runtime is required and no task or thread is
//! started. Each helper is a lazy combinator run by whoever polls it, Rust's usual
//! stream style; a stage ends when its input ends **or when its context ends** (it
//! then wakes the task: it watches the context's `done()` channel through
//! [`Receiver::into_stream`](crate::Receiver::into_stream)), like the thread helpers.
//!
//! Inputs are any `Stream`s: a gochan channel through
//! [`Receiver::into_stream`](crate::Receiver::into_stream), a thread stage through
//! [`Stage::into_stream`](super::Stage::into_stream), or another helper here.
//!
//! # Panics
//! A stage's function runs inside the consumer's `poll_next`, so its panic unwinds
//! straight into the consumer, with its payload, after the items yielded before it; a
//! thread stage's panic is re-raised by its [`StageStream`](super::StageStream) the same
//! way. Nothing ends quietly as if the input were done.
//!
//! ```
//! use futures::StreamExt;
//! use gochan::context;
//! use gochan::pipeline::stream;
//! let ctx = context::background();
//! // gen(2, 3) -> sq -> sq, as in the Go pipeline article
//! let sq = |n: i64| n * n;
//! let out = stream::map(&ctx, stream::map(&ctx, stream::generate(&ctx, [2, 3]), sq), sq);
//! assert_eq!(futures::executor::block_on(out.collect::<Vec<_>>()), [16, 81]);
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use futures_core::{FusedStream, Stream};

use crate::chan::IntoStream;
use crate::context::Context;

/// Watches a context's end from `poll` (nothing to watch for one that cannot end).
struct Done(Option<IntoStream<()>>);

impl Done {
    fn new(ctx: &Context) -> Done {
        Done(ctx.can_end().then(|| ctx.done().into_stream()))
    }

    /// Whether the context has ended; if not, the task is woken when it does.
    fn ended(&mut self, cx: &mut TaskContext<'_>) -> bool {
        match &mut self.0 {
            None => false,
            // The done channel never carries a value: any ready outcome is its close.
            Some(s) => Pin::new(s).poll_next(cx).is_ready(),
        }
    }
}

/// Go's `gen` as a stream: yields `values`, ending early once `ctx` has ended (checked
/// before each item: one atomic load).
///
/// ```
/// use futures::StreamExt;
/// let ctx = gochan::context::background();
/// let s = gochan::pipeline::stream::generate(&ctx, 1..=3);
/// assert_eq!(futures::executor::block_on(s.collect::<Vec<i32>>()), [1, 2, 3]);
/// ```
#[must_use = "streams do nothing unless polled"]
pub fn generate<I: IntoIterator>(ctx: &Context, values: I) -> Generate<I::IntoIter> {
    Generate {
        ctx: ctx.clone(),
        iter: values.into_iter(),
        finished: false,
    }
}

/// The stream of [`generate`].
///
/// ```
/// use futures::StreamExt;
/// let ctx = gochan::context::background();
/// let mut s: gochan::pipeline::stream::Generate<_> = gochan::pipeline::stream::generate(&ctx, [1]);
/// assert_eq!(futures::executor::block_on(s.next()), Some(1));
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct Generate<I> {
    ctx: Context,
    iter: I,
    finished: bool,
}

impl<I> Unpin for Generate<I> {}

impl<I: Iterator> Stream for Generate<I> {
    type Item = I::Item;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut TaskContext<'_>) -> Poll<Option<I::Item>> {
        let this = &mut *self;
        if this.finished || this.ctx.is_done() {
            this.finished = true;
            return Poll::Ready(None);
        }
        let next = this.iter.next();
        this.finished = next.is_none();
        Poll::Ready(next)
    }
}

impl<I: Iterator> FusedStream for Generate<I> {
    fn is_terminated(&self) -> bool {
        self.finished
    }
}

impl<I> fmt::Debug for Generate<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generate")
            .field("ctx", &self.ctx)
            .field("finished", &self.finished)
            .finish()
    }
}

/// Go's `sq` as a stream: yields `f(item)` for every item of `input`, in order; ends
/// when `input` ends or `ctx` ends (even while `input` is pending). A panic in `f`
/// unwinds into the consumer's poll.
///
/// ```
/// use futures::StreamExt;
/// let ctx = gochan::context::background();
/// let (tx, rx) = gochan::unbounded();
/// tx.send(3).unwrap();
/// drop(tx);
/// let s = gochan::pipeline::stream::map(&ctx, rx.into_stream(), |n: i32| n * n);
/// assert_eq!(futures::executor::block_on(s.collect::<Vec<_>>()), [9]);
/// ```
#[must_use = "streams do nothing unless polled"]
pub fn map<S, U, F>(ctx: &Context, input: S, f: F) -> Map<S, F>
where
    S: Stream,
    F: FnMut(S::Item) -> U,
{
    Map {
        input: Box::pin(input),
        f,
        done: Done::new(ctx),
        finished: false,
    }
}

/// The stream of [`map`].
///
/// ```
/// use futures::StreamExt;
/// use gochan::pipeline::stream;
/// let ctx = gochan::context::background();
/// let mut s: stream::Map<_, _> = stream::map(&ctx, stream::generate(&ctx, [2]), |n: i32| n + 1);
/// assert_eq!(futures::executor::block_on(s.next()), Some(3));
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct Map<S, F> {
    input: Pin<Box<S>>,
    f: F,
    done: Done,
    finished: bool,
}

// `f` is only ever called through `&mut`, never pinned.
impl<S, F> Unpin for Map<S, F> {}

impl<S, U, F> Stream for Map<S, F>
where
    S: Stream,
    F: FnMut(S::Item) -> U,
{
    type Item = U;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<U>> {
        let this = &mut *self;
        if this.finished || this.done.ended(cx) {
            this.finished = true;
            return Poll::Ready(None);
        }
        match this.input.as_mut().poll_next(cx) {
            Poll::Ready(Some(v)) => Poll::Ready(Some((this.f)(v))),
            Poll::Ready(None) => {
                this.finished = true;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S, U, F> FusedStream for Map<S, F>
where
    S: Stream,
    F: FnMut(S::Item) -> U,
{
    fn is_terminated(&self) -> bool {
        self.finished
    }
}

impl<S, F> fmt::Debug for Map<S, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Map")
            .field("finished", &self.finished)
            .finish()
    }
}

/// Bounded concurrency (the Go post's "bounded parallelism", in one task): runs `f`'s
/// future for up to `limit` items of `input` at once and yields their outputs **in the
/// order they finish** (not the input's order), like `futures`' `buffer_unordered`.
/// Ends when `input` is exhausted and every future has finished, or when `ctx` ends (the
/// futures still running are dropped). The futures run in the polling task: for CPU
/// work on several cores use [`map_parallel`](super::map_parallel) (threads). A panic in
/// `f` or in one of its futures unwinds into the consumer's poll.
///
/// # Panics
/// If `limit` is 0.
///
/// ```
/// use futures::StreamExt;
/// let ctx = gochan::context::background();
/// let input = gochan::pipeline::stream::generate(&ctx, 1..=10u32);
/// let out = gochan::pipeline::stream::map_concurrent(&ctx, input, 3, |n| async move { n * 2 });
/// let mut got = futures::executor::block_on(out.collect::<Vec<_>>());
/// got.sort_unstable();
/// assert_eq!(got, (1..=10).map(|n| n * 2).collect::<Vec<_>>());
/// ```
#[must_use = "streams do nothing unless polled"]
#[track_caller]
pub fn map_concurrent<S, F, Fut>(
    ctx: &Context,
    input: S,
    limit: usize,
    f: F,
) -> MapConcurrent<S, F, Fut>
where
    S: Stream,
    F: FnMut(S::Item) -> Fut,
    Fut: Future,
{
    assert!(
        limit > 0,
        "gochan::pipeline::stream::map_concurrent: limit must be > 0"
    );
    MapConcurrent {
        input: Some(Box::pin(input)),
        f,
        running: Vec::with_capacity(limit.min(64)),
        limit,
        done: Done::new(ctx),
        finished: false,
    }
}

/// The stream of [`map_concurrent`].
///
/// ```
/// use futures::StreamExt;
/// use gochan::pipeline::stream;
/// let ctx = gochan::context::background();
/// let input = stream::generate(&ctx, [2]);
/// let mut s: stream::MapConcurrent<_, _, _> =
///     stream::map_concurrent(&ctx, input, 4, |n: i32| async move { n * 10 });
/// assert_eq!(futures::executor::block_on(s.next()), Some(20));
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct MapConcurrent<S, F, Fut> {
    /// `None` once exhausted.
    input: Option<Pin<Box<S>>>,
    f: F,
    running: Vec<Pin<Box<Fut>>>,
    limit: usize,
    done: Done,
    finished: bool,
}

impl<S, F, Fut> Unpin for MapConcurrent<S, F, Fut> {}

impl<S, F, Fut> Stream for MapConcurrent<S, F, Fut>
where
    S: Stream,
    F: FnMut(S::Item) -> Fut,
    Fut: Future,
{
    type Item = Fut::Output;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Fut::Output>> {
        let this = &mut *self;
        if this.finished || this.done.ended(cx) {
            this.finished = true;
            this.running.clear();
            return Poll::Ready(None);
        }
        // Start futures for new items up to the limit.
        while this.running.len() < this.limit {
            let Some(input) = this.input.as_mut() else {
                break;
            };
            match input.as_mut().poll_next(cx) {
                Poll::Ready(Some(v)) => this.running.push(Box::pin((this.f)(v))),
                Poll::Ready(None) => this.input = None,
                Poll::Pending => break,
            }
        }
        for i in 0..this.running.len() {
            if let Poll::Ready(out) = this.running[i].as_mut().poll(cx) {
                drop(this.running.swap_remove(i));
                return Poll::Ready(Some(out));
            }
        }
        if this.input.is_none() && this.running.is_empty() {
            this.finished = true;
            return Poll::Ready(None);
        }
        Poll::Pending
    }
}

impl<S, F, Fut> FusedStream for MapConcurrent<S, F, Fut>
where
    S: Stream,
    F: FnMut(S::Item) -> Fut,
    Fut: Future,
{
    fn is_terminated(&self) -> bool {
        self.finished
    }
}

impl<S, F, Fut> fmt::Debug for MapConcurrent<S, F, Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapConcurrent")
            .field("running", &self.running.len())
            .field("limit", &self.limit)
            .field("finished", &self.finished)
            .finish()
    }
}

/// Go's `merge` (fan-in) as a stream: yields the items of every input as they come,
/// polling the inputs in turn from a rotating start (no input starves the others); ends
/// when every input has ended, or when `ctx` ends.
///
/// ```
/// use futures::StreamExt;
/// use gochan::pipeline::stream;
/// let ctx = gochan::context::background();
/// let a = stream::generate(&ctx, [1, 2]);
/// let b = stream::generate(&ctx, [10, 20]);
/// let mut all = futures::executor::block_on(stream::merge(&ctx, [a, b]).collect::<Vec<_>>());
/// all.sort();
/// assert_eq!(all, [1, 2, 10, 20]);
/// ```
#[must_use = "streams do nothing unless polled"]
pub fn merge<S, I>(ctx: &Context, inputs: I) -> Merge<S>
where
    S: Stream,
    I: IntoIterator<Item = S>,
{
    Merge {
        inputs: inputs.into_iter().map(|s| Some(Box::pin(s))).collect(),
        next: 0,
        done: Done::new(ctx),
        finished: false,
    }
}

/// The stream of [`merge`].
///
/// ```
/// use futures::StreamExt;
/// use gochan::pipeline::stream;
/// let ctx = gochan::context::background();
/// let (_tx, rx) = gochan::unbounded::<i32>(); // open, empty
/// let (ctx2, cancel) = gochan::context::with_cancel(&ctx);
/// let mut s: stream::Merge<_> = stream::merge(&ctx2, [rx.into_stream()]);
/// cancel.cancel(); // the merge ends with its context even though its input is open
/// assert_eq!(futures::executor::block_on(s.next()), None);
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct Merge<S> {
    /// Open inputs (`None` only briefly, within a poll, for one that just ended).
    inputs: Vec<Option<Pin<Box<S>>>>,
    /// Where the next poll starts.
    next: usize,
    done: Done,
    finished: bool,
}

impl<S> Unpin for Merge<S> {}

impl<S: Stream> Stream for Merge<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<S::Item>> {
        let this = &mut *self;
        if this.finished || this.done.ended(cx) {
            this.finished = true;
            this.inputs.clear();
            return Poll::Ready(None);
        }
        // Poll each input once, from a rotating start; ended inputs leave afterwards.
        let len = this.inputs.len();
        let mut item = None;
        let mut ended = false;
        for k in 0..len {
            let i = (this.next + k) % len;
            let Some(input) = this.inputs[i].as_mut() else {
                continue;
            };
            match input.as_mut().poll_next(cx) {
                Poll::Ready(Some(v)) => {
                    this.next = i + 1;
                    item = Some(v);
                    break;
                }
                Poll::Ready(None) => {
                    this.inputs[i] = None;
                    ended = true;
                }
                Poll::Pending => {}
            }
        }
        if ended {
            this.inputs.retain(Option::is_some);
        }
        if this.next >= this.inputs.len() {
            this.next = 0;
        }
        if let Some(v) = item {
            return Poll::Ready(Some(v));
        }
        if this.inputs.is_empty() {
            this.finished = true;
            return Poll::Ready(None);
        }
        Poll::Pending
    }
}

impl<S: Stream> FusedStream for Merge<S> {
    fn is_terminated(&self) -> bool {
        self.finished
    }
}

impl<S> fmt::Debug for Merge<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Merge")
            .field("open", &self.inputs.len())
            .field("finished", &self.finished)
            .finish()
    }
}
