//! Pipeline helpers, round two (issue 12, item 9): panics reach the consumer, `first`
//! with no queries, bounded parallelism, and the `Stream` forms.
//!
//! The pipelines mirror the Go blog post "Go Concurrency Patterns: Pipelines and
//! cancellation" (`gen`, `sq`, `merge`, and "Bounded parallelism": a fixed number of
//! digesters reading one channel). Go has no counterpart to a stage that panics (the
//! whole program dies), so those tests check this crate's rule instead: the consumer
//! gets the values sent before the panic, then the panic itself, never a quiet end.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use futures::executor::block_on;
use futures::StreamExt;
use gochan::context::{self, Error};
use gochan::pipeline::{self, stream, FirstError};

/// A payload type no other panic has, to show the consumer gets the original payload.
#[derive(Debug, PartialEq)]
struct Boom(i32);

/// Runs `f`, returning what it collected before it ended and the panic, if any.
fn drain<T>(f: impl FnOnce(&mut Vec<T>)) -> (Vec<T>, Option<Box<dyn std::any::Any + Send>>) {
    let mut got = Vec::new();
    let r = panic::catch_unwind(AssertUnwindSafe(|| f(&mut got)));
    (got, r.err())
}

fn boom_of(p: Option<Box<dyn std::any::Any + Send>>) -> Option<Boom> {
    p.and_then(|p| p.downcast::<Boom>().ok()).map(|b| *b)
}

/// `sq` panics on the third value: the consumer ranging over the output gets the two
/// values before it, then the panic with its payload (before: the output just ended).
#[test]
fn map_panic_reaches_the_consumer_after_the_values_before_it() {
    let ctx = context::background();
    let out = pipeline::map(&ctx, pipeline::generate(&ctx, 1..=5), |n: i32| {
        if n == 3 {
            panic::panic_any(Boom(n));
        }
        n * n
    });
    let (got, p) = drain(|got| {
        for v in out {
            got.push(v);
        }
    });
    assert_eq!(got, [1, 4]);
    assert_eq!(boom_of(p), Some(Boom(3)));
}

/// The panic travels down `gen -> sq -> sq` (the second stage forwards it) and out of
/// `recv()`, `iter()`, `recv_async()` alike.
#[test]
fn panic_crosses_later_stages() {
    let ctx = context::background();
    let first = pipeline::map(&ctx, pipeline::generate(&ctx, [2, 3, 4]), |n: i64| {
        if n == 4 {
            panic::panic_any(Boom(4));
        }
        n * n
    });
    let out = pipeline::map(&ctx, first, |n: i64| n * n);
    assert_eq!(out.recv(), Ok(16));
    assert_eq!(out.iter().next(), Some(81));
    let (_, p) = drain::<()>(|_| {
        let _ = block_on(out.recv_async());
    });
    assert_eq!(boom_of(p), Some(Boom(4)));
}

/// A panicking `gen` iterator is reported the same way.
#[test]
fn generate_iterator_panic_reaches_the_consumer() {
    let ctx = context::background();
    let values = (1..).map(|n| if n == 3 { panic::panic_any(Boom(n)) } else { n });
    let out = pipeline::generate(&ctx, values);
    let (got, p) = drain(|got| got.extend(&out));
    assert_eq!(got, [1, 2]);
    assert_eq!(boom_of(p), Some(Boom(3)));
}

/// Go's `merge`: an input whose stage panicked makes the merged output re-raise it.
#[test]
fn merge_forwards_an_input_panic() {
    let ctx = context::background();
    let good = pipeline::generate(&ctx, [10, 20]);
    let bad = pipeline::map(&ctx, pipeline::generate(&ctx, [1]), |_: i32| -> i32 {
        panic::panic_any(Boom(1))
    });
    let (_, p) = drain(|got| got.extend(pipeline::merge(&ctx, vec![good, bad])));
    assert_eq!(boom_of(p), Some(Boom(1)));
}

/// A stage that ends because its context ended just closes (no panic), as in Go.
#[test]
fn context_end_is_a_quiet_close() {
    let (ctx, cancel) = context::with_cancel(&context::background());
    let out = pipeline::map(&ctx, pipeline::generate(&ctx, 0..), |n: u64| n);
    assert_eq!(out.recv(), Ok(0));
    cancel.cancel();
    // Values already in flight may still come (a select between a ready send and a
    // closed done picks at random, as in Go); then the output ends, without a panic.
    let _rest: Vec<u64> = out.iter().collect();
    assert!(out.take_panic().is_none());
}

