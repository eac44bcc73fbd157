//! A counting global allocator, for the bytes-per-node and bytes-per-timer cells.
//!
//! Counting is per thread and off unless a thread is inside [`measure`], so the other
//! workloads pay one thread-local load per allocation and nothing else, and threads that
//! run concurrently (other tests, the tokio workers) do not disturb a measurement. The
//! figures are requested bytes: malloc's own per-allocation overhead (8–16 B in glibc)
//! is not in them.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

pub struct Counting;

#[global_allocator]
static GLOBAL: Counting = Counting;

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static COUNT: Cell<isize> = const { Cell::new(0) };
}

#[inline]
fn note(bytes: isize, allocs: isize) {
    // `try_with`: a thread being torn down may still free memory.
    let _ = ON.try_with(|on| {
        if on.get() {
            LIVE.with(|l| l.set(l.get() + bytes));
            COUNT.with(|c| c.set(c.get() + allocs));
        }
    });
}

// SAFETY: every call is forwarded to `System` unchanged; the bookkeeping touches only
// const-initialised thread-locals without destructors (no allocation, no re-entry).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            note(layout.size() as isize, 1);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            note(layout.size() as isize, 1);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        note(-(layout.size() as isize), -1);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            note(new_size as isize - layout.size() as isize, 0);
        }
        p
    }
}

/// What a closure left allocated on its thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Live {
    /// Bytes allocated and not freed (by this thread, inside the closure).
    pub bytes: isize,
    /// Allocations not freed.
    pub allocs: isize,
}

/// Runs `f` and returns what it left allocated on this thread.
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, Live) {
    LIVE.with(|l| l.set(0));
    COUNT.with(|c| c.set(0));
    ON.with(|on| on.set(true));
    let r = f();
    ON.with(|on| on.set(false));
    let live = Live {
        bytes: LIVE.with(Cell::get),
        allocs: COUNT.with(Cell::get),
    };
    (r, live)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_is_kept() {
        let mut keep = Vec::with_capacity(10);
        let ((), live) = measure(|| {
            for i in 0..10u64 {
                keep.push(Box::new([i; 4])); // 32 B each, kept
                drop(vec![0u8; 1000]); // freed again: not counted
            }
        });
        assert_eq!(
            live,
            Live {
                bytes: 320,
                allocs: 10
            }
        );
        let ((), freed) = measure(|| drop(keep));
        assert_eq!(freed.bytes, -320 - 80, "the boxes and the Vec's buffer");
    }
}
