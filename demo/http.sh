#!/usr/bin/env bash
# Cot demo, part 3: real HTTP requests to PostgREST for two tenants, acme and
# globex, with JWTs, an API key and no credentials at all. Each request is
# printed as a curl command, then PostgREST's status and JSON answer.
#
# Run by scripts/demo.sh once PostgREST is up. It needs:
#   COT_API          PostgREST's URL, e.g. http://127.0.0.1:3000
#   COT_JWT_SECRET   PostgREST's jwt-secret (tokens are signed with it)
#   COT_GATEWAY_URL  (optional) the front door, e.g. http://localhost:8080:
#                    the last section goes through it, as supabase-js does
#   PGHOST, PGPORT, PGUSER, PGDATABASE: a superuser session on the demo
#                    database (for cot.create_api_key)
# and writes the tokens it mints to $COT_DEMO_ENV (if set) as shell
# variables, so the printed commands can be pasted after sourcing that file.
#
# Every request states the status it must get; any other status stops the
# demo with an error.

# The tokens and keys are used through ${!name} in request().
# shellcheck disable=SC2034
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${COT_API:?COT_API must be PostgREST URL}"
: "${COT_JWT_SECRET:?COT_JWT_SECRET must be the JWT secret}"
API=$COT_API

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
body="$tmp/body"

# Blank lines: before a section, a line of explanation (say) and a request,
# except right after a section title (say) or an explanation (request).
last=section
section() {
  printf '\n=== %s\n' "$*"
  last=section
}
say() {
  [ "$last" = section ] || echo
  printf '%s\n' "$*"
  last=say
}

# The JSON on stdin, indented, numbers as sent (or as it is, if not JSON).
pretty() { node "$HERE/pretty.mjs"; }

# A value out of the last answer: json_get 'b[0].id'
json_get() {
  node -e 'const b = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(eval(process.argv[2]))' "$body" "$1"
}

jwt() { node "$HERE/jwt.mjs" "$@"; }

# request EXPECTED METHOD PATH [--token VAR | --key VAR] [--profile SLUG]
#         [--json BODY] [--prefer PREFER] [--apikey VAR] [--base VAR]
# Sends the request, prints it as a curl command (tokens and keys by the
# name of their variable), then the status and the answer. Fails unless the
# status is EXPECTED.
request() {
  local expect=$1 method=$2 path=$3
  shift 3
  local args=(-sS -o "$body" -w '%{http_code}' --max-time 10 -X "$method")
  local base=API
  [ "${1:-}" != --base ] || base=$2
  local shown="curl -X $method \"\$$base$path\""
  while [ $# -gt 0 ]; do
    case $1 in
    --base) ;;
    --apikey)
      # supabase-js sends its key as apikey on every request.
      args+=(-H "apikey: ${!2}")
      shown+=" -H \"apikey: \$$2\""
      ;;
    --token)
      args+=(-H "Authorization: Bearer ${!2}")
      shown+=" -H \"Authorization: Bearer \$$2\""
      ;;
    --key)
      args+=(-H "x-api-key: ${!2}")
      shown+=" -H \"x-api-key: \$$2\""
      ;;
    --profile)
      # PostgREST's profile headers: Accept-Profile for reads, Content-Profile for writes.
      local header=Content-Profile
      case $method in GET | HEAD) header=Accept-Profile ;; esac
      args+=(-H "$header: $2")
      shown+=" -H \"$header: $2\""
      ;;
    --json)
      args+=(-H 'Content-Type: application/json' --data "$2")
      shown+=" -H \"Content-Type: application/json\" -d '$2'"
      ;;
    --prefer)
      args+=(-H "Prefer: $2")
      shown+=" -H \"Prefer: $2\""
      ;;
    *)
      echo "request: unknown option $1" >&2
      return 2
      ;;
    esac
    shift 2
  done
  [ "$last" = say ] || echo
  last=request
  printf '$ %s\n' "$shown"
  local status
  status=$(curl "${args[@]}" "${!base}$path")
  printf 'HTTP %s\n' "$status"
  pretty <"$body"
  if [ "$status" != "$expect" ]; then
    printf '\033[1;31m[demo] expected HTTP %s, got %s\033[0m\n' "$expect" "$status" >&2
    return 1
  fi
}

