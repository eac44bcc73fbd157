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
