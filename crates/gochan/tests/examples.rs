//! Runs every example's logic and checks what it prints, so a broken example fails CI.
//!
//! Each example file has a `run() -> Vec<String>` (the lines its `main` prints); this test
//! crate includes the files as modules. Lines that depend on timing (thread counts,
//! elapsed times, a documented race) are checked loosely; everything else exactly.

#[path = "../examples/after_func.rs"]
mod after_func;
#[path = "../examples/channels.rs"]
mod channels;
#[path = "../examples/context_timeout.rs"]
mod context_timeout;
#[path = "../examples/context_tree.rs"]
mod context_tree;
#[path = "../examples/done_channel.rs"]
mod done_channel;
#[path = "../examples/errgroup_cancel.rs"]
mod errgroup_cancel;
#[path = "../examples/fan_in.rs"]
mod fan_in;
#[path = "../examples/generator.rs"]
mod generator;
#[path = "../examples/metadata.rs"]
mod metadata;
#[path = "../examples/moving_on.rs"]
mod moving_on;
#[path = "../examples/pipeline.rs"]
mod pipeline;
#[path = "../examples/request_id.rs"]
mod request_id;
#[path = "../examples/search.rs"]
mod search;
#[path = "../examples/stuck.rs"]
mod stuck;
#[path = "../examples/timeout_handler.rs"]
mod timeout_handler;
#[path = "../examples/timeout_test.rs"]
mod timeout_test;
#[path = "../examples/timing_out.rs"]
mod timing_out;
#[path = "../examples/tomb.rs"]
mod tomb;
#[path = "../examples/worker_leak.rs"]
mod worker_leak;

