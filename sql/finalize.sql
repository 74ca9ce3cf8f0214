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
REVOKE ALL ON FUNCTION cot.drop_entity(text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.entity(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION cot.entities(text) FROM PUBLIC;
