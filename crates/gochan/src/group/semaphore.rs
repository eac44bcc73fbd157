//! [`Semaphore`]: a weighted semaphore with FIFO fairness.
//! `golang.org/x/sync/semaphore`, plus RAII [`Permit`]s.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;

use crate::chan::{self, Receiver, Sender};
use crate::context::{self, Context};
use crate::prim::Mutex;

/// A weighted semaphore: `acquire(ctx, n)` takes `n` units of the capacity, waiting in
/// FIFO order (a large request at the head is not starved by smaller ones behind it), or
/// fails with the context's error when the context ends first.
///
/// ```
/// use gochan::{context, group::Semaphore};
/// let sem = Semaphore::new(3);
/// sem.acquire(&context::background(), 2).unwrap();
/// assert!(!sem.try_acquire(2));
/// sem.release(2);
/// assert!(sem.try_acquire(3));
/// # sem.release(3);
/// ```
///
/// Beside Go's `acquire`/`release` pairs, the `*_permit` methods return a [`Permit`]
/// that releases its weight when dropped (so an early return or a panic cannot leak it):
///
/// ```
/// use gochan::{context, group::Semaphore};
/// let sem = Semaphore::new(2);
/// {
///     let _p = sem.acquire_permit(&context::background(), 2).unwrap();
///     assert!(sem.try_acquire_permit(1).is_none());
/// } // released here
/// assert_eq!(sem.held(), 0);
/// ```
pub struct Semaphore {
    size: i64,
    state: Mutex<State>,
}

struct State {
    cur: i64,
    waiters: VecDeque<Waiter>,
    next_id: u64,
}

struct Waiter {
    id: u64,
    n: i64,
    ready: Sender<()>,
}

impl Semaphore {
    /// A semaphore with total weight `n`.
    ///
    /// ```
    /// let _ = gochan::group::Semaphore::new(10);
    /// ```
    ///
    /// # Panics
    /// If `n` is negative.
    #[track_caller]
    pub fn new(n: i64) -> Semaphore {
        assert!(n >= 0, "semaphore: negative size {n}");
        Semaphore {
            size: n,
            state: Mutex::new(State {
                cur: 0,
                waiters: VecDeque::new(),
                next_id: 0,
            }),
        }
    }

    /// Takes `n` without waiting; `false` (taking nothing) if not available now or if
    /// others are already waiting.
    ///
    /// ```
    /// let sem = gochan::group::Semaphore::new(1);
    /// assert!(sem.try_acquire(1));
    /// assert!(!sem.try_acquire(1));
    /// ```
    ///
    /// # Panics
    /// If `n` is negative.
    #[track_caller]
    #[must_use = "if try_acquire returns true the caller holds the weight and must release it"]
    pub fn try_acquire(&self, n: i64) -> bool {
        check_weight(n);
        let mut st = self.state.lock();
        let ok = self.size - st.cur >= n && st.waiters.is_empty();
        if ok {
            st.cur += n;
        }
        ok
    }

    /// Fast path, or queues a waiter and returns its id and signal.
    fn enqueue(&self, n: i64) -> Option<(u64, Receiver<()>)> {
        let mut st = self.state.lock();
        if self.size - st.cur >= n && st.waiters.is_empty() {
            st.cur += n;
            return None;
        }
        let (tx, rx) = chan::bounded(1);
        let id = st.next_id;
        st.next_id += 1;
        st.waiters.push_back(Waiter { id, n, ready: tx });
        Some((id, rx))
    }

    /// The context ended while waiting: withdraw, or give back what was granted meanwhile.
    fn abandon(&self, id: u64, n: i64, ready: &Receiver<()>) {
        let mut st = self.state.lock();
        if ready.try_recv().is_ok() {
            st.cur -= n; // granted after the context ended: pretend it was not
            self.notify(&mut st);
            return;
        }
        if let Some(pos) = st.waiters.iter().position(|w| w.id == id) {
            st.waiters.remove(pos);
            if pos == 0 && self.size > st.cur {
                self.notify(&mut st);
            }
        }
    }

