#!/usr/bin/env bash
# Benchmark (not a test): what does a workflow cost a change of state? The
# same UPDATE of a state column through the API view, as a tenant user with
# claims set as PostgREST sets them, on an entity whose field is a `state`
# (the trigger checks the transition, the role and the guard, and records the
# transition in the change log) against an entity whose field is a plain
# enum of the same values (no trigger of its own, nothing recorded).
#
#   bench/workflows.sh                      3 rounds of 10 s per side (about 2 min)
#   ROUNDS=1 SECS=3 bench/workflows.sh      short mode
#   CLIENTS=2 bench/workflows.sh            pgbench clients (default 2)
#   COT_SKIP_INSTALL=1 bench/workflows.sh   use the installed extension
#   DURABLE=1 bench/workflows.sh            fsync and synchronous_commit on
#   NOTIFY=off bench/workflows.sh           cot.change_notify off
#   PRELOAD=0 bench/workflows.sh            cot not in shared_preload_libraries (writers
#                                         then notify on every change)
#
# One private cluster, tenant `bench`, entities `flow` (state field: open
# and doing, transitions start and stop, `who: tenant`, start guarded by
# qty >= 0) and `flow_plain` (enum field), each with 10,000 rows and the same
# access rules. Each transaction flips one random row between open and
# doing. Each round: each side alone for SECS seconds (TPS), then both in one
# mixed run (mean latency). The result is the median ratio workflow/plain
# (1.000: the same; the goal is at least 0.8).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PGBENCH=/usr/lib/postgresql/15/bin/pgbench
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-10}
CLIENTS=${CLIENTS:-2}
ROWS=${ROWS:-10000}
DB=cot_workflows_bench
WORKLOADS=(flip)

# shellcheck source=bench/lib.sh
PRELOAD=${PRELOAD:-1}
source "$ROOT/bench/lib.sh"
bench_setup
bench_durable

q -d postgres -c "CREATE DATABASE $DB"
q -d "$DB" <<SQL
CREATE EXTENSION cot;
SELECT cot.create_tenant('bench');
SELECT cot.create_entity('{"tenant": "bench", "name": "flow",
  "access": {"read": "tenant", "create": "tenant", "update": "tenant", "delete": "admin"},
  "fields": [{"name": "qty", "type": "integer"},
    {"name": "status", "type": "state", "states": ["open", "doing"], "initial": "open",
     "transitions": [{"name": "start", "from": "open", "to": "doing", "who": "tenant", "guard": {"qty": {"gte": 0}}},
                     {"name": "stop", "from": "doing", "to": "open", "who": "tenant"}]}]}') IS NOT NULL AS made;
SELECT cot.create_entity('{"tenant": "bench", "name": "flow_plain",
  "access": {"read": "tenant", "create": "tenant", "update": "tenant", "delete": "admin"},
  "fields": [{"name": "qty", "type": "integer"},
    {"name": "status", "type": "enum", "values": ["open", "doing"], "default": "open", "required": true}]}') IS NOT NULL AS made;
INSERT INTO tenant_bench.flow (id, qty) SELECT cot.uuid_generate_v7(), i FROM generate_series(1, $ROWS) i;
INSERT INTO tenant_bench.flow_plain (id, qty) SELECT id, qty FROM tenant_bench.flow;
CREATE TABLE bench_ids AS SELECT row_number() OVER (ORDER BY id) AS n, id FROM tenant_bench.flow;
CREATE UNIQUE INDEX ON bench_ids (n);
GRANT SELECT ON bench_ids TO cot_bench_user;
ANALYZE;
SQL
bench_notify "$DB"

for side in workflow plain; do
  t=$([ "$side" = workflow ] && echo bench.flow || echo bench.flow_plain)
  cat >"$WORK/flip_$side.sql" <<SQL
\set n random(1, $ROWS)
BEGIN;
SELECT set_config('request.jwt.claims', '{"role": "cot_bench_user", "tenant": "bench", "sub": "u1"}', true);
SET LOCAL ROLE cot_bench_user;
UPDATE $t SET status = CASE status WHEN 'open' THEN 'doing' ELSE 'open' END
 WHERE id = (SELECT id FROM bench_ids WHERE n = :n);
COMMIT;
SQL
done

declare -A tps=() lat=()
for r in $(seq 1 "$ROUNDS"); do
  for w in "${WORKLOADS[@]}"; do
    if [ $((r % 2)) = 1 ]; then order=(workflow plain); else order=(plain workflow); fi
    for side in "${order[@]}"; do run "$r" "$w" "$side"; done
    run_mixed "$r" "$w" workflow plain
  done
done

log "transitions recorded: $(q -d "$DB" -Atc "SELECT count(*) FROM tenant_bench._changes WHERE op = 'transition'")"
log "$CLIENTS clients; $(bench_settings "$DB"); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
log "workflow relative to a plain UPDATE of the column (median, min, max over $ROUNDS rounds; 1.000 = the same):"
for w in "${WORKLOADS[@]}"; do
  read -r m lo hi < <(median separate "$w" workflow plain)
  read -r mm mlo mhi < <(median mixed "$w" workflow plain)
  printf '  %-5s throughput %s (%s-%s)   mixed latency %s (%s-%s)\n' "$w" "$m" "$lo" "$hi" "$mm" "$mlo" "$mhi"
done
