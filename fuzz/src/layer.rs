//! Drives one request through `gochan_http::ContextLayer` without a server or runtime:
//! the inner service answers at once, so one poll completes the layer's future. Used by
//! the `grpc_timeout` (the `x-timeout` path, private to the layer) and `request_id` checks.

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskCx, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use gochan_http::ContextLayer;
use http::{HeaderMap, Request, Response};
use http_body_util::Full;
use tower_layer::Layer;
use tower_service::Service;

/// What the inner service saw of the request context.
#[derive(Debug, Clone)]
pub struct Seen {
    pub deadline: Option<Instant>,
    pub request_id: Option<String>,
}

/// The outcome of one request through the layer.
#[derive(Debug)]
pub struct Outcome {
    /// `Some` when the request reached the inner service (not rejected).
    pub seen: Option<Seen>,
    /// The response's status and headers.
    pub status: http::StatusCode,
    pub headers: HeaderMap,
    /// `Instant::now()` just before and just after the call.
    pub before: Instant,
    pub after: Instant,
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Option<Seen>>>);

impl Service<Request<Full<Bytes>>> for Capture {
    type Response = Response<Full<Bytes>>;
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _: &mut TaskCx<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Full<Bytes>>) -> Self::Future {
        let ctx = gochan_http::context(&req);
        *self.0.lock().unwrap() = Some(Seen {
            deadline: ctx.deadline(),
            request_id: gochan_http::request_id(&ctx).map(str::to_string),
        });
        std::future::ready(Ok(Response::new(Full::new(Bytes::new()))))
    }
}

struct Noop;

impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

/// Sends a request with `headers` through `ContextLayer::new()` (with `max_timeout` when
/// given) and returns what happened.
pub fn call(headers: HeaderMap, max_timeout: Option<Duration>) -> Outcome {
    let mut layer = ContextLayer::new();
    if let Some(max) = max_timeout {
        layer = layer.max_timeout(max);
    }
    let capture = Capture::default();
    let mut svc = layer.layer(capture.clone());
    let mut req = Request::new(Full::new(Bytes::new()));
    *req.headers_mut() = headers;
    let waker = Waker::from(Arc::new(Noop));
    let mut cx = TaskCx::from_waker(&waker);
    let before = Instant::now();
    let fut = svc.call(req);
    let after = Instant::now();
    let mut fut = pin!(fut);
    let resp = match fut.as_mut().poll(&mut cx) {
        Poll::Ready(Ok(resp)) => resp,
        Poll::Ready(Err(e)) => match e {},
        Poll::Pending => panic!("the layer's future is pending over a ready service"),
    };
    let seen = capture.0.lock().unwrap().take();
    Outcome {
        seen,
        status: resp.status(),
        headers: resp.headers().clone(),
        before,
        after,
    }
}
