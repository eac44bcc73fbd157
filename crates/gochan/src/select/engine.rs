//! The select engine: drives a set of [`Arm`]s so that exactly one operation happens.
//!
//! One round:
//! 1. **Try pass.** Attempt each arm without blocking, in a uniformly random order (Go's
//!    `selectgo` shuffles the same way) or in source order when biased. For a
//!    non-blocking select, and for a select whose deadline has passed, the pass must see
//!    every channel at one moment (Go's TestNonblockSelectRace): it records each
//!    channel's change counter before the pass and re-runs the pass if any counter moved.
//!    (An async select's future arms are polled in the same pass, in the same order.)
//! 2. **Register.** Queue an entry for each arm, all sharing one waiter, one channel lock
//!    at a time. If a channel turns out to be ready while registering, abort the waiter
//!    and start over (if the abort fails, a counterpart already chose an earlier arm).
//! 3. **Wait** until a counterpart CASes the waiter to `Selected(arm)`, or the deadline
//!    aborts it. The CAS is the commit: no other arm can complete afterwards.
//! 4. **Unregister** every arm, the winner's too: each channel is locked once more, after
//!    which no completer touches the arm (a send arm that was not chosen gets its value
//!    back); then collect the winner's result.
//!
//! The waiter lives in the owner (the blocked thread's frame, the pinned future) and each
//! arm's queue entry in the arm, so waiting allocates nothing (rules in `chan/waiter.rs`).
//!
//! An async select re-polls its future arms whenever it is woken; a ready future wins
//! only if it can abort the waiter first (so a channel arm that committed concurrently
//! wins instead, and that future's output is dropped).

use std::cell::Cell;
use std::future::Future;
use std::marker::PhantomPinned;
use std::ops::DerefMut;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use super::arm::{Arm, Token};
use crate::chan::waiter::{Alarm, Outcome, Waiter};
use crate::time::service::{self, Handle};

/// How long a blocking select may wait.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub enum Mode {
    /// Wait as long as it takes.
    Block,
    /// Do not wait at all (`default` arm).
    NonBlock,
    /// Wait until this instant.
    Until(Instant),
}

impl Mode {
    /// Wait at most `d` (a duration too large to represent waits forever).
    pub fn timeout(d: std::time::Duration) -> Mode {
        crate::time::now()
            .checked_add(d)
            .map_or(Mode::Block, Mode::Until)
    }
}

/// Most selects have a handful of arms: keep their per-select scratch on the stack.
const INLINE: usize = 32;

/// The order in which arms are tried: a uniformly random permutation (Go's `selectgo`
/// shuffles the same way), or source order when biased.
///
/// Up to [`INLINE`] arms the permutation is drawn lazily, by the forward Fisher-Yates
/// shuffle: position `k` is drawn uniformly from the arms not yet placed the first time
/// it is asked for. A select whose first arm tried is ready (the common case under load)
/// draws one number instead of `n - 1`, and every prefix is still uniformly distributed.
enum Order {
    /// `slots[..fixed]` are placed; `slots[fixed..n]` hold the rest, in no meaningful
    /// order.
    Lazy {
        slots: [Cell<u8>; INLINE],
        n: usize,
        fixed: Cell<usize>,
    },
    /// More arms than [`INLINE`]: shuffled eagerly.
    Heap(Vec<usize>),
}

impl Order {
    fn new(n: usize, biased: bool) -> Order {
        if n <= INLINE {
            let slots: [Cell<u8>; INLINE] = std::array::from_fn(|i| Cell::new(i as u8));
            let fixed = Cell::new(if biased { n } else { 0 });
            return Order::Lazy { slots, n, fixed };
        }
        let mut v: Vec<usize> = (0..n).collect();
        if !biased {
            for i in (1..n).rev() {
                v.swap(i, random_below(i + 1));
            }
        }
        Order::Heap(v)
    }

    fn len(&self) -> usize {
        match self {
            Order::Lazy { n, .. } => *n,
            Order::Heap(v) => v.len(),
        }
    }

