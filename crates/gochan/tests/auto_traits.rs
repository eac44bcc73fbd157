//! `Send`, `Sync` and `Unpin` of every public type, checked at compile time: a change that
//! loses one breaks this file, not a user's build.

use std::future::Future;
use std::pin::Pin;

use gochan::chan::{
    IntoIter, IntoStream, Iter, RecvFuture, RecvStream, SendFuture, SendSink, TryIter,
};
use gochan::context::{self, AfterFunc, CancelCauseFunc, CancelFunc, CancelFuncDropped, Context};
use gochan::group::{
    AsyncErrGroup, ErrGroup, FlightResult, GroupCause, Permit, Semaphore, SingleFlight, WaitGroup,
};
use gochan::pipeline::{self, FirstError, Stage, StageStream};
use gochan::time::{FuncTimer, ParseDurationError, Ticker, Timer};
use gochan::{
    Receiver, RecvError, RecvTimeoutError, Select, SelectTimeoutError, SelectedOperation,
    SendError, SendTimeoutError, Sender, TryRecvError, TrySelectError, TrySendError,
};

fn send_sync_unpin<T: Send + Sync + Unpin>() {}
fn send_sync<T: Send + Sync>() {}
fn send_unpin<T: Send + Unpin>() {}
fn send<T: Send>() {}

type Msg = String;

#[test]
fn channel_types() {
    send_sync_unpin::<Sender<Msg>>();
    send_sync_unpin::<Receiver<Msg>>();
    send_sync_unpin::<SendSink<Msg>>();
    // The futures wait in a node inside themselves (no allocation): `!Unpin`, like tokio's
    // and kanal's. The streams and the sink keep one boxed node and stay `Unpin`, so
    // `StreamExt::next` and `SinkExt::send` work on them directly.
    send_sync::<RecvFuture<'static, Msg>>();
    send_sync::<SendFuture<'static, Msg>>();
    send_sync_unpin::<RecvStream<'static, Msg>>();
    send_sync_unpin::<IntoStream<Msg>>();
    send_sync_unpin::<Iter<'static, Msg>>();
    send_sync_unpin::<TryIter<'static, Msg>>();
    send_sync_unpin::<IntoIter<Msg>>();
    send_sync_unpin::<SendError<Msg>>();
    send_sync_unpin::<TrySendError<Msg>>();
    send_sync_unpin::<SendTimeoutError<Msg>>();
    send_sync_unpin::<RecvError>();
    send_sync_unpin::<TryRecvError>();
    send_sync_unpin::<RecvTimeoutError>();
}

#[test]
fn select_and_time_types() {
    // A select's arms hold values to send (`T: Send`, not necessarily `Sync`); every
    // method takes `&mut self`, so `Sync` would buy nothing.
    send_unpin::<Select<'static>>();
    send_unpin::<SelectedOperation<'static, 'static>>();
    send_sync_unpin::<TrySelectError>();
    send_sync_unpin::<SelectTimeoutError>();
    send_sync_unpin::<Timer>();
    send_sync_unpin::<Ticker>();
    send_sync_unpin::<FuncTimer>();
    send_sync_unpin::<ParseDurationError>();
}

#[test]
fn context_types() {
    send_sync_unpin::<Context>();
    send_sync_unpin::<CancelFunc>();
    send_sync_unpin::<CancelCauseFunc>();
    send_sync_unpin::<AfterFunc>();
    send_sync_unpin::<context::Error>();
    send_sync_unpin::<CancelFuncDropped>();
    // Holds the context's boxed `cancelled()` future (`Send`, not `Sync`); polled
    // through `Pin<&mut Self>` only.
    send_unpin::<context::CancelWhen<std::future::Ready<()>>>();
    send_unpin::<context::CancelWhen<Pin<Box<dyn Future<Output = ()> + Send>>>>();
}

#[test]
fn group_and_pipeline_types() {
    send_sync_unpin::<WaitGroup>();
    send_sync_unpin::<ErrGroup<Msg>>();
    send_sync_unpin::<Semaphore>();
    send_sync_unpin::<Permit<'static>>();
    send_sync_unpin::<SingleFlight<Msg, Msg>>();
    send_sync_unpin::<FlightResult<Msg>>();
    send_sync_unpin::<GroupCause>();
    send_sync_unpin::<Stage<Msg>>();
    send_sync_unpin::<pipeline::Iter<'static, Msg>>();
    send_sync_unpin::<pipeline::IntoIter<Msg>>();
    send_sync_unpin::<StageStream<Msg>>();
    send_sync_unpin::<FirstError>();
    // Holds the members' futures (`Send`, not `Sync`).
    send_unpin::<AsyncErrGroup<'static, Msg>>();
    #[cfg(feature = "tokio")]
    send_sync_unpin::<gochan::group::TokioErrGroup<Msg>>();
}

#[test]
fn futures_of_async_methods_are_send() {
    fn future_send<F: Future + Send>(_: F) {}
    let (tx, rx) = gochan::bounded::<Msg>(1);
    future_send(tx.send_async(String::new()));
    future_send(rx.recv_async());
    let wg = WaitGroup::new();
    future_send(wg.wait_async());
    let ctx = context::background();
    future_send(ctx.cancelled());
    let sem = Semaphore::new(1);
    future_send(sem.acquire_async(&ctx, 1));
    let g = ErrGroup::<Msg>::new();
    future_send(g.wait_async());
    future_send(async {
        gochan::select_async! {
            recv(rx) -> _ => (),
            default(std::time::Duration::ZERO) => (),
        }
    });
    send_sync::<Context>();
    send::<AsyncErrGroup<'static, Msg>>();
}
