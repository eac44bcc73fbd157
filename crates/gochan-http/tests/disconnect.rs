//! What a handler sees when its client goes away. hyper does not let the handler run on
//! (as Go's server does, with `ctx.Done()` closed): it drops the handler's future. The
//! layer cancels the request's context first, so whatever the future owns sees the
//! context cancelled, with cause [`RequestEnd::ClientDisconnected`], when it is dropped
//! (a drop guard here; in real code a `select!` arm that never gets to run, a child
//! context, a connection returned to a pool...). Work spawned on its own task holding the
//! context keeps running and sees `ctx.done()` close.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context as TaskCx, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use gochan::context::{self, CancelFunc, Context};
use gochan_http::{ContextLayer, RequestEnd};
use http::{Request, Response};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower_layer::Layer;

/// What a drop guard saw of the request's context when it was dropped.
#[derive(Debug, PartialEq)]
struct Seen {
    err: Option<context::Error>,
    cause: Option<RequestEnd>,
}

impl Seen {
    fn of(ctx: &Context) -> Self {
        Self {
            err: ctx.err(),
            cause: context::cause(ctx).and_then(|c| c.downcast_ref::<RequestEnd>().copied()),
        }
    }
}

const DISCONNECTED: Seen = Seen {
    err: Some(context::Error::Canceled),
    cause: Some(RequestEnd::ClientDisconnected),
};

/// Reports what it sees of the context when dropped.
struct DropGuard {
    ctx: Context,
    report: gochan::Sender<Seen>,
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        let _ = self.report.send(Seen::of(&self.ctx));
    }
}

/// Serves `handler` behind the layer on a loopback port until the returned `CancelFunc`
/// is dropped.
async fn start<H, F, B>(handler: H) -> (SocketAddr, CancelFunc)
where
    H: FnMut(Request<Incoming>) -> F + Clone + Send + 'static,
    F: std::future::Future<Output = Result<Response<B>, Infallible>> + Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (shutdown, stop) = context::with_cancel(&context::background());
    let svc = ContextLayer::new().layer(gochan_http::service_fn(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { gochan_http::serve(listener, &shutdown, svc).await });
    (addr, stop)
}

/// Receives from `rx` without blocking the runtime, failing the test after 5 s.
async fn recv<T: Send + 'static>(rx: &gochan::Receiver<T>, what: &str) -> T {
    let rx = rx.clone();
    tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(5)))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{what}: {e:?}"))
}

/// Writes a request head on a raw TCP connection, waits until the handler runs, then
/// closes the connection mid-request (no response read).
async fn disconnect_mid_request(addr: SocketAddr, started: &gochan::Receiver<()>) {
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    sock.write_all(b"GET /slow HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    recv(started, "the handler did not start").await;
    drop(sock);
}

#[tokio::test]
async fn a_handlers_drop_guard_sees_the_context_cancelled_by_the_disconnect() {
    let (started_tx, started) = gochan::unbounded();
    let (report, reports) = gochan::unbounded();
    let (addr, _stop) = start(move |req: Request<Incoming>| {
        let guard = DropGuard {
            ctx: gochan_http::context(&req),
            report: report.clone(),
        };
        let started = started_tx.clone();
        async move {
            let _guard = guard;
            started.send(()).unwrap();
            // Never answers: only the client going away ends this request.
            std::future::pending::<()>().await;
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
        }
    })
    .await;
    disconnect_mid_request(addr, &started).await;
    let seen = recv(&reports, "the handler's future was not dropped").await;
    assert_eq!(seen, DISCONNECTED);
}

/// The same over HTTP/2, where the client resets one stream (Go: "the request is
/// canceled (with HTTP/2)").
#[tokio::test]
async fn an_http2_stream_reset_is_seen_by_the_handlers_drop_guard() {
    let (started_tx, started) = gochan::unbounded();
    let (report, reports) = gochan::unbounded();
    let (addr, _stop) = start(move |req: Request<Incoming>| {
        let guard = DropGuard {
            ctx: gochan_http::context(&req),
            report: report.clone(),
        };
        let started = started_tx.clone();
        async move {
            let _guard = guard;
            started.send(()).unwrap();
            std::future::pending::<()>().await;
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
        }
    })
    .await;
    let io = hyper_util::rt::TokioIo::new(tokio::net::TcpStream::connect(addr).await.unwrap());
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), io)
            .await
            .unwrap();
    tokio::spawn(conn);
    let req = Request::get(format!("http://{addr}/"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let call = tokio::spawn(sender.send_request(req));
    recv(&started, "the handler did not start").await;
    call.abort(); // drops the response future: hyper resets the stream
    let seen = recv(&reports, "the handler's future was not dropped").await;
    assert_eq!(seen, DISCONNECTED);
}

/// A handler that answered normally is not reported as disconnected when hyper drops its
/// (completed) future while the body is still being sent; the body's end completes the
/// request.
#[tokio::test]
async fn a_completed_handler_is_not_a_disconnect_while_its_body_streams() {
    let (ctx_tx, ctxs) = gochan::unbounded::<Context>();
    let (more_tx, more) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, Infallible>>(1);
    let more = std::sync::Arc::new(std::sync::Mutex::new(Some(more)));
    let (addr, _stop) = start(move |req: Request<Incoming>| {
        let ctx_tx = ctx_tx.clone();
        let more = more.lock().unwrap().take().expect("one request");
        async move {
            ctx_tx.send(gochan_http::context(&req)).unwrap();
            let first = futures_stream_once(Frame::data(Bytes::from("first ")));
            Ok::<_, Infallible>(Response::new(StreamBody::new(Chain(Some(first), Rx(more)))))
        }
    })
    .await;
    let resp = gochan_http::send(
        &context::background(),
        Request::get(format!("http://{addr}/"))
            .body(Full::new(Bytes::new()))
            .unwrap(),
    )
    .await
    .unwrap();
    let ctx = recv(&ctxs, "the handler did not run").await;
    let mut body = resp.into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(first, "first ");
    // The handler's future has completed and been dropped; the request goes on.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(ctx.err(), None, "cause: {:?}", context::cause(&ctx));
    more_tx
        .send(Ok(Frame::data(Bytes::from("last"))))
        .await
        .unwrap();
    drop(more_tx);
    let rest = body.collect().await.unwrap().to_bytes();
    assert_eq!(rest, "last");
    tokio::time::timeout(Duration::from_secs(5), ctx.cancelled())
        .await
        .expect("the complete response did not end the context");
    assert_eq!(
        Seen::of(&ctx),
        Seen {
            err: Some(context::Error::Canceled),
            cause: Some(RequestEnd::ResponseComplete),
        }
    );
}

/// A body cut off by the client: whatever the body owns sees the context cancelled by
/// the disconnect when the server drops it.
#[tokio::test]
async fn a_streaming_bodys_drop_guard_sees_the_disconnect() {
    let (started_tx, started) = gochan::unbounded();
    let (report, reports) = gochan::unbounded();
    let (addr, _stop) = start(move |req: Request<Incoming>| {
        let guard = DropGuard {
            ctx: gochan_http::context(&req),
            report: report.clone(),
        };
        let started = started_tx.clone();
        async move {
            // One chunk, then a stream that never ends and owns the guard.
            let first = futures_stream_once(Frame::data(Bytes::from("first")));
            let stalled = Stalled {
                _guard: guard,
                started: Some(started),
            };
            Ok::<_, Infallible>(Response::new(StreamBody::new(Chain(Some(first), stalled))))
        }
    })
    .await;
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    sock.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 256];
    let n = sock.read(&mut buf).await.unwrap();
    assert!(n > 0);
    recv(&started, "the body was not polled past its first chunk").await;
    drop(sock);
    let seen = recv(&reports, "the body was not dropped").await;
    assert_eq!(seen, DISCONNECTED);
}

