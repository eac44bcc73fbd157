//! The message ledger: every message is a unique id whose fate is recorded exactly once.
//!
//! A [`Msg`] carries its id, the generation ([`Gen`]) of the channel it was sent on and a
//! `discardable` flag (set when gochan may legitimately drop it: a send arm of a select
//! that was not chosen, a send future dropped mid-wait). The worker that receives a
//! message calls [`Msg::received`]; the worker that gets it back in an error calls
//! [`Msg::returned`]. Its `Drop` records, in one update of its ledger cell, the outcome
//! (received / returned / dropped unresolved) and the drop itself.
//!
//! Cells are 16 bits (2-bit saturating counters plus flags), grouped in segments of
//! 65 536 ids. A segment whose ids have all been dropped is verified and freed two sweeps
//! later, so memory stays bounded on hour-long runs; an event that reaches a freed segment
//! is itself a failure (a value dropped or resolved a second time).

use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use gochan::{Receiver, Sender};
use parking_lot::{Mutex, RwLock};

const SEG_BITS: u32 = 16;
const SEG: u64 = 1 << SEG_BITS;

const RECV: u32 = 0; // 2-bit counter shifts
const RET: u32 = 2;
const LOST: u32 = 4;
const DROP: u32 = 6;
const SENT: u16 = 1 << 8;
const DISCARDABLE: u16 = 1 << 9;
const GEN_DEAD: u16 = 1 << 10;
const UNCHOSEN: u16 = 1 << 11;
const UNWOUND: u16 = 1 << 12;

/// The payload of the panic thrown by the `Drop` of a message armed to panic (the soak's
/// `faults` mode): catchers tell it from any other panic.
#[derive(Debug)]
pub struct DropPanic(pub u64);

/// At most this many problem descriptions are kept (the count is exact).
const MAX_PROBLEMS: usize = 32;

struct Segment {
    cells: RwLock<Option<Box<[AtomicU16]>>>,
    drops: AtomicU64,
    /// Sweep number at which the segment was first seen complete (0: not yet).
    complete_since: AtomicU64,
}

/// Final message figures, filled by verification.
#[derive(Clone, Copy, Debug, Default)]
pub struct MsgFigures {
    /// Ids issued.
    pub issued: u64,
    /// Received exactly once.
    pub received: u64,
    /// Returned in an error exactly once.
    pub returned: u64,
    /// Dropped with a channel whose last receiver went away.
    pub lost_with_channel: u64,
    /// Dropped by gochan as an unchosen select send arm or a cancelled send future.
    pub discarded: u64,
    /// Events (other than a late "sent") that reached an already verified id.
    pub late_events: u64,
    /// Dropped exactly once, unresolved, while the thread unwound a panic (a panicking
    /// drop of another message): the value went with the panic, as any local would.
    pub unwound: u64,
}

/// Panicking drops: thrown, caught by a worker or the harness, and not thrown because the
/// thread was already unwinding (a second panic would abort the process).
#[derive(Debug, Default)]
pub struct DropPanics {
    /// Drops that panicked.
    pub thrown: AtomicU64,
    /// Panics with a [`DropPanic`] payload caught by the harness.
    pub caught: AtomicU64,
    /// Drops of armed messages during unwinding (they did not panic).
    pub suppressed: AtomicU64,
}

/// Records the fate of every message of one run.
pub struct Ledger {
    next: AtomicU64,
    segs: RwLock<Vec<Arc<Segment>>>,
    sweeps: AtomicU64,
    first_live: AtomicUsize,
    figures: Mutex<MsgFigures>,
    problems: Mutex<(u64, Vec<String>)>,
    /// Panicking-drop accounting.
    pub drop_panics: DropPanics,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("issued", &self.issued())
            .finish()
    }
}

