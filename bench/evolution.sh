#!/usr/bin/env bash
# Benchmark (not a test): what does each kind of schema change cost on a table
# with rows, through cot.alter_entity and as the plain SQL Cot runs?
#
#   bench/evolution.sh                        N=1,000,000 rows, 3 rounds (about 6 min on 2 cores)
#   N=100000 ROUNDS=1 bench/evolution.sh      smaller table, each change once (about 30 s)
#   ONLY="rename int_bigint" bench/...        some changes only (keys as in the table)
#   COT_SKIP_INSTALL=1 bench/evolution.sh     use the installed extension
#   COT_BENCH_DIR=/tmp/x bench/...            cluster directory (default: a new /tmp/cot-test.*)
#   COT_BENCH_SAVE_SQL=DIR bench/...          keep each change's definition and plain script in DIR
#
# One private cluster (autovacuum off, so nothing runs behind a measurement),
# two databases, each with the extension and tenant `bench` (the second made
# as a copy of the first: roles belong to the cluster, and the tenant's roles
# can be created only once):
#   evo_cot    where the change goes through cot.alter_entity;
#   evo_plain  where the same change is the plain SQL Cot runs, sent by psql
#              as one request, BEGIN\; statement\; ...\; COMMIT, in one
#              transaction, without the Cot call, and with Cot's DDL guard
#              (its event triggers) disabled, as plain PostgreSQL would run it.
# In the first database, entity `tmpl` (title text max_length 200 with an
# index, qty text holding digits, amount integer, price decimal(10,2), day
# date, status enum [a,b,c], note text, plus Cot's system columns) gets N rows
# from one INSERT ... SELECT generate_series as the superuser; the copy has
# the same rows.
#
# Method: a fresh table per change and side. For each change, entity e_<key>
# is created in both databases from the same definition with
# cot.create_entity, filled with INSERT ... SELECT * FROM tmpl (triggers off,
# so the rows are identical copies), then VACUUM (FREEZE, ANALYZE)d (hint bits
# set, no autovacuum pending) and CHECKPOINTed. Both tables are therefore
# identical in columns, constraints, indexes, view, policies and rows.
# The new definition is cot.entity('bench', 'e_<key>') with one edit. The
# plain script is cot.plan_entity(new definition, options)->'changes'[*]->>'sql'
# computed on the evo_plain copy before anything changes; after the run the
# script checks that the SQL Cot ran (its ledger, cot.migrations.sql) is
# exactly that script, that both tables end up with the same columns,
# constraints, indexes, policies, grants, view and row count, that the view
# shows the table's column names, and whether the table got a new file (the
# "rewrote" column). It warns if the extension is reinstalled during the run
# (cot.so changes), naming the change that was being measured.
#
# Timing: psql's \timing around one request in its own transaction (the
# commit included), in a session that has just run cot.plan_entity for the
# same change. On the cot side that plan call is the preview a user would run
# first, and its time is the "plan ms" column; on the plain side the same call
# is made only so that both sessions start alike (library loaded, catalogue
# and table pages warm), and its time is not reported. Within each change the
# side that goes first alternates. Each round repeats every change on new
# copies; the table shows the median of the rounds and lists each round's
# figures below it. The class column is the costliest class
# plan_entity gives the change's steps, with the number of steps.
#
# cot.alter_entity also counts, before any DDL, the rows a step would fail or
# lose (values of a dropped field, values that would not convert, rows a new
# rule rejects, duplicates for a new unique constraint); the plain script
# does not. That is most of Cot's extra time on large tables.
#
# The last part times plan_entity's preview of text -> integer on a copy where
# 0.1% of the rows (N/1000) do not convert, and checks it counts them.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
N=${N:-1000000}
ROUNDS=${ROUNDS:-3}
TENANT=bench
S=tenant_$TENANT
DB_COT=evo_cot
DB_PLAIN=evo_plain

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

bench_setup
q -d postgres -o /dev/null -c 'ALTER SYSTEM SET autovacuum = off' -c 'SELECT pg_reload_conf()'

