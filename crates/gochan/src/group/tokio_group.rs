//! [`TokioErrGroup`]: the error group whose tasks are spawned on tokio (feature `tokio`).

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::task::JoinHandle;

use super::{GroupCause, Semaphore};
use crate::context::{self, CancelCauseFunc, CauseError, Context};

/// An error group whose tasks run on the tokio runtime (`tokio::spawn`), so they make
/// progress in parallel on the runtime's workers without `wait` polling them. Semantics
/// as [`ErrGroup`](super::ErrGroup): first error wins and cancels the context (cause: a
/// [`GroupCause`] with its text), `wait` cancels it too, and a panicking task's panic is
/// re-raised by `wait` after the others finished.
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
    handles: Mutex<Vec<JoinHandle<()>>>,
    first: Arc<Mutex<Option<E>>>,
    cancel: Option<Arc<CancelCauseFunc>>,
    to_cause: Option<fn(&E) -> CauseError>,
    limit: Mutex<Option<Arc<Semaphore>>>,
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
            handles: Mutex::new(Vec::new()),
            first: Arc::new(Mutex::new(None)),
            cancel: None,
            to_cause: None,
            limit: Mutex::new(None),
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
        let (ctx, cancel) = context::with_cancel_cause(parent);
        let mut g = TokioErrGroup::new();
        g.cancel = Some(Arc::new(cancel));
        g.to_cause = Some(|e: &E| Arc::new(GroupCause(e.to_string())));
        (g, ctx)
    }

    /// At most `n` tasks run their future at once (the others wait for a slot inside
    /// their task); a negative `n` removes the limit.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let g = gochan::group::TokioErrGroup::<()>::new();
    /// g.set_limit(2);
    /// for _ in 0..5 { g.go(async { Ok(()) }); }
    /// g.wait().await.unwrap();
    /// # });
    /// ```
    pub fn set_limit<N: TryInto<i64>>(&self, n: N) {
        let n: i64 = n.try_into().unwrap_or(-1);
        *self.limit.lock() = (n >= 0).then(|| Arc::new(Semaphore::new(n)));
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
    pub fn go<F>(&self, fut: F)
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
    {
        let first = self.first.clone();
        let cancel = self.cancel.clone();
        let to_cause = self.to_cause;
        let limit = self.limit.lock().clone();
        let handle = tokio::spawn(async move {
            let bg = context::background();
            if let Some(sem) = &limit {
                let _ = sem.acquire_async(&bg, 1).await;
            }
            let r = fut.await;
            if let Some(sem) = &limit {
                sem.release(1);
            }
            if let Err(e) = r {
                let mut first = first.lock();
                if first.is_none() {
                    if let (Some(c), Some(to_cause)) = (&cancel, to_cause) {
                        c.cancel_shared(to_cause(&e));
                    }
                    *first = Some(e);
                }
            }
        });
        self.handles.lock().push(handle);
    }

    /// Waits for every task; cancels the context; returns the first error.
    ///
    /// # Panics
    /// Re-raises the first task panic after all tasks finished.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let g = gochan::group::TokioErrGroup::<()>::new();
    /// assert!(g.wait().await.is_ok());
    /// # });
    /// ```
    pub async fn wait(&self) -> Result<(), E> {
        let mut panic = None;
        loop {
            let batch: Vec<_> = std::mem::take(&mut *self.handles.lock());
            if batch.is_empty() {
                break;
            }
            for h in batch {
                if let Err(e) = h.await {
                    if e.is_panic() && panic.is_none() {
                        if let Some(c) = &self.cancel {
                            c.cancel("errgroup: a task panicked");
                        }
                        panic = Some(e.into_panic());
                    }
                }
            }
        }
        let err = self.first.lock().take();
        if let Some(c) = &self.cancel {
            if err.is_none() {
                c.cancel_without_cause();
            }
        }
        if let Some(p) = panic {
            std::panic::resume_unwind(p);
        }
        err.map_or(Ok(()), Err)
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
            .field("tasks", &self.handles.lock().len())
            .finish()
    }
}