fn lines(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn timing_out_reads_then_times_out() {
    assert_eq!(
        timing_out::run(),
        lines(&[
            "a read from ch has occurred: ping",
            "the read from ch has timed out"
        ])
    );
}

#[test]
fn moving_on_takes_the_fastest_replica() {
    assert_eq!(
        moving_on::run(),
        lines(&[
            "Query: replica-b answered first: 1 row for \"SELECT 1\"",
            "pipeline::first: replica-b answered first: 1 row for \"SELECT 1\"",
            "pipeline::first: slower queries cancelled: 2",
        ])
    );
}

#[test]
fn pipeline_prints_16_then_81() {
    assert_eq!(pipeline::run(), lines(&["16", "81"]));
}

#[test]
fn fan_in_prints_4_and_9_in_either_order() {
    let mut got = fan_in::run();
    got.sort();
    assert_eq!(got, lines(&["4", "9"]));
}

#[test]
fn done_channel_prints_4_or_9_and_every_stage_returns() {
    // run() itself asserts that every goroutine returned once done was closed.
    let got = done_channel::run();
    assert!(got == ["4"] || got == ["9"], "{got:?}");
}

#[test]
fn context_timeout_prints_the_go_programs_lines() {
    let got = context_timeout::run();
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(
        got[0],
        "timeout: 50 ms, context exit: context deadline exceeded"
    );
    // 100 ms deadline against a 100 ms rpc: a tie, in Go as here.
    assert!(
        got[1] == "timeout: 100 ms, context exit: context deadline exceeded"
            || got[1] == "result: rpc done, err: <nil>",
        "{got:?}"
    );
    assert_eq!(got[2], "result: rpc done, err: <nil>");
    assert_eq!(got[3], "result: rpc done, err: <nil>");
}

#[test]
fn errgroup_cancel_f1_fails_f2_is_cancelled() {
    assert_eq!(
        errgroup_cancel::run(),
        lines(&[
            "f1 err in 1ms",
            "f2: context canceled",
            "-- with errgroup: g.Wait() returns the first error --",
            "f1 err in 1ms",
        ])
    );
}

#[test]
fn request_id_travels_in_the_context() {
    assert_eq!(
        request_id::run(),
        lines(&[
            "[request_id=abc-123] handling /users",
            "[request_id=abc-123] db: SELECT * FROM users",
            "response: hello from /users (request abc-123)",
            "[request_id=gen-0001] handling /orders",
            "[request_id=gen-0001] db: SELECT * FROM users",
            "response: hello from /orders (request gen-0001)",
            "[request_id=gen-0002] handling /health",
            "[request_id=gen-0002] db: SELECT * FROM users",
            "response: hello from /health (request gen-0002)",
        ])
    );
}

#[test]
fn generator_prints_1_to_5_and_stops() {
    // run() asserts that the generator thread returned.
    assert_eq!(generator::run(), lines(&["1", "2", "3", "4", "5"]));
}

#[test]
fn stuck_worker_is_in_the_dump() {
    let dump = stuck::run();
    // Other tests of this binary may be blocked at the same moment: look for ours.
    assert!(dump.contains(" blocked in gochan operations:"), "{dump}");
    assert!(
        dump.contains("thread \"service-worker\" [chan receive, "),
        "{dump}"
    );
    assert!(dump.contains("stuck.rs:32:"), "{dump}");
    assert!(dump.contains("(cap 0, len 0)"), "{dump}");
}

#[test]
fn worker_leak_leaves_no_blocked_sender() {
    let got = worker_leak::run();
    assert_eq!(got.len(), 7, "{got:?}");
    assert!(got[0].starts_with("threads before the workers: "));
    assert!(got[1].starts_with("threads while the workers wait: "));
    for (line, at) in got[2..5].iter().zip(["200ms", "400ms", "600ms"]) {
        assert!(line.starts_with(&format!("threads after {at}: ")), "{line}");
    }
    assert!(got[5].starts_with("workers that timed out: "), "{}", got[5]);
    assert_eq!(got[6], "inner workers still blocked (Go: 50, forever): 0");
}

#[test]
fn metadata_is_copy_on_write() {
    assert_eq!(
        metadata::run(),
        lines(&[
            "ctx1: map[authority:[svc] k1:[v1]]",
            "ctx2: map[authority:[svc] k1:[v1 v1b] k2:[v2]]",
            "ctx3 (from ctx1, on another thread): map[authority:[svc] k1:[v1] k3:[v3]]",
            "ctx1 again (unchanged): map[authority:[svc] k1:[v1]]",
            "map in ctx1: map[k1:v1]",
            "map in ctx2: map[k1:v1 k2:v2]",
        ])
    );
}

#[test]
fn after_func_examples_print_go_docs_output() {
    assert_eq!(
        after_func::run(),
        lines(&[
            "context deadline exceeded",
            "context deadline exceeded",
            "context deadline exceeded",
            "context deadline exceeded",
            "ctx2 canceled",
        ])
    );
}

#[test]
fn search_honours_timeout_user_ip_and_cancellation() {
    // Mask the elapsed time: "N results in <elapsed>; timeout T".
    let got: Vec<String> = search::run()
        .into_iter()
        .map(|l| match (l.find(" results in "), l.find("; timeout ")) {
            (Some(a), Some(b)) => format!("{} results in _{}", &l[..a], &l[b..]),
            _ => l,
        })
        .collect();
    let mut want = vec!["GET /search?q=golang&timeout=1s from 192.0.2.1:1234".to_string()];
    want.push("  200 6 results in _; timeout 1s".to_string());
    for b in ["web", "images", "news"] {
        for i in 1..=2 {
            want.push(format!(
                "  golang - {b} hit {i} (for 192.0.2.1) - https://{b}.example/golang/{i}"
            ));
        }
    }
    want.extend(lines(&[
        "GET /search?q=golang&timeout=80ms from 192.0.2.1:1234",
        "  200 0 results in _; timeout 80ms",
        "  search error: context deadline exceeded",
        "  backend calls cancelled by the deadline: 2",
        "GET /search?q=gochan from [2001:db8::7]:443",
        "  200 6 results in _; timeout 0s",
    ]));
    for b in ["web", "images", "news"] {
        for i in 1..=2 {
            want.push(format!(
                "  gochan - {b} hit {i} (for 2001:db8::7) - https://{b}.example/gochan/{i}"
            ));
        }
    }
    want.extend(lines(&[
        "GET /search?timeout=1s from 192.0.2.1:1234",
        "  400 no query",
        "GET /search?q=golang from bogus",
        "  400 userip: \"bogus\" is not IP:port",
    ]));
    assert_eq!(got, want);
}

#[test]
fn timeout_test_logs_deadline_exceeded() {
    let got = timeout_test::run();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0], "context deadline exceeded");
    assert!(got[1].starts_with("elapsed: "), "{got:?}");
}

