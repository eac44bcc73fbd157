//! Context workloads: gochan::context vs tokio-util's `CancellationToken` vs Go's
//! `context` (twin: `bench/go/context.go`), after Go's `context/benchmark_test.go`.
//!
//! Every operation is checked (a cancelled child reports cancelled, a value is found), so
//! a broken contender fails the run instead of winning it. Rows (`workload | param | mode
//! | unit`): `ctx_child`, `ctx_timeout`, `ctx_tree`, `ctx_check`, `ctx_value` in ns/op;
//! `ctx_fanout` in ms; `ctx_bytes` in B/node.

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskCx, Poll};
use std::thread;
use std::time::{Duration, Instant};

use gochan::context::{self, CancelFunc, Context, Error};
use tokio_util::sync::CancellationToken;

use super::{run_threads, share, CheckJob, Config};
use crate::alloc;
use crate::harness::{Case, Check, Env, Outcome};

const GOCHAN: &str = "gochan";
const TOKEN: &str = "tokio-util";
const HOUR: Duration = Duration::from_secs(3600);
/// Children created per batch by each thread of `ctx_timeout` (as in Go's benchmark).
const BATCH: usize = 10;
/// Chain depths of `ctx_tree` (Go's BenchmarkCancelTree).
pub const TREE_DEPTHS: [usize; 4] = [1, 10, 100, 1000];
/// Chain depths of `ctx_value`.
pub const VALUE_DEPTHS: [usize; 2] = [10, 100];

/// A fresh cancelable parent (its `CancelFunc` must be kept: dropping it cancels).
fn parent() -> (Context, CancelFunc) {
    context::with_cancel(&context::background())
}

fn child_cases(cfg: &Config, out: &mut Vec<Case>) {
    let mut c = Case::measure("ctx_child", "create+cancel", "sync", "ns/op", cfg.n_ops);
    c.add(GOCHAN, |_, n| {
        let (parent, _keep) = parent();
        let start = Instant::now();
        let mut ok = 0;
        for _ in 0..n {
            let (child, cancel) = context::with_cancel(&parent);
            cancel.cancel();
            ok += u64::from(child.err() == Some(Error::Canceled));
        }
        Outcome::ops(start, ok)
    });
    c.add(TOKEN, |_, n| {
        let parent = CancellationToken::new();
        let start = Instant::now();
        let mut ok = 0;
        for _ in 0..n {
            let child = parent.child_token();
            child.cancel();
            ok += u64::from(child.is_cancelled());
        }
        Outcome::ops(start, ok)
    });
    out.push(c);

    // gochan: dropping the CancelFunc cancels (Go's `defer cancel()` by design); the token
    // just leaves its parent. Go has no drop: its figure is the create+cancel row.
    let mut c = Case::measure("ctx_child", "create+drop", "sync", "ns/op", cfg.n_ops);
    c.add(GOCHAN, |_, n| {
        let (parent, _keep) = parent();
        let start = Instant::now();
        for _ in 0..n {
            let (child, cancel) = context::with_cancel(&parent);
            drop(child);
            drop(cancel);
        }
        let out = Outcome::ops(start, n as u64);
        // Every dropped child left the parent's table.
        assert_eq!(
            parent.child_count(),
            0,
            "gochan: dropped children still linked"
        );
        out
    });
    c.add(TOKEN, |_, n| {
        let parent = CancellationToken::new();
        let start = Instant::now();
        for _ in 0..n {
            drop(black_box(parent.child_token()));
        }
        Outcome::ops(start, u64::from(!parent.is_cancelled()) * n as u64)
    });
    out.push(c);
}

