//! Workload correctness: every contender of every cell delivers each message exactly once
//! (count, sum and sum of squares of 1..=n), at small n.

use std::time::Instant;

use super::{all_cases, Config};
use crate::harness::{run_checked, Env};

#[test]
fn every_contender_delivers_every_message_exactly_once() {
    let cfg = Config::tiny();
    let env = Env::new();
    let cases = all_cases(&cfg, None);
    assert!(cases.len() > 40, "{} cells", cases.len());
    let t = Instant::now();
    for case in &cases {
        for e in &case.entries {
            // An odd count too, so uneven shares between senders are exercised.
            for n in [case.n, case.n / 2 + 3] {
                run_checked(&env, case, e, n);
            }
        }
    }
    eprintln!(
        "{} cells checked in {:.1} s",
        cases.len(),
        t.elapsed().as_secs_f64()
    );
}

#[test]
fn contenders_per_workload() {
    let cfg = Config {
        n_slow: 4,
        n_fast: 4,
        ..Config::tiny()
    };
    let names = |id: &str| -> Vec<&'static str> {
        let cases = all_cases(&cfg, Some(id));
        assert_eq!(cases.len(), 1, "{id}");
        cases[0].entries.iter().map(|e| e.contender).collect()
    };
    assert_eq!(
        names("spsc/0/sync/8B"),
        ["gochan", "crossbeam", "flume", "kanal", "std"]
    );
    assert_eq!(
        names("mpmc/1/sync/8B"),
        ["gochan", "crossbeam", "flume", "kanal", "crossfire"]
    );
    assert_eq!(
        names("spsc/1/sync/8B"),
        ["gochan", "crossbeam", "flume", "kanal", "crossfire", "std"]
    );
    assert_eq!(names("spsc/0/async/8B"), ["gochan", "flume", "kanal"]);
    assert_eq!(
        names("mpsc/unb/async/8B"),
        [
            "gochan",
            "tokio",
            "async-channel",
            "flume",
            "kanal",
            "crossfire"
        ]
    );
    assert_eq!(
        names("mpmc/1000/async/32B"),
        ["gochan", "async-channel", "flume", "kanal", "crossfire"]
    );
    assert_eq!(names("select_rx/0/async/8B"), ["gochan"]);
    assert_eq!(names("select_rx/1/async/8B"), ["gochan", "tokio"]);
    assert_eq!(names("select_both/1000/sync/8B"), ["gochan", "crossbeam"]);
    assert_eq!(
        names("select_rx/0/sync/8B"),
        ["gochan", "crossbeam", "flume"]
    );
    assert!(
        all_cases(&cfg, Some("seq/0/")).is_empty() && all_cases(&cfg, Some("seq/1/")).is_empty()
    );
}

#[test]
fn crossfire_runs_every_plain_cell_but_cap_0() {
    let cfg = Config {
        n_slow: 4,
        n_fast: 4,
        ..Config::tiny()
    };
    let plain = ["seq", "spsc", "mpsc", "mpmc", "mpmc_16x16", "mpmc_64x64"];
    let mut seen = 0;
    for case in all_cases(&cfg, None) {
        let k = &case.key;
        if !plain.contains(&k.workload.as_str()) {
            assert!(
                case.entries.iter().all(|e| e.contender != "crossfire"),
                "{}",
                k.id()
            );
            continue;
        }
        let has = case.entries.iter().any(|e| e.contender == "crossfire");
        // crossfire's bounded(0) is a cap-1 channel: not a rendezvous, so not in cap 0;
        // it sits out the sync crowd rows at cap 1 (`sync::crossfire_sits_out`).
        let sits_out = k.workload.starts_with("mpmc_") && k.cap == "1" && k.mode == "sync";
        assert_eq!(has, k.cap != "0" && !sits_out, "{}", k.id());
        seen += usize::from(has);
    }
    // sync and async: seq 2 caps, spsc/mpsc/mpmc 3 caps, 4 message-size rows, 6 contention
    // rows; minus the two sync crowd rows at cap 1.
    assert_eq!(seen, 2 * (2 + 3 * 3 + 4 + 6) - 2);
}