    /// Acquires `n`, blocking until available or until `ctx` ends (then returns its error
    /// and takes nothing). A request larger than the whole size waits for `ctx`.
    ///
    /// ```
    /// use gochan::{context, group::Semaphore};
    /// let sem = Semaphore::new(1);
    /// sem.acquire(&context::background(), 1).unwrap();
    /// let (ctx, _c) = context::with_timeout(&context::background(), std::time::Duration::from_millis(5));
    /// assert_eq!(sem.acquire(&ctx, 1), Err(context::Error::DeadlineExceeded));
    /// ```
    ///
    /// # Panics
    /// If `n` is negative. With the `tokio` feature, if it would park a tokio worker
    /// thread (use `acquire_async` in async code); see
    /// [`Receiver::recv`](crate::Receiver::recv).
    #[track_caller]
    pub fn acquire(&self, ctx: &Context, n: i64) -> Result<(), context::Error> {
        check_weight(n);
        if let Some(e) = ctx.err() {
            return Err(e);
        }
        let Some((id, ready)) = self.enqueue(n) else {
            return Ok(());
        };
        let check = std::panic::catch_unwind(|| {
            crate::prim::blocking::check(crate::prim::blocking::Op::SemaphoreAcquire)
        });
        if let Err(p) = check {
            self.abandon(id, n, &ready);
            std::panic::resume_unwind(p);
        }
        let done = ctx.done();
        let _scope = crate::debug::registry::scope(
            crate::debug::BlockedOp::SemaphoreAcquire,
            std::panic::Location::caller(),
        );
        crate::select_biased! {
            recv(ready) -> _ => self.granted(ctx, n),
            recv(done) -> _ => {
                self.abandon(id, n, &ready);
                Err(ctx.err().unwrap_or(context::Error::Canceled))
            }
        }
    }

    /// [`Semaphore::acquire`] from async code.
    ///
    /// # Cancel safety
    /// Dropping the future withdraws the request (or returns units granted meanwhile).
    ///
    /// # Panics
    /// If `n` is negative (when called, not when polled).
    ///
    /// ```
    /// let sem = gochan::group::Semaphore::new(2);
    /// let ctx = gochan::context::background();
    /// futures::executor::block_on(sem.acquire_async(&ctx, 2)).unwrap();
    /// ```
    #[track_caller]
    pub fn acquire_async<'s>(
        &'s self,
        ctx: &'s Context,
        n: i64,
    ) -> impl Future<Output = Result<(), context::Error>> + 's {
        check_weight(n);
        self.acquire_checked_async(ctx, n)
    }

    async fn acquire_checked_async(&self, ctx: &Context, n: i64) -> Result<(), context::Error> {
        if let Some(e) = ctx.err() {
            return Err(e);
        }
        let Some((id, ready)) = self.enqueue(n) else {
            return Ok(());
        };
        let guard = AbandonOnDrop {
            sem: self,
            id,
            n,
            ready: &ready,
            armed: true,
        };
        let done = ctx.done();
        let r = crate::select_biased_async! {
            recv(ready) -> _ => self.granted(ctx, n),
            recv(done) -> _ => Err(ctx.err().unwrap_or(context::Error::Canceled)),
        };
        let mut guard = guard;
        if r.is_ok() {
            guard.armed = false;
        }
        drop(guard);
        r
    }

    /// After a grant: Go re-checks the context and releases if it ended meanwhile.
    fn granted(&self, ctx: &Context, n: i64) -> Result<(), context::Error> {
        match ctx.err() {
            Some(e) => {
                self.release(n);
                Err(e)
            }
            None => Ok(()),
        }
    }

    /// Returns `n` units and wakes waiters (in FIFO order, as many as now fit).
    ///
    /// # Panics
    /// If more is released than is held ("semaphore: released more than held").
    ///
    /// ```
    /// let sem = gochan::group::Semaphore::new(1);
    /// assert!(sem.try_acquire(1));
    /// sem.release(1);
    /// ```
    #[track_caller]
    pub fn release(&self, n: i64) {
        check_weight(n);
        if !self.release_checked(n) {
            panic!("semaphore: released more than held");
        }
    }

    /// Returns `n` units unless that is more than held (then changes nothing): `false`.
    fn release_checked(&self, n: i64) -> bool {
        let mut st = self.state.lock();
        if st.cur < n {
            return false;
        }
        st.cur -= n;
        self.notify(&mut st);
        true
    }

    fn notify(&self, st: &mut State) {
        while let Some(w) = st.waiters.front() {
            if self.size - st.cur < w.n {
                break; // FIFO: the head waits for room; nobody overtakes it
            }
            let w = st.waiters.pop_front().expect("front exists");
            st.cur += w.n;
            let _ = w.ready.try_send(());
        }
    }
}

/// A negative weight would turn acquire into release: refuse it clearly.
#[track_caller]
fn check_weight(n: i64) {
    assert!(n >= 0, "semaphore: negative weight {n}");
}

struct AbandonOnDrop<'s> {
    sem: &'s Semaphore,
    id: u64,
    n: i64,
    ready: &'s Receiver<()>,
    armed: bool,
}

impl Drop for AbandonOnDrop<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.sem.abandon(self.id, self.n, self.ready);
        }
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.lock();
        f.debug_struct("Semaphore")
            .field("size", &self.size)
            .field("held", &st.cur)
            .field("waiting", &st.waiters.len())
            .finish()
    }
}

