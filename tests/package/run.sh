#!/usr/bin/env bash
# The package install test: does the .deb that scripts/package.sh makes install
# a working Cot, list its files, and remove them all? As root, on Debian 12.
#
#   tests/package/run.sh                      build the artifacts, then test them
#   COT_SKIP_PACKAGE=1 tests/package/run.sh   test the artifacts already in target/dist
#
# Steps: META.json's version against Cargo.toml's; scripts/package.sh; the
# .deb's control fields and the tarball's listing; any installed cot files
# removed from Debian's PostgreSQL 15 directories; `dpkg -i`; `dpkg -L` lists
# the library, the control file and every cot--*.sql; a private cluster
# (tests/harness/cluster.sh) where CREATE EXTENSION cot, a tenant, an entity
# and a row through its API view work; `dpkg -r` and every file gone; then the
# package tree's files are copied back into /usr, so the machine is left with
# this build installed, as `cargo pgrx install` would have left it (also when a
# check fails half-way). The cluster is stopped and removed on every exit.
#
# It installs into and removes from the system PostgreSQL directories: do not
# run it beside another run that uses them (tests/harness/run.sh, the demo).
# Prints one line per check and closes with `package: N passed, M failed`;
# exits non-zero if any check failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
PKG_NAME=postgresql-15-cot
TREE=target/package/cot-pg15 # what scripts/package.sh packed
DIST=target/dist
TEST_DB=cot_pkg

# shellcheck source=tests/harness/cluster.sh
source "$ROOT/tests/harness/cluster.sh"

log() { printf '\033[1m[tests/package]\033[0m %s\n' "$*" >&2; }

passed=0
failed=0
ok() {
  passed=$((passed + 1))
  printf '  ok    %s\n' "$1"
}
not_ok() {
  failed=$((failed + 1))
  printf '  FAIL  %s\n' "$1"
}
# check NAME CMD...: CMD's exit status decides; its output is shown only on failure.
check() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then
    ok "$name"
  else
    not_ok "$name"
    [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/        /'
  fi
}
# check_eq NAME EXPECTED ACTUAL
check_eq() {
  if [ "$2" = "$3" ]; then
    ok "$1"
  else
    not_ok "$1"
    printf '        expected: %s\n        got:      %s\n' "$2" "$3"
  fi
}
# A failure the later checks cannot go on without.
fatal() {
  not_ok "$1"
  exit 1
}

[ "$(id -u)" -eq 0 ] || {
  echo "tests/package/run.sh must run as root (dpkg -i, dpkg -r)" >&2
  exit 1
}

