//! The process-wide timer service: one lazily started thread and a timer wheel.
//!
//! Every timer in the process (`after`, `tick`, `Timer`, `Ticker`, `time::after_func`,
//! context deadlines, `select_async!` deadlines) is an entry here; no timer ever gets a
//! thread of its own. A timer's [`Entry`] is embedded in the object that owns it (a
//! [`Target`]), and the wheel (`wheel.rs`) links it in and out in O(1), with no
//! allocation; a closure timer ([`schedule`]) is one allocation holding its entry and its
//! closure.
//!
//! Actions run on the service thread and must be short: send on a channel, wake a task,
//! cancel a context. A periodic action returns its next deadline. A panicking action is
//! caught: it never takes the service down.
//!
//! A `synctest` bubble has a [`Table`] of its own (virtual time, fired by the bubble's
//! driver); an entry belongs to the table of the bubble it was made in (the process's,
//! outside bubbles), for its whole life.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
#[cfg(not(loom))]
use std::sync::OnceLock;
#[cfg(not(loom))]
use std::thread::{self, Thread};
use std::time::Instant;

pub(crate) use super::wheel::Entry;
use super::wheel::{Due, Wheel};
use crate::prim::Mutex;

/// The owner of a timer [`Entry`]: fired by the service without an allocation per arming.
pub(crate) trait Target: Send + Sync + 'static {
    /// The entry embedded in this owner.
    fn entry(&self) -> &Entry;
    /// Fires the arming identified by `token` at `now`; returns the next deadline of a
    /// periodic timer.
    fn fire(&self, token: u64, now: Instant) -> Option<Instant>;
}

/// What the service thread is doing, as far as an insert must know (whether to wake it).
#[cfg_attr(loom, allow(dead_code))]
#[derive(Clone, Copy)]
enum Sleep {
    /// Awake: it looks at the wheel before it parks again.
    Running,
    /// Parked until this deadline.
    Until(Instant),
    /// Parked with nothing to wait for.
    Forever,
}

struct State {
    /// The service thread's sleep (set under this lock before it parks). Bubble tables
    /// have no thread; their inserts ignore it.
    sleep: Sleep,
    wheel: Wheel,
}

/// A table of timers with its own clock: the process's service (real time, its thread
/// fires), or a `synctest` bubble's (virtual time, the bubble's driver fires).
pub(crate) struct Table {
    state: Mutex<State>,
    /// The id every [`Entry`] of this table carries (0: the process's service).
    id: u32,
}

struct Service {
    table: Table,
    /// The service thread, woken when a new timer is due before the time it sleeps until
    /// (see [`Sleep`]). Under loom there is
    /// none: a model fires due timers itself ([`fire_due`], from any model thread).
    #[cfg(not(loom))]
    thread: Thread,
}

#[cfg(not(loom))]
static SERVICE: OnceLock<Service> = OnceLock::new();

#[cfg(not(loom))]
fn service() -> &'static Service {
    SERVICE.get_or_init(|| {
        let handle = thread::Builder::new()
            .name("gochan-timer".into())
            .spawn(run)
            .expect("gochan: cannot start the timer thread");
        Service {
            table: Table::new(0, Instant::now()),
            thread: handle.thread().clone(),
        }
    })
}

/// The service if it was ever started.
#[cfg(not(loom))]
fn started() -> Option<&'static Service> {
    SERVICE.get()
}

// Under loom each execution gets a fresh service (dropped at the execution's end), since
// its mutex is a model object.
#[cfg(loom)]
loom::lazy_static! {
    static ref SERVICE: Service = Service {
        table: Table::new(0, Instant::now()),
    };
}

#[cfg(loom)]
fn service() -> &'static Service {
    &SERVICE
}

#[cfg(loom)]
fn started() -> Option<&'static Service> {
    Some(service())
}

/// Looks up the table an entry belongs to (`None`: a bubble that ended, or, with
/// `start == false`, the service never started) and runs `f` on it.
fn with_table<R>(entry: &Entry, start: bool, f: impl FnOnce(&Table) -> R) -> Option<R> {
    match entry.table() {
        0 if start => Some(f(&service().table)),
        0 => started().map(|s| f(&s.table)),
        #[cfg(not(loom))]
        id => crate::synctest::find(id).map(|b| f(b.timers())),
        #[cfg(loom)]
        _ => None,
    }
}

/// The table id of an entry made now: the calling thread's bubble's, or 0.
pub(crate) fn table_here() -> u32 {
    #[cfg(not(loom))]
    return crate::synctest::bubble_of_new_channel();
    #[cfg(loom)]
    0
}

/// Arms `owner`'s entry to fire `owner.fire(token, ..)` at `at` (at once if `at` is past),
/// replacing a pending arming. No allocation. A timer of a bubble that ended never fires.
pub(crate) fn arm<T: Target>(owner: &Arc<T>, at: Instant, token: u64) {
    let entry = owner.entry();
    let wake = with_table(entry, true, |table| {
        let mut st = table.state.lock();
        st.wheel.arm(entry, || owner.clone(), at, token);
        // Wake the service thread only if it sleeps past `at` (not once per earliest
        // timer: a timer created and stopped in a loop would wake it every time).
        let wake = match st.sleep {
            Sleep::Running => false,
            Sleep::Forever => true,
            Sleep::Until(t) => at < t,
        };
        if wake {
            st.sleep = Sleep::Running;
        }
        wake && table.id == 0
    });
    #[cfg(not(loom))]
    if wake == Some(true) {
        service().thread.unpark();
    }
    #[cfg(loom)]
    let _ = wake;
}

