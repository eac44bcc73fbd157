//! Waiting allocates nothing (issue 13): a pending async receive, send, `select_async!`
//! and `Select::select_async` (and a blocking `select!` that parks) count zero heap
//! allocations per wait, measured with a counting global allocator. Each channel waits
//! once first, so its wait queues (allocated on a channel's first wait, then kept) are in
//! place. Only the waiting thread's allocations count (a partner thread's own bookkeeping,
//! e.g. the `debug-handles` feature's per-thread record, is not the wait's).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::task::Context;
use std::time::Duration;

struct Counting;

thread_local! {
    /// Allocations made by this thread.
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

fn allocs() -> usize {
    ALLOCS.with(Cell::get)
}

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Allocations made by polling `fut` once (it must stay pending); dropped on return.
fn allocs_of_a_pending_poll<F: Future>(fut: F) -> usize {
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    let mut fut = pin!(fut);
    let before = allocs();
    assert!(
        fut.as_mut().poll(&mut cx).is_pending(),
        "the wait completed"
    );
    allocs() - before
}

#[test]
fn waits_allocate_nothing() {
    let (tx, rx) = gochan::bounded::<u64>(0);
    let (tx2, rx2) = gochan::bounded::<String>(0);
    let (full_tx, _full_rx) = gochan::bounded::<u64>(1);
    full_tx.send(0).unwrap();
    // A dynamic `Select` built once and waited on again (its arms are boxed when added).
    let mut sel = gochan::Select::new();
    sel.recv(&rx);
    sel.recv(&rx2);
    for round in 0..2 {
        let dynamic = allocs_of_a_pending_poll(sel.select_async());
        if round == 1 {
            assert_eq!(dynamic, 0, "a pending Select::select_async allocated");
        }
    }
    drop(sel);
    for round in 0..2 {
        let recv = allocs_of_a_pending_poll(rx.recv_async());
        let send = allocs_of_a_pending_poll(full_tx.send_async(1));
        let select = allocs_of_a_pending_poll(async {
            gochan::select_async! {
                recv(rx) -> _ => unreachable!(),
                recv(rx2) -> _ => unreachable!(),
                send(full_tx, 2) -> _ => unreachable!(),
            }
        });
        if round == 1 {
            assert_eq!(recv, 0, "a pending recv_async allocated");
            assert_eq!(send, 0, "a pending send_async allocated");
            assert_eq!(select, 0, "a pending select_async! allocated");
        }
    }
    // A blocking select that parks (its partner arrives 20 ms later): the partner thread
    // is started before counting, and counts nothing of its own while the select waits.
    for round in 0..2 {
        let t = std::thread::spawn({
            let tx2 = tx2.clone();
            move || {
                std::thread::sleep(Duration::from_millis(20));
                tx2.send(String::new()).unwrap();
            }
        });
        let before = allocs();
        gochan::select! {
            recv(rx) -> _ => unreachable!(),
            recv(rx2) -> v => assert!(v.is_ok()),
        }
        let n = allocs() - before;
        t.join().unwrap();
        if round == 1 {
            assert_eq!(n, 0, "a parked select! allocated");
        }
    }
    drop((tx, tx2));
}
