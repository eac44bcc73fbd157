//! The state machine every error group shares ([`ErrGroup`](super::ErrGroup),
//! [`AsyncErrGroup`](super::AsyncErrGroup), `TokioErrGroup`): the first error is recorded
//! once and cancels the group's context with a [`GroupCause`]; the first panic is kept for
//! `wait` to re-raise; running members are counted; `set_limit` hands out slots.
//!
//! The groups differ only in how a member runs (a thread, a future polled by `wait`, a
//! tokio task). Each member is a [`Member`] guard: dropping it, on return, on unwind or
//! when a runtime drops the task, gives the slot back and marks the member done, so no
//! way of ending can leave `wait` hanging.

use std::any::Any;
use std::sync::Arc;

use super::{Semaphore, WaitGroup};
use crate::context::{self, CancelCauseFunc, CauseError, Context};
use crate::prim::{AtomicUsize, Mutex, Ordering};

/// The cause an error group gives its context: the first error, as text (the error
/// itself is returned by `wait`).
///
/// ```
/// use gochan::{context, group::{ErrGroup, GroupCause}};
/// let (g, ctx) = ErrGroup::<String>::with_context(&context::background());
/// g.go(|| Err("disk full".to_string()));
/// let _ = g.wait();
/// let cause = context::cause(&ctx).unwrap();
/// assert_eq!(cause.downcast_ref::<GroupCause>(), Some(&GroupCause("disk full".into())));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupCause(pub String);

impl std::fmt::Display for GroupCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GroupCause {}

/// The cause a group's context gets when a member panics first.
const PANIC_CAUSE: &str = "errgroup: a task panicked";

pub(super) struct FirstError<E> {
    outcome: Mutex<Outcome<E>>,
    cancel: Option<CancelCauseFunc>,
    to_cause: Option<fn(&E) -> CauseError>,
    members: WaitGroup,
    limit: Mutex<Option<Arc<Limit>>>,
}

struct Outcome<E> {
    err: Option<E>,
    panic: Option<Box<dyn Any + Send>>,
}

/// The slots of one `set_limit` call, and how many members were admitted under it
/// (holding a slot or waiting for one): Go's `len(g.sem)`.
struct Limit {
    slots: Semaphore,
    users: AtomicUsize,
}

impl<E> FirstError<E> {
    /// A core with no context.
    pub(super) fn new() -> Self {
        FirstError {
            outcome: Mutex::new(Outcome {
                err: None,
                panic: None,
            }),
            cancel: None,
            to_cause: None,
            members: WaitGroup::new(),
            limit: Mutex::new(None),
        }
    }

    /// A core and a context derived from `parent` that the first error cancels.
    pub(super) fn with_context(parent: &Context) -> (Self, Context)
    where
        E: std::fmt::Display,
    {
        let (ctx, cancel) = context::with_cancel_cause(parent);
        let mut core = FirstError::new();
        core.cancel = Some(cancel);
        core.to_cause = Some(|e: &E| Arc::new(GroupCause(e.to_string())));
        (core, ctx)
    }

    /// Go's `SetLimit`: a negative `n` removes the limit.
    #[track_caller]
    pub(super) fn set_limit(&self, n: isize) {
        let mut limit = self.limit.lock();
        if let Some(cur) = limit.as_ref() {
            let active = cur.users.load(Ordering::SeqCst);
            if active != 0 {
                drop(limit);
                panic!("errgroup: modify limit while {active} goroutines in the group are still active");
            }
        }
        *limit = usize::try_from(n).ok().map(|n| {
            Arc::new(Limit {
                slots: Semaphore::new(i64::try_from(n).unwrap_or(i64::MAX)),
                users: AtomicUsize::new(0),
            })
        });
    }

