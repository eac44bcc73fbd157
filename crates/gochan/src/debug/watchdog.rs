//! A thread that logs parties blocked too long, through `tracing` (feature `tracing`).

use std::collections::HashSet;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Logs every party blocked in a gochan operation for longer than `threshold`, once per
/// wait, as a `WARN` event of target `gochan::debug` (fields `op`, `location`, `waited`,
/// `party`; the message is the party's [`Blocked`](super::Blocked) entry). Checks
/// `threshold / 4` apart (between 5 ms and 1 s); stops when the returned handle drops.
///
/// The watchdog's own thread waits on a `std` channel, so it never lists itself.
///
/// ```
/// let dog = gochan::debug::watchdog(std::time::Duration::from_secs(10));
/// drop(dog); // stops and joins its thread
/// ```
pub fn watchdog(threshold: Duration) -> Watchdog {
    let (stop, stopped) = mpsc::channel::<()>();
    let every = (threshold / 4).clamp(Duration::from_millis(5), Duration::from_secs(1));
    let thread = std::thread::Builder::new()
        .name("gochan-watchdog".into())
        .spawn(move || {
            super::threads::internal_thread();
            let mut reported: HashSet<(usize, Instant)> = HashSet::new();
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                let blocked = super::blocked();
                let now = Instant::now();
                reported.retain(|k| blocked.iter().any(|b| (b.key, b.since) == *k));
                for b in &blocked {
                    let waited = now.saturating_duration_since(b.since);
                    if waited >= threshold && reported.insert((b.key, b.since)) {
                        tracing::warn!(
                            target: "gochan::debug",
                            op = b.op.go_name(),
                            location = %b.location,
                            waited = ?waited,
                            party = ?b.party,
                            "blocked longer than {threshold:?}: {b}"
                        );
                    }
                }
            }
        })
        .expect("spawn the gochan watchdog thread");
    Watchdog {
        stop: Some(stop),
        thread: Some(thread),
    }
}

/// The running watchdog of [`watchdog`]; dropping it stops the thread.
///
/// Keep it alive as long as blocked parties should be reported, e.g. for the whole of
/// `main`, after installing a `tracing` subscriber.
///
/// ```
/// use std::time::Duration;
/// let _dog: gochan::debug::Watchdog = gochan::debug::watchdog(Duration::from_secs(5));
/// // ... the program runs; parties blocked for 5 s or more are logged once each ...
/// ```
#[derive(Debug)]
#[must_use = "the watchdog stops when dropped"]
pub struct Watchdog {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        drop(self.stop.take()); // disconnects: the thread's wait ends
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
