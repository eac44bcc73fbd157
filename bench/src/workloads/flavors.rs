//! One uniform face per channel crate, so the plain workloads (seq, spsc, mpsc, mpmc) are
//! written once and instantiated per contender. Select workloads use each crate's own
//! select API and live in `select.rs`.

use std::future::Future;

use crate::harness::Msg;

/// A channel crate used from OS threads.
pub trait SyncFlavor: 'static {
    const NAME: &'static str;
    /// Receivers can be cloned (multi-consumer).
    const MPMC: bool = true;
    /// `cap == 0` (rendezvous) is supported.
    const CAP0: bool = true;
    type Tx<M: Msg>: Send + 'static;
    type Rx<M: Msg>: Send + 'static;
    fn chan<M: Msg>(cap: Option<usize>) -> (Self::Tx<M>, Self::Rx<M>);
    /// Only called when a cell has more than one sender.
    fn clone_tx<M: Msg>(tx: &Self::Tx<M>) -> Self::Tx<M>;
    /// Only called when `MPMC`.
    fn clone_rx<M: Msg>(rx: &Self::Rx<M>) -> Self::Rx<M>;
    fn send<M: Msg>(tx: &Self::Tx<M>, m: M);
    /// `None` once the channel is closed and drained.
    fn recv<M: Msg>(rx: &Self::Rx<M>) -> Option<M>;
}

/// A channel crate used from async tasks. Each task owns its end, so an end need not be
/// `Sync` (crossfire's single-producer and single-consumer ends are not); the futures of
/// `send` and `recv` must be `Send`.
pub trait AsyncFlavor: 'static {
    const NAME: &'static str;
    const MPMC: bool = true;
    const CAP0: bool = true;
    type Tx<M: Msg>: Send + 'static;
    type Rx<M: Msg>: Send + 'static;
    fn chan<M: Msg>(cap: Option<usize>) -> (Self::Tx<M>, Self::Rx<M>);
    /// Only called when a cell has more than one sender.
    fn clone_tx<M: Msg>(tx: &Self::Tx<M>) -> Self::Tx<M>;
    /// Only called when `MPMC`.
    fn clone_rx<M: Msg>(rx: &Self::Rx<M>) -> Self::Rx<M>;
    fn send<M: Msg>(tx: &Self::Tx<M>, m: M) -> impl Future<Output = ()> + Send + '_;
    fn recv<M: Msg>(rx: &mut Self::Rx<M>) -> impl Future<Output = Option<M>> + Send + '_;
}

// ---------------------------------------------------------------- sync flavors

pub struct Gochan;
impl SyncFlavor for Gochan {
    const NAME: &'static str = "gochan";
    type Tx<M: Msg> = gochan::Sender<M>;
    type Rx<M: Msg> = gochan::Receiver<M>;
    fn chan<M: Msg>(cap: Option<usize>) -> (Self::Tx<M>, Self::Rx<M>) {
        cap.map_or_else(gochan::unbounded, gochan::bounded)
    }
    fn clone_tx<M: Msg>(tx: &Self::Tx<M>) -> Self::Tx<M> {
        tx.clone()
    }
    fn clone_rx<M: Msg>(rx: &Self::Rx<M>) -> Self::Rx<M> {
        rx.clone()
    }
    fn send<M: Msg>(tx: &Self::Tx<M>, m: M) {
        tx.send(m).expect("gochan send");
    }
    fn recv<M: Msg>(rx: &Self::Rx<M>) -> Option<M> {
        rx.recv().ok()
    }
}

pub struct Crossbeam;
impl SyncFlavor for Crossbeam {
    const NAME: &'static str = "crossbeam";
    type Tx<M: Msg> = crossbeam_channel::Sender<M>;
    type Rx<M: Msg> = crossbeam_channel::Receiver<M>;
    fn chan<M: Msg>(cap: Option<usize>) -> (Self::Tx<M>, Self::Rx<M>) {
        cap.map_or_else(crossbeam_channel::unbounded, crossbeam_channel::bounded)
    }
    fn clone_tx<M: Msg>(tx: &Self::Tx<M>) -> Self::Tx<M> {
        tx.clone()
    }
    fn clone_rx<M: Msg>(rx: &Self::Rx<M>) -> Self::Rx<M> {
        rx.clone()
    }
    fn send<M: Msg>(tx: &Self::Tx<M>, m: M) {
        tx.send(m).expect("crossbeam send");
    }
    fn recv<M: Msg>(rx: &Self::Rx<M>) -> Option<M> {
        rx.recv().ok()
    }
}

