#!/usr/bin/env bash
# Registers custom field types (docs/field-types.md), in one transaction.
# FILE is either a module (cot.module/1, docs/modules.md), which is
# published with cot.publish_module (registering the types it carries), or
# a JSON array of type definitions, each registered with
# cot.register_field_type. Publishing or registering again with the same
# content changes nothing, so this can run on every deploy. Prints the name
# of each type of the file.
#
#   scripts/register-field-types.sh [FILE]   FILE defaults to modules/standard-types/standard-types-1.0.0.json
#
# The connection comes from the usual PG* variables, or DATABASE_URL.
# Needs a superuser or a member of cot_platform.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FILE=${1:-$ROOT/modules/standard-types/standard-types-1.0.0.json}
[ -r "$FILE" ] || { echo "cannot read $FILE" >&2; exit 1; }
args=(-X -q -v ON_ERROR_STOP=1 -v "doc=$(cat "$FILE")")
[ -n "${DATABASE_URL:-}" ] && args+=(-d "$DATABASE_URL")
psql "${args[@]}" <<'SQL'
BEGIN;
SELECT jsonb_typeof(:'doc'::jsonb) = 'object' AS is_module \gset
\if :is_module
SELECT jsonb_array_elements_text(cot.publish_module(:'doc'::jsonb) #> '{field_types,carried}') AS registered;
\else
SELECT t->>'name' AS registered FROM jsonb_array_elements(:'doc'::jsonb) t, cot.register_field_type(t);
\endif
COMMIT;
SQL
