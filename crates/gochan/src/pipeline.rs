//! Reusable forms of the patterns the seeds write by hand: a generator that does not
//! leak, pipeline stages, fan-in (`merge`) and "first reply wins" (`first`).
//!
//! Every helper stops when its context ends *or* when its output's last receiver is
//! dropped (a send then fails at once), so an abandoned pipeline never leaves a blocked
//! thread behind: the leak of seed 001 cannot happen.
//!
//! ```
//! use gochan::{context, pipeline};
//! let ctx = context::background();
//! // gen(2, 3) -> sq -> sq, as in the Go pipeline article
//! let sq = |n: i64| n * n;
//! let out = pipeline::map(&ctx, pipeline::map(&ctx, pipeline::generate(&ctx, [2, 3]), sq), sq);
//! assert_eq!(out.iter().collect::<Vec<_>>(), [16, 81]);
//! ```

use std::thread;

use crate::chan::{bounded, Receiver, Sender};
use crate::context::{self, Context};
use crate::select::Select;

/// Sends `values` on an unbuffered channel from a new thread, then closes it. Stops early
/// when `ctx` ends or the receiver is dropped.
///
/// ```
/// let ctx = gochan::context::background();
/// let nums = gochan::pipeline::generate(&ctx, 1..=3);
/// assert_eq!(nums.iter().sum::<i32>(), 6);
/// ```
pub fn generate<I>(ctx: &Context, values: I) -> Receiver<I::Item>
where
    I: IntoIterator + Send + 'static,
    I::Item: Send + 'static,
    I::IntoIter: Send,
{
    let (tx, rx) = bounded(0);
    let ctx = ctx.clone();
    thread::spawn(move || {
        let done = ctx.done();
        for v in values {
            if !send_or_done(&tx, v, &done) {
                return;
            }
        }
    });
    rx
}

/// Sends `v` unless `done` closes first; `false` if the pipeline should stop.
fn send_or_done<T>(tx: &Sender<T>, v: T, done: &Receiver<()>) -> bool {
    crate::select! {
        send(tx, v) -> r => r.is_ok(),
        recv(done) -> _ => false,
    }
}

/// A pipeline stage: applies `f` to every value of `input` on a new thread and sends the
/// results on an unbuffered channel, closed when `input` is drained. Stops early when
/// `ctx` ends or the output's receiver is dropped.
///
/// ```
/// let ctx = gochan::context::background();
/// let doubled = gochan::pipeline::map(&ctx, gochan::pipeline::generate(&ctx, [1, 2]), |x| x * 2);
/// assert_eq!(doubled.iter().collect::<Vec<_>>(), [2, 4]);
/// ```
pub fn map<T, U, F>(ctx: &Context, input: Receiver<T>, mut f: F) -> Receiver<U>
where
    T: Send + 'static,
    U: Send + 'static,
    F: FnMut(T) -> U + Send + 'static,
{
    let (tx, rx) = bounded(0);
    let ctx = ctx.clone();
    thread::spawn(move || {
        let done = ctx.done();
        loop {
            let v = crate::select! {
                recv(input) -> v => v,
                recv(done) -> _ => return,
            };
            let Ok(v) = v else { return };
            if !send_or_done(&tx, f(v), &done) {
                return;
            }
        }
    });
    rx
}

/// Fan-in: forwards every value of every input to one unbuffered channel, which closes
/// once all inputs are closed and drained. One thread serves all inputs (a select over
/// them), not one per input. Stops early when `ctx` ends or the output is dropped.
///
/// ```
/// let ctx = gochan::context::background();
/// let a = gochan::pipeline::generate(&ctx, [1, 2]);
/// let b = gochan::pipeline::generate(&ctx, [10, 20]);
/// let mut all: Vec<i32> = gochan::pipeline::merge(&ctx, vec![a, b]).iter().collect();
/// all.sort();
/// assert_eq!(all, [1, 2, 10, 20]);
/// ```
pub fn merge<T: Send + 'static>(ctx: &Context, inputs: Vec<Receiver<T>>) -> Receiver<T> {
    let (tx, rx) = bounded(0);
    let ctx = ctx.clone();
    thread::spawn(move || {
        let done = ctx.done();
        let mut open = inputs;
        while !open.is_empty() {
            let (index, got) = {
                let mut sel = Select::new();
                for input in &open {
                    sel.recv(input);
                }
                let stop = sel.recv(&done);
                let op = sel.select();
                let index = op.index();
                if index == stop {
                    return;
                }
                (index, op.recv(&open[index]))
            };
            match got {
                Ok(v) => {
                    if !send_or_done(&tx, v, &done) {
                        return;
                    }
                }
                Err(_) => {
                    open.swap_remove(index);
                }
            }
        }
    });
    rx
}

/// "Moving on": runs every query on its own thread under a child context, returns the
/// first result, and cancels the child context so the slower queries can stop. Returns
/// the context's error if `ctx` ends before any query answers. Slower queries never
/// block: their results are dropped (seed 000's buffered-channel trick, built in).
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
pub fn first<T, F, I>(ctx: &Context, queries: I) -> Result<T, context::Error>
where
    T: Send + 'static,
    F: FnOnce(&Context) -> T + Send + 'static,
    I: IntoIterator<Item = F>,
{
    let (child, cancel) = context::with_cancel(ctx);
    let (tx, rx) = bounded(1);
    let mut started = 0;
    for q in queries {
        started += 1;
        let tx = tx.clone();
        let child = child.clone();
        thread::spawn(move || {
            let v = q(&child);
            let _ = tx.try_send(v); // only the first fits; the rest are dropped
        });
    }
    drop(tx);
    if started == 0 {
        return Err(context::Error::Canceled);
    }
    let done = ctx.done();
    let r = crate::select! {
        recv(rx) -> v => v.map_err(|_| context::Error::Canceled),
        recv(done) -> _ => Err(ctx.err().unwrap_or(context::Error::Canceled)),
    };
    cancel.cancel();
    r
}
