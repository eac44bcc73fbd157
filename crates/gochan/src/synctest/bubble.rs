//! A bubble's bookkeeping: its members, which of them are durably blocked, its virtual
//! clock and timer table, and the driver thread that moves the clock.
//!
//! Invariants (all under `Bubble::state`'s lock):
//! - `members` counts the bubble's live threads: the root while it runs `f`, and every
//!   thread started in the bubble from the moment its start is requested (a [`Ticket`]) until
//!   it ends. Counting a thread before it exists means the bubble never sees "everyone
//!   blocked" while a new thread is on its way.
//! - `blocked` counts the seats whose `blocked` flag is set: members parked in a gochan
//!   operation ([`Seat::park_until`]) or in `wait`. A seat is unmarked by whoever wakes it
//!   ([`Seat::wake`]), *before* its thread is unparked, so `blocked == members` means no
//!   member can run until the driver acts (Go's "durably blocked").
//! - A seat's `woken` records a wake-up that arrived while it was not marked: its next
//!   `park_until` returns at once instead of marking it. A woken thread is never counted as
//!   blocked, and no wake-up is lost.
//! - The clock moves only in the driver, only while `blocked == members`, and only to the
//!   earliest pending timer of the bubble; at most one member waits in `wait`, and the
//!   driver releases it before it moves the clock.
//!
//! Lock order: a channel's lock may be held while a seat is woken (bubble lock inside);
//! the bubble's lock is never held while a channel is locked or a timer fires.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Weak};
use std::thread::{Thread, ThreadId};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::time::service::{self, Entry, Table, Target};

/// One bubble (see the module docs for its invariants).
pub(crate) struct Bubble {
    id: u32,
    state: Mutex<State>,
    /// Signalled when `blocked == members`, when a member leaves, and when the run ends.
    changed: Condvar,
    timers: Table,
}

struct State {
    now: Instant,
    members: usize,
    blocked: usize,
    /// The member inside `wait`, if any.
    waiter: Option<Arc<Seat>>,
    /// The root's seat while it runs `f` (woken to report a deadlock).
    root: Option<Arc<Seat>>,
    threads: Vec<ThreadId>,
    deadlock: bool,
    finished: bool,
}

/// A member thread's place in its bubble. The flags change only under the bubble's lock.
pub(crate) struct Seat {
    bubble: Arc<Bubble>,
    thread: Thread,
    root: bool,
    blocked: AtomicBool,
    woken: AtomicBool,
    in_wait: AtomicBool,
    /// The member's deadline while it parks with one (`park_until`), in the bubble's table.
    alarm: Entry,
}

impl std::fmt::Debug for Seat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seat")
            .field("bubble", &self.bubble.id)
            .finish()
    }
}

/// How long (real time) a bubble must stay blocked with no timer pending before it is a
/// deadlock. Go reports at once; a Rust bubble cannot see threads started with
/// `std::thread::spawn`, and one of them may still wake a member.
const DEADLOCK_GRACE: Duration = Duration::from_millis(500);

/// Every live bubble, for [`find`] (a timer cancelled from any thread finds its table).
static BUBBLES: Mutex<Vec<Weak<Bubble>>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU32 = AtomicU32::new(1);
/// Bubbles running now: while 0, channels skip every thread-local lookup.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// The calling thread's seat, if it is a member of a bubble.
    static SEAT: std::cell::RefCell<Option<Arc<Seat>>> = const { std::cell::RefCell::new(None) };
    /// The bubble whose driver this thread is (timers it fires belong to that bubble).
    static DRIVER: std::cell::RefCell<Option<Arc<Bubble>>> = const { std::cell::RefCell::new(None) };
    /// Set when the select being registered touches a channel of another bubble (or none).
    static FOREIGN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The bubble id a channel made now belongs to (0 outside bubbles).
pub(crate) fn bubble_of_new_channel() -> u32 {
    if ACTIVE.load(Relaxed) == 0 {
        return 0;
    }
    current().map_or(0, |b| b.id)
}

/// Whether a member of a bubble waiting on a channel of bubble `chan` is durably blocked
/// (Go: only channels created in the bubble count). `true` outside bubbles.
pub(crate) fn owns(chan: u32) -> bool {
    if ACTIVE.load(Relaxed) == 0 || chan == u32::MAX {
        return true;
    }
    SEAT.with(|s| s.borrow().as_ref().is_none_or(|s| s.bubble.id == chan))
}

