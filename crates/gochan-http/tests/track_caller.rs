//! Misuse panics name the caller's line, not the crate's (`#[track_caller]`). Its own
//! test binary: it installs a panic hook, which is process-wide.

use std::convert::Infallible;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskCx, Wake, Waker};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use tower_layer::Layer;
use tower_service::Service;

struct Noop;
impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

/// Polls `fut` to completion (it must be ready at once), then once more, and returns the
/// panic's message, checking that it names the line of that second poll.
fn poll_twice<F: Future>(fut: F) -> String {
    let mut fut = pin!(fut);
    let waker = Waker::from(Arc::new(Noop));
    let mut cx = TaskCx::from_waker(&waker);
    assert!(fut.as_mut().poll(&mut cx).is_ready());

    let at = Arc::new(Mutex::new(None));
    let seen = at.clone();
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let loc = info.location().map(|l| (l.file().to_string(), l.line()));
        *seen.lock().unwrap() = Some((msg, loc));
    }));
    let poll_line = line!() + 1;
    let out = panic::catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(&mut cx)));
    panic::set_hook(previous);
    assert!(out.is_err(), "polled after completion without a panic");
    let (msg, loc) = at.lock().unwrap().take().expect("the panic hook ran");
    let (file, line) = loc.expect("the panic's location");
    assert!(
        file.ends_with("track_caller.rs") && line == poll_line,
        "{msg} at {file}:{line}, not at the caller's line {poll_line}"
    );
    msg
}

#[test]
fn polling_a_response_future_after_completion_panics_at_the_callers_line() {
    let handler = gochan_http::service_fn(|_req: Request<()>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
    });
    let mut svc = gochan_http::ContextLayer::new().layer(handler);

    // A handled request.
    let msg = poll_twice(svc.call(Request::new(())));
    assert_eq!(msg, "ResponseFuture polled after completion");

    // A request rejected by the layer (malformed timeout): the handler never runs.
    let bad = Request::builder()
        .header("grpc-timeout", "soon")
        .body(())
        .unwrap();
    let msg = poll_twice(svc.call(bad));
    assert_eq!(msg, "ResponseFuture polled after completion");
}
