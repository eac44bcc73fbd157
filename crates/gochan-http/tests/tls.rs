//! `Client` over HTTPS (feature `tls`): a loopback TLS server with a certificate made in
//! the test (rcgen), trusted through `Client::with_tls_config`; the request's deadline and
//! id travel as over plain HTTP, an untrusted certificate is refused, and the same client
//! still speaks plain `http://`.
#![cfg(feature = "tls")]

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use gochan::context;
use gochan_http::{Client, ContextLayer};
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tower_layer::Layer;

/// A layered handler answering with the request's remaining budget (ms) and id.
macro_rules! handler {
    () => {
        ContextLayer::new().layer(gochan_http::service_fn(
            |req: Request<Incoming>| async move {
                let ctx = gochan_http::context(&req);
                let left = ctx.deadline().map_or(-1, |d| {
                    d.saturating_duration_since(std::time::Instant::now())
                        .as_millis() as i64
                });
                let id = gochan_http::request_id(&ctx).unwrap_or("-").to_string();
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(format!(
                    "{left}|{id}"
                )))))
            },
        ))
    };
}

/// Serves `handler!()` over TLS on loopback with a fresh self-signed certificate for
/// "localhost"; returns the port and the certificate (DER) to trust.
async fn https_server() -> (u16, Vec<u8>) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let der = cert.cert.der().to_vec();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into());
    let mut config = rustls::ServerConfig::builder_with_provider(
        rustls::crypto::ring::default_provider().into(),
    )
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![der.clone().into()], key)
    .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = hyper_util::service::TowerToHyperService::new(handler!());
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    (port, der)
}

fn trusting(der: Vec<u8>) -> Client {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der.into()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(
        rustls::crypto::ring::default_provider().into(),
    )
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    Client::with_tls_config(config)
}

async fn body(resp: Response<gochan_http::ResponseBody>) -> String {
    let b = resp.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(b.to_vec()).unwrap()
}

#[tokio::test]
async fn https_call_carries_deadline_and_request_id() {
    let (port, der) = https_server().await;
    let client = trusting(der);
    let (ctx, _cancel) = context::with_timeout(&context::background(), Duration::from_secs(3));
    let req = Request::get(format!("https://localhost:{port}/"))
        .header("x-request-id", "tls-1")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = client.send(&ctx, req).await.unwrap();
    let text = body(resp).await;
    let (left, id) = text.split_once('|').unwrap();
    let left: i64 = left.parse().unwrap();
    assert!((1_000..=3_000).contains(&left), "{left}");
    assert_eq!(id, "tls-1");
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused() {
    let (port, _der) = https_server().await;
    let client: Client = Client::new(); // Mozilla roots only: the test's CA is unknown
    let req = Request::get(format!("https://localhost:{port}/"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let err = client.send(&context::background(), req).await.unwrap_err();
    assert!(err.context_error().is_none(), "{err}");
}

#[tokio::test]
async fn the_tls_client_still_speaks_plain_http() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (shutdown, _stop) = context::with_cancel(&context::background());
    tokio::spawn(async move { gochan_http::serve(listener, &shutdown, handler!()).await });
    let req = Request::get(format!("http://{addr}/"))
        .header("x-request-id", "plain-1")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let text = body(
        Client::new()
            .send(&context::background(), req)
            .await
            .unwrap(),
    )
    .await;
    assert!(text.ends_with("|plain-1"), "{text}");
}
