//! Threads as the leak diagnostics see them: a small numeric key per thread (the owner of
//! a [`crate::sync::Mutex`], a holder of a channel) and a record per live thread that has
//! one (its id and name; with the `debug-handles` feature also its Linux thread id,
//! whether it waits with a deadline, and whether it is one of gochan's own threads).
//!
//! A thread gets its key (and record) the first time it needs one; the record is removed
//! when the thread exits, so a key without a record belongs to a thread that has exited.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::ThreadId;

use parking_lot::Mutex;

static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static KEY: Cell<u64> = const { Cell::new(0) };
    /// Removes the thread's record when the thread exits.
    static EXIT: Exit = const { Exit(Cell::new(0)) };
    /// The thread's own record, for marks that must not take the global lock.
    static MINE: std::cell::OnceCell<Arc<Record>> = const { std::cell::OnceCell::new() };
}

/// One live thread.
#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) id: ThreadId,
    pub(crate) name: Option<String>,
    /// The Linux thread id (`/proc/self/task/<tid>`), if known.
    #[cfg_attr(not(feature = "debug-handles"), allow(dead_code))]
    pub(crate) tid: Option<u32>,
    /// In a wait with a deadline right now (a timeout will end it): a count of nested
    /// marks, set before the wait is queued.
    #[cfg_attr(not(feature = "debug-handles"), allow(dead_code))]
    pub(crate) timed: AtomicU32,
    /// The global epoch (`epoch`) when the thread last operated on a gochan object: a
    /// thread that sent or received after an object was made may have passed on, or been
    /// passed, a handle of it inside a message.
    #[cfg_attr(not(feature = "debug-handles"), allow(dead_code))]
    pub(crate) last_op: AtomicU64,
    /// One of gochan's own service threads (it holds no user handle).
    #[cfg_attr(not(feature = "debug-handles"), allow(dead_code))]
    pub(crate) internal: AtomicBool,
}

static RECORDS: Mutex<Option<HashMap<u64, Arc<Record>>>> = Mutex::new(None);

struct Exit(Cell<u64>);

impl Drop for Exit {
    fn drop(&mut self) {
        if let Some(map) = RECORDS.lock().as_mut() {
            map.remove(&self.0.get());
        }
    }
}

/// The calling thread's key (never 0; never reused in the process).
#[inline]
pub(crate) fn key() -> u64 {
    KEY.with(|k| match k.get() {
        0 => {
            let v = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
            k.set(v);
            register(v);
            v
        }
        v => v,
    })
}

#[cold]
fn register(key: u64) {
    let me = std::thread::current();
    let rec = Arc::new(Record {
        id: me.id(),
        name: me.name().map(String::from),
        tid: own_tid(),
        timed: AtomicU32::new(0),
        last_op: AtomicU64::new(0),
        internal: AtomicBool::new(false),
    });
    let _ = MINE.try_with(|m| m.set(rec.clone()));
    // A thread being torn down (its TLS gone) is not recorded: it is exiting.
    if EXIT.try_with(|e| e.0.set(key)).is_ok() {
        RECORDS
            .lock()
            .get_or_insert_with(HashMap::new)
            .insert(key, rec);
    }
}

fn own_tid() -> Option<u32> {
    #[cfg(all(target_os = "linux", feature = "debug-handles"))]
    {
        let link = std::fs::read_link("/proc/thread-self").ok()?;
        link.file_name()?.to_str()?.parse().ok()
    }
    #[cfg(not(all(target_os = "linux", feature = "debug-handles")))]
    None
}

/// The live thread with `key`, if it has not exited.
pub(crate) fn record(key: u64) -> Option<Arc<Record>> {
    RECORDS.lock().as_ref().and_then(|m| m.get(&key).cloned())
}

/// Every live thread that has a key.
#[cfg(feature = "debug-handles")]
pub(crate) fn live() -> HashMap<u64, Arc<Record>> {
    RECORDS.lock().clone().unwrap_or_default()
}

/// Marks the calling thread as one of gochan's service threads (the timer service, a
/// bubble's driver, the watchdog): it holds no user handle, so it wakes nobody.
pub(crate) fn internal_thread() {
    if let Some(r) = record(key()) {
        r.internal.store(true, Ordering::Relaxed);
    }
}

/// Marks the calling thread as waiting with a deadline until the guard drops. Take it
/// before the wait is queued, so an analysis never sees the wait without the mark.
#[cfg(feature = "debug-handles")]
pub(crate) fn timed_wait(timed: bool) -> Option<TimedGuard> {
    if !timed {
        return None;
    }
    key(); // makes the record
    MINE.try_with(|m| m.get().map(|r| r.timed.fetch_add(1, Ordering::Relaxed)))
        .ok()
        .flatten()?;
    Some(TimedGuard)
}

/// Takes one "waits with a deadline" mark off the thread on drop.
#[cfg(feature = "debug-handles")]
pub(crate) struct TimedGuard;

#[cfg(feature = "debug-handles")]
impl Drop for TimedGuard {
    fn drop(&mut self) {
        let _ = MINE.try_with(|m| {
            if let Some(r) = m.get() {
                r.timed.fetch_sub(1, Ordering::Relaxed);
            }
        });
    }
}

/// Counts objects made (feature `debug-handles`): an object's epoch orders it against the
/// threads' `last_op`.
#[cfg(feature = "debug-handles")]
static EPOCH: AtomicU64 = AtomicU64::new(1);

/// A new object's epoch (later than every `last_op` stored before).
#[cfg(feature = "debug-handles")]
pub(crate) fn new_epoch() -> u64 {
    EPOCH.fetch_add(1, Ordering::Relaxed) + 1
}

/// Records that the calling thread operates on a gochan object now; returns its key.
#[cfg(feature = "debug-handles")]
#[inline]
pub(crate) fn note_op() -> u64 {
    let k = key();
    let _ = MINE.try_with(|m| {
        if let Some(r) = m.get() {
            r.last_op
                .store(EPOCH.load(Ordering::Relaxed), Ordering::Relaxed);
        }
    });
    k
}
