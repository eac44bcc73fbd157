//! The checks behind the fuzz targets in `fuzz_targets/`. Each module is also included by
//! path from the crates' `tests/fuzz_regressions.rs`, which replay `regressions/<target>/`
//! under plain `cargo test`: keep them free of fuzz-only dependencies.

pub mod chan_ops;
pub mod grpc_timeout;
pub mod layer;
pub mod parse_duration;
pub mod request_id;
