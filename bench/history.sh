#!/usr/bin/env bash
# Benchmark (not a test): what does record history cost a write through the
# API view, against the same entity without history? And statement-level
# triggers (what Cot makes) against row-level ones doing the same work?
#
#   bench/history.sh                      3 rounds of 10 s per run (about 4 min)
#   ROUNDS=5 SECS=20 bench/history.sh
#   CLIENTS=4 bench/history.sh            pgbench clients (default 2)
#   COT_SKIP_INSTALL=1 bench/history.sh   use the installed extension
#   DURABLE=1 bench/history.sh            PostgreSQL's durable defaults (fsync,
#                                         synchronous_commit, full_page_writes
#                                         on) instead of the test cluster's
#                                         (off: the CPU cost alone)
#   NOTIFY=off bench/history.sh           cot.change_notify off (no NOTIFY
#                                         per writing transaction)
#   PRELOAD=0 bench/history.sh            cot not in shared_preload_libraries (writers
#                                         then notify on every change)
#
# One private cluster, tenant `bench` and three entities with the same fields
# (title text, qty integer, access tenant): `off` without history, `stmt`
# with history (Cot's statement-level triggers), `row` without history but
# with a hand-made row-level AFTER trigger writing the same change rows (the
# alternative the design weighed). Every transaction is what PostgREST sends:
# set_config(role, claims) then the write through the API view.
#
# Workloads: `single` (one-row INSERT per transaction) and `bulk` (one
# 10,000-row INSERT ... SELECT per transaction). Per round and workload each
# side runs alone for SECS seconds (TPS), then the sides run mixed (each
# transaction picks one at random, so all see the same load; mean latency).
# Goals: history on vs off, single >= 0.8x, bulk >= 0.6x.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PGBENCH=/usr/lib/postgresql/15/bin/pgbench
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-10}
CLIENTS=${CLIENTS:-2}
TENANT=bench
USER_ROLE=cot_${TENANT}_user
DB=cot_history_bench
WORKLOADS=(single bulk)
SIDES=(off stmt row)
declare -A GOAL=([single]=0.8 [bulk]=0.6)

# shellcheck source=bench/lib.sh
PRELOAD=${PRELOAD:-1}
source "$ROOT/bench/lib.sh"
bench_setup

log "$ROUNDS round(s) x ${SECS}s per run, $CLIENTS clients, cluster $COT_CLUSTER_DIR"
bench_durable
q -d postgres -c "CREATE DATABASE $DB"
fields='[{"name": "title", "type": "text"}, {"name": "qty", "type": "integer"}]'
access='{"read": "tenant", "create": "tenant"}'
q -d "$DB" -o /dev/null <<SQL
CREATE EXTENSION cot;
SELECT cot.create_tenant('$TENANT');
SELECT cot.create_entity('{"tenant": "$TENANT", "name": "off", "fields": $fields, "access": $access}');
SELECT cot.create_entity('{"tenant": "$TENANT", "name": "stmt", "history": true, "fields": $fields, "access": $access}');
SELECT cot.create_entity('{"tenant": "$TENANT", "name": "row", "fields": $fields, "access": $access}');
-- The row-level alternative: one log row per row, written as each row is.
CREATE FUNCTION public.log_row() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS \$\$
BEGIN
    IF current_setting('cot.change_lock', true) IS DISTINCT FROM pg_current_xact_id()::text THEN
        PERFORM pg_advisory_xact_lock_shared(nextval('cot.change_seq'));
        PERFORM set_config('cot.change_lock', pg_current_xact_id()::text, true);
    END IF;
    PERFORM pg_notify('cot_changes', 'bench');
    INSERT INTO tenant_bench._changes (id, entity, op, record_ids, new, actor)
    VALUES (nextval('cot.change_seq'), TG_TABLE_NAME, 'insert', ARRAY[NEW.id], ARRAY[to_jsonb(NEW)],
            jsonb_build_object('sub', cot.claim_sub(), 'role', current_setting('role')));
    RETURN NULL;
END \$\$;
CREATE TRIGGER log_row AFTER INSERT ON tenant_$TENANT.row FOR EACH ROW EXECUTE FUNCTION public.log_row();
SQL
bench_notify "$DB"

CLAIMS="{\"role\":\"$USER_ROLE\",\"tenant\":\"$TENANT\",\"sub\":\"u1\"}"
for side in "${SIDES[@]}"; do
  cat >"$WORK/single_$side.sql" <<SQL
BEGIN;
SELECT set_config('role', '$USER_ROLE', true), set_config('request.jwt.claims', '$CLAIMS', true);
INSERT INTO $TENANT.$side (title, qty) VALUES ('an item with a title', 7);
COMMIT;
SQL
  cat >"$WORK/bulk_$side.sql" <<SQL
BEGIN;
SELECT set_config('role', '$USER_ROLE', true), set_config('request.jwt.claims', '$CLAIMS', true);
INSERT INTO $TENANT.$side (title, qty) SELECT 'item ' || i, i FROM generate_series(1, 10000) AS i;
COMMIT;
SQL
done

