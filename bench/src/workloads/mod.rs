//! Workload registry. Each module contributes cells (`Case`s) through a `cases` function
//! listed in [`MODULES`], with a Go twin in `bench/go/`: the channel workloads (`sync`,
//! `async`, `select`), fan-in (`merge`), `context` (gochan::context vs tokio-util's
//! CancellationToken vs Go's context) and `timers` (gochan's timer service vs tokio's
//! timer wheel vs Go's timers).

pub mod context;
pub mod flavors;
pub mod merge;
pub mod select;
pub mod sync;
#[path = "async.rs"]
pub mod tasks;
pub mod timers;

use std::future::Future;
use std::ops::RangeInclusive;
use std::pin::Pin;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Instant;

use crate::harness::{Case, Check, Env, Outcome};

/// Capacities every channel workload runs at (`None` = unbounded).
pub const CAPS: [Option<usize>; 4] = [Some(0), Some(1), Some(1000), None];
/// `seq` sends a batch of this many messages, then receives them, until `n` are done.
pub const SEQ_BATCH: usize = 1000;
/// Senders (and receivers, for mpmc) of the many-party workloads; channels of select_rx.
pub const FAN: usize = 4;

/// Sizes of a run.
#[derive(Clone, Debug)]
pub struct Config {
    /// Messages per run at capacity 0 and 1, where every message waits for a partner.
    pub n_slow: usize,
    /// Messages per run at capacity 1000 and unbounded.
    pub n_fast: usize,
    pub rounds: usize,
    /// Operations per run of the ns/op cells (context, timers).
    pub n_ops: usize,
    /// Children per run of the context fan-out and bytes-per-node cells.
    pub n_ctx: usize,
    /// Pending timers of the `timer_pending` cell and the RSS probe.
    pub n_timers: usize,
    /// Other live timeout contexts of the `ctx_timeout` cells (Go's BenchmarkWithTimeout).
    pub live: [usize; 3],
}

impl Config {
    pub fn quick() -> Config {
        Config {
            n_slow: 10_000,
            n_fast: 100_000,
            rounds: 7,
            n_ops: 200_000,
            n_ctx: 10_000,
            n_timers: 100_000,
            live: [40, 4_000, 400_000],
        }
    }
    pub fn full() -> Config {
        Config {
            n_slow: 50_000,
            n_fast: 1_000_000,
            rounds: 9,
            n_ops: 1_000_000,
            n_ctx: 100_000,
            n_timers: 1_000_000,
            live: [40, 4_000, 400_000],
        }
    }
    /// Small sizes for the harness's own tests (fast in debug builds).
    #[cfg(test)]
    pub fn tiny() -> Config {
        Config {
            n_slow: 400,
            n_fast: 2_000,
            rounds: 1,
            n_ops: 2_000,
            n_ctx: 500,
            n_timers: 2_000,
            live: [4, 40, 400],
        }
    }
    pub fn n(&self, cap: Option<usize>) -> usize {
        match cap {
            Some(0 | 1) => self.n_slow,
            _ => self.n_fast,
        }
    }
}

type CasesFn = fn(&Config, &mut Vec<Case>);

/// The workload modules, in table order.
pub const MODULES: &[(&str, CasesFn)] = &[
    ("sync", sync::cases),
    ("async", tasks::cases),
    ("select", select::cases),
    ("merge", merge::cases),
    ("context", context::cases),
    ("timers", timers::cases),
];

/// Every cell, optionally only those whose id (`workload/cap/mode/msg`) contains `filter`.
pub fn all_cases(cfg: &Config, filter: Option<&str>) -> Vec<Case> {
    let mut cases = Vec::new();
    for (_, f) in MODULES {
        f(cfg, &mut cases);
    }
    cases.retain(|c| !c.entries.is_empty());
    if let Some(f) = filter {
        cases.retain(|c| c.key.id().contains(f));
    }
    cases
}

/// Sequence numbers sent by party `k` of `parts`: together they are exactly `1..=n`.
pub fn share(n: usize, parts: usize, k: usize) -> RangeInclusive<u64> {
    let lo = n * k / parts;
    let hi = n * (k + 1) / parts;
    (lo as u64 + 1)..=(hi as u64)
}

pub type Job = Box<dyn FnOnce() + Send>;
pub type CheckJob = Box<dyn FnOnce() -> Check + Send>;

/// When one party worked: from its first operation to its last.
type Span = (Instant, Instant);

/// The transfer's wall time: from the first party's start to the last party's end. Each
/// party stamps its own times, so neither spawning nor the scheduling of the timing
/// thread (2 cores, up to 9 runnable threads) gets into the figure.
fn outcome(spans: &[Span], check: Check) -> Outcome {
    let start = spans.iter().map(|s| s.0).min().expect("no party");
    let end = spans.iter().map(|s| s.1).max().expect("no party");
    Outcome {
        elapsed: end - start,
        check,
        figure: None,
    }
}

/// Runs producer and consumer closures on their own OS threads, released together by a
/// barrier once all are spawned.
pub fn run_threads(producers: Vec<Job>, consumers: Vec<CheckJob>) -> Outcome {
    let barrier = Arc::new(Barrier::new(producers.len() + consumers.len()));
    let spawn = |f: CheckJob| {
        let b = barrier.clone();
        thread::spawn(move || {
            b.wait();
            let start = Instant::now();
            let c = f();
            ((start, Instant::now()), c)
        })
    };
    let handles: Vec<_> = producers
        .into_iter()
        .map(|f| {
            spawn(Box::new(move || {
                f();
                Check::default()
            }))
        })
        .chain(consumers.into_iter().map(spawn))
        .collect();
    let (spans, checks): (Vec<Span>, Vec<Check>) = handles
        .into_iter()
        .map(|h| h.join().expect("benchmark thread panicked"))
        .unzip();
    outcome(
        &spans,
        checks.into_iter().fold(Check::default(), Check::merge),
    )
}

pub type Task = Pin<Box<dyn Future<Output = ()> + Send>>;
pub type CheckTask = Pin<Box<dyn Future<Output = Check> + Send>>;

/// Runs producer and consumer futures as tasks on the 2-worker runtime; each task stamps
/// its own start and end, as in [`run_threads`].
pub fn run_tasks(env: &Env, producers: Vec<Task>, consumers: Vec<CheckTask>) -> Outcome {
    let stamped = |f: CheckTask| async move {
        let start = Instant::now();
        let c = f.await;
        ((start, Instant::now()), c)
    };
    env.rt.block_on(async move {
        let handles: Vec<_> = producers
            .into_iter()
            .map(|f| {
                Box::pin(async move {
                    f.await;
                    Check::default()
                }) as CheckTask
            })
            .chain(consumers)
            .map(|f| tokio::spawn(stamped(f)))
            .collect();
        let mut spans = Vec::new();
        let mut check = Check::default();
        for h in handles {
            let (span, c) = h.await.expect("benchmark task panicked");
            spans.push(span);
            check = check.merge(c);
        }
        outcome(&spans, check)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_cover_exactly_once() {
        for (n, parts) in [(10, 4), (4000, 4), (7, 2), (3, 4)] {
            let mut all: Vec<u64> = (0..parts).flat_map(|k| share(n, parts, k)).collect();
            all.sort_unstable();
            assert_eq!(all, (1..=n as u64).collect::<Vec<_>>());
        }
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod workload_tests;
