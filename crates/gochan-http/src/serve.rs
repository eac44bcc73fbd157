//! A minimal accept loop: HTTP/1 and HTTP/2 (hyper-util's `auto` builder) over tokio,
//! the peer address recorded per request ([`RemoteAddr`]), graceful shutdown when a
//! context ends. Use your own loop (or axum's) for anything fancier: the layer does not
//! depend on this one.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::task::{Context as TaskCx, Poll};
use std::time::Duration;

use gochan::context::Context;
use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower_service::Service;

use crate::values::RemoteAddr;

type BoxError = Box<dyn StdError + Send + Sync>;

/// Serves `service` on `listener` until `shutdown` ends, then stops accepting, lets the
/// connections finish their requests in flight (idle keep-alive connections are closed)
/// and returns. Give the [`ContextLayer`](crate::ContextLayer) the same context as its
/// [`parent`](crate::ContextLayer::parent) so that requests in flight are cancelled too.
///
/// Must run inside a tokio runtime (it spawns one task per connection). Accept errors
/// (out of file descriptors, a connection reset before accept) are retried after a short
/// pause, as Go's `Server.Serve` does.
///
/// # Errors
/// None today: the `io::Result` leaves room for listener errors that cannot be retried.
pub async fn serve<S, B>(listener: TcpListener, shutdown: &Context, service: S) -> io::Result<()>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let graceful = GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    loop {
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let svc = TowerToHyperService::new(WithRemoteAddr {
            inner: service.clone(),
            addr: peer,
        });
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), svc)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // A connection error (client reset, bad request) ends only that connection.
            let _ = conn.await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Inserts the connection's [`RemoteAddr`] into each request.
#[derive(Clone)]
struct WithRemoteAddr<S> {
    inner: S,
    addr: SocketAddr,
}

impl<S, B> Service<Request<B>> for WithRemoteAddr<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut TaskCx<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> S::Future {
        req.extensions_mut().insert(RemoteAddr(self.addr));
        self.inner.call(req)
    }
}

/// A tower service from an async closure (what `tower::service_fn` does, without the
/// dependency). The closure is cloned per connection by [`serve`].
///
/// ```
/// use std::convert::Infallible;
/// let svc = gochan_http::service_fn(|_req: http::Request<()>| async {
///     Ok::<_, Infallible>(http::Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
/// });
/// # let _ = svc;
/// ```
pub fn service_fn<F>(f: F) -> ServiceFn<F> {
    ServiceFn { f }
}

/// The service made by [`service_fn`].
#[derive(Clone, Copy)]
pub struct ServiceFn<F> {
    f: F,
}

impl<F> fmt::Debug for ServiceFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceFn").finish_non_exhaustive()
    }
}

impl<F, Fut, Req, Resp, E> Service<Req> for ServiceFn<F>
where
    F: FnMut(Req) -> Fut,
    Fut: Future<Output = Result<Resp, E>>,
{
    type Response = Resp;
    type Error = E;
    type Future = Fut;

    fn poll_ready(&mut self, _cx: &mut TaskCx<'_>) -> Poll<Result<(), E>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Req) -> Fut {
        (self.f)(req)
    }
}
