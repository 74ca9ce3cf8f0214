#!/usr/bin/env bash
# Random SQL against Cot with sqlsmith, looking for server crashes and
# internal errors (docs/reliability-load.md, "crash hunt").
#
#   tests/reliability/sqlsmith.sh                 20 minutes
#   tests/reliability/sqlsmith.sh --minutes N     N minutes
#   tests/reliability/sqlsmith.sh --short         90 seconds (what CI runs)
#   options: --seed N (first seed; default the time), --keep (leave the cluster),
#            --pin-library (a private copy of cot.so for this cluster: for long
#            runs on a machine where other builds get installed meanwhile)
#   COT_SKIP_INSTALL=1: use the extension already installed (else it is built
#   and installed first, like tests/harness/run.sh)
#
# A private cluster (tests/harness/cluster.sh) with the server log in CSV;
# a database with Cot, three tenants made by tests/reliability/fixture.sql
# (every field type, relations, owner and public rules, rows) and a table of
# inputs for Cot's functions (tests/reliability/corpus.sql). sqlsmith runs
# in turns of CHUNK seconds, each with a new seed, as:
#   - the superuser;
#   - login roles that inherit a tenant role (user, admin, anon), with the
#     request.jwt.claims of that tenant set on the role, as PostgREST would
#     set them per request;
#   - a login role of tenant rel_a whose claims name tenant rel_b.
# sqlsmith runs every statement in a transaction it rolls back, with a 1 s
# statement_timeout.
#
# Fails (exit 1) if the server log shows a backend terminated by a signal or
# a PANIC, or an XX000 (internal error) from a statement that calls Cot
# (`cot.` in its text or context). Prints queries run, errors by SQLSTATE
# and both counts.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
DB=smith
TENANTS=(rel_a rel_b rel_c)

# shellcheck source=tests/harness/cluster.sh
source "$ROOT/tests/harness/cluster.sh"
# shellcheck source=tests/reliability/lib.sh
source "$ROOT/tests/reliability/lib.sh"
log() { printf '\033[1m[sqlsmith]\033[0m %s\n' "$*" >&2; }
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

minutes=20
seconds=
seed=$(date +%s)
keep=0
pin=0
while [ $# -gt 0 ]; do
  case "$1" in
  --short) seconds=90 ;;
  --minutes)
    minutes=$2
    shift
    ;;
  --seed)
    seed=$2
    shift
    ;;
  --keep) keep=1 ;;
  --pin-library) pin=1 ;;
  -h | --help)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 0
    ;;
  *)
    echo "usage: $0 [--short | --minutes N] [--seed N] [--keep]" >&2
    exit 2
    ;;
  esac
  shift
done
seconds=${seconds:-$((minutes * 60))}
# A turn: long enough that loading the schema (2-3 s) is a small part of it,
# short enough that every target gets several turns and sqlsmith's
# "impedance" (it stops generating calls that always fail) is reset often.
if [ "$seconds" -le 120 ]; then CHUNK=12; else CHUNK=60; fi

# --- sqlsmith ----------------------------------------------------------------
if ! command -v sqlsmith >/dev/null; then
  log "installing sqlsmith (Debian package)"
  if [ "$(id -u)" -ne 0 ]; then
    log "sqlsmith is missing and only root can install it: apt-get install sqlsmith"
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends sqlsmith >/dev/null
fi

if [ "${COT_SKIP_INSTALL:-0}" != 1 ]; then
  log "building and installing the extension (release)"
  cargo pgrx install --release --pg-config "$PG_CONFIG"
fi

# --- the cluster -------------------------------------------------------------
unset COT_CLUSTER_DIR
WORK=
# shellcheck disable=SC2317 # called by the EXIT trap
finish() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "${COT_CLUSTER_DIR:-}" ]; then
    if [ "$keep" = 1 ]; then
      log "cluster left running:"
      cluster_info "$COT_CLUSTER_DIR" "$DB" >&2
    else
      cluster_stop "$COT_CLUSTER_DIR"
    fi
  fi
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cluster_start "${COT_SMITH_DIR:-}"
WORK="$COT_CLUSTER_DIR/work"
mkdir -p "$WORK"
chmod 777 "$WORK"
# The log as CSV (one record per error, with SQLSTATE, statement, context,
# source location and application name) needs the logging collector: a
# restart.
q -d postgres <<SQL
ALTER SYSTEM SET logging_collector = on;
ALTER SYSTEM SET log_destination = 'csvlog';
ALTER SYSTEM SET log_directory = '$COT_CLUSTER_DIR/csvlog';
ALTER SYSTEM SET log_filename = 'postgres.log';
ALTER SYSTEM SET log_rotation_size = 0;
ALTER SYSTEM SET log_error_verbosity = verbose;
-- Calls per function, to show how much of Cot sqlsmith reached.
ALTER SYSTEM SET track_functions = 'all';
SQL
_cot_as_owner "$COT_PG_BINDIR/pg_ctl" restart -D "$COT_CLUSTER_DIR/data" -l "$COT_CLUSTER_LOG" \
  -o "-p $PGPORT" -w -t 60 >/dev/null
