# shellcheck shell=bash
# Cot's front door: nginx in front of PostgREST, the studio and realtime, on
# one port (docs/gateway.md). Source this file, then:
#
#   gateway_start DIR PORT POSTGREST STUDIO_DIST [REALTIME_PORT]
#       Writes gateway/nginx.conf.template out as DIR/nginx.conf and starts
#       Debian's nginx as `nginx -p DIR -c DIR/nginx.conf -g 'daemon off;'`
#       in the background, in its own session (it outlives the calling
#       script; gateway_stop ends it). Everything nginx writes is in DIR:
#       nginx.pid, error.log, access.log (if asked for), tmp/ (temp paths), nginx.out
#       (its stdout and stderr). Waits until it answers on PORT.
#         PORT            where the front door listens
#         POSTGREST       PostgREST, served at /rest/v1/: a port on 127.0.0.1
#                         or unix:/path/of/its.sock; or several instances,
#                         one per group of tenants (docs/gateway.md, "Several
#                         PostgREST instances"): GROUP=ADDR,GROUP=ADDR,...
#                         with one GROUP named `default`, the instance of
#                         every tenant cot.api_routes() puts in no other
#         STUDIO_DIST     the studio's built files, served at /; when it has
#                         no index.html, / answers a small static page
#         REALTIME_PORT   the realtime server on 127.0.0.1, served at
#                         /realtime/v1/ (WebSocket); without it that path is
#                         a 404
#       Returns non-zero, with nginx's error log on stderr, if nginx does not
#       start. Exports GATEWAY_DIR, GATEWAY_PORT, GATEWAY_PID.
#   gateway_stop DIR
#       Stops the nginx of DIR (graceful, then forced) and removes DIR. Safe
#       to call twice, on a half-made DIR or from an EXIT trap: never fails.
#       Only a directory gateway_start made is removed.
#   gateway_routes DIR CONNINFO
#       Writes which instance serves each tenant (cot.api_routes() of the
#       database at CONNINFO, read with psql) into DIR/routes.map and has
#       the running nginx reload it (its workers are replaced gracefully;
#       waits for the new ones). Refuses, keeping the previous map, a route
#       to a group gateway_start was given no instance for.
#   gateway_url SLUG
#       http://SLUG.<base domain>:<port>/ of the gateway last started.
#
# Environment (read by gateway_start):
#   COT_BASE_DOMAIN     tenants are <slug>.<base domain> (default localhost,
#                       which browsers and curl resolve to 127.0.0.1)
#   COT_GATEWAY_LISTEN  the address to listen on (default 127.0.0.1)
#   COT_GATEWAY_WORKERS nginx worker processes (default 1)
#   COT_GATEWAY_USER    the user nginx runs as when started by root (default
#                       www-data); as any other user nginx runs as that user
#   COT_GATEWAY_ACCESS_LOG 1: write DIR/access.log (default off; PostgREST
#                       logs API requests itself)
#   COT_GATEWAY_ROUTES_DB a conninfo: gateway_start writes the routes from
#                       it (gateway_routes) before starting; without it every
#                       tenant goes to the `default` instance
#   COT_GATEWAY_TEMPLATE another template to write out (experiments; default
#                       gateway/nginx.conf.template)
#
# nginx never runs as root: started by root, it is started as
# COT_GATEWAY_USER (setpriv), which then owns DIR; DIR must be somewhere
# that user can enter (not under /root; /tmp is fine). A STUDIO_DIST it
# cannot read is copied into DIR. Installs nothing: scripts/setup.sh
# installs nginx.

_COT_GATEWAY_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
COT_NGINX_BIN=${COT_NGINX_BIN:-/usr/sbin/nginx}

_gw_log() { printf '[gateway] %s\n' "$*" >&2; }