# --- the entity ----------------------------------------------------------------
base_def() { # base_def NAME
  printf '{"tenant":"%s","name":"%s","fields":[%s]}' "$TENANT" "$1" \
    '{"name":"title","type":"text","max_length":200,"index":true},
{"name":"qty","type":"text"},
{"name":"amount","type":"integer"},
{"name":"price","type":"decimal","precision":10,"scale":2},
{"name":"day","type":"date"},
{"name":"status","type":"enum","values":["a","b","c"]},
{"name":"note","type":"text"}'
}
# Field positions in "fields": 0 title, 1 qty, 2 amount, 3 price, 4 day,
# 5 status, 6 note.

# --- the changes: key, label, the edit of the definition d (SQL), options -------
KEYS=()
declare -A LABEL=() EDIT=() OPTS=()
change() { KEYS+=("$1"); LABEL[$1]=$2; EDIT[$1]=$3; OPTS[$1]=$4; }
change rename "rename a field (title -> headline)" \
  "jsonb_set(d, '{fields,0,name}', '\"headline\"')" '{}'
change add_nullable "add a nullable field (text)" \
  "jsonb_insert(d, '{fields,-1}', '{\"name\":\"extra\",\"type\":\"text\"}', true)" '{}'
change add_default "add a field with a constant default" \
  "jsonb_insert(d, '{fields,-1}', '{\"name\":\"score\",\"type\":\"integer\",\"default\":0}', true)" '{}'
change add_required "add a required field with default" \
  "jsonb_insert(d, '{fields,-1}', '{\"name\":\"level\",\"type\":\"integer\",\"required\":true,\"default\":1}', true)" '{}'
change drop "drop a field holding data (note)" \
  "d #- '{fields,6}'" '{"allow_data_loss": true}'
change widen_decimal "decimal(10,2) -> decimal(12,2)" \
  "jsonb_set(d, '{fields,3,precision}', '12')" '{}'
change int_bigint "integer -> bigint (amount)" \
  "jsonb_set(d, '{fields,2,type}', '\"bigint\"')" '{}'
change text_int "text -> integer (qty, all convert)" \
  "jsonb_set(d, '{fields,1,type}', '\"integer\"')" '{}'
change max_length "max_length 200 -> 100 (title)" \
  "jsonb_set(d, '{fields,0,max_length}', '100')" '{}'
change required "make a field required (day)" \
  "jsonb_set(d, '{fields,4,required}', 'true')" '{}'
change unique "make a field unique (amount)" \
  "jsonb_set(d, '{fields,2,unique}', 'true')" '{}'
change index "add an index (day)" \
  "jsonb_set(d, '{fields,4,index}', 'true')" '{}'
change index_deferred "add an index, defer_indexes" \
  "jsonb_set(d, '{fields,4,index}', 'true')" '{"defer_indexes": true}'
change enum_rename "enum value b -> bee (rename_values)" \
  "jsonb_set(d, '{fields,5,values}', '[\"a\",\"bee\",\"c\"]')" '{"rename_values": {"status": {"b": "bee"}}}'
change access "access read admin -> tenant (policies)" \
  "jsonb_set(d, '{access,read}', '\"tenant\"')" '{}'
if [ -n "${ONLY:-}" ]; then
  read -r -a KEYS <<<"$ONLY"
  for k in "${KEYS[@]}"; do
    [ -n "${LABEL[$k]:-}" ] || { log "unknown change $k"; exit 2; }
  done
fi

# --- the databases ---------------------------------------------------------------
setup_db() { # setup_db DB
  q -d postgres -c "CREATE DATABASE $1"
  q -d "$1" -o /dev/null <<SQL
CREATE EXTENSION cot;
SELECT cot.create_tenant('$TENANT');
SELECT cot.create_entity('$(base_def tmpl)'::jsonb);
INSERT INTO $S.tmpl (title, qty, amount, price, day, status, note)
SELECT 'item ' || n, (n % 1000)::text, n, (n % 100000) / 100.0,
       date '2020-01-01' + n % 3650, (ARRAY['a', 'b', 'c'])[1 + n % 3], 'note number ' || n
  FROM generate_series(1, $N) AS n;
VACUUM (FREEZE, ANALYZE) $S.tmpl;
SQL
}

