//! Fan-in: 8 input channels (capacity 1000, one producer each) merged into one consumer
//! (twin: `bench/go/merge.go`). `cap` is the output's capacity.
//!
//! - `merge/0/sync`: gochan `pipeline::merge` (one thread selecting over the inputs and
//!   the context's done channel, forwarding into an unbuffered output: the helper has no
//!   other capacity) vs a hand-written crossbeam `Select` loop forwarding into
//!   `bounded(0)`. Messages per run: `n_slow`, like every cap-0 cell.
//! - `merge/1000/sync`: the same hand-written loop on gochan's `Select` and on crossbeam's,
//!   forwarding into `bounded(1000)`: what the helper could cost with a buffer.
//! - `merge/1000/async`: the consumer task polls `futures::stream::select_all` over the 8
//!   receivers (gochan `into_stream()`, async-channel): no forwarder, no output channel.

use std::ops::RangeInclusive;

use futures::StreamExt;
use gochan::context;

use super::{run_tasks, run_threads, share, CheckJob, CheckTask, Config, Job, Task};
use crate::harness::{Case, Check, Env, Msg, Outcome};

/// Input channels of a merge.
pub const INPUTS: usize = 8;
/// Capacity of every input channel.
pub const INPUT_CAP: usize = 1000;

type M = usize;

/// The producer of input `k`: sends its share of `1..=n`, then drops its sender.
fn producer(n: usize, k: usize, send: impl Fn(M) + Send + 'static) -> Job {
    Box::new(move || {
        for i in share(n, INPUTS, k) {
            send(M::make(i));
        }
    })
}

fn consumer<I: IntoIterator<Item = M>>(out: impl FnOnce() -> I + Send + 'static) -> CheckJob {
    Box::new(move || {
        let mut c = Check::default();
        for v in out() {
            c.add(v);
        }
        c
    })
}

/// `gochan::pipeline::merge` over 8 gochan inputs.
fn gochan_merge(n: usize) -> Outcome {
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..INPUTS).map(|_| gochan::bounded::<M>(INPUT_CAP)).unzip();
    let out = gochan::pipeline::merge(&context::background(), rxs);
    let producers = txs
        .into_iter()
        .enumerate()
        .map(|(k, tx)| producer(n, k, move |v| tx.send(v).expect("merge input")))
        .collect();
    run_threads(producers, vec![consumer(move || out.into_iter())])
}

/// A hand-written fan-in on gochan: one `Select` over the open inputs, rebuilt only when
/// one closes, forwarding into `bounded(cap)`.
fn gochan_loop(n: usize, cap: usize) -> Outcome {
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..INPUTS).map(|_| gochan::bounded::<M>(INPUT_CAP)).unzip();
    let (out_tx, out) = gochan::bounded::<M>(cap);
    let mut producers: Vec<Job> = txs
        .into_iter()
        .enumerate()
        .map(|(k, tx)| producer(n, k, move |v| tx.send(v).expect("merge input")))
        .collect();
    producers.push(Box::new(move || {
        let mut open = rxs;
        while !open.is_empty() {
            let closed = {
                let mut sel = gochan::Select::new();
                for rx in &open {
                    sel.recv(rx);
                }
                loop {
                    let op = sel.select();
                    let i = op.index();
                    match op.recv(&open[i]) {
                        Ok(v) => out_tx.send(v).expect("merge output"),
                        Err(_) => break i,
                    }
                }
            };
            open.swap_remove(closed);
        }
    }));
    run_threads(producers, vec![consumer(move || out.into_iter())])
}

/// The same hand-written fan-in on crossbeam-channel.
fn crossbeam_loop(n: usize, cap: usize) -> Outcome {
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..INPUTS)
        .map(|_| crossbeam_channel::bounded::<M>(INPUT_CAP))
        .unzip();
    let (out_tx, out) = crossbeam_channel::bounded::<M>(cap);
    let mut producers: Vec<Job> = txs
        .into_iter()
        .enumerate()
        .map(|(k, tx)| producer(n, k, move |v| tx.send(v).expect("merge input")))
        .collect();
    producers.push(Box::new(move || {
        let mut open = rxs;
        while !open.is_empty() {
            let closed = {
                let mut sel = crossbeam_channel::Select::new();
                for rx in &open {
                    sel.recv(rx);
                }
                loop {
                    let op = sel.select();
                    let i = op.index();
                    match op.recv(&open[i]) {
                        Ok(v) => out_tx.send(v).expect("merge output"),
                        Err(_) => break i,
                    }
                }
            };
            open.swap_remove(closed);
        }
    }));
    run_threads(producers, vec![consumer(move || out.into_iter())])
}

/// Async fan-in: the consumer task polls `select_all` over the input streams; `produce`
/// sends a range of sequence numbers on one input, then drops its sender.
fn select_all<T, S>(
    env: &Env,
    n: usize,
    chan: fn() -> (T, S),
    produce: fn(T, RangeInclusive<u64>) -> Task,
) -> Outcome
where
    S: futures::Stream<Item = M> + Unpin + Send + 'static,
{
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..INPUTS).map(|_| chan()).unzip();
    let producers: Vec<Task> = txs
        .into_iter()
        .enumerate()
        .map(|(k, tx)| produce(tx, share(n, INPUTS, k)))
        .collect();
    let consumer: CheckTask = Box::pin(async move {
        let mut all = futures::stream::select_all(rxs);
        let mut c = Check::default();
        while let Some(v) = all.next().await {
            c.add(v);
        }
        c
    });
    run_tasks(env, producers, vec![consumer])
}

fn gochan_select_all(env: &Env, n: usize) -> Outcome {
    select_all(
        env,
        n,
        || {
            let (tx, rx) = gochan::bounded::<M>(INPUT_CAP);
            (tx, rx.into_stream())
        },
        |tx, range| {
            Box::pin(async move {
                for i in range {
                    tx.send_async(M::make(i)).await.expect("merge input");
                }
            })
        },
    )
}

fn async_channel_select_all(env: &Env, n: usize) -> Outcome {
    select_all(
        env,
        n,
        || {
            let (tx, rx) = async_channel::bounded::<M>(INPUT_CAP);
            (tx, Box::pin(rx))
        },
        |tx, range| {
            Box::pin(async move {
                for i in range {
                    tx.send(M::make(i)).await.expect("merge input");
                }
            })
        },
    )
}

pub fn cases(cfg: &Config, out: &mut Vec<Case>) {
    let mut c = Case::new::<M>("merge", Some(0), "sync", cfg.n_slow);
    c.add("gochan", |_, n| gochan_merge(n));
    c.add("crossbeam", |_, n| crossbeam_loop(n, 0));
    out.push(c);

    let mut c = Case::new::<M>("merge", Some(1000), "sync", cfg.n_fast);
    c.add("gochan", |_, n| gochan_loop(n, 1000));
    c.add("crossbeam", |_, n| crossbeam_loop(n, 1000));
    out.push(c);

    let mut c = Case::new::<M>("merge", Some(1000), "async", cfg.n_fast);
    c.add("gochan", gochan_select_all);
    c.add("async-channel", async_channel_select_all);
    out.push(c);
}
