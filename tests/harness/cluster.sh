# shellcheck shell=bash
# Private PostgreSQL 15 clusters for Cot's tests, demo and benchmark.
#
# Source this file, then:
#   cluster_start [DIR]   create (if absent) and start a cluster in DIR; with no
#                         DIR a fresh one is made under /tmp. Lines in
#                         COT_CLUSTER_SETTINGS (e.g. "shared_preload_libraries
#                         = 'cot'") are added to postgresql.conf of a new
#                         cluster, after the test settings. Exports PGHOST
#                         (the socket directory), PGPORT, PGUSER=postgres,
#                         PGDATABASE=postgres, plus COT_CLUSTER_DIR and
#                         COT_CLUSTER_LOG.
#   cluster_stop [DIR]    stop the cluster and remove DIR. Safe to call twice,
#                         on a half-made DIR, or from an EXIT trap: it never
#                         fails.
#   cluster_info [DIR]    print how to connect to a running cluster.
#   cluster_log_tail [DIR] print the end of the server log (after a failure).
#   cluster_crash [DIR]   stop the server at once, as a power cut would for its
#                         processes (`pg_ctl stop -m immediate`: no shutdown
#                         checkpoint; the next cluster_start replays the WAL).
#                         DIR stays; cluster_start DIR starts it again.
#
# Why a private cluster: tests must not depend on (or disturb) the machine's own
# Debian cluster, and several runs may happen side by side. Everything lives in
# DIR: data/, sock/ (unix socket), postgres.log, port.
#
# Why the `postgres` user: initdb and postgres refuse to run as root, and CI runs
# as root. So as root every server-side command goes through `runuser -u
# postgres --`, and DIR must be somewhere postgres can enter: not under /root
# (mode 700), hence the default under /tmp. Run as any other user, the cluster
# simply belongs to that user.
#
# The caller's `set -euo pipefail` applies; functions here return non-zero on
# failure (except cluster_stop) with a message on stderr.

COT_PG_BINDIR=${COT_PG_BINDIR:-/usr/lib/postgresql/15/bin}

_cot_log() { printf '[cluster] %s\n' "$*" >&2; }

# Run a command as the cluster's owner: postgres when we are root, else ourselves.
_cot_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# A TCP port nobody listens on right now. The server binds 127.0.0.1 only; if
# another process grabs the port between this check and the start, cluster_start
# notices the failed start and tries another port.
_cot_free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  _cot_log "no free TCP port found"
  return 1
}

_cot_is_running() {
  [ -f "$1/data/PG_VERSION" ] && _cot_as_owner "$COT_PG_BINDIR/pg_ctl" status -D "$1/data" >/dev/null 2>&1
}

_cot_export_env() {
  local dir=$1
  export COT_CLUSTER_DIR="$dir"
  export COT_CLUSTER_LOG="$dir/postgres.log"
  export PGHOST="$dir/sock"
  PGPORT="$(cat "$dir/port")"
  export PGPORT
  export PGUSER=postgres
  export PGDATABASE=postgres
}