# clone DB ENTITY [SQL]: a fresh entity holding a copy of tmpl's rows; SQL runs
# on it before the vacuum.
clone() {
  q -d "$1" -o /dev/null <<SQL
SELECT cot.create_entity('$(base_def "$2")'::jsonb);
SET session_replication_role = replica;
INSERT INTO $S.$2 SELECT * FROM $S.tmpl;
RESET session_replication_role;
${3:-}
VACUUM (FREEZE, ANALYZE) $S.$2;
SQL
}

# new_def DB ENTITY KEY: the stored definition with the change's edit.
new_def() {
  psql -X -qAt -v ON_ERROR_STOP=1 -d "$1" \
    -c "SELECT ${EDIT[$3]} FROM (SELECT cot.entity('$TENANT', '$2') AS d) AS x"
}

# The costliest class among a plan's changes, the number of steps and pending
# steps, the rows counted, the refusals: one line, fields separated by |.
PLAN_SUMMARY="coalesce((SELECT c->>'class' FROM jsonb_array_elements(p->'changes') AS c
              ORDER BY array_position(ARRAY['metadata', 'validating_scan', 'table_rewrite', 'data_loss'], c->>'class') DESC
              LIMIT 1), 'none'),
     jsonb_array_length(p->'changes'), jsonb_array_length(p->'pending'),
     (SELECT coalesce(sum((c->>'rows')::bigint), 0) FROM jsonb_array_elements(p->'changes') AS c),
     jsonb_array_length(p->'refused')"