    /// A new member: counted until its guard drops, and admitted under the current limit
    /// (if any) without a slot yet.
    pub(super) fn join(&self) -> Member {
        let slot = self.limit.lock().as_ref().map(|l| {
            l.users.fetch_add(1, Ordering::SeqCst);
            Slot {
                limit: l.clone(),
                held: false,
            }
        });
        self.members.add(1);
        Member {
            members: self.members.clone(),
            slot,
        }
    }

    /// The counter of members not yet done.
    pub(super) fn members(&self) -> &WaitGroup {
        &self.members
    }

    /// Records how a member ended: `Ok(result)` when it returned, `Err(payload)` when it
    /// panicked. Call it before the member's guard drops, so `wait` sees it.
    pub(super) fn record(&self, ended: std::thread::Result<Result<(), E>>) {
        match ended {
            Ok(Ok(())) => {}
            Ok(Err(e)) => self.fail(e),
            Err(payload) => self.panicked(payload),
        }
    }

    fn fail(&self, e: E) {
        let mut outcome = self.outcome.lock();
        if outcome.err.is_some() || outcome.panic.is_some() {
            return; // only the first failure counts
        }
        if let (Some(c), Some(to_cause)) = (&self.cancel, self.to_cause) {
            c.cancel_shared(to_cause(&e));
        }
        outcome.err = Some(e);
    }

    fn panicked(&self, payload: Box<dyn Any + Send>) {
        let mut outcome = self.outcome.lock();
        if outcome.panic.is_none() {
            outcome.panic = Some(payload);
        }
        drop(outcome);
        if let Some(c) = &self.cancel {
            c.cancel(PANIC_CAUSE);
        }
    }

    /// What `wait` does once every member is done: cancel the context (with the first
    /// error as cause, if any), re-raise the first panic, hand out the first error. The
    /// error is taken: a group used again after `wait` starts with a clean slate.
    pub(super) fn finish(&self) -> Result<(), E> {
        let mut outcome = self.outcome.lock();
        let err = outcome.err.take();
        let panic = outcome.panic.take();
        drop(outcome);
        if let Some(c) = &self.cancel {
            match (&err, self.to_cause) {
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

/// One member of a group. Dropping it gives its slot back (if it holds one) and marks the
/// member done, whichever way the member ended.
pub(super) struct Member {
    members: WaitGroup,
    slot: Option<Slot>,
}

struct Slot {
    limit: Arc<Limit>,
    held: bool,
}

impl Member {
    /// Waits for a slot, blocking the thread (no-op without a limit).
    pub(super) fn take_slot(&mut self) {
        if let Some(slot) = self.slot.as_mut().filter(|s| !s.held) {
            let bg = context::background();
            slot.held = slot.limit.slots.acquire(&bg, 1).is_ok();
        }
    }

    /// Waits for a slot from async code (no-op without a limit). Cancel safe: a dropped
    /// wait takes nothing.
    #[cfg(feature = "tokio")]
    pub(super) async fn take_slot_async(&mut self) {
        if let Some(slot) = self.slot.as_mut().filter(|s| !s.held) {
            let bg = context::background();
            slot.held = slot.limit.slots.acquire_async(&bg, 1).await.is_ok();
        }
    }

    /// Takes a slot if one is free now; `true` without a limit or if it holds one.
    pub(super) fn try_take_slot(&mut self) -> bool {
        match self.slot.as_mut() {
            None => true,
            Some(slot) => {
                slot.held = slot.held || slot.limit.slots.try_acquire(1);
                slot.held
            }
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            if slot.held {
                slot.limit.slots.release(1);
            }
            slot.limit.users.fetch_sub(1, Ordering::SeqCst);
        }
        self.members.done();
    }
}

/// Runs `fut` to completion, catching a panic of any poll (the future is dropped then).
pub(super) async fn catch_unwind_future<F>(fut: F) -> std::thread::Result<F::Output>
where
    F: std::future::Future,
{
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::task::Poll;
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(
        move |cx| match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(payload) => Poll::Ready(Err(payload)),
        },
    )
    .await
}
