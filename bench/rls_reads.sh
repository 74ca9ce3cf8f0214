#!/usr/bin/env bash
# Benchmark (not a test): what do the API view and row-level security cost a
# request, against the same table without them?
#
#   bench/rls_reads.sh                          N=200,000 rows, 3 rounds of 10 s per run (about 5 min)
#   N=1000000 ROUNDS=5 SECS=20 bench/rls_reads.sh
#   CLIENTS=4 bench/rls_reads.sh                pgbench clients (default 2)
#   RAW_ROLE=postgres bench/rls_reads.sh        raw side as the superuser (default: the same user role)
#   COT_SKIP_INSTALL=1 bench/rls_reads.sh       use the installed extension
#   COT_BENCH_DIR=/tmp/x bench/...              cluster directory (default: a new /tmp/cot-test.*)
#   COT_BENCH_SHOW_SCRIPTS=1 bench/...          print the six pgbench scripts
#
# One private cluster, one database with the extension, tenant `bench` and
# entity `items` (title text, status enum, price decimal, the system columns,
# an index on (status, created_at); access read: tenant, create: tenant), N
# rows loaded directly as the superuser. `public.items_raw` is the same table
# (LIKE ... INCLUDING ALL, plus the same cot_system_columns trigger, so inserts
# do the same work) holding the same rows, with no row-level security and no
# view.
#
# pgbench (-M prepared, CLIENTS clients) runs three workloads, each on both
# sides:
#   pk      primary-key lookup of a random row
#   page    a 50-row page: one status, newest first (the compound index)
#   insert  one row
# Every transaction is what PostgREST sends: BEGIN; set_config('role', ...,
# true) and set_config('request.jwt.claims', ..., true) in one SELECT; the
# query; COMMIT. Both sides make the very same set_config calls, so both pay
# for them and for the role switch; the raw table is granted SELECT, INSERT to
# the user role. What differs: the view (security_invoker) and the policy
# `(SELECT cot.claim_tenant() = 'bench')` on the view side.
#
# Each round, per workload: the view alone and the raw table alone for SECS
# seconds each (TPS per side; rounds alternate which goes first), then one
# mixed run where every transaction picks a side at random, so both sides see
# the same machine load (mean latency per side from pgbench's transaction log).
# Before the runs: the plans through the view, printed once and checked (index
# used, claim a one-time InitPlan, helper inlined), and the planner's row
# estimate with and without the policy.
# Goals: reads >= 0.95x, inserts >= 0.9x (view relative to raw).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PGBENCH=/usr/lib/postgresql/15/bin/pgbench
N=${N:-200000}
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-10}
CLIENTS=${CLIENTS:-2}
TENANT=bench
USER_ROLE=cot_${TENANT}_user
RAW_ROLE=${RAW_ROLE:-$USER_ROLE}
DB=cot_rls_bench
READ_GOAL=0.95
WRITE_GOAL=0.9
WORKLOADS=(pk page insert)

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

bench_setup

# Row n has a v7-shaped id computable from n, so a pgbench script can look a
# random row up without a second query (both sides compute it alike).
id_of() { printf "('018f0000-0000-7000-8000-' || lpad(to_hex(%s::int), 12, '0'))::uuid" "$1"; }
STATUSES="ARRAY['new', 'open', 'closed', 'archived']"

# --- the database -------------------------------------------------------------
log "N=$N rows, $ROUNDS round(s) x ${SECS}s per run, $CLIENTS clients, cluster $COT_CLUSTER_DIR"
q -d postgres -c "CREATE DATABASE $DB"
q -d "$DB" -o /dev/null <<SQL
CREATE EXTENSION cot;
SELECT cot.create_tenant('$TENANT');
SELECT cot.create_entity('{
  "tenant": "$TENANT", "name": "items",
  "fields": [
    {"name": "title",  "type": "text", "required": true},
    {"name": "status", "type": "enum", "values": ["new", "open", "closed", "archived"], "default": "new", "required": true},
    {"name": "price",  "type": "decimal", "precision": 12, "scale": 2}
  ],
  "indexes": [{"fields": ["status", "created_at"]}],
  "access": {"read": "tenant", "create": "tenant"}
}'::jsonb);
SQL

