//! Soak/stress harness for `gochan`: OS threads and tokio tasks run random channel,
//! select, timer and context operations on shared channels and a shared context tree for
//! a set time, then everything is closed and cancelled and the run is audited (see
//! `README.md`). [`run`] is used by the binary and by the integration test.

mod async_worker;
mod faults;
pub mod ledger;
mod report;
mod sync_worker;
mod world;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use gochan::context;

pub use report::Report;
pub use world::{Counts, Fault, Op, FAULT_NAMES, OPS, OP_NAMES};

use world::World;

/// Channel slots (the capacities 0, 1, 3, 64 and unbounded, twice each).
const SLOTS: usize = 10;
/// How long the workers get to return after the final close/cancel.
const JOIN_DEADLINE: Duration = Duration::from_secs(10);
/// A worker that starts no operation for this long mid-run missed a wake-up.
const STALL_LIMIT: Duration = Duration::from_secs(20);
/// How long resources get to settle (after_func threads, timers, threads).
const SETTLE_DEADLINE: Duration = Duration::from_secs(5);

/// What to run.
#[derive(Clone, Debug)]
pub struct Config {
    /// Soak duration.
    pub seconds: f64,
    /// Seed of the workers' random generators.
    pub seed: u64,
    /// OS worker threads.
    pub threads: usize,
    /// Tokio tasks on a 2-worker runtime.
    pub tasks: usize,
    /// Print a progress line every 10 s to stderr.
    pub progress: bool,
    /// Fault mode: one message in [`world::PANIC_ONE_IN`] panics when dropped (wherever
    /// that happens: in a worker, or inside gochan), panic probes run, and more async
    /// operations are dropped mid-wait. Every panic must be caught exactly once, every
    /// message still dropped exactly once, and gochan must keep working.
    pub faults: bool,
    /// In fault mode, also arm the values of `select!`/`select_async!` send arms (on by
    /// default; the dynamic `Select` is armed either way). Before a fix in 0.1.0 the macros
    /// leaked the chosen receive arm's value when an unchosen send value's drop panicked.
    pub select_arm_faults: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            seconds: 10.0,
            seed: 1,
            threads: 8,
            tasks: 32,
            progress: false,
            faults: false,
            select_arm_faults: true,
        }
    }
}

fn proc_status(field: &str) -> Option<usize> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// The process's thread count (Linux: `/proc/self/status`).
pub fn thread_count() -> Option<usize> {
    proc_status("Threads:")
}

/// The process's resident memory in KiB (Linux).
pub fn rss_kib() -> Option<usize> {
    proc_status("VmRSS:")
}

/// Polls `ok` until it holds or `limit` passes; returns its last value.
fn settle(limit: Duration, mut ok: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if ok() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// Keeps the default panic hook quiet about the drop panics of fault mode (thousands of
/// them), and only about those.
fn quiet_drop_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<ledger::DropPanic>().is_none() {
                prev(info);
            }
        }));
    });
}

