//! `Display` for contexts, as Go's `String()`: `context.Background.WithCancel`,
//! `...WithDeadline(2026-11-25 10:00:00.5 +0000 UTC [99.9ms])`,
//! `...WithValue(my::Key, my::Key)` (a value is shown by its type, as Go shows a value
//! that is not a `Stringer`), `...WithoutCancel`.

use std::fmt;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::tree::{Body, CancelKind, Node};
use super::Context;

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Collect the chain root-first without recursion.
        let mut chain: Vec<&Node> = Vec::new();
        let mut n: &Node = &self.node;
        loop {
            chain.push(n);
            match &n.parent {
                Some(p) => n = p,
                None => break,
            }
        }
        for node in chain.iter().rev() {
            match &node.body {
                Body::Root(name) => f.write_str(name)?,
                Body::Value { value, .. } => {
                    let name = (**value).type_name();
                    write!(f, ".WithValue({name}, {name})")?;
                }
                Body::WithoutCancel => f.write_str(".WithoutCancel")?,
                Body::Cancel(cs) => match cs.kind {
                    CancelKind::Cancel => f.write_str(".WithCancel")?,
                    CancelKind::Deadline => {
                        let at = cs.deadline().expect("a deadline node has its deadline");
                        let now = crate::time::now();
                        let left = if at >= now {
                            (at - now).as_nanos() as i128
                        } else {
                            -((now - at).as_nanos() as i128)
                        };
                        write!(
                            f,
                            ".WithDeadline({} [{}])",
                            wall_clock(at, now),
                            crate::time::duration::go_duration(left)
                        )?;
                    }
                    CancelKind::Hook => f.write_str(".AfterFunc")?,
                },
            }
        }
        Ok(())
    }
}

/// Formats an `Instant` as a UTC wall-clock time, like Go's `time.Time.String()`.
fn wall_clock(at: Instant, now: Instant) -> String {
    let sys_now = SystemTime::now();
    let sys = if at >= now {
        sys_now.checked_add(at - now)
    } else {
        sys_now.checked_sub(now - at)
    };
    let Some(d) = sys.and_then(|s| s.duration_since(UNIX_EPOCH).ok()) else {
        return "<out of range>".to_string();
    };
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, dd) = civil_from_days(days as i64);
    let frac = d.subsec_nanos();
    let mut s = format!(
        "{y:04}-{m:02}-{dd:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
    if frac != 0 {
        let f = format!("{frac:09}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s.push_str(" +0000 UTC");
    s
}

/// Days since 1970-01-01 to (year, month, day), Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_417), (2025, 11, 25));
    }
}