impl Ledger {
    /// A ledger that lives for the rest of the process (messages hold `&'static Ledger`).
    pub fn leak() -> &'static Ledger {
        Box::leak(Box::new(Ledger {
            next: AtomicU64::new(0),
            segs: RwLock::new(Vec::new()),
            sweeps: AtomicU64::new(1),
            first_live: AtomicUsize::new(0),
            figures: Mutex::new(MsgFigures::default()),
            problems: Mutex::new((0, Vec::new())),
            drop_panics: DropPanics::default(),
        }))
    }

    /// Records an invariant violation.
    pub fn problem(&self, what: String) {
        let mut p = self.problems.lock();
        p.0 += 1;
        if p.1.len() < MAX_PROBLEMS {
            p.1.push(what);
        }
    }

    /// Number of violations and the first few descriptions.
    pub fn problems(&self) -> (u64, Vec<String>) {
        self.problems.lock().clone()
    }

    /// Segments not yet verified and freed (memory in use: 128 KiB each).
    pub fn live_segments(&self) -> usize {
        let segs = self.segs.read();
        segs.iter().filter(|s| s.cells.read().is_some()).count()
    }

    /// Ids issued so far.
    pub fn issued(&self) -> u64 {
        self.next.load(Ordering::Relaxed)
    }

    fn issue(&self) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let seg = (id >> SEG_BITS) as usize;
        if self.segs.read().len() <= seg {
            let mut segs = self.segs.write();
            while segs.len() <= seg {
                let cells: Box<[AtomicU16]> = (0..SEG).map(|_| AtomicU16::new(0)).collect();
                segs.push(Arc::new(Segment {
                    cells: RwLock::new(Some(cells)),
                    drops: AtomicU64::new(0),
                    complete_since: AtomicU64::new(0),
                }));
            }
        }
        id
    }

    /// Applies `add` (counter shifts) and `flags` to the cell of `id`.
    fn record(&self, id: u64, counters: &[u32], flags: u16, is_drop: bool) {
        let seg = self.segs.read()[(id >> SEG_BITS) as usize].clone();
        {
            let cells = seg.cells.read();
            match cells.as_ref() {
                Some(cells) => {
                    let cell = &cells[(id & (SEG - 1)) as usize];
                    let _ = cell.fetch_update(Ordering::AcqRel, Ordering::Acquire, |mut c| {
                        for &s in counters {
                            if (c >> s) & 3 != 3 {
                                c += 1 << s;
                            }
                        }
                        Some(c | flags)
                    });
                }
                None if counters.is_empty() => {} // a late "sent" note: harmless
                None => {
                    self.figures.lock().late_events += 1;
                    self.problem(format!(
                        "msg {id}: event after it was verified (double drop?)"
                    ));
                }
            }
        }
        if is_drop {
            seg.drops.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Notes that the send of `id` was reported successful.
    pub fn sent(&self, id: u64) {
        self.record(id, &[], SENT, false);
    }

    /// Notes that `id` was the value of a send arm that its completed select did not
    /// choose: it must never be received nor returned.
    pub fn unchosen(&self, id: u64) {
        self.record(id, &[], UNCHOSEN, false);
    }

    /// Verifies and frees segments complete for two sweeps; call about once a second.
    pub fn sweep(&self) {
        let now = self.sweeps.fetch_add(1, Ordering::AcqRel) + 1;
        let issued = self.issued();
        let segs: Vec<_> = self.segs.read().clone();
        let mut first = self.first_live.load(Ordering::Acquire);
        for (i, seg) in segs.iter().enumerate().skip(first) {
            let end = (i as u64 + 1) * SEG;
            if issued < end || seg.drops.load(Ordering::Acquire) != SEG {
                continue;
            }
            let since = seg.complete_since.load(Ordering::Acquire);
            if since == 0 {
                seg.complete_since.store(now, Ordering::Release);
            } else if now >= since + 2 {
                self.retire(i as u64, seg, SEG);
            }
        }
        while first < segs.len() && segs[first].cells.read().is_none() {
            first += 1;
        }
        self.first_live.store(first, Ordering::Release);
    }

    /// Verifies every remaining id (all parties gone) and returns the figures.
    pub fn finish(&self) -> MsgFigures {
        let issued = self.issued();
        let segs: Vec<_> = self.segs.read().clone();
        for (i, seg) in segs.iter().enumerate() {
            let n = issued.saturating_sub(i as u64 * SEG).min(SEG);
            self.retire(i as u64, seg, n);
        }
        let mut f = *self.figures.lock();
        f.issued = issued;
        f
    }

    fn retire(&self, index: u64, seg: &Segment, n: u64) {
        let Some(cells) = seg.cells.write().take() else {
            return;
        };
        let mut f = MsgFigures::default();
        for (j, cell) in cells.iter().take(n as usize).enumerate() {
            let id = index * SEG + j as u64;
            let c = cell.load(Ordering::Acquire);
            let count = |s: u32| (c >> s) & 3;
            let (r, t, l, d) = (count(RECV), count(RET), count(LOST), count(DROP));
            if d != 1 {
                self.problem(format!("msg {id}: dropped {d} times (cell {c:#x})"));
            }
            if (r + t > 0 || c & SENT != 0) && c & UNCHOSEN != 0 {
                self.problem(format!(
                    "msg {id}: its select chose another arm, yet this send arm's value was \
                     received {r}, returned {t} times (sent flag {})",
                    c & SENT != 0
                ));
            }
            if r + t + l != 1 {
                self.problem(format!(
                    "msg {id}: received {r}, returned {t}, dropped unresolved {l} times"
                ));
            } else if r == 1 {
                f.received += 1;
            } else if t == 1 {
                f.returned += 1;
                if c & SENT != 0 {
                    self.problem(format!(
                        "msg {id}: returned in an error but its send succeeded"
                    ));
                }
            } else if c & GEN_DEAD != 0 {
                f.lost_with_channel += 1;
            } else if c & DISCARDABLE != 0 && c & SENT == 0 {
                f.discarded += 1;
            } else if c & UNWOUND != 0 {
                f.unwound += 1;
            } else if c & SENT != 0 {
                self.problem(format!(
                    "msg {id}: sent successfully, then dropped unreceived while its channel \
                     still had receivers"
                ));
            } // else: reported at drop time (not discardable, channel alive)
        }
        let mut g = self.figures.lock();
        g.received += f.received;
        g.returned += f.returned;
        g.lost_with_channel += f.lost_with_channel;
        g.discarded += f.discarded;
        g.unwound += f.unwound;
    }

    /// Accounts a caught panic: a [`DropPanic`] is counted, anything else is a violation
    /// (gochan itself panicked, e.g. a lock poisoned by an earlier panic).
    pub fn caught(&self, payload: Box<dyn std::any::Any + Send>, during: &str) {
        if payload.downcast_ref::<DropPanic>().is_some() {
            self.drop_panics.caught.fetch_add(1, Ordering::AcqRel);
            return;
        }
        let msg = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        self.problem(format!("unexpected panic during {during}: {msg}"));
    }
}

/// One generation of a channel slot: tells a dropped message whether its channel's last
/// receiver had gone (the harness wraps every `Receiver` in an [`Rx`] that counts).
#[derive(Debug)]
pub struct Gen {
    live_rx: AtomicUsize,
    dead: AtomicBool,
    /// The channel's capacity (`None`: unbounded).
    pub cap: Option<usize>,
}

/// A sender with its generation.
#[derive(Clone, Debug)]
pub struct Tx {
    /// The gochan sender.
    pub tx: Sender<Msg>,
    /// Its channel's generation.
    pub gen: Arc<Gen>,
}

/// A receiver with its generation; the last `Rx` marks the generation dead before the
/// gochan receiver goes (so values dropped with the channel know why).
#[derive(Debug)]
pub struct Rx {
    /// The gochan receiver.
    pub rx: Receiver<Msg>,
    /// Its channel's generation.
    pub gen: Arc<Gen>,
}

impl Clone for Rx {
    fn clone(&self) -> Rx {
        self.gen.live_rx.fetch_add(1, Ordering::AcqRel);
        Rx {
            rx: self.rx.clone(),
            gen: self.gen.clone(),
        }
    }
}

impl Drop for Rx {
    fn drop(&mut self) {
        if self.gen.live_rx.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.gen.dead.store(true, Ordering::Release);
        }
    }
}