log "loading $N rows"
t0=$(date +%s)
q -d "$DB" <<SQL
-- The triggers would set every created_at to now(); rows one second apart make
-- the page query walk a real index range, and the copy keeps them. Superuser:
-- no row security on load.
SET session_replication_role = replica;
INSERT INTO tenant_$TENANT.items (id, title, status, price, created_at, updated_at)
SELECT $(id_of n), 'item ' || n, ($STATUSES)[1 + n % 4], (n % 100000) / 100.0,
       timestamptz '2026-01-01' + n * interval '1 second',
       timestamptz '2026-01-01' + n * interval '1 second'
  FROM generate_series(1, $N) AS n;

CREATE TABLE public.items_raw (LIKE tenant_$TENANT.items INCLUDING ALL);
CREATE TRIGGER cot_system_columns BEFORE INSERT OR UPDATE ON public.items_raw
  FOR EACH ROW EXECUTE FUNCTION cot.system_columns();
INSERT INTO public.items_raw SELECT * FROM tenant_$TENANT.items ORDER BY id;
RESET session_replication_role;
GRANT SELECT, INSERT ON public.items_raw TO $USER_ROLE;
VACUUM (ANALYZE) tenant_$TENANT.items;
VACUUM (ANALYZE) public.items_raw;
CHECKPOINT;
SQL
log "loaded in $(($(date +%s) - t0)) s"

# --- sanity: the policy is in force, the two sides hold the same rows -------
CLAIMS="{\"role\":\"$USER_ROLE\",\"tenant\":\"$TENANT\",\"sub\":\"u1\"}"
SET_CLAIMS="SELECT set_config('role', '$USER_ROLE', true), set_config('request.jwt.claims', '$CLAIMS', true);"
RAW_SET_CLAIMS="SELECT set_config('role', '$RAW_ROLE', true), set_config('request.jwt.claims', '$CLAIMS', true);"
as_user() { # as_user TENANT_CLAIM SQL: one value, in a transaction as the user role
  psql -X -qAt -v ON_ERROR_STOP=1 -d "$DB" <<SQL | tail -n 1
BEGIN;
\o /dev/null
SELECT set_config('role', '$USER_ROLE', true),
       set_config('request.jwt.claims', '{"role":"$USER_ROLE","tenant":"$1","sub":"u1"}', true);
\o
$2;
ROLLBACK;
SQL
}
seen=$(as_user "$TENANT" "SELECT count(*) FROM $TENANT.items")
foreign=$(as_user other "SELECT count(*) FROM $TENANT.items")
raw=$(q -d "$DB" -At -c "SELECT count(*) FROM public.items_raw")
same=$(q -d "$DB" -At -c "SELECT count(*) FROM tenant_$TENANT.items t JOIN public.items_raw r USING (id) WHERE (t.*) = (r.*)")
if [ "$seen" != "$N" ] || [ "$foreign" != 0 ] || [ "$raw" != "$N" ] || [ "$same" != "$N" ]; then
  log "sanity check failed: view as $TENANT sees $seen, as another tenant $foreign, raw holds $raw, identical rows $same (expected $N, 0, $N, $N)"
  exit 1
fi
log "rows: view as tenant $TENANT sees $seen, as another tenant $foreign; raw $raw; identical $same"

