//! The gRPC `grpc-timeout` header (gRPC over HTTP/2 spec): `TimeoutValue TimeoutUnit`,
//! where the value is an ASCII positive integer of at most 8 digits and the unit one of
//! `H` (hours), `M` (minutes), `S` (seconds), `m` (milliseconds), `u` (microseconds),
//! `n` (nanoseconds). Usable from any stack (hyper, tonic, ...): it works on `&str`.

use std::fmt;
use std::time::{Duration, Instant};

use gochan::context::{self, CancelFunc, Context};

/// The header's name.
///
/// ```
/// use std::time::Duration;
/// let mut headers = http::HeaderMap::new();
/// headers.insert(gochan_http::grpc_timeout::HEADER, http::HeaderValue::from_static("5S"));
/// assert_eq!(gochan_http::grpc_timeout::from_headers(&headers), Ok(Some(Duration::from_secs(5))));
/// ```
pub const HEADER: &str = "grpc-timeout";

/// The largest value the spec allows (8 digits).
///
/// ```
/// use gochan_http::grpc_timeout::{format, parse, MAX_VALUE};
/// // The longest timeout the header can say, about 11,400 years:
/// let longest = parse(&format!("{MAX_VALUE}H")).unwrap();
/// assert!(parse(&format!("{}H", MAX_VALUE + 1)).is_err());
/// // Longer durations are sent as that much, never more.
/// assert_eq!(format(longest * 2), format!("{MAX_VALUE}H"));
/// ```
pub const MAX_VALUE: u64 = 99_999_999;

/// A malformed `grpc-timeout` value, with the reason.
///
/// ```
/// let err = gochan_http::grpc_timeout::parse("12x").unwrap_err();
/// assert_eq!(err.to_string(), "invalid grpc-timeout \"12x\": unknown unit 'x' (expected H, M, S, m, u or n)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    value: String,
    reason: &'static str,
    unit: Option<char>,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid grpc-timeout {:?}: ", self.value)?;
        match self.unit {
            Some(u) => write!(f, "unknown unit '{u}' (expected H, M, S, m, u or n)"),
            None => f.write_str(self.reason),
        }
    }
}

impl std::error::Error for ParseError {}

fn err(value: &str, reason: &'static str) -> ParseError {
    ParseError {
        value: value.to_string(),
        reason,
        unit: None,
    }
}

/// Parses a `grpc-timeout` value into a duration.
///
/// # Errors
/// Empty, no unit, an unknown unit, a value that is not ASCII digits, or more than 8
/// digits.
///
/// ```
/// use std::time::Duration;
/// use gochan_http::grpc_timeout::parse;
/// assert_eq!(parse("100m"), Ok(Duration::from_millis(100)));
/// assert_eq!(parse("2H"), Ok(Duration::from_secs(7200)));
/// assert!(parse("123456789S").is_err()); // 9 digits
/// ```
pub fn parse(value: &str) -> Result<Duration, ParseError> {
    let mut chars = value.chars();
    let Some(unit) = chars.next_back() else {
        return Err(err(value, "empty"));
    };
    let digits = chars.as_str();
    if digits.is_empty() {
        return Err(err(value, "missing value before the unit"));
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(value, "the value must be ASCII digits"));
    }
    if digits.len() > 8 {
        return Err(err(value, "the value has more than 8 digits"));
    }
    let n: u64 = digits.parse().map_err(|_| err(value, "bad number"))?;
    Ok(match unit {
        'H' => Duration::from_secs(n * 3600),
        'M' => Duration::from_secs(n * 60),
        'S' => Duration::from_secs(n),
        'm' => Duration::from_millis(n),
        'u' => Duration::from_micros(n),
        'n' => Duration::from_nanos(n),
        other => {
            return Err(ParseError {
                value: value.to_string(),
                reason: "unknown unit",
                unit: Some(other),
            })
        }
    })
}

/// Formats a duration as a `grpc-timeout` value: the finest unit whose value fits in 8
/// digits, rounding *up* so the budget is never shortened (as grpc-go does). Zero is `0n`.
///
/// ```
/// use std::time::Duration;
/// use gochan_http::grpc_timeout::format;
/// assert_eq!(format(Duration::from_millis(250)), "250000u");
/// assert_eq!(format(Duration::from_secs(1)), "1000000u");
/// assert_eq!(format(Duration::from_secs(100_000)), "100000S");
/// ```
pub fn format(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0n".to_string();
    }
    for (unit, per) in [
        ('n', 1u128),
        ('u', 1_000),
        ('m', 1_000_000),
        ('S', 1_000_000_000),
        ('M', 60_000_000_000),
    ] {
        let v = nanos.div_ceil(per);
        if v <= MAX_VALUE as u128 {
            return format!("{v}{unit}");
        }
    }
    let hours = nanos.div_ceil(3_600_000_000_000).min(MAX_VALUE as u128);
    format!("{hours}H")
}

