#!/usr/bin/env bash
# How long `CALL cot.upgrade_tenants()` takes, and what pg_dump and
# pg_restore of the same database need, at N tenants of 10 entities each.
#
#   bench/upgrade.sh                      TENANTS="100 1000"
#   TENANTS=20 bench/upgrade.sh           a quick look
#   COT_SKIP_INSTALL=1 bench/upgrade.sh   use the extension already installed
#
# Each tenant gets 10 entities of 10 fields (one a relation to the previous
# entity, one with an owner rule) and 10 rows each. For each N it prints:
# the time to build the tenants, the upgrade of all of them (one transaction
# per tenant, as an upgrade runs), the upgrade again (nothing to change), the
# catalog size, pg_dump -Fc and pg_restore into a fresh database (with the
# max_locks_per_transaction the dump needed), and that cot.check is clean
# after the restore. The cluster runs with max_locks_per_transaction = 1024
# (pg_dump locks every table it dumps, in one transaction).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
TENANTS=${TENANTS:-"100 1000"}

# Seconds since START (a `date +%s.%N`).
elapsed() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }'; }

bench_setup
q -d postgres -c "ALTER SYSTEM SET max_locks_per_transaction = 1024" -c "ALTER SYSTEM SET fsync = on" >/dev/null
runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$COT_CLUSTER_DIR/data" -w restart -l "$COT_CLUSTER_LOG" >/dev/null

# make_tenant SLUG: one tenant of 10 entities with rows, in one transaction.
cat >"$WORK/tenant.sql" <<'SQL'
SELECT cot.create_tenant(:'slug');
SELECT cot.create_entity(jsonb_build_object(
  'tenant', :'slug', 'name', 'e' || i,
  'access', CASE WHEN i = 5 THEN '{"read": "owner", "create": "tenant", "update": "owner", "delete": "owner"}'::jsonb
                 ELSE '{"read": "tenant", "create": "tenant", "update": "tenant", "delete": "admin"}'::jsonb END,
  'fields', (SELECT jsonb_agg(jsonb_build_object('name', 'f' || j, 'type', CASE WHEN j % 3 = 0 THEN 'integer' ELSE 'text' END,
                                                   'default', CASE WHEN j % 3 = 0 THEN to_jsonb(j) ELSE to_jsonb('v' || j) END))
             FROM generate_series(1, 9) AS j)
           || CASE WHEN i > 1 THEN jsonb_build_array(jsonb_build_object('name', 'parent', 'type', 'relation',
                'kind', 'many_to_one', 'target', 'e' || (i - 1))) ELSE '[]'::jsonb END))
FROM generate_series(1, 10) AS i;
SQL

for n in $TENANTS; do
  db=up_$n
  q -d postgres -c "CREATE DATABASE $db" >/dev/null
  q -d "$db" -c "CREATE EXTENSION cot" >/dev/null
  start=$(date +%s.%N)
  for i in $(seq 1 "$n"); do
    q -d "$db" -v slug="b${n}_$i" -f "$WORK/tenant.sql" >/dev/null
    q -d "$db" -c "INSERT INTO tenant_b${n}_$i.e1 (f1) SELECT 'x' || g FROM generate_series(1, 10) g" >/dev/null
  done
  built=$(elapsed "$start")
  size=$(q -d "$db" -Atc "SELECT pg_size_pretty(pg_database_size(current_database()))")
  relations=$(q -d "$db" -Atc "SELECT count(*) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname LIKE 'tenant\_%' OR s.nspname LIKE 'b%'")

  start=$(date +%s.%N)
  report=$(q -d "$db" -Atc "CALL cot.upgrade_tenants()")
  upgrade=$(elapsed "$start")
  failed=$(python3 -c 'import json, sys; print(len(json.loads(sys.argv[1])["failed"]))' "$report")
  start=$(date +%s.%N)
  q -d "$db" -Atc "CALL cot.upgrade_tenants()" >/dev/null
  again=$(elapsed "$start")

  start=$(date +%s.%N)
  pg_dump -Fc -f "$WORK/$db.dump" "$db"
  dumped=$(elapsed "$start")
  dump_size=$(du -h "$WORK/$db.dump" | cut -f1)
  q -d postgres -c "CREATE DATABASE ${db}_restored" >/dev/null
  start=$(date +%s.%N)
  pg_restore -d "${db}_restored" "$WORK/$db.dump" 2>"$WORK/restore.err" || true
  restored=$(elapsed "$start")
  findings=$(q -d "${db}_restored" -Atc "SELECT count(*) FROM cot.tenants() t, cot.check(t.slug)")
  restore_errors=$(grep -c 'error:' "$WORK/restore.err" || true)

  printf 'N=%-5s tenants built %7.1f s | upgrade %7.1f s (%.1f ms/tenant, %s failed), again %7.1f s | %s relations, database %s\n' \
    "$n" "$built" "$upgrade" "$(awk "BEGIN { print $upgrade * 1000 / $n }")" "$failed" "$again" "$relations" "$size"
  printf '        pg_dump -Fc %7.1f s (%s) | pg_restore %7.1f s, %s errors | cot.check after restore: %s findings\n' \
    "$dumped" "$dump_size" "$restored" "$restore_errors" "$findings"
  # Roles are the cluster's: drop the tenants so the next N starts clean.
  q -d "${db}_restored" -c "SELECT 1" >/dev/null
  q -d postgres -c "DROP DATABASE ${db}_restored" >/dev/null
  for i in $(seq 1 "$n"); do q -d "$db" -c "SELECT cot.drop_tenant('b${n}_$i', true)" >/dev/null; done
  q -d postgres -c "DROP DATABASE $db" >/dev/null
done