# --- plans, once ---------------------------------------------------------------
# VERBOSE shows what the InitPlan computes: cot.jwt_claim('tenant') means the
# claim helper was inlined; loops=1 means it ran once for the statement.
PLAN_PK="SELECT * FROM $TENANT.items WHERE id = $(id_of $((N / 2 + 1)))"
PLAN_PAGE="SELECT * FROM $TENANT.items WHERE status = ($STATUSES)[2] ORDER BY created_at DESC LIMIT 50"
PLAN_INSERT="INSERT INTO $TENANT.items (title, status, price) VALUES ('plan', 'open', 1.50)"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >"$WORK/plans.txt" <<SQL
BEGIN;
\o /dev/null
$SET_CLAIMS
-- warm the backend's caches, so the timings below are steady state
$PLAN_PK;
$PLAN_PAGE;
\o
\qecho '--- pk lookup through the view'
EXPLAIN (ANALYZE, VERBOSE, COSTS OFF) $PLAN_PK;
\qecho '--- 50-row page through the view'
EXPLAIN (ANALYZE, VERBOSE, COSTS OFF) $PLAN_PAGE;
\qecho '--- insert through the view'
EXPLAIN (ANALYZE, VERBOSE, COSTS OFF) $PLAN_INSERT;
ROLLBACK;
SQL
# The raw side's plans, checked (not printed): the same indexes, no InitPlan.
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >"$WORK/plans_raw.txt" <<SQL
BEGIN;
\o /dev/null
$RAW_SET_CLAIMS
\o
\qecho '--- raw pk lookup'
EXPLAIN (ANALYZE, COSTS OFF) ${PLAN_PK/$TENANT.items/public.items_raw};
\qecho '--- raw 50-row page'
EXPLAIN (ANALYZE, COSTS OFF) ${PLAN_PAGE/$TENANT.items/public.items_raw};
ROLLBACK;
SQL
echo
echo "plans through the view, as $USER_ROLE with the claims set (ANALYZE, VERBOSE):"
sed -e 's/^ *QUERY PLAN *$//' -e '/^-\{10,\}$/d' -e '/^([0-9]* rows)$/d' -e '/^$/d' "$WORK/plans.txt"
plan_check() { # plan_check LABEL SECTION-PATTERN REGEX...
  local label=$1 section=$2 ok=yes
  shift 2
  local body
  body=$(awk -v s="$section" 'index($0, "--- ") == 1 { on = index($0, s) > 0; next } on' \
    "$WORK/plans.txt" "$WORK/plans_raw.txt")
  for re in "$@"; do
    grep -Eq -- "$re" <<<"$body" || ok=NO
  done
  printf '  %-58s %s\n' "$label" "$ok"
  [ "$ok" = yes ]
}
echo "plan checks:"
plans_ok=1
plan_check "pk lookup uses items_pkey" "pk lookup through" 'Index Scan using items_pkey' || plans_ok=0
plan_check "pk lookup: claim is a one-time InitPlan (loops=1)" "pk lookup through" 'InitPlan 1' 'Result \(actual .* loops=1\)' || plans_ok=0
plan_check "page uses items_status_created_at_idx, backward" "page through" 'Index Scan Backward using items_status_created_at_idx' || plans_ok=0
plan_check "page: claim is a one-time InitPlan (loops=1)" "page through" 'InitPlan 1' 'Result \(actual .* loops=1\)' || plans_ok=0
plan_check "insert: claim is a one-time InitPlan (loops=1)" "insert through" 'InitPlan 1' 'Result \(actual .* loops=1\)' || plans_ok=0
plan_check "claim helper inlined (InitPlan computes cot.jwt_claim)" "pk lookup through" "Output: \(?cot\.jwt_claim\('tenant'" || plans_ok=0
plan_check "raw pk lookup uses items_raw_pkey" "raw pk lookup" 'Index Scan using items_raw_pkey' || plans_ok=0
plan_check "raw page uses items_raw_status_created_at_idx, backward" "raw 50-row page" 'Index Scan Backward using items_raw_status_created_at_idx' || plans_ok=0
[ "$plans_ok" = 1 ] || echo "WARNING: a plan is not the expected one; the ratios below measure something else" >&2
# The planner's row estimate for one status, with and without the policy. The
# policy's test compares an InitPlan's output with a constant, so the planner
# cannot know it is all-or-nothing and gives it the default selectivity of an
# equality (0.5%). With ORDER BY ... LIMIT that makes an ordered index scan
# look 200 times longer than it is; when a status has few enough rows the
# planner prefers reading them all and sorting (measured at N=50,000: 3.5 ms
# instead of 0.15 ms per page).
estimate() { # estimate SET_CLAIMS RELATION: estimated rows for status = 'open'
  psql -X -qAt -v ON_ERROR_STOP=1 -d "$DB" <<SQL | sed -n 's/.*rows=\([0-9]*\).*/\1/p' | head -n 1
BEGIN;
\o /dev/null
$1
\o
EXPLAIN SELECT * FROM $2 WHERE status = 'open';
ROLLBACK;
SQL
}
est_view=$(estimate "$SET_CLAIMS" "$TENANT.items")
est_raw=$(estimate "$RAW_SET_CLAIMS" public.items_raw)
printf "row estimate for status = 'open': view %s, raw %s (actual %s): the policy is estimated to keep %s%% of the rows\n" \
  "$est_view" "$est_raw" "$((N / 4))" "$(awk -v v="$est_view" -v r="$est_raw" 'BEGIN { printf "%.1f", 100 * v / r }')"

