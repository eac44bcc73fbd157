//! The process-wide timer service: one lazily started thread, a min-heap of deadlines and
//! a slab of timers.
//!
//! Every timer in the process (`after`, `tick`, `Timer`, `Ticker`, `time::after_func`,
//! context deadlines, `select_async!` deadlines) is an entry here; no timer ever gets a
//! thread of its own. Insert is O(log n): a heap push, and the slab slot comes from the
//! free list, itself a min-heap (lowest slot first, so the slab's tail can be given back).
//! Cancel is O(log n): the slot goes back to the free list, and the timer's heap entry is
//! left behind as a tombstone, swept (an O(n) pass, amortized O(1) per cancel) when
//! tombstones outnumber live timers, so cancelled timers never pile up. No hashing: a
//! [`TimerId`] names its slab slot directly, with a sequence number that is never reused,
//! so a stale id can never cancel a later timer.
//!
//! A timer's action is a boxed callback, or a shared [`Target`] with a token (no
//! allocation per arming: `Timer`/`Ticker` use this). Actions run on the service thread
//! and must be short: send on a channel, wake a task, cancel a context. A periodic action
//! returns its next deadline.
//!
//! Invariants (under `State`'s lock): a slot is `Pending` iff its timer waits in the heap
//! (exactly one live heap entry `(at, slot, seq)` matches it); `stale` counts heap entries
//! matching no `Pending` slot; `Due` marks a timer taken out to fire in this round and not
//! started (a cancel frees the slot and the action is skipped); `Running` is a timer whose
//! action executes now, and a cancel meanwhile sets `cancelled` (a periodic timer is then
//! not rescheduled). A panicking action is caught: it never takes the service down.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
#[cfg(not(loom))]
use std::sync::OnceLock;
#[cfg(not(loom))]
use std::thread::{self, Thread};
use std::time::Instant;

use crate::prim::Mutex;

/// A timer callback: gets the firing time, returns `Some(next)` to fire again.
pub(crate) type Callback = Box<dyn FnMut(Instant) -> Option<Instant> + Send>;

/// A timer owner fired without a boxed closure per arming.
pub(crate) trait Target: Send + Sync {
    /// Fires the arming identified by `token` at `now`; returns the next deadline of a
    /// periodic timer.
    fn fire(&self, token: u64, now: Instant) -> Option<Instant>;
}

/// What a timer does when it fires.
enum Action {
    Boxed(Callback),
    Target(Arc<dyn Target>, u64),
}

impl Action {
    fn run(&mut self, now: Instant) -> Option<Instant> {
        match self {
            Action::Boxed(f) => f(now),
            Action::Target(t, token) => t.fire(*token, now),
        }
    }
}

/// Identifies a scheduled timer: its slab slot and the sequence number of its scheduling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TimerId {
    slot: u32,
    /// The table: 0 for the process's service, else a `synctest` bubble's id.
    table: u32,
    seq: u64,
}

enum SlotState {
    Free,
    Pending { at: Instant, action: Action },
    Due,
    Running { cancelled: bool },
}

struct Slot {
    /// The sequence number of the timer in this slot (unique for the process's life).
    seq: u64,
    state: SlotState,
}

/// What the service thread is doing, as far as an insert must know (whether to wake it).
#[cfg_attr(loom, allow(dead_code))]
#[derive(Clone, Copy)]
enum Sleep {
    /// Awake: it looks at the heap before it parks again.
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
    heap: BinaryHeap<Reverse<(Instant, u32, u64)>>,
    slots: Vec<Slot>,
    /// Free slots, lowest index first (live timers pack at the front, so the tail can go).
    free: BinaryHeap<Reverse<u32>>,
    next_seq: u64,
    /// Number of `Pending` slots.
    live: usize,
    /// The free-list length at which the slab next tries to drop its free tail (keeps
    /// that O(n) pass amortized O(1) per cancel).
    compact_at: usize,
    stale: usize,
}

impl State {
    /// The slot of `id` if it still holds that timer.
    fn slot_mut(&mut self, id: TimerId) -> Option<&mut Slot> {
        self.slots
            .get_mut(id.slot as usize)
            .filter(|s| s.seq == id.seq && !matches!(s.state, SlotState::Free))
    }

    fn release(&mut self, slot: u32) {
        self.slots[slot as usize].state = SlotState::Free;
        self.free.push(Reverse(slot));
    }
}

