//! A ticker nobody reads leaves the timer service until a receive looks at it again (Go
//! 1.23 keeps channel timers that nobody waits on out of its timer heap: an unread
//! `time.Tick(time.Microsecond)` costs nothing). Its own binary: it reads the
//! process-wide pending-timer count, which other tests' timers would disturb.

use std::time::{Duration, Instant};

use gochan::time::{pending_timers, Ticker};

/// Waits up to 5 s for `pending_timers() == n`.
fn wait_pending(n: usize) -> bool {
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        if pending_timers() == n {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

#[test]
fn an_unread_ticker_pauses_and_a_receive_resumes_it() {
    let base = pending_timers();
    let period = Duration::from_millis(1);
    let t = Ticker::new(period);
    assert_eq!(pending_timers(), base + 1);
    // Tick 1 waits in the channel; tick 2 finds it unreceived: the ticker pauses.
    assert!(wait_pending(base), "an unread ticker stayed in the service");
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(
        pending_timers(),
        base,
        "a paused ticker came back by itself"
    );
    // A receive looks first: it takes the waiting tick 1 (the overdue tick it runs
    // finds tick 1 still there and is dropped, so the ticker may pause again); the next
    // receive's look puts it back in the service, and it ticks on its grid.
    let first = t.c.recv().unwrap();
    let second = t.c.recv().unwrap();
    assert!(second > first);
    assert_eq!(
        second.duration_since(first).as_nanos() % period.as_nanos(),
        0
    );
    // A receiver that keeps up keeps it ticking.
    for _ in 0..3 {
        t.c.recv().unwrap();
    }
    t.stop();
    assert!(wait_pending(base));
    assert!(t.c.recv_timeout(Duration::from_millis(20)).is_err());

    // A select that waits on a paused ticker resumes it too (its registration looks).
    let t = Ticker::new(period);
    assert!(wait_pending(base), "an unread ticker stayed in the service");
    let (_tx, rx) = gochan::bounded::<()>(0);
    for _ in 0..5 {
        gochan::select! {
            recv(rx) -> _ => unreachable!(),
            recv(t.c) -> v => assert!(v.is_ok()),
        }
    }
    // `tick` hands out only the channel: the paused ticker keeps itself alive, and the
    // last receiver going stops it.
    let rx = gochan::tick(period);
    assert!(wait_pending(base));
    let resumed = |rx: &gochan::Receiver<Instant>| rx.recv_timeout(Duration::from_secs(2)).is_ok();
    assert!(
        resumed(&rx),
        "the paused `tick` did not deliver its waiting tick"
    );
    assert!(resumed(&rx), "the paused `tick` was freed or not resumed");
    drop(t);
    drop(rx);
    assert!(wait_pending(base), "a dropped ticker stayed in the service");
}
