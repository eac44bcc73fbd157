//! Select workloads.
//!
//! - `select_rx`: one receiver selects over 4 channels, each fed by its own sender.
//!   Sync: gochan `select!`, crossbeam `select!`, flume `Selector`. Async: gochan
//!   `select_async!` vs `tokio::select!` over 4 tokio mpsc receivers.
//! - `select_both`: each of 2 parties selects between sending on one channel and
//!   receiving on the other (A: send a->b | recv b->a; B the mirror) until it has sent
//!   its half and received the other half. Sync: gochan vs crossbeam (flume's `Selector`
//!   has send arms too, but two of them facing each other hang: see `sync_cases`).
//!   Async: gochan `select_async!` vs `tokio::select!` over `Sender::reserve` (the
//!   cancel-safe send) and `recv` (bounded only).

use std::ops::RangeInclusive;

use super::flavors::{
    AsyncFlavor, Crossbeam, Flume, Gochan, GochanAsync, SyncFlavor, Tokio, TokioRx,
};
use super::{run_tasks, run_threads, share, CheckJob, CheckTask, Config, Job, Task, CAPS, FAN};
use crate::harness::{Case, Check, Env, Msg, Outcome};

// ---------------------------------------------------------------- sync select_rx

/// One select over the 4 receivers; returns the received message.
type Rx4<F, M> = fn(&[<F as SyncFlavor>::Rx<M>; FAN]) -> M;

fn gochan_rx4<M: Msg>(r: &[gochan::Receiver<M>; FAN]) -> M {
    let [r0, r1, r2, r3] = r;
    gochan::select! {
        recv(*r0) -> v => v.unwrap(),
        recv(*r1) -> v => v.unwrap(),
        recv(*r2) -> v => v.unwrap(),
        recv(*r3) -> v => v.unwrap(),
    }
}

fn crossbeam_rx4<M: Msg>(r: &[crossbeam_channel::Receiver<M>; FAN]) -> M {
    let [r0, r1, r2, r3] = r;
    crossbeam_channel::select! {
        recv(r0) -> v => v.unwrap(),
        recv(r1) -> v => v.unwrap(),
        recv(r2) -> v => v.unwrap(),
        recv(r3) -> v => v.unwrap(),
    }
}

fn flume_rx4<M: Msg>(r: &[flume::Receiver<M>; FAN]) -> M {
    r.iter()
        .fold(flume::Selector::new(), |s, rx| s.recv(rx, |v| v.unwrap()))
        .wait()
}

pub fn select_rx<F: SyncFlavor, M: Msg>(cap: Option<usize>, n: usize, rx4: Rx4<F, M>) -> Outcome {
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..FAN).map(|_| F::chan::<M>(cap)).unzip();
    let producers: Vec<Job> = txs
        .iter()
        .enumerate()
        .map(|(k, tx)| {
            let tx = F::clone_tx(tx);
            Box::new(move || {
                for i in share(n, FAN, k) {
                    F::send(&tx, M::make(i));
                }
            }) as Job
        })
        .collect();
    let rxs: [F::Rx<M>; FAN] = rxs.try_into().unwrap_or_else(|_| unreachable!());
    let consumer = Box::new(move || {
        let mut c = Check::default();
        while (c.count as usize) < n {
            c.add(rx4(&rxs));
        }
        c
    }) as CheckJob;
    // `txs` stays alive until the receiver is done: a closed channel would make its arm
    // always ready (Go's rule), turning the select into a busy loop.
    let out = run_threads(producers, vec![consumer]);
    drop(txs);
    out
}

// ---------------------------------------------------------------- sync select_both

/// What one select of `select_both` did.
pub enum Step<M> {
    Sent,
    Got(M),
}

/// One select between sending `m` on `tx` and receiving from `rx`.
type Both<F, M> = fn(&<F as SyncFlavor>::Tx<M>, &<F as SyncFlavor>::Rx<M>, M) -> Step<M>;

fn gochan_both<M: Msg>(tx: &gochan::Sender<M>, rx: &gochan::Receiver<M>, m: M) -> Step<M> {
    gochan::select! {
        send(*tx, m) -> r => { r.unwrap(); Step::Sent },
        recv(*rx) -> v => Step::Got(v.unwrap()),
    }
}

fn crossbeam_both<M: Msg>(
    tx: &crossbeam_channel::Sender<M>,
    rx: &crossbeam_channel::Receiver<M>,
    m: M,
) -> Step<M> {
    crossbeam_channel::select! {
        send(tx, m) -> r => { r.unwrap(); Step::Sent },
        recv(rx) -> v => Step::Got(v.unwrap()),
    }
}

/// Kept for the test that documents flume's hang (not a contender).
#[cfg(test)]
fn flume_both<M: Msg>(tx: &flume::Sender<M>, rx: &flume::Receiver<M>, m: M) -> Step<M> {
    flume::Selector::new()
        .send(tx, m, |r| {
            r.unwrap();
            Step::Sent
        })
        .recv(rx, |v| Step::Got(v.unwrap()))
        .wait()
}