/// A table of timers with its own clock: the process's service (real time, its thread
/// fires), or a `synctest` bubble's (virtual time, the bubble's driver fires).
pub(crate) struct Table {
    state: Mutex<State>,
    /// The id every [`TimerId`] of this table carries (0: the process's service).
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
            table: Table::new(0),
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
        table: Table::new(0),
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

/// Schedules `f` to run at `at` (at once if `at` is past). Returns its id for
/// [`cancel`].
pub(crate) fn schedule(at: Instant, f: Callback) -> TimerId {
    insert(at, Action::Boxed(f))
}

/// Schedules `target.fire(token, ..)` at `at`: no allocation beyond the service's tables.
pub(crate) fn schedule_target(at: Instant, target: Arc<dyn Target>, token: u64) -> TimerId {
    insert(at, Action::Target(target, token))
}

fn insert(at: Instant, action: Action) -> TimerId {
    #[cfg(not(loom))]
    if let Some(bubble) = crate::synctest::current() {
        return bubble.timers().insert(at, action).0;
    }
    let svc = service();
    let (id, earliest) = svc.table.insert(at, action);
    #[cfg(not(loom))]
    if earliest {
        svc.thread.unpark();
    }
    #[cfg(loom)]
    let _ = earliest;
    id
}

/// Cancels a timer. Returns `true` if it was pending and will not run (again). A
/// periodic timer cancelled while its callback runs is not rescheduled (returns `false`).
pub(crate) fn cancel(id: TimerId) -> bool {
    #[cfg(not(loom))]
    if id.table != 0 {
        return crate::synctest::find(id.table).is_some_and(|b| b.timers().cancel(id));
    }
    let Some(svc) = started() else {
        return false;
    };
    svc.table.cancel(id)
}

impl Table {
    pub(crate) fn new(id: u32) -> Table {
        Table {
            state: Mutex::new(State::new()),
            id,
        }
    }

    /// Adds a timer; also says whether the service thread must be woken for it.
    fn insert(&self, at: Instant, action: Action) -> (TimerId, bool) {
        let (mut id, earliest) = self.state.lock().insert(at, action);
        id.table = self.id;
        (id, earliest)
    }

    /// Cancels `id`: whether that prevented a run.
    pub(crate) fn cancel(&self, id: TimerId) -> bool {
        let mut st = self.state.lock();
        let (prevented, dropped) = st.cancel(id);
        drop(st);
        drop(dropped); // an action's captures are dropped outside the lock
        prevented
    }

    /// The earliest deadline of a live timer (tombstones on top are dropped).
    pub(crate) fn next_live(&self) -> Option<Instant> {
        let mut st = self.state.lock();
        while let Some(&Reverse((at, i, seq))) = st.heap.peek() {
            let live = st.slots.get(i as usize).is_some_and(|slot| {
                slot.seq == seq && matches!(slot.state, SlotState::Pending { at: a, .. } if a == at)
            });
            if live {
                return Some(at);
            }
            st.heap.pop();
            st.stale = st.stale.saturating_sub(1);
        }
        None
    }

    /// Fires every timer due at `now` on the calling thread ([`fire_due`]).
    pub(crate) fn fire_due(&self, now: Instant) {
        fire_due(self, now, &mut Vec::new());
    }

    /// Number of pending timers.
    pub(crate) fn live(&self) -> usize {
        self.state.lock().live
    }
}

impl State {
    fn new() -> State {
        State {
            sleep: Sleep::Running,
            heap: BinaryHeap::new(),
            slots: Vec::new(),
            free: BinaryHeap::new(),
            next_seq: 1,
            live: 0,
            compact_at: 0,
            stale: 0,
        }
    }

    /// Adds a pending timer; also says whether the service thread sleeps past it (wake it).
    fn insert(&mut self, at: Instant, action: Action) -> (TimerId, bool) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let state = SlotState::Pending { at, action };
        let slot = match self.free.pop() {
            Some(Reverse(i)) => {
                self.slots[i as usize] = Slot { seq, state };
                i
            }
            None => {
                let i = u32::try_from(self.slots.len()).expect("gochan: more than 2^32 timers");
                self.slots.push(Slot { seq, state });
                i
            }
        };
        self.live += 1;
        // Wake the service thread only if it sleeps past `at` (not once per earliest
        // timer: a timer created and stopped in a loop would wake it every time).
        let earliest = match self.sleep {
            Sleep::Running => false,
            Sleep::Forever => true,
            Sleep::Until(t) => at < t,
        };
        if earliest {
            self.sleep = Sleep::Running;
        }
        self.heap.push(Reverse((at, slot, seq)));
        (
            TimerId {
                slot,
                table: 0,
                seq,
            },
            earliest,
        )
    }

    /// Cancels `id`: whether that prevented a run, and the action to drop (outside the
    /// lock).
    fn cancel(&mut self, id: TimerId) -> (bool, Option<Action>) {
        let Some(slot) = self.slot_mut(id) else {
            return (false, None);
        };
        let (prevented, dropped) = match &mut slot.state {
            SlotState::Running { cancelled } => {
                *cancelled = true;
                (false, None)
            }
            SlotState::Due => (true, None), // taken out to fire, not started: skipped
            SlotState::Pending { .. } => {
                let SlotState::Pending { action, .. } =
                    std::mem::replace(&mut slot.state, SlotState::Free)
                else {
                    unreachable!()
                };
                (true, Some(action))
            }
            SlotState::Free => unreachable!("slot_mut skips free slots"),
        };
        if prevented {
            if dropped.is_some() {
                self.live -= 1;
                self.stale += 1;
            }
            self.release(id.slot);
            sweep(self);
        }
        (prevented, dropped)
    }
}

