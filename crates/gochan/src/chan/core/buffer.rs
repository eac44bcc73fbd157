//! A channel's buffer as the engine's operations see it: the ring's lock-free paths
//! ([`Chan::send_fast`], [`Chan::recv_fast`] and their short retries), the buffer operations
//! done under the lock, which keep the ring's SLOW bits (see "The ring" in `core.rs`), and
//! [`ChanGuard`], whose unlock clears the bits once nothing needs them.

use std::ops::{Deref, DerefMut};

use super::{Chan, Inner};
use crate::chan::queue::{backoff, Pop, Push};
use crate::prim::SpinGuard;

impl<T> Chan<T> {
    /// The lock-free send: `Ok` once the value is in the ring; else the value back, with
    /// `Full` (the ring is full and nobody waits: a `try_send` may say so) or `Slow` (take
    /// the lock). A channel without a ring always answers `Slow`.
    #[inline]
    pub(crate) fn send_fast(&self, value: T) -> Result<(), Push<T>> {
        match &self.queue {
            Some(r) => {
                #[cfg(feature = "debug-handles")]
                self.holders.touch();
                r.push(value, false)
            }
            None => Err(Push::Slow(value)),
        }
    }

    /// The lock-free receive: a value from the ring, or `Empty` (nothing buffered, nobody
    /// waits, not closed: a `try_recv` may say so) or `Slow` (take the lock).
    #[inline]
    pub(crate) fn recv_fast(&self) -> Result<T, Pop> {
        match &self.queue {
            Some(r) => {
                #[cfg(feature = "debug-handles")]
                self.holders.touch();
                r.pop(false)
            }
            None => Err(Pop::Slow),
        }
    }

    /// A blocking receive that found the ring empty retries it for a moment before it takes
    /// the lock to wait (spinning, then yielding, as crossbeam's does): a sender is often
    /// about to publish, and a wait costs both sides the lock and a wake.
    #[inline(never)]
    pub(crate) fn recv_spin(&self) -> Result<T, Pop> {
        let mut spins = 0;
        for _ in 0..SPIN_STEPS {
            backoff(&mut spins);
            match self.recv_fast() {
                Err(Pop::Empty) => {}
                r => return r,
            }
        }
        Err(Pop::Empty)
    }

    /// A blocking send that found the ring full retries it a few times before it takes the
    /// lock to wait, *yielding* between tries instead of spinning (crossfire, too, spins
    /// least on large bounded channels). A full ring means the receivers are the
    /// bottleneck and have a ring's worth of work: the sender's promptness does not
    /// matter, while a spinning sender reads the lines the receivers write (`head`, the
    /// slot they free) and, with more threads than cores, holds a CPU a receiver needs
    /// (sync cap 1000 cells, interleaved runs: spsc 28-55 -> 19-22 ns, mpmc 36 -> 23).
    #[inline(never)]
    pub(crate) fn send_retry(&self, mut value: T) -> Result<(), Push<T>> {
        for _ in 0..SEND_TRIES {
            crate::prim::yield_now();
            match self.send_fast(value) {
                Err(Push::Full(v)) => value = v,
                r => return r,
            }
        }
        Err(Push::Full(value))
    }

    /// Sets the ring's SLOW bit of `tail`, and of `head` if `head` (the lock held), before
    /// the caller concludes that the ring is full or empty (see "The ring").
    #[inline]
    pub(super) fn set_slow(&self, inner: &mut Inner<T>, head: bool) {
        if let Some(r) = &self.queue {
            let (h, t) = (head && !inner.slow_head, !inner.slow_tail);
            if h || t {
                r.set_slow(h, t);
                inner.slow_head |= h;
                inner.slow_tail |= t;
            }
        }
    }

    /// On unlock with the SLOW bits set: clears them once nobody waits and `buf` is empty
    /// (`tail`'s stays set once closed).
    #[inline(never)]
    pub(super) fn relax(&self, inner: &mut Inner<T>) {
        if inner.senders_q.is_empty() && inner.receivers_q.is_empty() && inner.buf.is_empty() {
            if let Some(r) = &self.queue {
                let tail = inner.slow_tail && !(inner.closed || inner.rx_gone);
                r.clear_slow(inner.slow_head, tail);
            }
            inner.slow_head = false;
            inner.slow_tail = false;
        }
    }

    /// Takes the first buffered value (the lock held). Finding none, sets the SLOW bits
    /// first (see "The ring").
    #[inline]
    pub(super) fn buf_pop(&self, inner: &mut Inner<T>) -> Option<T> {
        let Some(r) = &self.queue else {
            return inner.buf.pop_front();
        };
        if let Some(v) = inner.buf.pop_front() {
            return Some(v);
        }
        if let Ok(v) = r.pop(true) {
            return Some(v);
        }
        if inner.slow_tail {
            return None;
        }
        self.set_slow(inner, false);
        r.pop(true).ok()
    }

