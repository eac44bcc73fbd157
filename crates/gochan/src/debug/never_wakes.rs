//! [`never_wakes`]: the blocked threads that nothing can wake any more (feature
//! `debug-handles`), after Go's `goroutineleak` profile.
//!
//! Go finds leaked goroutines with the garbage collector: a goroutine blocked on a channel
//! that no runnable goroutine can reach will never run again. Rust has no collector and a
//! move is invisible, so this analysis works from what gochan can observe, and is a
//! **heuristic**, tuned to never name a party that can still wake:
//!
//! - Who can end a wait: for a channel, every thread that has touched it (`handles.rs`:
//!   created it, cloned, dropped or downgraded a handle, or used one); for a context's
//!   `done()`, the threads that created the `CancelFunc`s up the chain (a deadline, a
//!   timer, a tokio token or anything else untracked means "may wake"); for a
//!   `WaitGroup`, the threads that touched it; for a [`crate::sync::Mutex`], the thread
//!   holding it.
//! - A candidate is a thread parked in a gochan operation without a deadline. The stuck
//!   set is the largest set of candidates such that every thread that can end one of
//!   their waits is itself in the set, has exited, or is one of gochan's service threads
//!   (a greatest fixpoint: a cycle of threads waiting on each other is stuck).
//! - A handle moved into a thread that has not used it yet is invisible, so any live
//!   thread that started after the object was created, and is not in the stuck set,
//!   counts as a possible holder (Linux: start times from `/proc/self/task`; elsewhere
//!   every wait counts as one that may end, and nothing is reported).
//! - A handle can also travel inside a message (a request carrying its reply channel):
//!   if a holder operated on any gochan object after the object was made (an exited
//!   holder always counts), every live thread that did so too and is not in the stuck set
//!   counts as a possible holder (`threads::note_op`, ordered by a global epoch bumped
//!   when an object is made).
//! - The analysis runs twice, 20 ms apart, and reports only parties found stuck both
//!   times with the same wait.
//!
//! What it cannot see: a handle handed, untouched, to a thread that existed before the
//! object through something other than a gochan operation (a std channel, a shared
//! structure): that is the one way to a false report. A handle owned by a thread blocked
//! outside gochan (a `JoinHandle::join`, a std mutex, I/O) only hides leaks: that thread
//! counts as running, so parties it could wake are not reported. The calling thread
//! counts only through what it has touched and done (its start time is not held against
//! a channel: it is running the analysis), and so does the process's main thread (it
//! started before any channel).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use super::handles::Wakers;
use super::{blocked_from, registry, threads, Blocked, Party};

/// How much earlier than an object's creation a thread's recorded start may be and the
/// thread still count as a possible holder of a handle moved into it: `/proc` start times
/// are truncated to 10 ms ticks, and so is the uptime clock the creation is placed with.
const START_SLACK: f64 = 0.02;

/// The blocked threads that, by the `debug-handles` bookkeeping, can never be woken:
/// every thread that could end their wait is itself stuck, or gone. Go's
/// `goroutineleak` profile, as a documented heuristic (see below).
///
/// It names the four classic leaks: a thread blocked on a channel whose other end lives
/// in a struct only it (and other stuck threads) still reach; the same with the struct
/// owning a context's `CancelFunc`; a thread waiting on a channel while it still holds a
/// handle that would end the wait; and a cycle of a [`sync::Mutex`](crate::sync::Mutex)
/// and a channel. It never names a thread that waits with a deadline.
///
/// # Heuristic
/// Rust cannot say who owns a value, so "can wake" is approximated: every thread that has
/// touched the channel (created it, cloned, dropped, downgraded or used a handle), every
/// live thread started after the channel was created (it may hold a handle moved into
/// it), and, once a holder has sent or received anything since the channel was made,
/// every thread that has too (a handle may travel in a message), can wake a waiter
/// unless it is stuck itself. A thread blocked outside gochan (in
/// `JoinHandle::join`, a std lock, I/O) counts as running. So it misses leaks, but should
/// not name a thread that wakes later; call it from a thread that does not share the
/// channels (the caller counts as running). Tasks are not analysed (an executor thread is
/// running). Linux only: elsewhere it returns nothing.
///
/// ```
/// use std::sync::Arc;
/// // A worker blocked on a channel whose only sender sits in the struct it holds itself.
/// struct Pair { tx: gochan::Sender<i32>, rx: gochan::Receiver<i32> }
/// std::thread::spawn(|| {
///     let (tx, rx) = gochan::bounded(0);
///     let pair = Arc::new(Pair { tx, rx });
///     std::thread::spawn(move || pair.rx.recv()); // waits forever: it holds `tx`
/// })
/// .join()
/// .unwrap();
/// let stuck = loop {
///     let s = gochan::debug::never_wakes();
///     if !s.is_empty() { break s; }
///     std::thread::sleep(std::time::Duration::from_millis(10));
/// };
/// assert_eq!(stuck[0].op, gochan::debug::BlockedOp::Recv);
/// ```
pub fn never_wakes() -> Vec<Blocked> {
    let first = analyze();
    if first.is_empty() {
        return first;
    }
    std::thread::sleep(Duration::from_millis(20));
    let again: HashSet<(usize, Instant)> = analyze().iter().map(|b| (b.key, b.since)).collect();
    first
        .into_iter()
        .filter(|b| again.contains(&(b.key, b.since)))
        .collect()
}

