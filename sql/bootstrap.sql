-- Cot's meta-tables and SQL helpers, created before the Rust functions.
--
-- Rules (see docs/generated-objects.md):
--  * no OIDs are stored: names and uuids survive dump/restore, OIDs do not;
--  * every meta-table and sequence is registered with pg_extension_config_dump,
--    so pg_dump keeps the rows while the tables stay extension members;
--  * nothing is inserted here: rows seeded by an install script make the
--    restore's COPY collide with them.

CREATE TABLE cot.tenants (
    id          uuid PRIMARY KEY,
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z][a-z0-9_]{0,29}$'),
    name        text NOT NULL,
    settings    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- Which PostgREST instances serve it (docs/gateway.md, "Several PostgREST instances"): cot.pre_config
    -- gives an authenticator bound to a group only that group's tenants.
    api_group   text NOT NULL DEFAULT 'default' CHECK (api_group ~ '^[a-z][a-z0-9_]{0,29}$')
);
COMMENT ON TABLE cot.tenants IS 'One row per tenant: its slug names schemas tenant_<slug> and <slug> and roles cot_<slug>_*';

CREATE TABLE cot.entities (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES cot.tenants (id) ON DELETE CASCADE,
    name        text NOT NULL,
    label       text NOT NULL,
    description text,
    options     jsonb NOT NULL DEFAULT '{}',
    definition  jsonb COMPRESSION lz4 NOT NULL,
    version     integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);
COMMENT ON TABLE cot.entities IS 'One row per entity; definition holds the normalized definition with ids';

CREATE TABLE cot.fields (
    id          uuid PRIMARY KEY,
    entity_id   uuid NOT NULL REFERENCES cot.entities (id) ON DELETE CASCADE,
    name        text NOT NULL,
    type        text NOT NULL,
    options     jsonb NOT NULL DEFAULT '{}',
    position    integer NOT NULL CHECK (position >= 1),
    UNIQUE (entity_id, name),
    UNIQUE (entity_id, position)
);
COMMENT ON TABLE cot.fields IS 'One row per user field (system columns id, created_at, updated_at are implied); options is the normalized field';

CREATE TABLE cot.relationships (
    id                uuid PRIMARY KEY REFERENCES cot.fields (id) ON DELETE CASCADE,
    tenant_id         uuid NOT NULL REFERENCES cot.tenants (id) ON DELETE CASCADE,
    kind              text NOT NULL CHECK (kind IN ('many_to_one', 'one_to_one', 'one_to_many', 'many_to_many')),
    source_entity_id  uuid NOT NULL REFERENCES cot.entities (id) ON DELETE CASCADE,
    target_entity_id  uuid NOT NULL REFERENCES cot.entities (id) ON DELETE CASCADE,
    on_delete         text CHECK (on_delete IN ('restrict', 'cascade', 'set_null')),
    fk_column         text,
    inverse_field_id  uuid REFERENCES cot.fields (id) ON DELETE CASCADE,
    junction_table    text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind IN ('many_to_one', 'one_to_one')) = (fk_column IS NOT NULL AND on_delete IS NOT NULL)),
    CHECK ((kind = 'one_to_many') = (inverse_field_id IS NOT NULL)),
    CHECK ((kind = 'many_to_many') = (junction_table IS NOT NULL))
);
CREATE INDEX relationships_target_idx ON cot.relationships (target_entity_id);
CREATE INDEX relationships_source_idx ON cot.relationships (source_entity_id);
COMMENT ON TABLE cot.relationships IS 'One row per relation field (its id is the field''s): kind, source and target entities, and the foreign-key column, inverse field or junction table';

