//! `Sender` as a `futures::Sink` (`SendSink`): the same delivery and cancel-safety rules as
//! `send_async`, driven through the `Sink` protocol (`poll_ready` / `start_send` /
//! `poll_flush` / `poll_close`).

mod common;

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};

use common::{tracked, waiting_senders, watchdog, DropLog};
use futures::sink::Sink;
use futures::{SinkExt, StreamExt};

fn noop_cx() -> Context<'static> {
    Context::from_waker(futures::task::noop_waker_ref())
}

#[test]
fn forward_delivers_everything_in_order_at_every_capacity() {
    for cap in [0, 1, 16] {
        watchdog(move || {
            let (tx, rx) = gochan::bounded(cap);
            let consumer = std::thread::spawn(move || rx.iter().collect::<Vec<u32>>());
            futures::executor::block_on(async move {
                let mut sink = tx.into_sink();
                futures::stream::iter(0..1000u32)
                    .map(Ok)
                    .forward(&mut sink)
                    .await
                    .unwrap();
            });
            assert_eq!(consumer.join().unwrap(), (0..1000).collect::<Vec<_>>());
        });
    }
}

#[test]
fn works_on_tokio_with_an_async_receiver() {
    let rt = common::tokio_rt();
    rt.block_on(async {
        let (tx, rx) = gochan::unbounded();
        let h = tokio::spawn(async move {
            let mut sink = tx.sink();
            for i in 0..100 {
                sink.send(i).await.unwrap();
            }
        });
        let got: Vec<i32> = rx.stream().take(100).collect().await;
        assert_eq!(got, (0..100).collect::<Vec<_>>());
        h.await.unwrap();
    });
}

#[test]
fn a_closed_channel_gives_the_item_back() {
    let (tx, rx) = gochan::bounded::<String>(0);
    let mut sink = tx.sink();
    drop(rx);
    let err = futures::executor::block_on(sink.send("lost?".to_string())).unwrap_err();
    assert_eq!(err.into_inner(), "lost?");
    let (tx, _rx) = gochan::bounded::<i32>(0);
    let sink = tx.sink();
    assert!(sink.close_channel());
    let mut sink = sink;
    assert_eq!(
        futures::executor::block_on(sink.send(1))
            .unwrap_err()
            .into_inner(),
        1
    );
}

#[test]
fn poll_close_flushes_but_does_not_close_the_channel() {
    let (tx, rx) = gochan::bounded(1);
    let mut sink = tx.sink();
    futures::executor::block_on(async {
        sink.feed(1).await.unwrap();
        sink.close().await.unwrap();
    });
    assert!(!tx.is_closed());
    assert_eq!(rx.try_recv(), Ok(1));
}

#[test]
fn a_pending_item_is_taken_back_when_the_sink_is_dropped() {
    // Mirrors the SendFuture drop rule: not delivered -> dropped once, never delivered later.
    let log = Arc::new(DropLog((0..2).map(|_| AtomicUsize::new(0)).collect()));
    let (tx, rx) = gochan::bounded(0);
    let mut sink = tx.sink();
    assert!(matches!(
        Pin::new(&mut sink).poll_ready(&mut noop_cx()),
        Poll::Ready(Ok(()))
    ));
    Pin::new(&mut sink).start_send(tracked(&log, 1)).unwrap();
    assert!(Pin::new(&mut sink).poll_flush(&mut noop_cx()).is_pending());
    assert_eq!(waiting_senders(&tx), 1);
    drop(sink);
    assert_eq!(waiting_senders(&tx), 0);
    assert_eq!(log.0[1].load(SeqCst), 1);
    assert!(rx.try_recv().is_err());
}

#[test]
fn an_item_taken_before_the_drop_stays_delivered() {
    let (tx, rx) = gochan::bounded(0);
    let mut sink = tx.sink();
    assert!(Pin::new(&mut sink).poll_ready(&mut noop_cx()).is_ready());
    Pin::new(&mut sink).start_send(5).unwrap();
    assert!(Pin::new(&mut sink).poll_flush(&mut noop_cx()).is_pending());
    assert_eq!(rx.recv(), Ok(5)); // a receiver takes it from the queued entry
    drop(sink);
    assert!(rx.try_recv().is_err());
}

#[test]
#[should_panic(expected = "start_send called before poll_ready")]
fn start_send_while_busy_panics_as_the_contract_allows() {
    let (tx, _rx) = gochan::bounded(0);
    let mut sink = tx.sink();
    Pin::new(&mut sink).start_send(1).unwrap();
    let _ = Pin::new(&mut sink).start_send(2);
}