impl Semaphore {
    /// Units currently held (diagnostics).
    ///
    /// ```
    /// let sem = std::sync::Arc::new(gochan::group::Semaphore::new(4));
    /// assert!(sem.try_acquire(3));
    /// assert_eq!(sem.held(), 3);
    /// ```
    pub fn held(&self) -> i64 {
        self.state.lock().cur
    }
}

/// RAII forms of acquire: a [`Permit`] gives its weight back when dropped.
impl Semaphore {
    /// [`Semaphore::acquire`], returning a [`Permit`] that releases the weight on drop.
    ///
    /// # Panics
    /// If `n` is negative.
    ///
    /// ```
    /// use gochan::{context, group::Semaphore};
    /// let sem = Semaphore::new(3);
    /// let p = sem.acquire_permit(&context::background(), 2).unwrap();
    /// assert_eq!((p.weight(), sem.held()), (2, 2));
    /// drop(p);
    /// assert_eq!(sem.held(), 0);
    /// ```
    #[track_caller]
    pub fn acquire_permit(&self, ctx: &Context, n: i64) -> Result<Permit<'_>, context::Error> {
        self.acquire(ctx, n)?;
        Ok(Permit { sem: self, n })
    }

    /// [`Semaphore::try_acquire`], returning a [`Permit`] when it succeeds.
    ///
    /// # Panics
    /// If `n` is negative.
    ///
    /// ```
    /// let sem = gochan::group::Semaphore::new(1);
    /// let p = sem.try_acquire_permit(1).unwrap();
    /// assert!(sem.try_acquire_permit(1).is_none());
    /// drop(p);
    /// assert!(sem.try_acquire_permit(1).is_some());
    /// ```
    #[track_caller]
    pub fn try_acquire_permit(&self, n: i64) -> Option<Permit<'_>> {
        // Not `then_some`: it would build (and drop, releasing) a permit on failure too.
        if self.try_acquire(n) {
            Some(Permit { sem: self, n })
        } else {
            None
        }
    }

    /// [`Semaphore::acquire_async`], returning a [`Permit`].
    ///
    /// # Cancel safety
    /// As [`Semaphore::acquire_async`]: a dropped future holds nothing.
    ///
    /// # Panics
    /// If `n` is negative (when called, not when polled).
    ///
    /// ```
    /// let sem = gochan::group::Semaphore::new(2);
    /// let ctx = gochan::context::background();
    /// let p = futures::executor::block_on(sem.acquire_permit_async(&ctx, 2)).unwrap();
    /// assert_eq!(sem.held(), 2);
    /// drop(p);
    /// assert_eq!(sem.held(), 0);
    /// ```
    #[track_caller]
    pub fn acquire_permit_async<'s>(
        &'s self,
        ctx: &'s Context,
        n: i64,
    ) -> impl Future<Output = Result<Permit<'s>, context::Error>> + 's {
        let acquire = self.acquire_async(ctx, n);
        async move {
            acquire.await?;
            Ok(Permit { sem: self, n })
        }
    }
}

/// Weight held on a [`Semaphore`], given back when the permit is dropped (also on
/// unwind). [`Permit::forget`] keeps the weight held, for a later
/// [`Semaphore::release`]. Dropping a permit whose weight was already released by hand
/// panics like [`Semaphore::release`] (unless the thread is already panicking).
///
/// ```
/// use gochan::{context, group::Semaphore};
/// let sem = Semaphore::new(4);
/// let p = sem.acquire_permit(&context::background(), 3).unwrap();
/// p.forget();
/// assert_eq!(sem.held(), 3);
/// sem.release(3); // Go style from here on
/// ```
#[must_use = "dropping a Permit releases its weight at once"]
pub struct Permit<'a> {
    sem: &'a Semaphore,
    n: i64,
}

impl Permit<'_> {
    /// The weight this permit holds.
    ///
    /// ```
    /// let sem = gochan::group::Semaphore::new(5);
    /// assert_eq!(sem.try_acquire_permit(4).unwrap().weight(), 4);
    /// ```
    pub fn weight(&self) -> i64 {
        self.n
    }

    /// Keeps the weight held without releasing it; release it later with
    /// [`Semaphore::release`].
    ///
    /// ```
    /// let sem = gochan::group::Semaphore::new(1);
    /// sem.try_acquire_permit(1).unwrap().forget();
    /// assert_eq!(sem.held(), 1);
    /// sem.release(1);
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        // If the weight was released by hand meanwhile (a bug), panic like `release`,
        // unless already unwinding (a second panic would abort).
        if !self.sem.release_checked(self.n) && !std::thread::panicking() {
            panic!("semaphore: released more than held (a Permit dropped after a manual release)");
        }
    }
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").field("weight", &self.n).finish()
    }
}
