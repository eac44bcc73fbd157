//! A channel's queue of waiting senders or receivers: a `VecDeque` of entries, boxed on
//! the first wait so that a channel nobody ever waits on (most context done channels and
//! timer channels, every channel used only through its buffer) pays one pointer for it
//! instead of a whole `VecDeque`. Once allocated it stays, as the deque's buffer did.

use std::collections::VecDeque;

use super::waiter::Entry;

/// FIFO of waiting parties (see the channel's invariants in `core.rs`).
// The box is the point: one pointer in the channel instead of the deque's four words.
#[allow(clippy::box_collection)]
pub(crate) struct WaitQueue<T>(Option<Box<VecDeque<Entry<T>>>>);

impl<T> WaitQueue<T> {
    /// An empty queue (no allocation).
    pub(crate) const fn new() -> WaitQueue<T> {
        WaitQueue(None)
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(|q| q.is_empty())
    }

    pub(crate) fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |q| q.len())
    }

    #[inline]
    pub(crate) fn iter(&self) -> std::collections::vec_deque::Iter<'_, Entry<T>> {
        self.0.as_deref().map(VecDeque::iter).unwrap_or_default()
    }

    /// The FIFO position of the first entry matching `f`.
    pub(crate) fn position(&self, f: impl FnMut(&Entry<T>) -> bool) -> Option<usize> {
        self.0.as_ref()?.iter().position(f)
    }

    #[inline]
    pub(crate) fn push_back(&mut self, entry: Entry<T>) {
        self.0.get_or_insert_with(Default::default).push_back(entry);
    }

    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<Entry<T>> {
        self.0.as_mut()?.pop_front()
    }

    /// Removes and returns the entry at `i` (FIFO position).
    pub(crate) fn remove(&mut self, i: usize) -> Option<Entry<T>> {
        self.0.as_mut()?.remove(i)
    }

    /// Removes every entry, front first (the allocation stays for the next waits).
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = Entry<T>> + '_ {
        self.0.iter_mut().flat_map(|q| q.drain(..))
    }
}
