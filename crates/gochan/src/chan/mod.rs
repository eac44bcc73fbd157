//! Channels with Go's semantics for threads and async tasks alike.
//!
//! One engine (`core`, after Go's `hchan`) serves all three flavors: unbuffered
//! (`bounded(0)`, a rendezvous), buffered (`bounded(n)`) and `unbounded()`. A blocked party
//! is a waiter (`node.rs`, `waiter.rs`: a parked thread or a task's `Waker`) in the
//! channel's FIFO queue, so a thread can send to a task and back. Buffered values live in a
//! lock-free ring (`ring.rs`) or list of blocks (`list.rs`) that operations use without the
//! channel's lock while nobody waits (`core.rs`, "The ring").
//!
//! ```
//! let (tx, rx) = gochan::bounded(0);
//! std::thread::spawn(move || {
//!     for i in 0..3 { tx.send(i).unwrap(); }
//! }); // dropping the last sender closes the channel
//! assert_eq!(rx.iter().collect::<Vec<_>>(), [0, 1, 2]);
//! ```

pub(crate) mod core;
mod error;
mod list;
pub(crate) mod node;
pub(crate) mod queue;
mod receiver;
mod recv_future;
mod ring;
mod send_future;
mod sender;
mod sink;
mod wait_queue;
pub(crate) mod waiter;
mod weak;

use std::sync::Arc;

pub use error::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};
pub use receiver::{IntoIter, Iter, Receiver, TryIter};
pub use recv_future::{IntoStream, RecvFuture, RecvStream};
pub use send_future::SendFuture;
pub use sender::Sender;
pub use sink::SendSink;
pub use weak::{WeakReceiver, WeakSender};

use self::core::Chan;

/// Creates a channel that buffers up to `cap` values. `cap == 0` is Go's unbuffered
/// channel: a send completes only when a receiver takes the value.
///
/// A buffer of up to 2^20 values and 4 MiB is allocated when the channel is made, as Go
/// allocates its buffer in `make`, and moves values without a lock while nobody waits;
/// a larger one grows as it fills, so a huge capacity costs nothing until used.
///
/// # Panics
/// If `cap * size_of::<T>()` exceeds `isize::MAX` bytes (Go: `makechan: size out of
/// range`). Zero-sized types accept any capacity.
///
/// ```
/// let (tx, rx) = gochan::bounded(2);
/// tx.send(1).unwrap();
/// tx.send(2).unwrap();
/// assert!(tx.try_send(3).is_err()); // full
/// assert_eq!(rx.recv(), Ok(1));
/// ```
#[track_caller]
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(Chan::new(Some(cap), 1, 1));
    (Sender::from_chan(chan.clone()), Receiver::from_chan(chan))
}

/// Creates a channel with an unlimited buffer: sends never block.
///
/// ```
/// let (tx, rx) = gochan::unbounded();
/// for i in 0..1000 { tx.send(i).unwrap(); }
/// assert_eq!(rx.len(), 1000);
/// ```
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(Chan::new(None, 1, 1));
    (Sender::from_chan(chan.clone()), Receiver::from_chan(chan))
}

/// A receiver that is never ready: Go's nil channel. `recv` blocks forever, `try_recv`
/// is always `Empty`, and in a select its arm is never chosen. All `never` receivers of
/// one type are the same channel ([`Receiver::same_channel`], `==`), as all of Go's nil
/// channels are equal.
///
/// The idiom for an input that has ended is Go's `ch = nil`: reassign the variable inside
/// the select, and its arm is never chosen again:
/// ```
/// let (tx_a, mut a) = gochan::bounded::<i32>(1);
/// let (tx_b, mut b) = gochan::bounded::<i32>(1);
/// tx_a.send(1).unwrap();
/// tx_b.send(2).unwrap();
/// drop((tx_a, tx_b));
/// let mut sum = 0;
/// let mut open = 2;
/// while open > 0 {
///     gochan::select! {
///         recv(a) -> v => match v {
///             Ok(v) => sum += v,
///             Err(_) => { a = gochan::never(); open -= 1; }
///         },
///         recv(b) -> v => match v {
///             Ok(v) => sum += v,
///             Err(_) => { b = gochan::never(); open -= 1; }
///         },
///     }
/// }
/// assert_eq!(sum, 3);
/// ```
///
/// ```
/// let rx = gochan::never::<i32>();
/// assert!(rx.try_recv().unwrap_err().is_empty());
/// ```
pub fn never<T>() -> Receiver<T> {
    Receiver::from_chan(Arc::new(Chan::new_never()))
}

/// A signal: a channel with no `Sender` handle that is only ever closed (see
/// `Chan::new_signal`).
pub(crate) fn signal() -> (Arc<Chan<()>>, Receiver<()>) {
    let chan = Arc::new(Chan::new_signal());
    (chan.clone(), Receiver::from_chan(chan))
}