    fn get(&self, k: usize) -> usize {
        match self {
            Order::Lazy { slots, n, fixed } => {
                let mut f = fixed.get();
                while f <= k {
                    if f + 1 < *n {
                        slots[f].swap(&slots[f + random_below(n - f)]);
                    }
                    f += 1;
                }
                fixed.set(f);
                slots[k].get() as usize
            }
            Order::Heap(v) => v[k],
        }
    }

    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len()).map(move |k| self.get(k))
    }
}

/// A uniform index below `n` (`n <= 2^32`): 32 random bits scaled by multiply-and-shift
/// (Go's `cheaprandn`; the bias is below n / 2^32).
fn random_below(n: usize) -> usize {
    (((random_u64() as u32 as u64) * n as u64) >> 32) as usize
}

/// 64 random bits from the calling thread's generator: `fastrand`'s algorithm, its state
/// kept in a `const` thread-local (`fastrand`'s own, lazily initialized thread-local cost
/// ~40 instructions a call, as much as the rest of the shuffle); seeded from `fastrand`.
fn random_u64() -> u64 {
    std::thread_local! {
        static SEED: Cell<u64> = const { Cell::new(0) };
    }
    SEED.with(|seed| {
        let s = match seed.get() {
            0 => fastrand::u64(1..),
            s => s,
        };
        let mut rng = fastrand::Rng::with_seed(s);
        let v = rng.u64(..);
        seed.set(rng.get_seed());
        v
    })
}

/// How many validated passes an atomic try pass makes before it takes every channel's
/// lock instead (fewer under loom, so the models reach the locked pass).
const VALIDATED_PASSES: u32 = if cfg!(loom) { 1 } else { 8 };

/// Step 1. `atomic` re-runs the pass until no channel changed during it; after
/// [`VALIDATED_PASSES`] tries (heavy churn) it locks every channel instead
/// ([`locked_pass`]), so the pass is bounded. Future arms are polled with `cx` (an async
/// select); without one they are never ready.
fn try_pass<A: Arm + ?Sized, R: DerefMut<Target = A>>(
    arms: &mut [R],
    order: &Order,
    atomic: bool,
    mut cx: Option<&mut Context<'_>>,
) -> Option<usize> {
    if !atomic {
        return one_pass(arms, order, cx);
    }
    let mut inline = [0u64; INLINE];
    let mut heap = Vec::new();
    let mut passes = 0;
    loop {
        if atomic && passes >= VALIDATED_PASSES {
            if let Some(chosen) = locked_pass(arms, order) {
                return chosen.or_else(|| poll_futures_once(arms, order, cx.as_deref_mut()));
            }
            // A channel appears in two arms: keep validating, yielding to the churn.
            std::thread::yield_now();
        }
        passes += 1;
        let before: &[u64] = if arms.len() <= INLINE {
            for (slot, a) in inline.iter_mut().zip(arms.iter()) {
                *slot = a.version();
            }
            &inline[..arms.len()]
        } else {
            heap.clear();
            heap.extend(arms.iter().map(|a| a.version()));
            &heap
        };
        if let Some(i) = one_pass(arms, order, cx.as_deref_mut()) {
            return Some(i);
        }
        if arms.iter().zip(before).all(|(a, v)| a.version() == *v) {
            return None;
        }
    }
}

/// Tries each arm once in `order` (future arms polled with `cx`): the first that
/// completes.
#[inline]
fn one_pass<A: Arm + ?Sized, R: DerefMut<Target = A>>(
    arms: &mut [R],
    order: &Order,
    mut cx: Option<&mut Context<'_>>,
) -> Option<usize> {
    order.iter().find(|&i| match cx.as_deref_mut() {
        Some(cx) if arms[i].is_future() => arms[i].poll_ready(cx),
        _ => arms[i].try_complete(),
    })
}

