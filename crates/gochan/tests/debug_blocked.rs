//! `gochan::debug`: the registry of blocked parties (Go's goroutine dump) and the
//! goleak-style checks, on the leak shapes of Go's blocking bugs rebuilt with gochan.
//!
//! The registry is process-wide, so the tests of this file run one at a time (`serial`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use gochan::debug::{self, Blocked, BlockedOp, LeakGuard, Party};
use gochan::{Receiver, Sender};

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Waits until a party blocked at `line` of this file is listed, and returns it.
fn wait_for(line: u32) -> Blocked {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(b) = debug::blocked()
            .into_iter()
            .find(|b| b.location.file() == file!() && b.location.line() == line)
        {
            return b;
        }
        assert!(Instant::now() < deadline, "nothing blocked at line {line}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// Waits until nothing of this file is listed any more.
fn wait_gone() {
    let deadline = Instant::now() + Duration::from_secs(10);
    while debug::blocked()
        .iter()
        .any(|b| b.location.file() == file!())
    {
        assert!(Instant::now() < deadline, "{}", debug::dump());
        thread::sleep(Duration::from_millis(1));
    }
}

/// Shape 1 of the issue: the blocked thread itself holds the other end, through a struct
/// shared with its partner (both ends as fields). Listed with the receive's call site, the
/// thread's name and the channel; `assert_no_blocked` fails on it.
#[test]
fn shape1_struct_holding_both_ends() {
    let _s = serial();
    struct Pair {
        tx: Sender<u32>,
        rx: Receiver<u32>,
    }
    let pair = Arc::new({
        let (tx, rx) = gochan::bounded(0);
        Pair { tx, rx }
    });
    let guard = LeakGuard::new();
    let p = pair.clone();
    let line = line!() + 3;
    let t = thread::Builder::new()
        .name("shape1".into())
        .spawn(move || p.rx.recv())
        .unwrap();
    let b = wait_for(line);
    assert_eq!(b.op, BlockedOp::Recv);
    assert!(
        matches!(&b.party, Party::Thread { name: Some(n), .. } if n == "shape1"),
        "{b}"
    );
    assert_eq!(b.channels.len(), 1);
    assert_eq!(b.channels[0].capacity, Some(0));
    let text = b.to_string();
    assert!(
        text.starts_with("thread \"shape1\" [chan receive, "),
        "{text}"
    );
    assert!(text.contains(&format!("{}:{line}:", file!())), "{text}");

    let failed = catch_unwind(AssertUnwindSafe(|| guard.check(Duration::from_millis(30))));
    let msg = *failed
        .expect_err("the leak is reported")
        .downcast::<String>()
        .unwrap();
    assert!(msg.contains("parties still blocked"), "{msg}");
    assert!(msg.contains(&format!("{}:{line}:", file!())), "{msg}");

    pair.tx.send(1).unwrap(); // unblock it: not a leak any more
    assert_eq!(t.join().unwrap(), Ok(1));
    wait_gone();
}

/// Shape 2: the waiting thread holds the struct that owns the `CancelFunc`, so "a dropped
/// CancelFunc cancels" never fires. Listed as a context wait at the caller's line (not at
/// the channel receive inside `Context::wait`).
#[test]
fn shape2_waiter_owns_the_cancel_func() {
    let _s = serial();
    struct Job {
        ctx: gochan::context::Context,
        cancel: gochan::context::CancelFunc,
    }
    let (ctx, cancel) = gochan::context::with_cancel(&gochan::context::background());
    let job = Arc::new(Mutex::new(Some(Job { ctx, cancel })));
    let j = job.clone();
    let line = line!() + 4;
    let t = thread::spawn(move || {
        let ctx = j.lock().unwrap().as_ref().unwrap().ctx.clone();
        // The job (and its CancelFunc) stays alive as long as this thread holds `j`.
        ctx.wait();
    });
    let b = wait_for(line);
    assert_eq!(b.op, BlockedOp::ContextWait, "{b}");
    assert!(b.to_string().contains("[context wait, "));
    job.lock().unwrap().take().unwrap().cancel.cancel();
    t.join().unwrap();
    wait_gone();
}

/// Shape 3: the blocked thread holds its partner's end as a local (it cloned the receiver
/// for workers it never started): a send that can never complete. An async task waiting
/// the same way is listed as a task.
#[test]
fn shape3_partner_end_held_locally_thread_and_task() {
    let _s = serial();
    let (tx, rx) = gochan::bounded::<u32>(0);
    let outside = rx.clone(); // the test's own way to end it afterwards
    let line = line!() + 3;
    let t = thread::spawn(move || {
        let _for_workers_never_started = rx.clone();
        tx.send(5)
    });
    let b = wait_for(line);
    assert_eq!(b.op, BlockedOp::Send);
    assert!(b.to_string().contains("[chan send, "), "{b}");

    let (atx, arx) = gochan::bounded::<u32>(0);
    let task_line = line!() + 1;
    let task = thread::spawn(move || futures::executor::block_on(arx.recv_async()));
    let tb = wait_for(task_line);
    assert_eq!(tb.party, Party::Task);
    assert_eq!(tb.op, BlockedOp::Recv);
    atx.send(9).unwrap();
    assert_eq!(task.join().unwrap(), Ok(9));

    assert_eq!(outside.recv(), Ok(5));
    assert_eq!(t.join().unwrap(), Ok(()));
    wait_gone();
}

/// A select waiting on two channels is one party with both channels; a `WaitGroup::wait`
/// is listed as such at its caller's line.
#[test]
fn select_and_wait_group() {
    let _s = serial();
    let (a_tx, a) = gochan::bounded::<u32>(0);
    let (_b_tx, b) = gochan::bounded::<u32>(1);
    let line = line!() + 2;
    let t = thread::spawn(move || {
        gochan::select! {
            recv(a) -> v => v.ok(),
            recv(b) -> v => v.ok(),
        }
    });
    let s = wait_for(line);
    assert_eq!(s.op, BlockedOp::Select);
    assert_eq!(s.channels.len(), 2, "{s}");
    a_tx.send(3).unwrap();
    assert_eq!(t.join().unwrap(), Some(3));

    let wg = gochan::group::WaitGroup::new();
    wg.add(1);
    let w = wg.clone();
    let wait_line = line!() + 1;
    let t = thread::spawn(move || w.wait());
    let b = wait_for(wait_line);
    assert_eq!(b.op, BlockedOp::WaitGroupWait, "{b}");
    wg.done();
    t.join().unwrap();
}

/// `assert_no_blocked` passes on a correct program, and ignores a party that was blocked
/// before the call; it fails on one that blocks during the grace period and stays.
#[test]
fn assert_no_blocked_semantics() {
    let _s = serial();
    // A correct fan-out: every worker finishes.
    let (tx, rx) = gochan::bounded::<u32>(0);
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let rx = rx.clone();
            thread::spawn(move || rx.iter().sum::<u32>())
        })
        .collect();
    for i in 0..100 {
        tx.send(i).unwrap();
    }
    drop(tx);
    assert_eq!(
        workers.into_iter().map(|w| w.join().unwrap()).sum::<u32>(),
        4950
    );
    debug::assert_no_blocked(Duration::from_millis(200));

    // Blocked before the call: ignored.
    let (old_tx, old_rx) = gochan::bounded::<u32>(0);
    let old_line = line!() + 1;
    let old = thread::spawn(move || old_rx.recv());
    wait_for(old_line);
    debug::assert_no_blocked(Duration::from_millis(20));

    // Blocks during the grace period and stays: reported.
    let (late_tx, late_rx) = gochan::bounded::<u32>(0);
    let late = thread::spawn(move || {
        thread::sleep(Duration::from_millis(10));
        late_rx.recv()
    });
    let failed = catch_unwind(|| debug::assert_no_blocked(Duration::from_millis(150)));
    let msg = *failed.expect_err("reported").downcast::<String>().unwrap();
    assert!(msg.contains("[chan receive, "), "{msg}");
    assert!(!msg.contains(&format!(":{old_line}:")), "{msg}");

    late_tx.send(1).unwrap();
    old_tx.send(2).unwrap();
    assert_eq!(late.join().unwrap(), Ok(1));
    assert_eq!(old.join().unwrap(), Ok(2));
}

