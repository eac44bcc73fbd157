//! The child links of a cancel node: a slab with O(1) insert and remove.

use std::sync::{Arc, Weak};

use super::tree::Node;

/// "Not in a slab" / "end of the free list".
pub(super) const NO_INDEX: u32 = u32::MAX;

/// A slab of child links with O(1) insert and remove; freed slots are reused, so a
/// parent with millions of short-lived children stays as large as its peak live count.
///
/// Slot 0 lives in the slab itself and the rest in `rest` (slot `i` is `rest[i - 1]`):
/// a parent with one child (a chain, the common case) costs one allocation, the boxed
/// slab, instead of a box and a vector.
pub(super) struct Slab {
    /// Head of the free list (`NO_INDEX` when empty).
    free: u32,
    /// Slots in use or free (0, 1 = `first` only, n = `first` and `n - 1` in `rest`).
    len: u32,
    first: Slot,
    rest: Vec<Slot>,
}

impl Default for Slab {
    fn default() -> Slab {
        Slab {
            free: NO_INDEX,
            len: 0,
            first: Slot::Free(NO_INDEX),
            rest: Vec::new(),
        }
    }
}

/// 16 bytes: a child link, or a free-list link.
pub(super) enum Slot {
    Weak(Weak<Node>),
    Strong(Arc<Node>),
    Free(u32),
}

impl Slab {
    /// Slot `i`, if it exists.
    fn slot(&mut self, i: u32) -> Option<&mut Slot> {
        match i {
            _ if i >= self.len => None,
            0 => Some(&mut self.first),
            _ => self.rest.get_mut(i as usize - 1),
        }
    }

    /// Inserts a link; `None` if the slab is full (4 billion live children).
    pub(super) fn insert(&mut self, slot: Slot) -> Option<u32> {
        if self.free != NO_INDEX {
            let i = self.free;
            let s = self.slot(i).expect("the free list points at a slot");
            let Slot::Free(next) = std::mem::replace(s, slot) else {
                unreachable!("free list points at a free slot")
            };
            self.free = next;
            return Some(i);
        }
        let i = self.len;
        if i == NO_INDEX {
            return None;
        }
        if i == 0 {
            self.first = slot;
        } else {
            self.rest.push(slot);
        }
        self.len += 1;
        Some(i)
    }

    /// Removes slot `i` if occupied; returns it so the caller drops it unlocked.
    pub(super) fn remove(&mut self, i: u32) -> Option<Slot> {
        let free = self.free;
        let s = self.slot(i)?;
        if matches!(s, Slot::Free(_)) {
            return None;
        }
        let old = std::mem::replace(s, Slot::Free(free));
        self.free = i;
        Some(old)
    }

    /// Every slot, in index order: slot 0 (if any) and the rest.
    pub(super) fn into_parts(self) -> (Option<Slot>, Vec<Slot>) {
        let Slab {
            len, first, rest, ..
        } = self;
        ((len > 0).then_some(first), rest)
    }

    pub(super) fn live(&self) -> usize {
        let first = usize::from(self.len > 0 && !matches!(self.first, Slot::Free(_)));
        first
            + self
                .rest
                .iter()
                .filter(|s| !matches!(s, Slot::Free(_)))
                .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_remove_reuse_in_and_beyond_the_inline_slot() {
        let nodes: Vec<Arc<Node>> = (0..3)
            .map(|_| {
                crate::context::with_cancel(&crate::context::background())
                    .0
                    .node
            })
            .collect();
        let mut s = Slab::default();
        assert_eq!(s.live(), 0);
        assert!(s.remove(0).is_none(), "no slot 0 yet");
        let ids: Vec<u32> = nodes
            .iter()
            .map(|n| s.insert(Slot::Weak(Arc::downgrade(n))).unwrap())
            .collect();
        assert_eq!(ids, [0, 1, 2]);
        assert_eq!(s.live(), 3);
        assert!(matches!(s.remove(0), Some(Slot::Weak(_))));
        assert!(s.remove(0).is_none(), "removed twice");
        assert!(matches!(s.remove(2), Some(Slot::Weak(_))));
        assert_eq!(s.live(), 1);
        // The free list is LIFO: 2, then 0; then the slab grows.
        assert_eq!(s.insert(Slot::Strong(nodes[0].clone())), Some(2));
        assert_eq!(s.insert(Slot::Strong(nodes[1].clone())), Some(0));
        assert_eq!(s.insert(Slot::Strong(nodes[2].clone())), Some(3));
        assert_eq!(s.live(), 4);
        let (first, rest) = s.into_parts();
        let kinds: Vec<bool> = first
            .into_iter()
            .chain(rest)
            .map(|x| matches!(x, Slot::Strong(_)))
            .collect();
        assert_eq!(kinds, [true, false, true, true]);
    }
}
