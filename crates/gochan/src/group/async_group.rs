//! [`AsyncErrGroup`]: the error group for futures, polled by `wait` itself, so it runs on
//! any executor (or none) without spawning.

use std::any::Any;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use crate::context::{self, CancelCauseFunc, CauseError, Context};

type Task<'a, E> = Pin<Box<dyn Future<Output = Result<(), E>> + Send + 'a>>;

/// A group of futures: `wait` runs them concurrently (at most `limit` at once), keeps the
/// first error, and with a context cancels it on the first error (cause: that error) and
/// when `wait` finishes. A panicking future is re-raised by `wait` after the others
/// finished.
///
/// ```
/// use gochan::{context, group::AsyncErrGroup};
/// let (mut g, ctx) = AsyncErrGroup::<String>::with_context(&context::background());
/// g.go(async { Err("search failed".to_string()) });
/// let c = ctx.clone();
/// g.go(async move { c.cancelled().await; Ok(()) });
/// let r = futures::executor::block_on(g.wait());
/// assert_eq!(r, Err("search failed".to_string()));
/// ```
pub struct AsyncErrGroup<'a, E> {
    running: Vec<Task<'a, E>>,
    queued: VecDeque<Task<'a, E>>,
    limit: Option<usize>,
    cancel: Option<CancelCauseFunc>,
    to_cause: Option<fn(&E) -> CauseError>,
    err: Option<E>,
    panic: Option<Box<dyn Any + Send>>,
}

impl<'a, E: Send + 'a> AsyncErrGroup<'a, E> {
    /// An empty group with no context and no limit.
    ///
    /// ```
    /// let g = gochan::group::AsyncErrGroup::<()>::new();
    /// assert!(futures::executor::block_on(g.wait()).is_ok());
    /// ```
    pub fn new() -> Self {
        AsyncErrGroup {
            running: Vec::new(),
            queued: VecDeque::new(),
            limit: None,
            cancel: None,
            to_cause: None,
            err: None,
            panic: None,
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
        E: std::fmt::Display,
    {
        let (ctx, cancel) = context::with_cancel_cause(parent);
        let mut g = AsyncErrGroup::new();
        g.cancel = Some(cancel);
        g.to_cause = Some(|e: &E| Arc::new(super::GroupCause(e.to_string())));
        (g, ctx)
    }

    /// Runs at most `n` futures at once (a negative `n` removes the limit); the others
    /// wait their turn in FIFO order.
    ///
    /// ```
    /// let mut g = gochan::group::AsyncErrGroup::<()>::new();
    /// g.set_limit(1);
    /// g.go(async { Ok(()) });
    /// futures::executor::block_on(g.wait()).unwrap();
    /// ```
    pub fn set_limit<N: TryInto<isize>>(&mut self, n: N) {
        let n: isize = n.try_into().unwrap_or(-1);
        self.limit = usize::try_from(n).ok();
    }

    /// Adds a future to the group. It starts when `wait` is polled.
    ///
    /// ```
    /// let mut g = gochan::group::AsyncErrGroup::new();
    /// g.go(async { Err(7) });
    /// assert_eq!(futures::executor::block_on(g.wait()), Err(7));
    /// ```
    pub fn go<F>(&mut self, fut: F)
    where
        F: Future<Output = Result<(), E>> + Send + 'a,
    {
        self.queued.push_back(Box::pin(fut));
    }

    /// Runs every future to completion; returns the first error.
    ///
    /// # Panics
    /// Re-raises the first panic of a future, after the others finished.
    ///
    /// ```
    /// let g = gochan::group::AsyncErrGroup::<()>::new();
    /// futures::executor::block_on(g.wait()).unwrap();
    /// ```
    pub async fn wait(mut self) -> Result<(), E> {
        std::future::poll_fn(|cx| self.poll_all(cx)).await;
        if let Some(c) = self.cancel.take() {
            match (&self.err, self.to_cause) {
                (Some(e), Some(to_cause)) => c.cancel_shared(to_cause(e)),
                _ => c.cancel_without_cause(),
            }
        }
        if let Some(p) = self.panic.take() {
            resume_unwind(p);
        }
        self.err.take().map_or(Ok(()), Err)
    }

    fn poll_all(&mut self, cx: &mut TaskContext<'_>) -> Poll<()> {
        loop {
            while self.limit.map_or(true, |l| self.running.len() < l) {
                match self.queued.pop_front() {
                    Some(t) => self.running.push(t),
                    None => break,
                }
            }
            let before = self.running.len();
            let mut i = 0;
            while i < self.running.len() {
                let polled = catch_unwind(AssertUnwindSafe(|| self.running[i].as_mut().poll(cx)));
                match polled {
                    Ok(Poll::Pending) => i += 1,
                    Ok(Poll::Ready(r)) => {
                        drop(self.running.swap_remove(i));
                        if let Err(e) = r {
                            self.fail(e);
                        }
                    }
                    Err(p) => {
                        drop(self.running.swap_remove(i));
                        self.panic.get_or_insert(p);
                        if let Some(c) = &self.cancel {
                            c.cancel("errgroup: a task panicked");
                        }
                    }
                }
            }
            if self.running.is_empty() && self.queued.is_empty() {
                return Poll::Ready(());
            }
            // Finished tasks freed slots: start queued ones now rather than wait a wake.
            if self.running.len() == before || self.queued.is_empty() {
                return Poll::Pending;
            }
        }
    }

    fn fail(&mut self, e: E) {
        if self.err.is_some() {
            return;
        }
        if let (Some(c), Some(to_cause)) = (&self.cancel, self.to_cause) {
            c.cancel_shared(to_cause(&e));
        }
        self.err = Some(e);
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
            .field("running", &self.running.len())
            .field("queued", &self.queued.len())
            .finish()
    }
}
