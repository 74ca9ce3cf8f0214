-- Cot demo, part 2: wiring PostgREST to the database (docs/postgrest.md).
-- Run by scripts/demo.sh after demo/demo.sql, which then starts PostgREST
-- with this configuration and sends it the requests of demo/http.sh.

\echo
\echo '=== 12. PostgREST: a login role, registered with Cot'
-- NOINHERIT: authenticator may switch to the tenant roles (PostgREST does,
-- per request, after checking the JWT) but has none of their privileges
-- itself. The demo cluster trusts local connections, so no password.
CREATE ROLE authenticator LOGIN NOINHERIT;
-- Grants authenticator cot_anon and every tenant's anon, user and admin
-- roles (and those of tenants created later); returns what it ran.
SELECT jsonb_array_elements_text(cot.add_authenticator('authenticator')->'statements') AS statements_run;

\echo 'The configuration PostgREST gets (plus db-uri and jwt-secret):'
SELECT jsonb_pretty(cot.postgrest_config());