VERSION=$(awk -F'"' '/^\[/ { inpkg = ($0 == "[package]") } inpkg && /^version *=/ { print $2; exit }' Cargo.toml)
DEB_VERSION=${VERSION//-/\~}
DEB_ARCH=$(dpkg --print-architecture)
DEB=$DIST/${PKG_NAME}_${DEB_VERSION}_$DEB_ARCH.deb
TARBALL=$DIST/cot-$VERSION-pg15-linux-$DEB_ARCH.tar.gz
PKGLIBDIR=$("$PG_CONFIG" --pkglibdir)
EXTDIR=$("$PG_CONFIG" --sharedir)/extension
# The files the package must hold: library, control, install script, and every
# upgrade script in sql/.
expected_files=("$PKGLIBDIR/cot.so" "$EXTDIR/cot.control" "$EXTDIR/cot--$VERSION.sql")
shopt -s nullglob
for f in sql/cot--*--*.sql; do expected_files+=("$EXTDIR/${f#sql/}"); done
shopt -u nullglob

# Every cot file in the system directories (what `dpkg -r` must leave none of).
installed_cot_files() {
  local f
  for f in "$PKGLIBDIR/cot.so" "$EXTDIR/cot.control" "$EXTDIR"/cot--*.sql; do
    [ -e "$f" ] && echo "$f"
  done
  return 0
}
remove_cot_files() {
  if dpkg-query -W -f='${Status}' "$PKG_NAME" 2>/dev/null | grep -q 'install ok installed'; then
    dpkg -r "$PKG_NAME" >/dev/null
  fi
  rm -f "$PKGLIBDIR/cot.so" "$EXTDIR/cot.control" "$EXTDIR"/cot--*.sql
}
restore_tree() {
  cp -a "$TREE/usr/." /usr/
}

# --- cleanup on every exit ----------------------------------------------------------
unset COT_CLUSTER_DIR # one inherited from a calling script is not ours to stop
touched_system=0
restored=0
# shellcheck disable=SC2317 # called by the EXIT trap
finish() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "${COT_CLUSTER_DIR:-}" ]; then
    [ "$rc" -eq 0 ] || cluster_log_tail "$COT_CLUSTER_DIR"
    cluster_stop "$COT_CLUSTER_DIR"
  fi
  # Half-way through, the machine may have the package installed or no Cot at
  # all: put it back as the end of a passing run leaves it.
  if [ "$touched_system" = 1 ] && [ "$restored" = 0 ] && [ -f "$TREE$PKGLIBDIR/cot.so" ]; then
    log "putting the package tree's files back into /usr"
    remove_cot_files || log "could not remove the package"
    restore_tree || log "could not copy $TREE/usr into /usr"
  fi
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1 # stopped by something other than a check (set -e, a signal)
  fi
  echo "package: $passed passed, $failed failed"
  [ "$failed" -eq 0 ] || exit 1
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- META.json ------------------------------------------------------------------------
log "META.json against Cargo.toml ($VERSION)"
meta=$(node -e '
  const m = require(process.argv[1]);
  console.log(m.version + " " + ((m.provides || {}).cot || {}).version);
' "$ROOT/META.json" 2>&1) || meta="unreadable: $meta"
check_eq "META.json version is Cargo.toml's" "$VERSION" "${meta%% *}"
check_eq "META.json provides.cot.version is Cargo.toml's" "$VERSION" "${meta#* }"

# --- the artifacts ----------------------------------------------------------------------
if [ "${COT_SKIP_PACKAGE:-0}" != 1 ]; then
  log "scripts/package.sh"
  bash scripts/package.sh >&2 || fatal "scripts/package.sh succeeds"
  ok "scripts/package.sh succeeds"
fi
[ -f "$DEB" ] || fatal "$DEB exists"
[ -f "$TARBALL" ] || fatal "$TARBALL exists"
[ -f "$TREE$PKGLIBDIR/cot.so" ] || fatal "the package tree $TREE exists"
echo "deb: $DEB $(stat -c %s "$DEB") bytes"
echo "tarball: $TARBALL $(stat -c %s "$TARBALL") bytes"

log "the .deb's control fields, the tarball's listing"
check_eq ".deb Package" "$PKG_NAME" "$(dpkg-deb -f "$DEB" Package)"
check_eq ".deb Version" "$DEB_VERSION" "$(dpkg-deb -f "$DEB" Version)"
check_eq ".deb Architecture" "$DEB_ARCH" "$(dpkg-deb -f "$DEB" Architecture)"
check_eq ".deb Depends" "postgresql-15" "$(dpkg-deb -f "$DEB" Depends)"
tar_list=$(tar -tzf "$TARBALL")
for f in "${expected_files[@]}" "/usr/share/doc/$PKG_NAME/README"; do
  check "tarball holds ${f#/}" grep -qx "${f#/}" <<<"$tar_list"
done

# --- install ------------------------------------------------------------------------------
log "removing installed cot files, then dpkg -i"
touched_system=1
remove_cot_files
check_eq "no cot files installed before dpkg -i" "" "$(installed_cot_files)"
dpkg -i "$DEB" >&2 || fatal "dpkg -i $DEB"
ok "dpkg -i $(basename "$DEB")"
check_eq "dpkg -s: installed, version $DEB_VERSION" "install ok installed $DEB_VERSION" \
  "$(dpkg-query -W -f='${Status} ${Version}' "$PKG_NAME" 2>&1)"
listed=$(dpkg -L "$PKG_NAME")
for f in "${expected_files[@]}"; do
  check "dpkg -L lists $f" grep -qx "$f" <<<"$listed"
  check "$f is on disk" test -f "$f"
done
check "the installed cot.so is the package tree's" cmp "$PKGLIBDIR/cot.so" "$TREE$PKGLIBDIR/cot.so"
check "cot.so finds every shared library it needs" bash -c "! ldd '$PKGLIBDIR/cot.so' | grep -q 'not found'"

# --- use it ----------------------------------------------------------------------------------
log "a private cluster with the installed extension"
cluster_start "${COT_TEST_DIR:-}"
log "cluster in $COT_CLUSTER_DIR (socket $PGHOST, port $PGPORT)"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $TEST_DB" >/dev/null ||
  fatal "CREATE DATABASE $TEST_DB"
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$TEST_DB" -c "$1"; }

check "CREATE EXTENSION cot" sql 'CREATE EXTENSION cot'
check_eq "extversion is $VERSION" "$VERSION" "$(sql "SELECT extversion FROM pg_extension WHERE extname = 'cot'" 2>&1)"
check "cot.create_tenant('pkg')" sql "SELECT cot.create_tenant('pkg')"
check "cot.create_entity(pkg.items)" sql "SELECT cot.create_entity('{\"tenant\": \"pkg\", \"name\": \"items\",
  \"fields\": [{\"name\": \"title\", \"type\": \"text\", \"required\": true}]}')"
check "INSERT INTO pkg.items" sql "INSERT INTO pkg.items (title) VALUES ('installed from the .deb')"
check_eq "SELECT FROM pkg.items" "installed from the .deb" "$(sql 'SELECT title FROM pkg.items' 2>&1)"
check "no backend crashed" bash -c "! grep -E 'terminated by signal|PANIC:' '$COT_CLUSTER_LOG'"
cluster_stop "$COT_CLUSTER_DIR"

# --- remove ------------------------------------------------------------------------------------
log "dpkg -r"
check "dpkg -r $PKG_NAME" dpkg -r "$PKG_NAME"
check_eq "dpkg -s: not installed" "" \
  "$(dpkg-query -W -f='${Status}' "$PKG_NAME" 2>/dev/null | grep 'install ok installed')"
check_eq "no cot files left after dpkg -r" "" "$(installed_cot_files)"
check "no /usr/share/doc/$PKG_NAME left" test ! -e "/usr/share/doc/$PKG_NAME"

# --- leave the machine with this build installed -------------------------------------------------
log "copying the package tree back into /usr ($TREE)"
restore_tree
restored=1
check "cot.so back in $PKGLIBDIR" cmp "$PKGLIBDIR/cot.so" "$TREE$PKGLIBDIR/cot.so"
check "cot.control back in $EXTDIR" cmp "$EXTDIR/cot.control" "$TREE$EXTDIR/cot.control"
check "cot--$VERSION.sql back in $EXTDIR" cmp "$EXTDIR/cot--$VERSION.sql" "$TREE$EXTDIR/cot--$VERSION.sql"