/// Go's BenchmarkWithTimeout: `live` other timeout contexts, then 2 threads (GOMAXPROCS=2)
/// each create `BATCH` children of background with a 1 h timeout and cancel them, until
/// `n` children in all.
fn timeout_cases(cfg: &Config, out: &mut Vec<Case>) {
    for live in cfg.live {
        let mut c = Case::measure(
            "ctx_timeout",
            &format!("{live} live"),
            "sync",
            "ns/op",
            cfg.n_ops / 2,
        );
        c.add(GOCHAN, move |_, n| {
            let bg = context::background();
            let others: Vec<_> = (0..live)
                .map(|_| context::with_timeout(&bg, HOUR))
                .collect();
            let jobs: Vec<CheckJob> = (0..2)
                .map(|k| {
                    Box::new(move || {
                        let bg = context::background();
                        let mut batch = Vec::with_capacity(BATCH);
                        let mut ok = 0;
                        let mut left = share(n, 2, k).count();
                        while left > 0 {
                            let m = left.min(BATCH);
                            batch.extend((0..m).map(|_| context::with_timeout(&bg, HOUR)));
                            for (ctx, cancel) in batch.drain(..) {
                                cancel.cancel();
                                ok += u64::from(ctx.err() == Some(Error::Canceled));
                            }
                            left -= m;
                        }
                        Check::ops(ok)
                    }) as CheckJob
                })
                .collect();
            let out = run_threads(Vec::new(), jobs);
            assert!(others.iter().all(|(c, _)| c.err().is_none()));
            out
        });
        out.push(c);
    }
}

/// Go's BenchmarkCancelTree (Root=OpenCanceler): a chain of `depth` cancelable contexts
/// under a cancelable root, then the root is cancelled; one op = one tree.
fn tree_cases(cfg: &Config, out: &mut Vec<Case>) {
    for depth in TREE_DEPTHS {
        let trees = (cfg.n_ops / 2 / depth).max(2);
        let mut c = Case::measure(
            "ctx_tree",
            &format!("depth {depth}"),
            "sync",
            "ns/op",
            trees,
        );
        c.add(GOCHAN, move |_, n| {
            let bg = context::background();
            let mut keep: Vec<CancelFunc> = Vec::with_capacity(depth);
            let start = Instant::now();
            let mut ok = 0;
            for _ in 0..n {
                let (root, cancel_root) = context::with_cancel(&bg);
                let mut leaf = root;
                for _ in 0..depth {
                    let (c, f) = context::with_cancel(&leaf);
                    keep.push(f);
                    leaf = c;
                }
                cancel_root.cancel();
                ok += u64::from(leaf.err() == Some(Error::Canceled));
                keep.clear();
            }
            Outcome::ops(start, ok)
        });
        c.add(TOKEN, move |_, n| {
            let mut keep: Vec<CancellationToken> = Vec::with_capacity(depth);
            let start = Instant::now();
            let mut ok = 0;
            for _ in 0..n {
                let root = CancellationToken::new();
                let mut leaf = root.clone();
                for _ in 0..depth {
                    let c = leaf.child_token();
                    keep.push(std::mem::replace(&mut leaf, c));
                }
                root.cancel();
                ok += u64::from(leaf.is_cancelled());
                keep.clear();
            }
            Outcome::ops(start, ok)
        });
        out.push(c);
    }
}

