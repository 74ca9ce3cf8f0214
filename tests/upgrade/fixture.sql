-- What an install of the previous release holds before it is upgraded: two
-- tenants with entities of every field type, every kind of relation, owner and
-- public access rules, an API key, a model applied as a bundle, and rows.
-- Written against the previous release's SQL surface (it runs before the
-- upgrade); nothing here may use a function newer than that release.
\set ON_ERROR_STOP on
SET client_min_messages = warning;

SELECT cot.create_tenant('up_a', '{"name": "Upgrade A"}');
SELECT cot.create_tenant('up_b', '{"name": "Upgrade B"}');
SELECT cot.add_authenticator('authenticator');
SELECT cot.create_api_key('up_a', 'user', '{"label": "fixture", "sub": "key-user"}');

SELECT cot.create_entity('{
  "tenant": "up_a", "name": "every_type",
  "access": {"read": "public", "create": "tenant", "update": "tenant", "delete": "admin"},
  "fields": [
    {"name": "a_text", "type": "text", "max_length": 50, "default": "hello"},
    {"name": "an_integer", "type": "integer", "min": 0, "default": 7},
    {"name": "a_bigint", "type": "bigint"},
    {"name": "a_decimal", "type": "decimal", "precision": 10, "scale": 2, "default": "1.50"},
    {"name": "a_float", "type": "float"},
    {"name": "a_boolean", "type": "boolean", "default": true},
    {"name": "a_date", "type": "date", "default": "today"},
    {"name": "a_timestamp", "type": "timestamp", "default": "now"},
    {"name": "a_time", "type": "time"},
    {"name": "a_uuid", "type": "uuid", "default": "uuid"},
    {"name": "a_json", "type": "json"},
    {"name": "an_enum", "type": "enum", "values": ["low", "high"], "default": "low"},
    {"name": "an_email", "type": "email", "unique": true},
    {"name": "a_url", "type": "url"},
    {"name": "texts", "type": "array", "items": "text", "index": true},
    {"name": "numbers", "type": "array", "items": "integer"}
  ]
}');

SELECT cot.create_entity('{"tenant": "up_a", "name": "people",
  "fields": [{"name": "name", "type": "text", "required": true}],
  "access": {"read": "tenant", "create": "tenant", "update": "tenant", "delete": "tenant"}}');
SELECT cot.create_entity('{"tenant": "up_a", "name": "labels",
  "fields": [{"name": "name", "type": "text", "required": true}],
  "access": {"read": "tenant", "create": "tenant", "update": "tenant", "delete": "tenant"}}');
SELECT cot.create_entity('{"tenant": "up_a", "name": "notes",
  "access": {"read": "owner", "create": "tenant", "update": "owner", "delete": "owner"},
  "fields": [
    {"name": "body", "type": "text", "default": "(empty)"},
    {"name": "author", "type": "relation", "kind": "many_to_one", "target": "people", "on_delete": "set_null"},
    {"name": "profile", "type": "relation", "kind": "one_to_one", "target": "people", "on_delete": "cascade"},
    {"name": "labels", "type": "relation", "kind": "many_to_many", "target": "labels"},
    {"name": "parent", "type": "relation", "kind": "many_to_one", "target": "notes", "on_delete": "cascade"}
  ]}');
SELECT cot.alter_entity(jsonb_set(cot.entity('up_a', 'people'), '{fields}',
  cot.entity('up_a', 'people')->'fields' || '[{"name": "notes", "type": "relation", "kind": "one_to_many", "target": "notes", "inverse": "author"}]'));

-- B's model arrives as a bundle.
SELECT cot.apply_schema('up_b', '{"format": "cot.schema/1", "entities": [
  {"name": "customer", "fields": [{"name": "name", "type": "text", "required": true, "index": true},
                                  {"name": "tier", "type": "enum", "values": ["free", "paid"], "default": "free"}],
   "access": {"read": "tenant", "create": "tenant", "update": "owner", "delete": "admin"}},
  {"name": "orders", "fields": [{"name": "total", "type": "decimal", "precision": 12, "scale": 2, "min": 0, "default": 0},
                                {"name": "customer", "type": "relation", "kind": "many_to_one", "target": "customer", "on_delete": "cascade"}],
   "indexes": [{"fields": ["total"]}]}
]}');

-- Rows, written as their owners through the views.
INSERT INTO tenant_up_a.every_type (a_text, an_integer, a_bigint, a_decimal, a_float, a_time, a_json, an_enum, an_email, a_url, texts, numbers)
SELECT 'row ' || i, i, i * 1000000000::bigint, i / 3.0, i / 7.0, '12:00', jsonb_build_object('i', i),
       CASE WHEN i % 2 = 0 THEN 'low' ELSE 'high' END, 'u' || i || '@example.com', 'https://example.com/' || i,
       ARRAY['a', 'b' || i], ARRAY[i, i + 1]
FROM generate_series(1, 50) AS i;
INSERT INTO tenant_up_a.people (name) SELECT 'person ' || i FROM generate_series(1, 20) AS i;
INSERT INTO tenant_up_a.labels (name) SELECT 'label ' || i FROM generate_series(1, 5) AS i;
-- Notes are owned by the sub claim of whoever inserts them (the owner trigger
-- sets owner_id): three end users, in turn.
DO $$
DECLARE
    p record;
    n int := 0;
BEGIN
    FOR p IN SELECT id, name FROM tenant_up_a.people ORDER BY name LOOP
        PERFORM set_config('request.jwt.claims', json_build_object('sub', 'user-' || n % 3)::text, true);
        INSERT INTO tenant_up_a.notes (body, author_id) VALUES ('note ' || p.name, p.id);
        n := n + 1;
    END LOOP;
END
$$;
INSERT INTO tenant_up_a.notes_labels (notes_id, labels_id)
SELECT n.id, l.id FROM tenant_up_a.notes AS n CROSS JOIN tenant_up_a.labels AS l WHERE l.name IN ('label 1', 'label 2');
INSERT INTO tenant_up_b.customer (name, owner_id) SELECT 'customer ' || i, 'user-' || i FROM generate_series(1, 10) AS i;
INSERT INTO tenant_up_b.orders (total, customer_id) SELECT 10 * c.i, c.id
FROM (SELECT id, row_number() OVER (ORDER BY id) AS i FROM tenant_up_b.customer) AS c;
