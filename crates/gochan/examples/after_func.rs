//! `context.AfterFunc`: run a function once a context ends.
//!
//! Not in the Go blog posts' code ("Go Concurrency Patterns: Context" only describes
//! adapting other cancellation mechanisms to a context); these are the two `AfterFunc`
//! examples of Go's `context` package docs.
//!
//! `ExampleAfterFunc_cond`: wait on a `sync.Cond` until a context ends.
//!
//! ```go
//! waitOnCond := func(ctx context.Context, cond *sync.Cond, conditionMet func() bool) error {
//!     stopf := context.AfterFunc(ctx, func() {
//!         cond.L.Lock()
//!         defer cond.L.Unlock()
//!         cond.Broadcast()
//!     })
//!     defer stopf()
//!     for !conditionMet() {
//!         cond.Wait()
//!         if ctx.Err() != nil {
//!             return ctx.Err()
//!         }
//!     }
//!     return nil
//! }
//! cond := sync.NewCond(new(sync.Mutex))
//! var wg sync.WaitGroup
//! for i := 0; i < 4; i++ {
//!     wg.Add(1)
//!     go func() {
//!         defer wg.Done()
//!         ctx, cancel := context.WithTimeout(context.Background(), 1*time.Millisecond)
//!         defer cancel()
//!         cond.L.Lock()
//!         defer cond.L.Unlock()
//!         err := waitOnCond(ctx, cond, func() bool { return false })
//!         fmt.Println(err)
//!     }()
//! }
//! wg.Wait()
//! // Output: context deadline exceeded (four times)
//! ```
//!
//! `ExampleAfterFunc_merge`: a context cancelled when either of two contexts is.
//!
//! ```go
//! mergeCancel := func(ctx, cancelCtx context.Context) (context.Context, context.CancelFunc) {
//!     ctx, cancel := context.WithCancelCause(ctx)
//!     stop := context.AfterFunc(cancelCtx, func() {
//!         cancel(context.Cause(cancelCtx))
//!     })
//!     return ctx, func() {
//!         stop()
//!         cancel(context.Canceled)
//!     }
//! }
//! ctx1, cancel1 := context.WithCancelCause(context.Background())
//! defer cancel1(errors.New("ctx1 canceled"))
//! ctx2, cancel2 := context.WithCancelCause(context.Background())
//! mergedCtx, mergedCancel := mergeCancel(ctx1, ctx2)
//! defer mergedCancel()
//! cancel2(errors.New("ctx2 canceled"))
//! <-mergedCtx.Done()
//! fmt.Println(context.Cause(mergedCtx))
//! // Output: ctx2 canceled
//! ```
//!
//! - `stopf := context.AfterFunc(ctx, f)` is `let stopf = context::after_func(&ctx, f)`;
//!   `stopf()` is `stopf.stop()`. Dropping the handle does *not* stop `f` (as in Go, where
//!   forgetting `stopf` lets `f` run), so `defer stopf()` is an explicit guard.
//! - `sync.Cond` is `parking_lot::Condvar` + `Mutex` (`cond.Wait()` is
//!   `cond.wait(&mut guard)`); `cond.L.Lock()` held by the caller is the guard passed in.
//! - `context.WithCancelCause` is `context::with_cancel_cause`; `cancel(err)` is
//!   `cancel.cancel(err)`; `context.Cause(ctx)` is `context::cause(&ctx)`.
//! - A user-made cancel function (`mergeCancel`'s second result) is a closure here:
//!   gochan's `CancelFunc` cannot be built from user code.

use std::sync::Arc;
use std::time::Duration;

use gochan::context::{self, Context};
use gochan::group::WaitGroup;
use parking_lot::{Condvar, Mutex, MutexGuard};

/// Go's `sync.Cond` with its `L`.
#[derive(Default)]
struct Cond {
    l: Mutex<()>,
    cv: Condvar,
}

/// Go's `defer f()`.
struct Defer<F: FnOnce()>(Option<F>);

impl<F: FnOnce()> Drop for Defer<F> {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

fn wait_on_cond(
    ctx: &Context,
    cond: &Arc<Cond>,
    guard: &mut MutexGuard<'_, ()>,
    condition_met: impl Fn() -> bool,
) -> Result<(), context::Error> {
    let c = cond.clone();
    let stopf = context::after_func(ctx, move || {
        // Take cond.L so this Broadcast cannot slip in before the Wait below.
        let _l = c.l.lock();
        c.cv.notify_all();
    });
    let _stop = Defer(Some(|| {
        stopf.stop();
    }));

    // Broadcast wakes every waiter, so check that it was our ctx that ended.
    while !condition_met() {
        cond.cv.wait(guard);
        if let Some(err) = ctx.err() {
            return Err(err);
        }
    }
    Ok(())
}

fn cond_example() -> Vec<String> {
    let cond = Arc::new(Cond::default());
    let (stdout, printed) = gochan::unbounded();
    let wg = WaitGroup::new();
    for _ in 0..4 {
        wg.add(1);
        let (cond, stdout, wg) = (cond.clone(), stdout.clone(), wg.clone());
        std::thread::spawn(move || {
            let (ctx, _cancel) =
                context::with_timeout(&context::background(), Duration::from_millis(1));
            let mut guard = cond.l.lock();
            let err = wait_on_cond(&ctx, &cond, &mut guard, || false);
            let _ = stdout.send(match err {
                Ok(()) => "<nil>".to_string(),
                Err(e) => e.to_string(),
            });
            drop(guard);
            wg.done();
        });
    }
    wg.wait();
    drop(stdout);
    printed.iter().collect()
}

/// Returns a context with `ctx`'s values that is cancelled when either `ctx` or
/// `cancel_ctx` is, and the function that cancels it.
fn merge_cancel(ctx: &Context, cancel_ctx: &Context) -> (Context, impl FnOnce()) {
    let (ctx, cancel) = context::with_cancel_cause(ctx);
    let cancel = Arc::new(cancel);
    let (c, cc) = (cancel.clone(), cancel_ctx.clone());
    let stop = context::after_func(cancel_ctx, move || {
        if let Some(cause) = context::cause(&cc) {
            c.cancel(cause);
        }
    });
    (ctx, move || {
        stop.stop();
        cancel.cancel(context::Error::Canceled);
    })
}

fn merge_example() -> Vec<String> {
    let (ctx1, cancel1) = context::with_cancel_cause(&context::background());
    let _cancel1 = Defer(Some(move || cancel1.cancel("ctx1 canceled")));

    let (ctx2, cancel2) = context::with_cancel_cause(&context::background());

    let (merged_ctx, merged_cancel) = merge_cancel(&ctx1, &ctx2);
    let _merged_cancel = Defer(Some(merged_cancel));

    cancel2.cancel("ctx2 canceled");
    merged_ctx.wait(); // <-mergedCtx.Done()
    vec![context::cause(&merged_ctx).unwrap().to_string()]
}

/// Runs the pattern and returns the lines the program prints.
pub fn run() -> Vec<String> {
    let mut out = cond_example();
    out.extend(merge_example());
    out
}

#[allow(dead_code)]
fn main() {
    for line in run() {
        println!("{line}");
    }
}
