//! Replays the fuzz inputs kept in `fuzz/regressions/<target>/` (crashes found by
//! `scripts/fuzz.sh`, once fixed, plus hand-picked seeds) through the same checks the
//! cargo-fuzz targets run, so plain `cargo test` keeps them fixed. The checks live in
//! `fuzz/src/` and are included here by path (they use only `gochan` and `std`).
//! gochan-http's targets are replayed by `crates/gochan-http/tests/fuzz_regressions.rs`.

use std::path::{Path, PathBuf};

#[path = "../../../fuzz/src/chan_ops.rs"]
mod chan_ops;
#[path = "../../../fuzz/src/parse_duration.rs"]
mod parse_duration;

/// Runs `check` on every file of `fuzz/regressions/<target>/`, naming the file that fails.
fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/regressions")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no inputs in {}", dir.display());
    for path in files {
        let data = std::fs::read(&path).unwrap();
        if std::panic::catch_unwind(|| check(&data)).is_err() {
            panic!("fuzz regression {} failed (input {data:?})", path.display());
        }
    }
}

#[test]
fn parse_duration_regressions() {
    replay("parse_duration", parse_duration::check);
}

#[test]
fn parse_duration_edge_strings() {
    for s in [
        "0",
        "-0",
        "+0",
        "-0s",
        "1h2m3s4ms5us6ns",
        "9223372036854775807ns",
        "9223372036854775808ns",
        "2562047h47m16.854775807s",
        "2562047h47m16.854775808s",
        "0.3333333333333333333h",
        "0.830103483285477580700h",
        "1.00000000000000000000000000000000000001ns",
        "99999999999999999999999999999999999999999ns",
        "1µs",
        "1μs",
        "1\u{b5}",
        "+-1s",
        "-+0",
        ".s",
        "5.s",
        "1.5 s",
        "",
    ] {
        parse_duration::check_str(s);
    }
}

#[test]
fn chan_ops_regressions() {
    replay("chan_ops", chan_ops::check);
}
