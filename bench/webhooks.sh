#!/usr/bin/env bash
# Webhook delivery by the background worker: deliveries per second to a
# local receiver with one worker, and the time from a change's COMMIT to its
# delivery at a steady rate of changes.
#
#   bench/webhooks.sh                      N=10000 changes, RATE=500/s for SECS=10 s
#   N=2000 SECS=4 bench/webhooks.sh        a quick look (about 15 s)
#   COT_SKIP_INSTALL=1 bench/webhooks.sh   use the extension already installed
#
# A private cluster with cot in shared_preload_libraries and a worker for
# database `bench` (default worker settings, except cot.webhook_allow_private,
# since the receiver is on loopback); a tenant with one entity with
# "history": true; the receiver and the writer are bench/webhooks.mjs (Node,
# one process). Throughput is measured with HOOKS webhooks (1, then 4), all
# matching every change.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
N=${N:-10000}
RATE=${RATE:-500}
SECS=${SECS:-10}

export COT_CLUSTER_SETTINGS="shared_preload_libraries = 'cot'
cot.worker_databases = 'bench'
cot.webhook_allow_private = on"
bench_setup
q -d postgres -c "CREATE DATABASE bench"
q -d bench -c "CREATE EXTENSION cot" -c "SELECT cot.create_tenant('bench')" \
  -c "SELECT cot.create_entity('{\"tenant\": \"bench\", \"name\": \"items\", \"history\": true,
        \"fields\": [{\"name\": \"title\", \"type\": \"text\"}]}')" >/dev/null
log "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo); load $(cut -d' ' -f1-3 /proc/loadavg)"
node bench/webhooks.mjs "$PGHOST" "$PGPORT" bench "$N" "$RATE" "$SECS" 1
node bench/webhooks.mjs "$PGHOST" "$PGPORT" bench "$N" "$RATE" 0 4
