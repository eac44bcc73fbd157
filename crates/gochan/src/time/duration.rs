//! Go's duration strings: [`parse_duration`] (`time.ParseDuration`) and
//! [`format_duration`] (`time.Duration.String()`), for code that takes timeouts from users,
//! query strings or headers the way Go programs do (`?timeout=1.5s`).

use std::fmt;
use std::time::Duration;

/// A string [`parse_duration`] rejected, with the reason (Go's messages).
///
/// ```
/// let err = gochan::time::parse_duration("5 parsecs").unwrap_err();
/// assert_eq!(err.to_string(), "time: unknown unit \" parsecs\" in duration \"5 parsecs\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseDurationError {
    msg: String,
}

impl fmt::Display for ParseDurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for ParseDurationError {}

fn invalid(s: &str) -> ParseDurationError {
    ParseDurationError {
        msg: format!("time: invalid duration {s:?}"),
    }
}

/// Parses a duration string like Go's `time.ParseDuration`: a sequence of decimal numbers,
/// each with an optional fraction and a unit, such as `300ms`, `1.5h` or `2h45m`. Units:
/// `ns`, `us` (or `µs`, `μs`), `ms`, `s`, `m`, `h`. `0` needs no unit; a leading `+` is
/// accepted.
///
/// # Errors
/// Everything Go rejects (empty, missing or unknown unit, a lone `.`, overflow past
/// `i64::MAX` nanoseconds), with Go's message, and — unlike Go, whose durations are
/// signed — a negative duration (`-1s`), which a [`Duration`] cannot hold.
///
/// ```
/// use std::time::Duration;
/// use gochan::time::parse_duration;
/// assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
/// assert_eq!(parse_duration("2h45m"), Ok(Duration::from_secs(9900)));
/// assert_eq!(parse_duration("1µs"), Ok(Duration::from_micros(1)));
/// assert!(parse_duration("").is_err());
/// assert!(parse_duration("10").is_err()); // missing unit
/// ```
pub fn parse_duration(s: &str) -> Result<Duration, ParseDurationError> {
    let orig = s;
    let mut rest = s;
    let mut negative = false;
    if let Some(r) = rest.strip_prefix('-') {
        negative = true;
        rest = r;
    } else if let Some(r) = rest.strip_prefix('+') {
        rest = r;
    }
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(invalid(orig));
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        // The next character must be [0-9.].
        if !rest.starts_with(|c: char| c == '.' || c.is_ascii_digit()) {
            return Err(invalid(orig));
        }
        let int_len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (int_part, r) = rest.split_at(int_len);
        rest = r;
        let mut frac_part = "";
        if let Some(r) = rest.strip_prefix('.') {
            let frac_len = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            frac_part = &r[..frac_len];
            rest = &r[frac_len..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid(orig)); // no digits (e.g. ".s")
        }
        let unit_len = rest
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (unit, r) = rest.split_at(unit_len);
        rest = r;
        let per: u128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => {
                return Err(ParseDurationError {
                    msg: format!("time: missing unit in duration {orig:?}"),
                })
            }
            other => {
                return Err(ParseDurationError {
                    msg: format!("time: unknown unit {other:?} in duration {orig:?}"),
                })
            }
        };
        let whole: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| invalid(orig))?
        };
        let mut v = whole.checked_mul(per).ok_or_else(|| invalid(orig))?;
        if v > i64::MAX as u128 {
            return Err(invalid(orig)); // Go: overflow before the fraction is added
        }
        // The fraction, as Go computes it: digits accumulated while they fit in 63 bits,
        // then scaled by unit / 10^digits in floating point, truncated.
        let (mut f, mut fscale) = (0u64, 1f64);
        for d in frac_part.bytes() {
            if f > (1u64 << 63) / 10 {
                break; // Go drops the digits that would overflow
            }
            let next = f * 10 + u64::from(d - b'0');
            if next > 1u64 << 63 {
                break;
            }
            f = next;
            fscale *= 10.0;
        }
        if f > 0 {
            // v <= i64::MAX and the fraction is below one unit (< 2^42 ns): no overflow.
            v += (f as f64 * (per as f64 / fscale)) as u128;
        }
        total = total.checked_add(v).ok_or_else(|| invalid(orig))?;
        if total > i64::MAX as u128 {
            return Err(invalid(orig));
        }
    }
    if negative && total != 0 {
        return Err(ParseDurationError {
            msg: format!("time: negative duration {orig:?} (a std::time::Duration is unsigned)"),
        });
    }
    Ok(Duration::from_nanos(total as u64))
}

/// Formats a duration like Go's `time.Duration.String()`: `1h59m59.99s`, `3.2ms`, `1.5µs`,
/// `999ns`, `0s`. Durations past Go's range (about 292 years) are shown all the same.
///
/// ```
/// use std::time::Duration;
/// use gochan::time::format_duration;
/// assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
/// assert_eq!(format_duration(Duration::from_secs(150)), "2m30s");
/// assert_eq!(format_duration(Duration::ZERO), "0s");
/// ```
pub fn format_duration(d: Duration) -> String {
    go_duration(d.as_nanos() as i128)
}

