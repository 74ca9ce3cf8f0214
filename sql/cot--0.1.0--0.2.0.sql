-- Cot 0.1.0 -> 0.2.0 (ALTER EXTENSION cot UPDATE). Afterwards, CALL
-- cot.upgrade_tenants() to give the tenants made by 0.1.0 what 0.2.0 makes
-- (API view column defaults among them). tests/upgrade/run.sh checks that an
-- upgraded install equals a fresh 0.2.0 one.
\echo Use "ALTER EXTENSION cot UPDATE TO '0.2.0'" to load this file. \quit

-- The ledger records tenant upgrades.
ALTER TABLE cot.migrations DROP CONSTRAINT migrations_operation_check;
ALTER TABLE cot.migrations ADD CONSTRAINT migrations_operation_check
    CHECK (operation IN ('create_tenant', 'drop_tenant', 'create_entity', 'alter_entity', 'drop_entity',
                         'drop_relation', 'upgrade_tenant', 'install_module', 'upgrade_module',
                         'uninstall_module'));

-- Keeps the system columns of every generated table: created_at is set once,
-- updated_at on every write; clients cannot forge either; a record's id never
-- changes (links, history and caches name records by it). pg_dump restores
-- data before it creates triggers, so restored rows keep their timestamps.
CREATE OR REPLACE FUNCTION cot.system_columns() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.created_at := pg_catalog.now();
    ELSE
        IF NEW.id IS DISTINCT FROM OLD.id THEN
            RAISE EXCEPTION 'the id of a record cannot change'
                USING ERRCODE = '23514', DETAIL = 'table ' || TG_TABLE_NAME || ', id ' || OLD.id,
                      HINT = 'create a new record instead';
        END IF;
        NEW.created_at := OLD.created_at;
        -- A schema change writing rows (enum values renamed) is not an edit
        -- of the record: cot.ddl_by_cot() is true only while Cot runs its
        -- own statements, and no setting can make it so.
        IF cot.ddl_by_cot() THEN
            NEW.updated_at := OLD.updated_at;
            RETURN NEW;
        END IF;
    END IF;
    NEW.updated_at := pg_catalog.now();
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION cot.system_columns() IS 'Trigger on every Cot table: sets created_at on insert and updated_at on every write but Cot''s own schema changes, and keeps the id';

-- The drift guard recognises a restore (check_function_bodies = off) only for
-- a superuser (as in finalize.sql).
CREATE OR REPLACE FUNCTION cot.drift_mode() RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    mode text := COALESCE(NULLIF(current_setting('cot.drift', true), ''), 'refuse');
BEGIN
    IF to_regclass('cot.tenants') IS NULL OR mode = 'allow'
       OR (current_setting('check_function_bodies') = 'off'
           AND (SELECT r.rolsuper FROM pg_roles AS r WHERE r.rolname = current_user))
       OR cot.ddl_by_cot() THEN
        RETURN NULL;
    END IF;
    RETURN mode;
END
$$;

-- A tenant role's token without its tenant is refused with 401; the request's
-- query keeps its generic plan; tenant roles whose token names their tenant
-- take a path without regular expressions (as in finalize.sql).
CREATE OR REPLACE FUNCTION cot.pre_request() RETURNS void
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

