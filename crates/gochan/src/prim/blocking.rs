//! The guard every blocking gochan call passes before it parks its thread.
//!
//! Parking a thread that drives an async runtime stalls every task on it, and usually
//! deadlocks: the task that would wake the parked thread may be queued on that very
//! thread. With the `tokio` feature gochan knows tokio's runtime and panics instead of
//! hanging, as tokio's own `blocking_recv` does, naming the async form to use. Other
//! executors cannot be detected; the blocking methods' docs say so.

/// A blocking operation, named in the panic message with its async form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Recv,
    Send,
    Select,
    WaitGroupWait,
    ContextWait,
    GroupWait,
    SemaphoreAcquire,
}

impl Op {
    /// `(blocking call, async form)`.
    #[cfg_attr(not(all(feature = "tokio", not(loom))), allow(dead_code))]
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Op::Recv => ("Receiver::recv", "rx.recv_async().await"),
            Op::Send => ("Sender::send", "tx.send_async(value).await"),
            Op::Select => ("select!", "select_async! (or Select::select_async)"),
            Op::WaitGroupWait => ("WaitGroup::wait", "wg.wait_async().await"),
            Op::ContextWait => ("Context::wait", "ctx.cancelled().await"),
            Op::GroupWait => ("ErrGroup::wait", "AsyncErrGroup / TokioErrGroup"),
            Op::SemaphoreAcquire => ("Semaphore::acquire", "sem.acquire_async(..).await"),
        }
    }
}

/// Panics if the calling thread is one that drives a tokio runtime (a worker thread of a
/// multi-thread runtime, or the thread inside a current-thread runtime's `block_on`),
/// outside `tokio::task::block_in_place`. Called only when `op` is about to park, so a
/// call that completes at once (a send on an unbounded channel, a receive of a buffered
/// value) is fine anywhere.
#[inline]
#[track_caller]
pub(crate) fn check(op: Op) {
    #[cfg(all(feature = "tokio", not(loom)))]
    if tokio::runtime::worker_index().is_some() && !tokio_allows_blocking() {
        let (call, async_form) = op.names();
        panic!(
            "gochan: {call} would block a thread that is running tokio tasks (it would stall \
             them all, and usually deadlock); use `{async_form}` in async code, or move the \
             blocking code to tokio::task::spawn_blocking / block_in_place"
        );
    }
    #[cfg(not(all(feature = "tokio", not(loom))))]
    let _ = op;
}

/// Whether tokio lets this worker thread block: true inside `block_in_place`. tokio has no
/// public query for it, so ask `Handle::block_on`, which panics exactly where blocking is
/// not allowed (its panic message is printed before gochan's own).
#[cfg(all(feature = "tokio", not(loom)))]
#[cold]
fn tokio_allows_blocking() -> bool {
    std::panic::catch_unwind(|| tokio::runtime::Handle::current().block_on(async {})).is_ok()
}