/// A select (or a future polled by `block_on`) registered on a channel of bubble `chan`.
/// Outside bubbles (no bubble ever made) one relaxed load, inline: every wait calls this.
#[inline]
pub(crate) fn note_channel(chan: u32) {
    if ACTIVE.load(Relaxed) != 0 && !owns(chan) {
        FOREIGN.with(|f| f.set(true));
    }
}

/// Starts a select's registration ([`note_channel`] marks it foreign).
pub(crate) fn begin_select() {
    if ACTIVE.load(Relaxed) != 0 {
        FOREIGN.with(|f| f.set(false));
    }
}

/// Whether the select registered since [`begin_select`] is durable.
pub(crate) fn select_durable() -> bool {
    ACTIVE.load(Relaxed) == 0 || !FOREIGN.with(|f| f.get())
}

/// The calling thread's seat.
pub(crate) fn seat() -> Option<Arc<Seat>> {
    if ACTIVE.load(Relaxed) == 0 {
        return None;
    }
    SEAT.with(|s| s.borrow().clone())
}

/// The bubble of the calling thread: the one it is a member of or drives.
pub(crate) fn current() -> Option<Arc<Bubble>> {
    if ACTIVE.load(Relaxed) == 0 {
        return None;
    }
    SEAT.with(|s| s.borrow().as_ref().map(|s| s.bubble.clone()))
        .or_else(|| DRIVER.with(|d| d.borrow().clone()))
}

/// The virtual time of the calling thread's bubble.
pub(crate) fn virtual_now() -> Option<Instant> {
    if ACTIVE.load(Relaxed) == 0 {
        return None;
    }
    let now = |b: &Bubble| b.state.lock().now;
    SEAT.with(|s| s.borrow().as_ref().map(|s| now(&s.bubble)))
        .or_else(|| DRIVER.with(|d| d.borrow().as_deref().map(now)))
}

/// The live bubble with id `id`.
pub(crate) fn find(id: u32) -> Option<Arc<Bubble>> {
    BUBBLES
        .lock()
        .iter()
        .filter_map(Weak::upgrade)
        .find(|b| b.id == id)
}

impl Bubble {
    fn new() -> Arc<Bubble> {
        let id = NEXT_ID.fetch_add(1, Relaxed);
        assert!(id != 0, "gochan::synctest: bubble ids exhausted");
        let now = Instant::now();
        let bubble = Arc::new(Bubble {
            id,
            state: Mutex::new(State {
                now,
                members: 1,
                blocked: 0,
                waiter: None,
                root: None,
                threads: Vec::new(),
                deadlock: false,
                finished: false,
            }),
            changed: Condvar::new(),
            timers: Table::new(id, now),
        });
        let mut all = BUBBLES.lock();
        all.retain(|w| w.strong_count() > 0);
        all.push(Arc::downgrade(&bubble));
        bubble
    }

    /// The bubble's timer table.
    pub(crate) fn timers(&self) -> &Table {
        &self.timers
    }

    fn notify_if_stuck(&self, st: &State) {
        if st.blocked >= st.members {
            self.changed.notify_all();
        }
    }

    /// A thread leaves: it ended, or the root returned from `f`.
    fn leave(&self, seat: Option<&Seat>) {
        let mut st = self.state.lock();
        st.members -= 1;
        if let Some(seat) = seat {
            if seat.blocked.swap(false, Relaxed) {
                st.blocked -= 1;
            }
            if let Some(i) = st.threads.iter().position(|t| *t == seat.thread.id()) {
                st.threads.swap_remove(i);
            }
        }
        self.changed.notify_all();
    }
}

impl Seat {
    fn new(bubble: Arc<Bubble>, root: bool) -> Arc<Seat> {
        let thread = std::thread::current();
        bubble.state.lock().threads.push(thread.id());
        Arc::new(Seat {
            alarm: Entry::new(bubble.id),
            bubble,
            thread,
            root,
            blocked: AtomicBool::new(false),
            woken: AtomicBool::new(false),
            in_wait: AtomicBool::new(false),
        })
    }

    /// Records a wake-up of this seat's thread (the caller then unparks it): the thread
    /// counts as running from now on.
    pub(crate) fn wake(&self) {
        let mut st = self.bubble.state.lock();
        if self.blocked.swap(false, Relaxed) {
            st.blocked -= 1;
        } else {
            self.woken.store(true, Relaxed);
        }
    }

