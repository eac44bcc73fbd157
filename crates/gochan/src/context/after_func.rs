//! `after_func`: run a function once after a context ends. Go's `context.AfterFunc`.

use std::fmt;
use std::sync::Arc;

use super::tree::{self, CancelKind, Node};
use super::Context;

/// Arranges for `f` to run once, on its own thread, after `ctx` ends (at once if it
/// already has). Returns a handle whose [`AfterFunc::stop`] prevents the run. Dropping
/// the handle does not stop it. For a context that can never end, `f` never runs.
///
/// ```
/// use gochan::context;
/// let (ctx, cancel) = context::with_cancel(&context::background());
/// let (tx, rx) = gochan::bounded(1);
/// let _af = context::after_func(&ctx, move || tx.send("cleaned up").unwrap());
/// cancel.cancel();
/// assert_eq!(rx.recv(), Ok("cleaned up"));
/// ```
pub fn after_func<F>(ctx: &Context, f: F) -> AfterFunc
where
    F: FnOnce() + Send + 'static,
{
    // Under loom the models check stop-vs-run exactly-once; run inline there.
    #[cfg(loom)]
    let hook: Box<dyn FnOnce() + Send> = Box::new(f);
    #[cfg(not(loom))]
    let hook: Box<dyn FnOnce() + Send> = Box::new(move || {
        // Off the cancelling thread, as Go runs f in its own goroutine. If no thread can
        // be started, run it here rather than lose it.
        let shared = Arc::new(parking_lot::Mutex::new(Some(f)));
        let theirs = shared.clone();
        let spawned = crate::prim::spawn_named("gochan-after-func", move || {
            let f = theirs.lock().take();
            if let Some(f) = f {
                f()
            }
        });
        if spawned.is_err() {
            let f = shared.lock().take();
            if let Some(f) = f {
                f()
            }
        }
    });
    AfterFunc {
        node: tree::new_cancel_node(&ctx.node, CancelKind::Hook, None, Some(hook)),
    }
}

/// The handle of an [`after_func`] registration.
///
/// Go's `stop := context.AfterFunc(ctx, f)`. Keep it to call [`stop`](AfterFunc::stop)
/// later; dropping it leaves `f` registered.
///
/// ```
/// use gochan::context;
/// let (ctx, cancel) = context::with_cancel(&context::background());
/// let (tx, rx) = gochan::bounded(1);
/// let handle: context::AfterFunc = context::after_func(&ctx, move || tx.send(1).unwrap());
/// drop(handle); // f stays registered
/// cancel.cancel();
/// assert_eq!(rx.recv(), Ok(1));
/// ```
pub struct AfterFunc {
    node: Arc<Node>,
}

impl AfterFunc {
    /// Stops `f` from running. Returns `true` if this call prevented the run, `false` if
    /// `f` has already been started or `stop` was already called.
    ///
    /// ```
    /// use gochan::context;
    /// let (ctx, cancel) = context::with_cancel(&context::background());
    /// let af = context::after_func(&ctx, || panic!("never runs"));
    /// assert!(af.stop());
    /// assert!(!af.stop());
    /// cancel.cancel();
    /// ```
    pub fn stop(&self) -> bool {
        tree::stop_hook(&self.node)
    }
}

impl fmt::Debug for AfterFunc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AfterFunc")
    }
}
