//! Fuzz check for gochan-http's `grpc-timeout` parser/formatter and the layer's timeout
//! headers (`grpc-timeout` and the plain-HTTP `x-timeout`, whose parsing is private to
//! `ContextLayer` and so is driven through the layer).
//!
//! Shared by the `grpc_timeout` fuzz target and
//! `crates/gochan-http/tests/fuzz_regressions.rs` (included there by path, next to
//! `layer.rs`).

use std::time::Duration;

use gochan::context;
use gochan_http::grpc_timeout::{self, context_from_header, format, from_headers, parse};
use http::{HeaderMap, HeaderValue};

use crate::layer;

/// The longest timeout `grpc-timeout` can carry: 99999999 hours.
const MAX_GRPC: Duration = Duration::from_secs(grpc_timeout::MAX_VALUE * 3600);

const UNITS: [(u8, u64); 6] = [
    (b'n', 1),
    (b'u', 1_000),
    (b'm', 1_000_000),
    (b'S', 1_000_000_000),
    (b'M', 60_000_000_000),
    (b'H', 3_600_000_000_000),
];

/// The spec's grammar, written independently of the parser: 1 to 8 ASCII digits, then
/// one of `H M S m u n`.
fn spec_parse(s: &[u8]) -> Option<Duration> {
    let (&unit, digits) = s.split_last()?;
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let per = UNITS.iter().find(|(u, _)| *u == unit)?.1;
    let n: u128 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    let nanos = n * u128::from(per);
    Some(Duration::new(
        (nanos / 1_000_000_000) as u64,
        (nanos % 1_000_000_000) as u32,
    ))
}

/// Input layout: `flags, max, grpc-timeout bytes [\n x-timeout bytes]`.
/// - flags bit 0: send `grpc-timeout`; bit 1: send `x-timeout`; bit 2: content-type
///   `application/grpc`; bit 3: the layer has `max_timeout(max * 10ms)`.
///
/// Checks, none of which may panic:
/// - `parse` accepts exactly the spec's grammar (1-8 digits + unit) with the right value;
/// - `format(d)` (for `d` taken from the input's bytes) is 1-8 digits + unit in the finest
///   unit that fits, and parses back to `p` with `d <= p < d + one unit` (rounded up, never
///   shortened) — or, past 99999999H, to exactly 99999999H (the spec's ceiling);
/// - `from_headers` on any header value = `parse(trimmed)` for visible ASCII, an error
///   otherwise; `context_from_header` agrees with `parse` and sets now + timeout;
/// - `grpc_go_message` (grpc-go's `decodeTimeout` wording) rejects exactly what the spec
///   rejects;
/// - through `ContextLayer`: a malformed `grpc-timeout` or `x-timeout` is rejected (400; for
///   gRPC requests with grpc-status 13 and, for `grpc-timeout`, grpc-go's message) and a
///   well-formed pair gives the request context a deadline of now + min(grpc, x-timeout,
///   max).
pub fn check(data: &[u8]) {
    let (flags, max, rest) = match data {
        [f, m, rest @ ..] => (*f, *m, rest),
        _ => (0, 0, data),
    };
    let (grpc_bytes, x_bytes) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };

    check_parse(grpc_bytes);
    check_format(duration_from(rest));
    check_format(duration_from(data));
    check_from_headers(grpc_bytes);
    check_layer(flags, max, grpc_bytes, x_bytes);
}

fn check_parse(bytes: &[u8]) {
    let s = String::from_utf8_lossy(bytes);
    let got = parse(&s);
    let want = spec_parse(s.as_bytes());
    assert_eq!(got.clone().ok(), want, "parse({s:?}) = {got:?}");
    if let Err(e) = got {
        assert!(e.to_string().starts_with("invalid grpc-timeout "), "{e}");
    }
    // grpc-go's decodeTimeout (whose words the layer answers gRPC requests with) accepts
    // exactly the spec's grammar too.
    assert_eq!(
        grpc_timeout::grpc_go_message(bytes).is_none(),
        spec_parse(bytes).is_some(),
        "{bytes:?}"
    );
}

/// A duration from up to 12 bytes: seconds (8 bytes LE) and nanoseconds (4 bytes).
fn duration_from(b: &[u8]) -> Duration {
    let mut buf = [0u8; 12];
    let n = b.len().min(12);
    buf[..n].copy_from_slice(&b[..n]);
    let secs = u64::from_le_bytes(buf[..8].try_into().unwrap());
    // Favour small durations: shift the seconds right by the low bits of the first byte.
    let secs = secs >> (buf[0] % 64);
    let nanos = u32::from_le_bytes(buf[8..].try_into().unwrap()) % 1_000_000_000;
    Duration::new(secs, nanos)
}

