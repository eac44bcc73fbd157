#!/usr/bin/env bash
# Checks each published crate's declared minimum Rust version (`rust-version`: gochan and
# gochan-http take the workspace's, gochan-grpc its own) against its dependencies: no
# package it needs to build (normal and build dependencies, all features, any target, the
# versions in Cargo.lock) may declare a newer `rust-version` than the crate does. Takes a second; offline
# once the registry cache holds the lock file's crates (`cargo metadata` reads the
# manifest of every locked package, for every target).
#
#   scripts/check-msrv.sh          # per crate, the dependencies declaring the newest versions
#   scripts/check-msrv.sh --all    # every dependency, also those that declare none
#
# Exits 1 if a dependency declares a newer rust-version than the crate needing it.
#
# How the versions were derived: gochan's code needs `Waker::data`/`Waker::vtable`
# (stable in 1.83; chan/node.rs) and `Option::is_none_or` (1.82); the locked tokio
# 1.54, tokio-util 0.7.20 and hyper-util 0.1.21 declare 1.85, tonic 0.14.9 declares 1.88
# (this script's tables). Checked with real toolchains:
#   cargo +1.85 check -p gochan -p gochan-http --all-features --lib
#   cargo +1.88 check -p gochan-grpc --all-features --lib
# The tests' dev-dependencies (proptest 1.12, trybuild 1.0.122, time 0.3.55) need 1.88,
# so running the test suite needs a newer toolchain than building the libraries.
set -euo pipefail
cd "$(dirname "$0")/.."

meta=$(cargo metadata --format-version 1 --all-features --locked --offline 2>/dev/null \
    || cargo metadata --format-version 1 --all-features --locked)

read -r -d '' check <<'PY' || true
import json, sys

show_all = "--all" in sys.argv[1:]
meta = json.load(sys.stdin)
pkgs = {p["id"]: p for p in meta["packages"]}
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
published = ("gochan", "gochan-http", "gochan-grpc")
roots = [p for p in meta["packages"] if p["name"] in published and p["source"] is None]


def ver(v):
    parts = [int(x) for x in (v or "0").split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def closure(root):
    """Normal and build dependencies (not dev), every target except loom model builds."""
    seen, stack, needed_by = set(), [root["id"]], {}
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        for d in nodes[pid]["deps"]:
            kinds = [k for k in d["dep_kinds"]
                     if k["kind"] in (None, "build") and k.get("target") != "cfg(loom)"]
            if kinds and d["pkg"] not in seen:
                needed_by.setdefault(d["pkg"], pkgs[pid]["name"])
                stack.append(d["pkg"])
    seen.discard(root["id"])
    return [(pkgs[pid], needed_by[pid]) for pid in seen]


failed = False
for root in sorted(roots, key=lambda p: p["name"]):
    ours = root.get("rust_version")
    if ours is None:
        print(f"{root['name']}: declares no rust-version", file=sys.stderr)
        failed = True
        continue
    deps = closure(root)
    rows, bad = [], []
    for p, parent in deps:
        rv = p.get("rust_version")
        if rv and ver(rv) > ver(ours):
            bad.append(f"{p['name']} {p['version']} (rust-version {rv}, needed by {parent})")
        if rv or show_all:
            rows.append((ver(rv), p["name"], p["version"], rv or "-", parent))
    rows.sort(key=lambda r: (r[0], r[1]), reverse=True)
    print(f"== {root['name']}: rust-version {ours}; {len(deps)} locked dependencies")
    print(f"{'rust-version':>12}  {'crate':<28} {'version':<12} needed by")
    for _, name, version, rv, parent in rows if show_all else rows[:8]:
        print(f"{rv:>12}  {name:<28} {version:<12} {parent}")
    if not show_all and len(rows) > 8:
        print(f"{'':>12}  ... {len(rows) - 8} more declare {rows[8][3]} or older (--all lists them)")
    if bad:
        failed = True
        print(f"{root['name']}: dependencies declare a newer rust-version than its {ours}:",
              *bad, sep="\n  ", file=sys.stderr)
    else:
        print(f"ok: none declares a rust-version above {ours}")
    print()
sys.exit(1 if failed else 0)
PY

python3 -c "$check" "$@" <<<"$meta"
