//! Weak channel handles: [`WeakSender`] and [`WeakReceiver`] refer to a channel without
//! keeping it open, as `std::sync::Weak` refers to an `Arc` without keeping its value.
//!
//! They break the reference cycles that make a blocked party unreachable: a struct that
//! both a worker and its owner share (an `Arc<Self>` holding both ends of a channel) keeps
//! the channel open forever, so a `recv` on it never sees the close. Holding the end that
//! must not keep the channel alive as a weak handle, and upgrading it only for the moment
//! of use, lets the last strong handle's drop close the channel (or fail the sends) as
//! usual.
//!
//! Invariant: a weak handle holds the channel's memory (`Arc<Chan>`), never a count in
//! `Chan::senders` / `Chan::receivers`. `upgrade` increments the count only while it is
//! non-zero (a compare-and-swap loop), so once the last strong handle of a side is gone,
//! that side can never come back.

use std::fmt;
use std::sync::Arc;

use super::core::Chan;
use super::{Receiver, Sender};

/// A sender that does not keep the channel open: Go has no twin (a channel lives while
/// anyone can reach it); tokio's `WeakSender` is the model. [`upgrade`](WeakSender::upgrade)
/// gives a [`Sender`] while at least one strong `Sender` lives.
///
/// ```
/// let (tx, rx) = gochan::bounded::<i32>(1);
/// let weak = tx.downgrade();
/// weak.upgrade().unwrap().send(1).unwrap();
/// drop(tx); // the last strong sender: the channel closes
/// assert!(weak.upgrade().is_none());
/// assert_eq!(rx.recv(), Ok(1));
/// assert!(rx.recv().is_err());
/// ```
pub struct WeakSender<T> {
    chan: Arc<Chan<T>>,
}

/// A receiver that does not keep the channel readable: once every strong [`Receiver`] is
/// gone, sends fail (and give their values back) even while weak receivers exist.
///
/// ```
/// let (tx, rx) = gochan::bounded::<i32>(1);
/// let weak = rx.downgrade();
/// tx.send(1).unwrap();
/// assert_eq!(weak.upgrade().unwrap().recv(), Ok(1));
/// drop(rx);
/// assert!(weak.upgrade().is_none());
/// assert!(tx.send(2).is_err()); // nobody can receive any more
/// ```
pub struct WeakReceiver<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Sender<T> {
    /// A weak handle to this channel's sending side: it does not keep the channel open.
    ///
    /// ```
    /// let (tx, _rx) = gochan::unbounded::<u8>();
    /// let weak = tx.downgrade();
    /// assert!(weak.upgrade().unwrap().same_channel(&tx));
    /// ```
    pub fn downgrade(&self) -> WeakSender<T> {
        // A weak handle can be upgraded and used: its maker may act on the channel.
        #[cfg(feature = "debug-handles")]
        self.chan.holders.touch();
        WeakSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Receiver<T> {
    /// A weak handle to this channel's receiving side: it does not keep sends possible.
    ///
    /// ```
    /// let (_tx, rx) = gochan::unbounded::<u8>();
    /// let weak = rx.downgrade();
    /// assert!(weak.upgrade().unwrap().same_channel(&rx));
    /// ```
    pub fn downgrade(&self) -> WeakReceiver<T> {
        // A weak handle can be upgraded and used: its maker may act on the channel.
        #[cfg(feature = "debug-handles")]
        self.chan.holders.touch();
        WeakReceiver {
            chan: self.chan.clone(),
        }
    }
}

impl<T> WeakSender<T> {
    /// A strong [`Sender`], or `None` once every strong sender is gone (the channel is
    /// then closed, for good).
    ///
    /// ```
    /// let (tx, _rx) = gochan::bounded::<u8>(0);
    /// let weak = tx.downgrade();
    /// assert!(weak.upgrade().is_some());
    /// drop(tx);
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn upgrade(&self) -> Option<Sender<T>> {
        self.chan
            .try_acquire_sender()
            .then(|| Sender::from_chan(self.chan.clone()))
    }
}

impl<T> WeakReceiver<T> {
    /// A strong [`Receiver`], or `None` once every strong receiver is gone.
    ///
    /// ```
    /// let (_tx, rx) = gochan::bounded::<u8>(0);
    /// let weak = rx.downgrade();
    /// assert!(weak.upgrade().is_some());
    /// drop(rx);
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn upgrade(&self) -> Option<Receiver<T>> {
        self.chan
            .try_acquire_receiver()
            .then(|| Receiver::from_chan(self.chan.clone()))
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> Self {
        WeakSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Clone for WeakReceiver<T> {
    fn clone(&self) -> Self {
        WeakReceiver {
            chan: self.chan.clone(),
        }
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakSender")
            .field("senders", &self.chan.sender_count())
            .finish()
    }
}

impl<T> fmt::Debug for WeakReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakReceiver")
            .field("receivers", &self.chan.receiver_count())
            .finish()
    }
}
