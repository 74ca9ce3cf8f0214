#!/usr/bin/env bash
# Installs everything Cot needs on a Debian 12 machine with Rust, as root.
# Idempotent: each step checks first, so a second run takes seconds.
set -euo pipefail

PGRX_VERSION=0.18.1
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
APT_PACKAGES=(postgresql-15 postgresql-server-dev-15 postgresql-contrib libclang-dev clang
  postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl nodejs npm curl sqlsmith nginx wrk chromium)

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup must run as root (it installs Debian packages)" >&2
    exit 1
  fi
}

install_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    # node and npm may come from outside Debian (e.g. a preinstalled Node 20): a working binary is enough.
    case "$p" in nodejs) command -v node >/dev/null && continue ;; npm) command -v npm >/dev/null && continue ;; esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    need_root
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

install_cargo_pgrx() {
  if ! cargo pgrx --version 2>/dev/null | grep -q " ${PGRX_VERSION}\$"; then
    log "installing cargo-pgrx ${PGRX_VERSION} (about 4 minutes on 2 cores)"
    cargo install cargo-pgrx --version "${PGRX_VERSION}" --locked --quiet
  fi
}

init_pgrx() {
  local cfg="${PGRX_HOME:-$HOME/.pgrx}/config.toml"
  if ! grep -qs "^pg15 *= *\"${PG_CONFIG}\"" "$cfg"; then
    log "registering PostgreSQL 15 with pgrx"
    cargo pgrx init --pg15 "${PG_CONFIG}" >/dev/null
  fi
}

# The test clients (tests/clients) and the studio (studio/, its build and
# browser tests); each only when its lockfile is newer than its node_modules.
install_node_deps() {
  local root dir
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  for dir in "$root/tests/clients" "$root/studio"; do
    if [ -f "$dir/package-lock.json" ] && { [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; }; then
      log "installing the Node packages of ${dir#"$root"/} (npm ci)"
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && touch node_modules)
    fi
  done
}

install_apt
install_cargo_pgrx
init_pgrx
install_node_deps
