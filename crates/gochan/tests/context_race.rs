//! Ports of Go's concurrency tests from `context/x_test.go` (Go 1.21+):
//! `TestSimultaneousCancels`, `TestInterlockedCancels`, `TestLayers*`,
//! `TestWithCancelSimultaneouslyCanceledParent`, `TestContextErrDoneRace`, plus stress on
//! the children bookkeeping and on the done channel's creation.

use std::thread;
use std::time::{Duration, Instant};

use gochan::context::{self, Context, Error};
use gochan::TryRecvError;

/// Go's `veryLongDuration`.
const VERY_LONG: Duration = Duration::from_secs(1000 * 3600);
/// Go's `shortDuration`.
const SHORT: Duration = Duration::from_millis(1);
/// Generous bound for anything that should happen "soon" (noisy shared machine).
const SOON: Duration = Duration::from_secs(5);

/// `select { case <-ctx.Done(): true; default: false }`.
fn done_now(ctx: &Context) -> bool {
    match ctx.done().try_recv() {
        Err(TryRecvError::Closed) => true,
        Err(TryRecvError::Empty) => false,
        Ok(()) => panic!("a done channel never carries a value"),
    }
}

/// Tiny deterministic PRNG (xorshift64*), seeded per test and printed on failure.
struct Rng(u64);
impl Rng {
    fn seeded() -> (Rng, u64) {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1;
        (Rng(seed), seed)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Go: `TestSimultaneousCancels`: a tree of ~100 contexts, every cancel on its own
/// thread in random order; every context ends and every cancel returns.
#[test]
fn simultaneous_cancels() {
    let (rng, seed) = Rng::seeded();
    let mut rng = rng;
    let (root, cancel) = context::with_cancel(&context::background());
    let mut all = vec![(root.clone(), cancel)];
    let mut q = std::collections::VecDeque::from([root]);
    while let Some(parent) = q.pop_front() {
        if all.len() >= 100 {
            break;
        }
        for _ in 0..4 {
            let (ctx, cancel) = context::with_cancel(&parent);
            all.push((ctx.clone(), cancel));
            q.push_back(ctx);
        }
    }
    // Shuffle, then start all the cancels.
    for i in (1..all.len()).rev() {
        all.swap(i, rng.below(i + 1));
    }
    let (ctxs, cancels): (Vec<_>, Vec<_>) = all.into_iter().unzip();
    let (done_tx, done_rx) = gochan::unbounded::<()>();
    for cancel in cancels {
        let done_tx = done_tx.clone();
        thread::spawn(move || {
            cancel.cancel();
            done_tx.send(()).unwrap();
        });
    }
    drop(done_tx);
    let stuck = gochan::after(SOON);
    for ctx in &ctxs {
        gochan::select! {
            recv(ctx.done()) -> _ => {}
            recv(stuck) -> _ => panic!("seed={seed}: timed out waiting for <-ctx.Done()"),
        }
        assert_eq!(ctx.err(), Some(Error::Canceled));
    }
    // Wait for all the cancel functions to return.
    for _ in 0..ctxs.len() {
        assert!(
            done_rx.recv_timeout(SOON).is_ok(),
            "seed={seed}: timed out waiting for cancel functions"
        );
    }
}

/// Go: `TestInterlockedCancels`.
#[test]
fn interlocked_cancels() {
    let (parent, cancel_parent) = context::with_cancel(&context::background());
    let (child, cancel_child) = context::with_cancel(&parent);
    let p = parent.clone();
    let h = thread::spawn(move || {
        p.wait();
        cancel_child.cancel();
    });
    cancel_parent.cancel();
    gochan::select! {
        recv(child.done()) -> _ => {}
        recv(gochan::after(SOON)) -> _ => panic!("timed out waiting for child.Done()"),
    }
    h.join().unwrap();
}

/// Distinct value key types for `test_layers` (Go uses fresh `*value` pointers as keys).
struct L<const N: usize>(usize);

fn push_value(ctx: &Context, slot: usize, layer: usize) -> Context {
    match slot {
        0 => context::with_value(ctx, L::<0>(layer)),
        1 => context::with_value(ctx, L::<1>(layer)),
        2 => context::with_value(ctx, L::<2>(layer)),
        3 => context::with_value(ctx, L::<3>(layer)),
        4 => context::with_value(ctx, L::<4>(layer)),
        5 => context::with_value(ctx, L::<5>(layer)),
        6 => context::with_value(ctx, L::<6>(layer)),
        _ => context::with_value(ctx, L::<7>(layer)),
    }
}

fn get_value(ctx: &Context, slot: usize) -> Option<usize> {
    match slot {
        0 => ctx.value::<L<0>>().map(|v| v.0),
        1 => ctx.value::<L<1>>().map(|v| v.0),
        2 => ctx.value::<L<2>>().map(|v| v.0),
        3 => ctx.value::<L<3>>().map(|v| v.0),
        4 => ctx.value::<L<4>>().map(|v| v.0),
        5 => ctx.value::<L<5>>().map(|v| v.0),
        6 => ctx.value::<L<6>>().map(|v| v.0),
        _ => ctx.value::<L<7>>().map(|v| v.0),
    }
}

/// Go's `testLayers`: a random stack of >= 30 value/cancel/timeout layers.
fn test_layers(test_timeout: bool) {
    let (mut r, seed) = Rng::seeded();
    const MIN_LAYERS: usize = 30;
    let mut vals: [Option<usize>; 8] = [None; 8]; // slot -> layer of its nearest value
    let mut cancels = Vec::new();
    let mut num_timers = 0;
    let mut ctx = context::background();
    let mut i = 0;
    while i < MIN_LAYERS
        || num_timers == 0
        || cancels.is_empty()
        || vals.iter().all(Option::is_none)
    {
        match r.below(3) {
            0 => {
                let slot = r.below(8);
                ctx = push_value(&ctx, slot, i);
                vals[slot] = Some(i);
            }
            1 => {
                let (c, cancel) = context::with_cancel(&ctx);
                ctx = c;
                cancels.push(cancel);
            }
            _ => {
                let d = if test_timeout { SHORT } else { VERY_LONG };
                let (c, cancel) = context::with_timeout(&ctx, d);
                ctx = c;
                cancels.push(cancel);
                num_timers += 1;
            }
        }
        i += 1;
    }
    let check_values = |when: &str| {
        for (slot, want) in vals.iter().enumerate() {
            assert_eq!(
                get_value(&ctx, slot),
                *want,
                "seed={seed}: {when}: slot {slot}"
            );
        }
    };
    if !test_timeout {
        assert!(
            !done_now(&ctx),
            "seed={seed}: ctx should not be canceled yet"
        );
    }
    let s = ctx.to_string();
    assert!(s.starts_with("context.Background."), "seed={seed}: {s}");
    check_values("before cancel");
    if test_timeout {
        gochan::select! {
            recv(ctx.done()) -> _ => {}
            recv(gochan::after(SOON)) -> _ => panic!("seed={seed}: ctx should have timed out"),
        }
        assert_eq!(ctx.err(), Some(Error::DeadlineExceeded), "seed={seed}");
        check_values("after timeout");
    } else {
        let k = r.below(cancels.len());
        cancels[k].cancel();
        assert!(done_now(&ctx), "seed={seed}: ctx should be canceled");
        assert_eq!(ctx.err(), Some(Error::Canceled), "seed={seed}");
        check_values("after cancel");
    }
    drop(cancels);
}

/// Go: `TestLayersCancel`.
#[test]
fn layers_cancel() {
    for _ in 0..20 {
        test_layers(false);
    }
}

/// Go: `TestLayersTimeout`.
#[test]
fn layers_timeout() {
    for _ in 0..5 {
        test_layers(true);
    }
}

/// Go: `TestWithCancelSimultaneouslyCanceledParent`: the parent is cancelled on another
/// thread while the child is created; the child ends with the parent's error and cause.
#[test]
fn with_cancel_simultaneously_canceled_parent() {
    for i in 0..100 {
        let (parent, pcancel) = context::with_cancel_cause(&context::background());
        let msg = format!("Because! {i}");
        let m = msg.clone();
        let h = thread::spawn(move || pcancel.cancel(m));
        let (c, _c) = context::with_cancel(&parent);
        assert!(c.wait_timeout(SOON), "child never ended");
        assert_eq!(c.err(), Some(Error::Canceled));
        assert_eq!(context::cause(&c).unwrap().to_string(), msg);
        h.join().unwrap();
    }
}

/// Go: `TestContextErrDoneRace` (issue #75533): once `Err()` is non-nil, `Done()` must
/// already be closed. Here the done channel is fetched first and `cancel` runs on
/// another thread; the reader spins on `err()` then polls the channel.
#[test]
fn context_err_done_race() {
    let (work_tx, work_rx) = gochan::bounded::<context::CancelFunc>(0);
    let worker = thread::spawn(move || {
        for cancel in work_rx.iter() {
            cancel.cancel();
        }
    });
    let mut bad = None;
    let start = Instant::now();
    // Usually caught within a few hundred iterations; bounded in time on a loaded machine.
    for i in 0.. {
        if start.elapsed() > Duration::from_secs(3) || i >= 100_000 {
            break;
        }
        let (ctx, cancel) = context::with_cancel(&context::background());
        let donec = ctx.done();
        work_tx.send(cancel).unwrap();
        while ctx.err().is_none() {
            std::hint::spin_loop();
        }
        if donec.try_recv() != Err(TryRecvError::Closed) {
            bad = Some(i);
            break;
        }
    }
    drop(work_tx);
    worker.join().unwrap();
    assert_eq!(
        bad, None,
        "iteration: ctx.err() was non-nil while ctx.done() was open"
    );
}

/// Go's `TestContextErrDoneRace` in its passing direction: once `done()` is closed,
/// `err()` is non-nil (the state is published before the channel closes).
#[test]
fn done_closed_implies_err() {
    for _ in 0..200 {
        let (ctx, cancel) = context::with_cancel(&context::background());
        let donec = ctx.done();
        let h = thread::spawn(move || cancel.cancel());
        assert!(donec.recv_timeout(SOON).is_err(), "done never closed");
        assert_eq!(ctx.err(), Some(Error::Canceled));
        h.join().unwrap();
    }
}

/// Concurrency stress on the children bookkeeping: two threads create children of one
/// parent (keeping some, dropping others) while the parent is cancelled. Every kept
/// child ends `Canceled`, nothing deadlocks, and the parent ends with no children.
#[test]
fn concurrent_children_and_cancel() {
    for _ in 0..20 {
        let (parent, cancel) = context::with_cancel(&context::background());
        let via_value = context::with_value(&parent, 1u8);
        let workers: Vec<_> = (0..2)
            .map(|w| {
                let p = if w == 0 {
                    parent.clone()
                } else {
                    via_value.clone()
                };
                thread::spawn(move || {
                    let mut kept = Vec::new();
                    for i in 0..2_000 {
                        let pair = context::with_cancel(&p);
                        if i % 3 == 0 {
                            kept.push(pair);
                        } else if i % 3 == 1 {
                            pair.1.cancel();
                        }
                        if i % 500 == 0 {
                            thread::yield_now();
                        }
                    }
                    kept
                })
            })
            .collect();
        thread::yield_now();
        cancel.cancel();
        for w in workers {
            let kept = w.join().unwrap();
            assert!(kept.iter().all(|(c, _)| c.err() == Some(Error::Canceled)));
        }
        assert_eq!(parent.child_count(), 0);
    }
}

/// `done()` called for the first time while another thread cancels: the channel is
/// always closed eventually (no lost close, no recv that never returns).
#[test]
fn done_created_concurrently_with_cancel() {
    for i in 0..500 {
        let (ctx, cancel) = context::with_cancel(&context::background());
        let h = thread::spawn(move || cancel.cancel());
        let via_value = context::with_value(&ctx, i);
        assert!(
            via_value.done().recv_timeout(SOON).is_err(),
            "iter {i}: done never closed"
        );
        assert_eq!(ctx.err(), Some(Error::Canceled));
        h.join().unwrap();
    }
}