# The replacement text for sed's s|||: \, | and & escaped.
_gw_sed_escape() { printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'; }

# A pid that is still an nginx process.
_gw_is_nginx() {
  [[ "$1" =~ ^[0-9]+$ ]] && [ "$(basename "$(readlink "/proc/$1/exe" 2>/dev/null)")" = nginx ]
}

gateway_start() {
  if [ $# -lt 4 ] || [ $# -gt 5 ]; then
    _gw_log "usage: gateway_start DIR PORT POSTGREST STUDIO_DIST [REALTIME_PORT]"
    return 2
  fi
  local dir=$1 port=$2 pgrst=$3 studio=$4 realtime=${5:-} upstreams
  local domain=${COT_BASE_DOMAIN:-localhost} listen=${COT_GATEWAY_LISTEN:-127.0.0.1}
  local workers=${COT_GATEWAY_WORKERS:-1} user="" access_log=off
  local p
  upstreams=$(_gw_upstreams "$pgrst") || return 2
  for p in "$port" ${realtime:+"$realtime"}; do
    if ! [[ "$p" =~ ^[0-9]{1,5}$ ]] || [ "$p" -lt 1 ] || [ "$p" -gt 65535 ]; then
      _gw_log "not a TCP port: $p"
      return 2
    fi
  done
  if ! [[ "$domain" =~ ^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$ ]]; then
    _gw_log "COT_BASE_DOMAIN must be a lower-case host name, not '$domain'"
    return 2
  fi
  if ! [[ "$listen" =~ ^[][0-9a-fA-F.:*]+$ ]]; then
    _gw_log "COT_GATEWAY_LISTEN must be an IP address, not '$listen'"
    return 2
  fi
  [[ "$workers" =~ ^([1-9][0-9]?|auto)$ ]] || {
    _gw_log "COT_GATEWAY_WORKERS must be a number or auto, not '$workers'"
    return 2
  }
  if [ ! -x "$COT_NGINX_BIN" ]; then
    _gw_log "$COT_NGINX_BIN is missing: run scripts/setup.sh (it installs Debian's nginx)"
    return 1
  fi
  dir=$(realpath -m "$dir")
  [ "${COT_GATEWAY_ACCESS_LOG:-0}" != 1 ] || access_log="$dir/access.log combined buffer=32k flush=1s"
  if [ -d "$dir" ] && [ ! -e "$dir/.cot-gateway" ] && [ -n "$(ls -A "$dir")" ]; then
    _gw_log "$dir exists, is not empty and was not made by gateway_start; refusing to use it"
    return 1
  fi
  if [ -f "$dir/nginx.pid" ] && _gw_is_nginx "$(cat "$dir/nginx.pid" 2>/dev/null)"; then
    _gw_log "a gateway already runs in $dir (gateway_stop it first)"
    return 1
  fi
  mkdir -p "$dir/tmp"
  touch "$dir/.cot-gateway"
  rm -f "$dir/nginx.pid"
  printf '%s\n' "$upstreams" >"$dir/upstreams.conf"
  : >"$dir/routes.map"
  if [ -n "${COT_GATEWAY_ROUTES_DB:-}" ]; then
    _gw_write_routes "$dir" "$COT_GATEWAY_ROUTES_DB" || return 1
  fi

  # Never as root: root starts it as COT_GATEWAY_USER, which must own DIR.
  local run=()
  if [ "$(id -u)" -eq 0 ]; then
    user=${COT_GATEWAY_USER:-www-data}
    id "$user" >/dev/null 2>&1 || {
      _gw_log "user $user does not exist (COT_GATEWAY_USER)"
      return 1
    }
    run=(setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups --inh-caps=-all)
  fi

  # The studio, or the page that stands in for it. A studio nginx's user
  # cannot read (a clone under /root, say) is served from a copy in DIR.
  local root
  if [ -f "$studio/index.html" ]; then
    root=$(realpath "$studio")
    if ! "${run[@]}" test -r "$root/index.html" -a -x "$root"; then
      _gw_log "${user:-$(id -un)} cannot read $root: serving a copy from $dir/studio"
      rm -rf "$dir/studio"
      cp -r "$root" "$dir/studio"
      root="$dir/studio"
    fi
  else
    root="$dir/html"
    mkdir -p "$root"
    cp "$_COT_GATEWAY_ROOT/gateway/index.html" "$root/index.html"
  fi

  # Lines marked #@realtime are kept when there is a realtime server, lines
  # marked #@no-realtime when there is none.
  local keep=no-realtime drop=realtime
  if [ -n "$realtime" ]; then keep=realtime drop=no-realtime; fi
  local domain_re=${domain//./\\.}
  sed -e "/#@$drop\$/d" -e "s/ *#@$keep\$//" \
    -e "s|@@PREFIX@@|$(_gw_sed_escape "$dir")|g" \
    -e "s|@@PORT@@|$port|g" \
    -e "s|@@LISTEN@@|$(_gw_sed_escape "$listen")|g" \
    -e "s|@@REALTIME_PORT@@|$realtime|g" \
    -e "s|@@STATIC_ROOT@@|$(_gw_sed_escape "$root")|g" \
    -e "s|@@BASE_DOMAIN_RE@@|$(_gw_sed_escape "$domain_re")|g" \
    -e "s|@@BASE_DOMAIN@@|$(_gw_sed_escape "$domain")|g" \
    -e "s|@@WORKERS@@|$workers|g" \
    -e "s|@@ACCESS_LOG@@|$(_gw_sed_escape "$access_log")|g" \
    "${COT_GATEWAY_TEMPLATE:-$_COT_GATEWAY_ROOT/gateway/nginx.conf.template}" >"$dir/nginx.conf"
  if grep -q '@@[A-Z_]*@@' "$dir/nginx.conf"; then
    _gw_log "placeholders left in $dir/nginx.conf: $(grep -o '@@[A-Z_]*@@' "$dir/nginx.conf" | sort -u | tr '\n' ' ')"
    return 1
  fi

  [ -z "$user" ] || chown -R "$user:" "$dir"
  if ! "${run[@]}" test -r "$root/index.html" -a -x "$root"; then
    _gw_log "nginx (as ${user:-$(id -un)}) cannot read $root/index.html; is $dir inside a directory it cannot enter?"
    return 1
  fi
  local nginx=("$COT_NGINX_BIN" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log")

  if ! "${run[@]}" "${nginx[@]}" -t -q -g 'daemon off;' >"$dir/nginx.out" 2>&1; then
    _gw_log "nginx refuses $dir/nginx.conf:"
    cat "$dir/nginx.out" >&2
    return 1
  fi
  # In its own session, so it outlives a script that started it with --keep
  # and a Ctrl-C reaches only that script (whose trap stops it).
  setsid "${run[@]}" "${nginx[@]}" -g 'daemon off;' </dev/null >>"$dir/nginx.out" 2>&1 &
  local pid=$! code
  echo "$pid" >"$dir/gateway.pid"
  for _ in $(seq 1 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port/rest/v1/" 2>/dev/null || true)
    if [ "$code" != 000 ] && [ -n "$code" ] && kill -0 "$pid" 2>/dev/null; then
      export GATEWAY_DIR="$dir" GATEWAY_PORT="$port" GATEWAY_PID="$pid" GATEWAY_BASE_DOMAIN="$domain"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  _gw_log "nginx did not start on port $port; its output and error log:"
  cat "$dir/nginx.out" "$dir/error.log" >&2 2>/dev/null || true
  kill -TERM "$pid" 2>/dev/null || true
  return 1
}

gateway_stop() {
  local dir=${1:-} pid
  [ -n "$dir" ] && [ -d "$dir" ] || return 0
  dir=$(realpath -m "$dir")
  [ -e "$dir/.cot-gateway" ] || return 0
  local pids
  pids=$(cat "$dir/gateway.pid" "$dir/nginx.pid" 2>/dev/null | sort -u)
  for pid in $pids; do
    _gw_is_nginx "$pid" || continue
    # QUIT: finish the requests in flight, then exit.
    kill -QUIT "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      _gw_is_nginx "$pid" || break
      sleep 0.1
    done
    # The master leads its own process group (setsid): its workers go too.
    _gw_is_nginx "$pid" && kill -KILL -- "-$pid" 2>/dev/null
  done
  rm -rf "$dir"
  return 0
}

# The upstream blocks of a POSTGREST argument (see gateway_start), one per
# group, on stdout; the group names also go to stdout's last line as a
# comment, which _gw_write_routes reads back from upstreams.conf.
_gw_upstreams() {
  local spec=$1 item group addr server groups=" " out=""
  local IFS=,
  for item in $spec; do
    if [[ "$item" == *=* ]]; then group=${item%%=*} addr=${item#*=}; else group=default addr=$item; fi
    if ! [[ "$group" =~ ^[a-z][a-z0-9_]{0,29}$ ]]; then
      _gw_log "not a group name: '$group' (lower case letters, digits and _, 30 at most)"
      return 2
    fi
    if [[ "$groups" == *" $group "* ]]; then
      _gw_log "group $group is given twice"
      return 2
    fi
    if [[ "$addr" =~ ^unix:/[A-Za-z0-9_./-]+$ ]]; then
      server=$addr
    elif [[ "$addr" =~ ^[0-9]{1,5}$ ]] && [ "$addr" -ge 1 ] && [ "$addr" -le 65535 ]; then
      server=127.0.0.1:$addr
    else
      _gw_log "not a TCP port or unix:/path: $addr"
      return 2
    fi
    groups+="$group "
    out+="upstream cot_pgrst_$group { server $server; keepalive 32; }"$'\n'
  done
  if [[ "$groups" != *" default "* ]]; then
    _gw_log "no instance for group default in '$spec'"
    return 2
  fi
  printf '%s# groups:%s\n' "$out" "$groups"
}

# DIR/routes.map from cot.api_routes(): `tenant cot_pgrst_<group>;` for each
# tenant outside group default. Written to a new file, then moved: nginx
# never reads half of one.
_gw_write_routes() {
  local dir=$1 db=$2 rows groups bad
  groups=$(sed -n 's/^# groups://p' "$dir/upstreams.conf")
  rows=$(psql -X -At -v ON_ERROR_STOP=1 -d "$db" -F ' ' \
    -c "SELECT tenant, api_group FROM cot.api_routes() WHERE api_group <> 'default' ORDER BY tenant") || {
    _gw_log "could not read cot.api_routes() from the database"
    return 1
  }
  bad=$(awk -v g="$groups" 'BEGIN { split(g, a, " "); for (i in a) known[a[i]] = 1 } NF == 2 && !($2 in known) { print $1 " (group " $2 ")" }' <<<"$rows")
  if [ -n "$bad" ]; then
    _gw_log "no PostgREST instance was given for the group of: $(tr '\n' ' ' <<<"$bad")"
    return 1
  fi
  awk 'NF == 2 && $1 ~ /^[a-z][a-z0-9_]*$/ { print $1 " cot_pgrst_" $2 ";" }' <<<"$rows" >"$dir/routes.map.new"
  mv -f "$dir/routes.map.new" "$dir/routes.map"
}

gateway_routes() {
  local dir=${1:?usage: gateway_routes DIR CONNINFO} db=${2:?usage: gateway_routes DIR CONNINFO} master old
  dir=$(realpath -m "$dir")
  [ -e "$dir/.cot-gateway" ] || {
    _gw_log "$dir is not a gateway's directory"
    return 1
  }
  _gw_write_routes "$dir" "$db" || return 1
  master=$(cat "$dir/nginx.pid" 2>/dev/null || true)
  _gw_is_nginx "$master" || return 0
  # A reload starts new workers with the new map, then tells the old ones to
  # stop accepting connections and finish what they hold (a WebSocket may
  # keep one for minutes; its title then says "shutting down"). Done when a
  # new worker runs and no old one still accepts.
  old=$(cat "/proc/$master/task/$master/children" 2>/dev/null || true)
  # nginx checks the new configuration itself and keeps the old workers if
  # it refuses it (then no new worker comes, and its error log says why).
  kill -HUP "$master"
  local pid fresh accepting
  for _ in $(seq 1 100); do
    fresh=0 accepting=0
    for pid in $(cat "/proc/$master/task/$master/children" 2>/dev/null); do
      [[ " $old " == *" $pid "* ]] || fresh=1
    done
    for pid in $old; do
      # (Gone, a zombie not reaped yet, or shutting down: not accepting.)
      if [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null || echo Z)" != Z ] &&
        ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'shutting down'; then
        accepting=1
      fi
    done
    [ "$fresh" = 0 ] || [ "$accepting" = 1 ] || return 0
    sleep 0.05
  done
  _gw_log "nginx did not reload within 5 s; its error log:"
  tail -n 20 "$dir/error.log" >&2
  return 1
}

gateway_url() {
  printf 'http://%s.%s:%s/' "$1" "${GATEWAY_BASE_DOMAIN:-${COT_BASE_DOMAIN:-localhost}}" "${GATEWAY_PORT:?no gateway started}"
}