/// `take_panic` hands the payload over instead of re-raising; clones get its message.
#[test]
fn take_panic_gives_the_payload_once() {
    let ctx = context::background();
    let out = pipeline::map(&ctx, pipeline::generate(&ctx, [7]), |n: i32| -> i32 {
        panic!("stage {n} failed") // a String payload
    });
    let other = out.clone();
    assert!(out.receiver().recv().is_err());
    let p = out.take_panic().expect("panicked");
    assert_eq!(
        p.downcast_ref::<String>().map(String::as_str),
        Some("stage 7 failed")
    );
    let again = other.take_panic().expect("still reported");
    let msg = again.downcast_ref::<String>().expect("a String payload");
    assert!(msg.contains("stage 7 failed"), "{msg}");
    // and a receiving call on the clone re-raises (with the message payload)
    let (_, p) = drain::<i32>(|got| got.extend(other.iter()));
    assert!(p.is_some());
}

/// Go's "Bounded parallelism": `workers` threads read one input and share one output;
/// every result arrives (in any order) and the work really runs on several threads.
#[test]
fn map_parallel_uses_all_workers_and_loses_nothing() {
    let ctx = context::background();
    let busy = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (b, p) = (busy.clone(), peak.clone());
    let out = pipeline::map_parallel(&ctx, pipeline::generate(&ctx, 0..40u32), 4, move |n| {
        let now = b.fetch_add(1, Ordering::SeqCst) + 1;
        p.fetch_max(now, Ordering::SeqCst);
        thread::sleep(Duration::from_millis(5));
        b.fetch_sub(1, Ordering::SeqCst);
        n * 10
    });
    let mut got: Vec<u32> = out.iter().collect();
    got.sort_unstable();
    assert_eq!(got, (0..40).map(|n| n * 10).collect::<Vec<_>>());
    let peak = peak.load(Ordering::SeqCst);
    assert!((2..=4).contains(&peak), "peak concurrency {peak}");
}

/// A panic in one worker stops the others and reaches the consumer, even with an
/// endless input (without the stop the output would never end).
#[test]
fn map_parallel_panic_stops_the_workers_and_reaches_the_consumer() {
    let ctx = context::background();
    let out = pipeline::map_parallel(&ctx, pipeline::generate(&ctx, 0u64..), 3, |n| {
        if n == 50 {
            panic::panic_any(Boom(50));
        }
        n
    });
    let (got, p) = drain(|got| got.extend(&out));
    assert_eq!(boom_of(p), Some(Boom(50)));
    assert!(
        got.len() < 1000,
        "workers went on after the panic: {}",
        got.len()
    );
}

#[test]
#[should_panic(expected = "workers must be > 0")]
fn map_parallel_with_no_workers_panics() {
    let ctx = context::background();
    let _ = pipeline::map_parallel(&ctx, pipeline::generate(&ctx, [1]), 0, |n: i32| n);
}

/// `first` with no queries: a documented error, not `Canceled` (nothing was cancelled).
#[test]
fn first_without_queries_is_no_queries() {
    let none: Vec<fn(&context::Context) -> u8> = Vec::new();
    let r = pipeline::first(&context::background(), none);
    assert_eq!(r, Err(FirstError::NoQueries));
    let e = r.unwrap_err();
    assert_ne!(e.context_error(), Some(Error::Canceled));
    let _: &dyn std::error::Error = &e;
}

/// Go's `Query` "moving on" pattern with a context that ends first.
#[test]
fn first_reports_the_context_error() {
    let (ctx, _c) = context::with_timeout(&context::background(), Duration::from_millis(10));
    let slow = |ctx: &context::Context| ctx.wait_timeout(Duration::from_secs(5));
    let r = pipeline::first(&ctx, [slow]);
    assert_eq!(r, Err(FirstError::Context(Error::DeadlineExceeded)));
    assert_eq!(r.unwrap_err().to_string(), "context deadline exceeded");
}

/// A query that panics first is re-raised in the caller (before: `Err(Canceled)`).
#[test]
fn first_reraises_a_panicking_query() {
    let ctx = context::background();
    let (_, p) = drain::<()>(|_| {
        let _ = pipeline::first(
            &ctx,
            [|_: &context::Context| -> u8 { panic::panic_any(Boom(9)) }],
        );
    });
    assert_eq!(boom_of(p), Some(Boom(9)));
}

// ---- Stream forms (runtime-agnostic: driven by futures' block_on, no tokio) ----

#[test]
fn stream_gen_sq_sq() {
    let ctx = context::background();
    let sq = |n: i64| n * n;
    let out = stream::map(
        &ctx,
        stream::map(&ctx, stream::generate(&ctx, [2, 3]), sq),
        sq,
    );
    assert_eq!(block_on(out.collect::<Vec<_>>()), [16, 81]);
}