    /// `crate::prim::park_until` for a member: parks until woken or until the bubble's
    /// clock reaches `deadline` (a timer of the bubble wakes it then); `true`, without
    /// parking, once the deadline has passed. The root panics here if the bubble
    /// deadlocked.
    pub(crate) fn park_until(self: &Arc<Self>, deadline: Option<Instant>, durable: bool) -> bool {
        let b = &self.bubble;
        if deadline.is_some_and(|d| b.state.lock().now >= d) {
            return true;
        }
        // The alarm goes in before the seat is marked: the driver must never see this
        // thread blocked with its wake-up missing from the timers.
        if let Some(d) = deadline {
            service::arm(self, d, 0);
        }
        let mut st = b.state.lock();
        let park = !self.woken.swap(false, Relaxed);
        if park && durable {
            self.blocked.store(true, Relaxed);
            st.blocked += 1;
            b.notify_if_stuck(&st);
        }
        drop(st);
        if park {
            std::thread::park();
        }
        let mut st = b.state.lock();
        if self.blocked.swap(false, Relaxed) {
            st.blocked -= 1; // a spurious wake-up
        }
        let deadlock = self.root && st.deadlock;
        drop(st);
        // Only now that the seat counts as running may its alarm go.
        if deadline.is_some() {
            service::cancel(&self.alarm);
        }
        if deadlock {
            panic!(
                "{}",
                deadlock_report(b, "every thread in the bubble is blocked")
            );
        }
        false
    }
}

impl Target for Seat {
    fn entry(&self) -> &Entry {
        &self.alarm
    }

    /// A parked member's deadline: wake it.
    fn fire(&self, _token: u64, _now: Instant) -> Option<Instant> {
        self.wake();
        self.thread.unpark();
        None
    }
}

/// Says which threads of `b` are stuck, with Go's goroutine-dump lines for them.
fn deadlock_report(b: &Bubble, what: &str) -> String {
    let threads = b.state.lock().threads.clone();
    let stuck: Vec<_> = crate::debug::blocked()
        .into_iter()
        .filter(
            |x| matches!(&x.party, crate::debug::Party::Thread { id, .. } if threads.contains(id)),
        )
        .collect();
    format!(
        "gochan::synctest: deadlock: {what} and no timer of the bubble is pending\n{}",
        crate::debug::Dump(stuck)
    )
}

/// Marks the calling member as waiting in `synctest::wait` until every other member is
/// durably blocked.
pub(crate) fn wait() {
    let seat = seat().expect("gochan::synctest::wait called outside a bubble (synctest::run)");
    let b = &seat.bubble;
    let mut st = b.state.lock();
    assert!(
        st.waiter.is_none(),
        "gochan::synctest::wait called from two threads of one bubble at once"
    );
    st.waiter = Some(seat.clone());
    seat.in_wait.store(true, Relaxed);
    loop {
        if !seat.in_wait.load(Relaxed) {
            return;
        }
        // (Re-)mark: a stray wake-up of this thread must not make it count as running.
        if !seat.blocked.swap(true, Relaxed) {
            st.blocked += 1;
        }
        seat.woken.store(false, Relaxed);
        b.notify_if_stuck(&st);
        drop(st);
        std::thread::park();
        st = b.state.lock();
    }
}

