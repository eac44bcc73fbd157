//! The layer, client and accept loop over real loopback HTTP with a real client (hyper).
//! Mirrors what Go documents for `Request.Context()` ("canceled when the client's
//! connection closes, the request is canceled (with HTTP/2), or when the ServeHTTP method
//! returns") and for `Client.Do` with a context, plus gRPC's deadline propagation.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use gochan::context::{self, CancelFunc, Context};
use gochan_http::{ContextLayer, RequestEnd};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower_layer::Layer;

type Seen = gochan::Receiver<Context>;

/// A server whose handler reports each request's context, then answers after `delay`
/// (or when its context ends) with `request id|deadline in ms|client ip`.
async fn start(layer: ContextLayer, delay: Duration) -> (SocketAddr, Seen, CancelFunc) {
    let (shutdown, stop) = context::with_cancel(&context::background());
    let (tx, rx) = gochan::unbounded();
    let handler = gochan_http::service_fn(move |req: Request<Incoming>| {
        let tx = tx.clone();
        async move {
            let ctx = gochan_http::context(&req);
            tx.send(ctx.clone()).unwrap();
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = ctx.cancelled() => {}
            }
            let left = ctx
                .deadline()
                .map(|d| {
                    d.saturating_duration_since(Instant::now())
                        .as_millis()
                        .to_string()
                })
                .unwrap_or_else(|| "none".into());
            let body = format!(
                "{}|{}|{}",
                gochan_http::request_id(&ctx).unwrap_or("-"),
                left,
                gochan_http::client_ip(&ctx).map_or("-".into(), |ip| ip.to_string())
            );
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
        }
    });
    let svc = layer.parent(&shutdown).layer(handler);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { gochan_http::serve(listener, &shutdown, svc).await });
    (addr, rx, stop)
}

fn get(addr: SocketAddr, path: &str) -> http::request::Builder {
    Request::get(format!("http://{addr}{path}"))
}

fn empty() -> Full<Bytes> {
    Full::new(Bytes::new())
}