-- Definitions and the ledger's SQL are a few kB per change: lz4 compresses them
-- several times faster than the default pglz.
-- The ledger outlives what it describes: no foreign keys, so dropping an entity
-- or a tenant keeps its history.
CREATE SEQUENCE cot.migrations_id_seq;
CREATE TABLE cot.migrations (
    id                 bigint PRIMARY KEY DEFAULT nextval('cot.migrations_id_seq'),
    tenant_id          uuid NOT NULL,
    tenant             text NOT NULL,
    entity_id          uuid,
    entity             text,
    operation          text NOT NULL CONSTRAINT migrations_operation_check
                       CHECK (operation IN ('create_tenant', 'drop_tenant', 'create_entity', 'alter_entity', 'drop_entity',
                                            'drop_relation', 'upgrade_tenant', 'install_module', 'upgrade_module',
                                            'uninstall_module')),
    plan               jsonb COMPRESSION lz4 NOT NULL,
    sql                text[] COMPRESSION lz4 NOT NULL,
    definition_before  jsonb COMPRESSION lz4,
    definition_after   jsonb COMPRESSION lz4,
    applied_by         text NOT NULL,
    claims             jsonb,
    applied_at         timestamptz NOT NULL DEFAULT now()
);
ALTER SEQUENCE cot.migrations_id_seq OWNED BY cot.migrations.id;
CREATE INDEX migrations_tenant_idx ON cot.migrations (tenant_id, id);
COMMENT ON TABLE cot.migrations IS 'Ledger of every change Cot applied: its plan, the SQL it ran, the definition before and after, who and when';

