//! Fuzz check for `gochan::time::parse_duration` / `format_duration`.
//!
//! Shared by the `parse_duration` fuzz target and `crates/gochan/tests/fuzz_regressions.rs`
//! (included there by path), so it only uses `gochan` and `std`.

use std::time::Duration;

use gochan::time::{format_duration, parse_duration};

/// Arbitrary bytes as UTF-8 (invalid sequences become U+FFFD, so every input tests
/// something), then:
/// - `parse_duration` never panics;
/// - an `Err` has Go's `time: ` prefix;
/// - every `Ok(d)` is at most `i64::MAX` ns (Go's range), and `format_duration(d)` parses
///   back to exactly `d` (and formats to the same text again);
/// - a leading `+` changes nothing; a leading `-` is accepted only for zero.
pub fn check(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    check_str(&s);
}

/// [`check`] on a string.
pub fn check_str(s: &str) {
    match parse_duration(s) {
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with("time: "),
                "{s:?}: error without prefix: {msg}"
            );
        }
        Ok(d) => {
            assert!(
                d.as_nanos() <= i64::MAX as u128,
                "{s:?} -> {d:?}: past Go's range"
            );
            round_trip(d, s);
            if let Some(rest) = s.strip_prefix('-') {
                assert_eq!(d, Duration::ZERO, "{s:?}: a negative duration was accepted");
                assert!(!rest.starts_with(['-', '+']), "{s:?}: two signs accepted");
            } else if let Some(rest) = s.strip_prefix('+') {
                assert!(!rest.starts_with(['-', '+']), "{s:?}: two signs accepted");
                assert_eq!(parse_duration(rest), Ok(d), "{s:?}: '+' changed the value");
            }
        }
    }
    // Every duration the input's first 8 bytes name (as nanoseconds in Go's range) formats
    // and parses back: covers format_duration on values parse_duration rarely produces.
    if s.len() >= 8 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&s.as_bytes()[..8]);
        let n = u64::from_le_bytes(b) >> 1; // <= i64::MAX
        round_trip(Duration::from_nanos(n), s);
    }
}

fn round_trip(d: Duration, input: &str) {
    let text = format_duration(d);
    assert_eq!(
        parse_duration(&text),
        Ok(d),
        "{input:?}: {d:?} formats as {text:?}, which does not parse back"
    );
}
