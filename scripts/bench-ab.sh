#!/usr/bin/env bash
# Interleaved A/B of the bench harness between git revisions: builds `gochan-bench` at
# each revision (a worktree and target dir per revision under $AB_DIR), then runs
# `--quick --no-go --filter FILTER --rounds ROUNDS` for each revision in turn, PASSES times,
# and prints gochan's median per cell for each revision (all rounds of all passes pooled)
# with the best Rust peer's median over every run. On a shared machine a single run of a
# cell can be 20-50% off; interleaving and pooling is what makes a 10% change believable.
#
# Usage: scripts/bench-ab.sh FILTER PASSES ROUNDS REV...
#   e.g. scripts/bench-ab.sh /1000/sync 5 3 7b9cf1d HEAD
#   REV `.` means the working tree as it is (not committed).
# Env: AB_DIR (default /tmp/gochan-ab).
set -euo pipefail

if [ $# -lt 4 ]; then
  sed -n '2,13p' "$0"
  exit 2
fi
filter=$1 passes=$2 rounds=$3
shift 3
root=$(git rev-parse --show-toplevel)
ab=${AB_DIR:-/tmp/gochan-ab}
mkdir -p "$ab"

bins=()
tags=()
for rev in "$@"; do
  if [ "$rev" = . ]; then
    tag=worktree
    (cd "$root" && cargo build --release -q -p gochan-bench)
    cp "$root/target/release/gochan-bench" "$ab/bench-$tag"
  else
    tag=$(git -C "$root" rev-parse --short "$rev")
    if [ ! -x "$ab/bench-$tag" ]; then
      rm -rf "$ab/src-$tag"
      git -C "$root" worktree add -f --detach "$ab/src-$tag" "$rev" >/dev/null
      (cd "$ab/src-$tag" && CARGO_TARGET_DIR="$ab/target-$tag" cargo build --release -q -p gochan-bench)
      cp "$ab/target-$tag/release/gochan-bench" "$ab/bench-$tag"
      git -C "$root" worktree remove --force "$ab/src-$tag"
    fi
  fi
  bins+=("$ab/bench-$tag")
  tags+=("$tag")
done

rm -rf "$ab"/run-*
for p in $(seq "$passes"); do
  for i in "${!bins[@]}"; do
    "${bins[$i]}" --no-go --quick --rounds "$rounds" --filter "$filter" \
      --out "$ab/run-${tags[$i]}-$p" >/dev/null 2>&1
  done
done

python3 - "$ab" "${tags[@]}" <<'PY'
import glob, json, statistics, sys
ab, tags = sys.argv[1], sys.argv[2:]
rows = {}
for tag in tags:
    for f in glob.glob(f"{ab}/run-{tag}-*/results.json"):
        for cell in json.load(open(f))["cells"]:
            k = cell["key"]
            key = f"{k['workload']}/{k['cap']}/{k['mode']}/{k['msg']}"
            for name, v in cell["ns_per_msg"].items():
                name = f"gochan@{tag}" if name == "gochan" else name
                rows.setdefault(key, {}).setdefault(name, []).extend(v)
for key, r in rows.items():
    peers = {n: statistics.median(v) for n, v in r.items() if not n.startswith("gochan") and v}
    best = min(peers.items(), key=lambda x: x[1]) if peers else ("-", float("nan"))
    cols = " ".join(f"{t}={statistics.median(r['gochan@' + t]):8.1f}" for t in tags)
    print(f"{key:28s} {cols}   best peer {best[0]} {best[1]:.1f}")
PY
