#!/usr/bin/env bash
# Registers the custom field types of a JSON file (an array of type
# definitions; docs/field-types.md) with cot.register_field_type, in one
# transaction. Registering a type again with the same definition changes
# nothing, so this can run on every deploy.
#
#   scripts/register-field-types.sh [FILE]     FILE defaults to plugins/standard-types.json
#
# The connection comes from the usual PG* variables, or DATABASE_URL.
# Needs a superuser or a member of cot_platform.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FILE=${1:-$ROOT/plugins/standard-types.json}
[ -r "$FILE" ] || { echo "cannot read $FILE" >&2; exit 1; }
args=(-X -q -v ON_ERROR_STOP=1 -v "types=$(cat "$FILE")")
[ -n "${DATABASE_URL:-}" ] && args+=(-d "$DATABASE_URL")
psql "${args[@]}" <<'SQL'
BEGIN;
SELECT t->>'name' AS registered FROM jsonb_array_elements(:'types'::jsonb) t, cot.register_field_type(t);
COMMIT;
SQL