/// Cancels `entry`'s arming. Returns `true` if it was pending and will not run (again). A
/// periodic timer cancelled while its action runs is not rescheduled (returns `false`).
pub(crate) fn cancel(entry: &Entry) -> bool {
    let r = with_table(entry, false, |table| table.state.lock().wheel.cancel(entry));
    match r {
        Some((prevented, owner)) => {
            drop(owner); // the owner's last reference may go here: outside the lock
            prevented
        }
        None => false,
    }
}

/// A closure timer: its entry and its closure in one allocation.
struct FnTimer<F> {
    entry: Entry,
    f: Mutex<F>,
}

impl<F: FnMut(Instant) -> Option<Instant> + Send + 'static> Target for FnTimer<F> {
    fn entry(&self) -> &Entry {
        &self.entry
    }

    fn fire(&self, _token: u64, now: Instant) -> Option<Instant> {
        (self.f.lock())(now)
    }
}

/// A scheduled closure timer (see [`schedule`]); dropping it does not cancel it.
pub(crate) struct Handle(Arc<dyn Target>);

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.entry().fmt(f)
    }
}

impl Handle {
    /// Cancels the timer: `true` if it was pending and will not run (again).
    pub(crate) fn cancel(&self) -> bool {
        cancel(self.0.entry())
    }
}

/// Schedules `f` to run at `at` (at once if `at` is past); `f` returns `Some(next)` to
/// run again at `next`.
pub(crate) fn schedule(
    at: Instant,
    f: impl FnMut(Instant) -> Option<Instant> + Send + 'static,
) -> Handle {
    let t = Arc::new(FnTimer {
        entry: Entry::new(table_here()),
        f: Mutex::new(f),
    });
    arm(&t, at, 0);
    Handle(t)
}

impl Table {
    pub(crate) fn new(id: u32, origin: Instant) -> Table {
        Table {
            state: Mutex::new(State {
                sleep: Sleep::Running,
                wheel: Wheel::new(id, origin),
            }),
            id,
        }
    }

    /// The earliest deadline of a pending timer.
    pub(crate) fn next_live(&self) -> Option<Instant> {
        self.state.lock().wheel.next_wake(true)
    }

    /// Fires every timer due at `now` on the calling thread ([`fire_due`]).
    pub(crate) fn fire_due(&self, now: Instant) {
        fire_due(self, now, &mut Vec::new());
    }

    /// Number of pending timers.
    pub(crate) fn live(&self) -> usize {
        self.state.lock().wheel.len()
    }
}

impl Drop for Table {
    /// A bubble's table going away lets go of the timers still in it (they never fire).
    fn drop(&mut self) {
        let owners = self.state.lock().wheel.clear();
        for o in owners {
            drop_quietly(o);
        }
    }
}

/// Number of pending timers (for tests and benchmarks).
pub(crate) fn pending() -> usize {
    started().map_or(0, |s| s.table.live())
}

/// Drops `x` on the service thread without letting a panicking `Drop` (of an action's
/// captures, or of a panic payload) kill the thread and with it every timer.
fn drop_quietly<T>(x: T) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(x))) {
        // The payload is freed too; only one whose own drop panics is leaked, not re-raised.
        if let Err(worse) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            std::mem::forget(worse);
        }
    }
}

/// The service thread: fire what is due, sleep until the next deadline.
#[cfg(not(loom))]
fn run() {
    crate::debug::threads::internal_thread();
    let svc = service();
    let mut due: Vec<Due> = Vec::new();
    loop {
        fire_due(&svc.table, Instant::now(), &mut due);
        if due.capacity() > 1024 {
            due.shrink_to(64); // after a burst of timers firing at once
        }
        // The sleep is published under the lock that inserts take: an insert after it
        // sees it (and unparks if needed); one before it is in `next`. An unpark between
        // the unlock and the park is kept by the thread's park token. `next` may be the
        // start of a far slot to cascade rather than a deadline (`Wheel::next_wake`).
        let next = {
            let mut st = svc.table.state.lock();
            let next = st.wheel.next_wake(false);
            st.sleep = next.map_or(Sleep::Forever, Sleep::Until);
            next
        };
        match next {
            None => thread::park(),
            Some(at) => {
                let now = Instant::now();
                if at > now {
                    thread::park_timeout(at - now);
                }
            }
        }
        svc.table.state.lock().sleep = Sleep::Running;
    }
}

/// One round of the service: takes every timer due at `now` off the wheel, then runs
/// their actions one by one in deadline order (each unless cancelled or re-armed
/// meanwhile), rescheduling periodic ones. `due` is scratch space, empty on entry and on
/// return.
fn fire_due(table: &Table, now: Instant, due: &mut Vec<Due>) {
    table.state.lock().wheel.poll(now, due);
    for d in due.drain(..) {
        if !table.state.lock().wheel.start(&d) {
            drop_quietly(d.owner); // cancelled after it was taken out to fire
            continue;
        }
        // A panicking action is dropped, the service lives on.
        let next = match catch_unwind(AssertUnwindSafe(|| d.owner.fire(d.token, now))) {
            Ok(next) => next,
            Err(payload) => {
                drop_quietly(payload);
                None
            }
        };
        let done = table.state.lock().wheel.finish(d, next);
        if let Some(owner) = done {
            drop_quietly(owner);
        }
    }
}

/// Under loom: runs one round of the service (as its thread would when woken at `now`)
/// on the calling model thread.
#[cfg(loom)]
pub(crate) fn fire_due_now(now: Instant) {
    fire_due(&service().table, now, &mut Vec::new());
}

#[cfg(all(test, not(loom)))]
#[path = "service_tests.rs"]
mod tests;
