-- Values for sqlsmith to feed Cot's functions with (tests/reliability/sqlsmith.sh).
-- sqlsmith builds arguments from columns of the tables it reads, from NULLs
-- and from casts; a table of real tenant and entity names, query documents,
-- definitions, bundles, tokens and keys makes its calls reach past argument
-- checking into Cot's parsers, compilers and planners.
\set ON_ERROR_STOP 1
\o /dev/null
SET client_min_messages = warning;

CREATE SCHEMA fuzz;
CREATE TABLE fuzz.inputs (
    tenant text,
    entity text,
    field text,
    role text,
    doc jsonb,
    def jsonb,
    options jsonb,
    secret text
);

INSERT INTO fuzz.inputs (tenant, entity, field, role, doc, def, options, secret) VALUES
  ('rel_a', 'orders', 'title', 'user', '{}', '{"tenant": "rel_a", "name": "extra", "fields": [{"name": "x", "type": "text"}]}', '{}', NULL),
  ('rel_a', 'orders', 'status', 'admin',
   '{"select": ["title", "status", {"customer": ["name", {"country": ["code"]}]}, {"products": ["name"]}], "where": {"status": "paid"}, "order": "-total", "limit": 5}',
   '{"tenant": "rel_a", "name": "orders", "fields": [{"name": "title", "type": "text"}]}', '{"allow_data_loss": true}', NULL),
  ('rel_a', 'customers', 'name', 'anon',
   '{"select": ["name", {"orders": {"select": ["title"], "where": {"total": {"gt": 10}}, "order": ["-total"], "limit": 2}}], "count": true}',
   '{"tenant": "rel_a", "name": "customers", "fields": [{"name": "name", "type": "integer"}]}', '{"dry_run": true}', 'not-a-key'),
  ('rel_a', 'notes', 'body', 'user',
   '{"select": ["body", {"parent": ["body"]}, {"links": ["body"]}], "where": {"or": [{"body": {"like": "note 1%"}}, {"not": {"parent_id": {"is_null": true}}}]}}',
   '{"tenant": "rel_a", "name": "notes2", "fields": [{"name": "body", "type": "text"}, {"name": "parent", "type": "relation", "kind": "many_to_one", "target": "notes"}]}', '{}', NULL),
  ('rel_a', 'all_arrays', 'a_uuid', 'admin',
   '{"where": {"a_bigint": {"contains": [1]}, "a_float": {"overlaps": [0.5, 1.5]}}, "order": [{"field": "created_at", "dir": "desc"}]}',
   '{"tenant": "rel_a", "name": "all_arrays", "fields": [{"name": "a_bigint", "type": "array", "items": "text"}]}', '{}', NULL),
  ('rel_b', 'orders', 'meta', 'user',
   '{"where": {"meta": {"contains": {"source": "web"}}, "tags": {"overlaps": ["t1"]}, "placed_on": {"gte": "2026-01-10"}}, "cursor": "eyJrIjpbIngiXSwibyI6ImlkIn0"}',
   '{"name": "orders", "fields": []}', '{"force": true}', NULL),
  ('rel_b', 'orders', 'ref', 'user',
   '{"select": "*", "where": {"title": {"match": "fragile -order"}, "qty": {"in": [1, 2, 3]}}, "offset": 3, "limit": 1000}',
   '[{"tenant": "rel_b", "name": "a1", "fields": [{"name": "r", "type": "relation", "kind": "many_to_one", "target": "a2"}]}, {"tenant": "rel_b", "name": "a2", "fields": []}]', '{}', NULL),
  ('rel_b', 'products', 'price', 'anon', '{"select": ["nope"], "where": {"price": {"lt": "abc"}}}',
   '{"entities": [{"name": "gadgets", "fields": [{"name": "n", "type": "text"}]}]}', '{"prune": true}', NULL),
  ('rel_c', 'countries', 'code', 'user', '{"where": {"code": {"ilike": "a%"}}, "order": "code", "limit": 0, "count": "exact"}',
   '{"version": 1, "entities": []}', '{}', NULL),
  ('nobody', 'ghost', 'x', 'platform', '{"select": [{"a": [{"b": [{"c": [{"d": ["e"]}]}]}]}]}', '"just a string"', '[]', 'eyJhbGciOiJIUzI1NiJ9.e30.x'),
  (NULL, NULL, NULL, NULL, 'null', '{"tenant": "rel_c", "name": "Bad Name", "fields": [{"name": "select", "type": "text"}]}', NULL, NULL),
  ('', '', '', '', '[]', '{}', '{}', '');
