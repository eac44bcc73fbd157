#!/usr/bin/env bash
# Runs the test binaries of gochan (integration tests, `--features tokio,debug-handles`)
# and gochan-http (all features) under ThreadSanitizer and AddressSanitizer (issue 19).
#
# Usage: scripts/sanitizers.sh [thread|address|all] [--release] [-- TEST-FILTER...]
#   default: all (thread, then address), debug profile.
#   Env: TSAN_TARGET_DIR / ASAN_TARGET_DIR (default target/san-thread, target/san-address),
#        SAN_JOBS (cargo -j, default 1), SAN_LOG_DIR (default target/san-logs),
#        SAN_TEST_THREADS (libtest --test-threads, default: libtest's own).
#
# Needs the nightly toolchain (`rustup toolchain install nightly`), no rust-src: std is
# the prebuilt, uninstrumented copy, linked with -Cunsafe-allow-abi-mismatch=sanitizer.
# TSan therefore misses the synchronisation done inside std's own object code (Arc's
# acquire fence, Once/OnceLock publication, contended std::sync::Mutex as used by tokio
# and libtest); scripts/tsan.supp suppresses exactly those classes, each with its reason.
# It never names a gochan frame. Before the tests, a canary program with a planted race,
# use-after-free and leak must be reported under the same flags and suppressions.
#
# Fails (exit 1) on any unsuppressed TSan report, any ASan/LSan error, or any failing
# test (a test that failed without a sanitizer report is retried once alone: a few tests
# assert wall-clock margins; the summary marks those "flaky"); prints a summary table
# (per binary: tests passed+failed, reports, suppressions matched, exit code, time).
#
# Excluded binaries: select_errors (trybuild: runs rustc on ui/*.rs, checks compile
# errors, nothing to sanitize, and would compile with the sanitizer flags), loom_* (they
# are cfg(loom) and compile to nothing without --cfg loom).
#
# Cost on the 2-core dev machine (-j1, debug, measured 2026-12-01): a cold build is ~15 min
# per sanitizer (gochan's 30 test binaries ~9 min, gochan-http ~6 min; the two sanitizers
# need separate target dirs); after a library change ~1-2 min. The test runs: TSan
# ~3.5-5 min (351 tests; context_memory ~1 min, context_deep ~30 s), ASan ~2 min. So
# `all` from cold is ~35 min, warm ~6-8 min.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

which=all
profile=()
filter=()
while [ $# -gt 0 ]; do
  case "$1" in
    thread | address | all) which=$1 ;;
    --release) profile=(--release) ;;
    --) shift; filter=("$@"); break ;;
    *) echo "usage: $0 [thread|address|all] [--release] [-- TEST-FILTER...]" >&2; exit 2 ;;
  esac
  shift
done

# A panic with RUST_BACKTRACE set walks and symbolises the stack inside std (uninstrumented)
# under std's global backtrace lock and caches the result: TSan then reports a test's
# panic reading what another test's panic cached (seen in pipeline_v2's should_panic
# tests). TSan reports carry their own stacks, so the tests run without backtraces.
export RUST_BACKTRACE=0
target=x86_64-unknown-linux-gnu
jobs=${SAN_JOBS:-1}
logdir=${SAN_LOG_DIR:-$root/target/san-logs}
mkdir -p "$logdir"
test_args=()
[ -n "${SAN_TEST_THREADS:-}" ] && test_args+=(--test-threads "$SAN_TEST_THREADS")