/// The driver: waits until every member is blocked, then releases a `wait`, or moves the
/// clock to the next timer and fires it, or reports a deadlock.
fn drive(b: Arc<Bubble>) {
    DRIVER.with(|d| *d.borrow_mut() = Some(b.clone()));
    let mut st = b.state.lock();
    // When everything first looked stuck with no timer pending (see `DEADLOCK_GRACE`).
    let mut stuck_since: Option<Instant> = None;
    loop {
        if st.finished {
            break;
        }
        if st.deadlock || st.members == 0 || st.blocked < st.members {
            stuck_since = None;
            b.changed.wait(&mut st);
            continue;
        }
        if let Some(w) = st.waiter.take() {
            w.in_wait.store(false, Relaxed);
            if w.blocked.swap(false, Relaxed) {
                st.blocked -= 1;
            }
            drop(st);
            w.thread.unpark();
            st = b.state.lock();
            continue;
        }
        drop(st);
        let next = b.timers.next_live();
        st = b.state.lock();
        if st.finished || st.blocked < st.members {
            continue;
        }
        match next {
            Some(at) => {
                stuck_since = None;
                if at > st.now {
                    st.now = at;
                }
                let now = st.now;
                drop(st);
                b.timers.fire_due(now);
                st = b.state.lock();
            }
            None if stuck_since.is_none_or(|t| t.elapsed() < DEADLOCK_GRACE) => {
                // A thread outside the bubble may still wake a member: give it a moment.
                let since = *stuck_since.get_or_insert_with(Instant::now);
                let left = DEADLOCK_GRACE.saturating_sub(since.elapsed());
                b.changed
                    .wait_for(&mut st, left.max(Duration::from_millis(1)));
            }
            None => {
                st.deadlock = true;
                b.changed.notify_all();
                if let Some(root) = st.root.clone() {
                    if root.blocked.swap(false, Relaxed) {
                        st.blocked -= 1;
                    }
                    drop(st);
                    root.thread.unpark();
                    st = b.state.lock();
                }
            }
        }
    }
    DRIVER.with(|d| *d.borrow_mut() = None);
}

/// Sets the calling thread's seat for as long as it lives.
struct Enter;

impl Enter {
    fn new(seat: Arc<Seat>) -> Enter {
        SEAT.with(|s| *s.borrow_mut() = Some(seat));
        Enter
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        SEAT.with(|s| s.borrow_mut().take());
    }
}

/// `synctest::run`: see its docs.
pub(crate) fn run<R>(f: impl FnOnce() -> R) -> R {
    assert!(
        current().is_none(),
        "gochan::synctest::run called inside a bubble (bubbles do not nest)"
    );
    let bubble = Bubble::new();
    ACTIVE.fetch_add(1, Relaxed);
    let root = Seat::new(bubble.clone(), true);
    bubble.state.lock().root = Some(root.clone());
    let driver = {
        let b = bubble.clone();
        std::thread::Builder::new()
            .name("gochan-synctest".into())
            .spawn(move || {
                crate::debug::threads::internal_thread();
                drive(b)
            })
            .expect("gochan::synctest: cannot start the bubble's driver thread")
    };
    let result = {
        let _enter = Enter::new(root.clone());
        catch_unwind(AssertUnwindSafe(f))
    };
    bubble.state.lock().root = None;
    bubble.leave(Some(&root));
    let mut st = bubble.state.lock();
    // After `f`, Go's Run waits for the bubble's other goroutines to end. After a panic
    // it does not wait: they may be waiting for `f`.
    let stuck = loop {
        if st.members == 0 || result.is_err() {
            break false;
        }
        if st.deadlock {
            break true;
        }
        bubble.changed.wait(&mut st);
    };
    st.finished = true;
    bubble.changed.notify_all();
    drop(st);
    let _ = driver.join();
    ACTIVE.fetch_sub(1, Relaxed);
    match result {
        Err(payload) => resume_unwind(payload),
        Ok(_) if stuck => panic!(
            "{}",
            deadlock_report(
                &bubble,
                "the bubble's function returned, its other threads are blocked"
            )
        ),
        Ok(r) => r,
    }
}

/// A thread's admission to the calling thread's bubble, taken before the thread starts.
/// Dropped unused (the thread could not start), it gives the place back.
pub(crate) struct Ticket(Option<Arc<Bubble>>);

/// Admits a thread about to start to the caller's bubble (none outside a bubble).
pub(crate) fn ticket() -> Ticket {
    let bubble = current();
    if let Some(b) = &bubble {
        b.state.lock().members += 1;
    }
    Ticket(bubble)
}

impl Ticket {
    /// Runs `f` on the new thread as a member of the bubble (if any).
    pub(crate) fn run<T>(mut self, f: impl FnOnce() -> T) -> T {
        let Some(bubble) = self.0.take() else {
            return f();
        };
        struct Leave(Arc<Seat>);
        impl Drop for Leave {
            fn drop(&mut self) {
                SEAT.with(|s| s.borrow_mut().take());
                self.0.bubble.leave(Some(&self.0));
            }
        }
        let seat = Seat::new(bubble, false);
        SEAT.with(|s| *s.borrow_mut() = Some(seat.clone()));
        let _leave = Leave(seat);
        f()
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Some(b) = self.0.take() {
            b.leave(None);
        }
    }
}
