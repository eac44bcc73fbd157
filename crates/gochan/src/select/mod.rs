//! Go's `select`: wait on several channel operations, perform exactly one.
//!
//! [`select!`](crate::select!) / [`select_async!`](crate::select_async!) for arms known at
//! compile time, [`Select`] for arms known at run time. Both run on one engine
//! (`engine`): every arm's queue entry shares one waiter, and the single CAS that decides
//! that waiter is the commit, so exactly one operation happens.

mod arm;
mod dynamic;
mod engine;
mod macros;

pub use dynamic::{Select, SelectTimeoutError, SelectedOperation, TrySelectError};
pub use engine::SelectFuture;

/// Items the macros expand to. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use super::arm::{Arm, FutArm, RecvArm, SendArm};
    pub use super::engine::{run, run_async, Mode};
}
