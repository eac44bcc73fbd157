//! Reusable forms of the patterns Go code writes by hand, named after the Go blog post
//! "Go Concurrency Patterns: Pipelines and cancellation" (<https://go.dev/blog/pipelines>):
//!
//! | Go blog | gochan (threads, channels) | gochan ([`stream`], any executor) |
//! | --- | --- | --- |
//! | `gen(nums...)` | [`generate`] | [`stream::generate`] |
//! | `sq(in)` (a stage) | [`map`] | [`stream::map`] |
//! | `merge(cs...)` (fan-in) | [`merge`] | [`stream::merge`] |
//! | bounded parallelism (a fixed number of digesters) | [`map_parallel`] | [`stream::map_concurrent`] |
//! | first reply wins (`Query`) | [`first`] | |
//!
//! The thread helpers start their own threads and hand back a [`Stage`], the output
//! channel. Every one stops when its context ends *or* when its output's last receiver
//! is dropped (a send then fails at once), so an abandoned pipeline never leaves a
//! blocked thread behind: Go's classic leak, a goroutine blocked forever sending a result
//! nobody reads, cannot happen (Go's post needs its `done` channel for that).
//!
//! # Panics
//! A panic in a stage's function is not lost: the stage stops and its [`Stage`] re-raises
//! the panic (with [`std::panic::resume_unwind`]) to whoever receives, at the point where
//! the channel would otherwise report "closed", after the values sent before it. A
//! stage whose input panicked forwards the panic, so it reaches the end of the pipeline.
//! See [`Stage`].
//!
//! ```
//! use gochan::{context, pipeline};
//! let ctx = context::background();
//! // gen(2, 3) -> sq -> sq, as in the Go pipeline article
//! let sq = |n: i64| n * n;
//! let out = pipeline::map(&ctx, pipeline::map(&ctx, pipeline::generate(&ctx, [2, 3]), sq), sq);
//! assert_eq!(out.iter().collect::<Vec<_>>(), [16, 81]);
//! ```

mod error;
mod stage;
pub mod stream;

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::thread;

use crate::chan::{bounded, Receiver, Sender};
use crate::context::{self, Context};
use crate::select::Select;

pub use error::FirstError;
use stage::PanicSlot;
pub use stage::{IntoIter, Iter, Stage, StageStream};

/// Starts a stage thread named `name` sending on a new unbuffered channel. `body` gets
/// the sender, the context's done channel and the stage's panic slot; a panic in `body`
/// is recorded in the slot before the channel closes.
fn spawn_stage<U, B>(name: &str, ctx: &Context, body: B) -> Stage<U>
where
    U: Send + 'static,
    B: FnOnce(&Sender<U>, &Receiver<()>, &PanicSlot) + Send + 'static,
{
    let (tx, rx) = bounded(0);
    let slot = Arc::new(PanicSlot::default());
    let out = Stage::with_slot(rx, slot.clone());
    let done = ctx.done();
    crate::prim::spawn_named(name, move || {
        if let Err(p) = panic::catch_unwind(AssertUnwindSafe(|| body(&tx, &done, &slot))) {
            slot.set(p);
        }
        drop(tx); // closes the output after the panic, if any, is recorded
    })
    .expect("gochan::pipeline: failed to spawn a stage thread");
    out
}

/// Sends `v` unless `done` closes first; `false` if the pipeline should stop.
fn send_or_done<T>(tx: &Sender<T>, v: T, done: &Receiver<()>) -> bool {
    crate::select! {
        send(tx, v) -> r => r.is_ok(),
        recv(done) -> _ => false,
    }
}

/// Go's `gen`: sends `values` on an unbuffered channel from a new thread, then closes it.
/// Stops early when `ctx` ends or the output is dropped. A panic in the iterator reaches
/// the consumer (see [`Stage`]).
///
/// ```
/// let ctx = gochan::context::background();
/// let nums = gochan::pipeline::generate(&ctx, 1..=3);
/// assert_eq!(nums.iter().sum::<i32>(), 6);
/// ```
#[must_use = "dropping the output stops the stage at once"]
pub fn generate<I>(ctx: &Context, values: I) -> Stage<I::Item>
where
    I: IntoIterator + Send + 'static,
    I::Item: Send + 'static,
    I::IntoIter: Send,
{
    spawn_stage("gochan-pipeline-generate", ctx, move |tx, done, _| {
        for v in values {
            if !send_or_done(tx, v, done) {
                return;
            }
        }
    })
}