/// The dump's text: a header and one entry per party, in Go's goroutine-dump shape.
#[test]
fn dump_text() {
    let _s = serial();
    let (tx, rx) = gochan::unbounded::<u32>();
    let line = line!() + 1;
    let t = thread::spawn(move || rx.recv());
    wait_for(line);
    let text = debug::dump().to_string();
    assert!(
        text.contains("1 party blocked in gochan operations:"),
        "{text}"
    );
    assert!(text.contains("(unbounded, len 0)"), "{text}");
    tx.send(1).unwrap();
    assert_eq!(t.join().unwrap(), Ok(1));
}

/// Shape 4 (a lock and a channel in a cycle) with gochan's `sync::Mutex`: the thread
/// waiting for the lock is listed with its call site and the holder, which is itself
/// listed as blocked on the channel; `LeakGuard` fails on both.
#[test]
fn shape4_mutex_and_channel_cycle() {
    let _s = serial();
    let guard = LeakGuard::new();
    let m = Arc::new(gochan::sync::Mutex::new(0));
    let (tx, rx) = gochan::bounded::<i32>(1);
    let (locked_tx, locked) = gochan::bounded::<()>(0);
    let ma = m.clone();
    let a = thread::Builder::new()
        .name("holder".into())
        .spawn(move || {
            let mut g = ma.lock();
            locked_tx.send(()).unwrap();
            *g = rx.recv().unwrap(); // line A: waits while holding the lock
        })
        .unwrap();
    let a_line = line!() - 3;
    locked.recv().unwrap();
    let mb = m.clone();
    let tx2 = tx.clone();
    let b = thread::Builder::new()
        .name("locker".into())
        .spawn(move || {
            let v = *mb.lock() + 1; // line B: waits for the lock
            let _ = tx2.send(v); // A has gone with the receiver by then
        })
        .unwrap();
    let b_line = line!() - 4;
    let held = wait_for(a_line);
    assert_eq!(held.op, BlockedOp::Recv);
    let waiting = wait_for(b_line);
    assert_eq!(waiting.op, BlockedOp::MutexLock);
    assert!(waiting.channels.is_empty());
    let info = waiting.mutex.clone().unwrap();
    assert_eq!(info.holder, Some(held.party.clone()));
    let text = waiting.to_string();
    assert!(text.contains("[sync.Mutex.Lock, "), "{text}");
    assert!(text.contains("held by thread \"holder\""), "{text}");
    let failed = catch_unwind(AssertUnwindSafe(|| guard.check(Duration::ZERO)))
        .expect_err("the guard must fail on the cycle");
    let msg = failed.downcast_ref::<String>().unwrap();
    assert!(
        msg.contains("sync.Mutex.Lock") && msg.contains("chan receive"),
        "{msg}"
    );
    // Break the cycle from outside: A gets a value and unlocks, B locks and sends.
    tx.send(1).unwrap();
    a.join().unwrap();
    b.join().unwrap();
    assert_eq!(*m.lock(), 1);
    assert!(!m.is_locked() || m.try_lock().is_none());
    wait_gone();
}

/// An uncontended or briefly contended `sync::Mutex` is never listed after it is taken,
/// and the holder is gone from a snapshot once it unlocks.
#[test]
fn mutex_contention_ends() {
    let _s = serial();
    let guard = LeakGuard::new();
    let m = Arc::new(gochan::sync::Mutex::new(0u64));
    let wg = gochan::group::WaitGroup::new();
    for _ in 0..4 {
        let m = m.clone();
        wg.go(move || {
            for _ in 0..10_000 {
                *m.lock() += 1;
            }
        });
    }
    wg.wait();
    assert_eq!(*m.lock(), 40_000);
    assert!(debug::blocked().iter().all(|b| b.mutex.is_none()));
    guard.check(Duration::from_millis(10));
}