fn check_cases(cfg: &Config, out: &mut Vec<Case>) {
    let n = cfg.n_ops * 10;
    let mut c = Case::measure("ctx_check", "err() live", "sync", "ns/op", n);
    c.add(GOCHAN, |_, n| {
        let (ctx, _keep) = parent();
        let start = Instant::now();
        let mut ok = 0;
        for _ in 0..n {
            ok += u64::from(black_box(&ctx).err().is_none());
        }
        Outcome::ops(start, ok)
    });
    c.add(TOKEN, |_, n| {
        let tok = CancellationToken::new();
        let start = Instant::now();
        let mut ok = 0;
        for _ in 0..n {
            ok += u64::from(!black_box(&tok).is_cancelled());
        }
        Outcome::ops(start, ok)
    });
    out.push(c);

    // Go's `select { case <-ctx.Done(): default: }`.
    let mut c = Case::measure("ctx_check", "done() live", "sync", "ns/op", cfg.n_ops);
    c.add(GOCHAN, |_, n| {
        let (ctx, _keep) = parent();
        let start = Instant::now();
        let mut ok = 0;
        for _ in 0..n {
            ok += u64::from(black_box(&ctx).done().try_recv().is_err());
        }
        Outcome::ops(start, ok)
    });
    out.push(c);

    for depth in VALUE_DEPTHS {
        #[derive(PartialEq, Debug)]
        struct Key(u64);
        let n = cfg.n_ops * 10 / depth;
        let mut c = Case::measure("ctx_value", &format!("depth {depth}"), "sync", "ns/op", n);
        c.add(GOCHAN, move |_, n| {
            let mut ctx = context::with_value(&context::background(), Key(7));
            for i in 1..depth {
                ctx = context::with_value(&ctx, i as u32);
            }
            let start = Instant::now();
            let mut ok = 0;
            for _ in 0..n {
                ok += u64::from(black_box(&ctx).value::<Key>() == Some(&Key(7)));
            }
            Outcome::ops(start, ok)
        });
        out.push(c);
    }
}

/// One parent, `n` children: create them, or cancel the parent and check every child.
fn fanout_cases(cfg: &Config, out: &mut Vec<Case>) {
    let n = cfg.n_ctx;
    let param = |what: &str| format!("{what} n={n}");
    let mut c = Case::measure("ctx_fanout", &param("create"), "sync", "ms", n);
    c.add(GOCHAN, |_, n| {
        let (parent, _keep) = parent();
        let mut kids = Vec::with_capacity(n);
        let start = Instant::now();
        kids.extend((0..n).map(|_| context::with_cancel(&parent)));
        let el = start.elapsed();
        Outcome::ms(el, parent.child_count() as u64)
    });
    c.add(TOKEN, |_, n| {
        let parent = CancellationToken::new();
        let mut kids = Vec::with_capacity(n);
        let start = Instant::now();
        kids.extend((0..n).map(|_| parent.child_token()));
        let el = start.elapsed();
        Outcome::ms(el, kids.iter().filter(|k| !k.is_cancelled()).count() as u64)
    });
    out.push(c);

    let mut c = Case::measure("ctx_fanout", &param("cancel"), "sync", "ms", n);
    c.add(GOCHAN, |_, n| {
        let (parent, cancel) = parent();
        let kids: Vec<_> = (0..n).map(|_| context::with_cancel(&parent)).collect();
        let start = Instant::now();
        cancel.cancel();
        let ok = kids.iter().filter(|(c, _)| c.err().is_some()).count();
        Outcome::ms(start.elapsed(), ok as u64)
    });
    c.add(TOKEN, |_, n| {
        let parent = CancellationToken::new();
        let kids: Vec<_> = (0..n).map(|_| parent.child_token()).collect();
        let start = Instant::now();
        parent.cancel();
        let ok = kids.iter().filter(|k| k.is_cancelled()).count();
        Outcome::ms(start.elapsed(), ok as u64)
    });
    out.push(c);

    let mut c = Case::measure("ctx_fanout", &param("wake"), "async", "ms", n);
    c.add(GOCHAN, |env, n| {
        let (parent, cancel) = parent();
        let mut keep = Vec::with_capacity(n);
        let waiters = (0..n).map(|_| {
            let (child, f) = context::with_cancel(&parent);
            keep.push(f);
            async move {
                child.cancelled().await;
                child.err().is_some()
            }
        });
        wake_all(env, waiters.collect(), move || cancel.cancel())
    });
    c.add(TOKEN, |env, n| {
        let parent = CancellationToken::new();
        let waiters = (0..n).map(|_| {
            let child = parent.child_token();
            async move {
                child.cancelled().await;
                child.is_cancelled()
            }
        });
        wake_all(env, waiters.collect(), move || parent.cancel())
    });
    out.push(c);
}

