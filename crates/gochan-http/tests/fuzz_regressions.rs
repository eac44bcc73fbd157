//! Replays the fuzz inputs kept in `fuzz/regressions/<target>/` for gochan-http's targets
//! (`grpc_timeout`, `request_id`) through the same checks the cargo-fuzz targets run, so
//! plain `cargo test` keeps them fixed. The checks live in `fuzz/src/` and are included
//! here by path. gochan's targets are replayed by `crates/gochan/tests/fuzz_regressions.rs`.

use std::path::{Path, PathBuf};

#[path = "../../../fuzz/src/grpc_timeout.rs"]
mod grpc_timeout;
#[path = "../../../fuzz/src/layer.rs"]
mod layer;
#[path = "../../../fuzz/src/request_id.rs"]
mod request_id;

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
fn grpc_timeout_regressions() {
    replay("grpc_timeout", grpc_timeout::check);
}

#[test]
fn request_id_regressions() {
    replay("request_id", request_id::check);
}
