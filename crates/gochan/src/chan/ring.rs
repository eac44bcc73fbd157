//! The lock-free buffer of a bounded channel: a slot-stamped ring after Dmitry Vyukov's
//! bounded MPMC queue, as crossbeam-channel's array flavor builds it, plus one bit in each
//! of `head` and `tail` that sends the operations to the channel's lock.
//!
//! # The ring
//! `head` and `tail` hold a *position* shifted left by one; bit 0 is the SLOW bit. A
//! position is `lap + index`: `index < cap` names a slot, `lap` is a multiple of
//! `one_lap` (the power of two above `cap`), so positions only grow (modulo 2^63). Each
//! slot has a `stamp`:
//! - `stamp == pos`: the slot is free for the send at tail position `pos`;
//! - `stamp == pos + 1`: it holds the value of the send at `pos`, for the receive at head
//!   position `pos`;
//! - after that receive, `stamp == pos + one_lap`: free for the next lap's send.
//!
//! A send reserves its slot by moving `tail` with a CAS, then writes the value and
//! publishes it by storing the stamp (Release); a receive reserves by moving `head`, reads,
//! and frees the slot with the next lap's stamp. Between the CAS and the stamp store an
//! operation is *in flight*: it has already happened for everyone counting positions, and
//! whoever meets its slot waits for the stamp (a few instructions, unless the thread is
//! preempted right there; it then waits for that thread to run again, as crossbeam's ring
//! does).
//!
//! # The SLOW bit
//! An operation called with `slow_ok == false` (the lock-free fast path) gives up with
//! `Slow` when it finds SLOW set in the word it would move (`tail` for a send, `head` for a
//! receive; an empty ring also reports `Slow` if `tail` has it, so a receive of a closed
//! channel goes to the lock and learns it is closed). The channel sets and clears the bits
//! only under its lock (`core.rs` says when); an operation holding the lock passes
//! `slow_ok == true` and keeps the bit as it is.
//!
//! Why a waiting party can rely on the bit: setting it is an RMW on the very word the
//! fast path moves with a CAS, so one of the two comes first in that word's modification
//! order. If the bit came first, the fast CAS fails and the operation goes to the lock;
//! if the CAS came first, the party that set the bit sees the moved position (and waits
//! for the stamp if the operation is in flight). So once the bits are set, nothing enters
//! or leaves the ring except under the lock: a party that found the ring empty (full)
//! after setting them can queue itself and be sure the next send (receive) finds it.
//!
//! # Safety
//! A slot's value is written only by the send that reserved it (stamp `pos`, now its own)
//! and read only by the receive that reserved it (stamp `pos + 1`, published by the send's
//! Release store and read with Acquire). No slot is reserved twice: reservations are CASes
//! on `tail` / `head`, and the stamp checks keep a lap from overtaking the previous one.

use std::mem::MaybeUninit;

use crossbeam_utils::CachePadded;

use super::queue::{backoff, contended, Pop, Push};
use crate::prim::{AtomicUsize, Ordering, UnsafeCell};

/// The SLOW bit of `head` / `tail`.
const SLOW: usize = 1;

/// Positions are kept modulo 2^63 (they are stored shifted left by one).
const POS_MASK: usize = usize::MAX >> 1;

/// A bounded lock-free ring of `cap >= 1` slots (see the module docs).
pub(crate) struct Ring<T> {
    /// The next receive's position << 1, | SLOW.
    head: CachePadded<AtomicUsize>,
    /// The next send's position << 1, | SLOW.
    tail: CachePadded<AtomicUsize>,
    slots: Box<[Slot<T>]>,
    cap: usize,
    /// A power of two above `cap`: positions `lap + index`, `index < cap`.
    one_lap: usize,
}