/// The pattern the crate docs show: the handler spawns its work on a task holding the
/// context and awaits it. When the client goes away, the handler's future is dropped but
/// the task runs on, sees `ctx.done()` close, and learns why.
#[tokio::test]
async fn spawned_work_sees_done_close_when_the_client_disconnects() {
    let (started_tx, started) = gochan::unbounded();
    let (report, reports) = gochan::unbounded();
    let (addr, _stop) = start(move |req: Request<Incoming>| {
        let ctx = gochan_http::context(&req);
        let started = started_tx.clone();
        let report = report.clone();
        async move {
            let work = tokio::spawn(async move {
                started.send(()).unwrap();
                // Until the context ends (or 30 s, a failure).
                let done = ctx.done();
                let ended = tokio::time::timeout(Duration::from_secs(30), done.recv_async())
                    .await
                    .is_ok();
                let _ = report.send((ended, Seen::of(&ctx)));
            });
            let _ = work.await;
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("done"))))
        }
    })
    .await;
    disconnect_mid_request(addr, &started).await;
    let (ended, seen) = recv(&reports, "the spawned work did not finish").await;
    assert!(ended, "the work waited out its 30 s: done() never closed");
    assert_eq!(seen, DISCONNECTED);
}

/// A stream of one item.
fn futures_stream_once<T: Unpin>(item: T) -> Once<T> {
    Once(Some(item))
}

struct Once<T>(Option<T>);
impl<T: Unpin> Stream for Once<T> {
    type Item = Result<T, Infallible>;
    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut TaskCx<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.0.take().map(Ok))
    }
}

/// A tokio mpsc receiver as a stream.
struct Rx<T>(tokio::sync::mpsc::Receiver<T>);
impl<T> Stream for Rx<T> {
    type Item = T;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskCx<'_>) -> Poll<Option<T>> {
        self.0.poll_recv(cx)
    }
}

/// A stream that never yields; reports when first polled.
struct Stalled {
    _guard: DropGuard,
    started: Option<gochan::Sender<()>>,
}
impl Stream for Stalled {
    type Item = Result<Frame<Bytes>, Infallible>;
    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut TaskCx<'_>) -> Poll<Option<Self::Item>> {
        if let Some(s) = self.started.take() {
            let _ = s.send(());
        }
        Poll::Pending
    }
}

/// The items of `a`, then those of `b`.
struct Chain<A, B>(Option<A>, B);
impl<A, B> Stream for Chain<A, B>
where
    A: Stream + Unpin,
    B: Stream<Item = A::Item> + Unpin,
{
    type Item = A::Item;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskCx<'_>) -> Poll<Option<A::Item>> {
        if let Some(a) = self.0.as_mut() {
            match Pin::new(a).poll_next(cx) {
                Poll::Ready(None) => self.0 = None,
                other => return other,
            }
        }
        Pin::new(&mut self.1).poll_next(cx)
    }
}
