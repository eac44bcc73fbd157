#!/usr/bin/env python3
"""Copies the header and table of bench/results/results.md into README.md between the
<!-- bench:begin --> and <!-- bench:end --> markers. Run after a full harness run."""
import pathlib, re
root = pathlib.Path(__file__).resolve().parent.parent
res = (root / "bench/results/results.md").read_text()
body = res.split("\n", 1)[1].strip()  # drop the "# ..." title
readme = root / "README.md"
s = readme.read_text()
s = re.sub(r"<!-- bench:begin -->.*<!-- bench:end -->",
           "<!-- bench:begin -->\n" + body.replace("\\", "\\\\") + "\n<!-- bench:end -->", s, flags=re.S)
readme.write_text(s)
