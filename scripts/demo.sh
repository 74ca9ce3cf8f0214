#!/usr/bin/env bash
# Cot's demo in one command: install what is needed, build and install the
# extension, start a private PostgreSQL 15 cluster, and run demo/demo.sql in a
# database cot_demo, echoing every statement with its result.
#
#   scripts/demo.sh           run the demo, then stop and remove the cluster
#   scripts/demo.sh --keep    run the demo and leave the cluster running, to
#                             explore with psql (it prints how to connect)
#   scripts/demo.sh --stop    stop and remove a cluster left by --keep
#
# Environment: COT_DEMO_DIR (default /tmp/cot-demo) is where the cluster
# lives; COT_SKIP_INSTALL=1 skips setup and the build (uses what is installed).
# Each run starts from an empty cluster, so it can be repeated.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
DEMO_DIR=${COT_DEMO_DIR:-/tmp/cot-demo}
DB=cot_demo

# shellcheck source=pg_test/cluster.sh
source "$ROOT/pg_test/cluster.sh"
log() { printf '\033[1m[demo]\033[0m %s\n' "$*" >&2; }

keep=0
case "${1:-}" in
"") ;;
--keep) keep=1 ;;
--stop)
  if [ -d "$DEMO_DIR" ]; then
    cluster_stop "$DEMO_DIR"
    log "demo cluster in $DEMO_DIR stopped and removed"
  else
    log "no demo cluster in $DEMO_DIR"
  fi
  exit 0
  ;;
-h | --help)
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  exit 0
  ;;
*)
  echo "usage: $0 [--keep | --stop]" >&2
  exit 2
  ;;
esac

if [ "${COT_SKIP_INSTALL:-0}" != 1 ]; then
  bash scripts/setup.sh
  log "building and installing the extension (release; the first build takes several minutes)"
  cargo pgrx install --release --pg-config "$PG_CONFIG"
fi

# A cluster left by an earlier --keep run (or an interrupted run) goes first,
# so the demo always starts empty.
cluster_stop "$DEMO_DIR"
unset COT_CLUSTER_DIR
# shellcheck disable=SC2317 # called by the EXIT trap
finish() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "$keep" = 1 ] && [ "$rc" -eq 0 ]; then
    echo
    log "the cluster keeps running. Connect with:"
    echo "  psql -h $PGHOST -p $PGPORT -U postgres $DB"
    log "stop and remove it with:"
    echo "  scripts/demo.sh --stop"
    [ "$DEMO_DIR" = /tmp/cot-demo ] || echo "  (with COT_DEMO_DIR=$DEMO_DIR)"
  else
    if [ "$rc" -ne 0 ] && [ -f "$DEMO_DIR/postgres.log" ]; then
      log "the demo failed; server log, last lines:"
      tail -n 20 "$DEMO_DIR/postgres.log" >&2 || true
    fi
    cluster_stop "$DEMO_DIR"
  fi
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cluster_start "$DEMO_DIR"
log "PostgreSQL 15 running in $DEMO_DIR (socket $PGHOST, port $PGPORT)"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -c 'CREATE EXTENSION cot'

# --echo-queries shows each statement before its result; -X ignores any
# ~/.psqlrc so the output is the same on every machine.
PAGER="cat" psql -X -v ON_ERROR_STOP=1 --echo-queries -d "$DB" -f demo/demo.sql
