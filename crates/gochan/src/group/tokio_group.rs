//! [`TokioErrGroup`]: the error group whose tasks are spawned on tokio (feature `tokio`).

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use super::first_error::{catch_unwind_future, FirstError, Member};
use crate::context::Context;

/// An error group whose tasks run on the tokio runtime (`tokio::spawn`), so they make
/// progress in parallel on the runtime's workers without `wait` polling them. Semantics
/// and signatures as [`ErrGroup`](super::ErrGroup): first error wins and cancels the
/// context (cause: a [`GroupCause`](super::GroupCause) with its text), `wait` cancels it
/// too, and a panicking task's panic is re-raised by `wait` after the others finished.
///
/// Every task is counted until it ends, however it ends (returns, panics, or is dropped
/// by a runtime shutting down): its slot under [`set_limit`](TokioErrGroup::set_limit) is
/// given back and `wait` is not left hanging. A `wait` future dropped midway changes
/// nothing: a later `wait` still waits for every task.
///
/// Cloning gives another handle to the same group (for tasks that start more tasks).
///
/// ```
/// use gochan::{context, group::TokioErrGroup};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let (g, ctx) = TokioErrGroup::<String>::with_context(&context::background());
/// g.go(async { Err("boom".to_string()) });
/// let c = ctx.clone();
/// g.go(async move { c.cancelled().await; Ok(()) });
/// assert_eq!(g.wait().await, Err("boom".to_string()));
/// # });
/// ```
pub struct TokioErrGroup<E> {
    core: Arc<FirstError<E>>,
}

impl<E: Send + 'static> TokioErrGroup<E> {
    /// A group with no context and no limit.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let g = gochan::group::TokioErrGroup::<()>::new();
    /// g.go(async { Ok(()) });
    /// assert!(g.wait().await.is_ok());
    /// # });
    /// ```
    pub fn new() -> Self {
        TokioErrGroup {
            core: Arc::new(FirstError::new()),
        }
    }

    /// A group and a context cancelled on the first error and when `wait` returns.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let (g, ctx) = gochan::group::TokioErrGroup::<String>::with_context(
    ///     &gochan::context::background());
    /// g.wait().await.unwrap();
    /// assert!(ctx.is_done());
    /// # });
    /// ```
    pub fn with_context(parent: &Context) -> (Self, Context)
    where
        E: fmt::Display,
    {
        let (core, ctx) = FirstError::with_context(parent);
        (
            TokioErrGroup {
                core: Arc::new(core),
            },
            ctx,
        )
    }

    /// At most `n` tasks run their future at once (the others are spawned but wait for a
    /// slot inside their task, in FIFO order); a negative `n` removes the limit.
    ///
    /// # Panics
    /// If tasks admitted under the current limit have not finished yet (as
    /// [`ErrGroup::set_limit`](super::ErrGroup::set_limit)).
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let g = gochan::group::TokioErrGroup::<()>::new();
    /// g.set_limit(2);
    /// for _ in 0..5 { g.go(async { Ok(()) }); }
    /// g.wait().await.unwrap();
    /// # });
    /// ```
    #[track_caller]
    pub fn set_limit<N: TryInto<isize>>(&self, n: N) {
        self.core.set_limit(n.try_into().unwrap_or(-1));
    }

    /// Spawns `fut` on the current tokio runtime.
    ///
    /// # Panics
    /// Outside a tokio runtime (as `tokio::spawn`).
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let g = gochan::group::TokioErrGroup::new();
    /// g.go(async { Err(3) });
    /// assert_eq!(g.wait().await, Err(3));
    /// # });
    /// ```
    #[track_caller]
    pub fn go<F>(&self, fut: F)
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
    {
        let member = self.core.join();
        self.spawn(fut, member);
    }

    /// Spawns `fut` only if the limit has a free slot now; returns whether it did.
    ///
    /// # Panics
    /// Outside a tokio runtime (as `tokio::spawn`).
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let g = gochan::group::TokioErrGroup::<()>::new();
    /// g.set_limit(0);
    /// assert!(!g.try_go(async { Ok(()) }));
    /// # });
    /// ```
    #[track_caller]
    #[must_use = "when try_go returns false the task was not started"]
    pub fn try_go<F>(&self, fut: F) -> bool
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
    {
        let mut member = self.core.join();
        if !member.try_take_slot() {
            return false;
        }
        self.spawn(fut, member);
        true
    }

    #[track_caller]
    fn spawn<F>(&self, fut: F, member: Member)
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
    {
        let core = self.core.clone();
        // The member guard lives in the task: it is dropped when the task ends in any
        // way (even if tokio drops the task unpolled), giving the slot back.
        tokio::spawn(async move {
            let mut member = member;
            member.take_slot_async().await;
            let ended = catch_unwind_future(fut).await;
            core.record(ended);
            drop(member);
        });
    }

    /// Waits for every task; cancels the context; returns the first error.
    ///
    /// # Panics
    /// Re-raises the first task panic after all tasks finished.
    ///
    /// # Cancel safety
    /// Dropping the future has no effect on the group: the next `wait` waits for every
    /// task still running and returns the first error.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let g = gochan::group::TokioErrGroup::<()>::new();
    /// assert!(g.wait().await.is_ok());
    /// # });
    /// ```
    pub async fn wait(&self) -> Result<(), E> {
        self.core.members().wait_async().await;
        self.core.finish()
    }
}

impl<E> Clone for TokioErrGroup<E> {
    fn clone(&self) -> Self {
        TokioErrGroup {
            core: self.core.clone(),
        }
    }
}

impl<E: Send + 'static> Default for TokioErrGroup<E> {
    fn default() -> Self {
        TokioErrGroup::new()
    }
}

impl<E> fmt::Debug for TokioErrGroup<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokioErrGroup")
            .field("running", &self.core.members().count())
            .finish()
    }
}
