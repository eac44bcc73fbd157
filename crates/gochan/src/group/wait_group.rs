//! [`WaitGroup`]: wait for a collection of threads or tasks to finish. Go's `sync.WaitGroup`.

use std::fmt;
use std::sync::Arc;

use crate::chan::{self, core::Chan, Receiver};
use crate::prim::Mutex;

/// A counter that `wait` blocks on until it returns to zero. Cheap to clone: clones share
/// one counter (pass a clone to each worker, as Go passes `&wg`).
///
/// ```
/// use gochan::group::WaitGroup;
/// let wg = WaitGroup::new();
/// for _ in 0..4 {
///     wg.add(1);
///     let wg = wg.clone();
///     std::thread::spawn(move || {
///         // ... work ...
///         wg.done();
///     });
/// }
/// wg.wait();
/// ```
#[derive(Clone)]
pub struct WaitGroup {
    inner: Arc<Mutex<State>>,
}

struct State {
    count: i64,
    /// Closed when the count returns to zero; replaced by a fresh one when it leaves zero.
    zero: Option<(Arc<Chan<()>>, Receiver<()>)>,
    /// The threads that used the group (feature `debug-handles`): who can end a wait.
    #[cfg(feature = "debug-handles")]
    holders: crate::debug::handles::Holders,
}

impl WaitGroup {
    /// A group with counter zero.
    ///
    /// ```
    /// gochan::group::WaitGroup::new().wait(); // returns at once
    /// ```
    pub fn new() -> WaitGroup {
        WaitGroup {
            inner: Arc::new(Mutex::new(State {
                count: 0,
                zero: None,
                #[cfg(feature = "debug-handles")]
                holders: crate::debug::handles::Holders::new(),
            })),
        }
    }

    /// Adds `delta` (may be negative; any integer type) to the counter; when it reaches
    /// zero every waiter is released.
    ///
    /// # Panics
    /// If the counter goes negative, with Go's message `sync: negative WaitGroup counter`.
    ///
    /// ```
    /// let wg = gochan::group::WaitGroup::new();
    /// wg.add(2);
    /// wg.add(-2);
    /// wg.wait();
    /// ```
    #[track_caller]
    pub fn add<N: TryInto<i64>>(&self, delta: N) {
        let Ok(delta) = delta.try_into() else {
            panic!("sync: WaitGroup delta out of range");
        };
        if let Err(msg) = self.try_add(delta) {
            panic!("{msg}");
        }
    }

