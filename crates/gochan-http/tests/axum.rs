//! The layer under axum (which runs on hyper/tower): handlers take the request context with
//! axum's own `Extension` extractor, and everything the layer promises holds, served by
//! `axum::serve` or by `gochan_http::serve` (which also records the client IP).

use std::time::{Duration, Instant};

use axum::extract::Extension;
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use gochan::context::{self, Context};
use gochan_http::{ContextLayer, RequestEnd};
use http_body_util::{BodyExt, Full};

async fn whoami(Extension(ctx): Extension<Context>) -> String {
    let left = ctx.deadline().map_or("none".to_string(), |d| {
        d.saturating_duration_since(Instant::now())
            .as_millis()
            .to_string()
    });
    format!(
        "{}|{}|{}",
        gochan_http::request_id(&ctx).unwrap_or("-"),
        left,
        gochan_http::client_ip(&ctx).map_or("-".into(), |ip| ip.to_string())
    )
}

/// Waits for the request's context to end and reports why.
async fn slow(
    Extension(ctx): Extension<Context>,
    Extension(tx): Extension<gochan::Sender<Context>>,
) -> &'static str {
    tx.send(ctx.clone()).unwrap();
    ctx.cancelled().await;
    "never seen by the client"
}

async fn call(url: String, headers: &[(&str, &str)]) -> (http::StatusCode, String) {
    let mut req = http::Request::get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = gochan_http::send(
        &context::background(),
        req.body(Full::new(Bytes::new())).unwrap(),
    )
    .await
    .unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn axum_handlers_get_the_request_context() {
    let (tx, seen) = gochan::unbounded::<Context>();
    let app = Router::new()
        .route("/", get(whoami))
        .route("/slow", get(slow))
        .layer(Extension(tx))
        .layer(ContextLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let (status, body) = call(
        format!("http://{addr}/"),
        &[("x-request-id", "ax-1"), ("x-timeout", "2s")],
    )
    .await;
    assert_eq!(status, 200);
    let parts: Vec<&str> = body.split('|').collect();
    assert_eq!(parts[0], "ax-1");
    let left: u64 = parts[1].parse().unwrap();
    assert!((1_000..=2_000).contains(&left), "{left}");
    // Plain axum::serve records no peer address at all.
    assert_eq!(parts[2], "-");

    // Bad deadline header: the layer answers before axum routes.
    let (status, body) = call(format!("http://{addr}/"), &[("grpc-timeout", "soon")]).await;
    assert_eq!(status, 400);
    assert!(body.starts_with("invalid grpc-timeout"), "{body}");

    // A client that goes away cancels the handler's context.
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut sock, b"GET /slow HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let ctx = tokio::task::spawn_blocking(move || seen.recv().unwrap())
        .await
        .unwrap();
    drop(sock);
    tokio::time::timeout(Duration::from_secs(5), ctx.cancelled())
        .await
        .expect("context outlived its client");
    let why = context::cause(&ctx).and_then(|c| c.downcast_ref::<RequestEnd>().copied());
    assert_eq!(why, Some(RequestEnd::ClientDisconnected));
}

#[tokio::test]
async fn an_axum_router_served_by_gochan_http_knows_the_client_ip() {
    let (shutdown, _stop) = context::with_cancel(&context::background());
    let app = Router::new()
        .route("/", get(whoami))
        .layer(ContextLayer::new().parent(&shutdown));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { gochan_http::serve(listener, &shutdown, app).await });
    let (status, body) = call(format!("http://{addr}/"), &[]).await;
    assert_eq!(status, 200);
    assert!(body.ends_with("|none|127.0.0.1"), "{body}");
}

/// With the `axum` feature the layer reads axum's `ConnectInfo<SocketAddr>`.
#[cfg(feature = "axum")]
#[tokio::test]
async fn axum_connect_info_gives_the_client_ip() {
    let app = Router::new()
        .route("/", get(whoami))
        .layer(ContextLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let make = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, make).await });
    let (status, body) = call(format!("http://{addr}/"), &[]).await;
    assert_eq!(status, 200);
    assert!(body.ends_with("|none|127.0.0.1"), "{body}");
}
