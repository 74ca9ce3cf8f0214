#!/usr/bin/env bash
# Benchmark (not a test): what does cot.query cost a request, against the
# hand-written SQL that returns the same records from the same API view?
#
#   bench/query.sh                              N=200,000 orders, 3 rounds of 7 s per run (about 5 min)
#   N=1000000 ROUNDS=5 SECS=10 bench/query.sh
#   CLIENTS=4 bench/query.sh                    pgbench clients (default 2)
#   PAGE=100 bench/query.sh                     the deep keyset page (default 200)
#   COT_SKIP_INSTALL=1 bench/query.sh           use the installed extension
#   COT_BENCH_DIR=/tmp/x bench/...              cluster directory (default: a new /tmp/cot-test.*)
#   COT_BENCH_SHOW_SCRIPTS=1 bench/...          print the pgbench scripts
#
# One private cluster, one database with the extension, tenant `t` and three
# entities (access read: tenant):
#   customers  name, email (N/100 rows)
#   tags       label (20 rows)
#   orders     title, status enum [new, paid, shipped, cancelled], total
#              decimal(12,2), customer (many_to_one customers), tags
#              (many_to_many tags: junction orders_tags, 0-3 tags per order),
#              "indexes": [{"fields": ["status", "created_at"]}]
# N orders loaded directly as the superuser, created_at one second apart, a
# quarter of them paid, 90% of those with total >= 100.
#
# Every pgbench transaction (-M prepared, CLIENTS clients) is what PostgREST
# sends for an /rpc/ call: BEGIN; set_config('role', 'cot_t_user', true) and
# set_config('request.jwt.claims', ..., true) in one SELECT; the query; COMMIT.
# Both sides run as the tenant's user role over the API views (row security
# on), and both return one jsonb document:
#
#   filter  cot: cot.query('t', 'orders', '{"select": [id, title, status,
#                total, customer_id, created_at], "where": {"status": {"eq":
#                "paid"}, "total": {"gte": 100}}, "order": ["-created_at"],
#                "limit": 50}'), which returns {"data": [50 records],
#                "next_cursor": "...", "count": null};
#           sql: SELECT jsonb_build_object('data', COALESCE(jsonb_agg(r), '[]'))
#                FROM (SELECT jsonb_build_object(the same 6 fields) AS r FROM
#                t.orders WHERE status = 'paid' AND total >= 100 ORDER BY
#                created_at DESC, id LIMIT 50) s, which returns {"data": [the
#                same 50 records]} (checked equal) and no cursor.
#   embed   cot: orders with "select": [id, title, total, created_at,
#                {"customer": [id, name, email]}, {"tags": [id, label]}],
#                status paid, newest first, limit 20;
#           sql: the same, with the same correlated subqueries for the customer
#                (an object) and the tags (an array ordered by id), in the
#                same jsonb_build_object('data', ...) wrapper; checked equal.
#   keyset  deep: page PAGE of the filter query, by the cursor of page PAGE-1
#                (the chain of cursors followed once at setup);
#           first: page 1 (the filter query's cot side).
#   keyset_desc  the same with "order": ["-created_at", "-id"].
# With "order": ["-created_at"] Cot adds the id ascending as the last key, so
# the keys run in two directions and the cursor condition is an OR that the
# index cannot bound; with "-id" too it is a row comparison the index serves.
#
# Each round, per workload: each side alone for SECS seconds (TPS; rounds
# alternate which goes first), then one mixed run where every transaction
# picks a side at random, so both see the same machine load (mean latency per
# side from pgbench's transaction log). Ratios: cot/sql and deep/first, above
# 1 meaning the first-named side was faster. Goal: cot.query >= 0.85x the
# hand-written SQL for filter and embed. A deep keyset page should cost about
# what the first page costs (>= 0.9x).
#
# Before the runs: the plans of both sides, once. The Cot side's statement runs
# inside cot.query, so its plan comes from auto_explain (log_nested_statements,
# logged as NOTICEs to this session). Checked: both sides of filter and embed
# use the (status, created_at) index backward; the embeds use the primary keys.
# After the runs: one mixed run of six scripts that splits Cot's extra time
# into a fixed part per call and a part per record (which is below zero: the
# hand-written document encodes each record again in jsonb_agg and in
# jsonb_build_object, where cot.query copies the record's bytes).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PGBENCH=/usr/lib/postgresql/15/bin/pgbench
N=${N:-200000}
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-7}
CLIENTS=${CLIENTS:-2}
PAGE=${PAGE:-200}
TENANT=t
USER_ROLE=cot_${TENANT}_user
DB=cot_query_bench
GOAL=0.85
KEYSET_EXPECT=0.9
WORKLOADS=(filter embed keyset keyset_desc)
declare -A SIDE_A=([filter]=cot [embed]=cot [keyset]=deep [keyset_desc]=deep)
declare -A SIDE_B=([filter]=sql [embed]=sql [keyset]=first [keyset_desc]=first)

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

