//! Results: the run's metadata, the raw figures (JSON), and the Markdown table.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::harness::{median, min_max, CellResult, Key};

/// Column order of the table; contenders not in a run are left out.
pub const CONTENDERS: &[&str] = &[
    "gochan",
    "crossbeam",
    "flume",
    "kanal",
    "crossfire",
    "std",
    "tokio",
    "tokio-util",
    "async-channel",
    "go",
];
/// The contender whose ratio to the best peer is reported.
pub const SUBJECT: &str = "gochan";
/// Mode of the Go cells: the same Go figures appear in the sync and the async rows.
pub const GO_MODE: &str = "go";

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Meta {
    pub date: String,
    pub nproc: usize,
    pub cpu: String,
    pub rustc: String,
    /// `name version` of gochan and the peer crates, from Cargo.lock.
    pub crates: Vec<String>,
    /// `go version` output, or why Go is not in the results.
    pub go: String,
    pub go_present: bool,
    pub quick: bool,
    pub rounds: usize,
    pub n_slow: usize,
    pub n_fast: usize,
    pub filter: Option<String>,
    pub elapsed_s: f64,
    /// Sizes of the context and timer cells (0 in reports written before they existed).
    #[serde(default)]
    pub n_ops: usize,
    #[serde(default)]
    pub n_ctx: usize,
    #[serde(default)]
    pub n_timers: usize,
    /// Figures that are not table cells (e.g. the pending-timers RSS probe).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// Everything a run produced; serialized as the raw-figures JSON file.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Report {
    pub meta: Meta,
    pub cells: Vec<CellResult>,
}

impl Meta {
    /// Date, machine, toolchain and crate versions of this process.
    pub fn collect() -> Meta {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        Meta {
            date: utc_now(),
            nproc: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu,
            rustc: env!("GOCHAN_BENCH_RUSTC").to_string(),
            crates: env!("GOCHAN_BENCH_CRATES")
                .split(';')
                .map(String::from)
                .collect(),
            ..Meta::default()
        }
    }
}

/// `YYYY-MM-DD HH:MM UTC` without a date crate (Howard Hinnant's civil-from-days).
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// The unit of a row's figures: ns/msg for the channel cells (whose `msg` column is a
/// message size), else the unit the measurement cell names in its `msg` column.
pub fn unit(key: &Key) -> &str {
    match key.msg.as_str() {
        "0B" | "8B" | "32B" => "ns/msg",
        u => u,
    }
}

/// A figure for the table: 2 decimals below 1 (ms rows), 1 decimal below 10, whole
/// numbers above.
pub fn fmt_ns(x: f64) -> String {
    if !x.is_finite() {
        "?".into()
    } else if x.abs() < 1.0 {
        format!("{x:.2}")
    } else if x < 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.0}")
    }
}

/// One table row: a Rust cell plus the matching Go figures.
pub struct Row<'a> {
    pub key: &'a Key,
    pub figures: BTreeMap<&'a str, &'a [f64]>,
}

impl Row<'_> {
    pub fn median(&self, contender: &str) -> Option<f64> {
        self.figures.get(contender).map(|xs| median(xs))
    }

    /// The fastest contender (by median) of the row.
    pub fn fastest(&self) -> Option<&str> {
        self.figures
            .iter()
            .map(|(c, xs)| (*c, median(xs)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(c, _)| c)
    }

    /// gochan's median over Go's.
    pub fn go_ratio(&self) -> Option<f64> {
        Some(self.median(SUBJECT)? / self.median("go")?)
    }

    /// gochan's median over the best Rust peer's median in the same mode (Go has its own
    /// column: goroutines are neither OS threads nor tokio tasks).
    pub fn ratio(&self) -> Option<(f64, &str)> {
        let own = self.median(SUBJECT)?;
        let (peer, best) = self
            .figures
            .iter()
            .filter(|(c, _)| **c != SUBJECT && **c != "go")
            .map(|(c, xs)| (*c, median(xs)))
            .min_by(|a, b| a.1.total_cmp(&b.1))?;
        Some((own / best, peer))
    }
}

