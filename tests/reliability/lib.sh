# shellcheck shell=bash
# Shared by tests/reliability/sqlsmith.sh and bench/soak.sh (sourced, after
# tests/harness/cluster.sh and with PG_CONFIG set).
#
# Long runs on a machine where other builds of Cot get installed meanwhile:
# `cargo pgrx install` rewrites $libdir/cot.so in place, and every backend
# that has it mapped dies of SIGBUS ("terminated by signal 7: Bus error").
# That is not Cot's doing but shows as a crash, so these scripts note when
# the library changed under them, and can give the cluster its own copy.

LIB="$("$PG_CONFIG" --pkglibdir)/cot.so"

# pin_library DB: copy cot.so into the cluster's directory and point Cot's C
# functions in DB at the copy (pg_proc.probin). For throw-away clusters only;
# call it right after CREATE EXTENSION, before other sessions use Cot.
pin_library() {
  local copy="$COT_CLUSTER_DIR/cot.so"
  cp "$LIB" "$copy"
  chmod 644 "$copy"
  psql -X -q -v ON_ERROR_STOP=1 -d "$1" \
    -c "UPDATE pg_catalog.pg_proc SET probin = '$copy' WHERE probin IN ('cot', '\$libdir/cot')"
  LIB=$copy
}

# The library file's inode and modification time.
lib_stamp() { stat -c '%i %Y' "$LIB"; }

# lib_check STAMP: warn if the library changed since STAMP was taken.
lib_check() {
  if [ "$(lib_stamp)" != "$1" ]; then
    printf 'WARNING: %s was replaced during the run (at %s); a crash at that moment is that install\n' \
      "$LIB" "$(date -d "@$(stat -c %Y "$LIB")" +%T)" >&2
  fi
}
