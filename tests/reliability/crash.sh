#!/usr/bin/env bash
# Crash recovery: Cot's calls killed half-way, and the whole server stopped
# under load, on a private cluster with durability on; after each recovery
# nothing is half-made and every acknowledged commit is there.
#
#   tests/reliability/crash.sh            short mode (CI): 100,000-row table, 3 kill
#                                         points per call, 4 s of load before the
#                                         immediate shutdown
#   COT_LONG=1 tests/reliability/crash.sh long mode: 1,000,000 rows, a kill after
#   tests/reliability/crash.sh --long     every step of every call, 30 s of load
#   COT_SKIP_INSTALL=1 ...                use the extension already installed
#   COT_KEEP_CLUSTER=1 ...                leave the cluster running afterwards
#
# Why not in tests/harness/run.sh: that harness fails a run whose server log
# says "terminated by signal", which is what these tests do on purpose. This
# cluster is separate, and has fsync, synchronous_commit and full_page_writes
# on (the harness turns them off for speed): an acknowledged commit must
# survive here. What is checked and why: docs/reliability.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config

# shellcheck source=tests/harness/cluster.sh
source "$ROOT/tests/harness/cluster.sh"

log() { printf '\033[1m[tests/reliability]\033[0m %s\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}

for arg in "$@"; do
  case "$arg" in
  --long) export COT_LONG=1 ;;
  *) die "unknown argument $arg (expected --long)" ;;
  esac
done

if [ "${COT_SKIP_INSTALL:-0}" != 1 ]; then
  log "building and installing the extension (release)"
  cargo pgrx install --release --pg-config "$PG_CONFIG"
fi
[ -f "$("$PG_CONFIG" --sharedir)/extension/cot.control" ] ||
  die "cot is not installed (run without COT_SKIP_INSTALL=1)"
if [ ! -d tests/clients/node_modules ]; then
  log "installing the Node test clients (npm ci)"
  (cd tests/clients && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

unset COT_CLUSTER_DIR
# shellcheck disable=SC2317 # called by the EXIT trap
finish() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "${COT_CLUSTER_DIR:-}" ]; then
    [ "$rc" -eq 0 ] || cluster_log_tail "$COT_CLUSTER_DIR"
    if [ "${COT_KEEP_CLUSTER:-0}" = 1 ]; then
      log "cluster left running (COT_KEEP_CLUSTER=1):"
      cluster_info "$COT_CLUSTER_DIR" cot_crash >&2
    else
      cluster_stop "$COT_CLUSTER_DIR"
    fi
  fi
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cluster_start "${COT_TEST_DIR:-}"
# Durability as in production: the later lines of postgresql.conf win.
_cot_as_owner tee -a "$COT_CLUSTER_DIR/data/postgresql.conf" >/dev/null <<CONF

# --- added by tests/reliability/crash.sh: durability on ---
fsync = on
synchronous_commit = on
full_page_writes = on
restart_after_crash = on
log_min_messages = log
log_checkpoints = on
CONF
_cot_as_owner "$COT_PG_BINDIR/pg_ctl" restart -D "$COT_CLUSTER_DIR/data" -l "$COT_CLUSTER_LOG" \
  -m fast -w -t 60 >/dev/null
log "cluster in $COT_CLUSTER_DIR (socket $PGHOST, port $PGPORT), durability on"

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c 'CREATE DATABASE cot_crash'
psql -X -q -v ON_ERROR_STOP=1 -d cot_crash -c 'CREATE EXTENSION cot' -f tests/sql/lib/helpers.sql >/dev/null

log "crash tests ($([ "${COT_LONG:-0}" = 1 ] && echo long || echo short) mode)"
COT_CRASH_DB=cot_crash node tests/reliability/crash.mjs

# The kills are expected in the log; a PANIC (a WAL or checkpoint that does
# not read back) is not.
if grep -E 'PANIC:' "$COT_CLUSTER_LOG" >&2; then
  die "the server log has a PANIC"
fi
log "server log: $(grep -c 'terminated by signal 9' "$COT_CLUSTER_LOG") backends killed, no PANIC"
