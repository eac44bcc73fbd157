//! Core types of the harness: messages, delivery checks, cases (one table row each) and
//! the round-robin runner that interleaves contenders within a cell and repeats rounds.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Mutex, Once, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// A message type carried by the workloads. Every message is made from a distinct
/// sequence number `1..=n`, and receivers fold what they get into a [`Check`]. `Unpin`:
/// crossfire's send future needs it of its item (every message type here is).
pub trait Msg: Copy + Send + Sync + Unpin + Debug + 'static {
    /// Size label used in the table (`0B`, `8B`, `32B`).
    const LABEL: &'static str;
    /// The message carrying sequence number `i`.
    fn make(i: u64) -> Self;
    /// The value folded into the check (0 for `()`; a corrupt message folds a poison).
    fn val(self) -> u64;
}

impl Msg for usize {
    const LABEL: &'static str = "8B";
    fn make(i: u64) -> Self {
        i as usize
    }
    fn val(self) -> u64 {
        self as u64
    }
}

impl Msg for () {
    const LABEL: &'static str = "0B";
    fn make(_: u64) -> Self {}
    fn val(self) -> u64 {
        0
    }
}

const MIX: u64 = 0x9E37_79B9_7F4A_7C15;

impl Msg for [u64; 4] {
    const LABEL: &'static str = "32B";
    fn make(i: u64) -> Self {
        [i, i ^ MIX, !i, i.wrapping_mul(3)]
    }
    fn val(self) -> u64 {
        let i = self[0];
        if self[1] == i ^ MIX && self[2] == !i && self[3] == i.wrapping_mul(3) {
            i
        } else {
            u64::MAX / 3 // poison: makes the sum check fail
        }
    }
}

/// What the receivers of one run saw: count, sum and sum of squares of the values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Check {
    pub count: u64,
    pub sum: u64,
    pub sumsq: u64,
}

impl Check {
    #[inline]
    pub fn add<M: Msg>(&mut self, m: M) {
        let v = m.val();
        self.count += 1;
        self.sum = self.sum.wrapping_add(v);
        self.sumsq = self.sumsq.wrapping_add(v.wrapping_mul(v));
    }

    pub fn merge(mut self, other: Check) -> Check {
        self.count += other.count;
        self.sum = self.sum.wrapping_add(other.sum);
        self.sumsq = self.sumsq.wrapping_add(other.sumsq);
        self
    }

    /// The check of a run of `count` operations that each passed their own check (the
    /// measurement cells: see [`Case::measure`]).
    pub fn ops(count: u64) -> Check {
        Check {
            count,
            ..Check::default()
        }
    }

    /// The check of messages `1..=n`, each delivered exactly once.
    pub fn expected<M: Msg>(n: usize) -> Check {
        let mut c = Check::default();
        for i in 1..=n as u64 {
            c.add(M::make(i));
        }
        c
    }
}

/// One timed run: wall time of the transfer and what was received.
#[derive(Clone, Copy, Debug)]
pub struct Outcome {
    pub elapsed: Duration,
    pub check: Check,
    /// The run's figure in its cell's unit (ms, bytes, ...), when it is not
    /// `elapsed / n` in ns (the default, for ns/msg and ns/op cells).
    pub figure: Option<f64>,
}

impl Outcome {
    /// The outcome of a run that started at `start` and ends now.
    pub fn time(start: Instant, check: Check) -> Outcome {
        Outcome {
            elapsed: start.elapsed(),
            check,
            figure: None,
        }
    }

    /// A run of `count` verified operations that started at `start` and ends now.
    pub fn ops(start: Instant, count: u64) -> Outcome {
        Outcome::time(start, Check::ops(count))
    }

    /// A run whose figure is `figure` (already in the cell's unit).
    pub fn figure(figure: f64, count: u64) -> Outcome {
        Outcome {
            elapsed: Duration::ZERO,
            check: Check::ops(count),
            figure: Some(figure),
        }
    }

    /// A run whose figure is the wall time `elapsed` in milliseconds.
    pub fn ms(elapsed: Duration, count: u64) -> Outcome {
        Outcome::figure(elapsed.as_secs_f64() * 1e3, count)
    }
}

