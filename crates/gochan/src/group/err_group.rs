//! [`ErrGroup`]: run tasks on threads, collect the first error, cancel the rest.
//! `golang.org/x/sync/errgroup`.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use parking_lot::Mutex;

use super::WaitGroup;
use crate::chan::{self, Receiver, Sender};
use crate::context::{self, CancelCauseFunc, CauseError, Context};

/// A group of threads working on subtasks of one task. The first error returned by a task
/// is kept (later ones are dropped) and, for a group made by [`ErrGroup::with_context`],
/// cancels the group's context with a [`GroupCause`](super::GroupCause) showing that error.
///
/// A task that panics does not lose the panic: the context (if any) is cancelled, and
/// [`ErrGroup::wait`] re-raises the first panic after all tasks finished (like
/// `std::thread::scope`).
///
/// Cloning gives another handle to the same group (for tasks that start more tasks).
///
/// ```
/// use gochan::{context, group::ErrGroup};
/// let (g, ctx) = ErrGroup::<String>::with_context(&context::background());
/// g.go(|| Err("f1 failed".to_string()));
/// let c = ctx.clone();
/// g.go(move || { c.wait(); Ok(()) }); // f2 stops when f1 fails
/// assert_eq!(g.wait(), Err("f1 failed".to_string()));
/// assert_eq!(context::cause(&ctx).unwrap().to_string(), "f1 failed");
/// ```
pub struct ErrGroup<E> {
    shared: Arc<Shared<E>>,
}

struct Shared<E> {
    wg: WaitGroup,
    first: Mutex<First<E>>,
    /// Token bucket of `set_limit`: a send takes a slot, a receive frees it.
    sem: Mutex<Option<(Sender<()>, Receiver<()>)>>,
    cancel: Option<CancelCauseFunc>,
    to_cause: Option<fn(&E) -> CauseError>,
}

struct First<E> {
    err: Option<E>,
    panic: Option<Box<dyn Any + Send>>,
}