CSV="$COT_CLUSTER_DIR/csvlog/postgres.csv"

log "database $DB: tenants ${TENANTS[*]}, login roles for sqlsmith"
q -d postgres -c "CREATE DATABASE $DB"
q -d "$DB" -c 'CREATE EXTENSION cot'
[ "$pin" = 0 ] || pin_library "$DB"
for t in "${TENANTS[@]}"; do
  q -d "$DB" -v tenant="$t" -v rows=200 -f tests/reliability/fixture.sql
done
q -d "$DB" -f tests/reliability/corpus.sql
claims() { printf '{"role": "cot_%s_%s", "tenant": "%s", "sub": "user-1"}' "$1" "$2" "$3"; }
q -d "$DB" <<SQL
CREATE ROLE smith_a_user LOGIN IN ROLE cot_rel_a_user;
CREATE ROLE smith_a_admin LOGIN IN ROLE cot_rel_a_admin;
CREATE ROLE smith_b_anon LOGIN IN ROLE cot_rel_b_anon;
CREATE ROLE smith_a_as_b LOGIN IN ROLE cot_rel_a_user;
ALTER ROLE smith_a_user SET request.jwt.claims = '$(claims rel_a user rel_a)';
ALTER ROLE smith_a_admin SET request.jwt.claims = '$(claims rel_a admin rel_a)';
ALTER ROLE smith_b_anon SET request.jwt.claims = '$(claims rel_b anon rel_b)';
ALTER ROLE smith_a_as_b SET request.jwt.claims = '$(claims rel_a user rel_b)';
SQL

lib_before=$(lib_stamp)
# --- the runs ----------------------------------------------------------------
targets=(postgres smith_a_user postgres smith_a_admin postgres smith_b_anon smith_a_as_b)
deadline=$((SECONDS + seconds))
queries=0
turns=0
i=0
log "running for ${seconds}s in turns of ${CHUNK}s, first seed $seed"
while [ "$SECONDS" -lt "$deadline" ]; do
  user=${targets[$((i % ${#targets[@]}))]}
  left=$((deadline - SECONDS))
  turn=$((left < CHUNK ? left : CHUNK))
  # A turn shorter than half a chunk may end before sqlsmith has loaded the
  # schema (several seconds on a busy machine): leave the rest unused.
  [ "$turn" -ge $((CHUNK / 2)) ] || break
  s=$((seed + i))
  out="$WORK/turn_$i.err"
  # SIGINT makes sqlsmith print its report ("queries: N", errors) and exit 1.
  set +e
  timeout -s INT "$turn" sqlsmith --verbose --seed="$s" \
    --target="host=$PGHOST port=$PGPORT dbname=$DB user=$user" >/dev/null 2>"$out"
  rc=$?
  set -e
  n=$(sed -n 's/^queries: \([0-9]*\)$/\1/p' "$out" | tail -n 1)
  if [ -z "$n" ] && [ "$rc" -eq 124 ] && ! grep -q 'Loading routine parameters...done' "$out"; then
    # Interrupted while still reading the catalog (its SIGINT handler, which
    # prints the report, is installed after that): no query was sent.
    log "turn $((turns + 1)): $user, seed $s: the turn ended before sqlsmith had read the schema"
    n=0
  elif [ -z "$n" ]; then
    log "sqlsmith as $user (seed $s) gave no report (exit $rc):"
    tail -n 20 "$out" >&2
    exit 1
  fi
  queries=$((queries + n))
  turns=$((turns + 1))
  log "turn $turns: $user, seed $s: $n queries"
  i=$((i + 1))
done

# --- the summary -------------------------------------------------------------
# How often sqlsmith's statements reached Cot's functions (calls counted in
# rolled-back transactions too).
sleep 1
q -d "$DB" -At -F ' ' -c "SELECT sum(calls), count(*) FROM pg_stat_user_functions WHERE schemaname = 'cot'" >"$WORK/cot_calls"
q -d "$DB" -At -F ' ' -c "SELECT calls, funcname FROM pg_stat_user_functions WHERE schemaname = 'cot'
                           ORDER BY calls DESC, funcname" >"$WORK/cot_calls_by_function"
# The collector writes asynchronously; stop the server so the log is complete.
_cot_as_owner "$COT_PG_BINDIR/pg_ctl" stop -D "$COT_CLUSTER_DIR/data" -m fast -w >/dev/null
lib_check "$lib_before"
rc=0
python3 tests/reliability/smith_report.py "$CSV" "$queries" "$turns" "$WORK/failures.txt" || rc=$?
read -r calls functions <"$WORK/cot_calls" || true
echo "calls of Cot's functions: ${calls:-0}, to ${functions:-0} functions:" \
  "$(awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }' "$WORK/cot_calls_by_function")"
if [ "$keep" = 1 ]; then
  _cot_as_owner "$COT_PG_BINDIR/pg_ctl" start -D "$COT_CLUSTER_DIR/data" -l "$COT_CLUSTER_LOG" \
    -o "-p $PGPORT" -w -t 60 >/dev/null
  log "the statements that failed the run, if any: $WORK/failures.txt; the log: $CSV"
fi
exit "$rc"
