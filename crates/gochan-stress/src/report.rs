//! The run's summary and its PASS/FAIL verdict.

use std::fmt;
use std::time::Duration;

use crate::ledger::MsgFigures;
use crate::world::{Counts, FAULT_NAMES, OP_NAMES};

/// Everything measured and checked by one soak run.
#[derive(Debug, Default)]
pub struct Report {
    /// Requested soak duration.
    pub seconds: f64,
    /// Seed of the run.
    pub seed: u64,
    /// OS worker threads.
    pub threads: usize,
    /// Tokio tasks (on a 2-worker runtime).
    pub tasks: usize,
    /// Fault mode (panicking drops, panic probes).
    pub faults: bool,
    /// Panicking drops: thrown, caught, not thrown because the thread was unwinding.
    pub drop_panics: [u64; 3],
    /// Operations and faults by kind.
    pub counts: Counts,
    /// Message figures.
    pub msgs: MsgFigures,
    /// Invariant violations (count, first descriptions).
    pub problems: (u64, Vec<String>),
    /// Workers that did not return after the final close/cancel, with their operation.
    pub stuck: Vec<String>,
    /// Whether the run got past the wake-up check (else the resource checks were skipped).
    pub audited: bool,
    /// Workers that panicked.
    pub panics: Vec<String>,
    /// Time from the final close/cancel until every worker returned.
    pub join_time: Duration,
    /// The longest time a worker spent in one operation mid-run, and where.
    pub longest_stall: (Duration, String),
    /// Wall time of the whole run, checks included.
    pub wall: Duration,
    /// `root.child_count()` once every worker and pooled context is gone.
    pub root_children: Option<usize>,
    /// after_func: registered, ran, stopped, closures dropped, ran early.
    pub after_funcs: [u64; 5],
    /// Whether after_func accounting settled.
    pub after_funcs_ok: bool,
    /// Pending gochan timers: baseline, peak seen, at the end.
    pub timers: [usize; 3],
    /// Resident memory (KiB) at the start and after every second of the soak.
    pub rss_kib: Vec<usize>,
    /// Process threads: baseline, peak seen, at the end (None off Linux).
    pub os_threads: Option<[usize; 3]>,
}

impl Report {
    /// The verdict; `failures()` says why not.
    pub fn passed(&self) -> bool {
        self.failures().is_empty()
    }

    /// Every failed check, in words.
    pub fn failures(&self) -> Vec<String> {
        let mut f = Vec::new();
        if self.problems.0 > 0 {
            f.push(format!("{} invariant violation(s)", self.problems.0));
        }
        if !self.stuck.is_empty() {
            f.push(format!(
                "{} worker(s) never woke up after the final close/cancel",
                self.stuck.len()
            ));
        }
        if !self.panics.is_empty() {
            f.push(format!("{} worker(s) panicked", self.panics.len()));
        }
        if !self.audited {
            f.push("resource checks skipped (workers still blocked)".into());
            return f;
        }
        if self.root_children != Some(0) {
            f.push(format!(
                "context root child_count() = {:?}, want 0",
                self.root_children
            ));
        }
        if !self.after_funcs_ok {
            let [reg, ran, stopped, dropped, early] = self.after_funcs;
            f.push(format!(
                "after_func: registered {reg} != ran {ran} + stopped {stopped}, or \
                 closures dropped {dropped}, or {early} ran early"
            ));
        }
        if self.timers[2] > self.timers[0] {
            f.push(format!(
                "pending timers {} > baseline {}",
                self.timers[2], self.timers[0]
            ));
        }
        if let Some([base, _, end]) = self.os_threads {
            if end > base {
                f.push(format!("threads {end} > baseline {base}"));
            }
        }
        let m = &self.msgs;
        let settled = m.received + m.returned + m.lost_with_channel + m.discarded + m.unwound;
        if settled != m.issued && self.stuck.is_empty() {
            f.push(format!(
                "{} of {} messages unaccounted for",
                m.issued - settled.min(m.issued),
                m.issued
            ));
        }
        f
    }
}

