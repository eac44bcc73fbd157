//! Workload correctness: every contender of every cell delivers each message exactly once
//! (count, sum and sum of squares of 1..=n), at small n.

use std::time::Instant;

use super::{all_cases, Config};
use crate::harness::{run_checked, Env};

#[test]
fn every_contender_delivers_every_message_exactly_once() {
    let cfg = Config {
        n_slow: 400,
        n_fast: 2_000,
        rounds: 1,
    };
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
        rounds: 1,
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
        ["gochan", "crossbeam", "flume", "kanal"]
    );
    assert_eq!(names("spsc/0/async/8B"), ["gochan", "flume", "kanal"]);
    assert_eq!(
        names("mpsc/unb/async/8B"),
        ["gochan", "tokio", "async-channel", "flume", "kanal"]
    );
    assert_eq!(
        names("mpmc/1000/async/32B"),
        ["gochan", "async-channel", "flume", "kanal"]
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
