//! The lock-free buffer of an unbounded channel: a linked list of blocks of slots, as
//! crossbeam-channel's list flavor builds it, plus the SLOW bit of `ring.rs` in `head` and
//! `tail`.
//!
//! # The list
//! `head.index` / `tail.index` hold a position shifted left by [`SHIFT`]; bit 0 is SLOW
//! (both words), bit 1 of `head.index` is HAS_NEXT (the head's block is not the last, so a
//! receive need not look at `tail` to know a value is there). Positions run `lap * LAP +
//! offset`; offsets `0..BLOCK_CAP` name the slots of the lap's block, and offset
//! `BLOCK_CAP` is a transition: the operation that took the last slot is installing (send)
//! or moving to (receive) the next block, and others wait for it.
//!
//! A send reserves a slot by moving `tail.index` with a CAS, writes the value and stores
//! the slot's WRITE state (Release). The send that takes a block's last slot installs the
//! next block (allocated beforehand, so nobody waits on an allocation). A receive checks
//! `tail` (unless HAS_NEXT says a later block exists), reserves a slot by moving
//! `head.index`, waits for WRITE (a send in flight), reads, and stores READ. Slot states
//! are plain stores, not read-modify-writes (crossbeam's `fetch_or`s were the list's main
//! cost here): each is written by one party only, WRITE by the send, then READ by the
//! receive that saw WRITE.
//!
//! A block is freed by the receive of its last slot once every other slot is READ (a
//! receive stores READ as its last touch of the block). If one is still being read, the
//! block is *retired* instead: pushed on the `retired` stack, whose blocks are checked again
//! (and freed once fully read) by later last-slot receives and by `Drop`. Writers are done
//! with a slot before its reader can see WRITE, so they never touch a retired block.
//!
//! # Spare block
//! A fully read block is not freed but kept as the list's spare (the previous spare is
//! freed), and the next send that needs a block takes it and resets its slot states. With
//! one producer and one consumer the same few blocks then circulate: the allocator never
//! runs, and the producer never writes into memory fresh from the allocator (a consumer's
//! frees land in its own thread cache, so the producer's `malloc` kept returning new,
//! cache-cold memory). Reusing a block is as safe as freeing it: both happen only once no
//! one touches it.
//!
//! # The SLOW bit
//! As in `ring.rs`: set and cleared only under the channel's lock, by RMWs on the same words
//! the lock-free operations move with CASes, so once it is set nothing enters or leaves the
//! list without the lock. Every other change of a word keeps it: CASes carry it over, the
//! send installing a block moves `tail.index` with `fetch_add`, and the receive moving to the
//! next block updates `head.index` with a CAS loop.
//!
//! # Safety
//! A slot's value is written once by the send that reserved it and read once by the receive
//! that reserved it, after WRITE (Release/Acquire). A block is freed once, after every slot
//! was read (READ loaded with Acquire): by its last slot's receive, or from the `retired`
//! stack, which is taken whole with a swap so each retired block has one owner at a time.
//! No position is reserved twice (CASes), and `head` never passes `tail`.

use std::mem::MaybeUninit;
use std::ptr;

use crossbeam_utils::CachePadded;

use super::queue::{backoff, Pop, Push};
use crate::prim::{AtomicPtr, AtomicUsize, Ordering, UnsafeCell};

/// Positions per lap: `BLOCK_CAP` slots plus the transition offset. Small under loom, so
/// the models reach a block's end.
const LAP: usize = if cfg!(loom) { 3 } else { 32 };
/// Slots per block.
const BLOCK_CAP: usize = LAP - 1;
/// Positions are stored shifted left by this (bits 0 and 1 are flags).
const SHIFT: usize = 2;
/// Bit 0 of `head.index` and `tail.index`: take the channel's lock.
const SLOW: usize = 1;
/// Bit 1 of `head.index`: the head's block is not the last one.
const HAS_NEXT: usize = 2;
/// The flag bits.
const FLAGS: usize = (1 << SHIFT) - 1;

/// Slot states (stored, never combined by an RMW: see the module docs).
const WRITE: usize = 1;
const READ: usize = 2;

struct Slot<T> {
    value: UnsafeCell<MaybeUninit<T>>,
    state: AtomicUsize,
}

impl<T> Slot<T> {
    /// Waits until the send that reserved this slot has written it.
    fn wait_write(&self) {
        let mut spins = 0;
        while self.state.load(Ordering::Acquire) & WRITE == 0 {
            backoff(&mut spins);
        }
    }
}