# --- pgbench scripts -----------------------------------------------------------
# pk: a random loaded row. page: a random status. insert: a random status and
# price. Identical on both sides but for the relation (and RAW_ROLE).
write_script() { # write_script NAME SET_CLAIMS RELATION
  local f="$WORK/$1.sql"
  case $1 in
  pk_*)
    printf '\\set n random(1, %s)\nBEGIN;\n%s\nSELECT * FROM %s WHERE id = %s;\nCOMMIT;\n' \
      "$N" "$2" "$3" "$(id_of :n)" >"$f" ;;
  page_*)
    printf '\\set s random(1, 4)\nBEGIN;\n%s\nSELECT * FROM %s WHERE status = (%s)[:s] ORDER BY created_at DESC LIMIT 50;\nCOMMIT;\n' \
      "$2" "$3" "$STATUSES" >"$f" ;;
  insert_*)
    printf '\\set s random(1, 4)\n\\set p random(0, 99999)\nBEGIN;\n%s\nINSERT INTO %s (title, status, price) VALUES (%s, (%s)[:s], :p / 100.0);\nCOMMIT;\n' \
      "$2" "$3" "'new item ' || :p" "$STATUSES" >"$f" ;;
  esac
}
for w in "${WORKLOADS[@]}"; do
  write_script "${w}_view" "$SET_CLAIMS" "$TENANT.items"
  write_script "${w}_raw" "$RAW_SET_CLAIMS" "public.items_raw"
done
if [ "${COT_BENCH_SHOW_SCRIPTS:-0}" = 1 ]; then
  for f in "$WORK"/*_view.sql "$WORK"/*_raw.sql; do echo "== $(basename "$f")"; cat "$f"; done
fi

# --- runs ----------------------------------------------------------------------
# Two measurements per workload and round:
#   separate  view alone, then raw alone (order alternating by round), each
#             SECS seconds: TPS per side, ratio view/raw;
#   mixed     one pgbench run of SECS seconds with both scripts at equal weight
#             (each transaction picks one at random), transaction log on: the
#             mean latency of each side, measured under the very same load.
#             raw/view latency is the throughput ratio; on a machine shared
#             with other work (builds, tests) it is far steadier than two runs
#             10 s apart, which the noise hits differently.
declare -A tps=() lat=()
# pgbench_run, run, run_mixed and median come from bench/lib.sh.
for r in $(seq 1 "$ROUNDS"); do
  for w in "${WORKLOADS[@]}"; do
    if [ $((r % 2)) -eq 1 ]; then
      run "$r" "$w" view
      run "$r" "$w" raw
    else
      run "$r" "$w" raw
      run "$r" "$w" view
    fi
    run_mixed "$r" "$w" view raw
  done
done

# --- figures -------------------------------------------------------------------
echo
printf 'RLS read/insert benchmark: N=%s rows, %s clients, %s s per run, %s rounds, pgbench -M prepared\n' \
  "$N" "$CLIENTS" "$SECS" "$ROUNDS"
printf 'server: %s; %s cores; load average at the end: %s\n' \
  "$(q -d "$DB" -At -c 'SHOW server_version')" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'raw side runs as %s; view side as %s\n' "$RAW_ROLE" "$USER_ROLE"
echo
printf '%-8s %-5s | %-33s | %-33s\n' '' '' 'separate runs' 'mixed run (same load)'
printf '%-8s %-5s | %10s %10s %11s | %10s %10s %11s\n' workload round \
  'view tps' 'raw tps' 'view/raw' 'view us' 'raw us' 'raw/view'
for w in "${WORKLOADS[@]}"; do
  for r in $(seq 1 "$ROUNDS"); do
    awk -v w="$w" -v r="$r" -v v="${tps[$r,$w,view]}" -v b="${tps[$r,$w,raw]}" \
      -v lv="${lat[$r,$w,view]}" -v lb="${lat[$r,$w,raw]}" \
      'BEGIN { printf "%-8s %-5s | %10.0f %10.0f %11.3f | %10.1f %10.1f %11.3f\n", w, r, v, b, v / b, lv, lb, lb / lv }'
  done
done
echo
all_met=1
for w in "${WORKLOADS[@]}"; do
  goal=$READ_GOAL
  [ "$w" = insert ] && goal=$WRITE_GOAL
  for kind in separate mixed; do
    read -r m lo hi < <(median "$kind" "$w" view raw)
    met=$(awk -v m="$m" -v g="$goal" 'BEGIN { print (m >= g ? "met" : "NOT met") }')
    [ "$met" = met ] || all_met=0
    printf 'median view/raw %-6s %-8s = %s over %s rounds (min %s, max %s; goal >= %s: %s)\n' \
      "$w" "$kind" "$m" "$ROUNDS" "$lo" "$hi" "$goal" "$met"
  done
done
[ "$all_met" = 1 ] || echo "(a goal is not met: see the per-round figures and the plans above)"
[ "$plans_ok" = 1 ] || echo "WARNING: a plan check failed (see above)"
