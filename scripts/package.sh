#!/usr/bin/env bash
# Builds Cot's release artifacts for PostgreSQL 15 on Debian 12, as root or not:
#
#   target/dist/cot-<version>-pg15-linux-<arch>.tar.gz   the files, laid out as
#       usr/lib/postgresql/15/lib/cot.so and usr/share/postgresql/15/extension/
#       (cot.control, cot--<version>.sql, every upgrade script cot--A--B.sql),
#       plus usr/share/doc/postgresql-15-cot/README (how to install)
#   target/dist/postgresql-15-cot_<version>_<arch>.deb   the same files as a
#       Debian package (Depends: postgresql-15), so a DBA can install, list and
#       remove them with dpkg
#   target/dist/SHA256SUMS                               checksums of both
#
# Why: `cargo pgrx install` needs Rust, clang and the server headers on the
# database host; a package needs none of them, and dpkg knows which files are
# Cot's. Both artifacts come from one `cargo pgrx package` tree (kept in
# target/package/cot-pg15, which tests/package/run.sh copies back into /usr),
# with the library stripped once, so they hold the same bytes.
#
# The version is Cargo.toml's; nothing is installed on this machine. Idempotent:
# every run rebuilds the tree and the artifacts from scratch (cargo's own cache
# makes a second run take seconds). Prints each artifact's path and size.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
PG_MAJOR=15
PKG_NAME=postgresql-${PG_MAJOR}-cot
MAINTAINER='Cot maintainers <maintainers@cot.invalid>'
TREE=target/package/cot-pg${PG_MAJOR}
DIST=target/dist

