//! [`AsyncErrGroup`]: the error group for futures, polled by `wait` itself, so it runs on
//! any executor (or none) without spawning.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Wake, Waker};

use crate::prim::{AtomicU64, Mutex, Ordering};

use super::first_error::{FirstError, Member};
use crate::context::Context;

type Task<'a, E> = Pin<Box<dyn Future<Output = Result<(), E>> + Send + 'a>>;

/// A task and its membership; the task drops first.
struct Entry<'a, E> {
    task: Task<'a, E>,
    member: Member,
}

/// After this many rounds of "poll, admit new tasks" in one `poll`, yield to the executor.
const ROUNDS_PER_POLL: usize = 32;

/// A group of futures: `wait` runs them concurrently (at most `limit` at once), keeps the
/// first error, and with a context cancels it on the first error (cause: a
/// [`GroupCause`](super::GroupCause) with its text) and when `wait` finishes. A panicking
/// future is re-raised by `wait` after the others finished. Semantics and signatures as
/// [`ErrGroup`](super::ErrGroup), `&self` receivers included.
///
/// The futures may borrow (lifetime `'a`): nothing is spawned, `wait` polls them. So
/// nothing runs until a `wait` future is polled; several `wait` futures may be polled at
/// once (each makes progress), and a `wait` future dropped midway leaves the group intact
/// (the tasks stay in it, and the next `wait` goes on polling them). Tasks may add more
/// tasks with [`go`](AsyncErrGroup::go) while `wait` runs.
///
/// ```
/// use gochan::{context, group::AsyncErrGroup};
/// let (g, ctx) = AsyncErrGroup::<String>::with_context(&context::background());
/// g.go(async { Err("search failed".to_string()) });
/// let c = ctx.clone();
/// g.go(async move { c.cancelled().await; Ok(()) });
/// let r = futures::executor::block_on(g.wait());
/// assert_eq!(r, Err("search failed".to_string()));
/// ```
pub struct AsyncErrGroup<'a, E> {
    core: FirstError<E>,
    queued: Mutex<VecDeque<Entry<'a, E>>>,
    /// Locked by the one `wait` polling the tasks at a time.
    running: Mutex<Vec<Entry<'a, E>>>,
    /// Every pending `wait` future's waker; the tasks are polled with `waker`, which
    /// wakes them all, so whichever `wait` futures are still alive get to poll.
    wakers: Arc<Wakers>,
    waker: Waker,
}