async fn text(resp: Response<gochan_http::ResponseBody>) -> (StatusCode, String) {
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

fn cause_of(ctx: &Context) -> Option<RequestEnd> {
    context::cause(ctx).and_then(|c| c.downcast_ref::<RequestEnd>().copied())
}

#[tokio::test]
async fn request_id_deadline_and_client_ip_reach_the_handler() {
    let (addr, seen, _stop) = start(ContextLayer::new(), Duration::ZERO).await;
    let client = gochan_http::Client::new();
    let bg = context::background();

    // No headers: a generated id (echoed in the response), no deadline, the peer's IP.
    let resp = client
        .send(&bg, get(addr, "/").body(empty()).unwrap())
        .await
        .unwrap();
    let echoed = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    let (status, body) = text(resp).await;
    assert_eq!(status, StatusCode::OK);
    let parts: Vec<&str> = body.split('|').collect();
    assert_eq!(parts[0], echoed);
    assert_eq!(parts[0].len(), 32);
    assert_eq!(parts[1], "none");
    assert_eq!(parts[2], "127.0.0.1");
    let ctx = seen.recv().unwrap();
    // Go: the context is cancelled once the response is complete.
    assert!(ctx.wait_timeout(Duration::from_secs(5)));
    assert_eq!(ctx.err(), Some(context::Error::Canceled));
    assert_eq!(cause_of(&ctx), Some(RequestEnd::ResponseComplete));

    // Incoming id kept; grpc-timeout gives the deadline.
    let req = get(addr, "/")
        .header("x-request-id", "abc-42")
        .header("grpc-timeout", "3S");
    let (_, body) = text(client.send(&bg, req.body(empty()).unwrap()).await.unwrap()).await;
    let parts: Vec<&str> = body.split('|').collect();
    assert_eq!(parts[0], "abc-42");
    let left: u64 = parts[1].parse().unwrap();
    assert!((2_000..=3_000).contains(&left), "{left}");

    // The plain-HTTP header (a Go duration); with both, the earlier deadline wins.
    let req = get(addr, "/")
        .header("x-timeout", "1.5s")
        .header("grpc-timeout", "20S");
    let (_, body) = text(client.send(&bg, req.body(empty()).unwrap()).await.unwrap()).await;
    let left: u64 = body.split('|').nth(1).unwrap().parse().unwrap();
    assert!((500..=1_500).contains(&left), "{left}");

    // An unacceptable incoming id is replaced by a generated one.
    let req = get(addr, "/").header("x-request-id", "x".repeat(500));
    let (_, body) = text(client.send(&bg, req.body(empty()).unwrap()).await.unwrap()).await;
    assert_eq!(body.split('|').next().unwrap().len(), 32);
}

#[tokio::test]
async fn malformed_timeouts_get_a_clear_400_and_the_handler_is_not_called() {
    let (addr, seen, _stop) = start(ContextLayer::new(), Duration::ZERO).await;
    let client = gochan_http::Client::new();
    let bg = context::background();
    for (header, value, want) in [
        (
            "grpc-timeout",
            "12x",
            "invalid grpc-timeout \"12x\": unknown unit 'x'",
        ),
        ("grpc-timeout", "123456789S", "more than 8 digits"),
        ("grpc-timeout", "", "invalid grpc-timeout \"\": empty"),
        ("grpc-timeout", "-5m", "must be ASCII digits"),
        (
            "x-timeout",
            "soon",
            "invalid x-timeout: time: invalid duration \"soon\"",
        ),
        ("x-timeout", "10", "missing unit"),
        ("x-timeout", "-1s", "negative duration"),
    ] {
        let req = get(addr, "/").header(header, value).body(empty()).unwrap();
        let (status, body) = text(client.send(&bg, req).await.unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{header}: {value:?}");
        assert!(body.contains(want), "{header}: {value:?} -> {body}");
    }
    // Non-UTF-8 bytes in the header: still a 400, never a panic.
    let req = get(addr, "/")
        .header(
            "grpc-timeout",
            http::HeaderValue::from_bytes(b"1\xffS").unwrap(),
        )
        .body(empty())
        .unwrap();
    assert_eq!(
        client.send(&bg, req).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert!(seen.try_recv().is_err(), "the handler must not run");
    // The server is still serving.
    let req = get(addr, "/")
        .header("grpc-timeout", "5S")
        .body(empty())
        .unwrap();
    assert_eq!(
        client.send(&bg, req).await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn max_timeout_caps_and_defaults_the_deadline() {
    let layer = ContextLayer::new().max_timeout(Duration::from_millis(800));
    let (addr, _seen, _stop) = start(layer, Duration::ZERO).await;
    let client = gochan_http::Client::new();
    let bg = context::background();
    for req in [get(addr, "/"), get(addr, "/").header("grpc-timeout", "1H")] {
        let (_, body) = text(client.send(&bg, req.body(empty()).unwrap()).await.unwrap()).await;
        let left: u64 = body.split('|').nth(1).unwrap().parse().unwrap();
        assert!(left <= 800, "{left}");
    }
}

#[tokio::test]
async fn a_client_that_disconnects_cancels_the_handlers_context() {
    let (addr, seen, _stop) = start(ContextLayer::new(), Duration::from_secs(30)).await;
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    sock.write_all(b"GET /slow HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let ctx = tokio::task::spawn_blocking(move || seen.recv().unwrap())
        .await
        .unwrap();
    assert!(ctx.err().is_none());
    let t = Instant::now();
    drop(sock);
    let c = ctx.clone();
    let ended = tokio::task::spawn_blocking(move || c.wait_timeout(Duration::from_secs(5)))
        .await
        .unwrap();
    assert!(ended, "the handler's context outlived its client");
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(ctx.err(), Some(context::Error::Canceled));
    assert_eq!(cause_of(&ctx), Some(RequestEnd::ClientDisconnected));
}

#[tokio::test]
async fn cancelling_a_call_drops_it_and_cancels_the_callee() {
    let (addr, seen, _stop) = start(ContextLayer::new(), Duration::from_secs(30)).await;
    let (ctx, cancel) = context::with_cancel(&context::background());
    let client = gochan_http::Client::new();
    let call = tokio::spawn(async move {
        let req = get(addr, "/slow").body(empty()).unwrap();
        client.send(&ctx, req).await
    });
    let callee = tokio::task::spawn_blocking(move || seen.recv().unwrap())
        .await
        .unwrap();
    cancel.cancel();
    let err = tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .expect("send outlived its context")
        .unwrap()
        .unwrap_err();
    assert_eq!(err.context_error(), Some(context::Error::Canceled));
    assert!(!err.is_timeout());
    let c = callee.clone();
    assert!(
        tokio::task::spawn_blocking(move || c.wait_timeout(Duration::from_secs(5)))
            .await
            .unwrap()
    );
    assert_eq!(cause_of(&callee), Some(RequestEnd::ClientDisconnected));
}

#[tokio::test]
async fn an_ended_context_sends_nothing() {
    let (addr, seen, _stop) = start(ContextLayer::new(), Duration::ZERO).await;
    let client = gochan_http::Client::new();
    let (ctx, cancel) = context::with_cancel(&context::background());
    cancel.cancel();
    let err = client
        .send(&ctx, get(addr, "/").body(empty()).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.context_error(), Some(context::Error::Canceled));
    let (ctx, _c) = context::with_timeout(&context::background(), Duration::ZERO);
    let err = client
        .send(&ctx, get(addr, "/").body(empty()).unwrap())
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(err.to_string(), "context deadline exceeded");
    assert!(seen.try_recv().is_err());
}

#[tokio::test]
async fn the_response_body_is_bounded_by_the_context() {
    // A handler that streams one chunk, then nothing for 30 s.
    let (shutdown, _stop) = context::with_cancel(&context::background());
    let handler = gochan_http::service_fn(|_req: Request<Incoming>| async {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, Infallible>>(1);
        tokio::spawn(async move {
            tx.send(Ok(Frame::data(Bytes::from("first")))).await.ok();
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(tx);
        });
        let stream = futures_stream(rx);
        Ok::<_, Infallible>(Response::new(StreamBody::new(stream)))
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let svc = ContextLayer::new().layer(handler);
    tokio::spawn(async move { gochan_http::serve(listener, &shutdown, svc).await });

    let (ctx, _c) = context::with_timeout(&context::background(), Duration::from_millis(300));
    let resp = gochan_http::send(&ctx, get(addr, "/").body(empty()).unwrap())
        .await
        .unwrap();
    let t = Instant::now();
    let err = resp.into_body().collect().await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(t.elapsed() < Duration::from_secs(5));
}

/// A `Stream` over a tokio mpsc receiver (no tokio-stream dependency).
fn futures_stream<T>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures_core::Stream<Item = T> + Send + 'static
where
    T: Send + 'static,
{
    PollFnStream(move |cx: &mut std::task::Context<'_>| rx.poll_recv(cx))
}

struct PollFnStream<F>(F);
impl<F: Unpin, T> futures_core::Stream for PollFnStream<F>
where
    F: FnMut(&mut std::task::Context<'_>) -> std::task::Poll<Option<T>>,
{
    type Item = T;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<T>> {
        (self.0)(cx)
    }
}

#[tokio::test]
async fn request_id_and_deadline_propagate_through_two_hops() {
    // hop 2: the backend reports what it received.
    let (backend, backend_seen, _s2) = start(ContextLayer::new(), Duration::ZERO).await;
    // hop 1: a front end that calls the backend under its request's context.
    let (shutdown, _stop) = context::with_cancel(&context::background());
    let client = gochan_http::Client::new();
    let front_seen = Arc::new(AtomicUsize::new(0));
    let fs = front_seen.clone();
    let handler = gochan_http::service_fn(move |req: Request<Incoming>| {
        let client = client.clone();
        let fs = fs.clone();
        async move {
            let ctx = gochan_http::context(&req);
            fs.fetch_add(1, Ordering::SeqCst);
            let out = client
                .send(&ctx, get(backend, "/").body(empty()).unwrap())
                .await;
            let body = match out {
                Ok(resp) => resp.into_body().collect().await.map_or_else(
                    |e| e.to_string(),
                    |b| String::from_utf8_lossy(&b.to_bytes()).into_owned(),
                ),
                Err(e) => e.to_string(),
            };
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let front = listener.local_addr().unwrap();
    let svc = ContextLayer::new().parent(&shutdown).layer(handler);
    tokio::spawn(async move { gochan_http::serve(listener, &shutdown, svc).await });

    // The caller gives 2 s and an id; the backend sees the same id and at most 2 s.
    let (ctx, _c) = context::with_timeout(&context::background(), Duration::from_secs(2));
    let ctx = context::with_value(&ctx, gochan_http::RequestId::new("trace-7"));
    let t0 = Instant::now();
    let resp = gochan_http::send(&ctx, get(front, "/").body(empty()).unwrap())
        .await
        .unwrap();
    let (_, body) = text(resp).await;
    let parts: Vec<&str> = body.split('|').collect();
    assert_eq!(parts[0], "trace-7", "{body}");
    let left: u128 = parts[1].parse().unwrap();
    assert!(
        left <= 2_000 && left + t0.elapsed().as_millis() + 200 >= 2_000,
        "{left}"
    );
    assert_eq!(front_seen.load(Ordering::SeqCst), 1);
    let backend_ctx = backend_seen.recv().unwrap();
    assert_eq!(gochan_http::request_id(&backend_ctx), Some("trace-7"));
    // grpc-timeout is relative: each hop's deadline is later by the transit time of the
    // call (microseconds on loopback), never by more than that.
    let late = backend_ctx
        .deadline()
        .unwrap()
        .saturating_duration_since(ctx.deadline().unwrap());
    assert!(late < Duration::from_millis(100), "{late:?}");
}

#[tokio::test]
async fn shutdown_cancels_requests_in_flight_and_serve_returns() {
    let (shutdown, stop) = context::with_cancel(&context::background());
    let (tx, seen) = gochan::unbounded::<Context>();
    let handler = gochan_http::service_fn(move |req: Request<Incoming>| {
        let tx = tx.clone();
        async move {
            let ctx = gochan_http::context(&req);
            tx.send(ctx.clone()).unwrap();
            ctx.cancelled().await;
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("bye"))))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let svc = ContextLayer::new().parent(&shutdown).layer(handler);
    let server = tokio::spawn(async move { gochan_http::serve(listener, &shutdown, svc).await });
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    sock.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let ctx = tokio::task::spawn_blocking(move || seen.recv().unwrap())
        .await
        .unwrap();
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("serve did not return after shutdown")
        .unwrap()
        .unwrap();
    assert_eq!(ctx.err(), Some(context::Error::Canceled));
    let mut buf = Vec::new();
    sock.read_to_end(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf).ends_with("bye"));
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still accepting"
    );
}

/// Go: "For incoming server requests, the context is canceled when ... the request is
/// canceled (with HTTP/2)". One stream is reset; the connection and its other streams live.
#[tokio::test]
async fn an_http2_stream_reset_cancels_only_that_request() {
    let (addr, seen, _stop) = start(ContextLayer::new(), Duration::from_secs(30)).await;
    let io = hyper_util::rt::TokioIo::new(tokio::net::TcpStream::connect(addr).await.unwrap());
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), io)
            .await
            .unwrap();
    tokio::spawn(conn);
    let doomed = sender.send_request(get(addr, "/a").body(empty()).unwrap());
    let doomed = tokio::spawn(doomed);
    let kept = tokio::spawn(sender.send_request(get(addr, "/b").body(empty()).unwrap()));
    let (first, second) =
        tokio::task::spawn_blocking(move || (seen.recv().unwrap(), seen.recv().unwrap()))
            .await
            .unwrap();
    doomed.abort(); // drops the response future: hyper resets the stream
    let t = Instant::now();
    while first.err().is_none() && second.err().is_none() && t.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (reset, live) = if first.err().is_some() {
        (first, second)
    } else {
        (second, first)
    };
    assert_eq!(cause_of(&reset), Some(RequestEnd::ClientDisconnected));
    assert!(
        live.err().is_none(),
        "the other stream's request was cancelled too"
    );
    kept.abort();
    tokio::time::timeout(Duration::from_secs(5), live.cancelled())
        .await
        .expect("the second reset did not cancel its request");
}

/// grpc-go answers a malformed grpc-timeout with a trailers-only INTERNAL status (HTTP 400,
/// `grpc-message` in `decodeTimeout`'s words); the layer does the same for gRPC requests
/// (and the handler is not called).
#[tokio::test]
async fn a_malformed_grpc_timeout_on_a_grpc_request_is_a_grpc_error() {
    let (addr, seen, _stop) = start(ContextLayer::new(), Duration::ZERO).await;
    for (header, value, want) in [
        (
            "grpc-timeout",
            http::HeaderValue::from_static("1000000000S"),
            r#"malformed grpc-timeout: transport: timeout string is too long: "1000000000S""#,
        ),
        (
            "grpc-timeout",
            http::HeaderValue::from_static("10x"),
            r#"malformed grpc-timeout: transport: timeout unit is not recognized: "10x""#,
        ),
        // Not visible ASCII: Go's %q keeps the digit, the message percent-encodes it.
        (
            "grpc-timeout",
            http::HeaderValue::from_bytes("٣S".as_bytes()).unwrap(),
            r#"malformed grpc-timeout: strconv.ParseUint: parsing "%D9%A3": invalid syntax"#,
        ),
        // The plain-HTTP timeout header is not grpc-go's: its own reason.
        (
            "x-timeout",
            http::HeaderValue::from_static("soon"),
            r#"invalid x-timeout: time: invalid duration "soon""#,
        ),
    ] {
        let req = Request::post(format!("http://{addr}/pkg.Svc/Method"))
            .header("content-type", "application/grpc+proto")
            .header(header, value)
            .body(empty())
            .unwrap();
        let resp = gochan_http::send(&context::background(), req)
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{want}");
        assert_eq!(resp.headers()["content-type"], "application/grpc");
        assert_eq!(resp.headers()["grpc-status"], "13");
        assert_eq!(resp.headers()["grpc-message"], want);
    }
    assert!(seen.try_recv().is_err());
}

#[tokio::test]
async fn a_read_after_the_context_ended_keeps_failing_and_never_panics() {
    let (addr, _seen, _stop) = start(ContextLayer::new(), Duration::ZERO).await;
    let (ctx, cancel) = context::with_cancel(&context::background());
    let resp = gochan_http::send(&ctx, get(addr, "/").body(empty()).unwrap())
        .await
        .unwrap();
    cancel.cancel();
    let mut body = resp.into_body();
    for _ in 0..3 {
        let frame = body.frame().await.expect("an error frame");
        assert_eq!(
            frame.unwrap_err().context_error(),
            Some(context::Error::Canceled)
        );
    }
}

#[tokio::test]
async fn plain_timeout_headers_in_microseconds_are_understood_both_ways() {
    let (addr, _seen, _stop) = start(ContextLayer::new(), Duration::ZERO).await;
    let bg = context::background();
    // Go writes `µs` (UTF-8); the layer accepts it as Go's ParseDuration does.
    let req = get(addr, "/")
        .header(
            "x-timeout",
            http::HeaderValue::from_bytes("900µs".as_bytes()).unwrap(),
        )
        .body(empty())
        .unwrap();
    assert_eq!(
        gochan_http::send(&bg, req).await.unwrap().status(),
        StatusCode::OK
    );
    // The client sends what is left (never more than a smaller value already set) in ASCII.
    let client =
        gochan_http::Client::new().timeout_header(http::HeaderName::from_static("x-timeout"));
    let (ctx, _c) = context::with_timeout(&bg, Duration::from_secs(5));
    let req = get(addr, "/")
        .header("x-timeout", "700us")
        .body(empty())
        .unwrap();
    let resp = client.send(&ctx, req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn bodiless_responses_complete_the_request() {
    let (shutdown, _stop) = context::with_cancel(&context::background());
    let (tx, seen) = gochan::unbounded::<Context>();
    let handler = gochan_http::service_fn(move |req: Request<Incoming>| {
        let tx = tx.clone();
        async move {
            tx.send(gochan_http::context(&req)).unwrap();
            let mut resp = Response::new(Full::new(Bytes::from("a body HEAD never sends")));
            if req.uri().path() == "/204" {
                *resp.status_mut() = StatusCode::NO_CONTENT;
                *resp.body_mut() = Full::new(Bytes::new());
            }
            Ok::<_, Infallible>(resp)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let svc = ContextLayer::new().layer(handler);
    tokio::spawn(async move { gochan_http::serve(listener, &shutdown, svc).await });
    let bg = context::background();
    for req in [
        Request::head(format!("http://{addr}/"))
            .body(empty())
            .unwrap(),
        get(addr, "/204").body(empty()).unwrap(),
    ] {
        let resp = gochan_http::send(&bg, req).await.unwrap();
        resp.into_body().collect().await.unwrap();
        let ctx = seen.recv().unwrap();
        tokio::time::timeout(Duration::from_secs(5), ctx.cancelled())
            .await
            .unwrap();
        assert_eq!(cause_of(&ctx), Some(RequestEnd::ResponseComplete));
    }
}

#[tokio::test]
async fn a_stalled_client_cannot_hold_up_shutdown_past_the_grace_period() {
    let (shutdown, stop) = context::with_cancel(&context::background());
    let handler = gochan_http::service_fn(|_req: Request<Incoming>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("ok"))))
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let svc = ContextLayer::new().layer(handler);
    let server = tokio::spawn(async move {
        gochan_http::serve_with_grace(listener, &shutdown, Duration::from_millis(200), svc).await
    });
    // Half a request head, then silence.
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    sock.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let t = Instant::now();
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("serve waited for a stalled client")
        .unwrap()
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    drop(sock);
}

/// `X-Forwarded-For` behind trusted proxies: believed only from a trusted peer (here the
/// loopback client), and the client is the right-most hop that is not a trusted proxy
/// (MDN's rule); a spoofed left-most hop is ignored, and an untrusted peer's header is
/// not believed at all.
#[tokio::test]
async fn forwarded_for_takes_the_right_most_untrusted_hop() {
    let client = gochan_http::Client::new();
    let bg = context::background();
    let ip_for = |addr: SocketAddr, xff: &'static str| {
        let req = get(addr, "/").header("x-forwarded-for", xff);
        let client = client.clone();
        let bg = bg.clone();
        async move {
            let (_, body) = text(client.send(&bg, req.body(empty()).unwrap()).await.unwrap()).await;
            body.rsplit('|').next().unwrap().to_string()
        }
    };

    let nets = ["127.0.0.0/8", "10.0.0.0/8"].map(|n| n.parse::<gochan_http::ProxyNet>().unwrap());
    let (addr, _seen, _stop) = start(
        ContextLayer::new().trust_forwarded_for(nets),
        Duration::ZERO,
    )
    .await;
    assert_eq!(
        ip_for(addr, "6.6.6.6, 203.0.113.9, 10.1.1.1").await,
        "203.0.113.9"
    );
    assert_eq!(ip_for(addr, "10.2.2.2").await, "10.2.2.2");
    assert_eq!(ip_for(addr, "not-an-ip, 10.1.1.1").await, "127.0.0.1");

    // The peer (loopback) is not a trusted proxy here: the header is not believed.
    let nets = ["10.0.0.0/8".parse::<gochan_http::ProxyNet>().unwrap()];
    let (addr, _seen2, _stop2) = start(
        ContextLayer::new().trust_forwarded_for(nets),
        Duration::ZERO,
    )
    .await;
    assert_eq!(ip_for(addr, "203.0.113.9").await, "127.0.0.1");

    // `true`: the first hop from any peer (the old behaviour).
    let (addr, _seen3, _stop3) = start(
        ContextLayer::new().trust_forwarded_for(true),
        Duration::ZERO,
    )
    .await;
    assert_eq!(ip_for(addr, "6.6.6.6, 10.1.1.1").await, "6.6.6.6");
}