/// Number of pending timers (for tests and benchmarks).
pub(crate) fn pending() -> usize {
    started().map_or(0, |s| s.table.live())
}

/// Rebuilds the heap when tombstones outnumber live timers, and gives memory back once a
/// burst of timers is gone (tables shrink when less than a quarter full; the slab drops
/// its free tail).
fn sweep(st: &mut State) {
    if st.stale > 64 && st.stale > st.live {
        let slots = &st.slots;
        st.heap.retain(|Reverse((at, i, seq))| {
            // A tombstone may name a slot the slab has since dropped from its tail.
            slots.get(*i as usize).is_some_and(|s| {
                s.seq == *seq && matches!(s.state, SlotState::Pending { at: a, .. } if a == *at)
            })
        });
        st.stale = 0;
    }
    if st.heap.capacity() > 1024 && st.heap.len() < st.heap.capacity() / 4 {
        let keep = st.heap.len() * 2;
        st.heap.shrink_to(keep);
    }
    let len = st.slots.len();
    if len > 1024 && st.free.len() > len - len / 4 && st.free.len() >= st.compact_at {
        while matches!(st.slots.last(), Some(s) if matches!(s.state, SlotState::Free)) {
            st.slots.pop();
        }
        let len = st.slots.len();
        st.free.retain(|&Reverse(i)| (i as usize) < len);
        st.slots.shrink_to(len * 2);
        st.free.shrink_to(st.free.len() * 2);
        // Try again only after another eighth of the slab has been freed (capped: once
        // every slot is free the tail always goes).
        st.compact_at = (st.free.len() + st.slots.len() / 8 + 1).min(st.slots.len());
    }
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
    let mut due: Vec<(u32, u64, Action)> = Vec::new();
    loop {
        fire_due(&svc.table, Instant::now(), &mut due);
        if due.capacity() > 1024 {
            due.shrink_to(64); // after a burst of timers firing at once
        }
        // The sleep is published under the lock that inserts take: an insert after it
        // sees it (and unparks if needed); one before it is in `next`. An unpark between
        // the unlock and the park is kept by the thread's park token.
        let next = {
            let mut st = svc.table.state.lock();
            let next = st.heap.peek().map(|r| r.0 .0);
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

/// One round of the service: takes every timer due at `now` out of the heap, then runs
/// their actions one by one (each unless cancelled meanwhile), rescheduling periodic ones.
/// `due` is scratch space, empty on entry and on return.
fn fire_due(table: &Table, now: Instant, due: &mut Vec<(u32, u64, Action)>) {
    let mut st = table.state.lock();
    while let Some(&Reverse((at, i, seq))) = st.heap.peek() {
        if at > now {
            break;
        }
        st.heap.pop();
        let live = st.slots.get(i as usize).is_some_and(|slot| {
            slot.seq == seq && matches!(slot.state, SlotState::Pending { at: a, .. } if a == at)
        });
        if live {
            let slot = &mut st.slots[i as usize];
            let SlotState::Pending { action, .. } =
                std::mem::replace(&mut slot.state, SlotState::Due)
            else {
                unreachable!()
            };
            st.live -= 1;
            due.push((i, seq, action));
        } else {
            st.stale = st.stale.saturating_sub(1);
        }
    }
    sweep(&mut st);
    drop(st);
    for (i, seq, mut action) in due.drain(..) {
        let id = TimerId {
            slot: i,
            table: table.id,
            seq,
        };
        let still_due = {
            let mut st = table.state.lock();
            match st.slot_mut(id) {
                Some(s) if matches!(s.state, SlotState::Due) => {
                    s.state = SlotState::Running { cancelled: false };
                    true
                }
                _ => false, // cancelled after it was taken out to fire
            }
        };
        if !still_due {
            drop_quietly(action);
            continue;
        }
        // A panicking action is dropped, the service lives on.
        let next = match catch_unwind(AssertUnwindSafe(|| action.run(now))) {
            Ok(next) => next,
            Err(payload) => {
                drop_quietly(payload);
                None
            }
        };
        let mut st = table.state.lock();
        let cancelled = matches!(
            st.slot_mut(id).map(|s| &s.state),
            Some(SlotState::Running { cancelled: true })
        );
        match next {
            Some(at) if !cancelled => {
                st.slots[i as usize].state = SlotState::Pending { at, action };
                st.live += 1;
                st.heap.push(Reverse((at, i, seq)));
            }
            _ => {
                st.release(i);
                drop(st);
                drop_quietly(action);
            }
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
