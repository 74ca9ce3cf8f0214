-- Webhooks, as SQL: creating, listing, changing and deleting them, who may,
-- the options' checks, the address rule at creation, the delivery log and
-- replay, and the tenant /rpc/ wrappers. Delivery itself (the background
-- worker) is tested with real receivers in tests/clients/webhooks.test.mjs.
BEGIN;
SELECT plan(36);
SET LOCAL client_min_messages = warning;

SELECT lives_ok($$SELECT cot.create_tenant('t99a')$$, 'tenant t99a');
SELECT lives_ok($$SELECT cot.create_tenant('t99b')$$, 'tenant t99b');

-- Made, with a generated secret shown once.
SELECT lives_ok($$CREATE TEMP TABLE made AS SELECT cot.create_webhook('t99a',
  '{"url": "https://hooks.example.com/in", "events": ["orders.insert", "orders.*"], "headers": {"Authorization": "Bearer abc"},
    "description": "ERP"}') AS w$$, 'a webhook for t99a');
GRANT SELECT ON made TO PUBLIC;
SELECT matches((SELECT w->>'secret' FROM made), '^whsec_[A-Za-z0-9+/]{32}$', 'its secret: whsec_ and 24 random bytes');
SELECT is((SELECT w->'events' FROM made), '["orders.insert", "orders.*"]', 'its events, as given');
SELECT is((SELECT w->'headers' FROM made), '["Authorization"]', 'header names are shown, not their values');
SELECT is((SELECT w->>'enabled' FROM made), 'true', 'enabled by default');
SELECT ok(NOT (SELECT cot.webhooks('t99a')->0 ? 'secret'), 'cot.webhooks never shows the secret');
SELECT is((SELECT jsonb_array_length(cot.webhooks('t99a'))), 1, 'cot.webhooks lists it');
SELECT is((SELECT jsonb_array_length(cot.webhooks('t99b'))), 0, '... and not for another tenant');
SELECT is((SELECT cot.create_webhook('t99a', '{"url": "https://x.example.com/", "events": ["*"],
  "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}')->>'secret'), 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  'a secret given is kept');

-- The options' checks: every problem at once, 22023.
SELECT is(cot_test.sqlstate_of($$SELECT cot.create_webhook('t99a', '{"url": "ftp://x", "events": []}')$$), '22023',
  'a bad URL and empty events: 22023');
SELECT matches(cot_test.error_of($$SELECT cot.create_webhook('t99a', '{"url": "ftp://x", "events": ["orders.create"], "secret": "abc", "colour": 1}')$$)->>'detail',
  '/colour.*\n/events/0.*\n/secret.*\n/url', 'DETAIL lists each problem at its pointer');
SELECT is(cot_test.sqlstate_of($$SELECT cot.create_webhook('t99a', '{"events": ["*"]}')$$), '22023', 'url is required');
SELECT is(cot_test.sqlstate_of($$SELECT cot.create_webhook('t99a', '{"url": "https://x.example.com", "events": ["*"], "headers": {"webhook-signature": "v1,x"}}')$$),
  '22023', 'a header Cot sets may not be given');

-- The address rule, when the webhook is made (and when its URL changes).
SET LOCAL cot.webhook_allow_private = off;
SELECT is(cot_test.sqlstate_of(format($$SELECT cot.create_webhook('t99a', '{"url": %s, "events": ["*"]}')$$, to_jsonb(u)::text)), '22023', u)
  FROM unnest(ARRAY['http://127.0.0.1/', 'http://10.0.0.8:8080/', 'http://169.254.169.254/latest/meta-data',
                    'http://[::1]/', 'http://localhost:3000/', 'http://[fe80::1]/']) AS u;
SELECT matches(cot_test.error_of($$SELECT cot.create_webhook('t99a', '{"url": "http://192.168.1.20/", "events": ["*"]}')$$)->>'hint',
  'cot.webhook_allow_private', 'the hint names the setting that allows them');
SET LOCAL cot.webhook_allow_private = on;
SELECT lives_ok($$SELECT cot.create_webhook('t99a', '{"url": "http://127.0.0.1:9/", "events": ["*"]}')$$,
  'with cot.webhook_allow_private on, a loopback URL is accepted');
SET LOCAL cot.webhook_allow_private = off;
SELECT is(cot_test.sqlstate_of(format($$SELECT cot.update_webhook(%L, '{"url": "http://10.1.1.1/"}')$$, (SELECT w->>'id' FROM made))),
  '22023', 'update_webhook checks a new URL too');

-- Changing and deleting.
SELECT is((SELECT cot.update_webhook((SELECT (w->>'id')::uuid FROM made), '{"enabled": false, "events": ["customers.delete"]}')
          - ARRAY['updated_at', 'created_at', 'id', 'position']),
  '{"tenant": "t99a", "url": "https://hooks.example.com/in", "events": ["customers.delete"], "headers": ["Authorization"],
    "enabled": false, "description": "ERP", "pending": 0}', 'update_webhook changes what it is given');

-- Who may: the tenant's admins; for anyone else it does not exist.
SET LOCAL ROLE cot_t99b_admin;
SELECT is(cot_test.sqlstate_of(format($$SELECT cot.update_webhook(%L, '{"enabled": true}')$$, (SELECT w->>'id' FROM made))),
  '42704', 'another tenant''s admin: the webhook does not exist');
SELECT is(cot_test.sqlstate_of($$SELECT cot.webhooks('t99a')$$), '42501', '... and may not list t99a''s webhooks');
SELECT is(cot_test.sqlstate_of($$SELECT cot.webhooks('no_such_tenant')$$), '42501', '... the same answer for a tenant that does not exist');
SELECT is(cot_test.sqlstate_of($$SELECT cot.replay_webhook('01900000-0000-7000-8000-000000000000')$$), '42704', 'replay of an unknown delivery: 42704');
RESET ROLE;
SET LOCAL ROLE cot_t99a_user;
SELECT is(cot_test.sqlstate_of($$SELECT cot.webhooks('t99a')$$), '42501', 'a tenant user may not manage webhooks');
RESET ROLE;

-- The /rpc/ wrappers, as the tenant's admin.
SET LOCAL ROLE cot_t99a_admin;
SELECT is((SELECT jsonb_array_length(t99a.webhooks())), 3, 'the admin lists webhooks through t99a.webhooks()');
SELECT lives_ok($$SELECT t99a.create_webhook('{"url": "https://y.example.com/", "events": ["*"]}')$$, 't99a.create_webhook');
SELECT is((SELECT t99a.webhook_deliveries()), '[]', 't99a.webhook_deliveries: nothing delivered yet');
SELECT ok((SELECT t99a.delete_webhook(w->>'id') FROM made), 't99a.delete_webhook');
RESET ROLE;
SELECT is((SELECT jsonb_array_length(cot.webhooks('t99a'))), 3, 'deleted');

-- The delivery log's options.
SELECT is(cot_test.sqlstate_of($$SELECT cot.webhook_deliveries('t99a', '{"state": "done"}')$$), '22023', 'an unknown state: 22023');

SELECT * FROM finish();
ROLLBACK;