struct Block<T> {
    next: AtomicPtr<Block<T>>,
    /// The next block on the `retired` stack.
    next_retired: AtomicPtr<Block<T>>,
    slots: [Slot<T>; BLOCK_CAP],
}

impl<T> Block<T> {
    fn new() -> Box<Block<T>> {
        Box::new(Block {
            next: AtomicPtr::new(ptr::null_mut()),
            next_retired: AtomicPtr::new(ptr::null_mut()),
            slots: std::array::from_fn(|_| Slot {
                value: UnsafeCell::new(MaybeUninit::uninit()),
                state: AtomicUsize::new(0),
            }),
        })
    }

    /// Waits until the send that took this block's last slot has linked the next block.
    fn wait_next(&self) -> *mut Block<T> {
        let mut spins = 0;
        loop {
            let next = self.next.load(Ordering::Acquire);
            if !next.is_null() {
                return next;
            }
            backoff(&mut spins);
        }
    }

    /// Whether every slot but the last was read (the last one's reader asks).
    fn others_read(&self) -> bool {
        self.slots[..BLOCK_CAP - 1]
            .iter()
            .all(|s| s.state.load(Ordering::Acquire) & READ != 0)
    }
}

struct Position<T> {
    index: AtomicUsize,
    block: AtomicPtr<Block<T>>,
}

/// An unbounded lock-free list of values (see the module docs).
pub(crate) struct List<T> {
    head: CachePadded<Position<T>>,
    tail: CachePadded<Position<T>>,
    /// Blocks whose last slot was read while another slot was still being read.
    retired: AtomicPtr<Block<T>>,
    /// One fully read block kept for the next send that needs a block (see "Spare
    /// block" in the module docs); null if none.
    spare: AtomicPtr<Block<T>>,
}

// SAFETY: values move between threads through the list (hence `T: Send`); every access to
// a slot or block is ordered by the protocol in the module docs.
unsafe impl<T: Send> Send for List<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for List<T> {}