/// The bounded end of an atomic pass (Go's `sellock`): lock every arm's channel in
/// address order, try the arms in `order` under the locks, release them, then wake the
/// counterpart of the operation done, if any. `None` if a channel appears in two arms
/// (one lock cannot be held twice); the caller then goes on validating.
///
/// Lock order: other code holds one channel lock at a time, and every locked pass takes
/// its locks in address order, so no cycle can form.
fn locked_pass<A: Arm + ?Sized, R: DerefMut<Target = A>>(
    arms: &mut [R],
    order: &Order,
) -> Option<Option<usize>> {
    let mut by_chan: Vec<(usize, usize)> = arms
        .iter()
        .enumerate()
        .filter(|(_, a)| !a.is_future())
        .map(|(i, a)| (a.identity().0 as usize, i))
        .collect();
    by_chan.sort_unstable();
    if by_chan.windows(2).any(|w| w[0].0 == w[1].0) {
        return None;
    }
    for &(_, i) in &by_chan {
        arms[i].hold_lock();
    }
    let chosen = order
        .iter()
        .find(|&i| !arms[i].is_future() && arms[i].try_complete());
    for &(_, i) in by_chan.iter().rev() {
        arms[i].release_lock();
    }
    for &(_, i) in &by_chan {
        arms[i].flush_wake();
    }
    Some(chosen)
}

/// Polls the future arms once, in `order` (after a locked pass found no channel ready).
fn poll_futures_once<A: Arm + ?Sized, R: DerefMut<Target = A>>(
    arms: &mut [R],
    order: &Order,
    cx: Option<&mut Context<'_>>,
) -> Option<usize> {
    let cx = cx?;
    order
        .iter()
        .find(|&i| arms[i].is_future() && arms[i].poll_ready(cx))
}

/// Step 2. Returns `false` if an arm was ready while registering (the caller aborts).
fn register_all<A: Arm + ?Sized, R: DerefMut<Target = A>>(
    arms: &mut [R],
    order: &Order,
    token: &Token<'_>,
) -> bool {
    for i in order.iter() {
        if token.waiter.outcome() != Outcome::Waiting {
            return true; // already chosen through an earlier arm
        }
        if !arms[i].register(token, i) {
            return false;
        }
    }
    true
}

/// Steps 3-4 after the waiter was decided: unregister every arm (which locks each of their
/// channels once more, the winner's too, so no completer touches an arm afterwards), then
/// collect the winner.
fn finish<A: Arm + ?Sized, R: DerefMut<Target = A>>(
    arms: &mut [R],
    outcome: Outcome,
) -> Option<usize> {
    // A value handed over while waiting is an operation of this thread too.
    #[cfg(feature = "debug-handles")]
    crate::debug::threads::note_op();
    for a in arms.iter_mut() {
        a.unregister();
    }
    match outcome {
        Outcome::Selected { arm, closed } => {
            arms[arm].on_selected(closed);
            Some(arm)
        }
        _ => None,
    }
}

/// A select torn down while registered (a dropped future, a panic while parked): decides
/// the waiter (an abort, or the counterpart's choice), unregisters every arm and gives a
/// value handed to the chosen arm back to its channel.
fn abandon<A: Arm + ?Sized, R: DerefMut<Target = A>>(arms: &mut [R], waiter: &Waiter) {
    let chosen = match waiter.try_abort() {
        Err(Outcome::Selected { arm, closed }) => Some((arm, closed)),
        _ => None,
    };
    for a in arms.iter_mut() {
        a.unregister();
    }
    if let Some((arm, closed)) = chosen {
        arms[arm].on_abandoned(closed);
    }
}

/// A blocking select's registration: the waiter is in [`run`]'s frame and the arms in
/// the caller's, so a panic while parked (the tokio check) must unregister them before
/// the waiter goes.
struct Registration<'r, 'w, A: Arm + ?Sized, R: DerefMut<Target = A>> {
    arms: &'r mut [R],
    waiter: &'w Waiter,
    live: bool,
}