/// Runs one soak and audits it.
pub fn run(cfg: &Config) -> Report {
    let started = Instant::now();
    if cfg.faults {
        quiet_drop_panics();
    }
    // Start the lazily created timer thread before taking the baselines.
    drop(gochan::after(Duration::from_secs(1)));
    let base_timers = gochan::time::pending_timers();
    let base_threads = thread_count();
    let mut peak_timers = base_timers;
    let mut peak_threads = base_threads.unwrap_or(0);
    let mut report_rss = vec![rss_kib().unwrap_or(0)];

    let ledger = ledger::Ledger::leak();
    let (root, root_cancel) = context::with_cancel(&context::background());
    let workers = cfg.threads + cfg.tasks;
    let world = Arc::new(World::new(
        ledger,
        root.clone(),
        SLOTS,
        workers,
        cfg.faults,
        cfg.select_arm_faults,
    ));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .thread_name("stress-tokio")
        .build()
        .expect("tokio runtime");

    let mut threads = Vec::new();
    for i in 0..cfg.threads {
        let w = world.clone();
        let seed = cfg.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i as u64;
        let h = thread::Builder::new()
            .name(format!("stress-{i}"))
            .spawn(move || sync_worker::run(w, i, seed))
            .expect("spawn worker");
        threads.push(h);
    }
    let mut tasks = Vec::new();
    for j in 0..cfg.tasks {
        let idx = cfg.threads + j;
        let seed = cfg.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (1 << 32) ^ j as u64;
        tasks.push(rt.spawn(async_worker::run(world.clone(), idx, seed)));
    }

    // Soak: sweep the ledger once a second, report progress every 10 s.
    let soak = Duration::from_secs_f64(cfg.seconds);
    let soak_start = Instant::now();
    let mut last_progress = soak_start;
    let mut seen: Vec<(u64, Instant)> = vec![(0, soak_start); workers];
    let mut stall = (Duration::ZERO, String::new());
    while soak_start.elapsed() < soak {
        thread::sleep((soak - soak_start.elapsed().min(soak)).min(Duration::from_secs(1)));
        ledger.sweep();
        // Stall watchdog: a party blocked this long mid-run missed its wake-up.
        for (i, b) in world.board.iter().enumerate() {
            let seq = b.seq.load(Ordering::Acquire);
            if seq != seen[i].0 {
                seen[i] = (seq, Instant::now());
                continue;
            }
            let for_ = seen[i].1.elapsed();
            let op = OP_NAMES[b.op.load(Ordering::Acquire).min(OPS as u8 - 1) as usize];
            if for_ > stall.0 {
                stall = (for_, format!("worker {i} in {op}"));
            }
            if for_ >= STALL_LIMIT && for_ < STALL_LIMIT + Duration::from_millis(1500) {
                ledger.problem(format!("worker {i} stalled {for_:.1?} in {op} mid-run"));
            }
        }
        peak_timers = peak_timers.max(gochan::time::pending_timers());
        peak_threads = peak_threads.max(thread_count().unwrap_or(0));
        report_rss.push(rss_kib().unwrap_or(0));
        if cfg.progress && last_progress.elapsed() >= Duration::from_secs(10) {
            last_progress = Instant::now();
            eprintln!(
                "[{:>5.0} s] ops ~{} msgs {} (ledger segments {}) rss {} MiB pending timers {} \
                 pool {} root children {}",
                soak_start.elapsed().as_secs_f64(),
                world.ops_total.load(Ordering::Relaxed),
                ledger.issued(),
                ledger.live_segments(),
                rss_kib().unwrap_or(0) / 1024,
                gochan::time::pending_timers(),
                world.pool.lock().len(),
                root.child_count(),
            );
        }
    }

    // Final close/cancel of everything shared; every blocked party must wake up.
    let mut report = Report {
        seconds: cfg.seconds,
        seed: cfg.seed,
        threads: cfg.threads,
        tasks: cfg.tasks,
        faults: cfg.faults,
        ..Report::default()
    };
    let closed_at = Instant::now();
    world.shutdown();
    let join_end = closed_at + JOIN_DEADLINE;
    let threads_back = settle(JOIN_DEADLINE, || {
        world.board[..cfg.threads].iter().all(|b| b.exited())
    });
    let tasks_back = rt.block_on(async {
        let left = join_end.saturating_duration_since(Instant::now());
        tokio::time::timeout(left, async {
            let mut panics = Vec::new();
            for (j, t) in tasks.drain(..).enumerate() {
                if let Err(e) = t.await {
                    panics.push(format!("task {j}: {e}"));
                }
            }
            panics
        })
        .await
    });
    report.join_time = closed_at.elapsed();
    report.longest_stall = stall;
    for (i, b) in world.board.iter().enumerate() {
        let op = b.op.load(Ordering::Acquire);
        if op != world::EXITED {
            let kind = if i < cfg.threads { "thread" } else { "task" };
            report
                .stuck
                .push(format!("{kind} {i} in {}", OP_NAMES[op as usize]));
        }
    }
    match tasks_back {
        Ok(p) => report.panics.extend(p),
        Err(_) => report.panics.push("tasks: join timed out".into()),
    }
    if !threads_back || !report.stuck.is_empty() {
        // Nothing more can be audited with parties still blocked: leave them behind.
        rt.shutdown_background();
        report.counts = world.counts.lock().clone();
        report.problems = ledger.problems();
        report.wall = started.elapsed();
        std::mem::forget(threads);
        return report;
    }
    for (i, h) in threads.into_iter().enumerate() {
        if let Err(e) = h.join() {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            report.panics.push(format!("thread {i}: {msg}"));
        }
    }
    rt.shutdown_timeout(Duration::from_secs(2));
    report.audited = true;

    // Contexts: with every worker and pooled context gone, the root has no children.
    world.drain_pool();
    report.root_children = Some(root.child_count());
    root_cancel.cancel();
    let af = world.af.clone();
    let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Acquire);
    report.after_funcs_ok = settle(SETTLE_DEADLINE, || {
        let reg = load(&af.registered);
        load(&af.ran) + load(&af.stopped) == reg && load(&af.dropped) == reg
    }) && load(&af.early) == 0;
    report.after_funcs = [
        load(&af.registered),
        load(&af.ran),
        load(&af.stopped),
        load(&af.dropped),
        load(&af.early),
    ];

    // Channels: drop the last handles; every message must now be accounted for.
    report.counts = world.counts.lock().clone();
    // The last handles may drop buffered values that panic when dropped (fault mode).
    for slot in &world.slots {
        while world
            .catching("the final clean-up", || slot.clear())
            .is_none()
        {}
    }
    world.clear_slots();
    drop(world);
    drop(root);
    report.msgs = ledger.finish();
    let dp = &ledger.drop_panics;
    report.drop_panics = [
        dp.thrown.load(Ordering::Acquire),
        dp.caught.load(Ordering::Acquire),
        dp.suppressed.load(Ordering::Acquire),
    ];
    if report.drop_panics[0] != report.drop_panics[1] {
        ledger.problem(format!(
            "{} drops panicked but {} such panics were caught (lost or duplicated panics)",
            report.drop_panics[0], report.drop_panics[1]
        ));
    }
    report.problems = ledger.problems();

    // Resources back to their baselines.
    settle(SETTLE_DEADLINE, || {
        gochan::time::pending_timers() <= base_timers
    });
    report.timers = [base_timers, peak_timers, gochan::time::pending_timers()];
    if let Some(base) = base_threads {
        settle(SETTLE_DEADLINE, || thread_count().unwrap_or(0) <= base);
        report.os_threads = Some([base, peak_threads, thread_count().unwrap_or(0)]);
    }
    report.rss_kib = report_rss;
    report.wall = started.elapsed();
    report
}