pub struct Flume;
impl SyncFlavor for Flume {
    const NAME: &'static str = "flume";
    type Tx<M: Msg> = flume::Sender<M>;
    type Rx<M: Msg> = flume::Receiver<M>;
    fn chan<M: Msg>(cap: Option<usize>) -> (Self::Tx<M>, Self::Rx<M>) {
        cap.map_or_else(flume::unbounded, flume::bounded)
    }
    fn clone_tx<M: Msg>(tx: &Self::Tx<M>) -> Self::Tx<M> {
        tx.clone()
    }
    fn clone_rx<M: Msg>(rx: &Self::Rx<M>) -> Self::Rx<M> {
        rx.clone()
    }
    fn send<M: Msg>(tx: &Self::Tx<M>, m: M) {
        tx.send(m).expect("flume send");
    }
    fn recv<M: Msg>(rx: &Self::Rx<M>) -> Option<M> {
        rx.recv().ok()
    }
}

pub struct Kanal;
impl SyncFlavor for Kanal {
    const NAME: &'static str = "kanal";
    type Tx<M: Msg> = kanal::Sender<M>;
    type Rx<M: Msg> = kanal::Receiver<M>;
    fn chan<M: Msg>(cap: Option<usize>) -> (Self::Tx<M>, Self::Rx<M>) {
        cap.map_or_else(kanal::unbounded, kanal::bounded)
    }
    fn clone_tx<M: Msg>(tx: &Self::Tx<M>) -> Self::Tx<M> {
        tx.clone()
    }
    fn clone_rx<M: Msg>(rx: &Self::Rx<M>) -> Self::Rx<M> {
        rx.clone()
    }
    fn send<M: Msg>(tx: &Self::Tx<M>, m: M) {
        tx.send(m).expect("kanal send");
    }
    fn recv<M: Msg>(rx: &Self::Rx<M>) -> Option<M> {
        rx.recv().ok()
    }
}

/// `std::sync::mpsc`: `sync_channel` when bounded, `channel` when unbounded; MPSC only.
pub struct Std;
pub enum StdTx<M> {
    Bounded(std::sync::mpsc::SyncSender<M>),
    Unbounded(std::sync::mpsc::Sender<M>),
}
impl SyncFlavor for Std {
    const NAME: &'static str = "std";
    const MPMC: bool = false;
    type Tx<M: Msg> = StdTx<M>;
    type Rx<M: Msg> = std::sync::mpsc::Receiver<M>;
    fn chan<M: Msg>(cap: Option<usize>) -> (Self::Tx<M>, Self::Rx<M>) {
        match cap {
            Some(c) => {
                let (tx, rx) = std::sync::mpsc::sync_channel(c);
                (StdTx::Bounded(tx), rx)
            }
            None => {
                let (tx, rx) = std::sync::mpsc::channel();
                (StdTx::Unbounded(tx), rx)
            }
        }
    }
    fn clone_tx<M: Msg>(tx: &Self::Tx<M>) -> Self::Tx<M> {
        match tx {
            StdTx::Bounded(t) => StdTx::Bounded(t.clone()),
            StdTx::Unbounded(t) => StdTx::Unbounded(t.clone()),
        }
    }
    fn clone_rx<M: Msg>(_: &Self::Rx<M>) -> Self::Rx<M> {
        unreachable!("std::sync::mpsc has a single receiver")
    }
    fn send<M: Msg>(tx: &Self::Tx<M>, m: M) {
        match tx {
            StdTx::Bounded(t) => t.send(m).expect("std send"),
            StdTx::Unbounded(t) => t.send(m).expect("std send"),
        }
    }
    fn recv<M: Msg>(rx: &Self::Rx<M>) -> Option<M> {
        rx.recv().ok()
    }
}

// ---------------------------------------------------------------- async flavors

pub struct GochanAsync;
impl AsyncFlavor for GochanAsync {
    const NAME: &'static str = "gochan";
    type Tx<M: Msg> = gochan::Sender<M>;
    type Rx<M: Msg> = gochan::Receiver<M>;
    fn chan<M: Msg>(cap: Option<usize>) -> (Self::Tx<M>, Self::Rx<M>) {
        cap.map_or_else(gochan::unbounded, gochan::bounded)
    }
    fn clone_tx<M: Msg>(tx: &Self::Tx<M>) -> Self::Tx<M> {
        tx.clone()
    }
    fn clone_rx<M: Msg>(rx: &Self::Rx<M>) -> Self::Rx<M> {
        rx.clone()
    }
    async fn send<M: Msg>(tx: &Self::Tx<M>, m: M) {
        tx.send_async(m).await.expect("gochan send_async");
    }
    async fn recv<M: Msg>(rx: &mut Self::Rx<M>) -> Option<M> {
        rx.recv_async().await.ok()
    }
}

