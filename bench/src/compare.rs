//! Regression guard: `gochan-bench compare OLD.json NEW.json [--threshold PCT] [--all]
//! [--contender NAME]...` flags cells whose median got more than PCT % (default 10)
//! slower, and exits non-zero if any did. By default only gochan's figures are judged.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::harness::{median, Key};
use crate::report::{fmt_ns, Report, SUBJECT};

/// One (cell, contender) present in both runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Delta {
    pub key: Key,
    pub contender: String,
    pub old: f64,
    pub new: f64,
}

impl Delta {
    /// Relative change of the median: `+0.25` = 25 % slower.
    pub fn change(&self) -> f64 {
        self.new / self.old - 1.0
    }

    pub fn is_regression(&self, threshold_pct: f64) -> bool {
        self.change() * 100.0 > threshold_pct
    }
}

/// Which contenders to judge.
#[derive(Clone, Debug)]
pub enum Judge {
    All,
    Only(Vec<String>),
}

impl Judge {
    fn includes(&self, c: &str) -> bool {
        match self {
            Judge::All => true,
            Judge::Only(v) => v.iter().any(|x| x == c),
        }
    }
}

/// Medians of the (cell, contender) pairs present in both reports.
pub fn compare(old: &Report, new: &Report, judge: &Judge) -> Vec<Delta> {
    let medians = |r: &Report| -> BTreeMap<(Key, String), f64> {
        r.cells
            .iter()
            .flat_map(|c| {
                c.ns_per_msg
                    .iter()
                    .map(move |(k, xs)| ((c.key.clone(), k.clone()), median(xs)))
            })
            .filter(|((_, k), m)| judge.includes(k) && m.is_finite() && *m > 0.0)
            .collect()
    };
    let (o, n) = (medians(old), medians(new));
    o.into_iter()
        .filter_map(|((key, contender), old)| {
            let new = *n.get(&(key.clone(), contender.clone()))?;
            Some(Delta {
                key,
                contender,
                old,
                new,
            })
        })
        .collect()
}

/// A Markdown table of every compared pair, regressions marked.
pub fn render(deltas: &[Delta], threshold_pct: f64) -> String {
    let mut s = String::from(
        "| cell | contender | old ns/msg | new ns/msg | change | |\n|---|---|---:|---:|---:|---|\n",
    );
    for d in deltas {
        let flag = if d.is_regression(threshold_pct) {
            "**SLOWER**"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:+.1}% | {flag} |",
            d.key.id(),
            d.contender,
            fmt_ns(d.old),
            fmt_ns(d.new),
            d.change() * 100.0
        );
    }
    s
}

fn load(path: &str) -> Result<Report, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))
}

/// The `compare` subcommand; returns the process exit code.
pub fn main(args: &[String]) -> i32 {
    let mut files = Vec::new();
    let mut threshold = 10.0;
    let mut judge = Judge::Only(vec![SUBJECT.to_string()]);
    let mut picked = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--threshold" => match it.next().and_then(|v| v.parse::<f64>().ok()) {
                Some(t) => threshold = t,
                None => return usage("--threshold needs a number (percent)"),
            },
            "--all" => judge = Judge::All,
            "--contender" => match it.next() {
                Some(c) => picked.push(c.clone()),
                None => return usage("--contender needs a name"),
            },
            f if !f.starts_with("--") => files.push(f.to_string()),
            other => return usage(&format!("unknown option {other}")),
        }
    }
    if !picked.is_empty() {
        judge = Judge::Only(picked);
    }
    let [old, new] = files.as_slice() else {
        return usage("expected OLD.json NEW.json");
    };
    let (old, new) = match (load(old), load(new)) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("compare: {e}");
            return 2;
        }
    };
    let deltas = compare(&old, &new, &judge);
    print!("{}", render(&deltas, threshold));
    let bad = deltas.iter().filter(|d| d.is_regression(threshold)).count();
    if deltas.is_empty() {
        eprintln!("compare: no cell is in both files");
        2
    } else if bad > 0 {
        println!(
            "\n{bad} of {} cells got more than {threshold}% slower (median)",
            deltas.len()
        );
        1
    } else {
        println!(
            "\nno cell got more than {threshold}% slower ({} compared)",
            deltas.len()
        );
        0
    }
}

fn usage(msg: &str) -> i32 {
    eprintln!(
        "compare: {msg}\nusage: gochan-bench compare OLD.json NEW.json [--threshold PCT] [--all] [--contender NAME]..."
    );
    2
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::CellResult;

    fn report(figs: &[(&str, &str, &[f64])]) -> Report {
        let cells = figs
            .iter()
            .map(|(w, c, xs)| CellResult {
                key: Key {
                    workload: w.to_string(),
                    cap: "0".into(),
                    mode: "sync".into(),
                    msg: "8B".into(),
                },
                n: 10,
                ns_per_msg: [(c.to_string(), xs.to_vec())].into_iter().collect(),
            })
            .collect();
        Report {
            cells,
            ..Report::default()
        }
    }

    #[test]
    fn flags_only_cells_more_than_threshold_slower() {
        let old = report(&[
            ("spsc", "gochan", &[100.0, 90.0, 110.0]),
            ("mpsc", "gochan", &[100.0]),
            ("mpmc", "gochan", &[100.0]),
            ("seq", "kanal", &[10.0]),
            ("gone", "gochan", &[1.0]),
        ]);
        let new = report(&[
            ("spsc", "gochan", &[111.0, 300.0, 105.0]), // median 111: +11%
            ("mpsc", "gochan", &[109.0]),               // +9%: noise
            ("mpmc", "gochan", &[50.0]),                // faster
            ("seq", "kanal", &[100.0]),                 // a peer: not judged by default
        ]);
        let d = compare(&old, &new, &Judge::Only(vec!["gochan".into()]));
        assert_eq!(d.len(), 3, "cells missing on one side are skipped");
        let bad: Vec<_> = d
            .iter()
            .filter(|d| d.is_regression(10.0))
            .map(|d| d.key.workload.as_str())
            .collect();
        assert_eq!(bad, ["spsc"]);
        assert!(d.iter().all(|d| !d.is_regression(20.0)));
        let all = compare(&old, &new, &Judge::All);
        assert_eq!(all.iter().filter(|d| d.is_regression(10.0)).count(), 2);
        let t = render(&d, 10.0);
        assert!(
            t.contains("| spsc/0/sync/8B | gochan | 100 | 111 | +11.0% | **SLOWER** |"),
            "{t}"
        );
        assert!(
            t.contains("| mpsc/0/sync/8B | gochan | 100 | 109 | +9.0% |  |"),
            "{t}"
        );
    }

    #[test]
    fn exit_codes() {
        let dir = std::env::temp_dir().join(format!("gochan-bench-cmp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |name: &str, r: &Report| {
            let p = dir.join(name);
            std::fs::write(&p, serde_json::to_string(r).unwrap()).unwrap();
            p.to_string_lossy().into_owned()
        };
        let a = write("a.json", &report(&[("spsc", "gochan", &[100.0])]));
        let b = write("b.json", &report(&[("spsc", "gochan", &[150.0])]));
        assert_eq!(main(&[a.clone(), a.clone()]), 0);
        assert_eq!(main(&[a.clone(), b.clone()]), 1);
        assert_eq!(
            main(&[a.clone(), b.clone(), "--threshold".into(), "60".into()]),
            0
        );
        assert_eq!(main(std::slice::from_ref(&a)), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
