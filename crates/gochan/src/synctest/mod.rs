//! Virtual time for tests: Go 1.25's `testing/synctest`.
//!
//! [`run(f)`](run) runs `f` in a *bubble*: a group of threads with its own clock. Inside
//! it, every gochan clock reading and deadline ([`time::now`](crate::time::now),
//! [`time::sleep`](crate::time::sleep), [`after`](crate::after), [`tick`](crate::tick),
//! [`at`](crate::at), [`Timer`](crate::time::Timer), [`Ticker`](crate::time::Ticker),
//! [`time::after_func`](crate::time::after_func), `recv_timeout`/`send_timeout`, `select!`
//! timeouts, [`context::with_timeout`](crate::context::with_timeout) /
//! [`with_deadline`](crate::context::with_deadline), `ctx.wait_timeout`) uses the bubble's
//! virtual clock. The clock starts at the real time of the call and stands still while any
//! thread of the bubble runs; when every thread of the bubble is *durably blocked* in a
//! gochan operation, the clock jumps to the next timer of the bubble and fires it. A test
//! of a 30-second timeout then runs in microseconds, and deterministically: timers fire in
//! deadline order, only once the code under test has done all it can.
//!
//! [`wait()`](wait) returns once every other thread of the bubble is durably blocked (Go's
//! `synctest.Wait`): the way to assert "nothing more happens until time moves".
//!
//! # Which threads are in the bubble
//! The thread that calls `run` (while it runs `f`), threads started with [`spawn`] from
//! inside the bubble, and the threads gochan starts for bubble code: `WaitGroup::go`,
//! `ErrGroup::go`, `SingleFlight` calls, pipeline stages, `after_func` callbacks. Code
//! outside the bubble (other tests of the same process) keeps real time.
//!
//! # Limits (read before use)
//! - A thread started with `std::thread::spawn` is **not** in the bubble: the bubble does
//!   not wait for it, and while bubble threads wait for it the clock may move (the bubble
//!   cannot see it running). Start bubble threads with [`spawn`].
//! - *Durably blocked* means parked in a gochan operation (send, receive, select,
//!   `WaitGroup::wait`, `ErrGroup::wait`, `Semaphore::acquire`, `ctx.wait`,
//!   `time::sleep`, [`block_on`] with a pending future). A thread blocked anywhere else (a
//!   `std::sync::Mutex`, I/O, `std::thread::sleep`, another crate's channel) counts as
//!   running, so the clock does not move while it is there.
//! - Async code runs in a bubble on the bubble's threads through [`block_on`] (its thread
//!   counts as blocked while the future is pending). Tasks of an outside executor (tokio's
//!   worker threads) are outside the bubble.
//! - `std::time::Instant::now()` stays real; read the bubble's clock with
//!   [`time::now`](crate::time::now).
//!
//! # Deadlock
//! If every thread of the bubble is blocked and no timer of the bubble is pending (for half a
//! second of real time, in case a thread outside the bubble is about to wake one), nothing
//! can ever happen: `run` panics with a goroutine-dump style list of the blocked threads
//! and their call sites (Go: "deadlock: all goroutines in bubble are blocked"). After `f`
//! returns, `run` waits for the bubble's other threads to end, and panics the same way if
//! they are all blocked for good.
//!
//! ```
//! use std::time::Duration;
//! use gochan::{context, synctest};
//!
//! synctest::run(|| {
//!     // Go's synctest example: a context times out exactly at its deadline.
//!     let timeout = Duration::from_secs(5);
//!     let (ctx, _cancel) = context::with_timeout(&context::background(), timeout);
//!     gochan::time::sleep(timeout - Duration::from_nanos(1));
//!     synctest::wait();
//!     assert_eq!(ctx.err(), None);
//!     gochan::time::sleep(Duration::from_nanos(1));
//!     synctest::wait();
//!     assert_eq!(ctx.err(), Some(context::Error::DeadlineExceeded));
//! });
//! ```

mod bubble;

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Wake, Waker};

pub(crate) use bubble::{
    begin_select, bubble_of_new_channel, find, note_channel, owns, seat, select_durable, ticket,
    virtual_now, Seat,
};

use crate::prim::Parker;

/// Runs `f` in a new bubble with a virtual clock and returns its result, after every
/// thread started in the bubble has ended (Go's `synctest.Test`).
///
/// # Panics
/// If called inside a bubble (bubbles do not nest); if `f` panics (the panic is passed
/// on, without waiting for the bubble's other threads); on a deadlock (see the module
/// docs), with the blocked threads and their call sites in the message.
///
/// ```
/// use std::time::Duration;
/// let got = gochan::synctest::run(|| {
///     let (tx, rx) = gochan::bounded::<&str>(0);
///     gochan::synctest::spawn(move || {
///         gochan::time::sleep(Duration::from_secs(3600));
///         tx.send("an hour later").unwrap();
///     });
///     rx.recv_timeout(Duration::from_secs(7200))
/// });
/// assert_eq!(got, Ok("an hour later"));
/// ```
pub fn run<R>(f: impl FnOnce() -> R) -> R {
    bubble::run(f)
}