/// `tokio::sync::mpsc`: `channel(cap)` (cap >= 1) or `unbounded_channel`; MPSC only.
pub struct Tokio;
pub enum TokioTx<M> {
    Bounded(tokio::sync::mpsc::Sender<M>),
    Unbounded(tokio::sync::mpsc::UnboundedSender<M>),
}
pub enum TokioRx<M> {
    Bounded(tokio::sync::mpsc::Receiver<M>),
    Unbounded(tokio::sync::mpsc::UnboundedReceiver<M>),
}
impl AsyncFlavor for Tokio {
    const NAME: &'static str = "tokio";
    const MPMC: bool = false;
    const CAP0: bool = false;
    type Tx<M: Msg> = TokioTx<M>;
    type Rx<M: Msg> = TokioRx<M>;
    fn chan<M: Msg>(cap: Option<usize>) -> (Self::Tx<M>, Self::Rx<M>) {
        match cap {
            Some(c) => {
                let (tx, rx) = tokio::sync::mpsc::channel(c);
                (TokioTx::Bounded(tx), TokioRx::Bounded(rx))
            }
            None => {
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                (TokioTx::Unbounded(tx), TokioRx::Unbounded(rx))
            }
        }
    }
    fn clone_tx<M: Msg>(tx: &Self::Tx<M>) -> Self::Tx<M> {
        match tx {
            TokioTx::Bounded(t) => TokioTx::Bounded(t.clone()),
            TokioTx::Unbounded(t) => TokioTx::Unbounded(t.clone()),
        }
    }
    fn clone_rx<M: Msg>(_: &Self::Rx<M>) -> Self::Rx<M> {
        unreachable!("tokio mpsc has a single receiver")
    }
    async fn send<M: Msg>(tx: &Self::Tx<M>, m: M) {
        match tx {
            TokioTx::Bounded(t) => t.send(m).await.expect("tokio send"),
            TokioTx::Unbounded(t) => t.send(m).expect("tokio send"),
        }
    }
    async fn recv<M: Msg>(rx: &mut Self::Rx<M>) -> Option<M> {
        match rx {
            TokioRx::Bounded(r) => r.recv().await,
            TokioRx::Unbounded(r) => r.recv().await,
        }
    }
}

pub struct AsyncChannel;
impl AsyncFlavor for AsyncChannel {
    const NAME: &'static str = "async-channel";
    const CAP0: bool = false;
    type Tx<M: Msg> = async_channel::Sender<M>;
    type Rx<M: Msg> = async_channel::Receiver<M>;
    fn chan<M: Msg>(cap: Option<usize>) -> (Self::Tx<M>, Self::Rx<M>) {
        cap.map_or_else(async_channel::unbounded, async_channel::bounded)
    }
    fn clone_tx<M: Msg>(tx: &Self::Tx<M>) -> Self::Tx<M> {
        tx.clone()
    }
    fn clone_rx<M: Msg>(rx: &Self::Rx<M>) -> Self::Rx<M> {
        rx.clone()
    }
    async fn send<M: Msg>(tx: &Self::Tx<M>, m: M) {
        tx.send(m).await.expect("async-channel send");
    }
    async fn recv<M: Msg>(rx: &mut Self::Rx<M>) -> Option<M> {
        rx.recv().await.ok()
    }
}

pub struct FlumeAsync;
impl AsyncFlavor for FlumeAsync {
    const NAME: &'static str = "flume";
    type Tx<M: Msg> = flume::Sender<M>;
    type Rx<M: Msg> = flume::Receiver<M>;
    fn chan<M: Msg>(cap: Option<usize>) -> (Self::Tx<M>, Self::Rx<M>) {
        cap.map_or_else(flume::unbounded, flume::bounded)
    }
    fn clone_tx<M: Msg>(tx: &Self::Tx<M>) -> Self::Tx<M> {
        tx.clone()
    }
    fn clone_rx<M: Msg>(rx: &Self::Rx<M>) -> Self::Rx<M> {
        rx.clone()
    }
    async fn send<M: Msg>(tx: &Self::Tx<M>, m: M) {
        tx.send_async(m).await.expect("flume send_async");
    }
    async fn recv<M: Msg>(rx: &mut Self::Rx<M>) -> Option<M> {
        rx.recv_async().await.ok()
    }
}

