//! Micro benchmarks of `gochan::context` (Go's `context/benchmark_test.go` workloads).
//! `cargo bench -p gochan --bench context`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use gochan::context;

fn create(c: &mut Criterion) {
    let (parent, _cancel) = context::with_cancel(&context::background());
    c.bench_function("child_create_cancel", |b| {
        b.iter(|| {
            let (child, cancel) = context::with_cancel(&parent);
            cancel.cancel();
            child
        })
    });
    c.bench_function("child_create_drop", |b| {
        b.iter(|| {
            let (child, cancel) = context::with_cancel(&parent);
            drop(child);
            std::mem::drop(cancel);
        })
    });
    c.bench_function("with_timeout_cancel", |b| {
        b.iter(|| {
            let (child, cancel) = context::with_timeout(&parent, Duration::from_secs(3600));
            drop(cancel);
            child
        })
    });
}

fn check(c: &mut Criterion) {
    let (ctx, _cancel) = context::with_cancel(&context::background());
    c.bench_function("err_live", |b| b.iter(|| ctx.err()));
    for depth in [10usize, 100] {
        let mut ctx = context::with_value(&context::background(), 0u64);
        for i in 0..depth {
            ctx = context::with_value(&ctx, i as u32);
        }
        c.bench_function(&format!("value_depth_{depth}"), |b| {
            b.iter(|| ctx.value::<u64>())
        });
    }
}

criterion_group!(benches, create, check);
criterion_main!(benches);
