//! Locks that take part in gochan's leak diagnostics.
//!
//! [`Mutex`] is a plain mutual-exclusion lock (Go's `sync.Mutex` holding its data, like
//! Rust's own): what it adds is visibility. A thread waiting for it is listed by
//! [`debug::blocked`](crate::debug::blocked) with its call site and the thread holding the
//! lock, and the `debug-handles` analysis ([`debug::never_wakes`](crate::debug)) follows
//! a lock held by a thread that is itself stuck on a channel: the lock-channel cycle that
//! no channel-only tool can see.

mod mutex;

pub use mutex::{Mutex, MutexGuard};