impl<A: Arm + ?Sized, R: DerefMut<Target = A>> Drop for Registration<'_, '_, A, R> {
    fn drop(&mut self) {
        if self.live {
            abandon(self.arms, self.waiter);
        }
    }
}

/// Runs a blocking (or non-blocking, or deadline-bounded) select. Returns the index of
/// the arm that completed, or `None` when a non-blocking select found nothing ready or
/// the deadline passed.
///
/// # Panics
/// A blocking select with no arms would block forever (Go's `select {}`); it panics
/// instead, since no Rust program can mean it.
#[doc(hidden)]
#[track_caller]
pub fn run<A: Arm + ?Sized, R: DerefMut<Target = A>>(
    arms: &mut [R],
    mode: Mode,
    biased: bool,
) -> Option<usize> {
    let deadline = match mode {
        Mode::Block => None,
        Mode::Until(d) if d > crate::time::now() => Some(d),
        // `default`, or a deadline already passed: one atomic pass (Go's
        // TestNonblockSelectRace). One arm is seen at one moment by definition.
        Mode::NonBlock | Mode::Until(_) => {
            let order = Order::new(arms.len(), biased);
            return try_pass(arms, &order, arms.len() > 1, None);
        }
    };
    // Marked before any arm is queued: a timed wait is never "stuck".
    #[cfg(feature = "debug-handles")]
    let _timed = crate::debug::threads::timed_wait(deadline.is_some());
    if arms.is_empty() {
        match deadline {
            None => panic!("gochan: select with no arms and no default would block forever"),
            Some(d) => {
                crate::time::sleep_until(d);
                return None;
            }
        }
    }
    loop {
        let order = Order::new(arms.len(), biased);
        if let Some(i) = try_pass(arms, &order, false, None) {
            return Some(i);
        }
        if deadline.is_some_and(|d| d <= crate::time::now()) {
            // The last word of an expired select is an atomic pass, as for `default`.
            return try_pass(arms, &order, true, None);
        }
        let waiter = Waiter::for_thread(std::panic::Location::caller());
        let token = Token { waiter: &waiter };
        crate::prim::select_begin();
        let mut reg = Registration {
            arms: &mut *arms,
            waiter: &waiter,
            live: true,
        };
        let outcome = if register_all(reg.arms, &order, &token) {
            waiter.wait(deadline, crate::prim::blocking::Op::Select)
        } else {
            match waiter.try_abort() {
                Ok(()) => {
                    reg.live = false;
                    finish(reg.arms, Outcome::Aborted);
                    continue;
                }
                Err(o) => o,
            }
        };
        reg.live = false;
        return finish(reg.arms, outcome);
    }
}

pin_project_lite::pin_project! {
    /// The future of an async select; resolves to the index of the completed arm, or
    /// `None` when a non-blocking (`default`) select found nothing ready or its deadline
    /// passed.
    ///
    /// The select's waiter lives in the future and each arm's queue entry in the arm, so
    /// waiting allocates nothing (a deadline adds its timer); the future is `!Unpin` for
    /// that reason.
    ///
    /// # Cancel safety
    /// Dropping it while waiting removes every registration: no send happens and a send
    /// arm keeps its value. If a counterpart had already chosen an arm, a received value
    /// goes back to its channel (a send that was chosen has happened, as with any
    /// completed send).
    #[doc(hidden)]
    #[must_use = "futures do nothing unless polled"]
    #[project = SelectFutureProj]
    pub struct SelectFuture<'s, R>
    where
        R: DerefMut,
        R: 's,
        R::Target: Arm,
    {
        arms: &'s mut [R],
        biased: bool,
        mode: Mode,
        // The waiter of the current registration: the arms' queue entries point to it, so
        // it stays in place (the future is pinned) until they are unregistered.
        waiter: Option<Waiter>,
        // Whether the arms are registered with `waiter`.
        registered: bool,
        // The timer that aborts the waiter at the deadline (`Mode::Until`).
        timer: Option<(Handle, Arc<Alarm>)>,
        // Whether any arm is a future (`pat = future => body`), polled on every wake.
        has_futures: bool,
        // Where the select was called (for `debug::blocked`).
        location: &'static std::panic::Location<'static>,
        #[pin]
        _pinned: PhantomPinned,
    }

    impl<'s, R> PinnedDrop for SelectFuture<'s, R>
    where
        R: DerefMut,
        R: 's,
        R::Target: Arm,
    {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            this.stop_timer();
            if std::mem::take(this.registered) {
                abandon(this.arms, this.waiter.as_ref().expect("registered with a waiter"));
            }
        }
    }
}