/// Derives a request context from `parent` and an incoming `grpc-timeout` value: with a
/// deadline of now + timeout when present, a plain cancelable child when absent.
///
/// # Errors
/// A malformed header (the caller should answer 400 / `INVALID_ARGUMENT`).
///
/// ```
/// use gochan::context;
/// let (ctx, _c) = gochan_http::grpc_timeout::context_from_header(&context::background(), Some("5S")).unwrap();
/// assert!(ctx.deadline().is_some());
/// let (ctx, _c) = gochan_http::grpc_timeout::context_from_header(&context::background(), None).unwrap();
/// assert!(ctx.deadline().is_none());
/// ```
pub fn context_from_header(
    parent: &Context,
    header: Option<&str>,
) -> Result<(Context, CancelFunc), ParseError> {
    match header {
        Some(v) => Ok(context::with_timeout(parent, parse(v.trim())?)),
        None => Ok(context::with_cancel(parent)),
    }
}

/// The `grpc-timeout` value to send downstream for `ctx`: its remaining time, or `None`
/// when it has no deadline. A deadline already past gives `0n` (the callee fails fast).
///
/// ```
/// use std::time::Duration;
/// use gochan::context;
/// assert_eq!(gochan_http::grpc_timeout::header_from_context(&context::background()), None);
/// let (ctx, _c) = context::with_timeout(&context::background(), Duration::from_secs(3));
/// assert!(gochan_http::grpc_timeout::header_from_context(&ctx).is_some());
/// ```
pub fn header_from_context(ctx: &Context) -> Option<String> {
    let deadline = ctx.deadline()?;
    Some(format(deadline.saturating_duration_since(Instant::now())))
}

/// The timeout in `headers`, if there is one.
///
/// # Errors
/// A malformed value (also one that is not visible ASCII).
///
/// ```
/// use std::time::Duration;
/// let mut h = http::HeaderMap::new();
/// assert_eq!(gochan_http::grpc_timeout::from_headers(&h), Ok(None));
/// gochan_http::grpc_timeout::insert(&mut h, Duration::from_millis(20));
/// assert_eq!(h["grpc-timeout"], "20000000n"); // the finest unit that fits 8 digits
/// assert_eq!(gochan_http::grpc_timeout::from_headers(&h), Ok(Some(Duration::from_millis(20))));
/// ```
pub fn from_headers(headers: &http::HeaderMap) -> Result<Option<Duration>, ParseError> {
    match headers.get(HEADER) {
        None => Ok(None),
        Some(v) => match v.to_str() {
            Ok(s) => parse(s.trim()).map(Some),
            Err(_) => Err(err(
                &String::from_utf8_lossy(v.as_bytes()),
                "not visible ASCII",
            )),
        },
    }
}

/// Sets `grpc-timeout` in `headers` to `d` (formatted by [`format()`]), replacing any value.
///
/// ```
/// use std::time::Duration;
/// let mut req = http::Request::get("http://backend/search").body(()).unwrap();
/// gochan_http::grpc_timeout::insert(req.headers_mut(), Duration::from_secs(2));
/// gochan_http::grpc_timeout::insert(req.headers_mut(), Duration::from_millis(80)); // replaces
/// assert_eq!(req.headers()["grpc-timeout"], "80000000n");
/// ```
pub fn insert(headers: &mut http::HeaderMap, d: Duration) {
    let v = http::HeaderValue::from_str(&format(d)).expect("digits and a unit are a valid header");
    headers.insert(HEADER, v);
}

