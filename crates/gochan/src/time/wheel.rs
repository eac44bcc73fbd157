//! The timer wheel: where a table of timers keeps its pending entries. A hierarchical
//! timing wheel (tokio's design: 64 slots per level, each level's slot spanning a whole
//! turn of the level below) of intrusive lists through [`Entry`]s embedded in the timers'
//! owners, so arming and cancelling are O(1) and allocate nothing.
//!
//! Time is counted in ticks of 2^20 ns (~1.05 ms) since the table's `origin`, but every
//! entry keeps its exact deadline (ns since `origin`) and never fires before it: a level-0
//! slot holds the entries of one tick; when the clock reaches that tick the due ones fire
//! and the rest wait in the `current` list until their exact time. An entry at level `l`
//! differs from `elapsed` (the last tick processed) first in its `l`-th 6-bit digit; when
//! `elapsed` reaches its slot, the slot's entries drop to lower levels ("cascade").
//!
//! # Safety
//! The lists hold raw pointers to entries. Two rules make that sound:
//! - **Liveness**: an entry on a list (`Place::Slot` or `Place::Current`) holds a strong
//!   reference to its owner (`Links::owner`), so the memory it lives in cannot be freed
//!   while a list points to it; the reference is given up only after it is unlinked.
//! - **Exclusion**: an entry's [`Links`] are read and written only through a `&mut Wheel`
//!   of the table the entry belongs to (fixed when the entry is made), that is under that
//!   table's lock. Owners never touch the links themselves.

use std::ptr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::service::Target;
use crate::prim::UnsafeCell;

const SLOT_BITS: u32 = 6;
const SLOTS: usize = 1 << SLOT_BITS;
/// Levels: 8 x 6 bits of ticks covers the 2^44 ticks of a `u64` of nanoseconds.
const LEVELS: usize = 8;
/// A tick is 2^20 ns.
const TICK_SHIFT: u32 = 20;

/// Where an entry is. Only the wheel of the entry's table moves it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// Not armed.
    Idle,
    /// On the list of a wheel slot.
    Slot { level: u8, slot: u8 },
    /// On the `current` list (due within the tick already reached).
    Current,
    /// Taken out to fire in this round of the table, not started: a cancel skips it.
    Due,
    /// Its owner's `fire` runs now; a cancel meanwhile stops a periodic timer.
    Running { cancelled: bool },
}

/// The part of an entry only its table's wheel touches (see the module's safety rules).
struct Links {
    prev: *const Entry,
    next: *const Entry,
    /// The exact deadline, in ns since the table's origin.
    at: u64,
    place: Place,
    /// Bumped by every arming: a firing taken out before a re-arm is recognised as stale
    /// even if the new arming were taken out too (only possible if two rounds of one table
    /// ran at once, which neither the service thread nor a bubble's driver does).
    seq: u32,
    /// Passed to the owner's `fire` (its generation of the arming).
    token: u64,
    /// The owner, held while the entry is on a list (the liveness rule).
    owner: Option<Arc<dyn Target>>,
}

/// A timer's place in a table, embedded in the object that owns the timer (a `Timer`'s
/// core, a select's deadline, a bubble member's alarm).
pub(crate) struct Entry {
    /// The table: 0 for the process's service, else a `synctest` bubble's id.
    table: u32,
    links: UnsafeCell<Links>,
}

// SAFETY: the raw pointers in `links` are only followed under the lock of the entry's
// table (the exclusion rule), which orders every access; the owner `Arc` is `Send + Sync`.
unsafe impl Send for Entry {}
// SAFETY: as for `Send`: shared references never touch `links` without the table lock.
unsafe impl Sync for Entry {}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl Entry {
    /// An idle entry of table `table`.
    pub(crate) fn new(table: u32) -> Entry {
        Entry {
            table,
            links: UnsafeCell::new(Links {
                prev: ptr::null(),
                next: ptr::null(),
                at: 0,
                place: Place::Idle,
                seq: 0,
                token: 0,
                owner: None,
            }),
        }
    }

    /// The table this entry belongs to.
    pub(crate) fn table(&self) -> u32 {
        self.table
    }
}