impl<E: Send + 'static> ErrGroup<E> {
    /// A group with no context and no limit.
    ///
    /// ```
    /// let g = gochan::group::ErrGroup::<std::io::Error>::new();
    /// g.go(|| Ok(()));
    /// assert!(g.wait().is_ok());
    /// ```
    pub fn new() -> ErrGroup<E> {
        ErrGroup::build(None, None)
    }

    fn build(cancel: Option<CancelCauseFunc>, to_cause: Option<fn(&E) -> CauseError>) -> Self {
        ErrGroup {
            shared: Arc::new(Shared {
                wg: WaitGroup::new(),
                first: Mutex::new(First {
                    err: None,
                    panic: None,
                }),
                sem: Mutex::new(None),
                cancel,
                to_cause,
            }),
        }
    }

    /// A group and a context derived from `parent` that is cancelled when a task first
    /// fails (cause: a [`GroupCause`](super::GroupCause) with its text), when a task panics,
    /// or when `wait` returns.
    ///
    /// ```
    /// use gochan::{context, group::ErrGroup};
    /// let (g, ctx) = ErrGroup::<String>::with_context(&context::background());
    /// g.go(|| Ok(()));
    /// assert!(g.wait().is_ok());
    /// assert!(ctx.is_done()); // wait cancels it
    /// ```
    pub fn with_context(parent: &Context) -> (ErrGroup<E>, Context)
    where
        E: std::fmt::Display,
    {
        let (ctx, cancel) = context::with_cancel_cause(parent);
        let to_cause: fn(&E) -> CauseError = |e| Arc::new(super::GroupCause(e.to_string()));
        (ErrGroup::build(Some(cancel), Some(to_cause)), ctx)
    }

    /// Limits the number of tasks running at once to `n`; a negative `n` removes the
    /// limit. While the limit is reached, [`ErrGroup::go`] blocks and
    /// [`ErrGroup::try_go`] returns `false`.
    ///
    /// # Panics
    /// If tasks are running (Go: "errgroup: modify limit while N goroutines in the group
    /// are still active").
    ///
    /// ```
    /// let g = gochan::group::ErrGroup::<String>::new();
    /// g.set_limit(1);
    /// g.go(|| Ok(()));
    /// g.wait().unwrap();
    /// ```
    pub fn set_limit<N: TryInto<isize>>(&self, n: N) {
        let n: isize = n.try_into().unwrap_or(-1);
        let mut sem = self.shared.sem.lock();
        if let Some((tx, _)) = sem.as_ref() {
            if !tx.is_empty() {
                panic!(
                    "errgroup: modify limit while {} goroutines in the group are still active",
                    tx.len()
                );
            }
        }
        *sem = usize::try_from(n).ok().map(chan::bounded::<()>);
    }

    /// Runs `f` on a new thread, first waiting for a slot if a limit is set.
    ///
    /// ```
    /// let g = gochan::group::ErrGroup::new();
    /// for i in 0..3 { g.go(move || if i == 1 { Err(i) } else { Ok(()) }); }
    /// assert_eq!(g.wait(), Err(1));
    /// ```
    pub fn go<F>(&self, f: F)
    where
        F: FnOnce() -> Result<(), E> + Send + 'static,
    {
        let slot = self.shared.sem.lock().clone();
        if let Some((tx, rx)) = slot {
            let _ = tx.send(());
            self.spawn(f, Some(rx));
        } else {
            self.spawn(f, None);
        }
    }

    /// Runs `f` on a new thread only if the limit allows it now; returns whether it did.
    ///
    /// ```
    /// let g = gochan::group::ErrGroup::<String>::new();
    /// g.set_limit(0);
    /// assert!(!g.try_go(|| Ok(())));
    /// ```
    pub fn try_go<F>(&self, f: F) -> bool
    where
        F: FnOnce() -> Result<(), E> + Send + 'static,
    {
        let slot = self.shared.sem.lock().clone();
        match slot {
            Some((tx, rx)) => {
                if tx.try_send(()).is_err() {
                    return false;
                }
                self.spawn(f, Some(rx));
            }
            None => self.spawn(f, None),
        }
        true
    }

    fn spawn<F>(&self, f: F, slot: Option<Receiver<()>>)
    where
        F: FnOnce() -> Result<(), E> + Send + 'static,
    {
        self.shared.wg.add(1);
        let shared = self.shared.clone();
        std::thread::spawn(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            match outcome {
                Ok(Ok(())) => {}
                Ok(Err(e)) => shared.fail(e),
                Err(payload) => shared.panicked(payload),
            }
            if let Some(rx) = slot {
                let _ = rx.try_recv();
            }
            shared.wg.done();
        });
    }

    /// Waits for every task, cancels the context (if any), and returns the first error.
    ///
    /// # Panics
    /// Re-raises the first panic of a task, after all tasks finished.
    ///
    /// ```
    /// let g = gochan::group::ErrGroup::<()>::new();
    /// assert!(g.wait().is_ok()); // an empty group
    /// ```
    pub fn wait(&self) -> Result<(), E> {
        self.shared.wg.wait();
        self.finish()
    }

    /// [`ErrGroup::wait`] from async code (the tasks still run on their threads).
    ///
    /// ```
    /// let g = gochan::group::ErrGroup::<()>::new();
    /// g.go(|| Ok(()));
    /// assert!(futures::executor::block_on(g.wait_async()).is_ok());
    /// ```
    pub async fn wait_async(&self) -> Result<(), E> {
        self.shared.wg.wait_async().await;
        self.finish()
    }

    fn finish(&self) -> Result<(), E> {
        let mut first = self.shared.first.lock();
        let err = first.err.take();
        let panic = first.panic.take();
        drop(first);
        if let Some(c) = &self.shared.cancel {
            match (&err, self.shared.to_cause) {
                (Some(e), Some(to_cause)) => c.cancel_shared(to_cause(e)),
                _ => c.cancel_without_cause(),
            }
        }
        if let Some(p) = panic {
            std::panic::resume_unwind(p);
        }
        err.map_or(Ok(()), Err)
    }
}

impl<E> Shared<E> {
    fn fail(&self, e: E) {
        let mut first = self.first.lock();
        if first.err.is_some() || first.panic.is_some() {
            return;
        }
        if let (Some(c), Some(to_cause)) = (&self.cancel, self.to_cause) {
            c.cancel_shared(to_cause(&e));
        }
        first.err = Some(e);
    }

    fn panicked(&self, payload: Box<dyn Any + Send>) {
        let mut first = self.first.lock();
        if first.panic.is_none() {
            first.panic = Some(payload);
        }
        drop(first);
        if let Some(c) = &self.cancel {
            c.cancel("errgroup: a task panicked");
        }
    }
}

impl<E> Clone for ErrGroup<E> {
    fn clone(&self) -> Self {
        ErrGroup {
            shared: self.shared.clone(),
        }
    }
}

impl<E: Send + 'static> Default for ErrGroup<E> {
    fn default() -> Self {
        ErrGroup::new()
    }
}

impl<E> fmt::Debug for ErrGroup<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrGroup")
            .field("running", &self.shared.wg.count())
            .finish()
    }
}