/// Formats signed nanoseconds like Go's `time.Duration.String()`: `1h59m59.99s`,
/// `3.2ms`, `1.5µs`, `999ns`, `-3.2ms`, `0s`.
pub(crate) fn go_duration(nanos: i128) -> String {
    if nanos == 0 {
        return "0s".to_string();
    }
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    let frac = |whole: u128, rem: u128, digits: usize| -> String {
        let mut s = whole.to_string();
        if rem != 0 {
            let f = format!("{rem:0digits$}");
            s.push('.');
            s.push_str(f.trim_end_matches('0'));
        }
        s
    };
    if n < 1_000 {
        return format!("{sign}{n}ns");
    }
    if n < 1_000_000 {
        return format!("{sign}{}µs", frac(n / 1_000, n % 1_000, 3));
    }
    if n < 1_000_000_000 {
        return format!("{sign}{}ms", frac(n / 1_000_000, n % 1_000_000, 6));
    }
    let secs = n / 1_000_000_000;
    let s = frac(secs % 60, n % 1_000_000_000, 9);
    let (h, m) = (secs / 3600, secs / 60 % 60);
    if h > 0 {
        format!("{sign}{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{sign}{m}m{s}s")
    } else {
        format!("{sign}{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(999), "999ns");
        assert_eq!(go_duration(1_500), "1.5µs");
        assert_eq!(go_duration(3_200_000), "3.2ms");
        assert_eq!(go_duration(-3_200_000), "-3.2ms");
        assert_eq!(go_duration(1_000_000_000), "1s");
        assert_eq!(go_duration(120_000_000_000), "2m0s");
        assert_eq!(go_duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(go_duration(7_199_990_000_000), "1h59m59.99s");
    }

    /// Go's `parseDurationTests` (time_test.go), the non-negative rows.
    #[test]
    fn parse_duration_mirrors_go_parse_duration_tests() {
        let ns = Duration::from_nanos;
        let ok = [
            ("0", 0u64),
            ("5s", 5_000_000_000),
            ("30s", 30_000_000_000),
            ("1478s", 1_478_000_000_000),
            ("+5s", 5_000_000_000),
            ("-0", 0),
            ("+0", 0),
            ("5.0s", 5_000_000_000),
            ("5.6s", 5_600_000_000),
            ("5.s", 5_000_000_000),
            (".5s", 500_000_000),
            ("1.0s", 1_000_000_000),
            ("1.00s", 1_000_000_000),
            ("1.004s", 1_004_000_000),
            ("1.0040s", 1_004_000_000),
            ("100.00100s", 100_001_000_000),
            ("10ns", 10),
            ("11us", 11_000),
            ("12µs", 12_000),
            ("12μs", 12_000),
            ("13ms", 13_000_000),
            ("14s", 14_000_000_000),
            ("15m", 900_000_000_000),
            ("16h", 57_600_000_000_000),
            ("3h30m", 12_600_000_000_000),
            ("10.5s4m", 250_500_000_000),
            ("1h2m3s4ms5us6ns", 3_723_004_005_006),
            ("39h9m14.425s", 140_954_425_000_000),
            ("52763797000ns", 52_763_797_000),
            ("0.3333333333333333333h", 1_200_000_000_000),
            ("9007199254740993ns", 9_007_199_254_740_993),
            ("9223372036854775807ns", 9_223_372_036_854_775_807),
            ("9223372036854775.807us", 9_223_372_036_854_775_807),
            ("0.100000000000000000000h", 360_000_000_000),
            ("0.830103483285477580700h", 2_988_372_539_827), // as Go 1.19 prints
        ];
        for (s, want) in ok {
            assert_eq!(parse_duration(s), Ok(ns(want)), "{s}");
        }
        for bad in [
            "",
            "3",
            "-",
            "s",
            ".",
            "-.",
            ".s",
            "+.s",
            "1d",
            "\u{ffff}",
            "9223372036854775810ns",
            "9223372036854775808ns",
            "9223372036854775.808us",
            "3000000h",
            "-1s",
            "1.5 s",
        ] {
            let e = parse_duration(bad).unwrap_err();
            assert!(e.to_string().starts_with("time: "), "{bad:?}: {e}");
        }
        assert_eq!(
            parse_duration("3").unwrap_err().to_string(),
            "time: missing unit in duration \"3\""
        );
        assert_eq!(
            parse_duration("1d").unwrap_err().to_string(),
            "time: unknown unit \"d\" in duration \"1d\""
        );
    }

    #[test]
    fn format_then_parse_round_trips() {
        for n in [
            1u64,
            999,
            1_500,
            3_200_000,
            1_000_000_000,
            7_199_990_000_000,
        ] {
            let d = Duration::from_nanos(n);
            assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }
    }
}
