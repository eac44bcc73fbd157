#!/usr/bin/env bash
# Runs gochan's integration test binaries under valgrind memcheck (issue 8).
# Usage: scripts/valgrind.sh [test-name ...]   (default: every tests/*.rs of gochan)
# Fails on any memcheck error or any definitely/indirectly lost block. Needs `valgrind`
# (Debian package `valgrind`). Debug build; expect ~10-20 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in crates/gochan/tests/*.rs; do
    n=$(basename "$f" .rs)
    case "$n" in loom_*) continue ;; esac # loom models need --cfg loom
    names+=("$n")
  done
fi
args=()
for n in "${names[@]}"; do args+=(--test "$n"); done
bins=$(cargo test -p gochan --all-features --no-run "${args[@]}" 2>&1 |
  sed -n 's/.*Executable tests\/.*(\(.*\))/\1/p')
status=0
for b in $bins; do
  log="target/valgrind-$(basename "$b").log"
  if valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
      --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --fair-sched=yes \
      "$b" --test-threads=1 >"$log" 2>&1; then
    echo "ok   $(basename "$b"): $(grep -m1 'test result' "$log" | cut -c1-40)"
  else
    echo "FAIL $(basename "$b") (see $log)"
    status=1
  fi
done
exit $status
