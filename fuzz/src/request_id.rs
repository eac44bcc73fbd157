//! Fuzz check for gochan-http's request-id validation (`RequestId::from_header`, and the
//! layer that uses it).
//!
//! Shared by the `request_id` fuzz target and
//! `crates/gochan-http/tests/fuzz_regressions.rs` (included there by path, next to
//! `layer.rs`).

use gochan_http::{RequestId, MAX_REQUEST_ID_LEN, REQUEST_ID_HEADER};
use http::{HeaderMap, HeaderValue};

use crate::layer;

/// The acceptance rule, written independently: 1 to 128 bytes, each visible ASCII
/// (`0x21..=0x7e`: no space, no control, nothing non-ASCII).
fn acceptable(b: &[u8]) -> bool {
    (1..=128).contains(&b.len()) && b.iter().all(|c| c.is_ascii_graphic())
}

fn generated(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

/// Any bytes as an incoming `x-request-id` (when `http` accepts them as a header value):
/// - `RequestId::from_header` keeps exactly the acceptable ids, byte for byte, and
///   rejects everything else (never panics);
/// - through `ContextLayer`, the request context's id is the incoming one when acceptable,
///   otherwise a generated one (32 lowercase hex digits), and the response echoes the
///   context's id in `x-request-id`. Without the header, an id is generated too.
pub fn check(data: &[u8]) {
    assert_eq!(MAX_REQUEST_ID_LEN, 128);
    let Ok(v) = HeaderValue::from_bytes(data) else {
        // Not a header value at all (CR, LF, NUL, ...): the layer never sees it.
        if data.len() <= 1 {
            check_layer(None);
        }
        return;
    };
    let ok = acceptable(data);
    match RequestId::from_header(&v) {
        Some(id) => {
            assert!(ok, "{data:?}: accepted");
            assert_eq!(id.as_str().as_bytes(), data, "the id was altered");
            assert_eq!(id.to_string(), id.as_str());
        }
        None => assert!(!ok, "{data:?}: rejected"),
    }
    check_layer(Some(v));
}

fn check_layer(v: Option<HeaderValue>) {
    let mut h = HeaderMap::new();
    let incoming = v.as_ref().map(|v| v.as_bytes().to_vec());
    if let Some(v) = v {
        h.insert(REQUEST_ID_HEADER, v);
    }
    let out = layer::call(h, None);
    let seen = out.seen.expect("no timeout header, yet rejected");
    let id = seen.request_id.expect("the context has no request id");
    match incoming {
        Some(b) if acceptable(&b) => assert_eq!(id.as_bytes(), &b[..], "the id was replaced"),
        _ => assert!(generated(&id), "{id:?}: not a generated id"),
    }
    assert_eq!(
        out.headers
            .get(REQUEST_ID_HEADER)
            .map(HeaderValue::as_bytes),
        Some(id.as_bytes()),
        "the response does not echo the context's id"
    );
}