bench_setup
started=$(date +%s)

# --- the database -------------------------------------------------------------
CUSTOMERS=$((N / 100 > 0 ? N / 100 : 1))
log "N=$N orders, $CUSTOMERS customers, $ROUNDS round(s) x ${SECS}s per run, $CLIENTS clients, cluster $COT_CLUSTER_DIR"
q -d postgres -c "CREATE DATABASE $DB"
q -d "$DB" -o /dev/null <<SQL
CREATE EXTENSION cot;
SELECT cot.create_tenant('$TENANT');
SELECT cot.create_entities('[
 {"tenant": "$TENANT", "name": "customers", "fields": [
   {"name": "name", "type": "text", "required": true},
   {"name": "email", "type": "email"}],
  "access": {"read": "tenant"}},
 {"tenant": "$TENANT", "name": "tags", "fields": [{"name": "label", "type": "text", "required": true}],
  "access": {"read": "tenant"}},
 {"tenant": "$TENANT", "name": "orders", "fields": [
   {"name": "title", "type": "text", "required": true},
   {"name": "status", "type": "enum", "values": ["new", "paid", "shipped", "cancelled"], "default": "new", "required": true},
   {"name": "total", "type": "decimal", "precision": 12, "scale": 2, "required": true},
   {"name": "customer", "type": "relation", "kind": "many_to_one", "target": "customers", "required": true},
   {"name": "tags", "type": "relation", "kind": "many_to_many", "target": "tags"}],
  "indexes": [{"fields": ["status", "created_at"]}],
  "access": {"read": "tenant"}}]'::jsonb);
SQL

log "loading $N orders"
t0=$(date +%s)
uuid_of() { # uuid_of PREFIX-HEX-DIGIT EXPR: a v7-shaped id computed from a number
  printf "('018f0000-0000-7000-8000-%s' || lpad(to_hex(%s), %s, '0'))::uuid" "$1" "$2" "$((12 - ${#1}))"
}
q -d "$DB" <<SQL
-- Superuser, triggers off: the timestamps are the ones given (one second
-- apart), no row security on load.
SET session_replication_role = replica;
INSERT INTO tenant_$TENANT.customers (id, name, email, created_at, updated_at)
SELECT $(uuid_of c c), 'customer ' || c, 'c' || c || '@example.com',
       timestamptz '2025-01-01' + c * interval '1 minute', timestamptz '2025-01-01' + c * interval '1 minute'
  FROM generate_series(1, $CUSTOMERS) AS c;
INSERT INTO tenant_$TENANT.tags (id, label, created_at, updated_at)
SELECT $(uuid_of a g), 'tag ' || g, timestamptz '2025-01-01', timestamptz '2025-01-01'
  FROM generate_series(1, 20) AS g;
INSERT INTO tenant_$TENANT.orders (id, title, status, total, customer_id, created_at, updated_at)
SELECT $(uuid_of '' n), 'order ' || n,
       (ARRAY['new', 'paid', 'shipped', 'cancelled'])[1 + n % 4], (n * 37 % 100000) / 100.0,
       $(uuid_of c "1 + n % $CUSTOMERS"),
       timestamptz '2026-01-01' + n * interval '1 second', timestamptz '2026-01-01' + n * interval '1 second'
  FROM generate_series(1, $N) AS n;
-- 0 to 3 tags per order, (n / 4) % 4 of them, so every status has all counts.
INSERT INTO tenant_$TENANT.orders_tags (orders_id, tags_id, created_at)
SELECT $(uuid_of '' n), $(uuid_of a "1 + (n * 7 + k * 3) % 20"), timestamptz '2026-01-01'
  FROM generate_series(1, $N) AS n, generate_series(0, 2) AS k
 WHERE k < (n / 4) % 4;
