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

    /// Clears `head`'s SLOW bit, and `tail`'s if `tail` (under the channel lock).
    pub(crate) fn clear_slow(&self, tail: bool) {
        match self {
            Queue::Ring(r) => r.clear_slow(tail),
            Queue::List(l) => l.clear_slow(tail),
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
