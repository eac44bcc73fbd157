//! Helpers shared by the channel/select/async test files: a hang watchdog, polling,
//! queue-length probes (through `Debug`), and a drop-counting value type.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use gochan::{Receiver, Sender};

/// Runs `f` on its own thread; fails the test if it does not finish within 30 s.
pub fn watchdog<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    const LIMIT: Duration = Duration::from_secs(30);
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let h = thread::spawn(move || {
        let r = f();
        let _ = done_tx.send(());
        r
    });
    match done_rx.recv_timeout(LIMIT) {
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => match h.join() {
            Ok(r) => r,
            Err(p) => std::panic::resume_unwind(p),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("hang: test body still running after {LIMIT:?}")
        }
    }
}

/// Runs `f` on a helper thread; `None` if it does not finish within `secs` seconds (so a
/// hang fails the test instead of hanging it). A panic in `f` is re-raised.
pub fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = gochan::bounded(1);
    thread::spawn(move || {
        let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(Ok(v)) => Some(v),
        Ok(Err(p)) => std::panic::resume_unwind(p),
        Err(_) => None,
    }
}

/// Polls `cond` until it holds; fails after 10 s.
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting until {what}"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

/// Reads a counter out of the channel's `Debug` output (the only window on queue lengths).
pub fn debug_count(dbg: &str, field: &str) -> usize {
    let key = format!("{field}: ");
    let i = dbg
        .find(&key)
        .unwrap_or_else(|| panic!("no `{field}` in Debug output {dbg}"));
    dbg[i + key.len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

pub fn waiting_senders<T>(tx: &Sender<T>) -> usize {
    debug_count(&format!("{tx:?}"), "waiting_senders")
}

pub fn waiting_receivers<T>(rx: &Receiver<T>) -> usize {
    debug_count(&format!("{rx:?}"), "waiting_receivers")
}

/// Counts drops per id, to prove every value is dropped exactly once.
pub struct DropLog(pub Vec<AtomicUsize>);

pub struct Tracked {
    pub id: usize,
    pub log: Arc<DropLog>,
}

pub fn tracked(log: &Arc<DropLog>, id: usize) -> Tracked {
    Tracked {
        id,
        log: log.clone(),
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.log.0[self.id].fetch_add(1, SeqCst);
    }
}

pub fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}