-- Login roles PostgREST connects as: each is made a member of every tenant's
-- roles (and of cot_anon), now and for tenants created later.
CREATE TABLE cot.authenticators (
    role        text PRIMARY KEY,
    added_at    timestamptz NOT NULL DEFAULT now(),
    -- NULL: its PostgREST serves every tenant; else only this group's.
    api_group   text CHECK (api_group ~ '^[a-z][a-z0-9_]{0,29}$'),
    -- Its PostgREST runs without cot.pre_request: JWTs only, no API keys, no
    -- anonymous access (cot.set_authenticator_tokens_only).
    tokens_only boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE cot.authenticators IS 'Login roles (PostgREST authenticators) that may switch to every tenant''s roles';

-- API keys: the secret is shown once, at creation; only its SHA-256 is kept,
-- with a short public prefix to find it by.
CREATE TABLE cot.api_keys (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES cot.tenants (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('anon', 'user', 'admin')),
    prefix      text NOT NULL UNIQUE,
    secret_hash bytea NOT NULL,
    label       text,
    sub         text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,
    revoked_at  timestamptz
);
COMMENT ON TABLE cot.api_keys IS 'API keys: the SHA-256 of each secret, never the secret; the role and claims a key stands for';

SELECT pg_catalog.pg_extension_config_dump('cot.authenticators', '');
SELECT pg_catalog.pg_extension_config_dump('cot.api_keys', '');
SELECT pg_catalog.pg_extension_config_dump('cot.tenants', '');
SELECT pg_catalog.pg_extension_config_dump('cot.entities', '');
SELECT pg_catalog.pg_extension_config_dump('cot.fields', '');
SELECT pg_catalog.pg_extension_config_dump('cot.relationships', '');
SELECT pg_catalog.pg_extension_config_dump('cot.migrations', '');
SELECT pg_catalog.pg_extension_config_dump('cot.migrations_id_seq', '');

-- The secret Cot signs the tokens it mints with (cot.issue_token), stored once
-- by a superuser (cot.set_jwt_secret): PostgREST's jwt-secret. One row at
-- most; no role but the extension's owner reads it. Dumped with the other
-- meta-tables, so a restored database mints tokens its PostgREST accepts.
CREATE TABLE cot.jwt_secret (
    only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    secret    text NOT NULL CHECK (octet_length(secret) >= 32),
    set_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE cot.jwt_secret IS 'The secret cot.issue_token signs with (PostgREST''s jwt-secret); set with cot.set_jwt_secret';
SELECT pg_catalog.pg_extension_config_dump('cot.jwt_secret', '');

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

REVOKE ALL ON ALL TABLES IN SCHEMA cot FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA cot FROM PUBLIC;

-- Keeps the system columns of every generated table: created_at is set once,
-- updated_at on every write; clients cannot forge either; a record's id never
-- changes (links, history and caches name records by it). pg_dump restores
-- data before it creates triggers, so restored rows keep their timestamps.
CREATE FUNCTION cot.system_columns() RETURNS trigger
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

-- The same for junction tables of many-to-many relations, which have created_at only.
CREATE FUNCTION cot.junction_columns() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.created_at := pg_catalog.now();
    ELSE
        NEW.created_at := OLD.created_at;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION cot.junction_columns() IS 'Trigger on every Cot junction table: sets created_at on insert and keeps it on update';

-- CHECK constraints cannot hold subqueries; this lets an array of e-mails or
-- URLs be held to the item pattern. Every name is schema-qualified, since a
-- CHECK runs under the writer's search_path.
CREATE FUNCTION cot.array_items_match(items text[], pattern text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT pg_catalog.bool_and(item OPERATOR(pg_catalog.~) pattern) IS NOT FALSE
        FROM pg_catalog.unnest(items) AS item);
COMMENT ON FUNCTION cot.array_items_match(text[], text) IS 'True when every item of the array matches the pattern (used by CHECK constraints on arrays of email and url)';

-- Whether a value converts to a type, without failing: what a type change
-- counts before it runs (rows that would not convert), and how it sets such
-- values to NULL when the caller allowed data loss. The cast is the one
-- `ALTER COLUMN ... TYPE t USING c::t` performs. One subtransaction per call:
-- used only on the rows of a type change.
CREATE FUNCTION cot.castable(value anyelement, target text) RETURNS boolean
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- The type with its modifier (numeric(3,2)): a regtype would drop it. Only
    -- a type name gets as far as EXECUTE: anything else fails to_regtype.
    IF pg_catalog.to_regtype(target) IS NULL THEN
        RAISE EXCEPTION 'cot.castable: % is not a type', target USING ERRCODE = '42704';
    END IF;
    EXECUTE 'SELECT $1::' OPERATOR(pg_catalog.||) target USING value;
    RETURN true;
EXCEPTION WHEN data_exception THEN
    RETURN false;
END
$$;
COMMENT ON FUNCTION cot.castable(anyelement, text) IS 'True when the value converts to the type (used by schema changes to count and skip values that do not)';

-- Out-of-band DDL on a tenant's schemas, when cot.drift = 'record' (the
-- default, 'refuse', stops it instead). See cot.guard_ddl.
CREATE SEQUENCE cot.drift_log_id_seq;
CREATE TABLE cot.drift_log (
    id               bigint PRIMARY KEY DEFAULT nextval('cot.drift_log_id_seq'),
    schema_name      text NOT NULL,
    command_tag      text NOT NULL,
    object_type      text,
    object_identity  text,
    role_name        text NOT NULL DEFAULT current_user,
    at               timestamptz NOT NULL DEFAULT now()
);
ALTER SEQUENCE cot.drift_log_id_seq OWNED BY cot.drift_log.id;
COMMENT ON TABLE cot.drift_log IS 'DDL on Cot-managed schemas that did not come from Cot (recorded when cot.drift = record)';
SELECT pg_catalog.pg_extension_config_dump('cot.drift_log', '');
SELECT pg_catalog.pg_extension_config_dump('cot.drift_log_id_seq', '');
REVOKE ALL ON cot.drift_log FROM PUBLIC;

-- A relation no query reads, whose relcache entry Cot invalidates whenever a
-- tenant's model changes: every backend's cot.query drops its cached models.
-- Invalidating cot.entities itself did the same but also threw away every
-- kept plan that reads cot.entities, in every backend, on every change.
CREATE VIEW cot.model_signal AS SELECT NULL::integer AS nothing WHERE false;
COMMENT ON VIEW cot.model_signal IS 'Holds nothing: its relcache invalidation tells backends that a tenant''s model changed';
REVOKE ALL ON cot.model_signal FROM PUBLIC;

-- Custom field types (docs/field-types.md): one row per registered type, its
-- definition in Cot's own vocabulary (a base type and checks, never SQL).
-- Platform-wide, like the roles; fields refer to a type by its name.
CREATE TABLE cot.field_types (
    name          text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]*$' AND octet_length(name) <= 63),
    definition    jsonb NOT NULL CHECK (jsonb_typeof(definition) = 'object' AND definition->>'name' = name),
    registered_by text NOT NULL DEFAULT CURRENT_USER,
    registered_at timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE cot.field_types IS 'Custom field types: a base type and checks, compiled into the CHECK constraints of every field of the type (cot.register_field_type)';
SELECT pg_catalog.pg_extension_config_dump('cot.field_types', '');
