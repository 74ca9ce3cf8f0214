#!/usr/bin/env bash
# Benchmark (not a test): what does Cot add on top of the DDL it runs?
#
#   bench/create_entities.sh                 N=1000 entities, 4 rounds
#   N=200 ROUNDS=3 bench/create_entities.sh
#   COT_SKIP_INSTALL=1 bench/create_entities.sh   use the installed extension
#   COT_BENCH_DIR=/tmp/x bench/...               cluster directory (default: a new /tmp/cot-test.*)
#   COT_BENCH_SAVE_SQL=DIR bench/...             keep the two scripts (cot.sql, plain.sql) in DIR
#
# Two sides, each on a fresh database of one private cluster:
#   cot    N calls of SELECT cot.create_entity(...), 10 fields each, one
#          statement (so one transaction) per entity;
#   plain  the very same DDL as a plain SQL script, one transaction per entity,
#          into a database with the extension and the tenant but no entities.
#          The script comes from Cot itself: the statements its ledger
#          (cot.migrations.sql) recorded for each create_entity of the cot side.
# Both sides run as one psql session reading a file, so client and connection
# costs are the same and the difference is Cot's own work (parsing and
# validating the definition, planning, the catalogue rows, the ledger).
# Rounds alternate which side goes first. Goal: cot/plain <= 1.3.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
N=${N:-1000}
ROUNDS=${ROUNDS:-4}
TENANT=bench
GOAL=1.3

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

bench_setup

# --- the definitions: 10 fields covering the common kinds of DDL -------------
# checks (max_length, min, email), defaults (constant, now()), an enum, a
# unique constraint, plus the system columns every table gets.
for i in $(seq -f '%05g' 1 "$N"); do
  printf 'SELECT cot.create_entity(%s::jsonb);\n' "'{\"tenant\":\"$TENANT\",\"name\":\"e_$i\",\"fields\":[\
{\"name\":\"label\",\"type\":\"text\",\"required\":true,\"max_length\":200},\
{\"name\":\"qty\",\"type\":\"integer\",\"min\":0},\
{\"name\":\"price\",\"type\":\"decimal\",\"precision\":12,\"scale\":2},\
{\"name\":\"active\",\"type\":\"boolean\",\"default\":true},\
{\"name\":\"born\",\"type\":\"date\"},\
{\"name\":\"seen_at\",\"type\":\"timestamp\",\"default\":\"now\"},\
{\"name\":\"state\",\"type\":\"enum\",\"values\":[\"new\",\"open\",\"closed\"],\"default\":\"new\"},\
{\"name\":\"contact\",\"type\":\"email\"},\
{\"name\":\"ref\",\"type\":\"uuid\"},\
{\"name\":\"code\",\"type\":\"text\",\"unique\":true}]}'"
done >"$WORK/cot.sql"

# A fresh database with the extension and the tenant, checkpointed so that
# neither side pays for the other's dirty buffers.
fresh_db() {
  q -d postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"
  q -d "$1" -o /dev/null -c 'CREATE EXTENSION cot' -c "SELECT cot.create_tenant('$TENANT')"
  q -d postgres -c CHECKPOINT
}

# Tenant objects may live outside the database (roles), so the tenant goes
# with Cot's own drop before the database does.
drop_db() {
  q -d "$1" -o /dev/null -c "SELECT cot.drop_tenant('$TENANT', true)"
  q -d postgres -c "DROP DATABASE $1"
}

# Objects the entities produced: relations, constraints, indexes, columns in
# the tenant's two schemas. Both sides must end with the same counts, or the
# comparison would be unfair.
fingerprint() {
  psql -X -qAt -d "$1" -c "
    WITH s AS (SELECT oid FROM pg_namespace WHERE nspname IN ('tenant_$TENANT', '$TENANT'))
    SELECT format('relations=%s constraints=%s indexes=%s columns=%s',
      (SELECT count(*) FROM pg_class WHERE relnamespace IN (SELECT oid FROM s)),
      (SELECT count(*) FROM pg_constraint WHERE connamespace IN (SELECT oid FROM s)),
      (SELECT count(*) FROM pg_class WHERE relkind = 'i' AND relnamespace IN (SELECT oid FROM s)),
      (SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        WHERE c.relnamespace IN (SELECT oid FROM s) AND a.attnum > 0 AND NOT a.attisdropped))"
}