pub struct KanalAsync;
impl AsyncFlavor for KanalAsync {
    const NAME: &'static str = "kanal";
    type Tx<M: Msg> = kanal::AsyncSender<M>;
    type Rx<M: Msg> = kanal::AsyncReceiver<M>;
    fn chan<M: Msg>(cap: Option<usize>) -> (Self::Tx<M>, Self::Rx<M>) {
        cap.map_or_else(kanal::unbounded_async, kanal::bounded_async)
    }
    fn clone_tx<M: Msg>(tx: &Self::Tx<M>) -> Self::Tx<M> {
        tx.clone()
    }
    fn clone_rx<M: Msg>(rx: &Self::Rx<M>) -> Self::Rx<M> {
        rx.clone()
    }
    async fn send<M: Msg>(tx: &Self::Tx<M>, m: M) {
        tx.send(m).await.expect("kanal async send");
    }
    async fn recv<M: Msg>(rx: &mut Self::Rx<M>) -> Option<M> {
        rx.recv().await.ok()
    }
}

// ---------------------------------------------------------------- crossfire

/// crossfire (3.x) has one module per shape (`spsc`, `mpsc`, `mpmc`), each with its own
/// queue and waker registry, and typed ends: a single-producer (single-consumer) end is not
/// `Clone`. A cell takes the module that matches its shape, as a user would (`seq` and
/// spsc: `spsc`; n:1: `mpsc`; n:m: `mpmc`), `Array` when bounded (`bounded_blocking` /
/// `bounded_async`; cap 1 is its `One` queue, and it has no cap 0: `bounded(0)` is cap 1)
/// and `List` when unbounded (`unbounded_blocking` / `unbounded_async`, whose sender is the
/// blocking one: a send that never waits). One flavor per module and bound, so the ends
/// are crossfire's own types with no dispatch of ours in between.
pub mod xf {
    use std::future::Future;

    use crossfire::{mpmc, mpsc, spsc, AsyncRx, AsyncTx, MAsyncRx, MAsyncTx, MRx, MTx, Rx, Tx};

    use super::{AsyncFlavor, Msg, SyncFlavor};

    macro_rules! clone_end {
        (@flag yes) => {
            true
        };
        (@flag no) => {
            false
        };
        (yes, $end:expr, $what:literal) => {
            $end.clone()
        };
        (no, $end:expr, $what:literal) => {{
            let _ = $end;
            unreachable!(concat!(
                "crossfire: the ",
                $what,
                " end of this module is single"
            ))
        }};
    }

    /// A blocking flavor: `$tx`/`$rx` over `$queue`, made by `$make(cap)`.
    macro_rules! blocking {
        ($name:ident, $tx:ident, $rx:ident, $queue:path, $make:expr,
         clone_tx: $ctx:ident, clone_rx: $crx:ident) => {
            pub struct $name;
            impl SyncFlavor for $name {
                const NAME: &'static str = "crossfire";
                const MPMC: bool = clone_end!(@flag $crx);
                const CAP0: bool = false;
                type Tx<M: Msg> = $tx<$queue>;
                type Rx<M: Msg> = $rx<$queue>;
                fn chan<M: Msg>(cap: Option<usize>) -> (Self::Tx<M>, Self::Rx<M>) {
                    $make(cap)
                }
                fn clone_tx<M: Msg>(tx: &Self::Tx<M>) -> Self::Tx<M> {
                    clone_end!($ctx, tx, "sending")
                }
                fn clone_rx<M: Msg>(rx: &Self::Rx<M>) -> Self::Rx<M> {
                    clone_end!($crx, rx, "receiving")
                }
                fn send<M: Msg>(tx: &Self::Tx<M>, m: M) {
                    tx.send(m).expect("crossfire send");
                }
                fn recv<M: Msg>(rx: &Self::Rx<M>) -> Option<M> {
                    rx.recv().ok()
                }
            }
        };
    }

