-- bench/scale_http.sh, the Cot side: tenant acme (made by the script), two
-- entities defined with Cot, rows inserted as ten users (owner_id comes from
-- the sub claim, as it does for a request).
SELECT cot.create_entities('[
 {"tenant": "acme", "name": "customers", "fields": [
   {"name": "name", "type": "text", "required": true, "max_length": 200},
   {"name": "email", "type": "text", "unique": true},
   {"name": "city", "type": "text", "max_length": 100},
   {"name": "tier", "type": "enum", "values": ["bronze", "silver", "gold"], "default": "bronze"}],
  "access": {"read": "tenant", "create": "tenant", "update": "owner", "delete": "owner"}},
 {"tenant": "acme", "name": "orders", "fields": [
   {"name": "title", "type": "text", "required": true, "max_length": 200},
   {"name": "status", "type": "enum", "values": ["draft", "paid", "shipped"], "default": "draft"},
   {"name": "total", "type": "decimal", "precision": 12, "scale": 2, "min": 0},
   {"name": "quantity", "type": "integer", "min": 1},
   {"name": "note", "type": "text"},
   {"name": "customer", "type": "relation", "kind": "many_to_one", "target": "customers"}],
  "indexes": [{"fields": ["status"]}],
  "access": {"read": "tenant", "create": "tenant", "update": "owner", "delete": "owner"}}
]'::jsonb);

DO $$
BEGIN
  FOR u IN 1..10 LOOP
    PERFORM set_config('request.jwt.claims', json_build_object('sub', 'user-' || u)::text, true);
    INSERT INTO tenant_acme.customers (name, email, city, tier)
    SELECT 'customer ' || i, 'c' || i || '@example.com', 'city ' || (i % 37),
           (ARRAY['bronze', 'silver', 'gold'])[1 + i % 3]
    FROM generate_series(u, 500, 10) AS i;
  END LOOP;
  FOR u IN 1..10 LOOP
    PERFORM set_config('request.jwt.claims', json_build_object('sub', 'user-' || u)::text, true);
    INSERT INTO tenant_acme.orders (title, status, total, quantity, note, customer_id)
    SELECT 'order ' || i, (ARRAY['draft', 'paid', 'shipped'])[1 + i % 3], (i % 997) * 1.25, 1 + i % 9,
           CASE WHEN i % 4 = 0 THEN repeat('n', 40) END,
           (SELECT id FROM tenant_acme.customers ORDER BY id OFFSET (i * 7919) % 500 LIMIT 1)
    FROM generate_series(u, 20000, 10) AS i;
  END LOOP;
END
$$;
ANALYZE tenant_acme.customers, tenant_acme.orders;