/// A stream stage's panic unwinds into the consumer's poll, after the items before it.
#[test]
fn stream_map_panic_reaches_the_consumer() {
    let ctx = context::background();
    let mut out = stream::map(&ctx, stream::generate(&ctx, 1..=5), |n: i32| {
        if n == 3 {
            panic::panic_any(Boom(3));
        }
        n
    });
    let (got, p) = drain(|got| {
        block_on(async {
            while let Some(v) = out.next().await {
                got.push(v);
            }
        })
    });
    assert_eq!(got, [1, 2]);
    assert_eq!(boom_of(p), Some(Boom(3)));
}

/// A thread stage consumed as a stream re-raises its panic at the stream's end.
#[test]
fn stage_stream_reraises() {
    let ctx = context::background();
    let staged = pipeline::map(&ctx, pipeline::generate(&ctx, [1, 2]), |n: i32| {
        if n == 2 {
            panic::panic_any(Boom(2));
        }
        n
    });
    let mut s = stream::map(&ctx, staged.into_stream(), |n| n + 100);
    let (got, p) = drain(|got| {
        block_on(async {
            while let Some(v) = s.next().await {
                got.push(v);
            }
        })
    });
    assert_eq!(got, [101]);
    assert_eq!(boom_of(p), Some(Boom(2)));
}

/// Go's `merge` over channels, then the context ends while every input is pending: the
/// stream ends (the task is woken by the context, not by an input).
#[test]
fn stream_merge_and_map_end_when_the_context_ends() {
    let (ctx, cancel) = context::with_cancel(&context::background());
    let (tx_a, rx_a) = gochan::unbounded::<i32>();
    let (_tx_b, rx_b) = gochan::unbounded::<i32>();
    tx_a.send(1).unwrap();
    let merged = stream::merge(&ctx, [rx_a.into_stream(), rx_b.into_stream()]);
    let mut out = stream::map(&ctx, merged, |n| n * 2);
    let h = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        cancel.cancel();
    });
    let got = block_on(async {
        let mut got = Vec::new();
        while let Some(v) = out.next().await {
            got.push(v);
        }
        got
    });
    h.join().unwrap();
    assert_eq!(got, [2]);
    assert!(ctx.is_done());
    drop(tx_a);
}

#[test]
fn stream_generate_stops_when_the_context_ends() {
    let (ctx, cancel) = context::with_cancel(&context::background());
    let mut s = stream::generate(&ctx, 0..);
    assert_eq!(block_on(s.next()), Some(0));
    cancel.cancel();
    assert_eq!(block_on(s.next()), None);
}

/// Bounded concurrency in one task: item 0's future waits for a gate that is opened only
/// after item 1's output came out, so outputs leave in completion order; at most
/// `limit` futures run at once.
#[test]
fn stream_map_concurrent_is_unordered_and_bounded() {
    let ctx = context::background();
    let (gate_tx, gate_rx) = gochan::bounded::<()>(1);
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (r, p) = (running.clone(), peak.clone());
    let mut out = stream::map_concurrent(&ctx, stream::generate(&ctx, 0..6u32), 2, move |n| {
        let (gate_rx, r, p) = (gate_rx.clone(), r.clone(), p.clone());
        async move {
            let now = r.fetch_add(1, Ordering::SeqCst) + 1;
            p.fetch_max(now, Ordering::SeqCst);
            if n == 0 {
                let _ = gate_rx.recv_async().await;
            }
            r.fetch_sub(1, Ordering::SeqCst);
            n
        }
    });
    let got = block_on(async {
        let second = out.next().await;
        gate_tx.send(()).unwrap();
        let mut got = vec![second.unwrap()];
        while let Some(v) = out.next().await {
            got.push(v);
        }
        got
    });
    assert_eq!(got[0], 1, "item 1 finished first: {got:?}");
    let mut sorted = got.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [0, 1, 2, 3, 4, 5]);
    assert_eq!(peak.load(Ordering::SeqCst), 2);
}

#[test]
fn stream_map_concurrent_panic_reaches_the_consumer() {
    let ctx = context::background();
    let mut out =
        stream::map_concurrent(&ctx, stream::generate(&ctx, 0..4), 2, |n: i32| async move {
            if n == 2 {
                panic::panic_any(Boom(2));
            }
            n
        });
    let (_, p) = drain(|got| {
        block_on(async {
            while let Some(v) = out.next().await {
                got.push(v);
            }
        })
    });
    assert_eq!(boom_of(p), Some(Boom(2)));
}

#[test]
#[should_panic(expected = "limit must be > 0")]
fn stream_map_concurrent_with_zero_limit_panics() {
    let ctx = context::background();
    let _ = stream::map_concurrent(
        &ctx,
        stream::generate(&ctx, [1]),
        0,
        |n: i32| async move { n },
    );
}