#[test]
fn timeout_handler_leaks_only_handlers_that_ignore_the_context() {
    assert_eq!(
        timeout_handler::run(),
        lines(&[
            "sleeping handler: 10 requests, all answered 503 \"xxx\": true",
            "sleeping handler: handler threads still running: 10",
            "ctx-aware handler: 10 requests, all answered 503 \"xxx\": true",
            "ctx-aware handler: handler threads still running: 0",
        ])
    );
}

#[test]
fn channels_behave_like_go() {
    assert_eq!(
        channels::run(),
        lines(&[
            "unbuffered: got \"hello\"; the send waited for the receiver: true",
            "buffered: len 2 cap Some(2); a third send would block: true",
            "buffered: received 1 then 2",
            "after close: Ok(3), then Err(RecvError)",
            "close woke 3 blocked receivers with Err(RecvError)",
            "blocked send on a closed channel: Err(42) (Go: panic: send on closed channel)",
            "second close: false (Go: panic: close of closed channel)",
            "nil channel: select picks default; recv_timeout(10ms) -> Err(Timeout)",
            "send with no receiver left: Err(7)",
        ])
    );
}

#[test]
fn context_tree_follows_the_source_rules() {
    assert_eq!(
        context_tree::run(),
        lines(&[
            "context.Background: err <nil>, deadline None, done ready false; context.TODO",
            "context.Background.WithCancel.WithCancel.WithCancel: Done() is the same channel each call: true",
            "cancel(child): parent <nil>, child context canceled, grandchild context canceled",
            "cancel(parent): parent context canceled, sibling context canceled",
            "child of an already cancelled parent: context canceled",
            "1000 children: 1000 linked, 0 after they were cancelled",
            "a later deadline under an earlier one keeps the earlier: true",
            "deadline already passed: context deadline exceeded at once, still context deadline exceeded after cancel()",
            "after the deadline: d1 context deadline exceeded, d2 context deadline exceeded",
            "slowOperationWithTimeout: fast op Ok(\"result\"), slow op Err(\"context deadline exceeded\")",
            "values: a sees Some(\"alice\"), b sees Some(\"bob\") (through a cancel node), background sees None",
            "without_cancel: err <nil>, still sees Some(\"bob\")",
            "with_cancel_cause: err context canceled, cause db is down",
        ])
    );
}

#[test]
fn tomb_kill_and_parent_cancel_end_the_context() {
    let mut want = Vec::new();
    for name in ["tomb.go", "cancel_when"] {
        want.extend([
            format!("{name}: worker 1 stopped: context canceled"),
            format!("{name}: worker 2 stopped: context canceled"),
            format!("{name}: tomb dead: shutting down"),
            format!("{name}: parent cancelled: context canceled"),
        ]);
    }
    assert_eq!(tomb::run(), want);
}

/// `debug::never_wakes` over every example (the Go programs' twins): a sampler thread
/// collects every party reported while the examples run (here and in the other tests of
/// this binary, in parallel); at the end each must still be blocked, since a party that
/// was named and then woke would be a false report (issue "leak diagnostics").
#[cfg(feature = "debug-handles")]
#[test]
fn never_wakes_names_no_party_that_later_wakes() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut seen: Vec<gochan::debug::Blocked> = Vec::new();
            let mut passes = 0;
            while !stop.load(Ordering::Relaxed) {
                for b in gochan::debug::never_wakes() {
                    if !seen
                        .iter()
                        .any(|s| s.since == b.since && s.party == b.party)
                    {
                        seen.push(b);
                    }
                }
                passes += 1;
                std::thread::sleep(Duration::from_millis(2));
            }
            (seen, passes)
        })
    };
    let mut lines = 0;
    for run in [
        after_func::run,
        channels::run,
        context_timeout::run,
        context_tree::run,
        done_channel::run,
        errgroup_cancel::run,
        fan_in::run,
        generator::run,
        metadata::run,
        moving_on::run,
        pipeline::run,
        request_id::run,
        search::run,
        timeout_handler::run,
        timeout_test::run,
        timing_out::run,
        tomb::run,
        worker_leak::run,
    ] {
        lines += run().len();
    }
    lines += stuck::run().lines().count();
    stop.store(true, Ordering::Relaxed);
    let (seen, passes) = sampler.join().unwrap();
    assert!(lines > 0 && passes > 10, "the sampler ran {passes} passes");
    let now = gochan::debug::blocked();
    for b in &seen {
        assert!(
            now.iter().any(|n| n.since == b.since && n.party == b.party),
            "reported as never waking, but it woke:\n{b}"
        );
    }
}
