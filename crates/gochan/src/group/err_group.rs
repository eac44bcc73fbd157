//! [`ErrGroup`]: run tasks on threads, collect the first error, cancel the rest.
//! `golang.org/x/sync/errgroup`.

use std::fmt;
use std::sync::Arc;

use super::first_error::{FirstError, Member};
use crate::context::Context;

/// A group of threads working on subtasks of one task. The first error returned by a task
/// is kept (later ones are dropped) and, for a group made by [`ErrGroup::with_context`],
/// cancels the group's context with a [`GroupCause`](super::GroupCause) showing that error.
///
/// A task that panics does not lose the panic: the context (if any) is cancelled, and
/// [`ErrGroup::wait`] re-raises the first panic after all tasks finished (like
/// `std::thread::scope`).
///
/// Cloning gives another handle to the same group (for tasks that start more tasks).
/// [`AsyncErrGroup`](super::AsyncErrGroup) and `TokioErrGroup` share this behaviour and
/// these method signatures.
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
    core: Arc<FirstError<E>>,
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
        ErrGroup {
            core: Arc::new(FirstError::new()),
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
        E: fmt::Display,
    {
        let (core, ctx) = FirstError::with_context(parent);
        (
            ErrGroup {
                core: Arc::new(core),
            },
            ctx,
        )
    }

    /// Limits the number of tasks running at once to `n`; a negative `n` (or one beyond
    /// `isize`) removes the limit. While the limit is reached, [`ErrGroup::go`] blocks and
    /// [`ErrGroup::try_go`] returns `false`.
    ///
    /// # Panics
    /// If tasks admitted under the current limit are still running (Go: "errgroup: modify
    /// limit while N goroutines in the group are still active").
    ///
    /// ```
    /// let g = gochan::group::ErrGroup::<String>::new();
    /// g.set_limit(1);
    /// g.go(|| Ok(()));
    /// g.wait().unwrap();
    /// ```
    #[track_caller]
    pub fn set_limit<N: TryInto<isize>>(&self, n: N) {
        self.core.set_limit(n.try_into().unwrap_or(-1));
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
        let mut member = self.core.join();
        member.take_slot();
        self.spawn(f, member);
    }

    /// Runs `f` on a new thread only if the limit allows it now; returns whether it did.
    ///
    /// ```
    /// let g = gochan::group::ErrGroup::<String>::new();
    /// g.set_limit(0);
    /// assert!(!g.try_go(|| Ok(())));
    /// ```
    #[must_use = "when try_go returns false the task was not started"]
    pub fn try_go<F>(&self, f: F) -> bool
    where
        F: FnOnce() -> Result<(), E> + Send + 'static,
    {
        let mut member = self.core.join();
        if !member.try_take_slot() {
            return false;
        }
        self.spawn(f, member);
        true
    }

    fn spawn<F>(&self, f: F, member: Member)
    where
        F: FnOnce() -> Result<(), E> + Send + 'static,
    {
        let core = self.core.clone();
        // If the spawn itself fails, the closure (and the member in it) is dropped: the
        // member is done and its slot given back, so `wait` does not hang.
        crate::prim::spawn(move || {
            let ended = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            core.record(ended);
            drop(member);
        });
    }

    /// Waits for every task, cancels the context (if any), and returns the first error.
    ///
    /// # Panics
    /// Re-raises the first panic of a task, after all tasks finished.
    ///
    /// # Panics
    /// With the `tokio` feature, if it would park a tokio worker thread (use `wait_async().await` in
    /// async code); see [`Receiver::recv`](crate::Receiver::recv).
    ///
    /// ```
    /// let g = gochan::group::ErrGroup::<()>::new();
    /// assert!(g.wait().is_ok()); // an empty group
    /// ```
    #[track_caller]
    pub fn wait(&self) -> Result<(), E> {
        let _scope = crate::debug::registry::scope(
            crate::debug::BlockedOp::ErrGroupWait,
            std::panic::Location::caller(),
        );
        if self.core.members().count() > 0 {
            crate::prim::blocking::check(crate::prim::blocking::Op::GroupWait);
        }
        self.core.members().wait();
        self.core.finish()
    }

    /// [`ErrGroup::wait`] from async code (the tasks still run on their threads).
    ///
    /// # Cancel safety
    /// Dropping the future has no effect on the group.
    ///
    /// ```
    /// let g = gochan::group::ErrGroup::<()>::new();
    /// g.go(|| Ok(()));
    /// assert!(futures::executor::block_on(g.wait_async()).is_ok());
    /// ```
    pub async fn wait_async(&self) -> Result<(), E> {
        self.core.members().wait_async().await;
        self.core.finish()
    }
}

impl<E> Clone for ErrGroup<E> {
    fn clone(&self) -> Self {
        ErrGroup {
            core: self.core.clone(),
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
            .field("running", &self.core.members().count())
            .finish()
    }
}