/// The rows of the table, in run order; Go's figures join the sync and async rows alike.
pub fn rows(report: &Report) -> Vec<Row<'_>> {
    let go: BTreeMap<(&str, &str, &str), &CellResult> = report
        .cells
        .iter()
        .filter(|c| c.key.mode == GO_MODE)
        .map(|c| {
            (
                (
                    c.key.workload.as_str(),
                    c.key.cap.as_str(),
                    c.key.msg.as_str(),
                ),
                c,
            )
        })
        .collect();
    report
        .cells
        .iter()
        .filter(|c| c.key.mode != GO_MODE)
        .map(|c| {
            let mut figures: BTreeMap<&str, &[f64]> = c
                .ns_per_msg
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_slice()))
                .collect();
            let gk = (
                c.key.workload.as_str(),
                c.key.cap.as_str(),
                c.key.msg.as_str(),
            );
            if let Some(g) = go.get(&gk).and_then(|g| g.ns_per_msg.get("go")) {
                figures.insert("go", g.as_slice());
            }
            Row {
                key: &c.key,
                figures,
            }
        })
        .collect()
}

/// The contenders that appear in any row, in [`CONTENDERS`] order.
pub fn columns(rows: &[Row<'_>]) -> Vec<&'static str> {
    let present: BTreeSet<&str> = rows
        .iter()
        .flat_map(|r| r.figures.keys().copied())
        .collect();
    CONTENDERS
        .iter()
        .copied()
        .filter(|c| present.contains(c))
        .collect()
}

/// The results table: one row per cell, `median (min–max)` ns/msg per contender.
pub fn markdown_table(report: &Report) -> String {
    let rows = rows(report);
    let cols = columns(&rows);
    let mut s = String::new();
    s.push_str("| workload | cap | mode | msg |");
    for c in &cols {
        let _ = write!(s, " {c} |");
    }
    let has_go = cols.contains(&"go");
    s.push_str(if has_go {
        " gochan / best peer | gochan / go |\n"
    } else {
        " gochan / best peer |\n"
    });
    s.push_str("|---|---|---|---|");
    for _ in &cols {
        s.push_str("---:|");
    }
    s.push_str(if has_go { "---:|---:|\n" } else { "---:|\n" });
    for r in &rows {
        let k = r.key;
        let _ = write!(s, "| {} | {} | {} | {} |", k.workload, k.cap, k.mode, k.msg);
        let fastest = r.fastest();
        for c in &cols {
            match r.figures.get(c) {
                Some(xs) => {
                    let (lo, hi) = min_max(xs);
                    let med = fmt_ns(median(xs));
                    let med = if fastest == Some(*c) {
                        format!("**{med}**")
                    } else {
                        med
                    };
                    let _ = write!(s, " {med} ({}–{}) |", fmt_ns(lo), fmt_ns(hi));
                }
                None => s.push_str(" — |"),
            }
        }
        match r.ratio() {
            Some((x, peer)) => {
                let _ = write!(s, " {x:.2}x ({peer}) |");
            }
            None => s.push_str(" — |"),
        }
        match r.go_ratio() {
            Some(x) => {
                let _ = write!(s, " {x:.2}x |");
            }
            None if has_go => s.push_str(" — |"),
            None => {}
        }
        s.push('\n');
    }
    s
}

/// The whole Markdown report: header, legend, table.
pub fn markdown(report: &Report) -> String {
    let m = &report.meta;
    let mut s = String::from("# gochan benchmark results\n\n");
    let _ = writeln!(s, "- date: {}", m.date);
    let _ = writeln!(s, "- machine: nproc = {}, CPU: {}", m.nproc, m.cpu);
    let _ = writeln!(s, "- rustc: {}", m.rustc);
    let _ = writeln!(s, "- crates: {}", m.crates.join(", "));
    let _ = writeln!(s, "- go: {}", m.go);
    let _ = writeln!(
        s,
        "- run: {}, {} rounds, {} messages per run at cap 0/1, {} at cap 1000/unbounded{}; took {:.0} s",
        if m.quick { "--quick" } else { "full" },
        m.rounds,
        m.n_slow,
        m.n_fast,
        m.filter.as_ref().map_or(String::new(), |f| format!(", --filter {f}")),
        m.elapsed_s
    );
    if m.n_ops > 0 {
        let _ = writeln!(
            s,
            "- context/timer sizes: {} ops per ns/op run, {} children per fan-out and B/node \
             run, {} pending timers{}",
            m.n_ops,
            m.n_ctx,
            m.n_timers,
            if m.quick {
                " (--quick: a full run uses 1000000 ops, 100000 children, 1000000 timers)"
            } else {
                ""
            }
        );
    }
    s.push_str(
        "\nFigures are ns per message: median over rounds (min–max); **bold** = fastest in the \
         row. Contenders run interleaved within each cell, every round. `sync` = OS threads; \
         `async` = tasks on a 2-worker tokio multi-thread runtime; `go` = goroutines with \
         GOMAXPROCS=2 (one figure per cell, shown in both the sync and the async row). \
         Workloads: `seq` one thread sends a batch of 1000 then receives it; `spsc` 1:1; \
         `mpsc` 4 senders, 1 receiver; `mpmc` 4 senders, 4 receivers; `mpmc_16x16` / \
         `mpmc_64x64` 16 / 64 senders and as many receivers (threads or tasks far \
         outnumber the cores); `select_rx` one receiver selects over 4 channels, one \
         sender each; `select_both` 2 parties each select between sending on one channel \
         and receiving on the other. `cap` unb = \
         unbounded; `msg` is the message size (8B = usize, 32B = [u64; 4], 0B = ()). \
         crossfire runs in the module of the row's shape (`spsc` for seq and spsc, `mpsc`, \
         `mpmc`) and has no cap 0 (its `bounded(0)` is cap 1). \
         `gochan / best peer` is gochan's median over the best Rust peer's in the same row \
         (above 1 = gochan slower); `gochan / go` is the same against Go.\n\n",
    );
    s.push_str(LEGEND_MEASURE);
    s.push_str(&markdown_table(report));
    if !m.notes.is_empty() {
        s.push_str("\nNotes:\n\n");
        for n in &m.notes {
            let _ = writeln!(s, "- {n}");
        }
    }
    s
}

/// Legend of the merge, context and timer rows.
const LEGEND_MEASURE: &str = "\
`merge`: fan-in of 8 input channels (cap 1000, one producer thread or task each) into one \
consumer, ns/msg; `cap` is the output's capacity. cap 0: gochan `pipeline::merge` (its \
output is unbuffered), crossbeam a hand-written `Select` loop forwarding into \
`bounded(0)`, Go the pipelines-article merge (a goroutine per input) into an unbuffered \
channel; cap 1000: the same loop by hand on gochan (`Select`) and crossbeam, Go's merge \
into a 1000 buffer; async: `futures::stream::select_all` over the 8 receivers \
(gochan `into_stream()`, async-channel), no output channel.\n\n\
Context and timer rows: `cap` is the parameter and `msg` the unit. `tokio-util` = \
`CancellationToken`; `tokio` = `tokio::time::sleep`. ns/op rows time a loop of single \
operations on one thread, each checked (a cancelled child reports cancelled): \
`ctx_child` a child of a live parent created and cancelled (or dropped: gochan's \
`CancelFunc` cancels on drop; Go has no drop); `ctx_timeout` 2 threads each create 10 \
`WithTimeout(background, 1h)` children then cancel them, with 40/4000/400000 other \
timeout contexts live (Go's BenchmarkWithTimeout; op = one child); `ctx_tree` build a \
chain of `depth` cancelable children under a cancelable root, then cancel the root (Go's \
BenchmarkCancelTree, Root=OpenCanceler; op = one tree); `ctx_check` `err()` / \
`is_cancelled()` / `Err()`, and a non-blocking receive on `done()` / `Done()`, on a live \
context; `ctx_value` `value::<T>()` / `Value(key)` for a value `depth` nodes up a chain \
of value contexts. `ctx_fanout` (ms, n children of one parent): `create` them, `cancel` \
the parent and check every child reports cancelled, `wake` n tasks (goroutines) each \
awaiting its own child's `cancelled()` / `Done()`: from the parent's cancel until the last \
one ran. `ctx_bytes` (B/node): live heap after creating n children of a cancelable \
parent, per child (Rust: a counting allocator, requested bytes without malloc's own \
overhead; Go: `HeapAlloc` delta after GC), the parent's child table and the timer's \
entry included; `+done` after calling `done()` / `Done()` once on each. gochan's timer \
service and Go's per-P timer heaps keep their table capacity from earlier runs, so table \
growth is mostly not in the B/node and B/timer figures (the RSS note below has it). `timer` `new+stop`: gochan \
`Timer::new(1h)` + `stop()`, tokio a `sleep(1h)` polled once (which registers it with \
the runtime's timer wheel) and dropped, Go `time.NewTimer(1h)` + `Stop()`; \
`timer_pending` (B/timer): live heap per pending 1h timer, counted as for `ctx_bytes`.\n\n";

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(w: &str, cap: &str, mode: &str, figs: &[(&str, &[f64])]) -> CellResult {
        CellResult {
            key: Key {
                workload: w.into(),
                cap: cap.into(),
                mode: mode.into(),
                msg: "8B".into(),
            },
            n: 100,
            ns_per_msg: figs
                .iter()
                .map(|(c, v)| (c.to_string(), v.to_vec()))
                .collect(),
        }
    }

    #[test]
    fn table_bolds_fastest_and_computes_ratio() {
        let report = Report {
            meta: Meta::default(),
            cells: vec![
                cell(
                    "spsc",
                    "0",
                    "sync",
                    &[
                        ("gochan", &[300.0, 200.0, 250.0]),
                        ("kanal", &[100.0, 90.0, 110.0]),
                    ],
                ),
                cell(
                    "spsc",
                    "0",
                    "async",
                    &[("gochan", &[50.0]), ("tokio", &[80.0])],
                ),
                cell("spsc", "0", "go", &[("go", &[15.0, 16.0, 14.0])]),
                cell("seq", "1000", "sync", &[("kanal", &[5.24])]),
            ],
        };
        let t = markdown_table(&report);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "| workload | cap | mode | msg | gochan | kanal | tokio | go | gochan / best peer | gochan / go |");
        assert_eq!(lines[1], "|---|---|---|---|---:|---:|---:|---:|---:|---:|");
        assert_eq!(
            lines[2],
            "| spsc | 0 | sync | 8B | 250 (200–300) | 100 (90–110) | — | **15** (14–16) | 2.50x (kanal) | 16.67x |"
        );
        // Go's figures appear in the async row too; the peer ratio is against Rust peers only.
        assert_eq!(lines[3], "| spsc | 0 | async | 8B | 50 (50–50) | — | 80 (80–80) | **15** (14–16) | 0.62x (tokio) | 3.33x |");
        assert_eq!(
            lines[4],
            "| seq | 1000 | sync | 8B | — | **5.2** (5.2–5.2) | — | — | — | — |"
        );
        assert_eq!(lines.len(), 5, "the go cell is not a row of its own");
        // Without Go there is no Go column and no Go ratio.
        let no_go = Report {
            cells: report.cells[3..].to_vec(),
            ..Report::default()
        };
        assert_eq!(
            markdown_table(&no_go).lines().nth(2),
            Some("| seq | 1000 | sync | 8B | **5.2** (5.2–5.2) | — |")
        );
        let full = markdown(&report);
        assert!(full.contains("# gochan benchmark results") && full.contains(&t));
    }

    #[test]
    fn date_format() {
        let d = utc_now();
        assert_eq!(d.len(), "2024-01-01 00:00 UTC".len(), "{d}");
        assert!(d.starts_with("20") && d.ends_with(" UTC"));
    }
}