# ms_of FILE: the "Time:" figures of a psql run, in ms, one per line.
ms_of() { sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' "$1"; }

# Objects of an entity, to check both sides end alike.
fingerprint() { # fingerprint DB ENTITY
  psql -X -qAt -v ON_ERROR_STOP=1 -d "$1" <<SQL
SELECT md5(concat_ws(' | ',
  (SELECT string_agg(format('%s %s %s %s', a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                            pg_get_expr(d.adbin, d.adrelid)), ', ' ORDER BY a.attnum)
     FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = '$S.$2'::regclass AND a.attnum > 0 AND NOT a.attisdropped),
  (SELECT string_agg(format('%s %s %s', conname, pg_get_constraintdef(oid), convalidated), ', ' ORDER BY conname)
     FROM pg_constraint WHERE conrelid = '$S.$2'::regclass),
  (SELECT string_agg(indexdef, ', ' ORDER BY indexname) FROM pg_indexes
    WHERE schemaname = '$S' AND tablename = '$2'),
  (SELECT string_agg(format('%s %s %s %s', policyname, roles, qual, with_check), ', ' ORDER BY policyname)
     FROM pg_policies WHERE schemaname = '$S' AND tablename = '$2'),
  (SELECT string_agg(format('%s %s %s', table_schema, grantee, privilege_type), ', '
                     ORDER BY table_schema, grantee, privilege_type)
     FROM information_schema.role_table_grants WHERE table_name = '$2' AND table_schema IN ('$S', '$TENANT')),
  pg_get_viewdef('$TENANT.$2'::regclass),
  (SELECT count(*) FROM $S.$2)))
SQL
}

# The API view should show the table's columns under their names (in any
# order: an added column comes last in the table, before the system columns in
# the view).
view_matches_table() { # view_matches_table DB ENTITY
  psql -X -qAt -v ON_ERROR_STOP=1 -d "$1" <<SQL
SELECT (SELECT string_agg(attname, ',' ORDER BY attname) FROM pg_attribute
         WHERE attrelid = '$S.$2'::regclass AND attnum > 0 AND NOT attisdropped)
     = (SELECT string_agg(attname, ',' ORDER BY attname) FROM pg_attribute
         WHERE attrelid = '$TENANT.$2'::regclass AND attnum > 0 AND NOT attisdropped)
SQL
}

filenode() { psql -X -qAt -d "$1" -c "SELECT pg_relation_filenode('$S.$2')"; }

# Timed sessions. Both begin with plan_entity for the change (see the header).
cat >"$WORK/cot_session.sql" <<SQL
SELECT cot.entity('$TENANT', :'entity') IS NOT NULL;
\\timing on
SELECT $PLAN_SUMMARY FROM (SELECT cot.plan_entity(:'def'::jsonb, :'opts'::jsonb) AS p) AS x;
SELECT cot.alter_entity(:'def'::jsonb, :'opts'::jsonb) IS NOT NULL;
SQL

declare -A PLAN_MS=() COT_MS=() PLAIN_MS=() CLASS=() REWROTE=() NOTES=()
WARNINGS=()
warn() { WARNINGS+=("$*"); log "WARNING: $*"; }

run_change() { # run_change ROUND INDEX KEY
  local r=$1 i=$2 k=$3 e="e_$3" def_c def_p opts=${OPTS[$3]} plan_line
  local dir="$WORK/$k.$r"
  mkdir -p "$dir"
  local so
  so=$(so_sum)
  log "round $r: $k: copying $N rows into $e on both sides"
  # The two copies are made side by side (nothing is timed yet).
  local p1 p2
  clone "$DB_COT" "$e" &
  p1=$!
  clone "$DB_PLAIN" "$e" &
  p2=$!
  wait "$p1"
  wait "$p2"
  q -d postgres -c CHECKPOINT
  def_c=$(new_def "$DB_COT" "$e" "$k")
  def_p=$(new_def "$DB_PLAIN" "$e" "$k")
  printf '%s\n' "$def_c" >"$dir/definition.json"

  # The plain script, from plan_entity on the plain side's copy.
  psql -X -qAt -v ON_ERROR_STOP=1 -d "$DB_PLAIN" -v def="$def_p" -v opts="$opts" <<SQL
CREATE TEMP TABLE plan AS SELECT cot.plan_entity(:'def'::jsonb, :'opts'::jsonb) AS p;
\\o $dir/plain.sql
SELECT E'BEGIN\\\\;\\n'
    || string_agg(regexp_replace(c->>'sql', ';\\s*\$', ''), E'\\\\;\\n' ORDER BY o)
    || E'\\\\;\\nCOMMIT;'
  FROM plan, jsonb_array_elements(p->'changes') WITH ORDINALITY AS x(c, o)
 HAVING count(*) > 0;
\\o $dir/plan_sql.txt
SELECT c->>'sql' FROM plan, jsonb_array_elements(p->'changes') WITH ORDINALITY AS x(c, o) ORDER BY o;
\\o $dir/plan_plain.json
SELECT p FROM plan;
SQL
  {
    printf "SELECT cot.entity('%s', :'entity') IS NOT NULL;\n" "$TENANT"
    printf '\\timing on\n'
    printf "SELECT cot.plan_entity(:'def'::jsonb, :'opts'::jsonb) IS NOT NULL;\n"
    cat "$dir/plain.sql"
  } >"$dir/plain_session.sql"

  local fn_c0 fn_p0 fn_c1 fn_p1
  fn_c0=$(filenode "$DB_COT" "$e")
  fn_p0=$(filenode "$DB_PLAIN" "$e")
  cot_side() {
    q -At -d "$DB_COT" -v def="$def_c" -v opts="$opts" -v entity="$e" -f "$WORK/cot_session.sql" >"$dir/cot.out"
  }
  plain_side() {
    q -At -d "$DB_PLAIN" -v def="$def_p" -v opts="$opts" -v entity="$e" -f "$dir/plain_session.sql" >"$dir/plain.out"
  }
  if [ $(((r + i) % 2)) -eq 0 ]; then
    cot_side
    plain_side
  else
    plain_side
    cot_side
  fi
  [ "$(so_sum)" = "$so" ] || warn "$k, round $r: the extension was reinstalled while this change was measured"
  fn_c1=$(filenode "$DB_COT" "$e")
  fn_p1=$(filenode "$DB_PLAIN" "$e")

  # plan line: class|steps|pending|rows|refused
  plan_line=$(grep -v '^Time: ' "$dir/cot.out" | sed -n 2p)
  local class steps pending rows refused
  IFS='|' read -r class steps pending rows refused <<<"$plan_line"
  [ "$refused" = 0 ] || warn "$k: plan_entity refused the change: $(cat "$dir/plan_plain.json")"
  local cls
  cls="$class ($steps steps$([ "$pending" = 0 ] || echo ", $pending pending"))"
  if [ -n "${CLASS[$k]:-}" ] && [ "${CLASS[$k]}" != "$cls" ]; then
    warn "$k: plan_entity classed the change ${CLASS[$k]} in an earlier round, $cls in round $r"
  fi
  CLASS[$k]=$cls
  [ "$rows" = 0 ] || NOTES[$k]="plan counted $rows rows"
  mapfile -t tc < <(ms_of "$dir/cot.out")
  mapfile -t tp < <(ms_of "$dir/plain.out")
  PLAN_MS[$r,$k]=${tc[0]}
  COT_MS[$r,$k]=${tc[1]}
  PLAIN_MS[$r,$k]=${tp[1]:--}
  if [ "$fn_c0" != "$fn_c1" ]; then REWROTE[$k]=yes; else REWROTE[$k]=no; fi
  if [ "$fn_p0" != "$fn_p1" ] && [ "${REWROTE[$k]}" = no ]; then
    warn "$k: the plain side rewrote the table, the cot side did not"
  elif [ "$fn_p0" = "$fn_p1" ] && [ "${REWROTE[$k]}" = yes ]; then
    warn "$k: the cot side rewrote the table, the plain side did not"
  fi

  # Checks: the ledger holds the plain script's statements; both sides alike.
  psql -X -qAt -v ON_ERROR_STOP=1 -d "$DB_COT" -o "$dir/ledger_sql.txt" -c "
    SELECT s FROM (SELECT sql FROM cot.migrations WHERE entity = '$e' AND operation = 'alter_entity'
                    ORDER BY id DESC LIMIT 1) AS m, unnest(m.sql) WITH ORDINALITY AS u(s, o) ORDER BY o"
  cmp -s "$dir/ledger_sql.txt" "$dir/plan_sql.txt" ||
    warn "$k: the SQL cot.alter_entity ran (ledger) differs from plan_entity's on the plain copy (see $dir)"
  [ "$(fingerprint "$DB_COT" "$e")" = "$(fingerprint "$DB_PLAIN" "$e")" ] ||
    warn "$k: the two sides ended with different objects or row counts"
  [ "$(view_matches_table "$DB_COT" "$e")" = t ] ||
    warn "$k: view $TENANT.$e does not show the table's column names after the change: $(psql -X -qAt -d "$DB_COT" -c "SELECT pg_get_viewdef('$TENANT.$e'::regclass)" | tr -s ' \n' ' ')"
  if [ "$k" = index_deferred ]; then
    local idx
    idx=$(psql -X -qAt -d "$DB_COT" -c "SELECT count(*) FROM pg_indexes WHERE schemaname = '$S' AND tablename = '$e' AND indexdef LIKE '%(day)%'")
    NOTES[$k]="index built: $([ "$idx" = 0 ] && echo no || echo yes); pending in the ledger: $(psql -X -qAt -d "$DB_COT" -c "
      SELECT coalesce(string_agg(x->>'sql', '; '), 'nothing')
        FROM (SELECT plan FROM cot.migrations WHERE entity = '$e' AND operation = 'alter_entity' ORDER BY id DESC LIMIT 1) AS m,
             jsonb_array_elements(m.plan) AS s, jsonb_array_elements(s->'pending') AS x
       WHERE s->>'step' = 'pending'")"
  fi
  if [ -n "${COT_BENCH_SAVE_SQL:-}" ]; then
    mkdir -p "$COT_BENCH_SAVE_SQL/$k"
    cp "$dir/definition.json" "$dir/plain.sql" "$COT_BENCH_SAVE_SQL/$k/"
  fi
  log "round $r: $k: plan ${PLAN_MS[$r,$k]} ms, cot ${COT_MS[$r,$k]} ms, plain ${PLAIN_MS[$r,$k]} ms, class ${CLASS[$k]}, rewrote ${REWROTE[$k]}"
  q -d "$DB_COT" -o /dev/null -c "SELECT cot.drop_entity('$TENANT', '$e')"
  q -d "$DB_PLAIN" -o /dev/null -c "SELECT cot.drop_entity('$TENANT', '$e')"
}

# The build under test: a reinstall during the run would mix two builds.
SO="$("$PG_CONFIG" --pkglibdir)/cot.so"
so_sum() { md5sum "$SO" 2>/dev/null | cut -c1-12; }
SO_AT_START=$(so_sum)
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$(date +%s)
log "N=$N rows, $ROUNDS round(s), ${#KEYS[@]} changes, cluster $COT_CLUSTER_DIR"
log "$DB_COT: loading $N rows into $S.tmpl"
setup_db "$DB_COT"
# Roles belong to the cluster, so the tenant cannot be created twice: the plain
# database is a copy of the first (extension, tenant, tmpl and its rows).
log "$DB_PLAIN: a copy of $DB_COT"
q -d postgres -c "CREATE DATABASE $DB_PLAIN TEMPLATE $DB_COT"
# Plain PostgreSQL has no DDL guard: Cot's event triggers (which refuse DDL on
# tenant schemas that does not come from Cot) are disabled on the plain side
# only. The cot side keeps them, and their cost counts as Cot's.
q -d "$DB_PLAIN" <<'SQL'
DO $$
DECLARE t name;
BEGIN
  FOR t IN SELECT evtname FROM pg_event_trigger WHERE evtfoid::regproc::text LIKE 'cot.%' LOOP
    EXECUTE format('ALTER EVENT TRIGGER %I DISABLE', t);
  END LOOP;
END
$$;
SQL
for r in $(seq 1 "$ROUNDS"); do
  i=0
  for k in "${KEYS[@]}"; do
    run_change "$r" "$i" "$k"
    i=$((i + 1))
  done
done

# --- the preview: text -> integer where 0.1% of the rows do not convert ---------
BAD=$((N / 1000))
log "preview: qty -> integer on a copy where $BAD rows do not convert"
clone "$DB_COT" e_preview "UPDATE $S.e_preview SET qty = qty || 'x' WHERE amount % 1000 = 0;"
q -d postgres -c CHECKPOINT
def=$(new_def "$DB_COT" e_preview text_int)
cat >"$WORK/preview.sql" <<SQL
SELECT cot.entity('$TENANT', 'e_preview') IS NOT NULL;
\\timing on
SELECT p->'refused'->0->>'message' FROM (SELECT cot.plan_entity(:'def'::jsonb, '{}'::jsonb) AS p) AS x;
SELECT p->'refused'->0->>'message' FROM (SELECT cot.plan_entity(:'def'::jsonb, '{}'::jsonb) AS p) AS x;
SELECT count(*) FROM $S.e_preview WHERE qty IS NOT NULL AND qty !~ '^[0-9]+\$';
SQL
so=$(so_sum)
q -At -d "$DB_COT" -v def="$def" -f "$WORK/preview.sql" >"$WORK/preview.out"
[ "$(so_sum)" = "$so" ] || warn "preview: the extension was reinstalled while it was measured"
mapfile -t tv < <(ms_of "$WORK/preview.out")
refusal=$(grep -v '^Time: ' "$WORK/preview.out" | sed -n 2p)
elapsed=$(($(date +%s) - t_start))

# --- figures ---------------------------------------------------------------------
median() { # median VALUES...: the median of the numbers given ("-" if none)
  printf '%s\n' "$@" | { grep -v '^-$' || true; } | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "-"; exit }
    printf "%.1f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
echo
printf 'Schema changes on N=%s rows: cot.alter_entity against the same SQL as one plain transaction\n' "$N"
printf 'server: %s; %s cores; load average at the start %s, at the end %s; %s round(s)%s; %d s in all\n' \
  "$(psql -X -qAt -d "$DB_COT" -c 'SHOW server_version')" "$(nproc)" "$LOAD_AT_START" "$(cut -d' ' -f1-3 /proc/loadavg)" \
  "$ROUNDS" "$([ "$ROUNDS" = 1 ] || echo ', median ms shown')" "$elapsed"
printf 'cot.so md5 %s...\n' "$SO_AT_START"
[ "$(so_sum)" = "$SO_AT_START" ] ||
  warn "the extension was reinstalled during the run (cot.so changed): figures may come from two builds (see the warnings naming a change); run again"
echo
printf '%-40s | %-32s | %9s | %9s | %9s | %9s | %9s | %-7s\n' change 'class (plan_entity)' 'plan ms' 'cot ms' 'plain ms' cot/plain 'cot-plain' rewrote
printf -- '-%.0s' $(seq 1 148)
echo
for k in "${KEYS[@]}"; do
  pl=() co=() pn=()
  for r in $(seq 1 "$ROUNDS"); do
    pl+=("${PLAN_MS[$r,$k]}")
    co+=("${COT_MS[$r,$k]}")
    pn+=("${PLAIN_MS[$r,$k]}")
  done
  mp=$(median "${pl[@]}")
  mc=$(median "${co[@]}")
  mn=$(median "${pn[@]}")
  awk -v l="${LABEL[$k]}" -v c="${CLASS[$k]}" -v p="$mp" -v a="$mc" -v b="$mn" -v w="${REWROTE[$k]}" 'BEGIN {
    ratio = (b == "-" || b == 0) ? "-" : sprintf("%.2f", a / b)
    diff = (b == "-") ? "-" : sprintf("%.1f", a - b)
    printf "%-40s | %-32s | %9s | %9s | %9s | %9s | %9s | %-7s\n", l, c, p, a, b, ratio, diff, w
  }'