/// A fresh channel of capacity `cap` (`None`: unbounded).
pub fn channel(cap: Option<usize>) -> (Tx, Rx) {
    let (tx, rx) = match cap {
        Some(c) => gochan::bounded(c),
        None => gochan::unbounded(),
    };
    let gen = Arc::new(Gen {
        live_rx: AtomicUsize::new(1),
        dead: AtomicBool::new(false),
        cap,
    });
    (
        Tx {
            tx,
            gen: gen.clone(),
        },
        Rx { rx, gen },
    )
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fate {
    Unresolved,
    Received,
    Returned,
}

/// A message: a unique id that records its fate when dropped.
#[derive(Debug)]
pub struct Msg {
    id: u64,
    gen: Arc<Gen>,
    ledger: &'static Ledger,
    discardable: bool,
    origin: &'static str,
    fate: Fate,
    /// Its `Drop` panics (after recording its fate).
    panics: bool,
}

impl Msg {
    /// A new message for the channel of `tx`, created by operation `origin`.
    pub fn new(ledger: &'static Ledger, tx: &Tx, discardable: bool, origin: &'static str) -> Msg {
        Msg {
            id: ledger.issue(),
            gen: tx.gen.clone(),
            ledger,
            discardable,
            origin,
            fate: Fate::Unresolved,
            panics: false,
        }
    }

    /// Arms the message's `Drop` to panic with [`DropPanic`] (once its fate is recorded;
    /// not while its thread is already unwinding).
    pub fn panicking(mut self) -> Msg {
        self.panics = true;
        self
    }

    /// The message's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The message was received from `rx`'s channel.
    pub fn received(mut self, rx: &Rx) {
        if !Arc::ptr_eq(&self.gen, &rx.gen) {
            self.ledger.problem(format!(
                "msg {} (from {}): received from a channel it was not sent on",
                self.id, self.origin
            ));
        }
        self.fate = Fate::Received;
    }

    /// The message came back in a send error on `tx`'s channel; `expected` is the id sent.
    pub fn returned(mut self, tx: &Tx, expected: u64) {
        if !Arc::ptr_eq(&self.gen, &tx.gen) || self.id != expected {
            self.ledger.problem(format!(
                "{}: send of msg {expected} returned msg {} of another channel/send",
                self.origin, self.id
            ));
        }
        self.fate = Fate::Returned;
    }
}

impl Drop for Msg {
    fn drop(&mut self) {
        let unwinding = std::thread::panicking();
        let (counters, flags): (&[u32], u16) = match self.fate {
            Fate::Received => (&[RECV, DROP], 0),
            Fate::Returned => (&[RET, DROP], 0),
            Fate::Unresolved => {
                let dead = self.gen.dead.load(Ordering::Acquire);
                if !dead && !self.discardable && !unwinding {
                    self.ledger.problem(format!(
                        "msg {} (from {}, cap {:?}): dropped unreceived by thread {:?} while \
                         its channel still had receivers",
                        self.id,
                        self.origin,
                        self.gen.cap,
                        std::thread::current().name()
                    ));
                }
                let mut f = 0;
                if dead {
                    f |= GEN_DEAD;
                }
                if self.discardable {
                    f |= DISCARDABLE;
                }
                if unwinding {
                    f |= UNWOUND;
                }
                (&[LOST, DROP], f)
            }
        };
        self.ledger.record(self.id, counters, flags, true);
        if self.panics {
            let p = &self.ledger.drop_panics;
            if unwinding {
                p.suppressed.fetch_add(1, Ordering::AcqRel);
            } else {
                p.thrown.fetch_add(1, Ordering::AcqRel);
                std::panic::panic_any(DropPanic(self.id));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(l: &Ledger) -> u64 {
        l.problems().0
    }

    #[test]
    fn settled_messages_pass() {
        let l = Ledger::leak();
        let (tx, rx) = channel(Some(4));
        Msg::new(l, &tx, false, "t").received(&rx);
        let m = Msg::new(l, &tx, false, "t");
        let id = m.id();
        m.returned(&tx, id);
        let m = Msg::new(l, &tx, true, "t"); // an unchosen select arm
        drop(m);
        tx.tx.send(Msg::new(l, &tx, false, "t")).unwrap();
        drop(rx); // the buffered message goes with the channel
        let f = l.finish();
        assert_eq!(problems(l), 0, "{:?}", l.problems());
        assert_eq!(
            (
                f.issued,
                f.received,
                f.returned,
                f.discarded,
                f.lost_with_channel
            ),
            (4, 1, 1, 1, 1)
        );
    }

    #[test]
    fn lost_message_is_caught() {
        let l = Ledger::leak();
        let (tx, _rx) = channel(Some(0));
        drop(Msg::new(l, &tx, false, "t")); // vanished while the channel had receivers
        l.finish();
        assert_eq!(problems(l), 1);
    }

    #[test]
    fn sent_then_lost_is_caught() {
        let l = Ledger::leak();
        let (tx, _rx) = channel(Some(0));
        let m = Msg::new(l, &tx, true, "t");
        l.sent(m.id());
        drop(m);
        l.finish();
        assert_eq!(problems(l), 1);
    }

    #[test]
    fn unchosen_arm_that_was_received_is_caught() {
        let l = Ledger::leak();
        let (tx, rx) = channel(Some(1));
        let m = Msg::new(l, &tx, true, "t");
        l.unchosen(m.id());
        m.received(&rx); // a select performed two operations
        let d = Msg::new(l, &tx, true, "t");
        l.unchosen(d.id());
        drop(d); // the normal case: dropped with the select
        l.finish();
        assert_eq!(problems(l), 1, "{:?}", l.problems());
    }

    #[test]
    fn wrong_channel_and_duplicates_are_caught() {
        let l = Ledger::leak();
        let (tx, _rx) = channel(Some(0));
        let (_tx2, rx2) = channel(Some(0));
        Msg::new(l, &tx, false, "t").received(&rx2);
        assert_eq!(problems(l), 1);
        let m = Msg::new(l, &tx, false, "t");
        let twin = Msg {
            id: m.id,
            gen: m.gen.clone(),
            ledger: l,
            discardable: false,
            origin: "twin",
            fate: Fate::Unresolved,
            panics: false,
        };
        twin.received(&_rx);
        m.received(&_rx);
        l.finish();
        assert!(problems(l) >= 3, "{:?}", l.problems());
    }

    #[test]
    fn complete_segments_are_freed_and_late_events_caught() {
        let l = Ledger::leak();
        let (tx, rx) = channel(None);
        for _ in 0..SEG {
            Msg::new(l, &tx, false, "t").received(&rx);
        }
        let straggler = Msg::new(l, &tx, false, "t");
        let mut twin = Msg::new(l, &tx, false, "t");
        twin.id = 0; // pretends to be a message of the first segment
        l.sweep();
        l.sweep();
        assert_eq!(l.live_segments(), 2);
        l.sweep();
        assert_eq!(l.live_segments(), 1);
        twin.received(&rx);
        straggler.received(&rx);
        let f = l.finish();
        assert_eq!(f.late_events, 1);
        assert!(problems(l) >= 1);
    }
}