    /// Adds `delta` unless the counter would overflow or go negative (then changes
    /// nothing and says why).
    fn try_add(&self, delta: i64) -> Result<(), &'static str> {
        let mut st = self.inner.lock();
        #[cfg(feature = "debug-handles")]
        st.holders.touch();
        let Some(count) = st.count.checked_add(delta) else {
            return Err("sync: WaitGroup counter overflow");
        };
        if count < 0 {
            return Err("sync: negative WaitGroup counter");
        }
        st.count = count;
        if count == 0 {
            if let Some((chan, _)) = st.zero.take() {
                drop(st);
                chan.close();
            }
        }
        Ok(())
    }

    /// Decrements the counter by one.
    ///
    /// # Panics
    /// If the counter goes negative.
    ///
    /// ```
    /// let wg = gochan::group::WaitGroup::new();
    /// wg.add(1);
    /// wg.done();
    /// wg.wait();
    /// ```
    #[track_caller]
    pub fn done(&self) {
        self.add(-1i64);
    }

    /// Runs `f` on a new thread as a member of the group: `add(1)` now, `done()` when `f`
    /// returns or panics. Go 1.25's `wg.Go(f)`.
    ///
    /// A panic in `f` ends only its thread here (in Go it ends the program), so `done()`
    /// is called on unwind too and `wait` does not hang; the panic is reported by the
    /// panic hook as usual. To collect errors or re-raise panics, use
    /// [`ErrGroup`](super::ErrGroup).
    ///
    /// # Panics
    /// If the counter would overflow.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// let wg = gochan::group::WaitGroup::new();
    /// let sum = Arc::new(AtomicUsize::new(0));
    /// for i in 1..=4 {
    ///     let sum = sum.clone();
    ///     wg.go(move || { sum.fetch_add(i, Ordering::SeqCst); });
    /// }
    /// wg.wait();
    /// assert_eq!(sum.load(Ordering::SeqCst), 10);
    /// ```
    #[track_caller]
    pub fn go<F: FnOnce() + Send + 'static>(&self, f: F) {
        self.add(1i64);
        // Made before the spawn: if the spawn fails, dropping the closure calls done().
        let member = DoneOnDrop(self.clone());
        crate::prim::spawn(move || {
            let _member = member;
            f();
        });
    }

    /// The current counter.
    ///
    /// ```
    /// let wg = gochan::group::WaitGroup::new();
    /// wg.add(3);
    /// assert_eq!(wg.count(), 3);
    /// # wg.add(-3);
    /// ```
    pub fn count(&self) -> i64 {
        self.inner.lock().count
    }

    /// The channel closed when the counter next reaches zero, or `None` if it is zero.
    fn zero_signal(&self) -> Option<Receiver<()>> {
        let mut st = self.inner.lock();
        if st.count == 0 {
            return None;
        }
        #[cfg(feature = "debug-handles")]
        st.holders.touch();
        #[cfg(feature = "debug-handles")]
        let state = Arc::downgrade(&self.inner);
        Some(
            st.zero
                .get_or_insert_with(|| {
                    let (chan, rx) = chan::signal();
                    #[cfg(feature = "debug-handles")]
                    chan.holders
                        .set_wakers(Box::new(move || match state.upgrade() {
                            Some(st) => st.lock().holders.wakers(),
                            None => crate::debug::handles::Wakers::unknown(),
                        }));
                    (chan, rx)
                })
                .1
                .clone(),
        )
    }

    /// Blocks until the counter is zero.
    ///
    /// # Panics
    /// With the `tokio` feature, if it would park a tokio worker thread (use `wait_async().await` in
    /// async code); see [`Receiver::recv`](crate::Receiver::recv).
    ///
    /// ```
    /// let wg = gochan::group::WaitGroup::new();
    /// wg.add(1);
    /// let w = wg.clone();
    /// std::thread::spawn(move || w.done());
    /// wg.wait();
    /// ```
    #[track_caller]
    pub fn wait(&self) {
        let _scope = crate::debug::registry::scope(
            crate::debug::BlockedOp::WaitGroupWait,
            std::panic::Location::caller(),
        );
        if let Some(rx) = self.zero_signal() {
            if rx.try_recv().is_err() && !rx.is_closed() {
                crate::prim::blocking::check(crate::prim::blocking::Op::WaitGroupWait);
            }
            let _ = rx.recv();
        }
    }

    /// Waits from async code until the counter is zero.
    ///
    /// # Cancel safety
    /// Dropping the future has no effect on the group.
    ///
    /// ```
    /// let wg = gochan::group::WaitGroup::new();
    /// wg.add(1);
    /// wg.done();
    /// futures::executor::block_on(wg.wait_async());
    /// ```
    pub async fn wait_async(&self) {
        if let Some(rx) = self.zero_signal() {
            let _ = rx.recv_async().await;
        }
    }
}

/// Calls `done()` when dropped, on return or unwind.
struct DoneOnDrop(WaitGroup);

impl Drop for DoneOnDrop {
    fn drop(&mut self) {
        // No panic here (it could be a second one, while unwinding, and abort): a count
        // already brought to zero by an extra done() elsewhere is that caller's bug.
        let _ = self.0.try_add(-1);
    }
}

impl Default for WaitGroup {
    fn default() -> Self {
        WaitGroup::new()
    }
}

impl fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitGroup")
            .field("count", &self.count())
            .finish()
    }
}
