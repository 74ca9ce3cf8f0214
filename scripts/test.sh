#!/usr/bin/env bash
# Every test layer of Cot, in one command, on a fresh Debian 12 machine with
# Rust, as root (this is what CI runs, through .ci/run):
#
#   1. scripts/setup.sh                     packages, cargo-pgrx, npm ci
#   2. cargo fmt --all --check              formatting
#   3. cargo clippy ... -D warnings         lints, for the extension and the engine
#   4. scripts/checks/*.py                  no module cycle in the engine, no file over
#                                           600 lines, no function over 150
#   5. cargo test -p cot-engine             the pure engine: unit + property tests
#      cargo test/build -p cot-realtime     the real-time server: unit tests, release binary
#   6. tests/harness/run.sh                 install the extension; pgTAP and real
#                                           client sessions on a private cluster
#   7. tests/reliability/crash.sh           kill -9 of Cot's calls at their steps, an
#                                           immediate shutdown under load; recovery is
#                                           consistent and loses no acknowledged commit
#                                           (short mode; COT_LONG=1 for the long one)
#   8. tests/reliability/sqlsmith.sh --short  90 s of random SQL (sqlsmith): no crash, no
#                                           internal error from Cot
#      tests/scale/tenant_move.sh           a tenant moved to a second cluster by logical
#                                           replication and served there (~10 s)
#   9. bench/soak.sh --minutes 2            mixed load through PostgREST: only expected
#                                           outcomes, throughput and memory within bounds
#  10. tests/upgrade/run.sh                 the previous release upgraded to this one
#                                           equals a fresh install; tenants upgraded
#  11. tests/package/run.sh                 build the .deb and tarball (scripts/package.sh),
#                                           install, use and remove the .deb
#  12. scripts/studio.sh test              the studio: strict type check, build, and its
#                                           browser tests (Playwright, Debian's Chromium)
#                                           against the real stack, axe-core on each screen
#
# A failing step does not stop the later ones (except setup, which they all
# need): one run reports everything that is broken. The summary at the end
# gives each step's result and time; the exit status is non-zero if any failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

log() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }

names=()
results=()
times=()
failed=0
TRANSCRIPT=$(mktemp /tmp/cot-test-transcript.XXXXXX)
trap 'rm -f "$TRANSCRIPT"' EXIT

# step NAME CMD...: run CMD, remember how it went and how long it took.
step() {
  local name=$1 start rc
  shift
  log "$name"
  start=$SECONDS
  set +e
  # Everything a step prints also goes to the transcript the closing count reads.
  "$@" 2>&1 | tee -a "$TRANSCRIPT"
  rc=${PIPESTATUS[0]}
  set -e
  names+=("$name")
  times+=($((SECONDS - start)))
  if [ "$rc" -eq 0 ]; then
    results+=("ok")
  else
    results+=("FAILED (exit $rc)")
    failed=1
  fi
  return "$rc"
}

summary() {
  printf '\n\033[1m==> summary\033[0m\n' >&2
  local i
  for i in "${!names[@]}"; do
    printf '  %-45s %-16s %5ss\n' "${names[$i]}" "${results[$i]}" "${times[$i]}" >&2
  done
  if [ "$failed" -eq 0 ]; then
    printf '  all passed\n' >&2
  else
    printf '  SOME STEPS FAILED\n' >&2
  fi
}

if ! step "setup (scripts/setup.sh)" bash scripts/setup.sh; then
  summary
  exit 1
fi
# cargo was possibly just installed into ~/.cargo/bin by a fresh toolchain.
export PATH="$HOME/.cargo/bin:$PATH"

step "cargo fmt --all --check" cargo fmt --all --check || true
step "cargo clippy --workspace --all-targets" cargo clippy --workspace --all-targets -- -D warnings || true
step "layout: module cycles, file and function sizes" \
  bash -c 'python3 scripts/checks/module_cycles.py && python3 scripts/checks/sizes.py' || true
step "cargo test -p cot-engine" cargo test -p cot-engine || true
# The real-time server: its unit tests, and the release binary the client
# sessions (tests/clients/realtime.test.mjs) run.
step "cot-realtime: cargo test, cargo build --release" \
  bash -c 'cargo test --release -p cot-realtime && cargo build --release -p cot-realtime' || true
step "tests/harness/run.sh (pgTAP + client sessions)" bash tests/harness/run.sh || true
# The next three use the extension the harness installed, each on its own
# cluster (kills are expected in the crash suite's log; docs/reliability.md,
# docs/reliability-load.md).
step "tests/reliability/crash.sh (crash recovery)" env COT_SKIP_INSTALL=1 bash tests/reliability/crash.sh || true
step "tests/reliability/sqlsmith.sh --short (random SQL)" env COT_SKIP_INSTALL=1 bash tests/reliability/sqlsmith.sh --short || true
step "tests/scale/tenant_move.sh (a tenant moved by logical replication)" env COT_SKIP_INSTALL=1 bash tests/scale/tenant_move.sh || true
step "bench/soak.sh --minutes 2 (mixed load through PostgREST)" env COT_SKIP_INSTALL=1 bash bench/soak.sh --minutes 2 || true
step "tests/upgrade/run.sh (upgrade from the previous release)" bash tests/upgrade/run.sh || true
step "tests/package/run.sh (.deb install)" bash tests/package/run.sh || true
# After the harness, which installed the extension the stack needs.
step "scripts/studio.sh test (studio: build + browser tests)" bash scripts/studio.sh test || true

summary

# One closing line that counts the tests every runner reported: the engine's
# cargo tests, the pgTAP assertions, the Node client tests and the package checks.
awk '
  /^test result: / { for (i = 1; i <= NF; i++) { if ($i == "passed;") p += $(i - 1); if ($i == "failed;") f += $(i - 1) } }
  /^Files=[0-9]+, Tests=[0-9]+/ { split($2, a, "="); sub(",", "", a[2]); tap += a[2] }
  /^Failed [0-9]+\/[0-9]+ subtests/ { split($2, a, "/"); tapf += a[1] }
  /^[^ ]+ pass [0-9]+$/ { p += $3 }
  /^[^ ]+ fail [0-9]+$/ { f += $3 }
  /^package: [0-9]+ passed, [0-9]+ failed$/ { p += $2; f += $4 }
  /^ +[0-9]+ passed \([0-9.]+[a-z]+\)$/ { p += $1 }
  /^ +[0-9]+ failed$/ { f += $1 }
  END { printf "tests: %d passed, %d failed\n", p + tap - tapf, f + tapf }
' "$TRANSCRIPT"
exit "$failed"