/// Shared execution environment: the async runtime (2 workers, like the 2 cores).
pub struct Env {
    /// The runtime of the channel and context workloads; no time driver (as before tokio's
    /// `time` feature was in the build), so the channel figures stay comparable.
    pub rt: tokio::runtime::Runtime,
    timer_rt: OnceLock<tokio::runtime::Runtime>,
}

fn runtime(time: bool) -> tokio::runtime::Runtime {
    let mut b = tokio::runtime::Builder::new_multi_thread();
    b.worker_threads(2);
    if time {
        b.enable_time();
    }
    b.build().expect("tokio runtime")
}

impl Env {
    pub fn new() -> Env {
        Env {
            rt: runtime(false),
            timer_rt: OnceLock::new(),
        }
    }

    /// A 2-worker runtime with the time driver, for the timer workloads (built on first use).
    pub fn timer_rt(&self) -> &tokio::runtime::Runtime {
        self.timer_rt.get_or_init(|| runtime(true))
    }
}

impl Default for Env {
    fn default() -> Self {
        Env::new()
    }
}

/// Identifies a cell (a table row): workload x capacity x mode x message size.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Key {
    pub workload: String,
    /// `0`, `1`, `1000` or `unb`.
    pub cap: String,
    /// `sync` (OS threads) or `async` (tasks on a 2-worker tokio runtime).
    pub mode: String,
    /// `0B`, `8B`, `32B`.
    pub msg: String,
}

impl Key {
    pub fn new(workload: &str, cap: Option<usize>, mode: &str, msg: &str) -> Key {
        Key {
            workload: workload.into(),
            cap: cap_label(cap),
            mode: mode.into(),
            msg: msg.into(),
        }
    }

    /// `spsc/1000/sync/8B`: what `--filter` matches against.
    pub fn id(&self) -> String {
        format!("{}/{}/{}/{}", self.workload, self.cap, self.mode, self.msg)
    }
}

pub fn cap_label(cap: Option<usize>) -> String {
    cap.map_or_else(|| "unb".to_string(), |c| c.to_string())
}

pub type RunFn = Box<dyn Fn(&Env, usize) -> Outcome>;

/// One contender's implementation of a cell's workload.
pub struct Entry {
    pub contender: &'static str,
    pub run: RunFn,
}

/// A cell: one workload configuration run by several contenders.
pub struct Case {
    pub key: Key,
    /// Messages per run (total over all senders).
    pub n: usize,
    /// Check of a correct run with `n` messages.
    pub expect: fn(usize) -> Check,
    pub entries: Vec<Entry>,
}

impl Case {
    pub fn new<M: Msg>(workload: &str, cap: Option<usize>, mode: &str, n: usize) -> Case {
        Case {
            key: Key::new(workload, cap, mode, M::LABEL),
            n,
            expect: Check::expected::<M>,
            entries: Vec::new(),
        }
    }

    /// A measurement cell (context, timers): `param` goes in the `cap` column and `unit`
    /// (`ns/op`, `ms`, `B/node`, ...) in the `msg` column. Its runs return
    /// [`Outcome::ops`] or [`Outcome::figure`]: `n` operations, each of which passed its
    /// own check (e.g. a cancelled child reports an error).
    pub fn measure(workload: &str, param: &str, mode: &str, unit: &str, n: usize) -> Case {
        Case {
            key: Key {
                workload: workload.into(),
                cap: param.into(),
                mode: mode.into(),
                msg: unit.into(),
            },
            n,
            expect: |n| Check::ops(n as u64),
            entries: Vec::new(),
        }
    }

    pub fn add(&mut self, contender: &'static str, run: impl Fn(&Env, usize) -> Outcome + 'static) {
        self.entries.push(Entry {
            contender,
            run: Box::new(run),
        });
    }
}

/// Raw figures of one cell: ns/msg of every round, per contender (for measurement cells
/// the figure is in the unit named by `key.msg`: ns/op, ms, B/node, ...).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CellResult {
    pub key: Key,
    pub n: usize,
    pub ns_per_msg: BTreeMap<String, Vec<f64>>,
}