impl<T> List<T> {
    /// An empty list (its first block is allocated by the first send).
    pub(crate) fn new() -> List<T> {
        let pos = || Position {
            index: AtomicUsize::new(0),
            block: AtomicPtr::new(ptr::null_mut()),
        };
        List {
            head: CachePadded::new(pos()),
            tail: CachePadded::new(pos()),
            retired: AtomicPtr::new(ptr::null_mut()),
            spare: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// A block for a send to install: the spare one, reset, or a new one.
    fn new_block(&self) -> Box<Block<T>> {
        let b = self.spare.swap(ptr::null_mut(), Ordering::Acquire);
        if b.is_null() {
            return Block::new();
        }
        // SAFETY: the swap made the spare ours alone; it was fully read before it was
        // put there (Release, paired with the Acquire above), so nobody touches it.
        let b = unsafe { Box::from_raw(b) };
        b.next.store(ptr::null_mut(), Ordering::Relaxed);
        b.next_retired.store(ptr::null_mut(), Ordering::Relaxed);
        for s in &b.slots {
            s.state.store(0, Ordering::Relaxed);
        }
        b
    }

    /// Disposes of a fully read block: it becomes the spare (the previous spare is freed).
    ///
    /// # Safety
    /// Every slot of `block` was read and nobody touches it any more (it may be freed).
    unsafe fn recycle(&self, block: *mut Block<T>) {
        let old = self.spare.swap(block, Ordering::AcqRel);
        if !old.is_null() {
            // SAFETY: the swap took the old spare out; nobody else can reach it.
            drop(unsafe { Box::from_raw(old) });
        }
    }

    /// Appends `value`. Without `slow_ok`, gives up on a SLOW tail (never full).
    #[inline]
    pub(crate) fn push(&self, value: T, slow_ok: bool) -> Result<(), Push<T>> {
        // The common case inline: not a block's last slot, no SLOW bit, no race.
        let tail = self.tail.index.load(Ordering::Acquire);
        let block = self.tail.block.load(Ordering::Acquire);
        let offset = (tail >> SHIFT) % LAP;
        if tail & SLOW == 0
            && offset + 1 < BLOCK_CAP
            && !block.is_null()
            && self
                .tail
                .index
                .compare_exchange_weak(
                    tail,
                    tail + (1 << SHIFT),
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            // SAFETY: as in `push_loop`: the CAS reserved this slot of `block` (the CAS
            // succeeding proves `block` is the tail's block).
            let slot = unsafe { &(*block).slots[offset] };
            // SAFETY: the slot is ours to write (reserved, not yet WRITE).
            slot.value.with_mut(|p| unsafe { (*p).write(value) });
            slot.state.store(WRITE, Ordering::Release);
            return Ok(());
        }
        self.push_loop(value, slow_ok)
    }

    /// [`List::push`] past its first try.
    #[inline(never)]
    fn push_loop(&self, value: T, slow_ok: bool) -> Result<(), Push<T>> {
        let mut spins = 0;
        let mut tail = self.tail.index.load(Ordering::Acquire);
        let mut block = self.tail.block.load(Ordering::Acquire);
        let mut next_block: Option<Box<Block<T>>> = None;
        loop {
            if tail & SLOW != 0 && !slow_ok {
                return Err(Push::Slow(value));
            }
            let offset = (tail >> SHIFT) % LAP;
            if offset == BLOCK_CAP {
                // Another send is installing the next block.
                backoff(&mut spins);
                tail = self.tail.index.load(Ordering::Acquire);
                block = self.tail.block.load(Ordering::Acquire);
                continue;
            }
            if offset + 1 == BLOCK_CAP && next_block.is_none() {
                next_block = Some(self.new_block());
            }
            if block.is_null() {
                // The first send installs the first block.
                let new = Box::into_raw(self.new_block());
                if self
                    .tail
                    .block
                    .compare_exchange(block, new, Ordering::Release, Ordering::Relaxed)
                    .is_ok()
                {
                    self.head.block.store(new, Ordering::Release);
                    block = new;
                } else {
                    // SAFETY: `new` was never shared: the CAS failed.
                    next_block = Some(unsafe { Box::from_raw(new) });
                    tail = self.tail.index.load(Ordering::Acquire);
                    block = self.tail.block.load(Ordering::Acquire);
                    continue;
                }
            }
            let new_tail = tail + (1 << SHIFT);
            match self.tail.index.compare_exchange_weak(
                tail,
                new_tail,
                Ordering::SeqCst,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    if offset + 1 == BLOCK_CAP {
                        // We took the block's last slot: install the next block, then
                        // leave the transition offset (keeping the SLOW bit).
                        let next = Box::into_raw(next_block.take().expect("allocated above"));
                        self.tail.block.store(next, Ordering::Release);
                        self.tail.index.fetch_add(1 << SHIFT, Ordering::Release);
                        // SAFETY: `block` is live: its last slot (ours) is not yet read.
                        unsafe { (*block).next.store(next, Ordering::Release) };
                    }
                    // SAFETY: the CAS reserved this slot; its block is live until the slot
                    // is read, which waits for our WRITE.
                    let slot = unsafe { &(*block).slots[offset] };
                    // SAFETY: the slot is ours to write (reserved, not yet WRITE).
                    slot.value.with_mut(|p| unsafe { (*p).write(value) });
                    slot.state.store(WRITE, Ordering::Release);
                    return Ok(());
                }
                Err(t) => {
                    tail = t;
                    block = self.tail.block.load(Ordering::Acquire);
                    backoff(&mut spins);
                }
            }
        }
    }

    /// Takes the oldest value. Without `slow_ok`, gives up on a SLOW head, or on an empty
    /// list whose tail is SLOW.
    #[inline]
    pub(crate) fn pop(&self, slow_ok: bool) -> Result<T, Pop> {
        // The common case inline: a later block exists (so this slot is taken), not a
        // block's last slot, no SLOW bit, no race.
        let head = self.head.index.load(Ordering::Acquire);
        let block = self.head.block.load(Ordering::Acquire);
        let offset = (head >> SHIFT) % LAP;
        if head & (SLOW | HAS_NEXT) == HAS_NEXT
            && offset + 1 < BLOCK_CAP
            && !block.is_null()
            && self
                .head
                .index
                .compare_exchange_weak(
                    head,
                    head + (1 << SHIFT),
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            // SAFETY: as in `pop_loop`: the CAS reserved this slot of `block`, which is
            // freed only after we store READ.
            let slot = unsafe { &(*block).slots[offset] };
            slot.wait_write();
            // SAFETY: WRITE seen (Acquire): the value is written; the slot is ours.
            let value = slot.value.with(|p| unsafe { (*p).assume_init_read() });
            slot.state.store(WRITE | READ, Ordering::Release);
            return Ok(value);
        }
        self.pop_loop(slow_ok)
    }

    /// [`List::pop`] past its first try.
    #[inline(never)]
    fn pop_loop(&self, slow_ok: bool) -> Result<T, Pop> {
        let mut spins = 0;
        let mut head = self.head.index.load(Ordering::Acquire);
        let mut block = self.head.block.load(Ordering::Acquire);
        loop {
            if head & SLOW != 0 && !slow_ok {
                return Err(Pop::Slow);
            }
            let offset = (head >> SHIFT) % LAP;
            if offset == BLOCK_CAP {
                // Another receive is moving to the next block.
                backoff(&mut spins);
                head = self.head.index.load(Ordering::Acquire);
                block = self.head.block.load(Ordering::Acquire);
                continue;
            }
            // Nothing here touches `block` before the CAS: only a successful CAS proves it
            // is still the head's block, and so not yet freed.
            let mut new_head = head + (1 << SHIFT);
            if head & HAS_NEXT == 0 {
                crate::prim::fence_seq_cst();
                let tail = self.tail.index.load(Ordering::Relaxed);
                if head >> SHIFT == tail >> SHIFT {
                    if tail & SLOW != 0 && !slow_ok {
                        return Err(Pop::Slow);
                    }
                    return Err(Pop::Empty);
                }
                if (head >> SHIFT) / LAP != (tail >> SHIFT) / LAP {
                    new_head |= HAS_NEXT;
                }
            }
            if block.is_null() {
                // The first send is installing the first block.
                backoff(&mut spins);
                head = self.head.index.load(Ordering::Acquire);
                block = self.head.block.load(Ordering::Acquire);
                continue;
            }
            match self.head.index.compare_exchange_weak(
                head,
                new_head,
                Ordering::SeqCst,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    if offset + 1 == BLOCK_CAP {
                        // SAFETY: `block` is live: its last slot (ours) is not yet read.
                        let next = unsafe { (*block).wait_next() };
                        // SAFETY: `next` was linked by the send of our slot and is live.
                        let next_has_next =
                            unsafe { !(*next).next.load(Ordering::Relaxed).is_null() };
                        self.head.block.store(next, Ordering::Release);
                        self.leave_transition(new_head, next_has_next);
                    }
                    // SAFETY: the CAS reserved this slot; the block is freed only after
                    // we set READ (or by us).
                    let slot = unsafe { &(*block).slots[offset] };
                    slot.wait_write();
                    // SAFETY: WRITE seen (Acquire): the value is written; the slot is ours.
                    let value = slot.value.with(|p| unsafe { (*p).assume_init_read() });
                    if offset + 1 == BLOCK_CAP {
                        // SAFETY: we read the last slot: the block is ours to free.
                        unsafe { self.release(block) };
                    } else {
                        // Our last touch of the block.
                        slot.state.store(WRITE | READ, Ordering::Release);
                    }
                    return Ok(value);
                }
                Err(h) => {
                    head = h;
                    block = self.head.block.load(Ordering::Acquire);
                    backoff(&mut spins);
                }
            }
        }
    }

