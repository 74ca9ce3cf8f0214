-- cot.pre_request(), PostgREST's db-pre-request function. Its own file so
-- finalize.sql keeps to the grants; PL/pgSQL resolves the functions it calls
-- when it runs, so it needs only the schema (bootstrap.sql).

-- PostgREST's db-pre-request: runs in every request's transaction, as the role
-- PostgREST switched to, before the query.
--  * An `x-api-key` header is exchanged for the claims of its key (role, tenant,
--    sub): the request then runs as that tenant role. An unknown or malformed
--    key is refused with PT401 (HTTP 401), a revoked or expired one with PT403.
--  * A request without a token runs as cot_anon, which may do nothing; it is
--    moved to the anonymous role of the tenant whose schema it asked for
--    (Accept-Profile / Content-Profile; PostgREST puts that schema first in
--    search_path), with that tenant as its claim.
--  * The request's query is planned once per connection, not once per request:
--    plan_cache_mode = force_generic_plan for the rest of the transaction. A
--    policy's tenant check (SELECT cot.claim_tenant() = '<slug>') is estimated
--    to keep half the rows, so with PostgREST's LIMIT as a parameter the
--    generic plan looked ten times dearer than a custom one and PostgreSQL
--    planned every request afresh: 0.26 ms of planning for a 50-row page read
--    through a view with row security, 0.74 of the throughput of the same
--    tables written by hand (bench/scale_http.sh). A login role given another
--    plan_cache_mode than auto (ALTER ROLE authenticator SET plan_cache_mode =
--    force_custom_plan) keeps it.
-- No SET clause: set_config(..., true) must outlive the function, to the end of
-- the request's transaction. Every name is schema-qualified instead.
CREATE FUNCTION cot.pre_request() RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    api_key text := cot.request_header('x-api-key');
    claims jsonb;
    tenant text;
    profile text;
BEGIN
    -- The request's query keeps its generic plan (see above), unless the
    -- login role was given another plan_cache_mode than auto.
    IF pg_catalog.current_setting('plan_cache_mode') OPERATOR(pg_catalog.=) 'auto' THEN
        PERFORM pg_catalog.set_config('plan_cache_mode', 'force_generic_plan', true);
    END IF;
    IF api_key IS NOT NULL THEN
        claims := cot.api_key_claims(api_key);
        IF claims OPERATOR(pg_catalog.?) 'reject' THEN
            IF claims OPERATOR(pg_catalog.->>) 'reject' OPERATOR(pg_catalog.=) 'PT403' THEN
                RAISE SQLSTATE 'PT403' USING MESSAGE = claims OPERATOR(pg_catalog.->>) 'message';
            END IF;
            RAISE SQLSTATE 'PT401' USING MESSAGE = claims OPERATOR(pg_catalog.->>) 'message';
        END IF;
        PERFORM pg_catalog.set_config('role', claims OPERATOR(pg_catalog.->>) 'role', true);
        PERFORM pg_catalog.set_config('request.jwt.claims', claims::text, true);
        RETURN;
    END IF;
    -- The common case first, without regular expressions (they took most of
    -- the 26 µs a call cost; this path takes 10): a tenant role whose token
    -- names its tenant.
    tenant := cot.claim_tenant();
    IF current_user::text OPERATOR(pg_catalog.=) ANY (ARRAY[
           'cot_' OPERATOR(pg_catalog.||) tenant OPERATOR(pg_catalog.||) '_user',
           'cot_' OPERATOR(pg_catalog.||) tenant OPERATOR(pg_catalog.||) '_admin',
           'cot_' OPERATOR(pg_catalog.||) tenant OPERATOR(pg_catalog.||) '_anon']) THEN
        RETURN;
    END IF;
    -- A tenant role's token must name that tenant: a missing, foreign or
    -- malformed tenant claim is refused here (401) rather than answered with
    -- 200 [] for reads and a row-security error for writes. The policies
    -- check the claim again; this only makes the mistake loud.
    IF current_user OPERATOR(pg_catalog.~) '^cot_[a-z][a-z0-9_]*_(anon|user|admin)$'
       AND tenant IS DISTINCT FROM
           pg_catalog.regexp_replace(current_user, '^cot_(.*)_(anon|user|admin)$', '\1') THEN
        RAISE SQLSTATE 'PT401' USING
            MESSAGE = 'the token''s tenant claim does not name the tenant of its role',
            HINT = 'a token for role cot_<slug>_user carries "tenant": "<slug>"';
    END IF;
    IF current_user OPERATOR(pg_catalog.=) 'cot_anon' THEN
        profile := pg_catalog.btrim(pg_catalog.split_part(pg_catalog.current_setting('search_path'), ',', 1), ' "');
        IF profile OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_]{0,29}$'
           AND pg_catalog.to_regrole('cot_' OPERATOR(pg_catalog.||) profile OPERATOR(pg_catalog.||) '_anon') IS NOT NULL THEN
            PERFORM pg_catalog.set_config('role', 'cot_' OPERATOR(pg_catalog.||) profile OPERATOR(pg_catalog.||) '_anon', true);
            PERFORM pg_catalog.set_config('request.jwt.claims',
                pg_catalog.jsonb_build_object('role', 'cot_' OPERATOR(pg_catalog.||) profile OPERATOR(pg_catalog.||) '_anon',
                                              'tenant', profile)::text, true);
        END IF;
    END IF;
END
$$;
COMMENT ON FUNCTION cot.pre_request() IS 'PostgREST db-pre-request: API keys (x-api-key) and tenant-scoped anonymous access';
