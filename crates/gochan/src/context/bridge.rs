//! Adapting other cancellation sources into contexts, and contexts into them (the Go blog's
//! "Go Concurrency Patterns: Context", section "Adapting code for Contexts").

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use super::{with_cancel, CancelFunc, Context};

/// Derives a context from `parent` that also ends when `source` completes (any future: a
/// channel's `recv_async()`, a shutdown signal, another framework's token). Returns the
/// context and a future that drives `source`: run it on any executor (or `select` it
/// alongside the work); it finishes when `source` completes or the context ends,
/// whichever comes first, and then drops `source`. No thread is used. Dropping the
/// returned future before then cancels the context (nothing would watch the source any
/// more; like a dropped [`CancelFunc`], cancellation cannot be forgotten).
///
/// ```
/// use gochan::context;
/// let (tx, rx) = gochan::bounded::<()>(1);
/// let (ctx, watch) = context::cancel_when(&context::background(), async move {
///     let _ = rx.recv_async().await; // ends on a message or on close
/// });
/// tx.send(()).unwrap();
/// futures::executor::block_on(watch);
/// assert!(ctx.is_done());
/// ```
pub fn cancel_when<F: Future>(parent: &Context, source: F) -> (Context, CancelWhen<F>) {
    let (ctx, cancel) = with_cancel(parent);
    let watch = CancelWhen {
        source: Box::pin(source),
        ended: Box::pin(ctx.clone().cancelled_owned()),
        cancel: Some(cancel),
    };
    (ctx, watch)
}

impl Context {
    async fn cancelled_owned(self) {
        self.cancelled().await
    }
}

/// The future returned by [`cancel_when`].
///
/// Poll it alongside the work (spawn it, or `join` it); it ends when the source
/// completes or the context ends, and dropping it early cancels the context.
///
/// ```
/// use gochan::context;
/// let (ctx, watch) = context::cancel_when(&context::background(), std::future::pending::<()>());
/// assert!(!ctx.is_done());
/// drop(watch); // nothing watches the source any more: the context ends
/// assert_eq!(ctx.err(), Some(context::Error::Canceled));
/// ```
#[must_use = "the source is only watched while this future is polled"]
pub struct CancelWhen<F> {
    source: Pin<Box<F>>,
    ended: Pin<Box<dyn Future<Output = ()> + Send>>,
    cancel: Option<CancelFunc>,
}

impl<F: Future> Future for CancelWhen<F> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        if self.cancel.is_none() {
            return Poll::Ready(());
        }
        if self.source.as_mut().poll(cx).is_ready() {
            if let Some(c) = self.cancel.take() {
                c.cancel();
            }
            return Poll::Ready(());
        }
        if self.ended.as_mut().poll(cx).is_ready() {
            self.cancel = None; // already ended; dropping the func changes nothing
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

impl<F> fmt::Debug for CancelWhen<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelWhen")
            .field("watching", &self.cancel.is_some())
            .finish()
    }
}

/// A tokio-util `CancellationToken` cancelled when `ctx` ends (at once if it has). The
/// token is cancelled inline by whoever ends the context: no thread or task.
///
/// ```
/// use gochan::context;
/// let (ctx, cancel) = context::with_cancel(&context::background());
/// let token = context::to_cancellation_token(&ctx);
/// cancel.cancel();
/// assert!(token.is_cancelled());
/// ```
#[cfg(feature = "tokio")]
#[must_use = "the token is the only way to observe the context's end through it"]
pub fn to_cancellation_token(ctx: &Context) -> tokio_util::sync::CancellationToken {
    let token = tokio_util::sync::CancellationToken::new();
    let t = token.clone();
    // A hook node is held by its canceler until it runs; cancelling a token is quick and
    // never blocks, so it runs inline.
    let _ = super::tree::new_cancel_node(
        &ctx.node,
        super::tree::CancelKind::Hook,
        None,
        Some(Box::new(move || t.cancel())),
    );
    token
}

/// A context derived from `parent` that also ends when `token` is cancelled, plus the
/// watcher future to run on any executor (see [`cancel_when`]).
///
/// ```
/// use gochan::context;
/// let token = tokio_util::sync::CancellationToken::new();
/// let (ctx, watch) = context::from_cancellation_token(&context::background(), token.clone());
/// token.cancel();
/// futures::executor::block_on(watch);
/// assert!(ctx.is_done());
/// ```
#[cfg(feature = "tokio")]
pub fn from_cancellation_token(
    parent: &Context,
    token: tokio_util::sync::CancellationToken,
) -> (
    Context,
    CancelWhen<tokio_util::sync::WaitForCancellationFutureOwned>,
) {
    cancel_when(parent, token.cancelled_owned())
}