done
if [ "$ROUNDS" -gt 1 ]; then
  echo
  echo 'each round, plan / cot / plain ms:'
  for k in "${KEYS[@]}"; do
    printf '  %-16s' "$k"
    for r in $(seq 1 "$ROUNDS"); do
      printf ' | %s / %s / %s' "${PLAN_MS[$r,$k]}" "${COT_MS[$r,$k]}" "${PLAIN_MS[$r,$k]}"
    done
    echo
  done
fi
echo
for k in "${KEYS[@]}"; do
  [ -z "${NOTES[$k]:-}" ] || printf '%s: %s\n' "$k" "${NOTES[$k]}"
done
echo
printf 'preview: plan_entity(qty text -> integer) on %s rows, %s of them not convertible:\n' "$N" "$BAD"
printf '  first call %s ms, second call %s ms; it reports: %s\n' "${tv[0]}" "${tv[1]}" "${refusal:-no refusal}"
printf '  for scale, one plain scan counting them with a regex: %s ms (%s rows)\n' "${tv[2]}" \
  "$(grep -v '^Time: ' "$WORK/preview.out" | sed -n 4p)"
grep -q "would not convert\|$BAD" <<<"${refusal:-}" || echo "WARNING: the preview did not report $BAD rows" >&2
if [ "${#WARNINGS[@]}" -gt 0 ]; then
  echo
  printf 'WARNING: %s\n' "${WARNINGS[@]}" | sort -u
fi
