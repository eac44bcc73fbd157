//! Timer workloads: gochan's process-wide timer service vs tokio's timer wheel vs Go's
//! timers (twin: `bench/go/timers.go`).
//!
//! - `timer | new+stop | ns/op`: gochan `Timer::new(1h)` + `stop()`; tokio a
//!   `sleep(1h)` polled once (the first poll registers it with the runtime's timer wheel)
//!   and dropped (which deregisters it), on a 2-worker runtime with the time driver; Go
//!   `time.NewTimer(time.Hour)` + `Stop()`. (`DelayQueue` insert + remove was the other
//!   candidate for tokio, but it is a per-task data structure with no shared driver
//!   behind it; `sleep` is what tokio code uses for a timeout and, like gochan's service
//!   and Go's timers, goes through the runtime's shared timer state.)
//! - `timer_pending | n=N | B/timer`: live heap per pending 1 h timer (counting allocator;
//!   Go: `HeapAlloc` delta).
//! - The pending-timers probe (not a table cell): RSS and thread count of a fresh process
//!   before and after `N` pending gochan timers, and after dropping them.

use std::future::{poll_fn, Future};
use std::hint::black_box;
use std::pin::pin;
use std::process::{Command, ExitCode};
use std::task::Poll;
use std::time::{Duration, Instant};

use gochan::time::Timer;
use serde::{Deserialize, Serialize};

use super::Config;
use crate::alloc;
use crate::harness::{Case, Outcome};

const HOUR: Duration = Duration::from_secs(3600);
/// The hidden subcommand that runs [`probe`] in a fresh process and prints it as JSON.
pub const PROBE_CMD: &str = "probe-timers";

fn new_stop(cfg: &Config) -> Case {
    let mut c = Case::measure("timer", "new+stop", "sync", "ns/op", cfg.n_ops);
    c.add("gochan", |_, n| {
        let start = Instant::now();
        let mut ok = 0;
        for _ in 0..n {
            let t = Timer::new(HOUR);
            ok += u64::from(black_box(&t).stop());
        }
        Outcome::ops(start, ok)
    });
    c.add("tokio", |env, n| {
        env.timer_rt().block_on(poll_fn(|cx| {
            let start = Instant::now();
            let mut ok = 0;
            for _ in 0..n {
                let s = pin!(tokio::time::sleep(HOUR));
                ok += u64::from(s.poll(cx).is_pending());
            }
            Poll::Ready(Outcome::ops(start, ok))
        }))
    });
    c
}

fn pending(cfg: &Config) -> Case {
    let n = cfg.n_timers;
    let mut c = Case::measure("timer_pending", &format!("n={n}"), "sync", "B/timer", n);
    c.add("gochan", |_, n| {
        let mut timers = Vec::with_capacity(n);
        let ((), live) = alloc::measure(|| timers.extend((0..n).map(|_| Timer::new(HOUR))));
        let ok = if gochan::time::pending_timers() >= n {
            n
        } else {
            0
        };
        Outcome::figure(live.bytes as f64 / n as f64, ok as u64)
    });
    c.add("tokio", |env, n| {
        let mut sleeps = Vec::with_capacity(n);
        env.timer_rt().block_on(poll_fn(|cx| {
            let (ok, live) = alloc::measure(|| {
                let mut ok = 0;
                for _ in 0..n {
                    let mut s = Box::pin(tokio::time::sleep(HOUR));
                    ok += u64::from(s.as_mut().poll(cx).is_pending());
                    sleeps.push(s);
                }
                ok
            });
            Poll::Ready(Outcome::figure(live.bytes as f64 / n as f64, ok))
        }))
    });
    c
}

pub fn cases(cfg: &Config, out: &mut Vec<Case>) {
    out.push(new_stop(cfg));
    out.push(pending(cfg));
}

/// RSS (kB) and thread count of this process, from /proc/self/status.
pub fn rss_and_threads() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("Threads:"))
}

/// What `n` pending gochan timers cost a process.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    pub n: usize,
    /// Before any timer.
    pub rss_start_kb: u64,
    pub threads_start: u64,
    /// With one timer (the timer service thread is running).
    pub rss_before_kb: u64,
    pub threads_before: u64,
    /// With `n` timers pending.
    pub rss_after_kb: u64,
    pub threads_after: u64,
    pub pending_after: usize,
    /// After stopping and dropping all of them.
    pub rss_dropped_kb: u64,
    pub pending_dropped: usize,
    /// Then after glibc's `malloc_trim(0)` (0 where there is no glibc): what is left is
    /// held by the program, not by the allocator's free lists.
    pub rss_trimmed_kb: u64,
    /// Wall time to create the `n` timers.
    pub create_ms: f64,
}