    /// Frees `block`, whose last slot we read, once its other slots are read; else retires
    /// it. Then frees the retired blocks that are fully read by now.
    ///
    /// # Safety
    /// The caller read `block`'s last slot (so it alone frees it) and touches it no more.
    unsafe fn release(&self, block: *mut Block<T>) {
        // SAFETY: live until freed here (caller's contract).
        if unsafe { (*block).others_read() } {
            // SAFETY: every slot was read; nobody touches the block any more.
            unsafe { self.recycle(block) };
        } else {
            self.retire(block);
        }
        if !self.retired.load(Ordering::Relaxed).is_null() {
            self.reclaim();
        }
    }

    /// Pushes `block` on the `retired` stack.
    fn retire(&self, block: *mut Block<T>) {
        let mut top = self.retired.load(Ordering::Relaxed);
        loop {
            // SAFETY: `block` is ours (not yet on the stack).
            unsafe { (*block).next_retired.store(top, Ordering::Relaxed) };
            match self.retired.compare_exchange_weak(
                top,
                block,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(t) => top = t,
            }
        }
    }

    /// Takes the whole `retired` stack, frees its fully read blocks and retires the rest
    /// again.
    fn reclaim(&self) {
        let mut b = self.retired.swap(ptr::null_mut(), Ordering::Acquire);
        while !b.is_null() {
            // SAFETY: the swap made this chain ours alone; its blocks are live.
            let next = unsafe { (*b).next_retired.load(Ordering::Relaxed) };
            // SAFETY: as above.
            if unsafe { (*b).others_read() } {
                // SAFETY: fully read: nobody touches it any more.
                unsafe { self.recycle(b) };
            } else {
                self.retire(b);
            }
            b = next;
        }
    }

