#!/usr/bin/env bash
# Benchmark (not a test): what does a CHECK that names its field and rule on
# failure (CHECK (CASE WHEN (<condition>) IS NOT FALSE THEN true ELSE
# cot.rule_broken(tableoid, <field id>, <rule>) END)) cost an insert, against
# the same table with plain CHECKs of the same conditions?
#
#   bench/checks.sh                       3 rounds of 10 s per side and workload (about 3 min)
#   ROUNDS=1 SECS=3 bench/checks.sh       short mode
#   CLIENTS=2 bench/checks.sh             pgbench clients (default 2)
#   COT_SKIP_INSTALL=1 bench/checks.sh    use the installed extension
#
# One private cluster, tenant `bench`, entity `items` with seven CHECKs (title
# min_length and max_length, status an enum of five values, qty min and max,
# email's format and max_length). `public.items_plain` is the same table
# (columns, defaults, primary key, the cot_system_columns trigger) with plain
# CHECKs of the same conditions. Both are written as the superuser, straight
# into the table, so the CHECKs are what differs.
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
SELECT cot.create_entity('{"tenant": "bench", "name": "items", "fields": [
  {"name": "title", "type": "text", "required": true, "min_length": 1, "max_length": 200},
  {"name": "status", "type": "enum", "values": ["new", "open", "doing", "done", "void"]},
  {"name": "qty", "type": "integer", "min": 0, "max": 1000},
  {"name": "email", "type": "email"}]}') IS NOT NULL AS made;
CREATE TABLE public.items_plain (LIKE tenant_bench.items INCLUDING DEFAULTS);
ALTER TABLE public.items_plain ADD PRIMARY KEY (id),
  ADD CHECK (char_length(title) >= 1), ADD CHECK (char_length(title) <= 200),
  ADD CHECK (status = ANY (ARRAY['new', 'open', 'doing', 'done', 'void']::text[])),
  ADD CHECK (qty >= 0), ADD CHECK (qty <= 1000),
  ADD CHECK (char_length(email) <= 254), ADD CHECK (email ~ E'^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$');
CREATE TRIGGER cot_system_columns BEFORE INSERT OR UPDATE ON public.items_plain
  FOR EACH ROW EXECUTE FUNCTION cot.system_columns();
SQL
log "the constraints compared:"
q -d "$DB" -Atc "SELECT conrelid::regclass || ': ' || pg_get_constraintdef(oid) FROM pg_constraint
                 WHERE conrelid IN ('tenant_bench.items'::regclass, 'public.items_plain'::regclass) AND contype = 'c'
                 ORDER BY 1" >&2
# A broken row names its field and rule on the Cot side.
q -d "$DB" -c "INSERT INTO tenant_bench.items (title, qty) VALUES ('x', 5000)" 2>&1 | sed 's/^/  /' >&2 || true

for side in cot plain; do
  t=$([ "$side" = cot ] && echo tenant_bench.items || echo public.items_plain)
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
  q -d "$DB" -c "TRUNCATE tenant_bench.items, public.items_plain"
done

log "cot relative to plain CHECKs (median, min, max over $ROUNDS rounds; 1.000 = the same):"
for w in "${WORKLOADS[@]}"; do
  read -r m lo hi < <(median separate "$w" cot plain)
  read -r mm mlo mhi < <(median mixed "$w" cot plain)
  printf '  %-5s throughput %s (%s-%s)   mixed latency %s (%s-%s)\n' "$w" "$m" "$lo" "$hi" "$mm" "$mlo" "$mhi"
done