/// The `grpc-message` grpc-go's server answers a malformed `grpc-timeout` value with
/// (`grpc-status: 13`), before percent-encoding: `malformed grpc-timeout: <err>` where
/// `<err>` is what grpc-go's `decodeTimeout` returns (`internal/transport/http_util.go`;
/// `operateHeaders` in `internal/transport/http2_server.go` adds the prefix). `None` when
/// grpc-go accepts the value. It reads the raw header bytes, as grpc-go does (no trimming).
///
/// The value is quoted as Go's `%q` does: exactly for ASCII and for non-ASCII letters and
/// digits; other printable non-ASCII characters (punctuation, symbols), which Go keeps, are
/// escaped as `\u....` here.
///
/// ```
/// use gochan_http::grpc_timeout::grpc_go_message;
/// assert_eq!(grpc_go_message(b"10x").unwrap(), r#"malformed grpc-timeout: transport: timeout unit is not recognized: "10x""#);
/// assert_eq!(grpc_go_message(b"").unwrap(), r#"malformed grpc-timeout: transport: timeout string is too short: """#);
/// assert_eq!(grpc_go_message(b"123456789S").unwrap(), r#"malformed grpc-timeout: transport: timeout string is too long: "123456789S""#);
/// assert_eq!(grpc_go_message(b"-5S").unwrap(), r#"malformed grpc-timeout: strconv.ParseUint: parsing "-5": invalid syntax"#);
/// assert_eq!(grpc_go_message(b"99999999H"), None);
/// ```
pub fn grpc_go_message(value: &[u8]) -> Option<String> {
    let size = value.len();
    let err = if size < 2 {
        std::format!(
            "transport: timeout string is too short: {}",
            go_quote(value)
        )
    } else if size > 9 {
        // The spec allows 8 digits plus the unit.
        std::format!("transport: timeout string is too long: {}", go_quote(value))
    } else if !matches!(value[size - 1], b'H' | b'M' | b'S' | b'm' | b'u' | b'n') {
        std::format!(
            "transport: timeout unit is not recognized: {}",
            go_quote(value)
        )
    } else {
        // strconv.ParseUint(s[:size-1], 10, 64): ASCII digits only, no sign; at most 8 of
        // them always fit.
        let digits = &value[..size - 1];
        if digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::format!(
            "strconv.ParseUint: parsing {}: invalid syntax",
            go_quote(digits)
        )
    };
    Some(std::format!("malformed grpc-timeout: {err}"))
}

/// Go's `strconv.Quote` of `bytes` (see [`grpc_go_message`] for the one approximation).
fn go_quote(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::from('"');
    let mut rest = bytes;
    while !rest.is_empty() {
        // The next rune, or `None` for an invalid byte (Go writes `\x` and the byte).
        let window = &rest[..rest.len().min(4)];
        let valid = match std::str::from_utf8(window) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(&window[..e.valid_up_to()]).unwrap_or_default(),
        };
        let c = valid.chars().next();
        let len = c.map_or(1, char::len_utf8);
        match c {
            Some('"') => out.push_str("\\\""),
            Some('\\') => out.push_str("\\\\"),
            Some(c @ ' '..='~') => out.push(c),
            Some(c) if !c.is_ascii() && c.is_alphanumeric() => out.push(c),
            Some('\u{7}') => out.push_str("\\a"),
            Some('\u{8}') => out.push_str("\\b"),
            Some('\u{c}') => out.push_str("\\f"),
            Some('\n') => out.push_str("\\n"),
            Some('\r') => out.push_str("\\r"),
            Some('\t') => out.push_str("\\t"),
            Some('\u{b}') => out.push_str("\\v"),
            Some(c) if (c as u32) >= 0x10000 => out.push_str(&std::format!("\\U{:08x}", c as u32)),
            Some(c) if !c.is_ascii() => out.push_str(&std::format!("\\u{:04x}", c as u32)),
            // Another ASCII control character, or an invalid byte.
            _ => {
                out.push_str("\\x");
                out.push(HEX[usize::from(rest[0] >> 4)] as char);
                out.push(HEX[usize::from(rest[0] & 15)] as char);
            }
        }
        rest = &rest[len..];
    }
    out.push('"');
    out
}