RESET session_replication_role;
VACUUM (ANALYZE);
CHECKPOINT;
SQL
log "loaded in $(($(date +%s) - t0)) s"

# --- the queries ---------------------------------------------------------------
CLAIMS="{\"role\":\"$USER_ROLE\",\"tenant\":\"$TENANT\",\"sub\":\"u1\"}"
SET_CLAIMS="SELECT set_config('role', '$USER_ROLE', true), set_config('request.jwt.claims', '$CLAIMS', true);"
FILTER_SELECT='["id", "title", "status", "total", "customer_id", "created_at"]'
FILTER_WHERE='{"status": {"eq": "paid"}, "total": {"gte": 100}}'
cot_filter() { # cot_filter ORDER LIMIT [CURSOR]: the filter query as a jsonb literal's text
  local extra=""
  [ -n "${3:-}" ] && extra=", \"cursor\": \"$3\""
  printf '{"select": %s, "where": %s, "order": %s, "limit": %s%s}' "$FILTER_SELECT" "$FILTER_WHERE" "$1" "$2" "$extra"
}
COT_FILTER="SELECT cot.query('$TENANT', 'orders', '$(cot_filter '["-created_at"]' 50)')"
SQL_FILTER="SELECT jsonb_build_object('data', COALESCE(jsonb_agg(s.r), '[]'::jsonb)) FROM (SELECT jsonb_build_object('id', o.id, 'title', o.title, 'status', o.status, 'total', o.total, 'customer_id', o.customer_id, 'created_at', o.created_at) AS r FROM $TENANT.orders AS o WHERE o.status = 'paid' AND o.total >= 100 ORDER BY o.created_at DESC, o.id LIMIT 50) AS s"
COT_EMBED="SELECT cot.query('$TENANT', 'orders', '{\"select\": [\"id\", \"title\", \"total\", \"created_at\", {\"customer\": [\"id\", \"name\", \"email\"]}, {\"tags\": [\"id\", \"label\"]}], \"where\": {\"status\": {\"eq\": \"paid\"}}, \"order\": [\"-created_at\"], \"limit\": 20}')"
SQL_EMBED="SELECT jsonb_build_object('data', COALESCE(jsonb_agg(s.r), '[]'::jsonb)) FROM (SELECT jsonb_build_object('id', o.id, 'title', o.title, 'total', o.total, 'created_at', o.created_at, 'customer', (SELECT jsonb_build_object('id', c.id, 'name', c.name, 'email', c.email) FROM $TENANT.customers AS c WHERE c.id = o.customer_id), 'tags', (SELECT COALESCE(jsonb_agg(jsonb_build_object('id', g.id, 'label', g.label) ORDER BY g.id), '[]'::jsonb) FROM $TENANT.tags AS g JOIN $TENANT.orders_tags AS j ON j.tags_id = g.id WHERE j.orders_id = o.id)) AS r FROM $TENANT.orders AS o WHERE o.status = 'paid' ORDER BY o.created_at DESC, o.id LIMIT 20) AS s"

as_user() { # as_user SQL: its output (unaligned, tuples only), in a transaction as the user role
  psql -X -qAt -v ON_ERROR_STOP=1 -d "$DB" <<SQL
BEGIN;
\o /dev/null
$SET_CLAIMS
\o
$1;
ROLLBACK;
SQL
}

# The cursor that ends page PAGE-1, by following next_cursor from page 1.
cursor_before() { # cursor_before ORDER
  local pages=$((PAGE - 1)) q0 qn
  q0=$(cot_filter "$1" 50)
  qn="jsonb_build_object('select', '$FILTER_SELECT'::jsonb, 'where', '$FILTER_WHERE'::jsonb, 'order', '$1'::jsonb, 'limit', 50, 'cursor', p.page->>'next_cursor')"
  as_user "WITH RECURSIVE p(n, page) AS (
      SELECT 1, cot.query('$TENANT', 'orders', '$q0')
      UNION ALL
      SELECT p.n + 1, cot.query('$TENANT', 'orders', $qn) FROM p WHERE p.n < $pages AND p.page->>'next_cursor' IS NOT NULL)
    SELECT page->>'next_cursor' FROM p WHERE n = $pages"
}
declare -A CURSOR=()
declare -A ORDER_OF=([keyset]='["-created_at"]' [keyset_desc]='["-created_at", "-id"]')
declare -A ORDER_SQL=([keyset]='o.created_at DESC, o.id' [keyset_desc]='o.created_at DESC, o.id DESC')
for w in keyset keyset_desc; do
  CURSOR[$w]=$(cursor_before "${ORDER_OF[$w]}")
  if [ -z "${CURSOR[$w]}" ]; then
    log "page $PAGE of the filter query does not exist (N=$N holds fewer than $((PAGE * 50)) matching orders): lower PAGE or raise N"
    exit 1
  fi