gochan_tests=()
for f in crates/gochan/tests/*.rs; do
  n=$(basename "$f" .rs)
  case "$n" in
    loom_*) continue ;;        # cfg(loom) only
    select_errors) continue ;; # trybuild compile-fail tests
  esac
  gochan_tests+=(--test "$n")
done

# build SANITIZER -> prints the test executables, one per line
build() {
  local san=$1 dir=$2 flags="-Zsanitizer=$1 -Cunsafe-allow-abi-mismatch=sanitizer"
  local out="$logdir/build-$san.log"
  : >"$out"
  # --target makes RUSTFLAGS skip build scripts and proc macros (they run on the host
  # and must not be instrumented).
  for pkg in gochan gochan-http; do
    local extra
    if [ $pkg = gochan ]; then extra=(--features tokio,debug-handles --lib "${gochan_tests[@]}"); else extra=(--all-features --tests); fi
    if ! RUSTFLAGS="$flags" CARGO_TARGET_DIR="$dir" \
        cargo +nightly test -j"$jobs" --target $target "${profile[@]}" -p $pkg "${extra[@]}" \
        --no-run >>"$out" 2>&1; then
      echo "build with -Zsanitizer=$san failed (see $out)" >&2
      tail -20 "$out" >&2
      return 1
    fi
  done
  sed -n 's/.*Executable \(tests\/[^ ]*\|unittests [^ ]*\) (\(.*\))/\2/p' "$out"
}

status=0
summary=()

# run_bin SANITIZER BINARY ARGS... (output to stdout/stderr)
run_bin() {
  local san=$1 bin=$2
  shift 2
  # Tests that measure the process's memory (RSS) skip that check under a sanitizer: its
  # allocator and quarantine decide RSS, not the code under test.
  export GOCHAN_SANITIZER=$san
  if [ "$san" = thread ]; then
    TSAN_OPTIONS="suppressions=$root/scripts/tsan.supp halt_on_error=0 exitcode=66 \
report_signal_unsafe=0 print_suppressions=1 second_deadlock_stack=1 history_size=4 ${TSAN_OPTIONS:-}" \
      "$bin" "$@"
  else
    ASAN_OPTIONS="detect_leaks=1 halt_on_error=1 detect_stack_use_after_return=1 \
check_initialization_order=1 strict_string_checks=1 ${ASAN_OPTIONS:-}" \
    LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp print_suppressions=0 ${LSAN_OPTIONS:-}" \
      "$bin" "$@"
  fi
}

run_one() {
  local san=$1 bin=$2 name log rc tests reports matched
  name=$(basename "$bin" | sed 's/-[0-9a-f]*$//')
  log="$logdir/$san-$name.log"
  local t0=$SECONDS
  rm -f "$log.retry"
  run_bin "$san" "$bin" "${test_args[@]}" "${filter[@]}" >"$log" 2>&1
  rc=$?
  if [ "$san" = thread ]; then
    reports=$(grep -c '^WARNING: ThreadSanitizer' "$log")
    matched=$(sed -n 's/^ThreadSanitizer: Matched \([0-9]*\) suppressions.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
  else
    reports=$(grep -cE '^(==[0-9]+==)?ERROR: (AddressSanitizer|LeakSanitizer)' "$log")
    matched=-
  fi
  tests=$(sed -n 's/^test result: [A-Za-z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1+\2/p' "$log" | tail -1)
  local verdict=ok
  # A test that failed without any sanitizer report is retried once on its own: a few
  # tests assert on wall-clock margins (e.g. gochan-http's two-hop deadline, 100 ms) that
  # the 5-15x sanitizer slowdown can exceed. A report, or a second failure, still fails.
  if [ "$rc" -eq 101 ] && [ "$reports" -eq 0 ] && [ "$san" = thread -o "$san" = address ]; then
    local failed retry_ok=1 f
    failed=$(awk '/^failures:$/ {n = 0; delete f; on = 1; next} on && /^    [^ ]+$/ {f[n++] = $1}
      END {for (i = 0; i < n; i++) print f[i]}' "$log" | sort -u)
    if [ -n "$failed" ]; then
      for f in $failed; do
        if ! run_bin "$san" "$bin" --exact "$f" >>"$log.retry" 2>&1; then retry_ok=0; fi
      done
      local r2
      r2=$(grep -cE '^WARNING: ThreadSanitizer|^(==[0-9]+==)?ERROR: (AddressSanitizer|LeakSanitizer)' "$log.retry")
      if [ $retry_ok -eq 1 ] && [ "$r2" -eq 0 ]; then
        verdict=flaky
        rc="0(retry:$(echo $failed | tr ' ' ','))"
      fi
    fi
  fi
  if [ "$verdict" != flaky ] && { [ "$rc" != 0 ] || [ "$reports" -ne 0 ]; }; then verdict=FAIL; status=1; fi
  summary+=("$(printf '%-5s %-7s %-26s tests %-7s reports %-3s suppressed %-5s rc %-3s %4ss' \
    "$verdict" "$san" "$name" "${tests:-?}" "$reports" "$matched" "$rc" $((SECONDS - t0)))")
  echo "${summary[-1]}"
}

# canary SANITIZER: a tiny program with a known bug (a data race on a plain u64 shared by
# two threads; a read after free; a leaked Box) must be reported with the same flags and suppressions,
# so a run with 0 reports means "checked", not "sanitizer silently off".
canary() {
  local san=$1 d="$logdir/canary-$1" out
  mkdir -p "$d"
  cat >"$d/canary.rs" <<'RS'
use std::cell::UnsafeCell;
use std::sync::Arc;
struct Racy(UnsafeCell<u64>);
unsafe impl Sync for Racy {}
fn main() {
    if std::env::args().nth(1).as_deref() == Some("race") {
        let s = Arc::new(Racy(UnsafeCell::new(0)));
        let s2 = s.clone();
        let t = std::thread::spawn(move || unsafe { *s2.0.get() += 1 });
        unsafe { *s.0.get() += 1 };
        t.join().unwrap();
    } else if std::env::args().nth(1).as_deref() == Some("leak") {
        std::mem::forget(Box::new([7u8; 100]));
    } else {
        let v = vec![1u64, 2, 3];
        let p = v.as_ptr();
        drop(v);
        println!("{}", unsafe { std::ptr::read_volatile(p.add(1)) });
    }
}
RS
  if ! rustc +nightly -Zsanitizer="$san" -Cunsafe-allow-abi-mismatch=sanitizer --target $target \
      -g "$d/canary.rs" -o "$d/canary" >"$d/build.log" 2>&1; then
    echo "canary: cannot build with -Zsanitizer=$san (see $d/build.log)" >&2
    return 1
  fi
  if [ "$san" = thread ]; then
    out=$(run_bin thread "$d/canary" race 2>&1)
    grep -q '^WARNING: ThreadSanitizer: data race' <<<"$out"
  else
    out=$(run_bin address "$d/canary" uaf 2>&1)
    out+=$(run_bin address "$d/canary" leak 2>&1)
    grep -q 'ERROR: AddressSanitizer: heap-use-after-free' <<<"$out" &&
      grep -q 'ERROR: LeakSanitizer: detected memory leaks' <<<"$out"
  fi || { echo "canary: -Zsanitizer=$san did not report the planted bug" >&2; return 1; }
  echo "   canary: planted bug reported (sanitizer active, suppressions do not hide it)"
}

run_san() {
  local san=$1 dir
  if [ "$san" = thread ]; then dir=${TSAN_TARGET_DIR:-$root/target/san-thread}; else dir=${ASAN_TARGET_DIR:-$root/target/san-address}; fi
  local t0=$SECONDS bins
  echo "== building test binaries with -Zsanitizer=$san (${profile[*]:-debug}) into $dir"
  canary "$san" || { status=1; summary+=("FAIL  $san canary"); return; }
  bins=$(build "$san" "$dir") || { status=1; return; }
  echo "   built in $((SECONDS - t0))s"
  t0=$SECONDS
  for b in $bins; do run_one "$san" "$b"; done
  summary+=("-- $san: test run took $((SECONDS - t0))s")
}

case "$which" in
  thread) run_san thread ;;
  address) run_san address ;;
  all) run_san thread; run_san address ;;
esac

echo
echo "== summary (logs in $logdir)"
printf '%s\n' "${summary[@]}"
total_tests=$(printf '%s\n' "${summary[@]}" | sed -n 's/^\([a-zA-Z]*\) .* tests \([0-9]*\)+\([0-9]*\) .*/\1 \2 \3/p' |
  awk '{p += $2; if ($1 == "flaky") {r += $3; p += $3} else f += $3}
       END {print p " passed, " f+0 " failed (" r+0 " passed only on a retry)"}')
total_reports=$(printf '%s\n' "${summary[@]}" | sed -n 's/.* reports \([0-9]*\) .*/\1/p' | awk '{s+=$1} END {print s+0}')
echo "tests: $total_tests; unsuppressed sanitizer reports: $total_reports"
if [ $status -ne 0 ]; then
  echo "sanitizers: FAILED (unsuppressed report, sanitizer error or failing test; see the logs)"
else
  echo "sanitizers: ok"
fi
exit $status