/// One worker's loop: receive from `input`, apply `f`, send; returns when `input` is
/// drained (forwarding its panic to `slot`), `done` closes, or the output is gone.
fn work<T, U>(
    input: &Stage<T>,
    tx: &Sender<U>,
    done: &Receiver<()>,
    slot: &PanicSlot,
    mut f: impl FnMut(T) -> U,
) {
    loop {
        let v = crate::select! {
            recv(input.receiver()) -> v => v,
            recv(done) -> _ => return,
        };
        let Ok(v) = v else {
            input.forward_panic(slot);
            return;
        };
        if !send_or_done(tx, f(v), done) {
            return;
        }
    }
}

/// Go's `sq`, a pipeline stage: applies `f` to every value of `input` on a new thread and
/// sends the results, in order, on an unbuffered channel, closed when `input` is
/// drained. Stops early when `ctx` ends or the output is dropped.
///
/// `input` is a [`Stage`] or a plain [`Receiver`]. If `f` panics, or `input`'s stage
/// panicked, the output delivers what was sent before and then re-raises that panic in
/// the consumer (see [`Stage`]): a crashed stage never looks like a finished one.
///
/// ```
/// let ctx = gochan::context::background();
/// let doubled = gochan::pipeline::map(&ctx, gochan::pipeline::generate(&ctx, [1, 2]), |x| x * 2);
/// assert_eq!(doubled.iter().collect::<Vec<_>>(), [2, 4]);
/// ```
#[must_use = "dropping the output stops the stage at once"]
pub fn map<T, U, F>(ctx: &Context, input: impl Into<Stage<T>>, f: F) -> Stage<U>
where
    T: Send + 'static,
    U: Send + 'static,
    F: FnMut(T) -> U + Send + 'static,
{
    let input = input.into();
    spawn_stage("gochan-pipeline-map", ctx, move |tx, done, slot| {
        work(&input, tx, done, slot, f)
    })
}

/// [`map`] with `workers` threads applying `f` at once: the Go post's "bounded
/// parallelism" (a fixed number of digester goroutines reading one channel and sending
/// to one output, closed when all are done).
///
/// **Output order is not preserved**: results come in the order they are finished. If
/// `f` panics in any worker (or `input`'s stage panicked), the other workers stop
/// taking new values, the output delivers what was sent before and then re-raises the
/// first panic in the consumer, as [`map`] does (later panics of other workers are
/// dropped; the panic hook has printed them).
///
/// # Panics
/// If `workers` is 0.
///
/// ```
/// let ctx = gochan::context::background();
/// let input = gochan::pipeline::generate(&ctx, 1..=100u64);
/// let out = gochan::pipeline::map_parallel(&ctx, input, 4, |n| n * n);
/// let mut got: Vec<u64> = out.iter().collect();
/// got.sort_unstable();
/// assert_eq!(got, (1..=100u64).map(|n| n * n).collect::<Vec<_>>());
/// ```
#[must_use = "dropping the output stops the stage at once"]
#[track_caller]
pub fn map_parallel<T, U, F>(
    ctx: &Context,
    input: impl Into<Stage<T>>,
    workers: usize,
    f: F,
) -> Stage<U>
where
    T: Send + 'static,
    U: Send + 'static,
    F: Fn(T) -> U + Send + Sync + 'static,
{
    assert!(
        workers > 0,
        "gochan::pipeline::map_parallel: workers must be > 0"
    );
    let input = input.into();
    // Each worker stops on `ctx`'s end or on a sibling's panic (which cancels `stop`).
    let (stop_ctx, stop) = context::with_cancel(ctx);
    let stop = Arc::new(stop);
    let f = Arc::new(f);
    let (tx, rx) = bounded(0);
    let slot = Arc::new(PanicSlot::default());
    let out = Stage::with_slot(rx, slot.clone());
    for _ in 0..workers {
        let (input, tx, slot, stop, f) = (
            input.clone(),
            tx.clone(),
            slot.clone(),
            stop.clone(),
            f.clone(),
        );
        let done = stop_ctx.done();
        crate::prim::spawn_named("gochan-pipeline-map-parallel", move || {
            let r = panic::catch_unwind(AssertUnwindSafe(|| {
                work(&input, &tx, &done, &slot, |v| f(v))
            }));
            if let Err(p) = r {
                slot.set(p);
                stop.cancel();
            }
            drop(tx); // the output closes with the last worker, after any panic is set
        })
        .expect("gochan::pipeline: failed to spawn a worker thread");
    }
    out
}

