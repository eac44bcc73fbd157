//! Unit tests of the timer service (`service.rs`).
use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn fires_in_order_and_cancel_prevents() {
    let hits = Arc::new(Mutex::new(Vec::new()));
    let now = Instant::now();
    let mut ids = Vec::new();
    for i in [3u64, 1, 2] {
        let h = hits.clone();
        ids.push(schedule(now + Duration::from_millis(10 * i), move |_| {
            h.lock().push(i);
            None
        }));
    }
    let h = hits.clone();
    let cancelled = schedule(now + Duration::from_millis(15), move |_| {
        h.lock().push(99);
        None
    });
    assert!(cancelled.cancel());
    assert!(!cancelled.cancel());
    thread::sleep(Duration::from_millis(80));
    assert_eq!(*hits.lock(), [1, 2, 3]);
}

#[test]
fn periodic_until_cancelled() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let id = schedule(Instant::now(), move |t| {
        n2.fetch_add(1, Ordering::SeqCst);
        Some(t + Duration::from_millis(2))
    });
    while n.load(Ordering::SeqCst) < 3 {
        thread::sleep(Duration::from_millis(1));
    }
    id.cancel();
    thread::sleep(Duration::from_millis(10));
    let seen = n.load(Ordering::SeqCst);
    thread::sleep(Duration::from_millis(20));
    assert_eq!(n.load(Ordering::SeqCst), seen);
}

#[test]
fn cancel_is_true_once_and_false_after_firing() {
    let far = Instant::now() + Duration::from_secs(3600);
    let hs: Vec<Handle> = (0..5000).map(|_| schedule(far, |_| None)).collect();
    let before = pending();
    for h in &hs {
        assert!(h.cancel());
    }
    for h in &hs {
        assert!(!h.cancel(), "cancelled twice");
    }
    assert!(
        pending() + 5000 <= before + 100,
        "cancelled timers still pending"
    );
    let hit = Arc::new(AtomicUsize::new(0));
    let h2 = hit.clone();
    let h = schedule(Instant::now(), move |_| {
        h2.fetch_add(1, Ordering::SeqCst);
        None
    });
    wait_for(&hit);
    assert!(!h.cancel(), "a fired timer was cancelled");
}

/// Waits (up to 5 s) until `hit` is non-zero.
fn wait_for(hit: &AtomicUsize) {
    let t = Instant::now();
    while hit.load(Ordering::SeqCst) == 0 {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "the timer service stopped firing"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

/// Schedules a timer at `at` and waits (up to 5 s) for the service to run it.
fn assert_still_fires(at: Instant) {
    let hit = Arc::new(AtomicUsize::new(0));
    let h = hit.clone();
    schedule(at, move |_| {
        h.fetch_add(1, Ordering::SeqCst);
        None
    });
    wait_for(&hit);
}

/// A callback whose captures panic when dropped must not take the service down.
#[test]
fn a_panicking_drop_of_a_callback_does_not_kill_the_service() {
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("boom in drop");
        }
    }
    let bomb = Bomb;
    schedule(Instant::now(), move |_| {
        let _keep = &bomb;
        None
    });
    assert_still_fires(Instant::now() + Duration::from_millis(20));
}
