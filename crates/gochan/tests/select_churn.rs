//! A non-blocking select under heavy churn is bounded: the validated pass (re-run while
//! any channel's change counter moves) gives up after a few tries and locks every
//! channel in address order, as Go's `selectgo` does. Nothing here is ready for the
//! select except what the churners briefly put in, so a validated pass alone could retry
//! for as long as the churn lasts.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn nonblocking_select_under_churn_is_bounded() {
    let stop = Arc::new(AtomicBool::new(false));
    let mut churners = Vec::new();
    let mut rxs = Vec::new();
    for _ in 0..2 {
        // A producer and a consumer bounce values through `c` as fast as they can: its
        // counter moves all the time, and it is rarely non-empty.
        let (tx, rx) = gochan::bounded::<u64>(1);
        let (s1, s2) = (stop.clone(), stop.clone());
        let rx2 = rx.clone();
        churners.push(std::thread::spawn(move || {
            while !s1.load(Ordering::Relaxed) {
                let _ = tx.try_send(1);
            }
        }));
        churners.push(std::thread::spawn(move || {
            while !s2.load(Ordering::Relaxed) {
                let _ = rx2.try_recv();
            }
        }));
        rxs.push(rx);
    }
    let (_idle_tx, idle) = gochan::bounded::<u64>(0);
    let (mut taken, mut defaults) = (0u32, 0u32);
    let mut worst = Duration::ZERO;
    let start = Instant::now();
    for _ in 0..5_000 {
        let t = Instant::now();
        gochan::select! {
            recv(rxs[0]) -> v => { v.unwrap(); taken += 1; },
            recv(rxs[1]) -> v => { v.unwrap(); taken += 1; },
            recv(idle) -> _ => unreachable!(),
            default => defaults += 1,
        }
        worst = worst.max(t.elapsed());
    }
    stop.store(true, Ordering::Relaxed);
    for c in churners {
        c.join().unwrap();
    }
    println!(
        "5000 selects in {:?}: {taken} values, {defaults} defaults, worst {worst:?}",
        start.elapsed()
    );
    assert_eq!(taken + defaults, 5_000);
    // Generous for a shared 2-core machine with 4 busy threads: a pass takes microseconds;
    // what this rules out is a select spinning for as long as the churn lasts.
    assert!(worst < Duration::from_secs(2), "a select took {worst:?}");
}