/// Go's `merge`, fan-in: forwards every value of every input to one unbuffered channel,
/// which closes once all inputs are closed and drained. One thread serves all inputs (a
/// select over them), not one per input as in Go. Stops early when `ctx` ends or the
/// output is dropped.
///
/// Inputs are [`Stage`]s or plain [`Receiver`]s. If an input's stage panicked, `merge`
/// stops and its output re-raises that panic after the values forwarded before it (see
/// [`Stage`]); the other inputs see their receiver dropped.
///
/// ```
/// let ctx = gochan::context::background();
/// let a = gochan::pipeline::generate(&ctx, [1, 2]);
/// let b = gochan::pipeline::generate(&ctx, [10, 20]);
/// let mut all: Vec<i32> = gochan::pipeline::merge(&ctx, vec![a, b]).iter().collect();
/// all.sort();
/// assert_eq!(all, [1, 2, 10, 20]);
/// ```
#[must_use = "dropping the output stops the stage at once"]
pub fn merge<T, I>(ctx: &Context, inputs: I) -> Stage<T>
where
    T: Send + 'static,
    I: IntoIterator,
    I::Item: Into<Stage<T>>,
{
    let inputs: Vec<Stage<T>> = inputs.into_iter().map(Into::into).collect();
    spawn_stage("gochan-pipeline-merge", ctx, move |tx, done, slot| {
        let mut open = inputs;
        while !open.is_empty() {
            let (index, got) = {
                let mut sel = Select::new();
                for input in &open {
                    sel.recv(input.receiver());
                }
                let stop = sel.recv(done);
                let op = sel.select();
                let index = op.index();
                if index == stop {
                    return;
                }
                (index, op.recv(open[index].receiver()))
            };
            match got {
                Ok(v) => {
                    if !send_or_done(tx, v, done) {
                        return;
                    }
                }
                Err(_) => {
                    if open[index].forward_panic(slot) {
                        return;
                    }
                    open.swap_remove(index);
                }
            }
        }
    })
}

/// "Moving on": runs every query on its own thread under a child context, returns the
/// first result, and cancels the child context so the slower queries can stop. Slower
/// queries never block: their results are dropped (the buffered-channel trick of the Go
/// blog's "Go Concurrency Patterns: Timing out, moving on", built in).
///
/// # Errors
/// [`FirstError::NoQueries`] if `queries` is empty; [`FirstError::Context`] with the
/// context's error if `ctx` ends before any query answers.
///
/// # Panics
/// If the first query to finish panicked, that panic is re-raised here (with
/// [`std::panic::resume_unwind`]) after the others are cancelled: a panic is an outcome,
/// not something to wait past. Panics of queries that finish later are dropped.
///
/// ```
/// use std::time::Duration;
/// let ctx = gochan::context::background();
/// let queries: Vec<Box<dyn FnOnce(&gochan::context::Context) -> &'static str + Send>> = vec![
///     Box::new(|ctx| { ctx.wait_timeout(Duration::from_secs(5)); "slow" }),
///     Box::new(|_| "fast"),
/// ];
/// assert_eq!(gochan::pipeline::first(&ctx, queries), Ok("fast"));
/// ```
pub fn first<T, F, I>(ctx: &Context, queries: I) -> Result<T, FirstError>
where
    T: Send + 'static,
    F: FnOnce(&Context) -> T + Send + 'static,
    I: IntoIterator<Item = F>,
{
    let mut queries = queries.into_iter().peekable();
    if queries.peek().is_none() {
        return Err(FirstError::NoQueries);
    }
    let (child, cancel) = context::with_cancel(ctx);
    let (tx, rx) = bounded::<thread::Result<T>>(1);
    for q in queries {
        let tx = tx.clone();
        let child = child.clone();
        crate::prim::spawn_named("gochan-pipeline-first", move || {
            let outcome = panic::catch_unwind(AssertUnwindSafe(|| q(&child)));
            let _ = tx.try_send(outcome); // only the first fits; the rest are dropped
        })
        .expect("gochan::pipeline: failed to spawn a query thread");
    }
    drop(tx);
    let done = ctx.done();
    let r = crate::select! {
        recv(rx) -> v => Ok(v.expect("every query sends its outcome")),
        recv(done) -> _ => Err(FirstError::Context(ctx.err().unwrap_or(context::Error::Canceled))),
    };
    cancel.cancel();
    match r {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(p)) => panic::resume_unwind(p),
        Err(e) => Err(e),
    }
}