log() { printf '\033[1m[package]\033[0m %s\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}

for tool in cargo "$PG_CONFIG" strip dpkg-deb dpkg tar gzip sha256sum; do
  command -v "$tool" >/dev/null || die "$tool not found (run scripts/setup.sh first)"
done

# The [package] version of Cargo.toml, e.g. 0.1.0 (the workspace has no other
# [package] table in this file).
VERSION=$(awk -F'"' '/^\[/ { inpkg = ($0 == "[package]") } inpkg && /^version *=/ { print $2; exit }' Cargo.toml)
[[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]] ||
  die "could not read a version from Cargo.toml (got '$VERSION')"
# Debian orders 0.2.0~rc1 before 0.2.0 and reads a '-' as the start of a Debian
# revision, so a semver pre-release 0.2.0-rc1 becomes 0.2.0~rc1 in the .deb.
DEB_VERSION=${VERSION//-/\~}
DEB_ARCH=$(dpkg --print-architecture)

PKGLIBDIR=$("$PG_CONFIG" --pkglibdir)      # /usr/lib/postgresql/15/lib
EXTDIR=$("$PG_CONFIG" --sharedir)/extension # /usr/share/postgresql/15/extension
DOCDIR=/usr/share/doc/$PKG_NAME

TARBALL=$DIST/cot-$VERSION-pg$PG_MAJOR-linux-$DEB_ARCH.tar.gz
DEB=$DIST/${PKG_NAME}_${DEB_VERSION}_$DEB_ARCH.deb

# --- the tree: cargo pgrx package ----------------------------------------------
log "building cot $VERSION (release) into $TREE"
rm -rf "$TREE"
cargo pgrx package --pg-config "$PG_CONFIG" --out-dir "$TREE" >&2 # stdout: only the artifact list

so=$TREE$PKGLIBDIR/cot.so
[ -f "$so" ] || die "cargo pgrx package made no $so"
[ -f "$TREE$EXTDIR/cot.control" ] || die "cargo pgrx package made no cot.control"
[ -f "$TREE$EXTDIR/cot--$VERSION.sql" ] || die "cargo pgrx package made no cot--$VERSION.sql"
grep -qx "default_version = '$VERSION'" "$TREE$EXTDIR/cot.control" ||
  die "cot.control in the tree does not have default_version = '$VERSION'"
# cargo pgrx package copies the hand-written upgrade scripts sql/cot--A--B.sql;
# a release without one of them would strand databases on the old version.
shopt -s nullglob
for f in sql/cot--*--*.sql; do
  [ -f "$TREE$EXTDIR/${f#sql/}" ] || die "upgrade script $f is missing from the tree"
done
shopt -u nullglob
unexpected=$(find "$TREE" -type f ! -path "$TREE$PKGLIBDIR/cot.so" ! -path "$TREE$EXTDIR/cot.control" ! -path "$TREE$EXTDIR/cot--*.sql")
[ -z "$unexpected" ] || die "unexpected files in the tree: $unexpected"

# Debug symbols are most of the library's size; the dynamic symbols Postgres
# looks up (Pg_magic_func, the pg_finfo_* records) are kept by --strip-unneeded.
strip --strip-unneeded "$so"
chmod 0644 "$so" "$TREE$EXTDIR"/*
find "$TREE" -type d -exec chmod 0755 {} +

# --- the note that travels with both artifacts -----------------------------------
readme=$(mktemp)
trap 'rm -f "$readme"' EXIT
cat >"$readme" <<EOF
Cot $VERSION for PostgreSQL $PG_MAJOR (Debian 12, $DEB_ARCH)
Entities defined at run time, stored as real Postgres tables, served by PostgREST.
License: MIT.

Files
  $PKGLIBDIR/cot.so
  $EXTDIR/cot.control
  $EXTDIR/cot--*.sql (the install script cot--$VERSION.sql and any upgrade scripts)

Install, from the .deb (preferred: dpkg knows the files and removes them):
  dpkg -i ${PKG_NAME}_${DEB_VERSION}_$DEB_ARCH.deb     # needs postgresql-$PG_MAJOR
  dpkg -L $PKG_NAME                                # what it installed

Install, from the tarball (as root; the paths are Debian's PostgreSQL $PG_MAJOR ones):
  tar -xzf cot-$VERSION-pg$PG_MAJOR-linux-$DEB_ARCH.tar.gz -C /

Then, in each database that should have it (as a superuser):
  CREATE EXTENSION cot;                     -- a new database
  ALTER EXTENSION cot UPDATE TO '$VERSION';   -- a database with an older Cot
  SELECT extversion FROM pg_extension WHERE extname = 'cot';

No server restart and no shared_preload_libraries entry are needed; sessions
that already loaded an older cot.so keep it until they reconnect.

Remove: DROP EXTENSION cot CASCADE in each database first (it drops every
tenant's tables), then either
  dpkg -r $PKG_NAME
or, for the tarball,
  rm $PKGLIBDIR/cot.so $EXTDIR/cot.control $EXTDIR/cot--*.sql
  rm -r $DOCDIR
EOF

# --- (a) the tarball -------------------------------------------------------------
mkdir -p "$DIST"
rm -f "$TARBALL" "$DEB" "$DIST/SHA256SUMS"
stage=target/package/stage
rm -rf "$stage"
mkdir -p "$stage/tar" "$stage/deb/DEBIAN"
cp -a "$TREE/usr" "$stage/tar/"
install -D -m 0644 "$readme" "$stage/tar$DOCDIR/README"
# Owned by root, sorted, no leading ./ : extracting with -C / puts each file in place.
tar --owner=0 --group=0 --numeric-owner --sort=name -C "$stage/tar" -czf "$TARBALL" usr

# --- (b) the Debian package --------------------------------------------------------
cp -a "$stage/tar/usr" "$stage/deb/"
installed_kb=$(du -sk --exclude=DEBIAN "$stage/deb" | cut -f1)
cat >"$stage/deb/DEBIAN/control" <<EOF
Package: $PKG_NAME
Version: $DEB_VERSION
Architecture: $DEB_ARCH
Maintainer: $MAINTAINER
Installed-Size: $installed_kb
Depends: postgresql-$PG_MAJOR
Section: database
Priority: optional
Description: Cot: entities defined at run time as real tables, for PostgreSQL $PG_MAJOR
 Cot is a PostgreSQL extension that turns a JSON description of an entity
 into a real, typed Postgres table with its constraints, indexes, a
 per-tenant API view for PostgREST and a record of what was done, in one
 transaction. After installing, run CREATE EXTENSION cot in a database.
EOF
chmod 0755 "$stage/deb/DEBIAN"
chmod 0644 "$stage/deb/DEBIAN/control"
dpkg-deb --root-owner-group --build "$stage/deb" "$DEB" >/dev/null
rm -rf "$stage"

(cd "$DIST" && sha256sum "$(basename "$TARBALL")" "$(basename "$DEB")" >SHA256SUMS)

log "artifacts:"
for f in "$TARBALL" "$DEB" "$DIST/SHA256SUMS"; do
  printf '%s\t%s bytes\n' "$f" "$(stat -c %s "$f")"
done
