//! The four leaks gochan's handle rules cannot prevent, found by
//! `gochan::debug::never_wakes` (Go's `goroutineleak` profile; feature `debug-handles`):
//!
//! ```text
//! cargo run --example leaks --features debug-handles
//! ```
//!
//! 1. a worker blocked on a channel whose `Sender` sits in the struct the worker holds;
//! 2. a worker waiting on a context whose `CancelFunc` sits in the struct it holds;
//! 3. a thread ranging over results while it still holds the results `Sender` it cloned
//!    for its workers (Go: the missing `close(results)`);
//! 4. a thread holding a `gochan::sync::Mutex` while it waits on a channel, and the
//!    thread that would send waiting for that mutex.
//!
//! Each "program" runs on a thread of its own and returns, as a request handler would.
//! The fixes: `Sender::downgrade` / `CancelFunc::downgrade` in the struct (1, 2), drop
//! the `Sender` after starting the workers (3), never hold a lock across a channel
//! operation (4).

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use gochan::context::{self, CancelFunc, Context};
use gochan::{Receiver, Sender};

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) {
    thread::Builder::new().name(name.into()).spawn(f).unwrap();
}

struct Worker {
    tx: Sender<u32>,
    rx: Receiver<u32>,
}

struct Server {
    ctx: Context,
    _cancel: CancelFunc,
}

fn main() {
    // 1. The struct owns both ends; the worker holds the struct.
    spawn("shape1", || {
        let (tx, rx) = gochan::bounded(0);
        let w = Arc::new(Worker { tx, rx });
        let w2 = w.clone();
        spawn("worker", move || {
            let _ = w2.rx.recv();
        });
        let _ = &w.tx; // the handler returns: its Arc goes, the worker's stays
    });
    // 2. The struct owns the CancelFunc; the worker holds the struct.
    spawn("shape2", || {
        let (ctx, cancel) = context::with_cancel(&context::background());
        let s = Arc::new(Server {
            ctx,
            _cancel: cancel,
        });
        spawn("ctx-worker", move || s.ctx.wait());
    });
    // 3. Ranging over results while holding a Sender of them.
    spawn("collector", || {
        let (results, rx) = gochan::bounded::<u32>(0);
        for i in 0..3 {
            let results = results.clone();
            spawn(&format!("job-{i}"), move || results.send(i).unwrap());
        }
        let total: u32 = rx.iter().sum(); // never ends: `results` is still alive here
        println!("total {total}");
    });
    // 4. A lock held across a channel receive; the sender waits for the lock.
    spawn("shape4", || {
        let m = Arc::new(gochan::sync::Mutex::new(0));
        let (tx, rx) = gochan::bounded::<u32>(1);
        let (locked_tx, locked) = gochan::bounded::<()>(0);
        let m2 = m.clone();
        spawn("holder", move || {
            let mut g = m2.lock();
            locked_tx.send(()).unwrap();
            *g = rx.recv().unwrap();
        });
        locked.recv().unwrap();
        spawn("sender", move || {
            let v = *m.lock() + 1;
            let _ = tx.send(v);
        });
    });

    let stuck = loop {
        thread::sleep(Duration::from_millis(50));
        let s = gochan::debug::never_wakes();
        if s.len() >= 5 {
            break s;
        }
    };
    print!("{}", gochan::debug::Dump(stuck));
}
