//! The lock-free buffer of a channel, whichever algorithm it uses: [`Ring`] for a bounded
//! channel (`ring.rs`), [`List`] for an unbounded one (`list.rs`). Both keep the SLOW bits
//! described in `ring.rs`; the channel (`core.rs`, "The ring") drives them the same way.

use super::list::List;
use super::ring::Ring;

/// Why a send did not go through the lock-free buffer.
pub(crate) enum Push<T> {
    /// Every slot is taken (and the tail was not SLOW). Never from a list.
    Full(T),
    /// The SLOW bit is set: take the channel's lock.
    Slow(T),
}

impl<T> Push<T> {
    /// The value that was not sent.
    pub(crate) fn into_inner(self) -> T {
        match self {
            Push::Full(v) | Push::Slow(v) => v,
        }
    }
}

/// Why a receive found nothing in the lock-free buffer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pop {
    /// No value (and no SLOW bit on the way).
    Empty,
    /// The SLOW bit is set: take the channel's lock.
    Slow,
}

/// A bounded ring or an unbounded list.
pub(crate) enum Queue<T> {
    Ring(Ring<T>),
    List(List<T>),
}

impl<T> Queue<T> {
    /// Buffers `value`; without `slow_ok`, gives up on a SLOW tail.
    #[inline]
    pub(crate) fn push(&self, value: T, slow_ok: bool) -> Result<(), Push<T>> {
        match self {
            Queue::Ring(r) => r.push(value, slow_ok),
            Queue::List(l) => l.push(value, slow_ok),
        }
    }

    /// Takes the oldest value; without `slow_ok`, gives up on a SLOW head (or an empty
    /// buffer whose tail is SLOW).
    #[inline]
    pub(crate) fn pop(&self, slow_ok: bool) -> Result<T, Pop> {
        match self {
            Queue::Ring(r) => r.pop(slow_ok),
            Queue::List(l) => l.pop(slow_ok),
        }
    }

    /// Sets the SLOW bits asked for (under the channel lock).
    pub(crate) fn set_slow(&self, head: bool, tail: bool) {
        match self {
            Queue::Ring(r) => r.set_slow(head, tail),
            Queue::List(l) => l.set_slow(head, tail),
        }
    }

    /// Clears the SLOW bits asked for (under the channel lock).
    pub(crate) fn clear_slow(&self, head: bool, tail: bool) {
        match self {
            Queue::Ring(r) => r.clear_slow(head, tail),
            Queue::List(l) => l.clear_slow(head, tail),
        }
    }

    /// The number of values buffered.
    pub(crate) fn len(&self) -> usize {
        match self {
            Queue::Ring(r) => r.len(),
            Queue::List(l) => l.len(),
        }
    }

    /// Whether nothing is buffered.
    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Queue::Ring(r) => r.is_empty(),
            Queue::List(l) => l.is_empty(),
        }
    }

    /// A number that changes whenever a value enters or leaves.
    pub(crate) fn moves(&self) -> u64 {
        match self {
            Queue::Ring(r) => r.moves(),
            Queue::List(l) => l.moves(),
        }
    }
}

/// Waits a little for an in-flight operation of the ring or the list: spins first, then
/// yields (under loom, always yields, so the model schedules the other thread).
#[inline]
pub(super) fn backoff(spins: &mut u32) {
    #[cfg(not(loom))]
    if *spins < 6 {
        for _ in 0..(1u32 << *spins) {
            std::hint::spin_loop();
        }
        *spins += 1;
        return;
    }
    let _ = spins;
    crate::prim::yield_now();
}

/// Backs off after a lost CAS race on `head` or `tail` (crossbeam's `spin_light`): spins
/// 2^0..2^6 pauses and never yields, since the winner has already moved on. Retrying at
/// once makes the losers hammer the line the winners need next.
#[inline]
pub(super) fn contended(spins: &mut u32) {
    #[cfg(not(loom))]
    {
        for _ in 0..(1u32 << (*spins).min(6)) {
            std::hint::spin_loop();
        }
        *spins += 1;
    }
    #[cfg(loom)]
    let _ = spins;
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Three producers and three consumers over a ring (retrying when full) and a list:
    /// every value arrives exactly once.
    #[test]
    fn threads_lose_and_duplicate_nothing() {
        for q in [Queue::Ring(Ring::new(8)), Queue::List(List::new())] {
            let q = Arc::new(q);
            let n = 20_000usize;
            let producers: Vec<_> = (0..3)
                .map(|p| {
                    let q = q.clone();
                    std::thread::spawn(move || {
                        for i in 0..n {
                            let mut v = p * n + i;
                            while let Err(e) = q.push(v, false) {
                                v = e.into_inner();
                                std::thread::yield_now();
                            }
                        }
                    })
                })
                .collect();
            let consumers: Vec<_> = (0..3)
                .map(|_| {
                    let q = q.clone();
                    std::thread::spawn(move || {
                        let mut got = Vec::new();
                        while got.len() < n {
                            match q.pop(false) {
                                Ok(v) => got.push(v),
                                Err(_) => std::thread::yield_now(),
                            }
                        }
                        got
                    })
                })
                .collect();
            producers.into_iter().for_each(|h| h.join().unwrap());
            let mut all: Vec<usize> = consumers
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect();
            all.sort_unstable();
            assert_eq!(all, (0..3 * n).collect::<Vec<_>>());
            assert!(q.is_empty());
        }
    }
}
