#!/usr/bin/env bash
# cot-realtime under load: subscribers of one tenant (owner rule, mixed
# users: SUBS/10 users and SUBS/100 admins), RATE changes per second for
# SECS seconds, each change an INSERT in its own transaction. Prints, per
# number of subscribers: commit-to-client latency p50/p99, server memory per
# subscriber, re-read statements and round trips per batch of changes.
#
#   bench/realtime.sh                      10, 100 and 1,000 subscribers; 500 changes/s for 20 s
#   bench/realtime.sh --short              10 and 100 subscribers, 200 changes/s for 3 s
#   SIZES="1000" RATE=500 SECS=30 bench/realtime.sh
#   COT_SKIP_INSTALL=1 bench/realtime.sh   use the extension already installed
#   REALTIME_BIN=/tmp/cot-realtime-old bench/realtime.sh   measure another build
#
# A private cluster; the real cot-realtime binary (built here with
# `cargo build --release -p cot-realtime`) connects as an authenticator, as
# PostgREST would; the clients are @supabase/realtime-js in one Node process
# on the same machine (bench/realtime.mjs), so they take CPU from the server.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
if [ "${1:-}" = --short ]; then
  SIZES=${SIZES:-"10 100"} RATE=${RATE:-200} SECS=${SECS:-3}
fi
SIZES=${SIZES:-"10 100 1000"}
RATE=${RATE:-500}
SECS=${SECS:-20}
SECRET=${SECRET:-benchmark-secret-of-at-least-32-characters}

# REALTIME_BIN: another build of the server to measure (e.g. to compare two).
BIN=${REALTIME_BIN:-}
if [ -z "$BIN" ]; then
  log "building cot-realtime (release)"
  cargo build --release -p cot-realtime
  BIN=target/release/cot-realtime
fi
bench_setup
q -d postgres -c "CREATE DATABASE bench"
q -d bench -c "CREATE EXTENSION cot" -c "SELECT cot.create_tenant('bench')" \
  -c "SELECT cot.create_entity('{\"tenant\": \"bench\", \"name\": \"notes\", \"history\": true,
        \"fields\": [{\"name\": \"title\", \"type\": \"text\"}],
        \"access\": {\"read\": \"owner\", \"create\": \"tenant\", \"update\": \"owner\", \"delete\": \"owner\"}}')" \
  -c "CREATE ROLE authenticator LOGIN NOINHERIT" -c "SELECT cot.add_authenticator('authenticator')" >/dev/null
log "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo); load $(cut -d' ' -f1-3 /proc/loadavg)"

for subs in $SIZES; do
  port=$(( (RANDOM % 20000) + 30000 ))
  COT_REALTIME_DB_URI="postgres://authenticator@127.0.0.1:$PGPORT/bench" COT_REALTIME_JWT_SECRET="$SECRET" \
    COT_REALTIME_PORT=$port COT_REALTIME_MAX_CHANNELS_PER_SOCKET=10 \
    "$BIN" 2>"$WORK/realtime_$subs.log" &
  pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
  log "$subs subscribers, $RATE changes/s for $SECS s"
  node bench/realtime.mjs "$PGHOST" "$PGPORT" bench "$SECRET" "$port" "$pid" "$subs" "$RATE" "$SECS" | tee -a "$WORK/results.jsonl"
  kill -TERM "$pid"
  wait "$pid" || true
done
log "results: one JSON line per size above"
