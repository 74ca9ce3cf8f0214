#!/usr/bin/env bash
# The studio's figures (docs/benchmarks.md, "Studio"):
#   1. the initial JavaScript of a first visit, gzip (budget 250 KB): studio/bench/size.mjs
#   2. a tenant of 300 entities and 400 relations in headless Chromium: the
#      studio ready, the diagram drawn (budget 2 s each), list filtering per
#      keystroke: studio/bench/load.mjs (a private cluster, PostgREST and the
#      front door, as the browser tests use them)
#   3. the records browser on an entity of COT_BENCH_ROWS records (default
#      1,000,000): first page, next page (budget 300 ms), filter change
#      (budget 500 ms): studio/bench/records.mjs
#
#   bench/studio.sh [--entities N] [--rounds R]     (defaults 300 and 3)
#
# The extension must be installed for COT_PG_BINDIR's PostgreSQL (default
# Debian's). Builds studio/dist first.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/scripts/studio.sh" build
cd "$ROOT/studio"
node bench/size.mjs
node bench/load.mjs "$@"
node bench/records.mjs --rows "${COT_BENCH_ROWS:-1000000}"