/// One party of `select_both`: sends `vals`, receives `quota` messages.
fn party<F: SyncFlavor, M: Msg>(
    tx: F::Tx<M>,
    rx: F::Rx<M>,
    vals: RangeInclusive<u64>,
    quota: usize,
    step: Both<F, M>,
) -> Check {
    let (mut next, end) = vals.into_inner();
    let mut c = Check::default();
    while next <= end && (c.count as usize) < quota {
        match step(&tx, &rx, M::make(next)) {
            Step::Sent => next += 1,
            Step::Got(m) => c.add(m),
        }
    }
    for i in next..=end {
        F::send(&tx, M::make(i));
    }
    while (c.count as usize) < quota {
        c.add(F::recv(&rx).expect("select_both: message missing"));
    }
    c
}

pub fn select_both<F: SyncFlavor, M: Msg>(
    cap: Option<usize>,
    n: usize,
    step: Both<F, M>,
) -> Outcome {
    let (ab_tx, ab_rx) = F::chan::<M>(cap);
    let (ba_tx, ba_rx) = F::chan::<M>(cap);
    let (va, vb) = (share(n, 2, 0), share(n, 2, 1));
    let (qa, qb) = (vb.clone().count(), va.clone().count());
    let a = Box::new(move || party::<F, M>(ab_tx, ba_rx, va, qa, step)) as CheckJob;
    let b = Box::new(move || party::<F, M>(ba_tx, ab_rx, vb, qb, step)) as CheckJob;
    run_threads(vec![], vec![a, b])
}

// ---------------------------------------------------------------- async

fn feeders<F: AsyncFlavor, M: Msg>(txs: &[F::Tx<M>], n: usize) -> Vec<Task> {
    txs.iter()
        .enumerate()
        .map(|(k, tx)| {
            let tx = F::clone_tx(tx);
            Box::pin(async move {
                for i in share(n, FAN, k) {
                    F::send(&tx, M::make(i)).await;
                }
            }) as Task
        })
        .collect()
}

pub fn select_rx_gochan_async<M: Msg>(env: &Env, cap: Option<usize>, n: usize) -> Outcome {
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..FAN).map(|_| GochanAsync::chan::<M>(cap)).unzip();
    let producers = feeders::<GochanAsync, M>(&txs, n);
    let [r0, r1, r2, r3]: [gochan::Receiver<M>; FAN] =
        rxs.try_into().unwrap_or_else(|_| unreachable!());
    let consumer = Box::pin(async move {
        let mut c = Check::default();
        while (c.count as usize) < n {
            let m = gochan::select_async! {
                recv(r0) -> v => v.unwrap(),
                recv(r1) -> v => v.unwrap(),
                recv(r2) -> v => v.unwrap(),
                recv(r3) -> v => v.unwrap(),
            };
            c.add(m);
        }
        c
    }) as CheckTask;
    let out = run_tasks(env, producers, vec![consumer]);
    drop(txs);
    out
}

pub fn select_rx_tokio<M: Msg>(env: &Env, cap: Option<usize>, n: usize) -> Outcome {
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..FAN).map(|_| Tokio::chan::<M>(cap)).unzip();
    let producers = feeders::<Tokio, M>(&txs, n);
    let [mut r0, mut r1, mut r2, mut r3]: [TokioRx<M>; FAN] =
        rxs.try_into().unwrap_or_else(|_| unreachable!());
    let consumer = Box::pin(async move {
        let mut c = Check::default();
        while (c.count as usize) < n {
            let m = tokio::select! {
                v = Tokio::recv(&mut r0) => v,
                v = Tokio::recv(&mut r1) => v,
                v = Tokio::recv(&mut r2) => v,
                v = Tokio::recv(&mut r3) => v,
            };
            c.add(m.expect("select_rx: channel closed early"));
        }
        c
    }) as CheckTask;
    let out = run_tasks(env, producers, vec![consumer]);
    drop(txs);
    out
}

async fn gochan_party_async<M: Msg>(
    tx: gochan::Sender<M>,
    rx: gochan::Receiver<M>,
    vals: RangeInclusive<u64>,
    quota: usize,
) -> Check {
    let (mut next, end) = vals.into_inner();
    let mut c = Check::default();
    while next <= end && (c.count as usize) < quota {
        let got = gochan::select_async! {
            send(tx, M::make(next)) -> r => { r.unwrap(); None },
            recv(rx) -> v => Some(v.unwrap()),
        };
        match got {
            None => next += 1,
            Some(m) => c.add(m),
        }
    }
    for i in next..=end {
        tx.send_async(M::make(i)).await.unwrap();
    }
    while (c.count as usize) < quota {
        c.add(rx.recv_async().await.expect("select_both: message missing"));
    }
    c
}