impl<R: DerefMut<Target: Arm>> std::fmt::Debug for SelectFuture<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SelectFuture")
            .field("arms", &self.arms.len())
            .field("mode", &self.mode)
            .field("waiting", &self.registered)
            .finish()
    }
}

/// Starts an async select over `arms`: [`Mode::Block`] waits for an arm,
/// [`Mode::NonBlock`] makes one atomic pass, [`Mode::Until`] waits until the deadline (an
/// expired one is a non-blocking pass).
///
/// # Safety
/// The arms' queue entries live in the arms: they must stay in place (not be moved) until
/// the returned future is dropped or has completed. The macros and `Select` guarantee it:
/// the arms are locals of the block that awaits the future in place, or boxed. (Leaking
/// the future and then moving the arms is what this rules out.)
#[doc(hidden)]
#[track_caller]
pub unsafe fn run_async<'s, R: DerefMut<Target: Arm>>(
    arms: &'s mut [R],
    biased: bool,
    mode: Mode,
) -> SelectFuture<'s, R> {
    let has_futures = arms.iter().any(|a| a.is_future());
    SelectFuture {
        arms,
        biased,
        mode,
        waiter: None,
        registered: false,
        timer: None,
        has_futures,
        location: std::panic::Location::caller(),
        _pinned: PhantomPinned,
    }
}

impl<R: DerefMut<Target: Arm>> SelectFutureProj<'_, '_, R> {
    /// Stops the deadline timer; its alarm no longer touches the waiter.
    fn stop_timer(&mut self) {
        if let Some((timer, alarm)) = self.timer.take() {
            alarm.detach();
            timer.cancel();
        }
    }

    /// The waiter was decided: stop the timer, unregister, collect the winner.
    fn decided(&mut self, outcome: Outcome) -> Option<usize> {
        self.stop_timer();
        *self.registered = false;
        finish(self.arms, outcome)
    }

    /// While registered: polls the future arms; a ready one wins if it aborts the waiter
    /// before a channel arm is chosen.
    fn poll_futures(&mut self, cx: &mut Context<'_>) -> Option<Option<usize>> {
        if !*self.has_futures {
            return None;
        }
        let order = Order::new(self.arms.len(), *self.biased);
        let ready = order
            .iter()
            .find(|&i| self.arms[i].is_future() && self.arms[i].poll_ready(cx))?;
        let waiter = self.waiter.as_ref().expect("registered");
        Some(match waiter.try_abort() {
            Ok(()) => {
                self.decided(Outcome::Aborted);
                Some(ready)
            }
            Err(o) => self.decided(o),
        })
    }