fn check_format(d: Duration) {
    let text = format(d);
    let bytes = text.as_bytes();
    let (&unit, digits) = bytes.split_last().expect("format gave an empty string");
    assert!(
        (1..=8).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit),
        "format({d:?}) = {text:?}: not 1-8 digits"
    );
    let per = UNITS
        .iter()
        .find(|(u, _)| *u == unit)
        .unwrap_or_else(|| panic!("format({d:?}) = {text:?}: unknown unit"))
        .1;
    let back = parse(&text).unwrap_or_else(|e| panic!("format({d:?}) = {text:?}: {e}"));
    assert!(
        HeaderValue::from_str(&text).is_ok(),
        "{text:?}: not a header value"
    );
    if d > MAX_GRPC {
        assert_eq!(back, MAX_GRPC, "format({d:?}) = {text:?}: past the ceiling");
        return;
    }
    assert!(back >= d, "format({d:?}) = {text:?}: shortened to {back:?}");
    assert!(
        back - d < Duration::from_nanos(per),
        "format({d:?}) = {text:?}: rounded up by a whole unit or more"
    );
    if d.is_zero() {
        assert_eq!(text, "0n");
        return;
    }
    // The finest unit that fits: every finer unit needs more than 8 digits.
    for &(u, finer) in UNITS.iter().take_while(|(u, _)| *u != unit) {
        assert!(
            d.as_nanos().div_ceil(u128::from(finer)) > u128::from(grpc_timeout::MAX_VALUE),
            "format({d:?}) = {text:?}: unit {} would fit",
            u as char
        );
    }
}

fn check_from_headers(bytes: &[u8]) {
    let mut h = HeaderMap::new();
    assert_eq!(from_headers(&h), Ok(None));
    let Ok(v) = HeaderValue::from_bytes(bytes) else {
        return;
    };
    h.insert(grpc_timeout::HEADER, v.clone());
    let got = from_headers(&h);
    match v.to_str() {
        Ok(s) => {
            assert_eq!(got, parse(s.trim()).map(Some), "{s:?}");
            let before = std::time::Instant::now();
            let r = context_from_header(&context::background(), Some(s));
            let after = std::time::Instant::now();
            match (r, parse(s.trim())) {
                (Ok((ctx, _cancel)), Ok(d)) => {
                    if let (Some(dl), Some(lo), Some(hi)) =
                        (ctx.deadline(), before.checked_add(d), after.checked_add(d))
                    {
                        assert!(lo <= dl && dl <= hi, "{s:?}: deadline not now + {d:?}");
                    }
                }
                (Err(a), Err(b)) => assert_eq!(a, b),
                (a, b) => panic!("{s:?}: context_from_header {:?} vs parse {b:?}", a.is_ok()),
            }
        }
        Err(_) => assert!(got.is_err(), "{v:?}: not visible ASCII yet accepted"),
    }
}

fn check_layer(flags: u8, max: u8, grpc_bytes: &[u8], x_bytes: &[u8]) {
    let mut h = HeaderMap::new();
    let mut grpc: Result<Option<Duration>, ()> = Ok(None);
    let mut x: Result<Option<Duration>, ()> = Ok(None);
    let mut grpc_value = None;
    if flags & 1 != 0 {
        if let Ok(v) = HeaderValue::from_bytes(grpc_bytes) {
            grpc_value = Some(v.clone());
            grpc = match v.to_str() {
                Ok(s) => parse(s.trim()).map(Some).map_err(drop),
                Err(_) => Err(()),
            };
            h.insert(grpc_timeout::HEADER, v);
        }
    }
    if flags & 2 != 0 {
        if let Ok(v) = HeaderValue::from_bytes(x_bytes) {
            let s = std::str::from_utf8(v.as_bytes()).unwrap_or("\u{fffd}");
            x = gochan::time::parse_duration(s.trim())
                .map(Some)
                .map_err(drop);
            h.insert(gochan_http::TIMEOUT_HEADER, v);
        }
    }
    let is_grpc = flags & 4 != 0;
    if is_grpc {
        h.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/grpc+proto"),
        );
    }
    let max = (flags & 8 != 0).then(|| Duration::from_millis(u64::from(max) * 10));
    let out = layer::call(h, max);
    assert!(
        out.headers.contains_key("x-request-id"),
        "the response has no request id"
    );
    let (Ok(grpc_ok), Ok(x)) = (grpc, x) else {
        assert!(
            out.seen.is_none(),
            "a malformed timeout reached the service"
        );
        if is_grpc {
            // grpc-go's answer: HTTP 400, INTERNAL, and for a bad grpc-timeout its words.
            assert_eq!(out.status, http::StatusCode::BAD_REQUEST);
            assert_eq!(out.headers["grpc-status"], "13");
            let msg = out.headers["grpc-message"]
                .to_str()
                .expect("percent-encoded");
            if grpc.is_err() {
                let raw = grpc_value.expect("a grpc-timeout was sent");
                let go = grpc_timeout::grpc_go_message(raw.as_bytes())
                    .expect("grpc-go rejects what parse rejects");
                assert_eq!(msg, grpc_timeout::percent_encode_message(&go));
            } else {
                assert!(msg.starts_with("invalid x-timeout: "), "{msg}");
            }
        } else {
            assert_eq!(out.status, http::StatusCode::BAD_REQUEST);
        }
        return;
    };
    let seen = out.seen.expect("well-formed timeouts were rejected");
    assert_eq!(out.status, http::StatusCode::OK);
    let t = [grpc_ok, x, max].into_iter().flatten().min();
    match t {
        None => assert_eq!(seen.deadline, None),
        Some(t) => {
            if let (Some(lo), Some(hi)) = (out.before.checked_add(t), out.after.checked_add(t)) {
                let dl = seen.deadline.expect("a timeout but no deadline");
                assert!(lo <= dl && dl <= hi, "deadline is not now + {t:?}");
            }
        }
    }
}