# time_file DB FILE: seconds (with ns) for one psql session to run FILE.
time_file() {
  local t0 t1
  t0=$(date +%s%N)
  q -d "$1" -o /dev/null -f "$2" || return 1
  t1=$(date +%s%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'
}

# The plain script, from the ledger of a database where Cot created the N
# entities: each create_entity's statements, in order, as one transaction.
# The statements of one transaction are joined with psql's \; so that psql
# sends them as one request, as the cot side sends one SELECT: both sides make
# one round trip per entity (with plain ; psql would make one per statement,
# about 17 here, and the comparison would measure the socket, not Cot).
export_plain_script() {
  # Quoted heredoc: the SQL reaches psql exactly as written here.
  psql -X -qAt -v ON_ERROR_STOP=1 -d "$1" -o "$WORK/plain.sql" <<'SQL'
SELECT E'BEGIN\\;\n'
    || (SELECT string_agg(regexp_replace(s, ';\s*$', ''), E'\\;\n' ORDER BY o)
          FROM unnest(m.sql) WITH ORDINALITY AS u(s, o))
    || E'\\;\nCOMMIT;'
  FROM cot.migrations m
 WHERE m.operation = 'create_entity'
 ORDER BY m.id;
SQL
  local n
  n=$(grep -c '^COMMIT;$' "$WORK/plain.sql" || true)
  [ "$n" -eq "$N" ] || {
    log "the ledger holds $n create_entity entries, expected $N"
    exit 1
  }
}

declare -A secs=() prints=()
run_side() { # run_side ROUND SIDE
  local db="bench_$2_$1" t
  fresh_db "$db"
  if [ "$2" = cot ]; then
    t=$(time_file "$db" "$WORK/cot.sql")
    [ -f "$WORK/plain.sql" ] || export_plain_script "$db"
  else
    # Plain DDL on a tenant's schemas is what Cot's drift guard refuses: the
    # plain side runs without it (the Cot side pays for the guard firing on
    # each of its statements, as it does in use).
    q -d "$db" -c 'ALTER EVENT TRIGGER cot_guard_ddl DISABLE' -c 'ALTER EVENT TRIGGER cot_guard_drop DISABLE'
    t=$(time_file "$db" "$WORK/plain.sql")
  fi
  secs[$1,$2]=$t
  prints[$2]=$(fingerprint "$db")
  log "round $1 $2: ${t}s"
  drop_db "$db"
}

log "N=$N entities x 10 fields, $ROUNDS round(s), cluster $COT_CLUSTER_DIR"
for r in $(seq 1 "$ROUNDS"); do
  # The first round must start with cot (the plain script comes from it);
  # later rounds alternate.
  if [ $((r % 2)) -eq 1 ]; then
    run_side "$r" cot
    run_side "$r" plain
  else
    run_side "$r" plain
    run_side "$r" cot
  fi
done

if [ -n "${COT_BENCH_SAVE_SQL:-}" ]; then
  mkdir -p "$COT_BENCH_SAVE_SQL"
  cp "$WORK/cot.sql" "$WORK/plain.sql" "$COT_BENCH_SAVE_SQL/"
  log "scripts saved in $COT_BENCH_SAVE_SQL"
fi

echo
printf 'create_entity benchmark: N=%s entities x 10 fields, one transaction each\n' "$N"
printf '%-6s %-6s %10s %12s\n' round side seconds ms/entity
tc=0
tp=0
for r in $(seq 1 "$ROUNDS"); do
  for side in cot plain; do
    awk -v r="$r" -v s="$side" -v t="${secs[$r,$side]}" -v n="$N" \
      'BEGIN { printf "%-6s %-6s %10.3f %12.3f\n", r, s, t, t * 1000 / n }'
  done
  awk -v r="$r" -v c="${secs[$r,cot]}" -v p="${secs[$r,plain]}" \
    'BEGIN { printf "%-6s %-6s %10s %12s   cot/plain = %.2f\n", r, "", "", "", c / p }'
  tc=$(awk -v a="$tc" -v b="${secs[$r,cot]}" 'BEGIN { print a + b }')
  tp=$(awk -v a="$tp" -v b="${secs[$r,plain]}" 'BEGIN { print a + b }')
done
awk -v c="$tc" -v p="$tp" -v n="$N" -v k="$ROUNDS" -v g="$GOAL" 'BEGIN {
  printf "all rounds: cot %.3f ms/entity, plain %.3f ms/entity, cot/plain = %.2f (goal <= %s: %s)\n",
    c * 1000 / (n * k), p * 1000 / (n * k), c / p, g, (c / p <= g ? "met" : "NOT met")
}'
# Rounds vary by +-15% on a shared 2-core machine; the median ratio is the
# steadiest single figure.
for r in $(seq 1 "$ROUNDS"); do
  awk -v c="${secs[$r,cot]}" -v p="${secs[$r,plain]}" 'BEGIN { printf "%.4f\n", c / p }'
done | sort -n | awk -v g="$GOAL" '{ v[NR] = $1 } END {
  m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
  printf "median cot/plain over %d rounds = %.2f (min %.2f, max %.2f; goal <= %s: %s)\n", NR, m, v[1], v[NR], g, (m <= g ? "met" : "NOT met")
}'
echo "objects made: cot   ${prints[cot]}"
echo "              plain ${prints[plain]}"
if [ "${prints[cot]}" != "${prints[plain]}" ]; then
  echo "WARNING: the two sides made different objects; the ratio compares unlike work" >&2
fi
