-- What the random runs found (docs/reliability-load.md), kept as
-- regression tests: each input once made Cot answer with an internal error
-- (XX000) or crash; each must now be an ordinary error with a real SQLSTATE.
BEGIN;
SELECT plan(5);
SET LOCAL client_min_messages = warning;

SELECT lives_ok($$SELECT cot.create_tenant('t99')$$, 'a tenant');
SELECT lives_ok($$SELECT cot.set_jwt_secret(repeat('k', 40))$$, 'a JWT secret');

-- sqlsmith: cot.issue_token with a NULL role or a NULL lifetime was pgrx's
-- "argument 1 must not be null", XX000 (the function is not STRICT because
-- its tenant may be NULL).
SELECT is(cot_test.sqlstate_of($$SELECT cot.issue_token('t99', NULL)$$), '22023', 'issue_token: a NULL role is 22023');
SELECT is(cot_test.sqlstate_of($$SELECT cot.issue_token(NULL, NULL, NULL, NULL)$$), '22023', 'issue_token: every argument NULL is 22023');
SELECT is(cot_test.sqlstate_of($$SELECT cot.issue_token('t99', 'user', 'u', NULL)$$), '22023', 'issue_token: a NULL lifetime is 22023');

SELECT * FROM finish();
ROLLBACK;