section '13. Tokens: HS256 JWTs signed with the secret PostgREST was given (demo/jwt.mjs)'
say 'PostgREST switches to the role in the "role" claim; Cot'"'"'s policies check "tenant" and "sub".'
ACME_USER=$(jwt '{"role":"cot_acme_user","tenant":"acme","sub":"user-1"}')
ACME_ADMIN=$(jwt '{"role":"cot_acme_admin","tenant":"acme","sub":"admin-1"}')
GLOBEX_USER=$(jwt '{"role":"cot_globex_user","tenant":"globex","sub":"user-9"}')
# Expired an hour ago (PostgREST tolerates 30 seconds of clock skew).
EXPIRED=$(jwt '{"role":"cot_acme_user","tenant":"acme","sub":"user-1"}' -3600)
# Claims acme's admin, but signed with a secret PostgREST does not know.
FORGED=$(COT_JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
  jwt '{"role":"cot_acme_admin","tenant":"acme","sub":"mallory"}')
claims() { cut -d. -f2 <<<"$1" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(Buffer.from(s.trim(),"base64url").toString()))'; }
for var in ACME_USER ACME_ADMIN GLOBEX_USER EXPIRED FORGED; do
  printf '  %-12s %s…  %s\n' "$var" "${!var:0:24}" "$(claims "${!var}")"
done
printf '  %-12s %s\n' API "$API"

section '14. acme'"'"'s user reads acme'"'"'s orders, each with its customer (embedded along the foreign key)'
request 200 GET '/orders?select=title,status,total,customers(name)&order=title' --profile acme --token ACME_USER

section '15. acme'"'"'s user places an order: owner_id is set from the token'"'"'s sub, whatever the body says'
request 200 GET '/customers?select=id,name&email=eq.grace@example.com' --profile acme --token ACME_USER
GRACE=$(json_get 'b[0].id')
request 201 POST '/orders?select=id,title,status,total,owner_id,customers(name)' --profile acme --token ACME_USER \
  --prefer return=representation \
  --json "{\"title\": \"Difference engine\", \"total\": 320.00, \"quantity\": 2, \"customer_id\": \"$GRACE\", \"owner_id\": \"someone-else\"}"
ORDER=$(json_get 'b[0].id')

section '16. Updates are for the owner ("update": "owner"); the admin may update any order'
say 'The owner marks the new order paid:'
request 200 PATCH "/orders?id=eq.$ORDER&select=title,status,owner_id" --profile acme --token ACME_USER \
  --prefer return=representation --json '{"status": "paid"}'
say 'The same user on an order that is not theirs: row-level security matches no row, nothing changes:'
request 200 PATCH '/orders?title=eq.Punch%20cards&select=title,status,owner_id' --profile acme --token ACME_USER \
  --prefer return=representation --json '{"status": "shipped"}'
say 'acme'"'"'s admin may:'
request 200 PATCH '/orders?title=eq.Punch%20cards&select=title,status,owner_id' --profile acme --token ACME_ADMIN \
  --prefer return=representation --json '{"status": "shipped"}'
say 'Deleting is for admins ("delete": "admin"): the user gets 403'
request 403 DELETE "/orders?id=eq.$ORDER" --profile acme --token ACME_USER

section '17. Two tenants, one PostgREST: globex'"'"'s user'
say 'asks for acme'"'"'s orders (Accept-Profile: acme): globex'"'"'s role has no privilege on acme at all'
request 403 GET '/orders?select=title' --profile acme --token GLOBEX_USER
say 'reads globex'"'"'s own orders:'
request 200 GET '/orders?select=title,total&order=title' --profile globex --token GLOBEX_USER
say 'and acme'"'"'s user asks for globex'"'"'s:'
request 403 GET '/orders?select=title' --profile globex --token ACME_USER