fn si(n: u64) -> String {
    match n {
        0..=9_999 => n.to_string(),
        10_000..=9_999_999 => format!("{:.1}k", n as f64 / 1e3),
        _ => format!("{:.2}M", n as f64 / 1e6),
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total: u64 = self.counts.ops.iter().sum();
        writeln!(f, "== gochan-stress summary ==")?;
        writeln!(
            f,
            "soak {:.0} s (wall {:.1} s), seed {}, {} threads + {} tokio tasks (2 workers)",
            self.seconds,
            self.wall.as_secs_f64(),
            self.seed,
            self.threads,
            self.tasks
        )?;
        writeln!(
            f,
            "operations: {} ({}/s)",
            si(total),
            si((total as f64 / self.seconds.max(1e-3)) as u64)
        )?;
        let mut line = String::new();
        for (i, name) in OP_NAMES.iter().enumerate().skip(1) {
            let item = format!("{name} {}  ", si(self.counts.ops[i]));
            if line.len() + item.len() > 96 {
                writeln!(f, "  {}", line.trim_end())?;
                line.clear();
            }
            line.push_str(&item);
        }
        writeln!(f, "  {}", line.trim_end())?;
        let faults: u64 = self.counts.faults.iter().sum();
        write!(f, "faults (futures dropped mid-wait): {}:", si(faults))?;
        for (i, name) in FAULT_NAMES.iter().enumerate() {
            write!(f, " {name} {}", si(self.counts.faults[i]))?;
        }
        writeln!(f)?;
        let m = &self.msgs;
        writeln!(
            f,
            "messages: {} issued; received {}, returned in errors {}, dropped with their \
             channel {}, discarded (unchosen arm / cancelled send) {}, dropped unwinding a \
             panic {}",
            si(m.issued),
            si(m.received),
            si(m.returned),
            si(m.lost_with_channel),
            si(m.discarded),
            si(m.unwound)
        )?;
        if self.faults {
            let [thrown, caught, suppressed] = self.drop_panics;
            writeln!(
                f,
                "panicking drops: {thrown} panicked, {caught} caught, {suppressed} armed values \
                 dropped while unwinding (not thrown: a second panic aborts)"
            )?;
        }
        let [reg, ran, stopped, dropped, early] = self.after_funcs;
        writeln!(
            f,
            "after_func: registered {reg}, ran {ran}, stopped {stopped}, closures dropped \
             {dropped}, ran early {early}"
        )?;
        writeln!(
            f,
            "wake-up: all workers returned {:.1} ms after the final close/cancel; root \
             child_count {:?}",
            self.join_time.as_secs_f64() * 1e3,
            self.root_children
        )?;
        if self.longest_stall.0.is_zero() {
            writeln!(f, "longest single operation mid-run: none over 1 s")?;
        } else {
            writeln!(
                f,
                "longest single operation mid-run: {:.1?} ({})",
                self.longest_stall.0, self.longest_stall.1
            )?;
        }
        writeln!(
            f,
            "timers pending: baseline {}, peak {}, end {}",
            self.timers[0], self.timers[1], self.timers[2]
        )?;
        if let Some([b, p, e]) = self.os_threads {
            writeln!(f, "process threads: baseline {b}, peak {p}, end {e}")?;
        }
        if let (Some(first), Some(max)) = (self.rss_kib.first(), self.rss_kib.iter().max()) {
            let n = self.rss_kib.len();
            let mid = self.rss_kib[n / 2];
            writeln!(
                f,
                "resident memory: start {} MiB, mid-run {} MiB, end of soak {} MiB, peak {} MiB",
                first / 1024,
                mid / 1024,
                self.rss_kib[n - 1] / 1024,
                max / 1024
            )?;
        }
        for s in &self.stuck {
            writeln!(f, "STUCK: {s}")?;
        }
        for s in &self.panics {
            writeln!(f, "PANIC: {s}")?;
        }
        for p in &self.problems.1 {
            writeln!(f, "VIOLATION: {p}")?;
        }
        let failures = self.failures();
        if failures.is_empty() {
            write!(f, "PASS")
        } else {
            write!(f, "FAIL: {}", failures.join("; "))
        }
    }
}