/// Median of a sample (mean of the middle two for even sizes).
pub fn median(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

pub fn min_max(xs: &[f64]) -> (f64, f64) {
    xs.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

/// A single run taking longer than this is stuck (a deadlock in a contender): the
/// watchdog names it and ends the process instead of hanging the whole benchmark.
pub const RUN_LIMIT: Duration = Duration::from_secs(60);

static CURRENT: Mutex<Option<(String, Instant)>> = Mutex::new(None);
static WATCHDOG: Once = Once::new();

fn watch(run: Option<String>) {
    WATCHDOG.call_once(|| {
        thread::spawn(|| loop {
            thread::sleep(Duration::from_millis(500));
            let cur = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((what, since)) = cur.as_ref().filter(|(_, t)| t.elapsed() > RUN_LIMIT) {
                eprintln!(
                    "gochan-bench: {what} still running after {:.0} s: stuck (deadlock?); aborting",
                    since.elapsed().as_secs_f64()
                );
                std::process::exit(3);
            }
        });
    });
    *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = run.map(|r| (r, Instant::now()));
}

/// Runs one entry and verifies the delivery check; panics on a lost or duplicated message
/// (or a failed operation check). Returns the run's figure: ns per message (or op), or
/// the run's own [`Outcome::figure`].
pub fn run_checked(env: &Env, case: &Case, entry: &Entry, n: usize) -> f64 {
    watch(Some(format!(
        "{} {} (n = {n})",
        case.key.id(),
        entry.contender
    )));
    let out = (entry.run)(env, n);
    watch(None);
    let want = (case.expect)(n);
    assert_eq!(
        out.check,
        want,
        "{} {}: delivery check failed (n = {n})",
        case.key.id(),
        entry.contender
    );
    out.figure
        .unwrap_or_else(|| out.elapsed.as_nanos() as f64 / n as f64)
}

/// Runs every case for `rounds` rounds. Within a round every cell runs all its contenders
/// back to back, starting at a rotating position, so machine noise hits all alike.
/// `between_rounds` is called after each round (the Go process runs there).
pub fn run_all(
    env: &Env,
    cases: &[Case],
    rounds: usize,
    mut between_rounds: impl FnMut(usize),
    mut progress: impl FnMut(&str),
) -> Vec<CellResult> {
    let mut results: Vec<CellResult> = cases
        .iter()
        .map(|c| CellResult {
            key: c.key.clone(),
            n: c.n,
            ns_per_msg: BTreeMap::new(),
        })
        .collect();
    // Warm-up: every contender once at a tenth of the messages (caches, thread stacks, code).
    for case in cases {
        for e in &case.entries {
            run_checked(env, case, e, (case.n / 10).max(100));
        }
    }
    for round in 0..rounds {
        let t = Instant::now();
        for (case, res) in cases.iter().zip(&mut results) {
            let k = case.entries.len().max(1);
            for j in 0..k {
                let e = &case.entries[(round + j) % k];
                let ns = run_checked(env, case, e, case.n);
                res.ns_per_msg
                    .entry(e.contender.to_string())
                    .or_default()
                    .push(ns);
            }
        }
        progress(&format!(
            "round {}/{rounds}: {:.1} s",
            round + 1,
            t.elapsed().as_secs_f64()
        ));
        between_rounds(round);
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_range() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
        assert_eq!(min_max(&[3.0, 1.0, 2.0]), (1.0, 3.0));
    }

    #[test]
    fn check_detects_loss_and_duplication() {
        let want = Check::expected::<usize>(10);
        let mut dup = Check::default();
        for i in [1u64, 2, 3, 4, 5, 5, 7, 8, 9, 10] {
            dup.add(usize::make(i)); // 6 lost, 5 twice
        }
        assert_ne!(dup, want);
        assert_eq!(Check::expected::<()>(7).count, 7);
        assert_eq!(<[u64; 4]>::make(42).val(), 42);
    }
}
