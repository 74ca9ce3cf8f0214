#!/usr/bin/env python3
"""Source files over 600 lines and functions over 150 lines in the Rust
crates (engine/src, src, realtime/src), test code included. A function is measured from
its `fn` line to the closing brace at the same indentation (the code is
rustfmt-formatted). Exits 1 when something is over, so CI can run it."""
import os
import re
import sys

ROOTS = sys.argv[1:] or ["engine/src", "src", "realtime/src"]
MAX_FILE, MAX_FN = 600, 150
FN = re.compile(r"^(\s*)(pub(\([a-z:]+\))? )?(const )?(unsafe )?(async )?fn (\w+)")

over = []
for root in ROOTS:
    for dirpath, _, files in os.walk(root):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(dirpath, name)
            lines = open(path, encoding="utf-8").read().split("\n")
            if len(lines) > MAX_FILE:
                over.append(f"{path}: {len(lines)} lines (file)")
            for i, line in enumerate(lines):
                m = FN.match(line)
                if not m or line.rstrip().endswith(";"):
                    continue
                indent = m.group(1)
                end = next((j for j in range(i + 1, len(lines)) if lines[j] == indent + "}"), i)
                if end - i + 1 > MAX_FN:
                    over.append(f"{path}:{i + 1}: fn {m.group(7)} is {end - i + 1} lines")
for o in over:
    print(o)
print(f"{len(over)} over the limits (files {MAX_FILE} lines, functions {MAX_FN})")
sys.exit(1 if over else 0)
