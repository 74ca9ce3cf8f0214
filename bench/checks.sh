#!/usr/bin/env bash
# Benchmark (not a test): what does a CHECK that names its field and rule on
# failure (CHECK (CASE WHEN (<condition>) IS NOT FALSE THEN true ELSE
# cot.rule_broken(tableoid, <field id>, <rule>) END)) cost an insert, against
# the same table with plain CHECKs of the same conditions?
#
#   bench/checks.sh                       3 rounds of 10 s per side and workload (about 4 min)
#   ROUNDS=1 SECS=3 bench/checks.sh       short mode
#   CLIENTS=2 bench/checks.sh             pgbench clients (default 2)
#   COT_SKIP_INSTALL=1 bench/checks.sh    use the installed extension
#
# One private cluster, tenant `bench`, entities `items` and `items_plain`, each
# with seven CHECKs (title min_length and max_length, status an enum of five
# values, qty min and max, email's format and max_length). The CHECKs of
# `items_plain` are then made again (cot.drift = 'allow') as their bare
# conditions, what Cot made before its CHECKs named their field. Both are
# written as the superuser, straight into the table (row security does not
# apply), so the CHECKs are all that differs.
#
# Workloads: `one` inserts one row per transaction, `bulk` 100 rows per
# statement (where the per-row cost of the CHECKs shows). Each round: each
# side alone for SECS seconds (TPS), then both in one mixed run (mean
# latency). The result is the median ratio cot/plain (1.000: the same).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PGBENCH=/usr/lib/postgresql/15/bin/pgbench
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-10}
CLIENTS=${CLIENTS:-2}
DB=cot_checks_bench
WORKLOADS=(one bulk)

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
bench_setup

q -d postgres -c "CREATE DATABASE $DB"
q -d "$DB" <<'SQL'
CREATE EXTENSION cot;
SELECT cot.create_tenant('bench');
SELECT cot.create_entity(jsonb_build_object('tenant', 'bench', 'name', n, 'fields', '[
  {"name": "title", "type": "text", "required": true, "min_length": 1, "max_length": 200},
  {"name": "status", "type": "enum", "values": ["new", "open", "doing", "done", "void"]},
  {"name": "qty", "type": "integer", "min": 0, "max": 1000},
  {"name": "email", "type": "email"}]'::jsonb)) IS NOT NULL AS made
  FROM unnest(ARRAY['items', 'items_plain']) AS n;
-- The bare condition of each CHECK of items_plain: CHECK ((cond)).
SET cot.drift = 'allow';
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT conname, substring(pg_get_constraintdef(oid) FROM 'WHEN \((.*) IS NOT FALSE\) THEN') AS cond
               FROM pg_constraint WHERE conrelid = 'tenant_bench.items_plain'::regclass AND contype = 'c' LOOP
        EXECUTE format('ALTER TABLE tenant_bench.items_plain DROP CONSTRAINT %I, ADD CONSTRAINT %I CHECK (%s)',
                       c.conname, c.conname, c.cond);
    END LOOP;
END $$;
RESET cot.drift;
SQL
log "the constraints compared:"
q -d "$DB" -Atc "SELECT conrelid::regclass || ': ' || pg_get_constraintdef(oid) FROM pg_constraint
                 WHERE conrelid IN ('tenant_bench.items'::regclass, 'tenant_bench.items_plain'::regclass) AND contype = 'c'
                 ORDER BY 1" | tr -s ' \n' ' ' | sed 's/tenant_bench/\ntenant_bench/g' >&2
echo >&2
# A broken row names its field and rule on the Cot side.
q -d "$DB" -c "INSERT INTO tenant_bench.items (title, qty) VALUES ('x', 5000)" 2>&1 | sed 's/^/  /' >&2 || true

for side in cot plain; do
  t=$([ "$side" = cot ] && echo tenant_bench.items || echo tenant_bench.items_plain)
  cat >"$WORK/one_$side.sql" <<SQL
\set n random(1, 1000)
INSERT INTO $t (title, status, qty, email) VALUES ('item ' || :n, 'open', :n, 'a' || :n || '@example.com');
SQL
  cat >"$WORK/bulk_$side.sql" <<SQL
INSERT INTO $t (title, status, qty, email)
SELECT 'item ' || i, 'doing', i, 'a' || i || '@example.com' FROM generate_series(1, 100) AS i;
SQL
done

declare -A tps=() lat=()
for r in $(seq 1 "$ROUNDS"); do
  for w in "${WORKLOADS[@]}"; do
    if [ $((r % 2)) = 1 ]; then order=(cot plain); else order=(plain cot); fi
    for side in "${order[@]}"; do run "$r" "$w" "$side"; done
    run_mixed "$r" "$w" cot plain
  done
  q -d "$DB" -c "TRUNCATE tenant_bench.items, tenant_bench.items_plain"
done

log "cot relative to plain CHECKs (median, min, max over $ROUNDS rounds; 1.000 = the same):"
for w in "${WORKLOADS[@]}"; do
  read -r m lo hi < <(median separate "$w" cot plain)
  read -r mm mlo mhi < <(median mixed "$w" cot plain)
  printf '  %-5s throughput %s (%s-%s)   mixed latency %s (%s-%s)\n' "$w" "$m" "$lo" "$hi" "$mm" "$mlo" "$mhi"
done
