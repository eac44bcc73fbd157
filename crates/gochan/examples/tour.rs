//! A tour of every example: each Go pattern from the Go blog's concurrency posts, Go's
//! `context` package and its runtime's channels, run once, under a short heading.
//!
//! `cargo run --release --example tour` takes a couple of seconds. Every section is the
//! `run()` of one example file (included here as a module), so the tour prints exactly
//! what `cargo run --example <name>` prints; see each file's doc comment for the Go code
//! it mirrors and how each Go construct is spelled with gochan (the full table is
//! `docs/go-to-gochan.md`).

use std::time::Instant;

#[path = "after_func.rs"]
mod after_func;
#[path = "channels.rs"]
mod channels;
#[path = "context_timeout.rs"]
mod context_timeout;
#[path = "context_tree.rs"]
mod context_tree;
#[path = "done_channel.rs"]
mod done_channel;
#[path = "errgroup_cancel.rs"]
mod errgroup_cancel;
#[path = "fan_in.rs"]
mod fan_in;
#[path = "generator.rs"]
mod generator;
#[path = "metadata.rs"]
mod metadata;
#[path = "moving_on.rs"]
mod moving_on;
#[path = "pipeline.rs"]
mod pipeline;
#[path = "request_id.rs"]
mod request_id;
#[path = "search.rs"]
mod search;
#[path = "timeout_handler.rs"]
mod timeout_handler;
#[path = "timeout_test.rs"]
mod timeout_test;
#[path = "timing_out.rs"]
mod timing_out;
#[path = "tomb.rs"]
mod tomb;
#[path = "worker_leak.rs"]
mod worker_leak;

type Section = (&'static str, &'static str, fn() -> Vec<String>);

const SECTIONS: &[Section] = &[
    (
        "channels",
        "unbuffered, buffered, close, nil (Go spec, runtime/chan.go)",
        channels::run,
    ),
    (
        "timing_out",
        "select with time.After (Go blog: Timing out, moving on)",
        timing_out::run,
    ),
    (
        "moving_on",
        "first of N replies wins (Go blog: Timing out, moving on)",
        moving_on::run,
    ),
    (
        "pipeline",
        "gen -> sq -> sq (Go blog: Pipelines and cancellation)",
        pipeline::run,
    ),
    (
        "fan_in",
        "fan-out to two sq, merge (Go blog: Pipelines and cancellation)",
        fan_in::run,
    ),
    (
        "done_channel",
        "cancellation by closing done (Go blog: Pipelines and cancellation)",
        done_channel::run,
    ),
    (
        "context_tree",
        "the context source's rules (src/context/context.go)",
        context_tree::run,
    ),
    (
        "metadata",
        "WithValue copy-on-write metadata (grpc metadata)",
        metadata::run,
    ),
    (
        "context_timeout",
        "handle with a 100 ms rpc (context.WithTimeout)",
        context_timeout::run,
    ),
    (
        "errgroup_cancel",
        "f1 fails, f2 is cancelled (x/sync/errgroup's logic)",
        errgroup_cancel::run,
    ),
    (
        "request_id",
        "request-id middleware and logger (context.WithValue)",
        request_id::run,
    ),
    (
        "generator",
        "gen(ctx) that does not leak (context docs)",
        generator::run,
    ),
    (
        "timeout_handler",
        "TimeoutHandler's leaked handlers (net/http)",
        timeout_handler::run,
    ),
    (
        "worker_leak",
        "the unread result channel (context.WithTimeout)",
        worker_leak::run,
    ),
    (
        "timeout_test",
        "TestJob with a 5 s timeout (context.WithTimeout)",
        timeout_test::run,
    ),
    (
        "search",
        "handleSearch / Search / httpDo (Go blog: Context)",
        search::run,
    ),
    (
        "tomb",
        "adapting Tomb to Context (Go blog: Context)",
        tomb::run,
    ),
    (
        "after_func",
        "AfterFunc: cond wait and merged cancel (context docs)",
        after_func::run,
    ),
];

fn main() {
    let start = Instant::now();
    for (name, what, run) in SECTIONS {
        let t = Instant::now();
        println!("== {name}: {what}");
        for line in run() {
            println!("   {line}");
        }
        println!("   ({:?})", t.elapsed());
    }
    println!("== tour finished in {:?}", start.elapsed());
}