-- The secret Cot signs the tokens it mints with (as in bootstrap.sql).
CREATE TABLE cot.jwt_secret (
    only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    secret    text NOT NULL CHECK (octet_length(secret) >= 32),
    set_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE cot.jwt_secret IS 'The secret cot.issue_token signs with (PostgREST''s jwt-secret); set with cot.set_jwt_secret';
SELECT pg_catalog.pg_extension_config_dump('cot.jwt_secret', '');
REVOKE ALL ON cot.jwt_secret FROM PUBLIC;

-- New functions of the shared library.
CREATE FUNCTION cot."upgrade_tenant"(
	"slug" TEXT
) RETURNS jsonb
STRICT SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'upgrade_tenant_wrapper';

CREATE FUNCTION cot."set_jwt_secret"(
	"secret" TEXT
) RETURNS void
STRICT SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'set_jwt_secret_wrapper';

CREATE FUNCTION cot."issue_token"(
	"tenant" TEXT,
	"role" TEXT,
	"sub" TEXT DEFAULT NULL,
	"ttl_seconds" INT DEFAULT 3600
) RETURNS TEXT
SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'issue_token_wrapper';

-- The platform role may call these, so they run as the extension's owner and
-- check the caller themselves.
ALTER FUNCTION cot.create_tenant(text, jsonb) SECURITY DEFINER;
ALTER FUNCTION cot.drop_tenant(text, boolean) SECURITY DEFINER;
ALTER FUNCTION cot.create_api_key(text, text, jsonb) SECURITY DEFINER;
ALTER FUNCTION cot.revoke_api_key(text) SECURITY DEFINER;
ALTER FUNCTION cot.tenants() SECURITY DEFINER;

-- Tenant upgrades, one transaction per tenant (as in finalize.sql).
CREATE PROCEDURE cot.upgrade_tenants(INOUT report jsonb DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
    slug text;
    upgraded text[] := '{}';
    failed jsonb := '[]';
    state text;
    message text;
BEGIN
    FOR slug IN SELECT t.slug FROM cot.tenants AS t ORDER BY t.slug LOOP
        BEGIN
            PERFORM cot.upgrade_tenant(slug);
            upgraded := upgraded OPERATOR(pg_catalog.||) slug;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
            failed := failed OPERATOR(pg_catalog.||)
                pg_catalog.jsonb_build_object('tenant', slug, 'sqlstate', state, 'message', message);
            RAISE WARNING 'tenant % was not upgraded: % (SQLSTATE %)', slug, message, state;
        END;
        COMMIT;
    END LOOP;
    report := pg_catalog.jsonb_build_object('upgraded', pg_catalog.to_jsonb(upgraded), 'failed', failed);
END
$$;
COMMENT ON PROCEDURE cot.upgrade_tenants(jsonb) IS 'After ALTER EXTENSION cot UPDATE: CALL it to make every tenant''s generated objects as this version makes them, one transaction per tenant';
REVOKE ALL ON PROCEDURE cot.upgrade_tenants(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.upgrade_tenant(text) FROM PUBLIC;
-- The platform: a role that provisions tenants without being a superuser
-- (a sign-up service, the operator's tooling). It may create and drop
-- tenants, create and revoke API keys and mint tokens (cot.create_tenant,
-- cot.drop_tenant, cot.create_api_key, cot.revoke_api_key, cot.issue_token
-- check for it); it is granted nothing on any tenant's schemas. Roles belong
-- to the cluster, so an earlier install may have made it already.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'cot_platform') THEN
        CREATE ROLE cot_platform NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS;
    END IF;
END
$$;

REVOKE ALL ON FUNCTION cot.set_jwt_secret(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.issue_token(text, text, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cot.create_tenant(text, jsonb), cot.drop_tenant(text, boolean),
    cot.create_api_key(text, text, jsonb), cot.revoke_api_key(text),
    cot.issue_token(text, text, text, integer), cot.tenants() TO cot_platform;

-- The platform's HTTP API: PostgREST serves this schema (cot.postgrest_config
-- lists it), so a platform token calls POST /rpc/create_tenant with
-- Content-Profile: cot_platform. Invoker wrappers: the functions they call
-- check the caller. Nothing here reads tenant data.
CREATE SCHEMA cot_platform;
COMMENT ON SCHEMA cot_platform IS 'Cot platform API: tenants, API keys and tokens, for the cot_platform role';
GRANT USAGE ON SCHEMA cot_platform TO cot_platform;

CREATE FUNCTION cot_platform.create_tenant(slug text, settings jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE sql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $$ SELECT cot.create_tenant(slug, settings) $$;
COMMENT ON FUNCTION cot_platform.create_tenant(text, jsonb) IS 'Creates a tenant: its schemas, roles and meta row (cot.create_tenant)';

CREATE FUNCTION cot_platform.drop_tenant(slug text, force boolean DEFAULT false) RETURNS jsonb
LANGUAGE sql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $$ SELECT cot.drop_tenant(slug, force); SELECT pg_catalog.jsonb_build_object('dropped', slug) $$;
COMMENT ON FUNCTION cot_platform.drop_tenant(text, boolean) IS 'Drops a tenant; with force, its entities and their data too (cot.drop_tenant)';

CREATE FUNCTION cot_platform.create_api_key(tenant text, role text, options jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE sql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $$ SELECT cot.create_api_key(tenant, role, options) $$;
COMMENT ON FUNCTION cot_platform.create_api_key(text, text, jsonb) IS 'Creates an API key for a tenant role; the key is shown once (cot.create_api_key)';

CREATE FUNCTION cot_platform.revoke_api_key(key text) RETURNS boolean
LANGUAGE sql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $$ SELECT cot.revoke_api_key(key) $$;
COMMENT ON FUNCTION cot_platform.revoke_api_key(text) IS 'Revokes an API key by id or prefix (cot.revoke_api_key)';

CREATE FUNCTION cot_platform.issue_token(tenant text, role text, sub text DEFAULT NULL, ttl_seconds integer DEFAULT 3600)
RETURNS jsonb
LANGUAGE sql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $$ SELECT pg_catalog.jsonb_build_object('token', cot.issue_token(tenant, role, sub, ttl_seconds), 'expires_in', ttl_seconds) $$;
COMMENT ON FUNCTION cot_platform.issue_token(text, text, text, integer) IS 'Mints an HS256 token for a tenant role (anon, user, admin) and end user sub (cot.issue_token)';

CREATE FUNCTION cot_platform.tenants() RETURNS SETOF jsonb
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $$ SELECT pg_catalog.to_jsonb(t) FROM cot.tenants() AS t $$;
COMMENT ON FUNCTION cot_platform.tenants() IS 'Every tenant, with its schemas and number of entities (cot.tenants)';

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA cot_platform FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA cot_platform TO cot_platform;

-- cot.tenant_of_schema answers from pg_namespace, as the caller: it no longer
-- reads cot.tenants with the extension owner's rights (a tenant's slug was
-- learnt by anyone who asked).
CREATE OR REPLACE FUNCTION cot.tenant_of_schema(schema_name text) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT api.nspname::text
      FROM pg_namespace AS api
      JOIN pg_namespace AS storage ON storage.nspname = 'tenant_' || api.nspname
      JOIN pg_roles AS owner ON owner.rolname = 'cot_owner'
     WHERE schema_name IN (api.nspname, storage.nspname)
       AND api.nspowner = owner.oid AND storage.nspowner = owner.oid
$$;

-- Record history (docs/changes.md): the change log's sequence, its trigger
-- function, and the functions that read it.
CREATE SEQUENCE cot.change_seq AS bigint INCREMENT BY 4096;
SELECT pg_catalog.pg_extension_config_dump('cot.change_seq', '');

-- The log is written by cot.log_changes(), the function of every history
-- trigger, which calls cot.change_begin(tenant) once per statement.
CREATE FUNCTION cot."log_changes"() RETURNS TRIGGER
LANGUAGE c
AS 'MODULE_PATHNAME', 'log_changes_wrapper';
REVOKE ALL ON FUNCTION cot.log_changes() FROM PUBLIC;

CREATE FUNCTION cot."change_begin"(
	"tenant" TEXT
) RETURNS jsonb
STRICT
LANGUAGE c
AS 'MODULE_PATHNAME', 'change_begin_wrapper';
REVOKE ALL ON FUNCTION cot.change_begin(text) FROM PUBLIC;

-- A workflow's trigger records each transition with cot.log_transition,
-- which appends the entry to the tenant's log without the executor.
CREATE FUNCTION cot."log_transition"(
	"tenant" TEXT,
	"entity" TEXT,
	"record_id" uuid,
	"old" jsonb,
	"new" jsonb,
	"transition" jsonb
) RETURNS bigint
STRICT VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'log_transition_wrapper';
REVOKE ALL ON FUNCTION cot.log_transition(text, text, uuid, jsonb, jsonb, jsonb) FROM PUBLIC;

CREATE FUNCTION cot."changes"(
	"tenant" TEXT,
	"after" bigint DEFAULT 0,
	"max" INT DEFAULT 100
) RETURNS jsonb
STRICT VOLATILE SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'changes_wrapper';

CREATE FUNCTION cot."history"(
	"tenant" TEXT,
	"entity" TEXT,
	"id" uuid
) RETURNS jsonb
STRICT VOLATILE SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'history_wrapper';

CREATE FUNCTION cot."prune_history"(
	"tenant" TEXT DEFAULT NULL,
	"batch" INT DEFAULT 10000
) RETURNS bigint
SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'prune_history_wrapper';

CREATE FUNCTION cot."set_history_retention"(
	"tenant" TEXT,
	"retention" interval
) RETURNS jsonb
SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'set_history_retention_wrapper';

REVOKE ALL ON FUNCTION cot.changes(text, bigint, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.set_history_retention(text, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.prune_history(text, integer) FROM PUBLIC;

-- The tenant /rpc/typescript wrapper answers Accept: text/plain (a PostgREST
-- media type handler); cot.upgrade_tenants() makes the wrappers.
CREATE DOMAIN cot."text/plain" AS text;
COMMENT ON DOMAIN cot."text/plain" IS 'text answered as text/plain by PostgREST (the tenant /rpc/typescript wrapper returns it)';

-- The CHECK constraints of tenants made from 0.2.0 on name the field and its rule
-- when a row breaks them: CHECK (CASE WHEN (<condition>) IS NOT FALSE THEN
-- true ELSE cot.rule_broken(tableoid, <field id>, <rule in words>) END). A
-- row that passes costs the CASE (bench/checks.sh); a failing one reaches
-- cot.rule_broken, which raises 23514 with the field's current name (read by
-- its id, which survives renames) and the rule in DETAIL, what PostgREST
-- forwards as `details`. The table's oid keeps the lookup to the fields of
-- the table being written: nobody learns a name they could not read.
CREATE FUNCTION cot.rule_broken(tbl oid, field uuid, rule text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    entity text;
    column_name text;
BEGIN
    SELECT e.name, f.name INTO entity, column_name
      FROM cot.fields AS f
      JOIN cot.entities AS e ON e.id = f.entity_id
      JOIN cot.tenants AS t ON t.id = e.tenant_id
      JOIN pg_catalog.pg_class AS c ON c.oid = tbl
     WHERE f.id = field
       AND c.relname = e.name
       AND c.relnamespace = pg_catalog.to_regnamespace('tenant_' || t.slug);
    IF entity IS NULL THEN
        -- A field being made in this very transaction, or a table that is
        -- not the field's: the rule alone.
        SELECT c.relname INTO entity FROM pg_catalog.pg_class AS c WHERE c.oid = tbl;
        RAISE EXCEPTION 'new row for "%" breaks a rule of its fields', entity
            USING ERRCODE = '23514', DETAIL = 'a value must be ' || rule || '.', TABLE = entity;
    END IF;
    RAISE EXCEPTION 'new row for "%" breaks the rule of field "%"', entity, column_name
        USING ERRCODE = '23514',
              DETAIL = '"' || column_name || '" must be ' || rule || '.',
              HINT = 'The rules of every field are in the API''s OpenAPI document (GET /rpc/openapi).',
              TABLE = entity, COLUMN = column_name;
END
$$;
COMMENT ON FUNCTION cot.rule_broken(oid, uuid, text) IS 'Raises 23514 naming the field and its rule: the CHECKs of generated tables call it when a row breaks one';
-- Tenants made by 0.1.0 keep their plain CHECK constraints (PostgreSQL's own
-- message) until a rule changes: cot.upgrade_tenants() leaves constraints
-- alone, since making them again would scan every table (docs/releases.md).

-- Webhooks (docs/webhooks.md): the functions of the shared library, then the
-- meta-tables and privileges as in finalize.sql.
CREATE FUNCTION cot."create_webhook"(
	"tenant" TEXT,
	"options" jsonb
) RETURNS jsonb
STRICT SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'create_webhook_wrapper';

CREATE FUNCTION cot."webhooks"(
	"tenant" TEXT
) RETURNS jsonb
STABLE STRICT SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'webhooks_wrapper';

CREATE FUNCTION cot."update_webhook"(
	"id" uuid,
	"options" jsonb
) RETURNS jsonb
STRICT SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'update_webhook_wrapper';

CREATE FUNCTION cot."delete_webhook"(
	"id" uuid
) RETURNS bool
STRICT SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'delete_webhook_wrapper';

CREATE FUNCTION cot."webhook_deliveries"(
	"tenant" TEXT,
	"options" jsonb DEFAULT '{}'
) RETURNS jsonb
STABLE STRICT SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'webhook_deliveries_wrapper';

CREATE FUNCTION cot."replay_webhook"(
	"delivery_id" uuid
) RETURNS jsonb
STRICT SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'replay_webhook_wrapper';

-- A webhook sends the changes of its tenant's change log (cot.changes) that
-- its events match to a URL; the background worker (cot.worker_databases)
-- turns each matching change into a delivery and sends it. Both tables are
-- dumped (pg_extension_config_dump): a restored database goes on where the
-- dumped one stopped.
CREATE TABLE cot.webhooks (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES cot.tenants (id) ON DELETE CASCADE,
    url         text NOT NULL CHECK (octet_length(url) <= 2048),
    events      text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 50),
    secret      text NOT NULL CHECK (secret LIKE 'whsec\_%'),
    headers     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(headers) = 'object'),
    enabled     boolean NOT NULL DEFAULT true,
    description text,
    position    bigint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_tenant_id_idx ON cot.webhooks (tenant_id);
COMMENT ON TABLE cot.webhooks IS 'Webhooks: where each tenant''s changes are sent, the events they match, the signing secret; position is the cursor in the change log';
COMMENT ON COLUMN cot.webhooks.position IS 'Every change with a smaller or equal id has been made into deliveries (or did not match)';

-- One row per (webhook, change) to send. pending: waiting for its turn
-- (next_attempt_at, and no earlier pending change of the same record);
-- delivered and failed rows are kept for cot.webhook_retention.
CREATE TABLE cot.webhook_deliveries (
    id              uuid PRIMARY KEY,
    webhook_id      uuid NOT NULL REFERENCES cot.webhooks (id) ON DELETE CASCADE,
    change_id       bigint NOT NULL,
    record_id       uuid,
    event           text NOT NULL,
    payload         jsonb NOT NULL,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_attempt_at timestamptz,
    last_status     integer,
    last_error      text,
    latency_ms      integer,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    UNIQUE (webhook_id, change_id)
);
CREATE INDEX webhook_deliveries_pending_idx ON cot.webhook_deliveries (webhook_id, change_id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_record_idx ON cot.webhook_deliveries (webhook_id, record_id, change_id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_done_idx ON cot.webhook_deliveries (last_attempt_at) WHERE state <> 'pending';
COMMENT ON TABLE cot.webhook_deliveries IS 'The webhook delivery log: one row per webhook and change, its state, attempts, last HTTP status and error';

SELECT pg_catalog.pg_extension_config_dump('cot.webhooks', '');
SELECT pg_catalog.pg_extension_config_dump('cot.webhook_deliveries', '');
REVOKE ALL ON cot.webhooks, cot.webhook_deliveries FROM PUBLIC;

REVOKE ALL ON FUNCTION cot.create_webhook(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.webhooks(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.update_webhook(uuid, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.delete_webhook(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.webhook_deliveries(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.replay_webhook(uuid) FROM PUBLIC;
-- Tenants made by 0.1.0 get the webhook /rpc/ wrappers and EXECUTE on these
-- functions from CALL cot.upgrade_tenants().

-- Workflows (docs/workflows.md): state fields are enforced by a trigger per
-- entity, made with the entity; these take, list and draw transitions. They
-- stay executable by PUBLIC: each checks that the caller is one of the
-- tenant's roles and acts as the caller. Tenants made by 0.1.0 get the
-- /rpc/transition and /rpc/transitions wrappers from CALL cot.upgrade_tenants().
CREATE FUNCTION cot."transition_target"(
	"tenant" TEXT,
	"entity" TEXT,
	"transition" TEXT
) RETURNS jsonb
STRICT STABLE SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'transition_target_wrapper';

-- sql/workflows.sql:
-- Workflows (docs/workflows.md): taking a named transition. The rules are
-- enforced by each entity's trigger, for every writer; cot.transition only
-- names the transition and its note for it (transaction-local settings the
-- trigger reads) and makes the change through the API view. SECURITY
-- INVOKER: the UPDATE runs as the caller, so grants, row security and the
-- trigger judge the caller, and the trigger's errors (SQLSTATE class CW)
-- reach the caller unchanged. cot.transition_target (Rust) checks that the
-- caller is one of the tenant's roles and finds the view, column and state.
CREATE FUNCTION cot.transition(tenant text, entity text, id uuid, transition text, note text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target jsonb := cot.transition_target(tenant, entity, transition);
    result jsonb;
BEGIN
    PERFORM set_config('cot.transition', target->>'transition', true);
    PERFORM set_config('cot.transition_note', coalesce(note, ''), true);
    EXECUTE format('UPDATE %I.%I AS "R" SET %I = $1 WHERE "R"."id" = $2 RETURNING to_jsonb("R".*)',
                   target->>'schema', target->>'view', target->>'field')
       INTO result USING target->>'to', id;
    PERFORM set_config('cot.transition', '', true);
    PERFORM set_config('cot.transition_note', '', true);
    IF result IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '42704',
            MESSAGE = format('record %s of %s was not found', id, quote_ident(entity)),
            HINT = 'it does not exist, or the caller may not update it';
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION cot.transition(text, text, uuid, text, text) IS 'Take a workflow transition on a record, as the caller; returns the record after it';

CREATE FUNCTION cot."transitions"(
	"tenant" TEXT,
	"entity" TEXT,
	"id" uuid
) RETURNS jsonb
STRICT STABLE SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'transitions_wrapper';

CREATE FUNCTION cot."workflow_graph"(
	"tenant" TEXT,
	"entity" TEXT
) RETURNS jsonb
STRICT STABLE SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'workflow_graph_wrapper';

-- A tenant's admins mint short-lived user and anon tokens of their tenant
-- (the studio's playground, /rpc/issue_token); cot.upgrade_tenants() makes
-- the wrapper and grants EXECUTE to each tenant's admin role.
CREATE FUNCTION cot."issue_tenant_token"(
	"tenant" TEXT,
	"options" jsonb
) RETURNS jsonb
STRICT SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'issue_tenant_token_wrapper';
REVOKE ALL ON FUNCTION cot.issue_tenant_token(text, jsonb) FROM PUBLIC;

-- Modules (docs/modules.md): the functions of the shared library, then the
-- meta-tables as in bootstrap.sql and the privileges as in finalize.sql.
CREATE FUNCTION cot."publish_module"(
	"module" jsonb
) RETURNS jsonb
STRICT SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'publish_module_wrapper';

CREATE FUNCTION cot."modules"() RETURNS jsonb
STRICT STABLE SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'modules_wrapper';

CREATE FUNCTION cot."install_module"(
	"tenant" TEXT,
	"name" TEXT,
	"version" TEXT DEFAULT NULL,
	"options" jsonb DEFAULT '{}'
) RETURNS jsonb
SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'install_module_wrapper';

CREATE FUNCTION cot."installed_modules"(
	"tenant" TEXT
) RETURNS jsonb
STRICT STABLE SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'installed_modules_wrapper';

CREATE FUNCTION cot."plan_module_upgrade"(
	"tenant" TEXT,
	"name" TEXT,
	"version" TEXT DEFAULT NULL,
	"options" jsonb DEFAULT '{}'
) RETURNS jsonb
SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'plan_module_upgrade_wrapper';

CREATE FUNCTION cot."upgrade_module"(
	"tenant" TEXT,
	"name" TEXT,
	"version" TEXT DEFAULT NULL,
	"options" jsonb DEFAULT '{}'
) RETURNS jsonb
SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'upgrade_module_wrapper';

CREATE FUNCTION cot."uninstall_module"(
	"tenant" TEXT,
	"name" TEXT,
	"options" jsonb DEFAULT '{}'
) RETURNS jsonb
STRICT SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'uninstall_module_wrapper';

-- Modules (docs/modules.md). The catalog: one row per published version of a
-- module, the whole cot.module/1 document kept as published; a version never
-- changes (cot.publish_module refuses other content under a published
-- version, and the trigger below refuses UPDATE). Installations: which
-- version of which module each tenant has; a module's entities are found by
-- their ids (derived from tenant, module and entity key), never by name.
CREATE TABLE cot.module_versions (
    name          text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_-]{0,62}$'),
    version       text NOT NULL,
    description   text NOT NULL DEFAULT '',
    depends       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(depends) = 'object'),
    module        jsonb COMPRESSION lz4 NOT NULL,
    published_by  text NOT NULL,
    published_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, version)
);
COMMENT ON TABLE cot.module_versions IS 'The module catalog: every published version of every module, immutable (cot.publish_module)';
CREATE FUNCTION cot.module_version_immutable() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'module % version % is published and cannot change', OLD.name, OLD.version
        USING ERRCODE = '55000', HINT = 'publish the change as a new version';
END
$$;
CREATE TRIGGER module_versions_immutable BEFORE UPDATE ON cot.module_versions
    FOR EACH ROW EXECUTE FUNCTION cot.module_version_immutable();

CREATE TABLE cot.module_installations (
    tenant_id     uuid NOT NULL REFERENCES cot.tenants (id) ON DELETE CASCADE,
    module        text NOT NULL,
    version       text NOT NULL,
    installed_at  timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, module),
    FOREIGN KEY (module, version) REFERENCES cot.module_versions (name, version)
);
CREATE INDEX module_installations_version_idx ON cot.module_installations (module, version);
COMMENT ON TABLE cot.module_installations IS 'Which version of which module each tenant has installed (cot.install_module)';
SELECT pg_catalog.pg_extension_config_dump('cot.module_versions', '');
SELECT pg_catalog.pg_extension_config_dump('cot.module_installations', '');
REVOKE ALL ON cot.module_versions, cot.module_installations FROM PUBLIC;

-- ===== Modules (docs/modules.md) ============================================
-- Publishing is for superusers and cot_platform (cot.publish_module checks);
-- the catalog is read by them and by tenant admins, who install from it
-- (granted per tenant with the /rpc/ wrappers, like the functions below,
-- which check the tenant themselves).
REVOKE ALL ON FUNCTION cot.publish_module(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.modules() FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.install_module(text, text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.upgrade_module(text, text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.plan_module_upgrade(text, text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.uninstall_module(text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.installed_modules(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.module_version_immutable() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cot.publish_module(jsonb), cot.modules() TO cot_platform;

CREATE FUNCTION cot_platform.publish_module(module jsonb) RETURNS jsonb
LANGUAGE sql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $$ SELECT cot.publish_module(module) $$;
COMMENT ON FUNCTION cot_platform.publish_module(jsonb) IS 'Publishes a module version (a cot.module/1 document) to the catalog; versions never change (cot.publish_module)';

CREATE FUNCTION cot_platform.modules() RETURNS jsonb
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $$ SELECT cot.modules() $$;
COMMENT ON FUNCTION cot_platform.modules() IS 'Every published module version, newest first (cot.modules)';
REVOKE ALL ON FUNCTION cot_platform.publish_module(jsonb), cot_platform.modules() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cot_platform.publish_module(jsonb), cot_platform.modules() TO cot_platform;

-- Several PostgREST instances, each serving a group of tenants
-- (docs/gateway.md, "Several PostgREST instances"): a tenant's group, an authenticator's group, and the
-- functions that set and list them.
ALTER TABLE cot.tenants
    ADD COLUMN api_group text NOT NULL DEFAULT 'default' CHECK (api_group ~ '^[a-z][a-z0-9_]{0,29}$');
ALTER TABLE cot.authenticators
    ADD COLUMN api_group text CHECK (api_group ~ '^[a-z][a-z0-9_]{0,29}$');

CREATE FUNCTION cot."set_tenant_api_group"(
	"tenant" TEXT,
	"api_group" TEXT
) RETURNS jsonb
STRICT SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'set_tenant_api_group_wrapper';

CREATE FUNCTION cot."set_authenticator_api_group"(
	"login_role" TEXT,
	"api_group" TEXT
) RETURNS jsonb
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'set_authenticator_api_group_wrapper';

CREATE FUNCTION cot."api_routes"() RETURNS TABLE (
	"tenant" TEXT,
	"api_group" TEXT
)
STRICT SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'api_routes_wrapper';

REVOKE ALL ON FUNCTION cot.set_tenant_api_group(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.set_authenticator_api_group(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.api_routes() FROM PUBLIC;

-- Custom field types (docs/field-types.md): the meta-table as in
-- bootstrap.sql, the functions of the shared library, privileges as in
-- finalize.sql.
CREATE TABLE cot.field_types (
    name          text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]*$' AND octet_length(name) <= 63),
    definition    jsonb NOT NULL CHECK (jsonb_typeof(definition) = 'object' AND definition->>'name' = name),
    registered_by text NOT NULL DEFAULT CURRENT_USER,
    registered_at timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE cot.field_types IS 'Custom field types: a base type and checks, compiled into the CHECK constraints of every field of the type (cot.register_field_type)';
SELECT pg_catalog.pg_extension_config_dump('cot.field_types', '');

CREATE FUNCTION cot."register_field_type"(
	"definition" jsonb
) RETURNS jsonb
STRICT SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'register_field_type_wrapper';

CREATE FUNCTION cot."unregister_field_type"(
	"name" TEXT
) RETURNS bool
STRICT SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'unregister_field_type_wrapper';

CREATE FUNCTION cot."field_types"() RETURNS jsonb
STRICT STABLE SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'field_types_wrapper';

REVOKE ALL ON FUNCTION cot.register_field_type(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.unregister_field_type(text) FROM PUBLIC;
REVOKE ALL ON cot.field_types FROM PUBLIC;
-- cot.query runs as the tenant role and reads the definitions of the types
-- its fields use (the same cot.field_types() shows everyone).
GRANT SELECT (name, definition) ON cot.field_types TO PUBLIC;
GRANT EXECUTE ON FUNCTION cot.register_field_type(jsonb), cot.unregister_field_type(text) TO cot_platform;

-- The platform's HTTP API for them (schema cot_platform), as in finalize.sql.
CREATE FUNCTION cot_platform.register_field_type(definition jsonb) RETURNS jsonb
LANGUAGE sql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $$ SELECT cot.register_field_type(definition) $$;
COMMENT ON FUNCTION cot_platform.register_field_type(jsonb) IS 'Registers or changes a custom field type (cot.register_field_type)';

CREATE FUNCTION cot_platform.unregister_field_type(name text) RETURNS boolean
LANGUAGE sql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $$ SELECT cot.unregister_field_type(name) $$;
COMMENT ON FUNCTION cot_platform.unregister_field_type(text) IS 'Removes a custom field type no field uses (cot.unregister_field_type)';

CREATE FUNCTION cot_platform.field_types() RETURNS jsonb
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $$ SELECT cot.field_types() $$;
COMMENT ON FUNCTION cot_platform.field_types() IS 'Every custom field type, with the fields using it (cot.field_types)';
REVOKE ALL ON FUNCTION cot_platform.register_field_type(jsonb), cot_platform.unregister_field_type(text),
    cot_platform.field_types() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cot_platform.register_field_type(jsonb), cot_platform.unregister_field_type(text),
    cot_platform.field_types() TO cot_platform;

-- A PostgREST instance that serves tokens only, without cot.pre_request
-- (docs/postgrest.md, "Tokens only"): the authenticator's flag and the
-- function that sets it, privileges as in finalize.sql.
ALTER TABLE cot.authenticators ADD COLUMN tokens_only boolean NOT NULL DEFAULT false;

CREATE FUNCTION cot."set_authenticator_tokens_only"(
	"login_role" TEXT,
	"tokens_only" bool
) RETURNS jsonb
STRICT
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'set_authenticator_tokens_only_wrapper';

REVOKE ALL ON FUNCTION cot.set_authenticator_tokens_only(text, boolean) FROM PUBLIC;

-- cot.sync_change_seq(): cot.change_seq moved past the change logs of a
-- database whose logs were copied in (docs/scale-out.md); as in finalize.sql.
CREATE FUNCTION cot."sync_change_seq"() RETURNS bigint
STRICT VOLATILE PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'sync_change_seq_wrapper';

REVOKE ALL ON FUNCTION cot.sync_change_seq() FROM PUBLIC;

-- cot.listen_changes() / cot.unlisten_changes(): LISTEN cot_changes counted,
-- so that writers send wake-ups only while somebody waits for one when cot
-- is preloaded (src/change_wakeups.rs, docs/changes.md).
CREATE FUNCTION cot."listen_changes"() RETURNS bool
STRICT VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'listen_changes_wrapper';

CREATE FUNCTION cot."unlisten_changes"() RETURNS void
STRICT VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'unlisten_changes_wrapper';
