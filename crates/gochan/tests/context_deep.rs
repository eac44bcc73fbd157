//! Deep and wide context trees: no recursion proportional to depth (cancel, drop,
//! Display, value lookup), and a long-lived parent's bookkeeping does not grow with
//! short-lived children. The 100_000-deep chains run in debug; `*_1m` versions are
//! `#[ignore]`d and meant for `cargo test --release -- --ignored`.
//!
//! Every test body runs on a thread with a deliberately modest stack (1 MiB), so any
//! per-level recursion overflows long before 100_000 levels.

use std::thread;
use std::time::{Duration, Instant};

use gochan::context::{self, CancelFunc, Context, Error};

const STACK: usize = 1 << 20;

fn on_small_stack<F: FnOnce() + Send + 'static>(f: F) {
    thread::Builder::new()
        .stack_size(STACK)
        .spawn(f)
        .unwrap()
        .join()
        .expect("test body panicked (or overflowed its stack)");
}

/// A chain of `n` `with_cancel` contexts under background: all contexts, all funcs.
fn cancel_chain(n: usize) -> (Vec<Context>, Vec<CancelFunc>) {
    let mut ctxs = Vec::with_capacity(n);
    let mut cancels = Vec::with_capacity(n);
    let mut ctx = context::background();
    for _ in 0..n {
        let (c, f) = context::with_cancel(&ctx);
        ctxs.push(c.clone());
        cancels.push(f);
        ctx = c;
    }
    (ctxs, cancels)
}

fn deep_cancel_from_root(n: usize) {
    on_small_stack(move || {
        let (ctxs, cancels) = cancel_chain(n);
        let leaf = ctxs.last().unwrap().clone();
        let leaf_done = leaf.done();
        assert_eq!(leaf.err(), None);
        cancels[0].cancel();
        assert!(
            ctxs.iter().all(|c| c.err() == Some(Error::Canceled)),
            "every level observes Canceled"
        );
        assert!(leaf_done.try_recv().is_err() && leaf.is_done());
        assert_eq!(ctxs[0].child_count(), 0);
        // Drop root-first: every func cancels (no-op now), the chain is freed from the
        // leaf end as the last handles go.
        drop(cancels);
        drop(ctxs);
        drop(leaf_done);
        drop(leaf); // the last handle: frees n nodes
    });
}

/// A 100_000-deep `with_cancel` chain cancelled from the root: no stack overflow, every
/// level observes `Canceled`, and dropping it does not overflow either.
#[test]
fn deep_chain_100k_cancel_from_root() {
    deep_cancel_from_root(100_000);
}

/// The 1_000_000-deep version (release builds).
#[test]
#[ignore = "1M-deep chain: run with `cargo test --release -- --ignored`"]
fn deep_chain_1m_cancel_from_root() {
    deep_cancel_from_root(1_000_000);
}

fn deep_drop_orders(n: usize) {
    on_small_stack(move || {
        // Only the leaf kept: dropping the funcs root-first cancels the whole chain in
        // the first drop; the final leaf drop frees n nodes iteratively.
        let (mut ctxs, cancels) = cancel_chain(n);
        let leaf = ctxs.pop().unwrap();
        drop(ctxs);
        drop(cancels);
        assert_eq!(leaf.err(), Some(Error::Canceled));
        drop(leaf);

        // Leaf-first: each drop cancels and frees one level.
        let (mut ctxs, mut cancels) = cancel_chain(n);
        while let (Some(c), Some(f)) = (ctxs.pop(), cancels.pop()) {
            drop(f);
            assert_eq!(c.err(), Some(Error::Canceled));
            drop(c);
            if let Some(parent) = ctxs.last() {
                assert_eq!(parent.child_count(), 0);
                assert_eq!(parent.err(), None, "a child's end never touches its parent");
            }
        }

        // Mixed value/cancel/deadline chain, dropped without an explicit cancel.
        let far = Instant::now() + Duration::from_secs(3600);
        let mut ctx = context::background();
        let mut cancels = Vec::new();
        for i in 0..n {
            ctx = match i % 3 {
                0 => context::with_value(&ctx, i),
                1 => {
                    let (c, f) = context::with_cancel(&ctx);
                    cancels.push(f);
                    c
                }
                _ => {
                    let (c, f) = context::with_deadline(&ctx, far);
                    cancels.push(f);
                    c
                }
            };
        }
        assert_eq!(
            ctx.value::<usize>(),
            Some(&((n - 1) / 3 * 3)),
            "the last value layer"
        );
        drop(cancels);
        assert!(ctx.is_done());
        drop(ctx);
    });
}

/// Dropping 100_000-deep chains in every order: no stack overflow.
#[test]
fn deep_chain_100k_drop() {
    deep_drop_orders(100_000);
}

/// The 1_000_000-deep version (release builds).
#[test]
#[ignore = "1M-deep chain: run with `cargo test --release -- --ignored`"]
fn deep_chain_1m_drop() {
    deep_drop_orders(1_000_000);
}

