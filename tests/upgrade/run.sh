#!/usr/bin/env bash
# The upgrade check: a database made by the previous release, upgraded with
# `ALTER EXTENSION cot UPDATE`, must equal a fresh install of this version.
#
#   tests/upgrade/run.sh          build both releases' packages (cached under
#                                 target/upgrade), then check
#   COT_PG_PREFIX=/tmp/pg tests/upgrade/run.sh
#                                 install into a private copy of PostgreSQL
#                                 (/tmp/pg/usr/lib/postgresql/15 and
#                                 /tmp/pg/usr/share/postgresql/15, copied from
#                                 the system's) instead of the system's, and run
#                                 its server: the system's stays as it is
#
# Steps, on a private cluster:
#   1. install the previous release's package (built from the commit named in
#      releases/previous), CREATE EXTENSION cot VERSION '<previous>', and load
#      tests/upgrade/fixture.sql: tenants with every field type, relation kind,
#      access rule, an API key, a bundle, rows; checksum every table;
#   2. install this version's package; ALTER EXTENSION cot UPDATE;
#      tests/upgrade/describe.sql of the upgraded database must equal that of
#      a fresh CREATE EXTENSION cot in another database (any difference is
#      printed, and means the upgrade script is missing or wrong);
#   3. CALL cot.upgrade_tenants(): every tenant's generated objects as this
#      version makes them, recorded in cot.migrations; cot.check() finds
#      nothing for any tenant; a second call changes nothing; every checksum is
#      unchanged; a tenant whose upgrade fails is left as it was and named;
#   4. the real PostgREST serves the upgraded tenants with this version's
#      features (tests/clients/upgrade/postgrest.test.mjs).
# This version's package stays installed afterwards.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
STAGE=$ROOT/target/upgrade
# shellcheck source=tests/harness/cluster.sh
source "$ROOT/tests/harness/cluster.sh"

log() { printf '\033[1m[upgrade]\033[0m %s\n' "$*" >&2; }
die() {
  log "FAILED: $*"
  exit 1
}

read -r PREV_VERSION PREV_COMMIT < <(grep -v '^#' releases/previous)
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
[ "$PREV_VERSION" != "$VERSION" ] || die "Cargo.toml's version $VERSION is the previous release's: bump it"
[ -f "sql/cot--$PREV_VERSION--$VERSION.sql" ] || die "sql/cot--$PREV_VERSION--$VERSION.sql is missing"

# build_package SRC OUT TARGET: `cargo pgrx package` of the source tree SRC
# into OUT (a tree of usr/...), building in TARGET. The previous release
# builds in a target directory of its own: a cdylib's file name carries no
# hash, so two versions of the crate in one target directory overwrite each
# other's libcot.so while cargo still thinks each is up to date.
build_package() {
  local src=$1 out=$2 target=$3
  rm -rf "$out"
  (cd "$src" && CARGO_TARGET_DIR="$target" cargo pgrx package --pg-config "$PG_CONFIG" --out-dir "$out" >&2)
}

# install_package OUT: what installing the package does: its files over the
# system's PostgreSQL directories.
install_package() {
  cp -a "$1/usr/." "${COT_PG_PREFIX:-}/usr/"
}
if [ -n "${COT_PG_PREFIX:-}" ]; then
  [ -x "$COT_PG_PREFIX/usr/lib/postgresql/15/bin/postgres" ] ||
    die "COT_PG_PREFIX=$COT_PG_PREFIX holds no PostgreSQL 15 (copy /usr/lib/postgresql/15 and /usr/share/postgresql/15 there)"
  export COT_PG_BINDIR=$COT_PG_PREFIX/usr/lib/postgresql/15/bin
fi

prev_pkg=$STAGE/cot-$PREV_VERSION
if [ ! -f "$prev_pkg/.built-from-$PREV_COMMIT" ]; then
  log "building release $PREV_VERSION from $PREV_COMMIT"
  src=$STAGE/src-$PREV_VERSION
  rm -rf "$src" && mkdir -p "$src"
  git archive "$PREV_COMMIT" | tar -x -C "$src"
  build_package "$src" "$prev_pkg" "$STAGE/target-$PREV_VERSION"
  touch "$prev_pkg/.built-from-$PREV_COMMIT"
fi
log "building this version ($VERSION)"
cur_pkg=$STAGE/cot-$VERSION
build_package "$ROOT" "$cur_pkg" "$ROOT/target"
[ -f "$cur_pkg/usr/share/postgresql/15/extension/cot--$PREV_VERSION--$VERSION.sql" ] ||
  die "the package does not carry cot--$PREV_VERSION--$VERSION.sql"

unset COT_CLUSTER_DIR
work=$(mktemp -d /tmp/cot-upgrade.XXXXXX)
chmod 755 "$work"
finish() {
  local rc=$?
  trap - EXIT
  # Whatever happened, leave this version installed.
  [ -d "$cur_pkg/usr" ] && install_package "$cur_pkg"
  if [ -n "${COT_CLUSTER_DIR:-}" ]; then
    [ "$rc" -eq 0 ] || cluster_log_tail "$COT_CLUSTER_DIR"
    cluster_stop "$COT_CLUSTER_DIR"
  fi
  rm -rf "$work"
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

log "1. release $PREV_VERSION: install, fixture, checksums"
install_package "$prev_pkg"
cluster_start
q -d postgres -c "CREATE ROLE authenticator LOGIN NOINHERIT" -c "CREATE DATABASE up" -c "CREATE DATABASE fresh"
q -d up -c "CREATE EXTENSION cot VERSION '$PREV_VERSION'"
q -d up -f tests/upgrade/fixture.sql >/dev/null
q -d up -f tests/upgrade/checksums.sql >"$work/rows-before"
[ "$(wc -l <"$work/rows-before")" -ge 10 ] || die "the fixture made too few tables"

log "2. release $VERSION: ALTER EXTENSION cot UPDATE, compared with a fresh install"
install_package "$cur_pkg"
# New sessions load the new shared library (the postmaster never loaded it).
q -d up -c "ALTER EXTENSION cot UPDATE"
[ "$(q -d up -Atc "SELECT extversion FROM pg_extension WHERE extname = 'cot'")" = "$VERSION" ] ||
  die "ALTER EXTENSION cot UPDATE did not reach $VERSION"
q -d fresh -c "CREATE EXTENSION cot"
q -d up -f tests/upgrade/describe.sql >"$work/upgraded"
q -d fresh -f tests/upgrade/describe.sql >"$work/fresh"
if ! diff -u "$work/fresh" "$work/upgraded" >"$work/describe.diff"; then
  log "the upgraded extension differs from a fresh install (- fresh, + upgraded):"
  cat "$work/describe.diff" >&2
  die "sql/cot--$PREV_VERSION--$VERSION.sql does not make what cot--$VERSION.sql makes"
fi
log "   $(wc -l <"$work/fresh") facts equal"

log "3. cot.upgrade_tenants()"
q -d up -c "CREATE EXTENSION pgtap"
pg_prove --dbname up tests/upgrade/tenants.sql || die "upgrading the tenants"
q -d up -f tests/upgrade/checksums.sql >"$work/rows-after"
diff -u "$work/rows-before" "$work/rows-after" >&2 || die "rows changed"
log "   $(wc -l <"$work/rows-after") tables, every row as it was"

log "4. the real PostgREST in front of the upgraded tenants"
(cd tests/clients && COT_UPGRADED_DB=up PGDATABASE=postgres node --test --test-reporter=spec upgrade/postgrest.test.mjs) ||
  die "PostgREST does not serve the upgraded tenants as it serves new ones"
log "passed"