struct Slot<T> {
    /// See the module docs.
    stamp: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: values move between threads through the ring (hence `T: Send`); every access to
// a slot's value is ordered by the stamp protocol (module docs).
unsafe impl<T: Send> Send for Ring<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Ring<T> {}

impl<T> Ring<T> {
    /// An empty ring of `cap` slots.
    pub(crate) fn new(cap: usize) -> Ring<T> {
        assert!((1..POS_MASK / 4).contains(&cap));
        let one_lap = (cap + 1).next_power_of_two();
        let slots = (0..cap)
            .map(|i| Slot {
                stamp: AtomicUsize::new(i),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect();
        Ring {
            head: CachePadded::new(AtomicUsize::new(0)),
            tail: CachePadded::new(AtomicUsize::new(0)),
            slots,
            cap,
            one_lap,
        }
    }

    /// The position after `pos`.
    #[inline]
    fn next(&self, pos: usize) -> usize {
        let index = pos & (self.one_lap - 1);
        if index + 1 < self.cap {
            pos + 1
        } else {
            (pos & !(self.one_lap - 1)).wrapping_add(self.one_lap) & POS_MASK
        }
    }

    #[inline]
    fn slot(&self, pos: usize) -> &Slot<T> {
        &self.slots[pos & (self.one_lap - 1)]
    }

    /// Buffers `value`. Without `slow_ok`, gives up on a SLOW tail.
    #[inline]
    pub(crate) fn push(&self, value: T, slow_ok: bool) -> Result<(), Push<T>> {
        // The common case inline: a free slot, no SLOW bit, no race.
        let tail = self.tail.load(Ordering::Relaxed);
        let pos = tail >> 1;
        let slot = self.slot(pos);
        if tail & SLOW == 0
            && slot.stamp.load(Ordering::Acquire) == pos
            && self
                .tail
                .compare_exchange_weak(
                    tail,
                    self.next(pos) << 1,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            // SAFETY: the CAS reserved this slot for us (module docs).
            slot.value.with_mut(|p| unsafe { (*p).write(value) });
            slot.stamp.store(pos + 1, Ordering::Release);
            return Ok(());
        }
        self.push_loop(value, slow_ok)
    }

    /// [`Ring::push`] past its first try: full, SLOW, or racing other sends.
    #[inline(never)]
    fn push_loop(&self, value: T, slow_ok: bool) -> Result<(), Push<T>> {
        let mut spins = 0;
        let mut tail = self.tail.load(Ordering::Relaxed);
        loop {
            if tail & SLOW != 0 && !slow_ok {
                return Err(Push::Slow(value));
            }
            let pos = tail >> 1;
            let slot = self.slot(pos);
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == pos {
                let new = (self.next(pos) << 1) | (tail & SLOW);
                match self.tail.compare_exchange_weak(
                    tail,
                    new,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: the CAS reserved this slot for us (module docs): no one
                        // else reads or writes its value until we publish the stamp.
                        slot.value.with_mut(|p| unsafe { (*p).write(value) });
                        slot.stamp.store(pos + 1, Ordering::Release);
                        return Ok(());
                    }
                    Err(t) => {
                        contended(&mut spins);
                        tail = t;
                    }
                }
            } else if stamp.wrapping_add(self.one_lap) & POS_MASK == pos + 1 {
                // The slot still holds the previous lap's value: full, unless its receive
                // is in flight.
                crate::prim::fence_seq_cst();
                let head = self.head.load(Ordering::Relaxed);
                if (head >> 1).wrapping_add(self.one_lap) & POS_MASK == pos {
                    return Err(Push::Full(value));
                }
                backoff(&mut spins);
                tail = self.tail.load(Ordering::Relaxed);
            } else {
                // Another send moved `tail` past us, or a receive is in flight.
                backoff(&mut spins);
                tail = self.tail.load(Ordering::Relaxed);
            }
        }
    }

    /// Takes the oldest value. Without `slow_ok`, gives up on a SLOW head, or on an empty
    /// ring whose tail is SLOW.
    #[inline]
    pub(crate) fn pop(&self, slow_ok: bool) -> Result<T, Pop> {
        // The common case inline: a published value, no SLOW bit, no race.
        let head = self.head.load(Ordering::Relaxed);
        let pos = head >> 1;
        let slot = self.slot(pos);
        if head & SLOW == 0
            && slot.stamp.load(Ordering::Acquire) == pos + 1
            && self
                .head
                .compare_exchange_weak(
                    head,
                    self.next(pos) << 1,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            // SAFETY: the CAS reserved this slot's value for us; the Acquire load of the
            // stamp saw the send's Release store after its write.
            let value = slot.value.with(|p| unsafe { (*p).assume_init_read() });
            slot.stamp
                .store(pos.wrapping_add(self.one_lap) & POS_MASK, Ordering::Release);
            return Ok(value);
        }
        self.pop_loop(slow_ok)
    }

    /// [`Ring::pop`] past its first try: empty, SLOW, or racing other receives.
    #[inline(never)]
    fn pop_loop(&self, slow_ok: bool) -> Result<T, Pop> {
        let mut spins = 0;
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            if head & SLOW != 0 && !slow_ok {
                return Err(Pop::Slow);
            }
            let pos = head >> 1;
            let slot = self.slot(pos);
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == pos + 1 {
                let new = (self.next(pos) << 1) | (head & SLOW);
                match self.head.compare_exchange_weak(
                    head,
                    new,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: the CAS reserved this slot's value for us; the Acquire
                        // load of the stamp saw the send's Release store after its write.
                        let value = slot.value.with(|p| unsafe { (*p).assume_init_read() });
                        slot.stamp
                            .store(pos.wrapping_add(self.one_lap) & POS_MASK, Ordering::Release);
                        return Ok(value);
                    }
                    Err(h) => {
                        contended(&mut spins);
                        head = h;
                    }
                }
            } else if stamp == pos {
                // Nothing published here: empty, unless a send is in flight.
                crate::prim::fence_seq_cst();
                let tail = self.tail.load(Ordering::Relaxed);
                if tail >> 1 == pos {
                    if tail & SLOW != 0 && !slow_ok {
                        return Err(Pop::Slow);
                    }
                    return Err(Pop::Empty);
                }
                backoff(&mut spins);
                head = self.head.load(Ordering::Relaxed);
            } else {
                backoff(&mut spins);
                head = self.head.load(Ordering::Relaxed);
            }
        }
    }

