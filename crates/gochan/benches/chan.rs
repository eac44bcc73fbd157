//! Micro benchmarks of gochan alone (the side-by-side comparison with peers lives in the
//! `bench/` harness). `cargo bench -p gochan --bench chan`.

use std::thread;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const N: usize = 10_000;

fn seq(c: &mut Criterion) {
    let mut g = c.benchmark_group("seq");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("bounded_n", |b| {
        let (tx, rx) = gochan::bounded::<usize>(N);
        b.iter(|| {
            for i in 0..N {
                tx.send(i).unwrap();
            }
            for _ in 0..N {
                rx.recv().unwrap();
            }
        })
    });
    g.bench_function("unbounded", |b| {
        let (tx, rx) = gochan::unbounded::<usize>();
        b.iter(|| {
            for i in 0..N {
                tx.send(i).unwrap();
            }
            for _ in 0..N {
                rx.recv().unwrap();
            }
        })
    });
    g.finish();
}

fn spsc(c: &mut Criterion) {
    let mut g = c.benchmark_group("spsc");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(20);
    for cap in [Some(0), Some(1), Some(1000), None] {
        let name = cap.map_or("unbounded".to_string(), |c| c.to_string());
        g.bench_with_input(BenchmarkId::from_parameter(name), &cap, |b, &cap| {
            b.iter(|| {
                let (tx, rx) = match cap {
                    Some(c) => gochan::bounded::<usize>(c),
                    None => gochan::unbounded(),
                };
                let h = thread::spawn(move || {
                    for i in 0..N {
                        tx.send(i).unwrap();
                    }
                });
                for _ in 0..N {
                    rx.recv().unwrap();
                }
                h.join().unwrap();
            })
        });
    }
    g.finish();
}

fn select_rx(c: &mut Criterion) {
    let mut g = c.benchmark_group("select_rx");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(20);
    for cap in [0usize, 1, 1000] {
        g.bench_with_input(BenchmarkId::from_parameter(cap), &cap, |b, &cap| {
            b.iter(|| {
                let chans: Vec<_> = (0..4).map(|_| gochan::bounded::<usize>(cap)).collect();
                let handles: Vec<_> = chans
                    .iter()
                    .map(|(tx, _)| {
                        let tx = tx.clone();
                        thread::spawn(move || {
                            for i in 0..N / 4 {
                                tx.send(i).unwrap();
                            }
                        })
                    })
                    .collect();
                let (r0, r1, r2, r3) = (&chans[0].1, &chans[1].1, &chans[2].1, &chans[3].1);
                for _ in 0..N {
                    gochan::select! {
                        recv(r0) -> v => { v.unwrap(); }
                        recv(r1) -> v => { v.unwrap(); }
                        recv(r2) -> v => { v.unwrap(); }
                        recv(r3) -> v => { v.unwrap(); }
                    }
                }
                for h in handles {
                    h.join().unwrap();
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, seq, spsc, select_rx);
criterion_main!(benches);