section '18. Requests that do not get in'
say 'No token: the request runs as acme'"'"'s anonymous role, which may not read orders ("read": "tenant"):'
request 401 GET '/orders?select=title' --profile acme
say 'An expired token:'
request 401 GET '/orders?select=title' --profile acme --token EXPIRED
say 'A forged token (claims acme'"'"'s admin, wrong signature):'
request 401 GET '/orders?select=title' --profile acme --token FORGED

section '19. An API key, for a program rather than a person (x-api-key header)'
sql="SELECT cot.create_api_key('acme', 'user', '{\"label\": \"reporting job\", \"sub\": \"svc-reports\"}')"
printf '\npsql> %s;\n' "$sql"
last=request
created=$(psql -X -At -v ON_ERROR_STOP=1 -c "$sql")
pretty <<<"$created"
say '(the key is shown once; cot.api_keys keeps only its SHA-256 and prefix)'
API_KEY=$(node -e 'console.log(JSON.parse(process.argv[1]).key)' "$created")
request 200 GET '/orders?select=title,status&order=title' --profile acme --key API_KEY
say 'A key that is not one:'
BAD_KEY="cot_000000000000_$(printf '0%.0s' {1..64})"
request 401 GET '/orders?select=title' --profile acme --key BAD_KEY

section '20. The QueryBuilder over HTTP: POST /rpc/query runs cot.query as the caller'
say 'acme'"'"'s user: paid orders, largest first, each with its customer:'
request 200 POST '/rpc/query' --profile acme --token ACME_USER \
  --json '{"entity": "orders", "query": {"select": ["title", "total", {"customer": ["name"]}], "where": {"status": "paid"}, "order": ["-total"], "limit": 2}}'
say 'A field the entity does not have: 400, with Cot'"'"'s SQLSTATE and where it is in the query:'
request 400 POST '/rpc/query' --profile acme --token ACME_USER --json '{"entity": "orders", "query": {"where": {"amount": {"gt": 5}}}}'
say 'globex'"'"'s user on acme'"'"'s /rpc/query: no privilege on it at all'
request 403 POST '/rpc/query' --profile acme --token GLOBEX_USER --json '{"entity": "orders"}'

if [ -n "${COT_GATEWAY_URL:-}" ]; then
  ACME_URL=${COT_GATEWAY_URL/:\/\//://acme.}
  ACME_ANON=$(jwt '{"role":"cot_acme_anon","tenant":"acme"}')
  section '21. The front door: one port, the tenant from the host name (docs/gateway.md)'
  say "nginx serves acme's API at $ACME_URL/rest/v1/ and forces the profile to acme, so no
profile header is needed. A request as supabase-js sends it (apikey: the project's anon token):"
  request 200 GET '/rest/v1/orders?select=title,status&order=title&limit=2' --base ACME_URL --apikey ACME_ANON --token ACME_USER
  say 'globex'"'"'s user asks for globex on acme'"'"'s host: the request still goes to acme, where that role has no privilege:'
  request 403 GET '/rest/v1/orders?select=title' --base ACME_URL --profile globex --apikey ACME_ANON --token GLOBEX_USER
  say 'A tenant that does not exist: a plain 404 that names no other tenant:'
  NOPE_URL=${COT_GATEWAY_URL/:\/\//://nope.}
  request 404 GET '/rest/v1/orders' --base NOPE_URL --apikey ACME_ANON
fi

if [ -n "${COT_DEMO_ENV:-}" ]; then
  {
    printf 'export API=%q\n' "$API"
    for var in ACME_USER ACME_ADMIN GLOBEX_USER API_KEY ${ACME_ANON:+ACME_ANON}; do printf 'export %s=%q\n' "$var" "${!var}"; done
  } >>"$COT_DEMO_ENV"
fi
