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
        ids.push(schedule(
            now + Duration::from_millis(10 * i),
            Box::new(move |_| {
                h.lock().push(i);
                None
            }),
        ));
    }
    let h = hits.clone();
    let cancelled = schedule(
        now + Duration::from_millis(15),
        Box::new(move |_| {
            h.lock().push(99);
            None
        }),
    );
    assert!(cancel(cancelled));
    assert!(!cancel(cancelled));
    thread::sleep(Duration::from_millis(80));
    assert_eq!(*hits.lock(), [1, 2, 3]);
}

#[test]
fn periodic_until_cancelled() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let id = schedule(
        Instant::now(),
        Box::new(move |t| {
            n2.fetch_add(1, Ordering::SeqCst);
            Some(t + Duration::from_millis(2))
        }),
    );
    while n.load(Ordering::SeqCst) < 3 {
        thread::sleep(Duration::from_millis(1));
    }
    cancel(id);
    thread::sleep(Duration::from_millis(10));
    let seen = n.load(Ordering::SeqCst);
    thread::sleep(Duration::from_millis(20));
    assert_eq!(n.load(Ordering::SeqCst), seen);
}

#[test]
fn a_stale_id_never_cancels_a_later_timer_even_after_the_slab_shrinks() {
    let far = Instant::now() + Duration::from_secs(3600);
    let burst: Vec<TimerId> = (0..5000)
        .map(|_| schedule(far, Box::new(|_| None)))
        .collect();
    for id in &burst {
        assert!(cancel(*id));
    }
    // The burst's slots are free (and the slab's tail is gone): later timers may reuse
    // the same slot numbers, but never the same sequence numbers.
    let fresh: Vec<TimerId> = (0..100)
        .map(|_| schedule(far, Box::new(|_| None)))
        .collect();
    for id in &burst {
        assert!(!cancel(*id), "a stale id cancelled something");
    }
    for id in &fresh {
        assert!(cancel(*id), "a fresh timer was lost");
    }
    // Tombstones naming dropped slots are swept without trouble, and timers still fire.
    assert_still_fires(Instant::now());
}

/// Schedules a timer at `at` and waits (up to 5 s) for the service to run it.
fn assert_still_fires(at: Instant) {
    let hit = Arc::new(AtomicUsize::new(0));
    let h = hit.clone();
    schedule(
        at,
        Box::new(move |_| {
            h.fetch_add(1, Ordering::SeqCst);
            None
        }),
    );
    let t = Instant::now();
    while hit.load(Ordering::SeqCst) == 0 {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "the timer service stopped firing"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

fn noop() -> Action {
    Action::Boxed(Box::new(|_| None))
}

/// The slab gives its tail back once the timers there are gone, also when a
/// long-lived timer sat at its end while the rest were cancelled (the compaction
/// threshold is capped, and freed slots are reused lowest first).
#[test]
fn the_slab_shrinks_after_a_burst_even_behind_a_long_lived_timer() {
    let mut st = State::new();
    let far = Instant::now() + Duration::from_secs(3600);
    let ids: Vec<TimerId> = (0..10_000).map(|_| st.insert(far, noop()).0).collect();
    let (last, rest) = ids.split_last().unwrap();
    for id in rest {
        assert!(st.cancel(*id).0);
    }
    assert_eq!(st.slots.len(), 10_000, "the live last slot pins the tail");
    assert!(st.cancel(*last).0);
    assert!(st.slots.len() <= 1024, "slab kept {} slots", st.slots.len());
    assert_eq!(st.live, 0);
    // Freed slots are reused lowest first: new timers pack at the front.
    let (a, _) = st.insert(far, noop());
    let (b, _) = st.insert(far, noop());
    assert_eq!((a.slot, b.slot), (0, 1));
    // Stale ids (same slot numbers, older sequence numbers) cancel nothing.
    assert!(!st.cancel(ids[0]).0 && !st.cancel(ids[1]).0);
    assert_eq!(st.live, 2);
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
    schedule(
        Instant::now(),
        Box::new(move |_| {
            let _keep = &bomb;
            None
        }),
    );
    assert_still_fires(Instant::now() + Duration::from_millis(20));
}