/// Polls `inner`; counts in `ready` the first poll that left it waiting.
struct Registered<F> {
    inner: Pin<Box<F>>,
    ready: Option<Arc<AtomicUsize>>,
}

impl<F: Future> Future for Registered<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskCx<'_>) -> Poll<F::Output> {
        let r = self.inner.as_mut().poll(cx);
        if r.is_pending() {
            if let Some(ready) = self.ready.take() {
                ready.fetch_add(1, Ordering::Release);
            }
        }
        r
    }
}

/// Spawns every waiter as a task on the 2-worker runtime, waits until all of them are
/// blocked, then times `cancel` until the last waiter has run (ms).
fn wake_all<F>(env: &Env, waiters: Vec<F>, cancel: impl FnOnce()) -> Outcome
where
    F: Future<Output = bool> + Send + 'static,
{
    let n = waiters.len();
    let ready = Arc::new(AtomicUsize::new(0));
    let woke = Arc::new(AtomicUsize::new(0));
    let ok = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = std::sync::mpsc::channel::<Instant>();
    for w in waiters {
        let (woke, ok, tx) = (woke.clone(), ok.clone(), tx.clone());
        let w = Registered {
            inner: Box::pin(w),
            ready: Some(ready.clone()),
        };
        env.rt.spawn(async move {
            let cancelled = w.await;
            ok.fetch_add(usize::from(cancelled), Ordering::Relaxed);
            if woke.fetch_add(1, Ordering::AcqRel) + 1 == n {
                let _ = tx.send(Instant::now());
            }
        });
    }
    while ready.load(Ordering::Acquire) < n {
        thread::sleep(Duration::from_millis(1));
    }
    let start = Instant::now();
    cancel();
    let end = rx.recv().expect("the last waiter reports");
    Outcome::ms(end - start, ok.load(Ordering::Relaxed) as u64)
}

/// Live bytes per child after creating `n` children of a cancelable parent, measured with
/// the counting allocator (the holding Vec is allocated before).
fn bytes_cases(cfg: &Config, out: &mut Vec<Case>) {
    let n = cfg.n_ctx;
    for (param, timeout, done) in [
        ("cancel child", false, false),
        ("cancel child+done", false, true),
        ("timeout child", true, false),
        ("timeout child+done", true, true),
    ] {
        let mut c = Case::measure("ctx_bytes", param, "sync", "B/node", n);
        c.add(GOCHAN, move |_, n| {
            let (parent, _keep) = parent();
            let mut kids = Vec::with_capacity(n);
            let ((), live) = alloc::measure(|| {
                for _ in 0..n {
                    let kid = if timeout {
                        context::with_timeout(&parent, HOUR)
                    } else {
                        context::with_cancel(&parent)
                    };
                    if done {
                        drop(kid.0.done());
                    }
                    kids.push(kid);
                }
            });
            let ok = kids.iter().filter(|(c, _)| c.err().is_none()).count();
            assert_eq!(parent.child_count(), n);
            Outcome::figure(live.bytes as f64 / n as f64, ok as u64)
        });
        if !timeout && !done {
            c.add(TOKEN, |_, n| {
                let parent = CancellationToken::new();
                let mut kids = Vec::with_capacity(n);
                let ((), live) =
                    alloc::measure(|| kids.extend((0..n).map(|_| parent.child_token())));
                let ok = kids.iter().filter(|k| !k.is_cancelled()).count();
                Outcome::figure(live.bytes as f64 / n as f64, ok as u64)
            });
        }
        out.push(c);
    }
}

pub fn cases(cfg: &Config, out: &mut Vec<Case>) {
    child_cases(cfg, out);
    timeout_cases(cfg, out);
    tree_cases(cfg, out);
    check_cases(cfg, out);
    fanout_cases(cfg, out);
    bytes_cases(cfg, out);
}