#[test]
fn contention_rows() {
    let cfg = Config {
        n_slow: 4,
        n_fast: 4,
        ..Config::tiny()
    };
    let rows = all_cases(&cfg, Some("mpmc_"));
    let ids: Vec<String> = rows.iter().map(|c| c.key.id()).collect();
    let mut want = Vec::new();
    for mode in ["sync", "async"] {
        for parties in ["16x16", "64x64"] {
            for cap in ["1", "1000", "unb"] {
                want.push(format!("mpmc_{parties}/{cap}/{mode}/8B"));
            }
        }
    }
    assert_eq!(ids, want);
    for case in &rows {
        let names: Vec<&str> = case.entries.iter().map(|e| e.contender).collect();
        // Every contender that serves mpmc; std and tokio are MPSC only.
        let want: &[&str] = if case.key.mode == "sync" && case.key.cap == "1" {
            &["gochan", "crossbeam", "flume", "kanal"] // crossfire sits out
        } else if case.key.mode == "sync" {
            &["gochan", "crossbeam", "flume", "kanal", "crossfire"]
        } else {
            &["gochan", "async-channel", "flume", "kanal", "crossfire"]
        };
        assert_eq!(names, want, "{}", case.key.id());
        // Same sizes as the other rows at the same capacity.
        let n = if case.key.cap == "1" {
            cfg.n_slow
        } else {
            cfg.n_fast
        };
        assert_eq!(case.n, n, "{}", case.key.id());
    }
}

#[test]
fn measurement_cells_report_sane_figures() {
    let cfg = Config::tiny();
    let env = Env::new();
    let mut seen = 0;
    for case in all_cases(&cfg, None) {
        let unit = crate::report::unit(&case.key).to_string();
        if unit == "ns/msg" {
            continue;
        }
        for e in &case.entries {
            let fig = run_checked(&env, &case, e, case.n);
            let id = format!("{} {}", case.key.id(), e.contender);
            assert!(fig.is_finite() && fig > 0.0, "{id}: {fig}");
            if unit.starts_with("B/") {
                // A node or a timer is at least a pointer and far below a page.
                assert!((8.0..4096.0).contains(&fig), "{id}: {fig} {unit}");
            }
            seen += 1;
        }
    }
    assert!(seen >= 35, "{seen} measurement entries");
}

#[test]
fn context_timer_and_merge_contenders() {
    let cfg = Config::tiny();
    let names = |id: &str| -> Vec<&'static str> {
        let cases = all_cases(&cfg, Some(id));
        assert_eq!(cases.len(), 1, "{id}");
        cases[0].entries.iter().map(|e| e.contender).collect()
    };
    assert_eq!(names("ctx_child/create+cancel/"), ["gochan", "tokio-util"]);
    assert_eq!(names("ctx_timeout/400 live/"), ["gochan"]);
    assert_eq!(names("ctx_tree/depth 1000/"), ["gochan", "tokio-util"]);
    assert_eq!(names("ctx_value/depth 100/"), ["gochan"]);
    assert_eq!(
        names("ctx_fanout/wake n=500/async/ms"),
        ["gochan", "tokio-util"]
    );
    assert_eq!(names("ctx_bytes/cancel child/"), ["gochan", "tokio-util"]);
    assert_eq!(names("ctx_bytes/timeout child+done/"), ["gochan"]);
    assert_eq!(names("timer/new+stop/"), ["gochan", "tokio"]);
    assert_eq!(names("timer_pending/n=2000/"), ["gochan", "tokio"]);
    assert_eq!(names("merge/0/sync/"), ["gochan", "crossbeam"]);
    assert_eq!(names("merge/1000/async/"), ["gochan", "async-channel"]);
}