GRANT USAGE ON SCHEMA fuzz TO PUBLIC;
GRANT SELECT ON fuzz.inputs TO PUBLIC;

-- Wrappers that call Cot and answer with the SQLSTATE instead of failing:
-- sqlsmith stops generating calls that keep failing, and a call of Cot with
-- random arguments nearly always fails. Through these it keeps calling Cot
-- with whatever values it finds (the inputs above, definitions in
-- cot.entities, names in the catalog), in any query shape. An internal
-- error (XX000) or a syntax error (42601) from Cot is raised again, so that
-- the server log and the report see it.
DO $do$
DECLARE
    f record;
BEGIN
    FOR f IN SELECT * FROM (VALUES
        ('query', 'tenant text, entity text, doc jsonb', 'cot.query(tenant, entity, doc)'),
        ('validate_entity', 'def jsonb', 'cot.validate_entity(def)'),
        ('plan_entity', 'def jsonb, options jsonb', 'cot.plan_entity(def, coalesce(options, ''{}''))'),
        ('create_entity', 'def jsonb', 'cot.create_entity(def)'),
        ('create_entities', 'defs jsonb', 'cot.create_entities(defs)'),
        ('alter_entity', 'def jsonb, options jsonb', 'cot.alter_entity(def, coalesce(options, ''{}''))'),
        ('drop_entity', 'tenant text, entity text, options jsonb', 'cot.drop_entity(tenant, entity, coalesce(options, ''{}''))'),
        ('apply_schema', 'tenant text, bundle jsonb, options jsonb', 'cot.apply_schema(tenant, bundle, coalesce(options, ''{}''))'),
        ('export_schema', 'tenant text', 'cot.export_schema(tenant)'),
        ('entity', 'tenant text, entity text', 'cot.entity(tenant, entity)'),
        ('record_schema', 'tenant text, entity text', 'cot.record_schema(tenant, entity)'),
        ('openapi', 'tenant text, options jsonb', 'cot.openapi(tenant, coalesce(options, ''{}''))'),
        ('typescript', 'tenant text', 'cot.typescript(tenant)'),
        ('check', 'tenant text', '(SELECT count(*) FROM cot.check(tenant))'),
        ('create_api_key', 'tenant text, role text, options jsonb', 'cot.create_api_key(tenant, role, coalesce(options, ''{}''))'),
        ('api_key_claims', 'key text', 'cot.api_key_claims(key)'),
        ('issue_token', 'tenant text, role text, sub text', 'cot.issue_token(tenant, role, sub)'),
        ('set_claims', 'claims text', 'set_config(''request.jwt.claims'', claims, true)'),
        ('jwt_claim', 'name text', 'cot.jwt_claim(name)'),
        ('create_tenant', 'slug text, settings jsonb', 'cot.create_tenant(slug, coalesce(settings, ''{}''))'),
        ('drop_tenant', 'slug text', 'cot.drop_tenant(slug, true)')
    ) AS v(name, args, call) LOOP
        EXECUTE format($f$
            CREATE FUNCTION fuzz.try_%s(%s) RETURNS text
            LANGUAGE plpgsql AS $body$
            BEGIN
                PERFORM %s;
                RETURN 'ok';
            EXCEPTION
                WHEN internal_error OR syntax_error THEN RAISE;
                WHEN OTHERS THEN RETURN SQLSTATE;
            END
            $body$$f$, f.name, f.args, f.call);
    END LOOP;
END
$do$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA fuzz TO PUBLIC;
