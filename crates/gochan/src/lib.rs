//! # gochan: Go's channels, select and context for Rust
//!
//! Channels with Go's semantics (unbuffered and buffered, close, range) that OS threads and
//! async tasks share; `select!` with receive and send arms that performs exactly one
//! operation; timers on one process-wide service; and Go's `context` package.
//!
//! ```
//! use std::time::Duration;
//!
//! let (tx, rx) = gochan::bounded(0); // unbuffered, like make(chan int)
//! std::thread::spawn(move || {
//!     for i in 1..=3 { tx.send(i * i).unwrap(); }
//! }); // the sender drops here: the channel closes
//!
//! let mut got = Vec::new();
//! loop {
//!     gochan::select! {
//!         recv(rx) -> v => match v {
//!             Ok(v) => got.push(v),
//!             Err(_) => break, // closed and drained
//!         },
//!         recv(gochan::after(Duration::from_secs(5))) -> _ => panic!("timed out"),
//!     }
//! }
//! assert_eq!(got, [1, 4, 9]);
//! ```
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    unsafe_op_in_unsafe_fn,
    clippy::undocumented_unsafe_blocks
)]

pub mod chan;
pub mod context;
pub mod debug;
pub mod group;
pub mod pipeline;
pub mod select;
mod sync;
#[cfg(not(loom))]
pub mod synctest;
pub mod time;

pub use chan::{
    bounded, never, unbounded, Receiver, RecvError, RecvTimeoutError, SendError, SendTimeoutError,
    Sender, TryRecvError, TrySendError, WeakReceiver, WeakSender,
};
pub use select::{Select, SelectTimeoutError, SelectedOperation, TrySelectError};
pub use time::{after, at, tick};