done
cot_page() { # cot_page WORKLOAD deep|first
  if [ "$2" = deep ]; then
    printf "SELECT cot.query('%s', 'orders', '%s')" "$TENANT" "$(cot_filter "${ORDER_OF[$1]}" 50 "${CURSOR[$1]}")"
  else
    printf "SELECT cot.query('%s', 'orders', '%s')" "$TENANT" "$(cot_filter "${ORDER_OF[$1]}" 50)"
  fi
}
declare -A STMT=(
  [filter:cot]=$COT_FILTER [filter:sql]=$SQL_FILTER
  [embed:cot]=$COT_EMBED [embed:sql]=$SQL_EMBED
  [keyset:deep]=$(cot_page keyset deep) [keyset:first]=$(cot_page keyset first)
  [keyset_desc:deep]=$(cot_page keyset_desc deep) [keyset_desc:first]=$(cot_page keyset_desc first)
)

# --- sanity: row security in force, both sides return the same records --------
seen=$(as_user "SELECT count(*) FROM $TENANT.orders")
foreign=$(psql -X -qAt -v ON_ERROR_STOP=1 -d "$DB" <<SQL
BEGIN;
\o /dev/null
SELECT set_config('role', '$USER_ROLE', true), set_config('request.jwt.claims', '{"role":"$USER_ROLE","tenant":"other","sub":"u1"}', true);
\o
SELECT count(*) FROM $TENANT.orders;
ROLLBACK;
SQL
)
checks=$(as_user "SELECT concat_ws(' ',
    (${STMT[filter:cot]})->'data' = (${STMT[filter:sql]})->'data',
    jsonb_array_length((${STMT[filter:cot]})->'data'),
    (${STMT[embed:cot]})->'data' = (${STMT[embed:sql]})->'data',
    jsonb_array_length((${STMT[embed:cot]})->'data'),
    (${STMT[keyset:deep]})->'data' = (SELECT jsonb_agg(s.r) FROM (SELECT jsonb_build_object('id', o.id, 'title', o.title, 'status', o.status, 'total', o.total, 'customer_id', o.customer_id, 'created_at', o.created_at) AS r FROM $TENANT.orders AS o WHERE o.status = 'paid' AND o.total >= 100 ORDER BY ${ORDER_SQL[keyset]} OFFSET $(((PAGE - 1) * 50)) LIMIT 50) AS s),
    (${STMT[keyset_desc:deep]})->'data' = (SELECT jsonb_agg(s.r) FROM (SELECT jsonb_build_object('id', o.id, 'title', o.title, 'status', o.status, 'total', o.total, 'customer_id', o.customer_id, 'created_at', o.created_at) AS r FROM $TENANT.orders AS o WHERE o.status = 'paid' AND o.total >= 100 ORDER BY ${ORDER_SQL[keyset_desc]} OFFSET $(((PAGE - 1) * 50)) LIMIT 50) AS s))")
if [ "$seen" != "$N" ] || [ "$foreign" != 0 ] || [ "$checks" != "t 50 t 20 t t" ]; then
  log "sanity check failed: the user sees $seen orders (expected $N), with another tenant's claim $foreign (expected 0);"
  log "  filter same/records, embed same/records, keyset page $PAGE = offset page (both orders): $checks (expected: t 50 t 20 t t)"
  exit 1
fi
log "orders seen by tenant $TENANT: $seen, by another tenant: $foreign; cot.query and the hand-written SQL return the same records; page $PAGE by cursor = the same page by offset"

