//! The process-wide timer service: one lazily started thread and a min-heap of deadlines.
//!
//! Every timer in the process (`after`, `tick`, `Timer`, `Ticker`, context deadlines, async
//! sleeps) is an entry here; no timer ever gets a thread of its own. Insert is
//! O(log n); cancel is O(1) (the heap slot is left behind as a tombstone and swept when
//! tombstones outnumber live entries, so cancelled timers never pile up).
//!
//! Callbacks run on the service thread and must be short: send on a channel, wake a task,
//! cancel a context. A periodic callback returns its next deadline.
//!
//! Invariants (under `State`'s lock): every id in `entries` has exactly one heap slot
//! with its current deadline; `stale` counts heap slots whose id is not in `entries` (or
//! whose deadline is outdated); `due` holds the ids taken out to fire in this round and
//! not started yet (a cancel removes the id, and its callback is skipped); `running` is
//! the id whose callback is executing now, and `cancel_running` records a cancel that
//! arrived meanwhile (a periodic timer is then not rescheduled). A panicking callback is
//! caught: it never takes the service down.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::OnceLock;
use std::thread::{self, Thread};
use std::time::Instant;

use parking_lot::Mutex;

/// A timer callback: gets the firing time, returns `Some(next)` to fire again.
pub(crate) type Callback = Box<dyn FnMut(Instant) -> Option<Instant> + Send>;

/// Identifies a scheduled timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TimerId(u64);

struct Entry {
    at: Instant,
    f: Callback,
}

struct State {
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
    entries: HashMap<u64, Entry>,
    next_id: u64,
    stale: usize,
    due: HashSet<u64>,
    running: Option<u64>,
    cancel_running: bool,
}

struct Service {
    state: Mutex<State>,
    thread: Thread,
}

static SERVICE: OnceLock<Service> = OnceLock::new();

fn service() -> &'static Service {
    SERVICE.get_or_init(|| {
        let handle = thread::Builder::new()
            .name("gochan-timer".into())
            .spawn(run)
            .expect("gochan: cannot start the timer thread");
        Service {
            state: Mutex::new(State {
                heap: BinaryHeap::new(),
                entries: HashMap::new(),
                next_id: 1,
                stale: 0,
                due: HashSet::new(),
                running: None,
                cancel_running: false,
            }),
            thread: handle.thread().clone(),
        }
    })
}

/// Schedules `f` to run at `at` (at once if `at` is past). Returns its id for
/// [`cancel`].
pub(crate) fn schedule(at: Instant, f: Callback) -> TimerId {
    let svc = service();
    let mut st = svc.state.lock();
    let id = st.next_id;
    st.next_id += 1;
    let earliest = st.heap.peek().map(|r| r.0 .0);
    st.heap.push(Reverse((at, id)));
    st.entries.insert(id, Entry { at, f });
    drop(st);
    if earliest.map_or(true, |e| at < e) {
        svc.thread.unpark();
    }
    TimerId(id)
}

/// Cancels a timer. Returns `true` if it was pending and will not run (again). A
/// periodic timer cancelled while its callback runs is not rescheduled (returns `false`).
pub(crate) fn cancel(id: TimerId) -> bool {
    let Some(svc) = SERVICE.get() else {
        return false;
    };
    let mut st = svc.state.lock();
    let removed = st.entries.remove(&id.0);
    let prevented = if removed.is_some() {
        st.stale += 1;
        sweep(&mut st);
        true
    } else if st.due.remove(&id.0) {
        true // taken out to fire, not started: it will be skipped
    } else {
        if st.running == Some(id.0) {
            st.cancel_running = true;
        }
        false
    };
    drop(st);
    drop(removed);
    prevented
}

/// Number of pending timers (for tests and benchmarks).
pub(crate) fn pending() -> usize {
    SERVICE.get().map_or(0, |s| s.state.lock().entries.len())
}

/// Rebuilds the heap when tombstones outnumber live entries, and gives memory back once
/// a burst of timers is gone (tables shrink when less than a quarter full).
fn sweep(st: &mut State) {
    if st.stale > 64 && st.stale > st.entries.len() {
        let entries = &st.entries;
        st.heap
            .retain(|Reverse((at, id))| entries.get(id).is_some_and(|e| e.at == *at));
        st.stale = 0;
    }
    let live = st.entries.len();
    if st.entries.capacity() > 1024 && live < st.entries.capacity() / 4 {
        st.entries.shrink_to(live * 2);
    }
    if st.heap.capacity() > 1024 && st.heap.len() < st.heap.capacity() / 4 {
        let keep = st.heap.len() * 2;
        st.heap.shrink_to(keep);
    }
}

/// The service thread: fire what is due, sleep until the next deadline.
fn run() {
    let svc = service();
    loop {
        let now = Instant::now();
        let mut st = svc.state.lock();
        let mut due = Vec::new();
        while let Some(&Reverse((at, id))) = st.heap.peek() {
            if at > now {
                break;
            }
            st.heap.pop();
            match st.entries.get(&id) {
                Some(e) if e.at == at => {
                    let e = st.entries.remove(&id).expect("present");
                    st.due.insert(id);
                    due.push((id, e));
                }
                _ => st.stale = st.stale.saturating_sub(1),
            }
        }
        sweep(&mut st);
        drop(st);
        for (id, mut e) in due {
            {
                let mut st = svc.state.lock();
                if !st.due.remove(&id) {
                    continue; // cancelled after it was taken out to fire
                }
                st.running = Some(id);
                st.cancel_running = false;
            }
            let next = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (e.f)(now)))
                .unwrap_or(None); // a panicking callback is dropped, the service lives on
            let mut st = svc.state.lock();
            st.running = None;
            if let Some(next) = next {
                if !st.cancel_running {
                    e.at = next;
                    st.heap.push(Reverse((next, id)));
                    st.entries.insert(id, e);
                }
            }
        }
        let next = svc.state.lock().heap.peek().map(|r| r.0 .0);
        match next {
            None => thread::park(),
            Some(at) => {
                let now = Instant::now();
                if at > now {
                    thread::park_timeout(at - now);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
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
}