    /// Moves `head.index` from the transition offset (`at`, where our CAS left it) to the
    /// next block's first slot, keeping SLOW as it is now (it may be set or cleared by the
    /// lock holder meanwhile; nothing else moves the index during a transition).
    fn leave_transition(&self, at: usize, has_next: bool) {
        let mut next_index = ((at & !FLAGS).wrapping_add(1 << SHIFT)) & !FLAGS;
        if has_next {
            next_index |= HAS_NEXT;
        }
        let mut cur = self.head.index.load(Ordering::Relaxed);
        loop {
            let new = next_index | (cur & SLOW);
            match self.head.index.compare_exchange_weak(
                cur,
                new,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(c) => cur = c,
            }
        }
    }

    /// Sets the SLOW bit of `head` (if `head`) and of `tail` (if `tail`). Under the
    /// channel lock only.
    pub(crate) fn set_slow(&self, head: bool, tail: bool) {
        if head {
            self.head.index.fetch_or(SLOW, Ordering::SeqCst);
        }
        if tail {
            self.tail.index.fetch_or(SLOW, Ordering::SeqCst);
        }
    }

    /// Clears the SLOW bit of `head` (if `head`) and of `tail` (if `tail`). Under the
    /// channel lock only.
    pub(crate) fn clear_slow(&self, head: bool, tail: bool) {
        if head {
            self.head.index.fetch_and(!SLOW, Ordering::Release);
        }
        if tail {
            self.tail.index.fetch_and(!SLOW, Ordering::Release);
        }
    }

    /// The number of values in the list, read at one moment.
    pub(crate) fn len(&self) -> usize {
        loop {
            let mut tail = self.tail.index.load(Ordering::SeqCst);
            let mut head = self.head.index.load(Ordering::SeqCst);
            if self.tail.index.load(Ordering::SeqCst) == tail {
                tail >>= SHIFT;
                head >>= SHIFT;
                // Indices on a transition offset count as the next block's first slot.
                if tail % LAP == BLOCK_CAP {
                    tail = tail.wrapping_add(1);
                }
                if head % LAP == BLOCK_CAP {
                    head = head.wrapping_add(1);
                }
                // Rotate so that head falls in the first lap.
                let lap = head / LAP;
                tail = tail.wrapping_sub(lap * LAP);
                head = head.wrapping_sub(lap * LAP);
                return tail - head - tail / LAP;
            }
        }
    }

    /// Whether the list is empty.
    pub(crate) fn is_empty(&self) -> bool {
        let head = self.head.index.load(Ordering::SeqCst);
        let tail = self.tail.index.load(Ordering::SeqCst);
        head >> SHIFT == tail >> SHIFT
    }

    /// A number that changes whenever a value enters or leaves the list.
    pub(crate) fn moves(&self) -> u64 {
        let h = self.head.index.load(Ordering::Acquire) >> SHIFT;
        let t = self.tail.index.load(Ordering::Acquire) >> SHIFT;
        (h as u64).wrapping_add(t as u64)
    }
}