# Sanity: the sides log what they should.
q -d "$DB" -o /dev/null -f "$WORK/single_off.sql" -f "$WORK/single_stmt.sql" -f "$WORK/single_row.sql"
logged=$(q -d "$DB" -At -c "SELECT string_agg(entity || '=' || n, ' ' ORDER BY entity) FROM (SELECT entity, sum(cardinality(record_ids)) AS n FROM tenant_$TENANT._changes GROUP BY entity) c")
[ "$logged" = "row=1 stmt=1" ] || {
  log "sanity check failed: the log holds '$logged' (expected row=1 stmt=1)"
  exit 1
}

declare -A tps lat
for r in $(seq 1 "$ROUNDS"); do
  for w in "${WORKLOADS[@]}"; do
    for side in "${SIDES[@]}"; do
      run "$r" "$w" "$side"
    done
    # Tables and the log grow with every run: the mixed run keeps the sides fair.
    run_mixed "$r" "$w" stmt off
  done
  q -d "$DB" -c "TRUNCATE tenant_$TENANT.off, tenant_$TENANT.stmt, tenant_$TENANT.row, tenant_$TENANT._changes" -o /dev/null
  q -d "$DB" -c "VACUUM" -o /dev/null
done

# cot.history on a log of 100,000 changes: 50,000 single-row statements and
# five of 10,000 rows; the mean time of one call over 200 records picked at
# random (half from each kind).
lookup_ms=$(q -d "$DB" -At <<'SQL'
DO $$ BEGIN FOR i IN 1..50000 LOOP INSERT INTO tenant_bench.stmt (title, qty) VALUES ('one ' || i, i); END LOOP; END $$;
INSERT INTO tenant_bench.stmt (title, qty) SELECT 'many ' || i, i FROM generate_series(1, 50000) AS i;
VACUUM ANALYZE tenant_bench._changes;
CREATE TEMP TABLE picked AS (SELECT id FROM tenant_bench.stmt WHERE title LIKE 'one %' ORDER BY random() LIMIT 100)
  UNION ALL (SELECT id FROM tenant_bench.stmt WHERE title LIKE 'many %' ORDER BY random() LIMIT 100);
CREATE FUNCTION pg_temp.lookups() RETURNS numeric LANGUAGE plpgsql AS $f$
DECLARE t0 timestamptz := clock_timestamp(); r record; n int := 0;
BEGIN
  FOR r IN SELECT id FROM picked LOOP
    IF jsonb_array_length(cot.history('bench', 'stmt', r.id)) <> 1 THEN RAISE 'history of % is not one version', r.id; END IF;
    n := n + 1;
  END LOOP;
  RETURN round((extract(epoch FROM clock_timestamp() - t0) * 1000 / n)::numeric, 3);
END $f$;
SELECT pg_temp.lookups();
SQL
)
lookup_ms=$(echo "$lookup_ms" | tail -n 1)
log_changes=$(q -d "$DB" -At -c "SELECT sum(cardinality(record_ids)) || ' changes in ' || count(*) || ' rows' FROM tenant_$TENANT._changes")

echo
printf 'History benchmark: %s clients, %s s per run, %s rounds, pgbench -M prepared\n' "$CLIENTS" "$SECS" "$ROUNDS"
printf 'server: %s; %s cores; %s; load average at the end: %s\n' \
  "$(q -d "$DB" -At -c 'SHOW server_version')" "$(nproc)" "$(bench_settings "$DB")" "$(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '%-7s %-5s | %9s %9s %9s | %9s %9s | %9s %9s\n' workload round 'off tps' 'stmt tps' 'row tps' 'stmt/off' 'row/off' 'stmt us' 'off us'
for w in "${WORKLOADS[@]}"; do
  for r in $(seq 1 "$ROUNDS"); do
    awk -v w="$w" -v r="$r" -v o="${tps[$r,$w,off]}" -v s="${tps[$r,$w,stmt]}" -v rw="${tps[$r,$w,row]}" \
      -v ls="${lat[$r,$w,stmt]}" -v lo="${lat[$r,$w,off]}" \
      'BEGIN { printf "%-7s %-5s | %9.1f %9.1f %9.1f | %9.3f %9.3f | %9.0f %9.0f\n", w, r, o, s, rw, s / o, rw / o, ls, lo }'
  done
done
echo
all_met=1
for w in "${WORKLOADS[@]}"; do
  for kind in separate mixed; do
    read -r m lo hi < <(median "$kind" "$w" stmt off)
    met=$(awk -v m="$m" -v g="${GOAL[$w]}" 'BEGIN { print (m >= g ? "met" : "NOT met") }')
    [ "$met" = met ] || all_met=0
    printf 'median history/off %-6s %-8s = %s over %s rounds (min %s, max %s; goal >= %s: %s)\n' \
      "$w" "$kind" "$m" "$ROUNDS" "$lo" "$hi" "${GOAL[$w]}" "$met"
  done
  read -r m lo hi < <(median separate "$w" row off)
  printf 'median row-level/off %-6s separate = %s (min %s, max %s)\n' "$w" "$m" "$lo" "$hi"
done
printf 'cot.history of one record on a log of %s: %s ms per call (mean of 200)\n' "$log_changes" "$lookup_ms"
[ "$all_met" = 1 ] || echo "(a goal is not met: see the per-round figures)"
