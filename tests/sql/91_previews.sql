-- Previews never lie: whatever cot.alter_entity would refuse at apply time,
-- cot.plan_entity counts first, at the field's pointer with a hint: a type
-- change into an enum, email or url, a limit on a retyped field, a unique
-- field added with one default for every row. rename_values maps old values
-- into an enum from an integer or text; a change writing rows keeps their
-- updated_at; what a change does to the rows already there is in the plan.
BEGIN;
SELECT plan(24);
SET LOCAL client_min_messages = warning;

CREATE FUNCTION pg_temp.def(entity text) RETURNS jsonb
LANGUAGE sql AS $$ SELECT cot.entity('t91', entity) - 'referenced_by' $$;

CREATE FUNCTION pg_temp.with_field(def jsonb, fname text, patch jsonb) RETURNS jsonb
LANGUAGE sql AS $$
    SELECT jsonb_set(def, '{fields}', coalesce((
        SELECT jsonb_agg(CASE WHEN f->>'name' = fname
                              THEN (SELECT jsonb_object_agg(k, v) FROM jsonb_each(f || patch) AS e(k, v) WHERE v <> 'null')
                              ELSE f END ORDER BY i)
          FROM jsonb_array_elements(def->'fields') WITH ORDINALITY AS x(f, i)), '[]'))
$$;

CREATE FUNCTION pg_temp.plus_field(def jsonb, field jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT jsonb_set(def, '{fields}', (def->'fields') || jsonb_build_array(field)) $$;

-- The refusals of a plan as 'sqlstate pointer: message'.
CREATE FUNCTION pg_temp.refused(p jsonb) RETURNS text[]
LANGUAGE sql AS $$
    SELECT coalesce(array_agg(format('%s %s: %s', r->>'sqlstate', r->>'pointer', r->>'message') ORDER BY i), '{}')
      FROM jsonb_array_elements(p->'refused') WITH ORDINALITY AS x(r, i)
$$;

-- The notes of a plan's steps, in order.
CREATE FUNCTION pg_temp.notes(p jsonb) RETURNS text[]
LANGUAGE sql AS $$
    SELECT coalesce(array_agg(format('%s: %s', c->>'step', c->>'note') ORDER BY i), '{}')
      FROM jsonb_array_elements(p->'changes') WITH ORDINALITY AS x(c, i) WHERE c ? 'note'
$$;

SELECT lives_ok($$SELECT cot.create_tenant('t91')$$, 'tenant t91');
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t91", "name": "tasks", "fields": [
    {"name": "title", "type": "text"},
    {"name": "priority", "type": "integer"},
    {"name": "contact", "type": "text"},
    {"name": "site", "type": "text"},
    {"name": "size", "type": "text"}]}')$$, 'tasks');
INSERT INTO t91.tasks (title, priority, contact, site, size)
VALUES ('a', 1, 'ann@example.com', 'https://example.com', '3'),
       ('b', 2, 'not an address', 'example.com', '12'),
       ('c', 2, NULL, NULL, 'big');
-- An old updated_at (the trigger would set it to now(), which is this
-- transaction's start all along).
SET LOCAL session_replication_role = replica;
UPDATE tenant_t91.tasks SET updated_at = '2020-01-01 00:00:00+00';
SET LOCAL session_replication_role = origin;

-- integer -> enum: the values that are not in the list are counted.
SELECT is(pg_temp.refused(cot.plan_entity(pg_temp.with_field(pg_temp.def('tasks'), 'priority', '{"type": "enum", "values": ["low", "high"]}'))),
          ARRAY['23514 /fields/1/values: 3 rows break the new rule on "priority" (tasks_priority_values): it must be one of "low", "high"'],
          'integer -> enum: the 3 rows are counted by plan_entity, at the field''s values');
SELECT matches((cot.plan_entity(pg_temp.with_field(pg_temp.def('tasks'), 'priority', '{"type": "enum", "values": ["low", "high"]}'))->'refused'->0->>'hint'),
               'rename_values.*"priority"', '... and the hint names rename_values for the field');
SELECT is(cot_test.error_of($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('tasks'), 'priority', '{"type": "enum", "values": ["low", "high"]}'))$$)->>'sqlstate',
          '23514', '... alter_entity refuses it with the same count (23514), not a bare VALIDATE failure');
SELECT is(pg_temp.refused(cot.plan_entity(pg_temp.with_field(pg_temp.def('tasks'), 'priority', '{"type": "enum", "values": ["low", "high"]}'),
                                          '{"rename_values": {"priority": {"1": "low"}}}')),
          ARRAY['23514 /fields/1/values: 2 rows break the new rule on "priority" (tasks_priority_values): it must be one of "low", "high"'],
          '... rename_values {"1": "low"} leaves the 2 rows holding 2');
SELECT is(pg_temp.refused(cot.plan_entity(pg_temp.with_field(pg_temp.def('tasks'), 'priority', '{"type": "enum", "values": ["low", "high"]}'),
                                          '{"rename_values": {"priority": {"1": "low", "2": "high"}}}')),
          '{}', '... mapping both: nothing refused');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('tasks'), 'priority', '{"type": "enum", "values": ["low", "high"]}'),
                                          '{"rename_values": {"priority": {"1": "low", "2": "high"}}}')$$,
                '... and made');
SELECT is((SELECT string_agg(title || '=' || priority, ' ' ORDER BY title) FROM t91.tasks), 'a=low b=high c=high', '... the rows hold the mapped values');
SELECT is((SELECT count(*)::int FROM tenant_t91.tasks WHERE updated_at <> '2020-01-01 00:00:00+00'), 0,
          '... and no row''s updated_at moved: a schema change is not an edit');
