//! [`DoneSlot`]: where a cancel node keeps its done channel once created, readable with
//! one atomic load (Go's `cancelCtx.done` is an `atomic.Value` for the same reason).
//!
//! The slot owns one `Receiver<()>` handle of the channel (one strong count of the `Arc`
//! and one counted receiver), stored as the raw `Arc` pointer.
//!
//! # Protocol
//! - `set` is called at most once, by the node, under its lock (the caller's contract);
//!   it publishes the pointer with `Release`.
//! - `get` loads with `Acquire`: a non-null pointer is a channel fully built and counted
//!   before it was published, and it stays valid while the slot (the node) lives, since
//!   the slot's own handle is released only in its `Drop`.
//! - A reader that sees null takes the node's lock and re-reads (`CancelState::make_done`),
//!   so two first callers get the same channel.
//!
//! `tests/loom_context.rs` models `done()` racing `cancel` and a second `done()`.

use std::mem::ManuallyDrop;
use std::ptr;
use std::sync::Arc;

use crate::chan::{core::Chan, Receiver};
use crate::prim::{AtomicPtr, Ordering};

pub(super) struct DoneSlot {
    /// Null, or `Arc::into_raw` of the channel of the receiver handle the slot owns.
    ptr: AtomicPtr<Chan<()>>,
}

impl DoneSlot {
    pub(super) fn new() -> DoneSlot {
        DoneSlot {
            ptr: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Stores `rx` (the slot keeps the handle). Must be called at most once, under the
    /// owning node's lock.
    pub(super) fn set(&self, rx: Receiver<()>) {
        debug_assert!(self.ptr.load(Ordering::Relaxed).is_null(), "done set twice");
        let rx = ManuallyDrop::new(rx);
        // SAFETY: `rx` is never used or dropped again (ManuallyDrop), so moving its `Arc`
        // out transfers the handle (its strong count and its receiver count) to the slot.
        let chan: Arc<Chan<()>> = unsafe { ptr::read(&rx.chan) };
        self.ptr
            .store(Arc::into_raw(chan) as *mut Chan<()>, Ordering::Release);
    }

    /// A new receiver handle of the stored channel, if one was stored.
    #[inline]
    pub(super) fn get(&self) -> Option<Receiver<()>> {
        let chan = self.chan()?;
        chan.acquire_receiver();
        Some(Receiver::from_chan(chan))
    }

    /// The stored channel (one more strong count, no receiver count), if any.
    #[inline]
    pub(super) fn chan(&self) -> Option<Arc<Chan<()>>> {
        let p = self.ptr.load(Ordering::Acquire);
        if p.is_null() {
            return None;
        }
        // SAFETY: a non-null pointer came from `Arc::into_raw` in `set`, published with
        // Release and loaded with Acquire; the slot's own strong count keeps it alive
        // until the slot drops, and `&self` proves the slot is alive.
        unsafe {
            Arc::increment_strong_count(p);
            Some(Arc::from_raw(p))
        }
    }
}

impl Drop for DoneSlot {
    fn drop(&mut self) {
        // `&mut self`: no other access; a plain load (loom's atomics have no `get_mut`).
        let p = self.ptr.load(Ordering::Relaxed);
        if !p.is_null() {
            // SAFETY: the pointer is the slot's own handle from `set`, released exactly
            // once, here; dropping the rebuilt `Receiver` releases its receiver count.
            drop(Receiver::from_chan(unsafe { Arc::from_raw(p) }));
        }
    }
}