    /// The first poll: try every arm, then register and wait.
    fn start(&mut self, cx: &mut Context<'_>) -> Poll<Option<usize>> {
        let deadline = match *self.mode {
            Mode::Block => None,
            Mode::Until(d) if d > crate::time::now() => Some(d),
            Mode::NonBlock | Mode::Until(_) => {
                let order = Order::new(self.arms.len(), *self.biased);
                let atomic = self.arms.len() > 1;
                let fcx = self.has_futures.then_some(cx);
                return Poll::Ready(try_pass(self.arms, &order, atomic, fcx));
            }
        };
        assert!(
            !self.arms.is_empty() || deadline.is_some(),
            "gochan: select_async with no arms would never complete"
        );
        loop {
            let order = Order::new(self.arms.len(), *self.biased);
            // Future arms are polled with `cx`; without any, the pass is the sync one.
            let fcx = self.has_futures.then_some(&mut *cx);
            if let Some(i) = try_pass(self.arms, &order, false, fcx) {
                return Poll::Ready(Some(i));
            }
            if deadline.is_some_and(|d| d <= crate::time::now()) {
                let fcx = self.has_futures.then_some(&mut *cx);
                return Poll::Ready(try_pass(self.arms, &order, true, fcx));
            }
            // Nothing is registered with an earlier waiter: it may be replaced in place.
            let waiter: &Waiter = self
                .waiter
                .insert(Waiter::for_task(cx.waker(), self.location));
            let token = Token { waiter };
            if register_all(self.arms, &order, &token) {
                *self.registered = true;
                let outcome = waiter.outcome();
                if outcome != Outcome::Waiting {
                    return Poll::Ready(self.decided(outcome));
                }
                if let Some(d) = deadline {
                    let alarm = Arc::new(Alarm::new(waiter));
                    let ring = alarm.clone();
                    let timer = service::schedule(d, move |_| {
                        ring.ring();
                        None
                    });
                    *self.timer = Some((timer, alarm));
                }
                return Poll::Pending;
            }
            match waiter.try_abort() {
                Ok(()) => {
                    finish(self.arms, Outcome::Aborted);
                }
                Err(o) => return Poll::Ready(finish(self.arms, o)),
            }
        }
    }
}

impl<R: DerefMut<Target: Arm>> Future for SelectFuture<'_, R> {
    type Output = Option<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<usize>> {
        let mut this = self.project();
        if !*this.registered {
            return this.start(cx);
        }
        let waiter = this.waiter.as_ref().expect("registered");
        waiter.set_waker(cx.waker());
        let outcome = waiter.outcome();
        if outcome != Outcome::Waiting {
            // `Aborted` here is the deadline alarm's doing: the select timed out.
            return Poll::Ready(this.decided(outcome));
        }
        match this.poll_futures(cx) {
            Some(done) => Poll::Ready(done),
            None => Poll::Pending,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::Order;

    fn perm(o: &Order) -> Vec<usize> {
        o.iter().collect()
    }

    /// The lazily drawn shuffle is a uniform permutation (Go's `selectgo` pollorder): each
    /// of the 24 orders of 4 arms within 7 sigma of its expected count.
    #[test]
    fn order_is_a_uniform_permutation() {
        const TRIALS: usize = 48_000;
        let mut counts = std::collections::HashMap::new();
        for _ in 0..TRIALS {
            *counts.entry(perm(&Order::new(4, false))).or_insert(0usize) += 1;
        }
        assert_eq!(counts.len(), 24);
        let (p, n) = (1.0 / 24.0, TRIALS as f64);
        let sd = (n * p * (1.0 - p)).sqrt();
        for (order, c) in counts {
            assert!(
                (c as f64 - n * p).abs() <= 7.0 * sd,
                "order {order:?} drawn {c} times of {TRIALS}"
            );
        }
    }

    /// A position asked for before the ones ahead of it still yields a permutation, the
    /// same one on every later look; biased orders and orders of more than `INLINE` arms
    /// are permutations too.
    #[test]
    fn order_draws_are_stable_and_complete() {
        for _ in 0..1000 {
            let o = Order::new(7, false);
            let third = o.get(3);
            let all = perm(&o);
            assert_eq!(all[3], third);
            assert_eq!(perm(&o), all);
            let mut sorted = all.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..7).collect::<Vec<_>>());
        }
        assert_eq!(perm(&Order::new(5, true)), vec![0, 1, 2, 3, 4]);
        let mut big = perm(&Order::new(40, false));
        big.sort_unstable();
        assert_eq!(big, (0..40).collect::<Vec<_>>());
        assert_eq!(perm(&Order::new(0, false)), Vec::<usize>::new());
        assert_eq!(perm(&Order::new(1, false)), vec![0]);
    }
}