UPDATE t91.tasks SET title = 'a2' WHERE title = 'a';
SELECT is((SELECT count(*)::int FROM tenant_t91.tasks WHERE updated_at <> '2020-01-01 00:00:00+00'), 1,
          '... while an UPDATE of a record still moves its updated_at');

-- text -> email, url: the column stays text, the format is counted.
SELECT is(pg_temp.refused(cot.plan_entity(pg_temp.with_field(pg_temp.with_field(pg_temp.def('tasks'), 'contact', '{"type": "email"}'), 'site', '{"type": "url"}'))),
          ARRAY['23514 /fields/2/type: 1 row breaks the new rule on "contact" (tasks_contact_format): it must be a valid email address',
                '23514 /fields/3/type: 1 row breaks the new rule on "site" (tasks_site_format): it must be a valid URL'],
          'text -> email and url: each bad row counted, at the field''s type');

-- text -> integer with a max: the values that convert are held to the max;
-- the one that does not convert is counted as data loss.
SELECT is(pg_temp.refused(cot.plan_entity(pg_temp.with_field(pg_temp.def('tasks'), 'size', '{"type": "integer", "max": 10}'))),
          ARRAY['22000 /fields/4/type: 1 row holds a value of "size" that is not a valid integer',
                '23514 /fields/4/max: 1 row breaks the new rule on "size" (tasks_size_max): it must be at most 10'],
          'text -> integer with max 10: "big" does not convert, 12 breaks the max; both counted');
SELECT is(pg_temp.refused(cot.plan_entity(pg_temp.with_field(pg_temp.def('tasks'), 'size', '{"type": "integer", "max": 10}'), '{"allow_data_loss": true}')),
          ARRAY['23514 /fields/4/max: 1 row breaks the new rule on "size" (tasks_size_max): it must be at most 10'],
          '... with allow_data_loss "big" becomes NULL, which the max lets through; 12 still breaks it');
SELECT is(cot_test.error_of($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('tasks'), 'size', '{"type": "integer", "max": 10}'), '{"allow_data_loss": true}')$$)->>'sqlstate',
          '23514', '... and alter_entity refuses it before running anything');
UPDATE t91.tasks SET size = '9' WHERE size = '12';
SELECT is(pg_temp.refused(cot.plan_entity(pg_temp.with_field(pg_temp.def('tasks'), 'size', '{"type": "integer", "max": 10}'), '{"allow_data_loss": true}')),
          '{}', '... once 12 is fixed, nothing is refused');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('tasks'), 'size', '{"type": "integer", "max": 10}'), '{"allow_data_loss": true}')$$,
                '... and the change is made');

-- text -> integer made unique: " 3" and "3" become one value.
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.plus_field(pg_temp.def('tasks'), '{"name": "code", "type": "text"}'))$$, 'a code field');
UPDATE t91.tasks SET code = CASE title WHEN 'a2' THEN '3' WHEN 'b' THEN ' 3' ELSE '4' END;
SELECT is(pg_temp.refused(cot.plan_entity(pg_temp.with_field(pg_temp.def('tasks'), 'code', '{"type": "integer", "unique": true}'))),
          ARRAY['23505 /fields: 2 rows repeat a value of (code) made unique'],
          'text -> integer, unique: "3" and " 3" convert to one value, counted');

-- A unique field added with a default: every row would hold the same value.
SELECT is(pg_temp.refused(cot.plan_entity(pg_temp.plus_field(pg_temp.def('tasks'), '{"name": "ref", "type": "text", "unique": true, "default": "x"}'))),
          ARRAY['23505 /fields: 3 rows repeat a value of (ref) made unique'],
          'a unique field added with one default: the 3 rows would repeat it');

-- What a change does to the rows already there.
SELECT is(pg_temp.notes(cot.plan_entity(pg_temp.plus_field(pg_temp.plus_field(pg_temp.def('tasks'),
              '{"name": "seen", "type": "timestamp", "default": "now"}'), '{"name": "rank", "type": "integer", "default": 5}'))),
          ARRAY['add_column: existing rows get the time of this change (now() is evaluated once, for every row)',
                'add_column: existing rows get the default 5'],
          'a "now" default and a literal one: the plan says what the existing rows get');
SELECT is(pg_temp.notes(cot.plan_entity(pg_temp.with_field(pg_temp.def('tasks'), 'title', '{"type": "json"}'), '{"allow_data_loss": true}')),
          ARRAY['alter_column_type: values set to NULL or rounded'],
          'a conversion losing values: the plan counts and says so');
SELECT is(pg_temp.notes(cot.plan_entity(pg_temp.with_field(pg_temp.def('tasks'), 'priority', '{"values": ["low", "high", "top"]}'),
                                        '{"rename_values": {"priority": {"high": "top"}}}')),
          ARRAY['rename_value: rows holding the old value are written again; their updated_at is kept'],
          'renamed enum values: the plan says rows are written and updated_at is kept');
SELECT is(pg_temp.notes(cot.plan_entity(pg_temp.with_field(pg_temp.def('tasks'), 'size', '{"type": "bigint", "max": null}'))),
          ARRAY['alter_column_type: every row is written again, under ACCESS EXCLUSIVE; updated_at is kept'],
          'a table rewrite: the plan says so');

SELECT * FROM finish();
ROLLBACK;
