# Shared by the benchmark scripts (sourced, not run): a private cluster for
# the run, the extension installed unless COT_SKIP_INSTALL=1, and pgbench
# runners that stop the benchmark on any failed transaction.
#
# After `bench_setup`: PGHOST/PGPORT/PGUSER point at the cluster, $WORK is a
# scratch directory inside it, and the cluster stops when the script exits.

PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
# shellcheck source=tests/harness/cluster.sh
source "$ROOT/tests/harness/cluster.sh"
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
  # PRELOAD=1 (history and workflows default to it, as the webhooks need it
  # in production): cot in shared_preload_libraries, so writers send change
  # wake-ups only while somebody listens (docs/changes.md).
  if [ "${PRELOAD:-0}" = 1 ]; then
    export COT_CLUSTER_SETTINGS="shared_preload_libraries = 'cot'"
  fi
  cluster_start "${COT_BENCH_DIR:-}"
  WORK="$COT_CLUSTER_DIR/work"
  mkdir -p "$WORK"
}

# DURABLE=1: PostgreSQL's durable defaults (fsync, synchronous_commit,
# full_page_writes on) instead of the test cluster's (off: the CPU cost alone).
bench_durable() {
  if [ "${DURABLE:-0}" = 1 ]; then
    q -d postgres -o /dev/null -c "ALTER SYSTEM SET fsync = on" -c "ALTER SYSTEM SET synchronous_commit = on" \
      -c "ALTER SYSTEM SET full_page_writes = on" -c "SELECT pg_reload_conf()"
  fi
}

# NOTIFY=off: cot.change_notify off in database $1 (no NOTIFY per transaction
# that writes to a change log).
bench_notify() {
  if [ "${NOTIFY:-on}" = off ]; then
    q -d "$1" -c "ALTER DATABASE \"$1\" SET cot.change_notify = off"
  fi
}

# The settings a run had, for its report.
bench_settings() {
  q -d "$1" -At -c "SELECT format('fsync %s, synchronous_commit %s, cot.change_notify %s, shared_preload_libraries ''%s''',
    current_setting('fsync'), current_setting('synchronous_commit'),
    coalesce(current_setting('cot.change_notify', true), 'on'), current_setting('shared_preload_libraries'))"
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

# Mean latency (us) per script index, in order, from pgbench's transaction
# log files PREFIX.* (lines: client transaction latency_us script epoch
# epoch_us); the files are removed.
mixed_latencies() { # mixed_latencies PREFIX
  cat "$1".* | awk '{ s[$4] += $3; n[$4]++; if ($4 > m) m = $4 }
    END { for (i = 0; i <= m; i++) printf "%.2f ", (n[i] ? s[i] / n[i] : 0); printf "\n" }'
  rm -f "$1".*
}

# Both sides of a workload in one run, each transaction picking a side at
# random, so both see the same machine load: their mean latencies into
# lat[ROUND,WORKLOAD,SIDE], from the scripts $WORK/WORKLOAD_SIDE.sql.
run_mixed() { # run_mixed ROUND WORKLOAD SIDE_A SIDE_B
  local out="$WORK/$2_mixed_$1.log" prefix="$WORK/txlog_$2_$1" a b
  pgbench_run "$2 mixed, round $1" "$out" -f "$WORK/$2_$3.sql@1" -f "$WORK/$2_$4.sql@1" \
    -l --log-prefix="$prefix"
  read -r a b < <(mixed_latencies "$prefix")
  if [ -z "${b:-}" ] || [ "$a" = 0.00 ] || [ "$b" = 0.00 ]; then
    log "no transaction log for one side ($2 mixed, round $1)"
    exit 1
  fi
  lat[$1,$2,$3]=$a
  lat[$1,$2,$4]=$b
  log "round $1 $(printf '%-11s %-5s' "$2" mixed) $3 $a us, $4 $b us per transaction"
}

# The median over ROUNDS rounds of SIDE_A relative to SIDE_B (above 1: A was
# faster), with min and max: by throughput of the separate runs, or by mean
# latency in the mixed run.
median() { # median separate|mixed WORKLOAD SIDE_A SIDE_B
  local r
  for r in $(seq 1 "$ROUNDS"); do
    if [ "$1" = separate ]; then
      awk -v a="${tps[$r,$2,$3]}" -v b="${tps[$r,$2,$4]}" 'BEGIN { printf "%.4f\n", a / b }'
    else
      awk -v a="${lat[$r,$2,$3]}" -v b="${lat[$r,$2,$4]}" 'BEGIN { printf "%.4f\n", b / a }'
    fi
  done | sort -n | awk '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.3f %.3f %.3f\n", m, v[1], v[NR]
  }'
}
