//! The request-scoped values the [`ContextLayer`](crate::ContextLayer) puts in each
//! request's context, as typed keys (Go's unexported-key-type pattern: only this crate's
//! types can be found, nobody can collide with them):
//! [`RequestId`] and [`ClientIp`]. Read them with [`request_id`] and [`client_ip`].

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use gochan::context::Context;
use http::HeaderValue;

/// The default header carrying a request id, in and out.
///
/// ```
/// use std::convert::Infallible;
/// use tower_layer::Layer;
/// use tower_service::Service;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let handler = gochan_http::service_fn(|req: http::Request<()>| async move {
///     let id = gochan_http::request_id(&gochan_http::context(&req)).unwrap().to_owned();
///     assert_eq!(id, "trace-7");
///     Ok::<_, Infallible>(http::Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
/// });
/// let mut svc = gochan_http::ContextLayer::new().layer(handler);
/// let req = http::Request::builder()
///     .header(gochan_http::REQUEST_ID_HEADER, "trace-7")
///     .body(())
///     .unwrap();
/// let resp = svc.call(req).await.unwrap();
/// assert_eq!(resp.headers()[gochan_http::REQUEST_ID_HEADER], "trace-7");
/// # }
/// ```
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The longest incoming request id kept as is; a longer (or non-printable) one is replaced
/// by a generated id.
///
/// ```
/// use http::HeaderValue;
/// use gochan_http::{RequestId, MAX_REQUEST_ID_LEN};
/// let longest = HeaderValue::from_str(&"a".repeat(MAX_REQUEST_ID_LEN)).unwrap();
/// let too_long = HeaderValue::from_str(&"a".repeat(MAX_REQUEST_ID_LEN + 1)).unwrap();
/// assert!(RequestId::from_header(&longest).is_some());
/// assert!(RequestId::from_header(&too_long).is_none());
/// ```
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// A request's id: the incoming `X-Request-ID` when it is a sane value (1 to
/// [`MAX_REQUEST_ID_LEN`] printable ASCII characters), otherwise a generated one (32 hex
/// digits, 128 random bits).
///
/// ```
/// use gochan::context;
/// use gochan_http::RequestId;
/// let ctx = context::with_value(&context::background(), RequestId::new("abc-123"));
/// assert_eq!(gochan_http::request_id(&ctx), Some("abc-123"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RequestId(String);

impl RequestId {
    /// A request id with this exact text (no validation: use [`RequestId::from_header`] for
    /// untrusted input).
    ///
    /// ```
    /// use gochan::context;
    /// use gochan_http::RequestId;
    /// // A job started outside any request, giving its outgoing calls an id of its own.
    /// let ctx = context::with_value(&context::background(), RequestId::new("nightly-reindex"));
    /// assert_eq!(gochan_http::request_id(&ctx), Some("nightly-reindex"));
    /// ```
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// A fresh random id: 32 lowercase hex digits.
    ///
    /// ```
    /// let id = gochan_http::RequestId::generate();
    /// assert_eq!(id.as_str().len(), 32);
    /// assert_ne!(id, gochan_http::RequestId::generate());
    /// ```
    pub fn generate() -> Self {
        Self(format!("{:032x}", fastrand::u128(..)))
    }

    /// The id carried by an incoming header value, if it is acceptable (1 to
    /// [`MAX_REQUEST_ID_LEN`] bytes of printable ASCII, no spaces).
    ///
    /// ```
    /// use http::HeaderValue;
    /// use gochan_http::RequestId;
    /// assert!(RequestId::from_header(&HeaderValue::from_static("req-7")).is_some());
    /// assert!(RequestId::from_header(&HeaderValue::from_static("has space")).is_none());
    /// ```
    pub fn from_header(value: &HeaderValue) -> Option<Self> {
        let b = value.as_bytes();
        let ok = !b.is_empty()
            && b.len() <= MAX_REQUEST_ID_LEN
            && b.iter().all(|c| (0x21..=0x7e).contains(c));
        // All bytes are ASCII, so this cannot fail.
        ok.then(|| Self(String::from_utf8_lossy(b).into_owned()))
    }

    /// The id's text.
    ///
    /// ```
    /// let id = gochan_http::RequestId::new("req-9");
    /// assert_eq!(id.as_str(), "req-9");
    /// assert_eq!(id.to_string(), "req-9"); // Display prints the same text
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The IP address of the client that made the request (the `userip` package of the Go
/// blog's "Go Concurrency Patterns: Context"): the peer of the connection ([`RemoteAddr`] from [`serve`](crate::serve), the layer's
/// [`peer`](crate::ContextLayer::peer), or with the `axum` feature axum's
/// `ConnectInfo<SocketAddr>`), or the first `X-Forwarded-For` address when the layer is
/// told to trust a proxy in front of it.
///
/// ```
/// use gochan::context;
/// use gochan_http::ClientIp;
/// let ctx = context::with_value(&context::background(), ClientIp("10.1.2.3".parse().unwrap()));
/// assert_eq!(gochan_http::client_ip(&ctx), Some("10.1.2.3".parse().unwrap()));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

impl fmt::Display for ClientIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The connection's peer address, as a request extension. [`serve`](crate::serve) inserts
/// it into every request; the layer turns it into the context's [`ClientIp`]. With your own
/// accept loop, insert it yourself or configure the layer per connection with
/// [`ContextLayer::peer`](crate::ContextLayer::peer).
///
/// ```
/// use std::convert::Infallible;
/// use tower_layer::Layer;
/// use tower_service::Service;
/// use gochan_http::RemoteAddr;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let handler = gochan_http::service_fn(|req: http::Request<()>| async move {
///     let ip = gochan_http::client_ip(&gochan_http::context(&req));
///     assert_eq!(ip, Some("198.51.100.4".parse().unwrap()));
///     Ok::<_, Infallible>(http::Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
/// });
/// let mut svc = gochan_http::ContextLayer::new().layer(handler);
/// // What an accept loop does with the address `accept()` returned:
/// let mut req = http::Request::new(());
/// req.extensions_mut().insert(RemoteAddr("198.51.100.4:61000".parse().unwrap()));
/// svc.call(req).await.unwrap();
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RemoteAddr(pub SocketAddr);

/// The request id in `ctx`, if the request came through the layer (or one was added).
///
/// ```
/// assert_eq!(gochan_http::request_id(&gochan::context::background()), None);
/// ```
pub fn request_id(ctx: &Context) -> Option<&str> {
    ctx.value::<RequestId>().map(RequestId::as_str)
}

/// The client IP in `ctx`, if known.
///
/// ```
/// assert_eq!(gochan_http::client_ip(&gochan::context::background()), None);
/// ```
pub fn client_ip(ctx: &Context) -> Option<IpAddr> {
    ctx.value::<ClientIp>().map(|ip| ip.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_validated() {
        let long = "a".repeat(MAX_REQUEST_ID_LEN + 1);
        for bad in ["", "a b", "tab\there", long.as_str()] {
            if let Ok(v) = HeaderValue::from_str(bad) {
                assert!(RequestId::from_header(&v).is_none(), "{bad:?}");
            }
        }
        let v = HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap();
        assert!(RequestId::from_header(&v).is_none());
        let max = "z".repeat(MAX_REQUEST_ID_LEN);
        let v = HeaderValue::from_str(&max).unwrap();
        assert_eq!(RequestId::from_header(&v).unwrap().as_str(), max);
    }

    #[test]
    fn generated_ids_are_hex_and_distinct() {
        let a = RequestId::generate();
        assert!(a.as_str().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, RequestId::generate());
    }
}