    /// An async flavor. `send: wait` awaits crossfire's `SendFuture` (bounded);
    /// `send: now` calls the blocking sender of an unbounded channel, which never waits.
    /// The futures are built before the `async` block, so they hold crossfire's (`Send`)
    /// futures rather than a reference to a non-`Sync` end.
    macro_rules! asynch {
        ($name:ident, $tx:ident, $rx:ident, $queue:path, $make:expr,
         clone_tx: $ctx:ident, clone_rx: $crx:ident, send: $how:ident) => {
            pub struct $name;
            impl AsyncFlavor for $name {
                const NAME: &'static str = "crossfire";
                const MPMC: bool = clone_end!(@flag $crx);
                const CAP0: bool = false;
                type Tx<M: Msg> = $tx<$queue>;
                type Rx<M: Msg> = $rx<$queue>;
                fn chan<M: Msg>(cap: Option<usize>) -> (Self::Tx<M>, Self::Rx<M>) {
                    $make(cap)
                }
                fn clone_tx<M: Msg>(tx: &Self::Tx<M>) -> Self::Tx<M> {
                    clone_end!($ctx, tx, "sending")
                }
                fn clone_rx<M: Msg>(rx: &Self::Rx<M>) -> Self::Rx<M> {
                    clone_end!($crx, rx, "receiving")
                }
                fn send<M: Msg>(tx: &Self::Tx<M>, m: M) -> impl Future<Output = ()> + Send + '_ {
                    asynch!(@send $how, tx, m)
                }
                fn recv<M: Msg>(rx: &mut Self::Rx<M>) -> impl Future<Output = Option<M>> + Send + '_ {
                    let f = rx.recv();
                    async move { f.await.ok() }
                }
            }
        };
        (@send wait, $tx:ident, $m:ident) => {{
            let f = $tx.send($m);
            async move { f.await.expect("crossfire async send") }
        }};
        (@send now, $tx:ident, $m:ident) => {{
            $tx.send($m).expect("crossfire unbounded send");
            std::future::ready(())
        }};
    }

    fn bound(cap: Option<usize>) -> usize {
        match cap {
            Some(c) if c > 0 => c,
            _ => unreachable!("crossfire Array flavor used at cap {cap:?}"),
        }
    }
    fn unbound(cap: Option<usize>) {
        assert!(cap.is_none(), "crossfire List flavor used at cap {cap:?}");
    }

    blocking!(SpscArray, Tx, Rx, spsc::Array<M>, |c| spsc::bounded_blocking(bound(c)),
        clone_tx: no, clone_rx: no);
    blocking!(SpscList, Tx, Rx, spsc::List<M>, |c| { unbound(c); spsc::unbounded_blocking() },
        clone_tx: no, clone_rx: no);
    blocking!(MpscArray, MTx, Rx, mpsc::Array<M>, |c| mpsc::bounded_blocking(bound(c)),
        clone_tx: yes, clone_rx: no);
    blocking!(MpscList, MTx, Rx, mpsc::List<M>, |c| { unbound(c); mpsc::unbounded_blocking() },
        clone_tx: yes, clone_rx: no);
    blocking!(MpmcArray, MTx, MRx, mpmc::Array<M>, |c| mpmc::bounded_blocking(bound(c)),
        clone_tx: yes, clone_rx: yes);
    blocking!(MpmcList, MTx, MRx, mpmc::List<M>, |c| { unbound(c); mpmc::unbounded_blocking() },
        clone_tx: yes, clone_rx: yes);

    asynch!(SpscArrayAsync, AsyncTx, AsyncRx, spsc::Array<M>,
        |c| spsc::bounded_async(bound(c)), clone_tx: no, clone_rx: no, send: wait);
    asynch!(SpscListAsync, Tx, AsyncRx, spsc::List<M>,
        |c| { unbound(c); spsc::unbounded_async() }, clone_tx: no, clone_rx: no, send: now);
    asynch!(MpscArrayAsync, MAsyncTx, AsyncRx, mpsc::Array<M>,
        |c| mpsc::bounded_async(bound(c)), clone_tx: yes, clone_rx: no, send: wait);
    asynch!(MpscListAsync, MTx, AsyncRx, mpsc::List<M>,
        |c| { unbound(c); mpsc::unbounded_async() }, clone_tx: yes, clone_rx: no, send: now);
    asynch!(MpmcArrayAsync, MAsyncTx, MAsyncRx, mpmc::Array<M>,
        |c| mpmc::bounded_async(bound(c)), clone_tx: yes, clone_rx: yes, send: wait);
    asynch!(MpmcListAsync, MTx, MAsyncRx, mpmc::List<M>,
        |c| { unbound(c); mpmc::unbounded_async() }, clone_tx: yes, clone_rx: yes, send: now);
}