    /// Buffers `value` if there is room (the lock held). Finding none, sets the SLOW bits
    /// first (see "The ring").
    #[inline]
    pub(super) fn buf_push(&self, inner: &mut Inner<T>, value: T) -> Result<(), T> {
        let Some(r) = &self.queue else {
            if self.unbounded || inner.buf.len() < self.cap {
                inner.buf.push_back(value);
                return Ok(());
            }
            return Err(value);
        };
        if !self.unbounded && !inner.buf.is_empty() && inner.buf.len() + r.len() >= self.cap {
            return Err(value);
        }
        let value = match r.push(value, true) {
            Ok(()) => return Ok(()),
            Err(e) => e.into_inner(),
        };
        if inner.slow_head && inner.slow_tail {
            return Err(value);
        }
        self.set_slow(inner, true);
        r.push(value, true).map_err(Push::into_inner)
    }

    /// Buffers a waiting sender's value behind the others, once the caller has made room
    /// (the lock held, the SLOW bits set: nothing else enters the ring).
    pub(super) fn buf_push_back(&self, inner: &mut Inner<T>, value: T) {
        if let Err(v) = self.buf_push(inner, value) {
            debug_assert!(false, "no room for a waiting sender's value");
            inner.buf.push_back(v);
        }
    }

    /// Values buffered (the lock held).
    pub(super) fn buf_len(&self, inner: &Inner<T>) -> usize {
        inner.buf.len() + self.queue.as_ref().map_or(0, |r| r.len())
    }

    /// Whether nothing is buffered (the lock held).
    pub(super) fn buf_is_empty(&self, inner: &Inner<T>) -> bool {
        inner.buf.is_empty() && self.queue.as_ref().is_none_or(|r| r.is_empty())
    }

    /// A locked pass of a select holds this channel's lock: the ring must not change under
    /// it either (see "The ring").
    pub(crate) fn freeze(&self, inner: &mut Inner<T>) {
        self.set_slow(inner, true);
    }
}

/// Retries of [`Chan::recv_spin`], each after one [`backoff`] step (2^0..2^5 pauses, then
/// yields: crossbeam's `Backoff::snooze` limits). None under loom (retries only multiply
/// the model's states; the lock path is what the models check).
const SPIN_STEPS: u32 = if cfg!(loom) { 0 } else { 10 };

/// Tries of [`Chan::send_retry`], each after a yield (none under loom, as above).
const SEND_TRIES: u32 = if cfg!(loom) { 0 } else { 5 };

/// A channel's lock, held: derefs to its `Inner`; its `Drop` clears the ring's SLOW bits
/// when nothing needs them any more (see "The ring"), then unlocks.
pub(crate) struct ChanGuard<'a, T> {
    pub(super) chan: &'a Chan<T>,
    pub(super) inner: SpinGuard<'a, Inner<T>>,
}

impl<T> Deref for ChanGuard<'_, T> {
    type Target = Inner<T>;

    #[inline]
    fn deref(&self) -> &Inner<T> {
        &self.inner
    }
}

impl<T> DerefMut for ChanGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Inner<T> {
        &mut self.inner
    }
}

impl<T> Drop for ChanGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        if self.inner.slow_head || self.inner.slow_tail {
            self.chan.relax(&mut self.inner);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::super::Queue;
    use super::Chan;

    fn flavor<T>(cap: Option<usize>) -> &'static str {
        match Chan::<T>::new(cap, 1, 1).queue.as_deref() {
            None => "locked",
            Some(Queue::Ring(_)) => "ring",
            Some(Queue::List(_)) => "list",
        }
    }

    /// Which buffer a channel gets: rings from capacity 2 up to 2^20 values and 4 MiB,
    /// lists when unbounded, the locked buffer otherwise (capacity 0 and 1, huge buffers,
    /// which must not be allocated up front).
    #[test]
    fn buffer_choice() {
        assert_eq!(flavor::<u64>(Some(0)), "locked");
        assert_eq!(flavor::<u64>(Some(1)), "locked");
        assert_eq!(flavor::<u64>(Some(2)), "ring");
        assert_eq!(flavor::<u64>(Some(1 << 18)), "ring");
        assert_eq!(flavor::<u64>(Some((1 << 20) + 1)), "locked");
        assert_eq!(flavor::<[u8; 4096]>(Some(1 << 20)), "locked");
        assert_eq!(flavor::<[u8; 4096]>(Some(1000)), "ring");
        assert_eq!(flavor::<u64>(None), "list");
    }
}