impl Probe {
    pub fn note(&self) -> String {
        let mib = |kb: u64, base: u64| (kb as f64 - base as f64) / 1024.0;
        format!(
            "{} pending gochan timers (`Timer::new(1h)`, fresh process): VmRSS +{:.1} MiB \
             ({:.0} B/timer), created in {:.0} ms; threads {} before any timer, {} with the \
             first (the timer service thread), {} with all {} (flat); after stopping and \
             dropping them all VmRSS is still +{:.1} MiB above the start ({} pending), \
             +{:.1} MiB after `malloc_trim(0)`.",
            self.n,
            mib(self.rss_after_kb, self.rss_before_kb),
            (self.rss_after_kb as f64 - self.rss_before_kb as f64) * 1024.0 / self.n as f64,
            self.create_ms,
            self.threads_start,
            self.threads_before,
            self.threads_after,
            self.n,
            mib(self.rss_dropped_kb, self.rss_start_kb),
            self.pending_dropped,
            mib(self.rss_trimmed_kb, self.rss_start_kb),
        )
    }
}

/// Creates `n` pending 1 h gochan timers in this process and reports RSS and threads.
pub fn probe(n: usize) -> Probe {
    let mut p = Probe {
        n,
        ..Probe::default()
    };
    (p.rss_start_kb, p.threads_start) = rss_and_threads();
    let mut timers = Vec::with_capacity(n);
    timers.push(Timer::new(HOUR)); // starts the service thread
    (p.rss_before_kb, p.threads_before) = rss_and_threads();
    let start = Instant::now();
    timers.extend((1..n).map(|_| Timer::new(HOUR)));
    p.create_ms = start.elapsed().as_secs_f64() * 1e3;
    (p.rss_after_kb, p.threads_after) = rss_and_threads();
    p.pending_after = gochan::time::pending_timers();
    for t in &timers {
        t.stop();
    }
    drop(timers);
    p.pending_dropped = gochan::time::pending_timers();
    (p.rss_dropped_kb, _) = rss_and_threads();
    p.rss_trimmed_kb = if trim() { rss_and_threads().0 } else { 0 };
    p
}

/// Returns free heap memory to the OS (glibc's `malloc_trim`); `false` without glibc.
fn trim() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: malloc_trim only walks glibc's own heap; no Rust invariant is involved.
        unsafe { malloc_trim(0) };
        true
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    false
}

/// `gochan-bench probe-timers N`: prints [`probe`]`(N)` as one JSON line.
pub fn probe_main(args: &[String]) -> ExitCode {
    match args.first().and_then(|a| a.parse().ok()) {
        Some(n) => {
            println!("{}", serde_json::to_string(&probe(n)).expect("json"));
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("usage: gochan-bench {PROBE_CMD} N");
            ExitCode::from(2)
        }
    }
}

/// Runs `cmd` (a process that prints a [`Probe`] as a JSON line) and parses its output.
fn probe_with(mut cmd: Command) -> Result<Probe, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?}: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The JSON object may follow other text on its line (libtest's "test ... " prefix).
    let line = stdout
        .lines()
        .filter(|l| l.contains("\"rss_after_kb\""))
        .find_map(|l| Some(&l[l.find('{')?..=l.rfind('}')?]))
        .ok_or_else(|| format!("no probe output in {stdout:?}"))?;
    serde_json::from_str(line).map_err(|e| format!("bad probe output {line:?}: {e}"))
}

/// [`probe`]`(n)` in a fresh process of this binary.
pub fn probe_process(n: usize) -> Result<Probe, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(exe);
    cmd.args([PROBE_CMD, &n.to_string()]);
    probe_with(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROBE_ENV: &str = "GOCHAN_BENCH_PROBE_N";

    /// Runs in a child process started by `pending_timers_add_no_thread` (so that no
    /// other test's threads come and go during the probe).
    #[test]
    #[ignore = "run by pending_timers_add_no_thread in a fresh process"]
    fn probe_child() {
        if let Some(n) = std::env::var(PROBE_ENV).ok().and_then(|v| v.parse().ok()) {
            println!("{}", serde_json::to_string(&probe(n)).unwrap());
        }
    }

    #[test]
    fn pending_timers_add_no_thread() {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "workloads::timers::tests::probe_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(PROBE_ENV, "20000");
        let p = probe_with(cmd).unwrap();
        assert_eq!(p.threads_after, p.threads_before, "{p:?}");
        assert!(p.threads_before <= p.threads_start + 1, "{p:?}");
        assert!(
            p.pending_after >= 20_000 && p.rss_after_kb > p.rss_before_kb,
            "{p:?}"
        );
        assert_eq!(p.pending_dropped, 0, "{p:?}");
        assert!(p.note().contains("20000 pending gochan timers"));
    }
}