# --- plans, once ---------------------------------------------------------------
# The Cot side: auto_explain inside cot.query (loaded and set as the superuser,
# then the role switched as in a request), its NOTICEs captured from stderr;
# only the compiled statement (over "t"."orders" AS v0) is kept. Each query is
# run once before, so the plans are those of a warm backend.
{
  echo "LOAD 'auto_explain';"
  echo "SET auto_explain.log_min_duration = -1;"
  echo "SET auto_explain.log_nested_statements = on;"
  echo "SET auto_explain.log_analyze = on;"
  echo "SET auto_explain.log_level = notice;"
  echo "SET client_min_messages = notice;"
  echo "BEGIN;"
  echo "\\o /dev/null"
  echo "$SET_CLAIMS"
  for k in "filter:cot" "embed:cot" "keyset:deep" "keyset_desc:deep"; do echo "${STMT[$k]};"; done
  echo "\\o"
  echo "ROLLBACK;"
  echo "SET auto_explain.log_min_duration = 0;"
  echo "BEGIN;"
  echo "\\o /dev/null"
  echo "$SET_CLAIMS"
  for k in "filter:cot" "embed:cot" "keyset:deep" "keyset_desc:deep"; do
    echo "\\warn '--- $k'"
    echo "${STMT[$k]};"
  done
  echo "\\o"
  echo "ROLLBACK;"
} >"$WORK/plans_cot.sql"
q -d "$DB" -f "$WORK/plans_cot.sql" 2>"$WORK/plans_cot.log" >/dev/null
# Keep, per section, the NOTICE blocks of the compiled statement.
awk '
  /^--- / { flush(); section = $0; next }
  /NOTICE:  duration: .* plan:/ { flush(); block = ""; keep = 0; n = 0; next }
  /^Query Text: / { if (index($0, "AS v0")) keep = 1 }
  { block = block $0 "\n" }
  function flush() { if (keep && section != "") printf "%s\n%s", section, block; keep = 0 }
  END { flush() }
' "$WORK/plans_cot.log" >"$WORK/plans_cot.txt"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >"$WORK/plans_sql.txt" <<SQL
BEGIN;
\o /dev/null
$SET_CLAIMS
${STMT[filter:sql]};
${STMT[embed:sql]};
\o
\qecho '--- filter:sql'
EXPLAIN (ANALYZE, COSTS OFF) ${STMT[filter:sql]};
\qecho '--- embed:sql'
EXPLAIN (ANALYZE, COSTS OFF) ${STMT[embed:sql]};
ROLLBACK;
SQL
section() { # section FILE HEADER: the lines under "--- HEADER"
  awk -v s="--- $2" '/^--- / { on = ($0 == s); next } on' "$1" |
    sed -e 's/^ *QUERY PLAN *$//' -e '/^-\{10,\}$/d' -e '/^([0-9]* rows)$/d' -e '/^$/d'
}
echo
echo "plans, as $USER_ROLE with the claims set (the Cot side: the statement cot.query runs, from auto_explain):"
for k in "filter:cot" "filter:sql" "embed:cot" "embed:sql" "keyset:deep" "keyset_desc:deep"; do
  echo "--- $k"
  if [ "${k#*:}" = sql ]; then section "$WORK/plans_sql.txt" "$k"; else section "$WORK/plans_cot.txt" "$k"; fi
done
plan_check() { # plan_check LABEL FILE SECTION REGEX...
  local label=$1 file=$2 sec=$3 ok=yes body
  shift 3
  body=$(section "$file" "$sec")
  for re in "$@"; do
    grep -Eq -- "$re" <<<"$body" || ok=NO
  done
  printf '  %-70s %s\n' "$label" "$ok"
  [ "$ok" = yes ]
}
echo
echo "plan checks:"
plans_ok=1
IDX='Index Scan Backward using orders_status_created_at_idx'
plan_check "filter, cot.query: (status, created_at) index, backward" "$WORK/plans_cot.txt" "filter:cot" "$IDX" || plans_ok=0
plan_check "filter, hand-written: (status, created_at) index, backward" "$WORK/plans_sql.txt" "filter:sql" "$IDX" || plans_ok=0
plan_check "embed, cot.query: that index, customers_pkey, orders_tags_pkey" "$WORK/plans_cot.txt" "embed:cot" "$IDX" 'customers_pkey' 'orders_tags_pkey' || plans_ok=0
plan_check "embed, hand-written: that index, customers_pkey, orders_tags_pkey" "$WORK/plans_sql.txt" "embed:sql" "$IDX" 'customers_pkey' 'orders_tags_pkey' || plans_ok=0
plan_check "keyset_desc page $PAGE: the cursor bounds the index scan (created_at <=)" "$WORK/plans_cot.txt" "keyset_desc:deep" \
  "$IDX" 'Index Cond: .*created_at <=' || plans_ok=0