async fn tokio_party<M: Msg>(
    tx: tokio::sync::mpsc::Sender<M>,
    mut rx: tokio::sync::mpsc::Receiver<M>,
    vals: RangeInclusive<u64>,
    quota: usize,
) -> Check {
    let (mut next, end) = vals.into_inner();
    let mut c = Check::default();
    while next <= end && (c.count as usize) < quota {
        tokio::select! {
            p = tx.reserve() => {
                p.unwrap().send(M::make(next));
                next += 1;
            }
            v = rx.recv() => c.add(v.unwrap()),
        }
    }
    for i in next..=end {
        tx.send(M::make(i)).await.unwrap();
    }
    while (c.count as usize) < quota {
        c.add(rx.recv().await.expect("select_both: message missing"));
    }
    c
}

pub fn select_both_gochan_async<M: Msg>(env: &Env, cap: Option<usize>, n: usize) -> Outcome {
    let (ab_tx, ab_rx) = GochanAsync::chan::<M>(cap);
    let (ba_tx, ba_rx) = GochanAsync::chan::<M>(cap);
    let (va, vb) = (share(n, 2, 0), share(n, 2, 1));
    let (qa, qb) = (vb.clone().count(), va.clone().count());
    let a = Box::pin(gochan_party_async(ab_tx, ba_rx, va, qa)) as CheckTask;
    let b = Box::pin(gochan_party_async(ba_tx, ab_rx, vb, qb)) as CheckTask;
    run_tasks(env, vec![], vec![a, b])
}

pub fn select_both_tokio<M: Msg>(env: &Env, cap: usize, n: usize) -> Outcome {
    let (ab_tx, ab_rx) = tokio::sync::mpsc::channel::<M>(cap);
    let (ba_tx, ba_rx) = tokio::sync::mpsc::channel::<M>(cap);
    let (va, vb) = (share(n, 2, 0), share(n, 2, 1));
    let (qa, qb) = (vb.clone().count(), va.clone().count());
    let a = Box::pin(tokio_party(ab_tx, ba_rx, va, qa)) as CheckTask;
    let b = Box::pin(tokio_party(ba_tx, ab_rx, vb, qb)) as CheckTask;
    run_tasks(env, vec![], vec![a, b])
}

// ---------------------------------------------------------------- registry

fn sync_cases<M: Msg>(cfg: &Config, cap: Option<usize>, out: &mut Vec<Case>) {
    let n = cfg.n(cap);
    let mut c = Case::new::<M>("select_rx", cap, "sync", n);
    c.add(Gochan::NAME, move |_, n| {
        select_rx::<Gochan, M>(cap, n, gochan_rx4)
    });
    c.add(Crossbeam::NAME, move |_, n| {
        select_rx::<Crossbeam, M>(cap, n, crossbeam_rx4)
    });
    c.add(Flume::NAME, move |_, n| {
        select_rx::<Flume, M>(cap, n, flume_rx4)
    });
    out.push(c);

    let mut c = Case::new::<M>("select_both", cap, "sync", n);
    c.add(Gochan::NAME, move |_, n| {
        select_both::<Gochan, M>(cap, n, gochan_both)
    });
    c.add(Crossbeam::NAME, move |_, n| {
        select_both::<Crossbeam, M>(cap, n, crossbeam_both)
    });
    // Not flume: two flume `Selector`s with send arms facing each other hang within a few
    // hundred messages at cap 0 and 1 (flume 0.11.1; cf. zesterer/flume#44). The ignored
    // test `flume_select_both_still_hangs` checks whether that still holds.
    out.push(c);
}

fn async_cases<M: Msg>(cfg: &Config, cap: Option<usize>, out: &mut Vec<Case>) {
    let n = cfg.n(cap);
    let mut c = Case::new::<M>("select_rx", cap, "async", n);
    c.add(GochanAsync::NAME, move |env, n| {
        select_rx_gochan_async::<M>(env, cap, n)
    });
    if cap != Some(0) {
        c.add(Tokio::NAME, move |env, n| select_rx_tokio::<M>(env, cap, n));
    }
    out.push(c);

    let mut c = Case::new::<M>("select_both", cap, "async", n);
    c.add(GochanAsync::NAME, move |env, n| {
        select_both_gochan_async::<M>(env, cap, n)
    });
    if let Some(k @ 1..) = cap {
        c.add(Tokio::NAME, move |env, n| select_both_tokio::<M>(env, k, n));
    }
    out.push(c);
}

pub fn cases(cfg: &Config, out: &mut Vec<Case>) {
    for cap in CAPS {
        sync_cases::<usize>(cfg, cap, out);
    }
    for cap in CAPS {
        async_cases::<usize>(cfg, cap, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Run with `--ignored`: fails once flume's facing selectors work, so flume can join
    /// the select_both cells.
    #[test]
    #[ignore = "leaves a hung thread behind; documents why flume sits out select_both"]
    fn flume_select_both_still_hangs() {
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for _ in 0..20 {
                select_both::<Flume, usize>(Some(1), 400, flume_both);
            }
            let _ = done_tx.send(());
        });
        assert!(
            done_rx.recv_timeout(Duration::from_secs(10)).is_err(),
            "flume select_both finished"
        );
    }
}
