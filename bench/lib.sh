# Shared by the benchmark scripts (sourced, not run): a private cluster for
# the run, the extension installed unless COT_SKIP_INSTALL=1, and pgbench
# runners that stop the benchmark on any failed transaction.
#
# After `bench_setup`: PGHOST/PGPORT/PGUSER point at the cluster, $WORK is a
# scratch directory inside it, and the cluster stops when the script exits.

PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
# shellcheck source=pg_test/cluster.sh
source "$ROOT/pg_test/cluster.sh"
log() { printf '\033[1m[bench]\033[0m %s\n' "$*" >&2; }
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
# No NOTICEs (DROP ... CASCADE lists every object), on both sides alike.
export PGOPTIONS="-c client_min_messages=warning"

bench_setup() {
  if [ "${COT_SKIP_INSTALL:-0}" != 1 ]; then
    log "building and installing the extension (release)"
    cargo pgrx install --release --pg-config "$PG_CONFIG"
  fi
  unset COT_CLUSTER_DIR
  trap 'cluster_stop "${COT_CLUSTER_DIR:-}"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  cluster_start "${COT_BENCH_DIR:-}"
  WORK="$COT_CLUSTER_DIR/work"
  mkdir -p "$WORK"
}

# pgbench against $DB with $CLIENTS clients for $SECS seconds, prepared
# statements; exits the benchmark if pgbench fails or a transaction does.
pgbench_run() { # pgbench_run LABEL OUT PGBENCH-ARGS...
  local label=$1 out=$2
  shift 2
  q -d "$DB" -c CHECKPOINT
  if ! "$PGBENCH" -n -M prepared -c "$CLIENTS" -j "$CLIENTS" -T "$SECS" "$@" "$DB" >"$out" 2>&1; then
    log "pgbench failed ($label):"
    tail -n 20 "$out" >&2
    exit 1
  fi
  if grep -q 'number of failed transactions: [1-9]' "$out"; then
    log "pgbench reported failed transactions ($label):"
    cat "$out" >&2
    exit 1
  fi
}

# One side of a workload alone: its TPS into tps[ROUND,WORKLOAD,SIDE], from
# the script $WORK/WORKLOAD_SIDE.sql.
run() { # run ROUND WORKLOAD SIDE
  local out="$WORK/$2_$3_$1.log" t
  pgbench_run "$2 $3, round $1" "$out" -f "$WORK/$2_$3.sql"
  t=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$out" | tail -n 1)
  [ -n "$t" ] || {
    log "no tps in pgbench output ($2 $3, round $1)"
    cat "$out" >&2
    exit 1
  }
  tps[$1,$2,$3]=$t
  log "round $1 $(printf '%-11s %-5s' "$2" "$3") $(printf '%8.0f' "$t") tps"
}