[ "$plans_ok" = 1 ] || echo "WARNING: a plan is not the expected one; the ratios below measure something else" >&2
removed() { section "$WORK/plans_cot.txt" "$1" | sed -n 's/.*Rows Removed by Filter: \([0-9]*\).*/\1/p' | head -n 1; }
printf '  rows read and dropped by the filter on page %s: order ["-created_at"] %s, ["-created_at", "-id"] %s\n' \
  "$PAGE" "$(removed "keyset:deep")" "$(removed "keyset_desc:deep")"
if section "$WORK/plans_cot.txt" "keyset:deep" | grep -Eq 'Index Cond: .*created_at <'; then
  echo '  order ["-created_at"]: the cursor bounds the index scan'
else
  echo '  order ["-created_at"]: the cursor does NOT bound the index scan (two directions: an OR the index cannot use)'
fi

# --- pgbench scripts -----------------------------------------------------------
for w in "${WORKLOADS[@]}"; do
  for side in "${SIDE_A[$w]}" "${SIDE_B[$w]}"; do
    printf 'BEGIN;\n%s\n%s;\nCOMMIT;\n' "$SET_CLAIMS" "${STMT[$w:$side]}" >"$WORK/${w}_$side.sql"
  done
done
# The decomposition run's scripts: the filter page on both sides, the same
# with "limit": 0 (what a call costs before any record), the model lookup on
# its own, and an empty request.
STAMP=$(as_user "SELECT cot.query_model('$TENANT', '')->>'stamp'")
SQL_FILTER0=${SQL_FILTER/LIMIT 50/LIMIT 0}
COT_FILTER0="SELECT cot.query('$TENANT', 'orders', '$(cot_filter '["-created_at"]' 0)')"
DECOMP=(sql cot sql0 cot0 model empty)
declare -A DSTMT=([sql]=$SQL_FILTER [cot]=$COT_FILTER [sql0]=$SQL_FILTER0 [cot0]=$COT_FILTER0
  [model]="SELECT cot.query_model('$TENANT', '$STAMP')" [empty]="SELECT 1")
for d in "${DECOMP[@]}"; do
  printf 'BEGIN;\n%s\n%s;\nCOMMIT;\n' "$SET_CLAIMS" "${DSTMT[$d]}" >"$WORK/d_$d.sql"