    /// Sets the SLOW bit of `head` (if `head`) and of `tail` (if `tail`). Under the
    /// channel lock only.
    pub(crate) fn set_slow(&self, head: bool, tail: bool) {
        if head {
            self.head.fetch_or(SLOW, Ordering::SeqCst);
        }
        if tail {
            self.tail.fetch_or(SLOW, Ordering::SeqCst);
        }
    }

    /// Clears the SLOW bit of `head` (if `head`) and of `tail` (if `tail`). Under the
    /// channel lock only.
    pub(crate) fn clear_slow(&self, head: bool, tail: bool) {
        if head {
            self.head.fetch_and(!SLOW, Ordering::Release);
        }
        if tail {
            self.tail.fetch_and(!SLOW, Ordering::Release);
        }
    }

    /// The number of values buffered (reserved sends minus reserved receives), read at
    /// one moment.
    pub(crate) fn len(&self) -> usize {
        loop {
            let tail = self.tail.load(Ordering::SeqCst);
            let head = self.head.load(Ordering::SeqCst);
            if self.tail.load(Ordering::SeqCst) == tail {
                return self.distance(head >> 1, tail >> 1);
            }
        }
    }

    /// Values between head position `h` and tail position `t`.
    fn distance(&self, h: usize, t: usize) -> usize {
        let hix = h & (self.one_lap - 1);
        let tix = t & (self.one_lap - 1);
        if hix < tix {
            tix - hix
        } else if hix > tix {
            self.cap - hix + tix
        } else if t == h {
            0
        } else {
            self.cap
        }
    }

    /// Whether nothing is buffered.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A number that changes whenever a value enters or leaves the ring (the sum of the
    /// two positions; select's validated pass adds it to the channel's version).
    pub(crate) fn moves(&self) -> u64 {
        let h = self.head.load(Ordering::Acquire) >> 1;
        let t = self.tail.load(Ordering::Acquire) >> 1;
        (h as u64).wrapping_add(t as u64)
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        // `&mut self`: no operation is in flight, every reserved slot is published.
        let head = self.head.load(Ordering::Relaxed) >> 1;
        let tail = self.tail.load(Ordering::Relaxed) >> 1;
        let mut pos = head;
        for _ in 0..self.distance(head, tail) {
            let slot = self.slot(pos);
            // SAFETY: positions in head..tail hold published, unreceived values.
            slot.value.with_mut(|p| unsafe { (*p).assume_init_drop() });
            pos = self.next(pos);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn fifo_full_empty_and_laps() {
        let r = Ring::new(3);
        for lap in 0..5 {
            for i in 0..3 {
                assert!(r.push(lap * 10 + i, false).is_ok());
            }
            assert!(matches!(r.push(99, false), Err(Push::Full(99))));
            assert_eq!(r.len(), 3);
            for i in 0..3 {
                assert_eq!(r.pop(false), Ok(lap * 10 + i));
            }
            assert_eq!(r.pop(false), Err(Pop::Empty));
            assert!(r.is_empty());
        }
    }

    #[test]
    fn slow_bits_send_fast_paths_to_the_lock() {
        let r = Ring::new(2);
        r.push(1, false).ok().unwrap();
        r.set_slow(true, true);
        assert!(matches!(r.push(2, false), Err(Push::Slow(2))));
        assert_eq!(r.pop(false), Err(Pop::Slow));
        // Under the lock the bits are ignored and kept.
        assert!(r.push(2, true).is_ok());
        assert_eq!(r.pop(true), Ok(1));
        assert!(matches!(r.push(3, false), Err(Push::Slow(3))));
        // A SLOW tail alone: receives drain fast, an empty ring reports Slow.
        r.clear_slow(true, false);
        assert_eq!(r.pop(false), Ok(2));
        assert_eq!(r.pop(false), Err(Pop::Slow));
        r.clear_slow(true, true);
        assert_eq!(r.pop(false), Err(Pop::Empty));
        let m = r.moves();
        r.push(4, false).ok().unwrap();
        assert_ne!(r.moves(), m);
    }

    #[test]
    fn drop_drops_buffered_values() {
        let v = std::sync::Arc::new(());
        let r = Ring::new(4);
        for _ in 0..6 {
            r.push(v.clone(), false).ok().unwrap();
            if std::sync::Arc::strong_count(&v) > 3 {
                drop(r.pop(false).unwrap());
            }
        }
        assert_eq!(r.len(), 2);
        drop(r);
        assert_eq!(std::sync::Arc::strong_count(&v), 1);
    }
}
