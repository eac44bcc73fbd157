#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ (libFuzzer, nightly) for a bounded time (issue 19).
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET ...]
#   SECONDS  libFuzzer's -max_total_time per target (default 120)
#   TARGET   parse_duration, grpc_timeout, request_id, chan_ops (default: all four)
# Environment:
#   FUZZ_SANITIZER  cargo-fuzz --sanitizer (default: address; `none` if ASan is unavailable)
#   FUZZ_TARGET_DIR cargo target dir (default: fuzz/target)
#   FUZZ_CORPUS_DIR where the growing corpora live (default: fuzz/corpus, git-ignored)
#
# Needs the nightly toolchain (`rustup toolchain install nightly`); installs cargo-fuzz
# from crates.io when it is missing. Each target starts from fuzz/corpus/<target> and the
# kept inputs fuzz/regressions/<target>/ (read-only seeds). A crash stops that target,
# writes the input to fuzz/artifacts/<target>/ and makes the script exit non-zero after
# the other targets ran; minimise it (`cargo +nightly fuzz tmin <target> <file>`), fix
# the bug, and copy the input to fuzz/regressions/<target>/ so `cargo test` replays it
# (crates/gochan/tests/fuzz_regressions.rs, crates/gochan-http/tests/fuzz_regressions.rs).
#
# Time: the first build takes ~9 minutes on 2 cores (ASan, release); then the default
# run is 4 targets x 120 s = 8 minutes (plus a few seconds of start-up per target).
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-120}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(parse_duration grpc_timeout request_id chan_ops)
fi
sanitizer=${FUZZ_SANITIZER:-address}
target_dir=${FUZZ_TARGET_DIR:-fuzz/target}
corpus_dir=${FUZZ_CORPUS_DIR:-fuzz/corpus}

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz.sh: the nightly toolchain is needed (rustup toolchain install nightly)" >&2
  exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz
fi

for t in "${targets[@]}"; do # `cargo fuzz build` takes one target at a time
  cargo +nightly fuzz build --sanitizer "$sanitizer" --target-dir "$target_dir" "$t"
done

failed=()
for t in "${targets[@]}"; do
  mkdir -p "$corpus_dir/$t" "fuzz/artifacts/$t"
  echo "== $t: ${secs}s"
  # -timeout: one input running 10 s is a hang (chan_ops inputs take milliseconds).
  if ! cargo +nightly fuzz run --sanitizer "$sanitizer" --target-dir "$target_dir" "$t" \
    "$corpus_dir/$t" "fuzz/regressions/$t" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="fuzz/artifacts/$t/" -print_final_stats=1; then
    failed+=("$t")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: crashes in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz.sh: ${targets[*]}: no crash in ${secs}s each"