done
if [ "${COT_BENCH_SHOW_SCRIPTS:-0}" = 1 ]; then
  for f in "$WORK"/*_*.sql; do echo "== $(basename "$f")"; cat "$f"; done
fi

# --- runs ----------------------------------------------------------------------
# As bench/rls_reads.sh: per workload and round, each side alone (TPS), then
# both in one mixed run (mean latency per side under the same load).
declare -A tps=() lat=()
# pgbench_run, run, run_mixed and median come from bench/lib.sh.
for r in $(seq 1 "$ROUNDS"); do
  for w in "${WORKLOADS[@]}"; do
    if [ $((r % 2)) -eq 1 ]; then
      run "$r" "$w" "${SIDE_A[$w]}"
      run "$r" "$w" "${SIDE_B[$w]}"
    else
      run "$r" "$w" "${SIDE_B[$w]}"
      run "$r" "$w" "${SIDE_A[$w]}"
    fi
    run_mixed "$r" "$w" "${SIDE_A[$w]}" "${SIDE_B[$w]}"
  done
done
log "decomposition: one mixed run of ${DECOMP[*]}"
args=()
for d in "${DECOMP[@]}"; do args+=(-f "$WORK/d_$d.sql@1"); done
pgbench_run "decomposition" "$WORK/decomp.log" "${args[@]}" -l --log-prefix="$WORK/txlog_decomp"
read -r -a dlat < <(mixed_latencies "$WORK/txlog_decomp")
declare -A D=()
for i in "${!DECOMP[@]}"; do D[${DECOMP[$i]}]=${dlat[$i]:-0}; done

# --- figures -------------------------------------------------------------------
echo
printf 'cot.query benchmark: N=%s orders, %s clients, %s s per run, %s rounds, pgbench -M prepared, page %s for keyset\n' \
  "$N" "$CLIENTS" "$SECS" "$ROUNDS" "$PAGE"
printf 'server: %s; %s cores; load average at the end: %s; %s s in all\n' \
  "$(q -d "$DB" -At -c 'SHOW server_version')" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(($(date +%s) - started))"
echo
printf '%-11s %-5s | %-35s | %-35s\n' '' '' 'separate runs' 'mixed run (same load)'
printf '%-11s %-5s | %10s %10s %13s | %10s %10s %13s\n' workload round 'A tps' 'B tps' 'A/B' 'A us' 'B us' 'A/B (B us/A us)'
for w in "${WORKLOADS[@]}"; do
  A=${SIDE_A[$w]} B=${SIDE_B[$w]}
  for r in $(seq 1 "$ROUNDS"); do
    awk -v w="$w" -v r="$r" -v a="${tps[$r,$w,$A]}" -v b="${tps[$r,$w,$B]}" \
      -v la="${lat[$r,$w,$A]}" -v lb="${lat[$r,$w,$B]}" \
      'BEGIN { printf "%-11s %-5s | %10.0f %10.0f %13.3f | %10.1f %10.1f %13.3f\n", w, r, a, b, a / b, la, lb, lb / la }'
  done
done
echo "(A/B: filter, embed = cot.query / hand-written SQL; keyset, keyset_desc = page $PAGE / page 1)"
echo
all_met=1
for w in "${WORKLOADS[@]}"; do
  for kind in separate mixed; do
    read -r m lo hi < <(median "$kind" "$w" "${SIDE_A[$w]}" "${SIDE_B[$w]}")
    case $w in
    keyset*)
      verdict=$(awk -v m="$m" -v g="$KEYSET_EXPECT" 'BEGIN { print (m >= g ? "about the same" : "NOT about the same") }')
      printf 'median page %s/page 1  %-11s %-8s = %s over %s rounds (min %s, max %s; >= %s: %s)\n' \
        "$PAGE" "$w" "$kind" "$m" "$ROUNDS" "$lo" "$hi" "$KEYSET_EXPECT" "$verdict" ;;
    *)
      met=$(awk -v m="$m" -v g="$GOAL" 'BEGIN { print (m >= g ? "met" : "NOT met") }')
      [ "$met" = met ] || all_met=0
      printf 'median cot/sql         %-11s %-8s = %s over %s rounds (min %s, max %s; goal >= %s: %s)\n' \
        "$w" "$kind" "$m" "$ROUNDS" "$lo" "$hi" "$GOAL" "$met" ;;
    esac
  done
done
[ "$all_met" = 1 ] || echo "(the goal is not met: see the decomposition below)"
echo
echo "where cot.query's extra time goes (the filter page; one mixed run of six scripts, mean us per transaction):"
for d in "${DECOMP[@]}"; do
  case $d in
  sql) what='hand-written page, 50 records' ;;
  cot) what='cot.query page, 50 records' ;;
  sql0) what='hand-written, LIMIT 0' ;;
  cot0) what='cot.query, "limit": 0' ;;
  model) what="cot.query_model('$TENANT', current stamp) alone" ;;
  empty) what='SELECT 1 (the request around the query)' ;;
  esac
  printf '  %-52s %8s\n' "$what" "${D[$d]}"
done
awk -v s="${D[sql]}" -v c="${D[cot]}" -v s0="${D[sql0]}" -v c0="${D[cot0]}" -v m="${D[model]}" -v e="${D[empty]}" 'BEGIN {
  printf "  Cot adds %.1f us per page: %.1f us per call before any record (the two limit-0 lines), and %.1f us for\n", c - s, c0 - s0, (c - c0) - (s - s0)
  printf "  the 50 records ((cot - limit 0) - (sql - LIMIT 0); below 0: the hand-written SQL encodes each record\n"
  printf "  again in jsonb_agg and jsonb_build_object, where Cot copies its bytes). The model lookup (query_model -\n"
  printf "  SELECT 1, %.1f us) is paid only by the first call after a model change; cot/sql in this run: %.3f\n", m - e, s / c
}'
[ "$plans_ok" = 1 ] || echo "WARNING: a plan check failed (see above)"
