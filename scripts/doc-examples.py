#!/usr/bin/env python3
"""Lists the public items of a crate whose documentation has no code example.

Reads rustdoc's JSON output (nightly), so first run, e.g.:

    cargo +nightly rustdoc -p gochan --all-features -- -Z unstable-options --output-format json
    scripts/doc-examples.py [--all] target/doc/gochan.json

Counted: every public item reachable from the crate root (functions, structs, enums,
traits, macros, type aliases, constants, statics), the public methods and constants of
inherent impls, and the methods of public traits. Not counted: modules, fields, enum
variants, associated types and trait impls. An example is a fenced code block that
rustdoc runs or compiles (not `ignore`, `text` or another language). Exits 1 if any
item lacks one. `--all` lists every counted item, marked ok or MISSING.
"""
import json
import re
import sys

COUNTED = {"function", "struct", "enum", "union", "trait", "macro", "proc_macro",
           "type_alias", "constant", "static", "assoc_const"}
FENCE = re.compile(r"^\s*(```+|~~~+)(.*)$")


def has_example(docs):
    """True if `docs` holds a fenced block rustdoc tests (runs or compiles)."""
    if not docs:
        return False
    for line in docs.splitlines():
        m = FENCE.match(line)
        if not m:
            continue
        info = [t.strip() for t in re.split(r"[,\s]+", m.group(2)) if t.strip()]
        if any(t in ("ignore", "text") for t in info):
            continue
        other = [t for t in info if t not in ("rust", "no_run", "should_panic",
                                               "compile_fail", "edition2018",
                                               "edition2021", "edition2024")
                 and not t.startswith("E")]
        if not other:
            return True
    return False


def hidden(item):
    return any("doc(hidden)" in json.dumps(a) for a in item.get("attrs", []))


def main(path, show_all=False):
    d = json.load(open(path))
    ix = d["index"]
    seen, found = set(), []

    def name_of(item, parent):
        return f"{parent}::{item['name']}" if parent else item["name"]

    def visit(iid, parent):
        item = ix.get(str(iid))
        if item is None or iid in seen or hidden(item):
            return
        seen.add(iid)
        kind, inner = next(iter(item["inner"].items()))
        name = name_of(item, parent)
        if kind == "module":
            for child in inner["items"]:
                visit(child, name)
            return
        if kind == "use":
            if inner.get("id") is not None and not inner["is_glob"]:
                target = ix.get(str(inner["id"]))
                if target is not None and item["visibility"] == "public":
                    visit(inner["id"], parent)
            return
        if item["visibility"] != "public" and kind not in ("function", "assoc_const"):
            return
        if kind in COUNTED:
            found.append((name, kind, has_example(item["docs"]), item.get("span")))
        impls = inner.get("impls", []) if isinstance(inner, dict) else []
        for impl_id in impls:
            imp = ix.get(str(impl_id))
            if imp is None or imp["inner"]["impl"]["trait"] is not None:
                continue
            if imp["inner"]["impl"]["is_synthetic"] or imp["inner"]["impl"]["blanket_impl"]:
                continue
            for m in imp["inner"]["impl"]["items"]:
                mi = ix[str(m)]
                if mi["visibility"] == "public" and not hidden(mi):
                    visit(m, name)
        if kind == "trait":
            for m in inner["items"]:
                visit(m, name)

    visit(d["root"], "")
    missing = [f for f in found if not f[2]]
    for name, kind, ok, span in sorted(found if show_all else missing):
        where = f"{span['filename']}:{span['begin'][0]}" if span else "?"
        mark = "" if not show_all else ("ok      " if ok else "MISSING ")
        print(f"{mark}{kind:10} {name}  ({where})")
    print(f"{len(found) - len(missing)} of {len(found)} public items have an example; "
          f"{len(missing)} lack one", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    show = "--all" in args
    args = [a for a in args if a != "--all"]
    if len(args) != 1:
        sys.exit(f"usage: {sys.argv[0]} [--all] target/doc/<crate>.json")
    sys.exit(main(args[0], show))