/// One pass: the stuck set as of now.
fn analyze() -> Vec<Blocked> {
    let mut walk = registry::Walk {
        want_wakers: true,
        ..registry::Walk::default()
    };
    registry::walk_into(&mut walk);
    let wakers: HashMap<usize, Wakers> = std::mem::take(&mut walk.wakers).into_iter().collect();
    let blocked = blocked_from(walk.waits);
    let world = World::now();
    let mut cands: Vec<(Blocked, u64)> = blocked
        .into_iter()
        .filter_map(|b| {
            let Party::Thread { id, .. } = &b.party else {
                return None; // a task: its executor thread is running
            };
            let k = *world.by_id.get(id)?;
            (world.live[&k].timed.load(Ordering::Relaxed) == 0).then_some((b, k))
        })
        .collect();
    loop {
        let stuck: HashSet<u64> = cands.iter().map(|c| c.1).collect();
        let n = cands.len();
        cands.retain(|(b, _)| !world.can_wake(b, &wakers, &stuck));
        if cands.len() == n {
            return cands.into_iter().map(|c| c.0).collect();
        }
    }
}

/// The threads of the process, as of one pass.
struct World {
    live: HashMap<u64, std::sync::Arc<threads::Record>>,
    by_id: HashMap<ThreadId, u64>,
    by_tid: HashMap<u32, u64>,
    /// Every OS thread of the process with its start, in seconds since boot (`None`: not
    /// available on this system).
    tasks: Option<Vec<(u32, f64)>>,
    /// `Instant::now()` and the seconds since boot at that moment.
    clock: Option<(Instant, f64)>,
    /// The calling thread: it counts through what it touched, not by its start time
    /// (it is running this analysis, not waiting to use a handle moved into it).
    me: u64,
}

impl World {
    fn now() -> World {
        let me = threads::key();
        let live = threads::live();
        let by_id = live.iter().map(|(k, r)| (r.id, *k)).collect();
        let by_tid = live
            .iter()
            .filter_map(|(k, r)| r.tid.map(|t| (t, *k)))
            .collect();
        World {
            live,
            by_id,
            by_tid,
            tasks: proc_tasks(),
            clock: uptime().map(|u| (Instant::now(), u)),
            me,
        }
    }

    /// Whether thread `k` could act: alive, not a service thread, not stuck.
    fn may_act(&self, k: u64, stuck: &HashSet<u64>) -> bool {
        match self.live.get(&k) {
            None => false, // exited
            Some(r) => !r.internal.load(Ordering::Relaxed) && !stuck.contains(&k),
        }
    }

    /// Whether anything outside `stuck` may still end `b`'s wait.
    fn can_wake(&self, b: &Blocked, wakers: &HashMap<usize, Wakers>, stuck: &HashSet<u64>) -> bool {
        if let Some(m) = &b.mutex {
            return m.owner == 0 || self.may_act(m.owner, stuck);
        }
        if b.channels.is_empty() {
            return true;
        }
        b.channels.iter().any(|c| match wakers.get(&c.id) {
            None => true,
            Some(w) => self.wakers_may_act(w, stuck),
        })
    }

    fn wakers_may_act(&self, w: &Wakers, stuck: &HashSet<u64>) -> bool {
        if w.unknown || w.threads.iter().any(|&k| self.may_act(k, stuck)) {
            return true;
        }
        // A holder that operated on a channel since the object was made may have sent a
        // handle away in a message (a reply channel in a request): then any thread that
        // operated since may have received it. An exited holder's last operation is
        // unknown: it counts as such a holder.
        if let Some(epoch) = w.epoch {
            let passed = w.threads.iter().any(|k| {
                self.live
                    .get(k)
                    .is_none_or(|r| r.last_op.load(Ordering::Relaxed) >= epoch)
            });
            if passed
                && self.live.iter().any(|(k, r)| {
                    r.last_op.load(Ordering::Relaxed) >= epoch && self.may_act(*k, stuck)
                })
            {
                return true;
            }
        }
        let Some(since) = w.since else {
            return false; // nothing can end it (a never() channel)
        };
        let (Some(tasks), Some((now, up))) = (&self.tasks, self.clock) else {
            return true; // cannot tell which threads are new
        };
        let created = up - now.saturating_duration_since(since).as_secs_f64();
        let main = std::process::id(); // the main thread: started before any channel
        tasks.iter().any(|&(tid, start)| {
            tid != main
                && start + START_SLACK >= created
                && match self.by_tid.get(&tid) {
                    Some(&k) => k != self.me && self.may_act(k, stuck),
                    None => true, // a thread that never used gochan
                }
        })
    }
}

/// Seconds since boot (`/proc/uptime`, the clock `/proc` start times use).
fn uptime() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/uptime").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Every thread of the process with its start in seconds since boot.
fn proc_tasks() -> Option<Vec<(u32, f64)>> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    // USER_HZ: 100 on every Linux architecture's user ABI.
    const TICKS: f64 = 100.0;
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc/self/task").ok()? {
        let e = e.ok()?;
        let Ok(tid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue; // exited meanwhile
        };
        // Field 22 (starttime); the name (field 2) may hold spaces: count after its ')'.
        let rest = &stat[stat.rfind(')')? + 1..];
        let ticks: f64 = rest.split_whitespace().nth(19)?.parse().ok()?;
        out.push((tid, ticks / TICKS));
    }
    Some(out)
}