/// Runs `f` on the links of the entry at `e`.
///
/// # Safety
/// The caller holds the lock of `e`'s table (has the `&mut Wheel`), and `e` is alive: it
/// is on one of that wheel's lists, or the caller holds a reference to it.
unsafe fn links<R>(e: *const Entry, f: impl FnOnce(&mut Links) -> R) -> R {
    // SAFETY: `e` is alive (caller); the table lock excludes every other access to its
    // links, so this is the only reference to them while `f` runs.
    unsafe { (*e).links.with_mut(|l| f(&mut *l)) }
}

/// Pushes `e` at the front of the list starting at `head`.
///
/// # Safety
/// As for [`links`], for `e` and every entry on the list.
unsafe fn push(head: &mut *const Entry, e: *const Entry) {
    let old = *head;
    // SAFETY: the caller's guarantee.
    unsafe {
        links(e, |l| {
            l.prev = ptr::null();
            l.next = old;
        });
        if !old.is_null() {
            links(old, |l| l.prev = e);
        }
    }
    *head = e;
}

/// Removes `e` from the list starting at `head` (which `e` is on).
///
/// # Safety
/// As for [`links`], for `e` and every entry on the list.
unsafe fn remove(head: &mut *const Entry, e: *const Entry) {
    // SAFETY: the caller's guarantee; `prev` and `next` are on the same list.
    unsafe {
        let (prev, next) = links(e, |l| {
            let pn = (l.prev, l.next);
            l.prev = ptr::null();
            l.next = ptr::null();
            pn
        });
        if prev.is_null() {
            *head = next;
        } else {
            links(prev, |l| l.next = next);
        }
        if !next.is_null() {
            links(next, |l| l.prev = prev);
        }
    }
}

/// An entry taken out to fire: its owner (the reference the list held), and which arming.
pub(crate) struct Due {
    pub(crate) owner: Arc<dyn Target>,
    seq: u32,
    pub(crate) token: u64,
    at: u64,
}

/// The pending entries of one table. Invariants: every entry on a list has
/// `Place::Slot`/`Place::Current` naming that list and holds its owner; bit `s` of
/// `occupied[l]` is set iff `slots[l][s]` is non-empty; an entry in `slots[l][s]` has a
/// tick greater than `elapsed` whose digits above `l` equal `elapsed`'s and whose digit
/// `l` is `s`; an entry in `current` has a tick at most `elapsed`; `len` counts them all.
pub(crate) struct Wheel {
    /// The table id its entries carry (checked: the exclusion rule).
    table: u32,
    origin: Instant,
    /// The last tick processed.
    elapsed: u64,
    occupied: [u64; LEVELS],
    slots: [[*const Entry; SLOTS]; LEVELS],
    current: *const Entry,
    len: usize,
}

// SAFETY: the pointers are followed only through `&mut Wheel` (under the table lock),
// and point to entries kept alive by the owner each of them holds.
unsafe impl Send for Wheel {}

/// The level at which an entry due at tick `t` waits when the wheel is at `elapsed`.
fn level_for(elapsed: u64, t: u64) -> usize {
    let masked = (elapsed ^ t) | (SLOTS as u64 - 1);
    let significant = 63 - masked.leading_zeros();
    (significant / SLOT_BITS) as usize
}

impl Wheel {
    /// An empty wheel of table `table`, counting from `origin`.
    pub(crate) fn new(table: u32, origin: Instant) -> Wheel {
        Wheel {
            table,
            origin,
            elapsed: 0,
            occupied: [0; LEVELS],
            slots: [[ptr::null(); SLOTS]; LEVELS],
            current: ptr::null(),
            len: 0,
        }
    }