impl<'a, E: Send + 'a> AsyncErrGroup<'a, E> {
    /// An empty group with no context and no limit.
    ///
    /// ```
    /// let g = gochan::group::AsyncErrGroup::<()>::new();
    /// assert!(futures::executor::block_on(g.wait()).is_ok());
    /// ```
    pub fn new() -> Self {
        AsyncErrGroup::build(FirstError::new())
    }

    fn build(core: FirstError<E>) -> Self {
        let wakers = Arc::new(Wakers::default());
        AsyncErrGroup {
            core,
            queued: Mutex::new(VecDeque::new()),
            running: Mutex::new(Vec::new()),
            waker: Waker::from(wakers.clone()),
            wakers,
        }
    }

    /// A group and a context derived from `parent`, cancelled on the first error (with
    /// that error as its cause) and when `wait` finishes.
    ///
    /// ```
    /// let (g, ctx) = gochan::group::AsyncErrGroup::<String>::with_context(
    ///     &gochan::context::background());
    /// futures::executor::block_on(g.wait()).unwrap();
    /// assert!(ctx.is_done());
    /// ```
    pub fn with_context(parent: &Context) -> (Self, Context)
    where
        E: fmt::Display,
    {
        let (core, ctx) = FirstError::with_context(parent);
        (AsyncErrGroup::build(core), ctx)
    }

    /// Runs at most `n` futures at once (a negative `n` removes the limit); the others
    /// wait their turn in FIFO order.
    ///
    /// # Panics
    /// If futures added under the current limit have not finished yet (as
    /// [`ErrGroup::set_limit`](super::ErrGroup::set_limit)).
    ///
    /// ```
    /// let g = gochan::group::AsyncErrGroup::<()>::new();
    /// g.set_limit(1);
    /// g.go(async { Ok(()) });
    /// futures::executor::block_on(g.wait()).unwrap();
    /// ```
    #[track_caller]
    pub fn set_limit<N: TryInto<isize>>(&self, n: N) {
        self.core.set_limit(n.try_into().unwrap_or(-1));
    }

    /// Adds a future to the group. It starts when a `wait` future is polled and the limit
    /// has room.
    ///
    /// ```
    /// let g = gochan::group::AsyncErrGroup::new();
    /// g.go(async { Err(7) });
    /// assert_eq!(futures::executor::block_on(g.wait()), Err(7));
    /// ```
    pub fn go<F>(&self, fut: F)
    where
        F: Future<Output = Result<(), E>> + Send + 'a,
    {
        let member = self.core.join();
        self.enqueue(Box::pin(fut), member);
    }

    /// Adds a future only if the limit has a free slot now (the slot is its until it
    /// finishes); returns whether it did.
    ///
    /// ```
    /// let g = gochan::group::AsyncErrGroup::<()>::new();
    /// g.set_limit(1);
    /// assert!(g.try_go(async { Ok(()) }));
    /// assert!(!g.try_go(async { Ok(()) })); // the first one holds the slot
    /// futures::executor::block_on(g.wait()).unwrap();
    /// ```
    #[must_use = "when try_go returns false the future was not added"]
    pub fn try_go<F>(&self, fut: F) -> bool
    where
        F: Future<Output = Result<(), E>> + Send + 'a,
    {
        let mut member = self.core.join();
        if !member.try_take_slot() {
            return false;
        }
        self.enqueue(Box::pin(fut), member);
        true
    }

    fn enqueue(&self, task: Task<'a, E>, member: Member) {
        self.queued.lock().push_back(Entry { task, member });
        self.wakers.wake_all(); // a pending `wait` must start it
    }

    /// Runs every future to completion; returns the first error.
    ///
    /// # Panics
    /// Re-raises the first panic of a future, after the others finished.
    ///
    /// # Cancel safety
    /// Dropping the future leaves every unfinished task in the group; the next `wait`
    /// goes on polling them and returns the first error.
    ///
    /// ```
    /// let g = gochan::group::AsyncErrGroup::<()>::new();
    /// futures::executor::block_on(g.wait()).unwrap();
    /// ```
    pub async fn wait(&self) -> Result<(), E> {
        let id = self.wakers.next_id.fetch_add(1, Ordering::Relaxed);
        let _registered = Registered {
            wakers: &self.wakers,
            id,
        };
        std::future::poll_fn(|cx| self.poll_tasks(id, cx)).await;
        self.core.finish()
    }

    fn poll_tasks(&self, id: u64, cx: &mut TaskContext<'_>) -> Poll<()> {
        self.wakers.register(id, cx.waker());
        // Another `wait` is polling the tasks: it wakes every registered `wait` when a
        // task wakes or when the last one finishes.
        let Some(mut running) = self.running.try_lock() else {
            return Poll::Pending;
        };
        let mut tcx = TaskContext::from_waker(&self.waker);
        self.admit(&mut running);
        let mut rounds = 0;
        loop {
            let mut i = 0;
            while i < running.len() {
                let task = &mut running[i].task;
                match catch_unwind(AssertUnwindSafe(|| task.as_mut().poll(&mut tcx))) {
                    Ok(Poll::Pending) => i += 1,
                    Ok(Poll::Ready(r)) => {
                        let entry = running.swap_remove(i);
                        self.core.record(Ok(r));
                        drop(entry);
                    }
                    Err(payload) => {
                        let entry = running.swap_remove(i);
                        self.core.record(Err(payload));
                        drop(entry);
                    }
                }
            }
            // Finished tasks freed slots, or tasks added more: start them now.
            if self.admit(&mut running) == 0 {
                break;
            }
            rounds += 1;
            if rounds == ROUNDS_PER_POLL {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
        drop(running);
        if self.core.members().count() == 0 {
            self.wakers.wake_all(); // other `wait` futures: done
            return Poll::Ready(());
        }
        Poll::Pending
    }

    /// Moves queued tasks that get a slot to `running`, in FIFO order; how many.
    fn admit(&self, running: &mut Vec<Entry<'a, E>>) -> usize {
        let mut queued = self.queued.lock();
        let mut n = 0;
        while let Some(front) = queued.front_mut() {
            if !front.member.try_take_slot() {
                break; // FIFO: nobody overtakes the head
            }
            running.extend(queued.pop_front());
            n += 1;
        }
        n
    }
}

/// The wakers of the pending `wait` futures, by id.
#[derive(Default)]
struct Wakers {
    list: Mutex<Vec<(u64, Waker)>>,
    next_id: AtomicU64,
}

impl Wakers {
    fn register(&self, id: u64, waker: &Waker) {
        let mut list = self.list.lock();
        match list.iter_mut().find(|(i, _)| *i == id) {
            Some((_, w)) => w.clone_from(waker),
            None => list.push((id, waker.clone())),
        }
    }

    fn wake_all(&self) {
        let list = std::mem::take(&mut *self.list.lock());
        for (_, w) in list {
            w.wake();
        }
    }
}

impl Wake for Wakers {
    fn wake(self: Arc<Self>) {
        self.wake_all();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wake_all();
    }
}

/// Removes a `wait` future's waker when it is dropped, and wakes the other `wait`
/// futures: a task's wake-up may have gone to this one alone, so one of them must poll.
struct Registered<'w> {
    wakers: &'w Wakers,
    id: u64,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.wakers.list.lock().retain(|(i, _)| *i != self.id);
        self.wakers.wake_all();
    }
}

impl<'a, E: Send + 'a> Default for AsyncErrGroup<'a, E> {
    fn default() -> Self {
        AsyncErrGroup::new()
    }
}

impl<E> fmt::Debug for AsyncErrGroup<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncErrGroup")
            .field("members", &self.core.members().count())
            .field("queued", &self.queued.lock().len())
            .finish()
    }
}