/// `with_value` chains of depth 10_000 (and 100_000) dropped without stack overflow;
/// lookups, `deadline()` and `Display` walk them without recursion.
#[test]
fn deep_value_chain_drop() {
    on_small_stack(|| {
        for depth in [10_000usize, 100_000] {
            let mut ctx = context::background();
            for i in 0..depth {
                ctx = context::with_value(&ctx, i as u32);
            }
            assert_eq!(ctx.value::<u32>(), Some(&(depth as u32 - 1)));
            assert_eq!(ctx.value::<u64>(), None, "a miss walks the whole chain");
            assert_eq!(ctx.deadline(), None);
            assert_eq!(ctx.err(), None);
            let s = ctx.to_string();
            assert!(s.starts_with("context.Background.WithValue(u32, u32)"));
            assert_eq!(s.matches(".WithValue(").count(), depth);
            drop(ctx);
        }
        // Alternating WithoutCancel / WithValue layers, 100_000 deep.
        let mut ctx = context::background();
        for i in 0..50_000u32 {
            ctx = context::with_value(&context::without_cancel(&ctx), i);
        }
        assert_eq!(ctx.value::<u32>(), Some(&49_999));
        assert_eq!(ctx.to_string().matches(".WithoutCancel").count(), 50_000);
        drop(ctx);

        // A value chain over a cancelable root: every value node also references the
        // root (its canceler); cancel and drop are still flat.
        let (root, cancel) = context::with_cancel(&context::background());
        let mut ctx = root.clone();
        for i in 0..10_000u32 {
            ctx = context::with_value(&ctx, i);
        }
        let (leaf, _lc) = context::with_cancel(&ctx);
        assert_eq!(
            root.child_count(),
            1,
            "linked to the canceler through 10_000 values"
        );
        drop(cancel);
        assert_eq!(leaf.err(), Some(Error::Canceled));
        assert_eq!(ctx.err(), Some(Error::Canceled));
        drop((root, ctx, leaf));
    });
}

/// A long-lived parent with 100_000 short-lived children created and dropped in a loop
/// keeps `child_count()` at 0 afterwards (and at most 1 meanwhile), whichever way the
/// children end.
#[test]
fn many_short_lived_children() {
    let (parent, _pc) = context::with_cancel(&context::background());
    let via_value = context::with_value(&parent, "req");
    for i in 0..100_000usize {
        match i % 4 {
            0 => drop(context::with_cancel(&parent)),
            1 => {
                let (c, f) = context::with_cancel(&via_value);
                drop(c); // context first, then the func
                drop(f);
            }
            2 => {
                let (c, f) = context::with_cancel_cause(&parent);
                f.cancel("done");
                assert_eq!(parent.child_count(), 0);
                drop((c, f));
            }
            _ => {
                let af = context::after_func(&parent, || unreachable!("parent never ends"));
                assert!(af.stop());
            }
        }
        if i % 10_000 == 0 {
            let (_c, _f) = context::with_cancel(&parent);
            assert_eq!(parent.child_count(), 1);
        }
    }
    assert_eq!(parent.child_count(), 0);
    // Deadline children use the timer service; fewer, same rule.
    for _ in 0..10_000 {
        drop(context::with_timeout(&parent, Duration::from_secs(3600)));
    }
    assert_eq!(parent.child_count(), 0);
    assert_eq!(parent.err(), None);
}

/// A wide tree: 100_000 live children of one parent, all ended by one cancel.
#[test]
fn wide_tree_100k_children() {
    let (parent, cancel) = context::with_cancel(&context::background());
    let kids: Vec<_> = (0..100_000)
        .map(|_| context::with_cancel(&parent))
        .collect();
    assert_eq!(parent.child_count(), 100_000);
    cancel.cancel();
    assert_eq!(parent.child_count(), 0);
    assert!(kids.iter().all(|(c, _)| c.err() == Some(Error::Canceled)));
    drop(kids);
}

/// A chain of 10_000 deadline nodes (each earlier than its parent, so each is a real
/// deadline node with a timer), dropped without firing: timers are released and nothing
/// overflows.
#[test]
fn deep_deadline_chain_drop() {
    on_small_stack(|| {
        let base = Instant::now() + Duration::from_secs(3600);
        let mut ctx = context::background();
        let mut cancels = Vec::new();
        for i in 0..10_000u64 {
            let (c, f) = context::with_deadline(&ctx, base - Duration::from_millis(i));
            cancels.push(f);
            ctx = c;
        }
        assert_eq!(ctx.to_string().matches(".WithDeadline(").count(), 10_000);
        assert_eq!(ctx.deadline(), Some(base - Duration::from_millis(9_999)));
        drop(cancels);
        assert_eq!(ctx.err(), Some(Error::Canceled));
        drop(ctx);
    });
}