impl<T> Drop for List<T> {
    fn drop(&mut self) {
        // `&mut self`: nothing is in flight; every reserved slot was written.
        let mut head = self.head.index.load(Ordering::Relaxed) >> SHIFT;
        let tail = self.tail.index.load(Ordering::Relaxed) >> SHIFT;
        let mut block = self.head.block.load(Ordering::Relaxed);
        while head != tail {
            let offset = head % LAP;
            if offset < BLOCK_CAP {
                // SAFETY: positions in head..tail hold written, unread values, in live
                // blocks linked from the head's.
                unsafe {
                    (*block).slots[offset]
                        .value
                        .with_mut(|p| (*p).assume_init_drop())
                };
            } else {
                // SAFETY: every value of this block is gone; the next one is linked.
                let next = unsafe { (*block).next.load(Ordering::Relaxed) };
                // SAFETY: as above: no position of this block is used any more.
                drop(unsafe { Box::from_raw(block) });
                block = next;
            }
            head = head.wrapping_add(1);
        }
        if !block.is_null() {
            // SAFETY: the last block, owned by the list alone now.
            drop(unsafe { Box::from_raw(block) });
        }
        let mut b = self.retired.load(Ordering::Relaxed);
        while !b.is_null() {
            // SAFETY: retired blocks are owned by the list; every reader is done
            // (`&mut self`), and their values were all read.
            let next = unsafe { (*b).next_retired.load(Ordering::Relaxed) };
            // SAFETY: as above.
            drop(unsafe { Box::from_raw(b) });
            b = next;
        }
        let spare = self.spare.load(Ordering::Relaxed);
        if !spare.is_null() {
            // SAFETY: the spare is owned by the list alone.
            drop(unsafe { Box::from_raw(spare) });
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn fifo_across_blocks_and_len() {
        let l = List::new();
        assert!(l.is_empty());
        assert_eq!(l.pop(false), Err(Pop::Empty));
        for i in 0..200 {
            assert!(l.push(i, false).is_ok());
            assert_eq!(l.len(), i + 1);
        }
        for i in 0..150 {
            assert_eq!(l.pop(false), Ok(i));
        }
        assert_eq!(l.len(), 50);
        for i in 200..300 {
            assert!(l.push(i, false).is_ok());
        }
        for i in 150..300 {
            assert_eq!(l.pop(false), Ok(i));
        }
        assert!(l.is_empty());
        assert_eq!(l.len(), 0);
    }

    /// A fully read block becomes the spare and the next block install takes it back
    /// (reset: no stale WRITE lets a receive read an unwritten slot), keeping FIFO order
    /// and dropping every value exactly once.
    #[test]
    fn spare_block_is_reused_and_reset() {
        let l = List::new();
        for i in 0..BLOCK_CAP {
            l.push(i, false).ok().unwrap();
        }
        let first = l.head.block.load(Ordering::Relaxed);
        for i in 0..BLOCK_CAP {
            assert_eq!(l.pop(false), Ok(i));
        }
        assert_eq!(
            l.spare.load(Ordering::Relaxed),
            first,
            "the read block is the spare"
        );
        // Fill the current block: its last send installs the next block, the spare.
        for i in 0..BLOCK_CAP {
            l.push(i, false).ok().unwrap();
        }
        assert!(
            l.spare.load(Ordering::Relaxed).is_null(),
            "the spare was not taken"
        );
        assert_eq!(l.tail.block.load(Ordering::Relaxed), first);
        // SAFETY: `first` is the tail's block, live while `l` is.
        let fresh = unsafe {
            (*first)
                .slots
                .iter()
                .all(|s| s.state.load(Ordering::Relaxed) == 0)
        };
        assert!(fresh, "a reused block kept its slot states");
        // The reused block reads as empty until written.
        for i in 0..BLOCK_CAP {
            assert_eq!(l.pop(false), Ok(i));
        }
        assert_eq!(l.pop(false), Err(Pop::Empty));
        // Values of any type are dropped once, with a spare present at the list's drop.
        let v = std::sync::Arc::new(());
        let l = List::new();
        for _ in 0..3 * BLOCK_CAP + 1 {
            l.push(v.clone(), false).ok().unwrap();
        }
        for _ in 0..2 * BLOCK_CAP {
            drop(l.pop(false).ok().unwrap());
        }
        drop(l);
        assert_eq!(std::sync::Arc::strong_count(&v), 1);
    }

    #[test]
    fn slow_bits() {
        let l = List::new();
        l.push(1, false).ok().unwrap();
        l.set_slow(true, true);
        assert!(matches!(l.push(2, false), Err(Push::Slow(2))));
        assert_eq!(l.pop(false), Err(Pop::Slow));
        assert!(l.push(2, true).is_ok());
        assert_eq!(l.pop(true), Ok(1));
        l.clear_slow(true, false);
        assert_eq!(l.pop(false), Ok(2));
        assert_eq!(l.pop(false), Err(Pop::Slow)); // empty, tail SLOW (closed)
        l.clear_slow(true, true);
        assert_eq!(l.pop(false), Err(Pop::Empty));
        // The SLOW bit survives a block transition.
        l.set_slow(true, true);
        for i in 0..100 {
            l.push(i, true).ok().unwrap();
        }
        for i in 0..100 {
            assert_eq!(l.pop(true), Ok(i));
        }
        assert!(matches!(l.push(0, false), Err(Push::Slow(0))));
        assert_eq!(l.pop(false), Err(Pop::Slow));
    }

    #[test]
    fn drop_drops_values_and_blocks() {
        let v = std::sync::Arc::new(());
        let l = List::new();
        for _ in 0..100 {
            l.push(v.clone(), false).ok().unwrap();
        }
        for _ in 0..40 {
            drop(l.pop(false).unwrap());
        }
        drop(l);
        assert_eq!(std::sync::Arc::strong_count(&v), 1);
    }
}
