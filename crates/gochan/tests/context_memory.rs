//! Memory of the context tree, measured with a counting global allocator (issue 4):
//! bytes per cancelable child, and no growth of a long-lived parent across 1,000,000
//! short-lived children. One test function, so no other test allocates meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use gochan::context;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` was allocated by `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// What the `debug-handles` feature adds, exactly, to a cancel node and to a channel (its
/// `Holders`: creation time and epoch, creator, last toucher, a lock, the waker hook; a unit test in
/// `debug/handles.rs` pins the size): the bounds below are the default build's plus this,
/// so they stay as tight under `--all-features`.
const FEATURE: f64 = if cfg!(feature = "debug-handles") {
    96.0
} else {
    0.0
};

#[test]
fn context_memory() {
    const N: usize = 100_000;
    let (parent, _cancel) = context::with_cancel(&context::background());
    // Warm up: the parent's slab, the timer service.
    {
        let warm: Vec<_> = (0..N).map(|_| context::with_cancel(&parent)).collect();
        drop(warm);
        let _ = context::with_timeout(&parent, Duration::from_secs(3600));
    }

    // Bytes per cancelable child (node + its slot in the parent's slab + the Vec entry
    // holding the handles, which we subtract).
    let before = live();
    let kids: Vec<_> = (0..N).map(|_| context::with_cancel(&parent)).collect();
    let per_child = (live() - before) as f64 / N as f64
        - std::mem::size_of::<(context::Context, context::CancelFunc)>() as f64;
    println!("bytes per cancelable child: {per_child:.1}");
    // Go 1.19: 107.5; tokio-util CancellationToken: 122.5 (issue 4's figures).
    assert!(per_child < 107.5 + FEATURE, "{per_child} bytes per child");
    drop(kids);

    // Bytes per child once its done channel exists.
    let before = live();
    let kids: Vec<_> = (0..N)
        .map(|_| {
            let (c, f) = context::with_cancel(&parent);
            let _ = c.done();
            (c, f)
        })
        .collect();
    let per_done = (live() - before) as f64 / N as f64
        - std::mem::size_of::<(context::Context, context::CancelFunc)>() as f64;
    println!("bytes per cancelable child after done(): {per_done:.1}");
    assert!(per_done < 400.0 + 2.0 * FEATURE + 8.0, "{per_done}");
    drop(kids);

    // Bytes per WithTimeout child (node + timer entry).
    let before = live();
    let kids: Vec<_> = (0..N)
        .map(|_| context::with_timeout(&parent, Duration::from_secs(3600)))
        .collect();
    let per_timeout = (live() - before) as f64 / N as f64
        - std::mem::size_of::<(context::Context, context::CancelFunc)>() as f64;
    println!("bytes per WithTimeout child: {per_timeout:.1}");
    assert!(per_timeout < 400.0 + FEATURE, "{per_timeout}");
    drop(kids);

    // A long-lived parent does not grow across 1,000,000 short-lived children.
    let before = live();
    for _ in 0..1_000_000 {
        let (child, cancel) = context::with_cancel(&parent);
        drop(child);
        drop(cancel);
    }
    for _ in 0..1_000_000 {
        let child = context::with_cancel(&parent);
        drop(child); // dropped handles: cancel + leave the parent
    }
    let grown = live() - before;
    println!("parent growth across 2,000,000 short-lived children: {grown} bytes");
    assert!(grown.abs() < 4096, "parent grew by {grown} bytes");
    assert_eq!(parent.child_count(), 0);

    channel_memory();
}

/// Bytes per empty channel and per buffered slot (issue 2's report), measured here so
/// that no other test allocates meanwhile.
fn channel_memory() {
    let before = live();
    let c0 = gochan::bounded::<usize>(0);
    let empty0 = live() - before;
    let before = live();
    let cu = gochan::unbounded::<usize>();
    let empty_unb = live() - before;
    let before = live();
    let c1000 = gochan::bounded::<usize>(1000);
    let empty1000 = live() - before;
    for i in 0..1000 {
        c1000.0.send(i).unwrap();
    }
    let per_slot = (live() - before - empty1000) as f64 / 1000.0;
    println!(
        "bytes per empty channel: cap 0 {empty0}, unbounded {empty_unb}, cap 1000 {empty1000} \
         (64 slots reserved up front); per buffered usize slot when full: {per_slot:.1}"
    );
    assert!((empty0 as f64) < 400.0 + FEATURE, "{empty0}");
    assert!(per_slot <= 16.0, "{per_slot}");
    drop((c0, cu, c1000));
}
