#!/usr/bin/env bash
# Cot's database tests, against a real PostgreSQL 15, runnable as root.
#
#   tests/harness/run.sh                 build + install the extension, run everything
#   tests/harness/run.sh FILE...         only these tests (tests/sql/*.sql go to
#                                  pg_prove, tests/clients/*.test.mjs to node)
#   COT_SKIP_INSTALL=1 tests/harness/run.sh   use the extension already installed
#   COT_KEEP_CLUSTER=1 tests/harness/run.sh   leave the cluster running afterwards
#                                       (to look at a failure); it prints where
#
# Steps: `cargo pgrx install --release` into Debian's PG 15 directories; a
# private cluster under /tmp owned by the postgres user (initdb refuses root,
# and `cargo pgrx regress` does not work as root); database cot_test with
# pgtap and cot; every pgTAP file in tests/sql with pg_prove; the Node
# real-session tests in tests/clients (they create their own databases in the
# same cluster); then the cluster is stopped and removed, also on failure.
# Exits non-zero if any layer fails; both layers run even if the first fails,
# so one run shows everything that is broken.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
TEST_DB=cot_test

# shellcheck source=tests/harness/cluster.sh
source "$ROOT/tests/harness/cluster.sh"

log() { printf '\033[1m[tests/harness]\033[0m %s\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}

# --- which tests -------------------------------------------------------------
sql_tests=()
node_tests=()
if [ $# -gt 0 ]; then
  for f in "$@"; do
    case "$f" in
    *.sql) sql_tests+=("$f") ;;
    *.mjs | *.js) node_tests+=("${f#tests/clients/}") ;;
    *) die "do not know how to run $f (expected tests/sql/*.sql or tests/clients/*.test.mjs)" ;;
    esac
  done
else
  shopt -s nullglob
  sql_tests=(tests/sql/*.sql)
  node_tests=()
  for f in tests/clients/*.test.mjs; do node_tests+=("${f#tests/clients/}"); done
  shopt -u nullglob
  [ ${#sql_tests[@]} -gt 0 ] || die "no pgTAP files in tests/sql"
fi

# --- build and install -------------------------------------------------------
if [ "${COT_SKIP_INSTALL:-0}" != 1 ]; then
  log "building and installing the extension (release)"
  cargo pgrx install --release --pg-config "$PG_CONFIG"
fi
[ -f "$("$PG_CONFIG" --sharedir)/extension/cot.control" ] ||
  die "cot is not installed in $("$PG_CONFIG" --sharedir)/extension (run without COT_SKIP_INSTALL=1)"

if [ ${#node_tests[@]} -gt 0 ] && [ ! -d tests/clients/node_modules ]; then
  log "installing the Node test clients (npm ci)"
  (cd tests/clients && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

# --- private cluster ---------------------------------------------------------
# A COT_CLUSTER_DIR inherited from a calling script is not ours to stop.
unset COT_CLUSTER_DIR
# shellcheck disable=SC2317 # called by the EXIT trap
finish() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "${COT_CLUSTER_DIR:-}" ]; then
    [ "$rc" -eq 0 ] || cluster_log_tail "$COT_CLUSTER_DIR"
    if [ "${COT_KEEP_CLUSTER:-0}" = 1 ]; then
      log "cluster left running (COT_KEEP_CLUSTER=1):"
      cluster_info "$COT_CLUSTER_DIR" "$TEST_DB" >&2
      log "stop it with: bash -c 'source tests/harness/cluster.sh; cluster_stop $COT_CLUSTER_DIR'"
    else
      cluster_stop "$COT_CLUSTER_DIR"
    fi
  fi
  exit "$rc"
}
trap finish EXIT
# Ctrl-C or a CI cancel must still remove the cluster: turn them into an exit.
trap 'exit 130' INT
trap 'exit 143' TERM

cluster_start "${COT_TEST_DIR:-}"
log "cluster in $COT_CLUSTER_DIR (socket $PGHOST, port $PGPORT)"

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $TEST_DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$TEST_DB" -c 'CREATE EXTENSION pgtap; CREATE EXTENSION cot;' ||
  die "CREATE EXTENSION failed"
# Helpers every pgTAP file uses (cot_test.sqlstate_of, cot_test.error_of).
psql -X -q -v ON_ERROR_STOP=1 -d "$TEST_DB" -f tests/sql/lib/helpers.sql >/dev/null ||
  die "loading tests/sql/lib/helpers.sql failed"

# --- the layers --------------------------------------------------------------
declare -A result=()
failed=0

if [ ${#sql_tests[@]} -gt 0 ]; then
  log "pgTAP: ${#sql_tests[@]} file(s)"
  # Each file is one psql session with its own plan; pg_prove sets
  # ON_ERROR_STOP and friends itself.
  if pg_prove --dbname "$TEST_DB" "${sql_tests[@]}"; then
    result[pgtap]=passed
  else
    result[pgtap]=FAILED
    failed=1
  fi
fi

if [ ${#node_tests[@]} -gt 0 ]; then
  log "Node sessions: ${node_tests[*]}"
  # The tests read PGHOST/PGPORT/PGUSER and use PGDATABASE only as the admin
  # database from which they create their own.
  # --test-force-exit: a file whose tests are done exits even if a client
  # library left a timer behind (a realtime-js rejoin timer once kept one
  # alive for good, and the run with it).
  if (cd tests/clients && PGDATABASE=postgres node --test --test-force-exit --test-reporter=spec "${node_tests[@]}"); then
    result[node]=passed
  else
    result[node]=FAILED
    failed=1
  fi
fi

# A backend that crashed (a segfault in the extension, say) is a failure even
# when the tests around it passed: Postgres recovers and carries on quietly.
if grep -E 'terminated by signal|PANIC:' "$COT_CLUSTER_LOG" >&2; then
  result[server]="FAILED (a backend crashed, see above)"
  failed=1
else
  result[server]="no crashes"
fi

log "summary:"
for k in pgtap node server; do
  [ -n "${result[$k]:-}" ] && printf '  %-8s %s\n' "$k" "${result[$k]}" >&2
done
exit "$failed"