    /// Number of armed entries.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn ns(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.origin).as_nanos()).unwrap_or(u64::MAX)
    }

    /// Puts `e` (not on a list, `at` set) on the list its deadline belongs to.
    ///
    /// # Safety
    /// `e` belongs to this wheel's table and is alive (it holds its owner).
    unsafe fn insert(&mut self, e: *const Entry) {
        // SAFETY: the caller's guarantee; `&mut self` is the table lock.
        unsafe {
            let t = links(e, |l| l.at) >> TICK_SHIFT;
            let place = if t <= self.elapsed {
                push(&mut self.current, e);
                Place::Current
            } else {
                let level = level_for(self.elapsed, t);
                let slot = ((t >> (SLOT_BITS * level as u32)) as usize) & (SLOTS - 1);
                push(&mut self.slots[level][slot], e);
                self.occupied[level] |= 1 << slot;
                Place::Slot {
                    level: level as u8,
                    slot: slot as u8,
                }
            };
            links(e, |l| l.place = place);
        }
        self.len += 1;
    }

    /// Takes `e` off its list (`place` says which).
    ///
    /// # Safety
    /// `e` belongs to this wheel's table and is on the list `place` names.
    unsafe fn detach(&mut self, e: *const Entry, place: Place) {
        // SAFETY: the caller's guarantee.
        unsafe {
            match place {
                Place::Current => remove(&mut self.current, e),
                Place::Slot { level, slot } => {
                    let (level, slot) = (level as usize, slot as usize);
                    remove(&mut self.slots[level][slot], e);
                    if self.slots[level][slot].is_null() {
                        self.occupied[level] &= !(1 << slot);
                    }
                }
                _ => unreachable!("detach of an entry on no list"),
            }
        }
        self.len -= 1;
    }

    /// Arms `e`, owned by `owner` (called if the wheel holds no reference to it yet), to
    /// fire at `at` with `token`. A pending arming is
    /// replaced; one taken out to fire or running now becomes stale (it will not be
    /// rescheduled).
    pub(crate) fn arm(
        &mut self,
        e: &Entry,
        owner: impl FnOnce() -> Arc<dyn Target>,
        at: Instant,
        token: u64,
    ) {
        assert_eq!(
            e.table, self.table,
            "gochan: a timer armed in another table"
        );
        let at = self.ns(at);
        let p: *const Entry = e;
        // SAFETY: `e` is alive (borrowed), belongs to this table (checked above), and
        // `&mut self` is the table lock.
        unsafe {
            let place = links(p, |l| l.place);
            if matches!(place, Place::Slot { .. } | Place::Current) {
                self.detach(p, place);
            }
            links(p, |l| {
                l.at = at;
                l.token = token;
                l.seq = l.seq.wrapping_add(1);
                if l.owner.is_none() {
                    l.owner = Some(owner());
                }
            });
            self.insert(p);
        }
    }

    /// Cancels `e`: whether that prevented a firing, and the owner reference to drop
    /// (outside the lock). A running periodic firing is marked not to be rescheduled.
    pub(crate) fn cancel(&mut self, e: &Entry) -> (bool, Option<Arc<dyn Target>>) {
        assert_eq!(
            e.table, self.table,
            "gochan: a timer cancelled in another table"
        );
        let p: *const Entry = e;
        // SAFETY: as in `arm`.
        unsafe {
            let place = links(p, |l| l.place);
            match place {
                Place::Slot { .. } | Place::Current => {
                    self.detach(p, place);
                    let owner = links(p, |l| {
                        l.place = Place::Idle;
                        l.owner.take()
                    });
                    (true, owner)
                }
                Place::Due => {
                    links(p, |l| l.place = Place::Idle);
                    (true, None)
                }
                Place::Running { .. } => {
                    links(p, |l| l.place = Place::Running { cancelled: true });
                    (false, None)
                }
                Place::Idle => (false, None),
            }
        }
    }

    /// The next slot to process: `(level, slot, tick it starts at)`. The lowest occupied
    /// level holds the earliest entries (a higher level's are past its whole turn).
    fn next_expiration(&self) -> Option<(usize, usize, u64)> {
        (0..LEVELS).find_map(|level| {
            let occupied = self.occupied[level];
            if occupied == 0 {
                return None;
            }
            let shift = SLOT_BITS * level as u32;
            let pos = ((self.elapsed >> shift) as usize) & (SLOTS - 1);
            let slot = (occupied.rotate_right(pos as u32).trailing_zeros() as usize + pos) % SLOTS;
            let level_range = 1u64 << (shift + SLOT_BITS);
            let start = self.elapsed & !(level_range - 1);
            let mut tick = start + ((slot as u64) << shift);
            if tick < self.elapsed {
                tick += level_range; // not reached by the invariant; kept total
            }
            Some((level, slot, tick))
        })
    }

    /// Marks `e` (just taken off its list) as due and moves it to `due`.
    ///
    /// # Safety
    /// `e` belongs to this table, is on no list, and holds its owner.
    unsafe fn take_due(e: *const Entry, due: &mut Vec<Due>) {
        // SAFETY: the caller's guarantee.
        let d = unsafe {
            links(e, |l| {
                l.place = Place::Due;
                Due {
                    owner: l.owner.take().expect("a listed entry holds its owner"),
                    seq: l.seq,
                    token: l.token,
                    at: l.at,
                }
            })
        };
        due.push(d);
    }

    /// Takes out every entry due at `now` (in deadline order) and cascades the slots the
    /// clock passed.
    pub(crate) fn poll(&mut self, now: Instant, due: &mut Vec<Due>) {
        let now_ns = self.ns(now);
        let now_tick = now_ns >> TICK_SHIFT;
        let first = due.len();
        while let Some((level, slot, tick)) = self.next_expiration() {
            if tick > now_tick {
                break;
            }
            self.elapsed = tick;
            let mut head = std::mem::replace(&mut self.slots[level][slot], ptr::null());
            self.occupied[level] &= !(1 << slot);
            while !head.is_null() {
                let e = head;
                // SAFETY: `e` was on this wheel's list, so it belongs to this table and
                // holds its owner; `&mut self` is the table lock.
                unsafe {
                    let at = links(e, |l| {
                        head = l.next;
                        l.prev = ptr::null();
                        l.next = ptr::null();
                        l.at
                    });
                    self.len -= 1;
                    if at <= now_ns {
                        Wheel::take_due(e, due);
                    } else {
                        self.insert(e);
                    }
                }
            }
        }
        // No slot is due up to `now_tick`, so moving `elapsed` there keeps every entry's
        // level valid (their digits above it still match).
        self.elapsed = self.elapsed.max(now_tick);
        let mut e = self.current;
        while !e.is_null() {
            // SAFETY: as above, for the `current` list.
            unsafe {
                let (next, at) = links(e, |l| (l.next, l.at));
                if at <= now_ns {
                    self.detach(e, Place::Current);
                    Wheel::take_due(e, due);
                }
                e = next;
            }
        }
        due[first..].sort_unstable_by_key(|d| d.at); // in place: no allocation
    }

    /// A firing taken out by [`Wheel::poll`] is about to run: `false` if it was cancelled
    /// or re-armed since (skip it).
    pub(crate) fn start(&mut self, d: &Due) -> bool {
        let p: *const Entry = d.owner.entry();
        assert_eq!(d.owner.entry().table, self.table);
        // SAFETY: the entry is alive (`d` holds its owner) and belongs to this table
        // (checked above).
        unsafe {
            links(p, |l| {
                let live = l.place == Place::Due && l.seq == d.seq;
                if live {
                    l.place = Place::Running { cancelled: false };
                }
                live
            })
        }
    }

    /// A firing ran; `next` is a periodic timer's next deadline. Reschedules it unless it
    /// was cancelled or re-armed meanwhile. Returns the owner reference to drop (outside
    /// the lock) if the entry is done.
    pub(crate) fn finish(&mut self, d: Due, next: Option<Instant>) -> Option<Arc<dyn Target>> {
        let p: *const Entry = d.owner.entry();
        assert_eq!(d.owner.entry().table, self.table);
        let next = next.map(|t| self.ns(t));
        // SAFETY: as in `start`.
        unsafe {
            let (current, cancelled) = links(p, |l| match l.place {
                Place::Running { cancelled } if l.seq == d.seq => (true, cancelled),
                _ => (false, false),
            });
            if !current {
                return Some(d.owner); // re-armed while running: the new arming stands
            }
            match next {
                Some(at) if !cancelled => {
                    links(p, |l| {
                        l.at = at;
                        l.owner = Some(d.owner);
                    });
                    self.insert(p);
                    None
                }
                _ => {
                    links(p, |l| l.place = Place::Idle);
                    Some(d.owner)
                }
            }
        }
    }

    /// When the table's clock must next be looked at: the exact deadline of the earliest
    /// entry, or (`exact == false`) the start of the next slot to cascade when that comes
    /// first (cheaper than scanning a far slot's list).
    pub(crate) fn next_wake(&mut self, exact: bool) -> Option<Instant> {
        // Every listed entry belongs to this table and is alive; `&mut self` is the lock.
        let min_at = |mut e: *const Entry| {
            let mut min = u64::MAX;
            while !e.is_null() {
                // SAFETY: see above.
                let (next, at) = unsafe { links(e, |l| (l.next, l.at)) };
                min = min.min(at);
                e = next;
            }
            min
        };
        let mut best = min_at(self.current);
        if let Some((level, slot, tick)) = self.next_expiration() {
            let t = if level == 0 || exact {
                min_at(self.slots[level][slot])
            } else {
                tick << TICK_SHIFT
            };
            best = best.min(t);
        }
        (best != u64::MAX).then(|| self.origin + Duration::from_nanos(best))
    }

    /// Unlinks every entry (a table being dropped), returning the owners to drop.
    pub(crate) fn clear(&mut self) -> Vec<Arc<dyn Target>> {
        let mut owners = Vec::with_capacity(self.len);
        let mut heads: Vec<*const Entry> = vec![std::mem::replace(&mut self.current, ptr::null())];
        for level in self.slots.iter_mut() {
            heads.extend(level.iter_mut().map(|h| std::mem::replace(h, ptr::null())));
        }
        for mut e in heads {
            while !e.is_null() {
                // SAFETY: a listed entry of this table, alive; `&mut self` is the lock.
                unsafe {
                    links(e, |l| {
                        e = l.next;
                        l.prev = ptr::null();
                        l.next = ptr::null();
                        l.place = Place::Idle;
                        owners.extend(l.owner.take());
                    });
                }
            }
        }
        self.occupied = [0; LEVELS];
        self.len = 0;
        owners
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// An owner that only carries an entry (the wheel never calls `fire`).
    struct T(Entry);

    impl Target for T {
        fn entry(&self) -> &Entry {
            &self.0
        }
        fn fire(&self, _token: u64, _now: Instant) -> Option<Instant> {
            unreachable!("the wheel tests fire nothing")
        }
    }

    /// Random arms, re-arms and cancels over deadlines from nanoseconds to days, polled at
    /// random increasing times, against a model (a map of deadlines): every arming comes
    /// out at the first poll at or after its deadline, never before, exactly once; the
    /// exact `next_wake` is the model's earliest deadline, the cheap one never later.
    #[test]
    fn wheel_matches_a_model_at_every_level() {
        let origin = Instant::now();
        let mut rng = fastrand::Rng::with_seed(7);
        let mut wheel = Wheel::new(0, origin);
        let owners: Vec<Arc<dyn Target>> = (0..300)
            .map(|_| Arc::new(T(Entry::new(0))) as Arc<dyn Target>)
            .collect();
        // token -> (owner index, deadline in ns); the token names one arming.
        let mut model: BTreeMap<u64, (usize, u64)> = BTreeMap::new();
        let mut armed: Vec<Option<u64>> = vec![None; owners.len()];
        let mut now = 0u64;
        let mut due = Vec::new();
        let mut token = 0;
        for _ in 0..20_000 {
            match rng.u32(0..10) {
                0..=5 => {
                    let i = rng.usize(0..owners.len());
                    // Spans: within a tick, a few ticks, seconds, hours, days.
                    let span = [1u64 << 12, 1 << 22, 1 << 32, 1 << 42, 1 << 48][rng.usize(0..5)];
                    let at = now.saturating_sub(1000) + rng.u64(0..span);
                    token += 1;
                    if let Some(old) = armed[i].replace(token) {
                        model.remove(&old);
                    }
                    model.insert(token, (i, at));
                    wheel.arm(
                        owners[i].entry(),
                        || owners[i].clone(),
                        origin + Duration::from_nanos(at),
                        token,
                    );
                }
                6 => {
                    let i = rng.usize(0..owners.len());
                    let was = armed[i].take();
                    if let Some(old) = was {
                        model.remove(&old);
                    }
                    let (prevented, owner) = wheel.cancel(owners[i].entry());
                    assert_eq!(prevented, was.is_some());
                    assert_eq!(owner.is_some(), was.is_some());
                }
                _ => {
                    let step = [1u64 << 10, 1 << 20, 1 << 30, 1 << 40][rng.usize(0..4)];
                    now += rng.u64(0..step);
                    wheel.poll(origin + Duration::from_nanos(now), &mut due);
                    let mut want: Vec<u64> = model
                        .iter()
                        .filter(|(_, &(_, at))| at <= now)
                        .map(|(&t, _)| t)
                        .collect();
                    let got: Vec<u64> = due.iter().map(|d| d.token).collect();
                    let ats: Vec<u64> = due.iter().map(|d| d.at).collect();
                    assert!(ats.windows(2).all(|w| w[0] <= w[1]), "out of order");
                    want.sort_by_key(|t| (model[t].1, *t));
                    let mut got_sorted = got.clone();
                    got_sorted.sort_by_key(|t| (model[t].1, *t));
                    assert_eq!(got_sorted, want, "at {now}");
                    for d in due.drain(..) {
                        let (i, _) = model.remove(&d.token).unwrap();
                        armed[i] = None;
                        assert!(wheel.start(&d));
                        assert!(wheel.finish(d, None).is_some());
                    }
                }
            }
            assert_eq!(wheel.len(), model.len());
            let earliest = model.values().map(|&(_, at)| at).min();
            let exact = wheel.next_wake(true);
            let cheap = wheel.next_wake(false);
            let ns = |t: Option<Instant>| t.map(|t| (t - origin).as_nanos() as u64);
            assert_eq!(ns(exact), earliest);
            assert!(ns(cheap) <= earliest, "the cheap wake is late");
            assert_eq!(cheap.is_some(), earliest.is_some());
        }
        assert_eq!(wheel.clear().len(), model.len());
        assert_eq!(wheel.len(), 0);
    }

    /// A firing taken out is skipped after a cancel, rescheduled when periodic, and left
    /// to the new arming when re-armed while it runs.
    #[test]
    fn due_entries_follow_cancel_and_rearm() {
        let origin = Instant::now();
        let at = |ms: u64| origin + Duration::from_millis(ms);
        let mut wheel = Wheel::new(0, origin);
        let o: Arc<dyn Target> = Arc::new(T(Entry::new(0)));
        let mut due = Vec::new();
        wheel.arm(o.entry(), || o.clone(), at(5), 1);
        wheel.poll(at(5), &mut due);
        let d = due.pop().unwrap();
        let (prevented, owner) = wheel.cancel(o.entry());
        assert!(
            prevented && owner.is_none(),
            "the due firing holds the owner"
        );
        assert!(!wheel.start(&d), "a cancelled firing ran");
        drop(d);
        // Periodic: rescheduled at the returned deadline.
        wheel.arm(o.entry(), || o.clone(), at(10), 2);
        wheel.poll(at(10), &mut due);
        let d = due.pop().unwrap();
        assert!(wheel.start(&d));
        assert!(wheel.finish(d, Some(at(20))).is_none());
        assert_eq!(wheel.len(), 1);
        assert_eq!(wheel.next_wake(true), Some(at(20)));
        // Re-armed while running: the new arming stands, the old one is dropped.
        wheel.poll(at(20), &mut due);
        let d = due.pop().unwrap();
        assert!(wheel.start(&d));
        wheel.arm(o.entry(), || o.clone(), at(100), 3);
        assert!(wheel.finish(d, Some(at(30))).is_some());
        assert_eq!(wheel.next_wake(true), Some(at(100)));
        // Cancelled while running: not rescheduled.
        wheel.poll(at(100), &mut due);
        let d = due.pop().unwrap();
        assert!(wheel.start(&d));
        assert!(!wheel.cancel(o.entry()).0);
        assert!(wheel.finish(d, Some(at(110))).is_some());
        assert_eq!(wheel.len(), 0);
        assert_eq!(Arc::strong_count(&o), 1, "the wheel kept a reference");
    }
}