/// Percent-encodes a `grpc-message` value as the gRPC spec asks: bytes outside
/// 0x20..=0x7E, and `%`, become `%XX`.
///
/// ```
/// assert_eq!(gochan_http::grpc_timeout::percent_encode_message("50% ok\n"), "50%25 ok%0A");
/// ```
pub fn percent_encode_message(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    for b in msg.bytes() {
        if (0x20..=0x7e).contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&std::format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_parses() {
        assert_eq!(parse("1H"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("3M"), Ok(Duration::from_secs(180)));
        assert_eq!(parse("7S"), Ok(Duration::from_secs(7)));
        assert_eq!(parse("15m"), Ok(Duration::from_millis(15)));
        assert_eq!(parse("20u"), Ok(Duration::from_micros(20)));
        assert_eq!(parse("99999999n"), Ok(Duration::from_nanos(99_999_999)));
        assert_eq!(parse("0n"), Ok(Duration::ZERO));
    }

    #[test]
    fn malformed_values_are_clear_errors_never_panics() {
        for bad in [
            "",
            "m",
            "10",
            "10x",
            "-5m",
            "1.5S",
            " 5S",
            "123456789m",
            "9999999999999999999999H",
            "٣S",
            "5 S",
            "S5",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(
                e.to_string().starts_with("invalid grpc-timeout"),
                "{bad:?}: {e}"
            );
        }
        assert_eq!(
            parse("").unwrap_err().to_string(),
            "invalid grpc-timeout \"\": empty"
        );
        assert_eq!(
            parse("123456789m").unwrap_err().to_string(),
            "invalid grpc-timeout \"123456789m\": the value has more than 8 digits"
        );
    }

    #[test]
    fn grpc_go_messages_match_decode_timeout() {
        let msg = |v: &[u8]| grpc_go_message(v).unwrap();
        let p = "malformed grpc-timeout: ";
        assert_eq!(
            msg(b"5"),
            std::format!(r#"{p}transport: timeout string is too short: "5""#)
        );
        assert_eq!(
            msg(b"S"),
            std::format!(r#"{p}transport: timeout string is too short: "S""#)
        );
        // Length first, then the unit, then the digits, as decodeTimeout checks them.
        assert_eq!(
            msg(b"1234567890x"),
            std::format!(r#"{p}transport: timeout string is too long: "1234567890x""#)
        );
        assert_eq!(
            msg(b"5 S "),
            std::format!(r#"{p}transport: timeout unit is not recognized: "5 S ""#)
        );
        assert_eq!(
            msg(b"1.5S"),
            std::format!(r#"{p}strconv.ParseUint: parsing "1.5": invalid syntax"#)
        );
        assert_eq!(
            msg(b"+5S"),
            std::format!(r#"{p}strconv.ParseUint: parsing "+5": invalid syntax"#)
        );
        // Go's %q: escapes, invalid UTF-8 as \x.., non-ASCII digits kept, NBSP escaped.
        assert_eq!(
            msg(b"\"\\\t\x01\x7fS"),
            std::format!(r#"{p}strconv.ParseUint: parsing "\"\\\t\x01\x7f": invalid syntax"#)
        );
        assert_eq!(
            msg(b"1\xffS"),
            std::format!(r#"{p}strconv.ParseUint: parsing "1\xff": invalid syntax"#)
        );
        assert_eq!(
            msg("٣S".as_bytes()),
            std::format!(r#"{p}strconv.ParseUint: parsing "٣": invalid syntax"#)
        );
        assert_eq!(
            msg("\u{a0}5S".as_bytes()),
            std::format!(r#"{p}strconv.ParseUint: parsing "\u00a05": invalid syntax"#)
        );
        // grpc-go accepts exactly what `parse` accepts (for values with no surrounding
        // whitespace, which the layer trims).
        for v in [
            "",
            "m",
            "10",
            "10x",
            "-5m",
            "1.5S",
            "123456789m",
            "0n",
            "1H",
            "99999999n",
            "00000001S",
            "12345678M",
            "٣S",
            "5 S",
            "S5",
            "+1S",
            "1e3m",
        ] {
            assert_eq!(
                parse(v).is_err(),
                grpc_go_message(v.as_bytes()).is_some(),
                "{v:?}"
            );
        }
    }

    #[test]
    fn format_picks_the_finest_unit_and_never_shortens() {
        assert_eq!(format(Duration::ZERO), "0n");
        assert_eq!(format(Duration::from_nanos(1)), "1n");
        assert_eq!(format(Duration::from_nanos(99_999_999)), "99999999n");
        assert_eq!(format(Duration::from_nanos(100_000_001)), "100001u"); // rounded up
        assert_eq!(format(Duration::from_secs(100_000)), "100000S");
        assert_eq!(format(Duration::from_secs(100_000_000)), "1666667M");
        assert_eq!(format(Duration::MAX), "99999999H");
        for d in [
            1u64,
            999,
            123_456,
            99_999_999,
            100_000_000,
            86_400_000_000_000,
        ] {
            let d = Duration::from_nanos(d);
            let back = parse(&format(d)).unwrap();
            assert!(back >= d, "{d:?} -> {back:?}");
        }
    }

    #[test]
    fn deadline_round_trip_through_two_hops() {
        let (hop1, _c1) = context_from_header(&context::background(), Some("2S")).unwrap();
        let h = header_from_context(&hop1).unwrap();
        let (hop2, _c2) = context_from_header(&context::background(), Some(&h)).unwrap();
        let d1 = hop1.deadline().unwrap();
        let d2 = hop2.deadline().unwrap();
        // The second hop's budget is what was left of the first (never more, a hair less).
        assert!(d2 <= d1 + Duration::from_millis(1));
        assert!(d1.duration_since(Instant::now()) <= Duration::from_secs(2));
        assert!(context_from_header(&context::background(), Some("bogus")).is_err());
    }
}