cluster_start() {
  local dir=${1:-}
  if [ -z "$dir" ]; then
    dir=$(mktemp -d /tmp/cot-test.XXXXXX)
  fi
  dir=$(realpath -m "$dir")
  case "$dir/" in
  /root/*)
    _cot_log "$dir is under /root, which the postgres user cannot enter; use a directory under /tmp"
    return 1
    ;;
  esac
  if [ -d "$dir" ] && [ ! -e "$dir/.cot-cluster" ] && [ -n "$(ls -A "$dir")" ]; then
    _cot_log "$dir exists, is not empty and was not made by cluster_start; refusing to use it"
    return 1
  fi
  mkdir -p "$dir"
  # Export at once, so an EXIT trap calling `cluster_stop "$COT_CLUSTER_DIR"`
  # cleans up even if the start fails half-way.
  export COT_CLUSTER_DIR="$dir"
  # The socket path (DIR/sock/.s.PGSQL.NNNNN) must fit in sun_path (107 bytes).
  if [ $((${#dir} + 22)) -gt 107 ]; then
    _cot_log "$dir is too long for a unix socket path; use a shorter directory"
    return 1
  fi
  # Marks the directory as ours, so cluster_stop never deletes anything else.
  touch "$dir/.cot-cluster"
  mkdir -p "$dir/sock"
  # 755: root and other local users may connect through the socket (trust auth;
  # this is a throw-away test cluster reachable only from this machine).
  chmod 755 "$dir" "$dir/sock"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir" "$dir/sock"
    if ! runuser -u postgres -- test -w "$dir"; then
      _cot_log "the postgres user cannot write to $dir (a parent directory is closed to it?)"
      return 1
    fi
  fi

  if _cot_is_running "$dir"; then
    _cot_export_env "$dir"
    return 0
  fi

  if [ ! -f "$dir/data/PG_VERSION" ]; then
    rm -rf "$dir/data"
    _cot_as_owner "$COT_PG_BINDIR/initdb" -D "$dir/data" --auth=trust -U postgres \
      --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 || {
      _cot_log "initdb failed:"
      cat "$dir/initdb.log" >&2
      return 1
    }
    # Settings for tests, not production: durability off (a crash only loses a
    # throw-away cluster), room for many sessions, and for transactions that
    # create or drop many tables (each table, index and view takes a lock).
    _cot_as_owner tee -a "$dir/data/postgresql.conf" >/dev/null <<EOF

# --- added by tests/harness/cluster.sh ---
unix_socket_directories = '$dir/sock'
listen_addresses = '127.0.0.1'
max_connections = 100
max_locks_per_transaction = 256
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
max_wal_size = 2GB
checkpoint_timeout = 30min
log_min_messages = warning
log_min_error_statement = error
log_line_prefix = '%m [%p] %q%u@%d '
log_checkpoints = off
timezone = 'UTC'
EOF
    if [ -n "${COT_CLUSTER_SETTINGS:-}" ]; then
      printf '\n# --- COT_CLUSTER_SETTINGS ---\n%s\n' "$COT_CLUSTER_SETTINGS" |
        _cot_as_owner tee -a "$dir/data/postgresql.conf" >/dev/null
    fi
  fi

  # The port is given at start (not written into postgresql.conf) because a
  # restarted cluster may need a different free port.
  local port attempt
  for attempt in 1 2 3 4 5; do
    port=$(_cot_free_port)
    echo "$port" >"$dir/port"
    # The server runs with RUST_BACKTRACE=1, as on a developer's machine:
    # pgrx would put a Rust backtrace into the DETAIL of errors that pass
    # through Cot, and clients must never see one (Cot turns backtraces off
    # when it loads; tests/sql/89_error_details.sql checks).
    if _cot_as_owner env -u RUST_LIB_BACKTRACE RUST_BACKTRACE=1 \
      "$COT_PG_BINDIR/pg_ctl" start -D "$dir/data" -l "$dir/postgres.log" \
      -o "-p $port" -w -t 60 >/dev/null 2>&1; then
      _cot_export_env "$dir"
      return 0
    fi
    if ! grep -q 'could not bind\|Address already in use' "$dir/postgres.log" 2>/dev/null; then
      break
    fi
    _cot_log "port $port taken, trying another (attempt $attempt)"
  done
  _cot_log "PostgreSQL did not start; end of $dir/postgres.log:"
  tail -n 20 "$dir/postgres.log" >&2 2>/dev/null || true
  return 1
}

cluster_stop() {
  local dir=${1:-${COT_CLUSTER_DIR:-}}
  [ -n "$dir" ] || return 0
  [ -d "$dir" ] || return 0
  if [ ! -e "$dir/.cot-cluster" ]; then
    _cot_log "not removing $dir: it was not made by cluster_start"
    return 0
  fi
  if [ -f "$dir/data/PG_VERSION" ] && _cot_is_running "$dir"; then
    # fast: roll back open sessions and stop; immediate if that hangs.
    _cot_as_owner "$COT_PG_BINDIR/pg_ctl" stop -D "$dir/data" -m fast -w -t 60 >/dev/null 2>&1 ||
      _cot_as_owner "$COT_PG_BINDIR/pg_ctl" stop -D "$dir/data" -m immediate -w -t 30 >/dev/null 2>&1 ||
      _cot_log "could not stop the cluster in $dir"
  fi
  rm -rf "$dir" || _cot_log "could not remove $dir"
  if [ "${COT_CLUSTER_DIR:-}" = "$dir" ]; then
    unset COT_CLUSTER_DIR COT_CLUSTER_LOG
  fi
  return 0
}

# cluster_log_tail [DIR]: the last lines of the server log, for a script that
# failed (what the server said is often the reason).
cluster_log_tail() {
  local dir=${1:-${COT_CLUSTER_DIR:-}}
  [ -n "$dir" ] && [ -f "$dir/postgres.log" ] || return 0
  _cot_log "server log, last lines: $dir/postgres.log"
  tail -n 25 "$dir/postgres.log" >&2 || true
}

cluster_crash() {
  local dir=${1:-${COT_CLUSTER_DIR:-}}
  if [ -z "$dir" ] || [ ! -e "$dir/.cot-cluster" ]; then
    _cot_log "cluster_crash: no cluster made by cluster_start in '$dir'"
    return 1
  fi
  _cot_as_owner "$COT_PG_BINDIR/pg_ctl" stop -D "$dir/data" -m immediate -w -t 30 >/dev/null
}

cluster_info() {
  local dir=${1:-${COT_CLUSTER_DIR:-}}
  echo "socket dir: $dir/sock   port: $(cat "$dir/port" 2>/dev/null)   log: $dir/postgres.log"
  echo "connect:    psql -h $dir/sock -p $(cat "$dir/port" 2>/dev/null) -U postgres ${2:-postgres}"
}
