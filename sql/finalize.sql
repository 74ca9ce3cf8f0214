-- After every function exists: Cot's functions that change or reveal the model
-- are not for PUBLIC. Generated tables call cot.uuid_generate_v7(),
-- cot.system_columns() and cot.array_items_match() as whoever writes a row, so
-- those stay executable by everyone (they read nothing and change nothing else).
REVOKE ALL ON FUNCTION cot.create_tenant(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.drop_tenant(text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.tenants() FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.validate_entity(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.create_entity(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.create_entities(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.plan_entity(jsonb, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.castable(anyelement, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.export_schema(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.check(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.explain_query(text, text, jsonb, boolean) FROM PUBLIC;
-- The change log: cot.changes and the retention for superusers and tenant
-- admins (granted per tenant), pruning for superusers; cot.history stays
-- PUBLIC and answers each role only what it may read.
REVOKE ALL ON FUNCTION cot.changes(text, bigint, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.change_begin(text) FROM PUBLIC;
-- The history triggers' function: only Cot makes triggers with it.
REVOKE ALL ON FUNCTION cot.log_changes() FROM PUBLIC;
-- A workflow trigger's writer: the triggers' functions are SECURITY DEFINER.
REVOKE ALL ON FUNCTION cot.log_transition(text, text, uuid, jsonb, jsonb, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.set_history_retention(text, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.prune_history(text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.sync_change_seq() FROM PUBLIC;
-- cot.transition, cot.transitions and cot.workflow_graph stay PUBLIC too:
-- each checks that the caller is one of the tenant's roles, and acts as it.
-- cot.query runs as its caller (grants and row security decide what it sees)
-- and cot.query_model lets only the tenant's roles read the model: both stay
-- executable by PUBLIC, so every tenant role (anon too) can query.
REVOKE ALL ON FUNCTION cot.apply_schema(text, jsonb, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.alter_entity(jsonb, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.drop_entity(text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.entity(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.entities(text) FROM PUBLIC;

-- The tenant /rpc/ wrappers (<slug>.create_entity and the like) fill in their
-- tenant where a definition leaves it out: on an object, or on each object of
-- an array. A definition that names a tenant keeps it.
-- A jsonb argument of a tenant /rpc/ wrapper as sent. PostgREST passes an
-- argument of a GET request (?query={...}) as a JSON string holding the text;
-- a string that holds an object or an array is read as that value.
CREATE FUNCTION cot.json_arg(value jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN pg_catalog.jsonb_typeof(value) OPERATOR(pg_catalog.=) 'string'
                 AND (value OPERATOR(pg_catalog.#>>) '{}') OPERATOR(pg_catalog.~) '^\s*[[{]'
            THEN (value OPERATOR(pg_catalog.#>>) '{}')::jsonb
            ELSE value END;
COMMENT ON FUNCTION cot.json_arg(jsonb) IS 'A jsonb argument of a tenant /rpc/ wrapper, with a JSON string holding an object or array (as PostgREST passes GET arguments) read as that value';

-- The CHECK constraints of generated tables name the field and its rule
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

-- The media type of the tenant /rpc/typescript wrapper: PostgREST 12 answers
-- `Accept: text/plain` only for a function returning a domain of that name
-- (a media type handler); with any other Accept it is JSON, a string.
CREATE DOMAIN cot."text/plain" AS text;
COMMENT ON DOMAIN cot."text/plain" IS 'text answered as text/plain by PostgREST (the tenant /rpc/typescript wrapper returns it)';

CREATE FUNCTION cot.with_tenant(definition jsonb, tenant text) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE pg_catalog.jsonb_typeof(definition)
    WHEN 'object' THEN pg_catalog.jsonb_build_object('tenant', tenant) OPERATOR(pg_catalog.||) definition
    WHEN 'array' THEN (
        SELECT COALESCE(pg_catalog.jsonb_agg(
                   CASE WHEN pg_catalog.jsonb_typeof(d) OPERATOR(pg_catalog.=) 'object'
                        THEN pg_catalog.jsonb_build_object('tenant', tenant) OPERATOR(pg_catalog.||) d
                        ELSE d END
                   ORDER BY n), '[]'::jsonb)
        FROM pg_catalog.jsonb_array_elements(definition) WITH ORDINALITY AS e(d, n))
    ELSE definition
END;
REVOKE ALL ON FUNCTION cot.with_tenant(jsonb, text) FROM PUBLIC;
COMMENT ON FUNCTION cot.with_tenant(jsonb, text) IS 'A definition (or array of definitions) with its tenant filled in where missing; used by the tenant /rpc/ wrappers';

-- JWT claims as PostgREST sets them (request.jwt.claims, the whole payload as
-- JSON). These sit in every policy, so they are tiny SQL functions that the
-- planner inlines: every name schema-qualified, and no SET clause (a SET
-- clause stops inlining and cost a quarter of read throughput when measured).
-- The claim is read by cot.jwt_claim, which returns NULL for a missing, empty
-- ('' on a pooled connection after first use) or malformed setting, never an
-- error: no claim means no access, not a failed request.
CREATE FUNCTION cot.claim_tenant() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT cot.jwt_claim('tenant') $$;
COMMENT ON FUNCTION cot.claim_tenant() IS 'The tenant slug of the request''s JWT (claim "tenant"), or NULL';

CREATE FUNCTION cot.claim_sub() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT cot.jwt_claim('sub') $$;
COMMENT ON FUNCTION cot.claim_sub() IS 'The end user''s id from the request''s JWT (claim "sub"), or NULL';

CREATE FUNCTION cot.claim_role() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT cot.jwt_claim('role') $$;
COMMENT ON FUNCTION cot.claim_role() IS 'The PostgreSQL role named by the request''s JWT (claim "role"), or NULL';

-- Fills the owner column of tables with an owner access rule: the sub claim on
-- insert, unchanged on update. Clients can neither set nor change it.
CREATE FUNCTION cot.owner_column() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.owner_id := cot.claim_sub();
    ELSE
        NEW.owner_id := OLD.owner_id;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION cot.owner_column() IS 'Trigger on tables with an owner rule: owner_id is the sub claim of whoever inserted the row';

-- Policies call cot.claim_tenant() as the requesting role, and the planner
-- inlines it by parsing its body (`cot.jwt_claim(...)`) as that role, which
-- needs USAGE on the schema. USAGE only lets a role look names up: EXECUTE on
-- the definition functions stays revoked and the meta-tables stay unreadable.
GRANT USAGE ON SCHEMA cot TO PUBLIC;

REVOKE ALL ON FUNCTION cot.add_authenticator(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.remove_authenticator(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.postgrest_config() FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.pre_config() FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.set_tenant_api_group(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.set_authenticator_api_group(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.set_authenticator_tokens_only(text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.api_routes() FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.create_api_key(text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.revoke_api_key(text) FROM PUBLIC;

-- Drift guard: DDL on a tenant's schemas (tenant_<slug> and <slug>) that does
-- not come from a Cot function is refused (cot.drift = 'refuse', the default),
-- recorded in cot.drift_log ('record') or let through ('allow'). Cot's own
-- statements are told apart by cot.ddl_by_cot(), a flag only Cot's Rust code
-- sets (a setting could be set by anyone). pg_dump and pg_restore scripts run
-- with check_function_bodies = off; the guard stands aside for them, or a
-- restore could not recreate the tenants' indexes and policies. Anyone may
-- set check_function_bodies, so that counts only for a superuser (who
-- restores dumps of Cot, and could set cot.drift = 'allow' anyway): a
-- non-superuser member of cot_owner setting it still meets the guard.
-- GRANT and REVOKE name no schema in the trigger's data: cot.check() finds those.
-- What the guard does with this statement: 'refuse' or 'record', or NULL to
-- stand aside (Cot's own DDL, cot.drift = 'allow', a dump being restored, or
-- an extension being dropped).
CREATE FUNCTION cot.drift_mode() RETURNS text
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

CREATE FUNCTION cot.guard_ddl() RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    mode text;
    r record;
BEGIN
    -- Cot's own statements first, and cheaply: they are most of the DDL on
    -- tenant schemas, a few dozen per create_entity.
    IF cot.ddl_by_cot() THEN
        RETURN;
    END IF;
    mode := cot.drift_mode();
    IF mode IS NULL THEN
        RETURN;
    END IF;
    FOR r IN
        SELECT c.command_tag, c.object_type, c.object_identity, c.schema_name, t.slug
        FROM pg_event_trigger_ddl_commands() AS c
        CROSS JOIN LATERAL (SELECT cot.tenant_of_schema(c.schema_name) AS slug) AS t
        WHERE t.slug IS NOT NULL
    LOOP
        -- Finishing work Cot left pending (CREATE INDEX CONCURRENTLY, ALTER
        -- TABLE ... VALIDATE CONSTRAINT, as cot.check() lists it) is allowed:
        -- afterwards the table matches its definition again.
        IF r.command_tag IN ('CREATE INDEX', 'ALTER TABLE') AND NOT EXISTS (
               SELECT 1 FROM cot.check(r.slug) AS f
               WHERE f.kind = 'drift'
                 AND (f.object = r.object_identity OR f.object LIKE r.object_identity || '.%'
                      OR f.object LIKE r.object_identity || ':%')) THEN
            CONTINUE;
        END IF;
        PERFORM cot.drift_found(mode, r.schema_name, r.command_tag, r.object_type, r.object_identity, current_user);
    END LOOP;
END
$$;

CREATE FUNCTION cot.guard_drop() RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    mode text;
    r record;
BEGIN
    -- Cot's own statements first, and cheaply: they are most of the DDL on
    -- tenant schemas, a few dozen per create_entity.
    IF cot.ddl_by_cot() THEN
        RETURN;
    END IF;
    mode := cot.drift_mode();
    IF mode IS NULL THEN
        RETURN;
    END IF;
    FOR r IN
        SELECT d.object_type, d.object_identity, d.schema_name
        FROM pg_event_trigger_dropped_objects() AS d
        WHERE d.original AND cot.tenant_of_schema(d.schema_name) IS NOT NULL
    LOOP
        PERFORM cot.drift_found(mode, r.schema_name, tg_tag, r.object_type, r.object_identity, current_user);
    END LOOP;
END
$$;

CREATE FUNCTION cot.drift_found(mode text, schema_name text, command_tag text, object_type text, object_identity text,
                                who text)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF mode = 'record' THEN
        INSERT INTO cot.drift_log (schema_name, command_tag, object_type, object_identity, role_name)
        VALUES (schema_name, command_tag, object_type, object_identity, who);
        RETURN;
    END IF;
    RAISE EXCEPTION '% on % refused: schema "%" is managed by Cot', command_tag, COALESCE(object_identity, object_type), schema_name
        USING ERRCODE = '55000',
              HINT = 'change entities with cot.alter_entity; a superuser may SET cot.drift = ''record'' to run and record such DDL, or ''allow''';
END
$$;
REVOKE ALL ON FUNCTION cot.drift_found(text, text, text, text, text, text) FROM PUBLIC;

-- The tenant whose schema this is (tenant_<slug> or <slug>), or NULL. The
-- guards run as whoever runs DDL, and cot.tenants is not theirs to read: a
-- user creating a temporary table must not fail on it. So the answer comes
-- from the catalog every role reads anyway (a tenant is a pair of schemas
-- <slug> and tenant_<slug> owned by cot_owner, a role made with the first tenant; no slug starts with tenant_),
-- with no rights of its own: calling it tells nobody more than pg_namespace.
CREATE FUNCTION cot.tenant_of_schema(schema_name text) RETURNS text
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

CREATE EVENT TRIGGER cot_guard_ddl ON ddl_command_end EXECUTE FUNCTION cot.guard_ddl();
CREATE EVENT TRIGGER cot_guard_drop ON sql_drop EXECUTE FUNCTION cot.guard_drop();

-- Generated documentation: read by superusers and by each tenant's admin and
-- user roles, which are granted EXECUTE per tenant.
REVOKE ALL ON FUNCTION cot.record_schema(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.openapi(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.typescript(text) FROM PUBLIC;

-- After ALTER EXTENSION cot UPDATE: every tenant's generated objects made
-- again as this version makes them (cot.upgrade_tenant), one transaction per
-- tenant, so a tenant that fails is left as it was and the others go on.
-- CALL it outside a transaction block. A procedure that commits may have
-- neither SECURITY DEFINER nor a SET clause: every name is qualified, and
-- cot.upgrade_tenant checks the caller. The report names each tenant
-- upgraded and each that failed, with its SQLSTATE and message.
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
-- A tenant's admins mint short-lived user and anon tokens of their tenant
-- (granted per tenant with the /rpc/issue_token wrapper).
REVOKE ALL ON FUNCTION cot.issue_tenant_token(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cot.create_tenant(text, jsonb), cot.drop_tenant(text, boolean),
    cot.create_api_key(text, text, jsonb), cot.revoke_api_key(text),
    cot.issue_token(text, text, text, integer), cot.tenants() TO cot_platform;
-- Custom field types (docs/field-types.md) are platform-wide: registered by
-- the platform role or a superuser; cot.field_types() stays PUBLIC (it lists
-- the definitions, and which fields use each only to the platform).
REVOKE ALL ON FUNCTION cot.register_field_type(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.unregister_field_type(text) FROM PUBLIC;
REVOKE ALL ON cot.field_types FROM PUBLIC;
-- cot.query runs as the tenant role and reads the definitions of the types
-- its fields use (the same cot.field_types() shows everyone).
GRANT SELECT (name, definition) ON cot.field_types TO PUBLIC;
GRANT EXECUTE ON FUNCTION cot.register_field_type(jsonb), cot.unregister_field_type(text) TO cot_platform;

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

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA cot_platform FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA cot_platform TO cot_platform;

-- ===== Webhooks (docs/webhooks.md) ==========================================
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