/// Blocks until every other thread of the calling thread's bubble is durably blocked (Go's
/// `synctest.Wait`). The clock does not move meanwhile; afterwards, nothing in the bubble
/// happens until this thread acts or time moves.
///
/// # Panics
/// Outside a bubble, or when another thread of the bubble is in `wait` at the same time.
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use gochan::{context, synctest};
///
/// synctest::run(|| {
///     // Go's synctest example for context.AfterFunc.
///     let (ctx, cancel) = context::with_cancel(&context::background());
///     let called = Arc::new(AtomicBool::new(false));
///     let c = called.clone();
///     let _stop = context::after_func(&ctx, move || c.store(true, Ordering::SeqCst));
///     synctest::wait();
///     assert!(!called.load(Ordering::SeqCst));
///     cancel.cancel();
///     synctest::wait();
///     assert!(called.load(Ordering::SeqCst));
/// });
/// ```
pub fn wait() {
    bubble::wait()
}

/// Whether the calling thread is in a bubble.
///
/// ```
/// assert!(!gochan::synctest::in_bubble());
/// assert!(gochan::synctest::run(gochan::synctest::in_bubble));
/// ```
pub fn in_bubble() -> bool {
    seat().is_some()
}

/// Starts a thread in the caller's bubble (a plain thread when called outside one): Go's
/// `go` statement inside a bubble. The bubble counts the thread from this call on.
///
/// # Panics
/// If the OS cannot start a thread, as `std::thread::spawn`.
///
/// ```
/// let n = gochan::synctest::run(|| gochan::synctest::spawn(|| 6 * 7).join().unwrap());
/// assert_eq!(n, 42);
/// ```
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = crate::bounded(1);
    let ticket = ticket();
    let thread = std::thread::spawn(move || {
        // The result goes out while the thread is still a member: a joiner blocked on it
        // must never look stuck to the bubble (the send never blocks: capacity 1).
        ticket.run(|| {
            let _ = tx.send(catch_unwind(AssertUnwindSafe(f)));
        })
    });
    JoinHandle { result: rx, thread }
}

/// A thread started by [`spawn`]. Unlike `std`'s, its [`join`](JoinHandle::join) waits in
/// a gochan receive, so a bubble thread joining another is durably blocked (the clock can
/// move for the thread it waits for).
///
/// ```
/// use std::time::Duration;
/// use gochan::synctest;
/// synctest::run(|| {
///     let h: synctest::JoinHandle<u32> = synctest::spawn(|| {
///         gochan::time::sleep(Duration::from_secs(3600)); // virtual: returns at once
///         7
///     });
///     assert_eq!(h.join().unwrap(), 7); // joining is a gochan wait: the clock moves
/// });
/// ```
#[derive(Debug)]
pub struct JoinHandle<T> {
    result: crate::Receiver<std::thread::Result<T>>,
    thread: std::thread::JoinHandle<()>,
}

impl<T> JoinHandle<T> {
    /// Waits for the thread to end: its result, or `Err` with its panic payload.
    ///
    /// ```
    /// let h = gochan::synctest::spawn(|| panic!("boom"));
    /// assert!(h.join().is_err());
    /// ```
    pub fn join(self) -> std::thread::Result<T> {
        let result = self.result.recv();
        let ended = self.thread.join();
        match (result, ended) {
            (Ok(r), _) => r,
            (Err(_), Err(payload)) => Err(payload),
            (Err(_), Ok(())) => Err(Box::new(
                "gochan::synctest: the thread ended without a result",
            )),
        }
    }

    /// The thread's handle.
    ///
    /// ```
    /// let h = gochan::synctest::spawn(|| ());
    /// let _name = h.thread().name();
    /// h.join().unwrap();
    /// ```
    pub fn thread(&self) -> &std::thread::Thread {
        self.thread.thread()
    }

    /// Whether the thread has ended.
    ///
    /// ```
    /// let h = gochan::synctest::spawn(|| ());
    /// while !h.is_finished() { std::thread::yield_now(); }
    /// ```
    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }
}

/// Runs a future to completion on the calling thread, parking it between polls the way
/// gochan's blocking operations do: inside a bubble the thread counts as durably blocked
/// while the future is pending. Works outside bubbles too (a minimal executor).
///
/// ```
/// use std::time::Duration;
/// let v = gochan::synctest::run(|| {
///     gochan::synctest::block_on(async {
///         let (tx, rx) = gochan::bounded::<u32>(1);
///         let t = gochan::after(Duration::from_secs(60));
///         tx.send_async(7).await.unwrap();
///         t.recv_async().await.unwrap(); // a minute, virtually
///         rx.recv_async().await.unwrap()
///     })
/// });
/// assert_eq!(v, 7);
/// ```
pub fn block_on<F: Future>(fut: F) -> F::Output {
    struct Signal {
        woken: AtomicBool,
        parker: Parker,
    }
    impl Wake for Signal {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            if !self.woken.swap(true, Ordering::AcqRel) {
                self.parker.unpark();
            }
        }
    }
    let signal = Arc::new(Signal {
        woken: AtomicBool::new(false),
        parker: Parker::current(),
    });
    let waker = Waker::from(signal.clone());
    let mut cx = TaskContext::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        begin_select(); // the channels the future waits on decide whether it is durable
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        let durable = select_durable();
        while !signal.woken.swap(false, Ordering::AcqRel) {
            crate::prim::park_until(None, durable);
        }
    }
}
