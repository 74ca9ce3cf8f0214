// Generated documentation against a real database: cot.record_schema,
// cot.openapi and cot.typescript for a tenant with every field type, every
// relation kind and mixed access rules (the same model as the engine's sample
// tenant "shop", engine/src/docs/sample.rs), checked with real tools
// (lib/docs_checks.mjs):
//   - the OpenAPI document with an OpenAPI 3.1 validator, and against the
//     database: one path per view that someone may use, the columns of each
//     view, the methods the grants allow, anonymous access where anon may read;
//   - each record schema against the rows of its view, read the way
//     PostgREST 12 reads them (json_agg over the view), with ajv (formats
//     asserted), and a changed row refused;
//   - the TypeScript types with tsc --strict: typed postgrest-js calls compile,
//     files with one deliberate mistake each do not;
//   - who may call the functions (42501), and unknown tenants and entities (42704).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createDatabase, dropDatabase } from './lib/db.mjs';
import {
  mistakeSources,
  newAjv,
  openApiProblems,
  recordValidator,
  typecheck,
  usageSource,
} from './lib/docs_checks.mjs';

const SLUG = 'docs_shop';
const READER = 'cot_test_docs_reader';
const STRANGER = 'cot_test_docs_stranger';
const T = { timeout: 120_000 };

const ENTITIES = ['audit', 'customers', 'invoices', 'orders', 'products'];

function model(tenant) {
  return [
    {
      tenant, name: 'customers', label: 'Customer', description: 'People who buy.',
      fields: [
        { name: 'name', type: 'text', required: true, min_length: 1, max_length: 100 },
        { name: 'email', type: 'email', unique: true, description: 'Where receipts go.' },
        { name: 'tier', type: 'enum', values: ['basic', 'pro', 'it\'s "vip"'], default: 'basic' },
        { name: 'vip', type: 'boolean', required: true, default: false },
        { name: 'profile', type: 'json' },
        { name: 'signup', type: 'date', min: '2020-01-01', index: true },
        { name: 'website', type: 'url' },
        { name: 'orders', type: 'relation', kind: 'one_to_many', target: 'orders', inverse: 'customer' },
      ],
      access: { read: 'tenant', create: 'tenant', update: 'owner', delete: 'admin' },
    },
    {
      tenant, name: 'products', label: 'Product',
      fields: [
        { name: 'name', type: 'text', required: true },
        { name: 'sku', type: 'text', pattern: '^[A-Z]{3}-\\d{4}$', unique: true },
        { name: 'code', type: 'text', pattern: '^\\w+$' },
        { name: 'blurb', type: 'text', pattern: '^.{0,5}$' },
        { name: 'price', type: 'decimal', precision: 10, scale: 2, min: 0, required: true },
        { name: 'weight', type: 'float', min: 0.5 },
        { name: 'stock', type: 'integer', min: 0, default: 0, required: true },
        { name: 'views', type: 'bigint' },
        { name: 'tags', type: 'array', items: 'enum', values: ['new', 'sale'], default: [] },
        { name: 'sizes', type: 'array', items: 'integer' },
        { name: 'released_at', type: 'timestamp', default: 'now' },
        { name: 'opens', type: 'time', min: '08:00' },
      ],
      indexes: [{ fields: ['created_at', 'name'] }],
      access: { read: 'public', create: 'admin', update: 'admin', delete: 'admin' },
    },
    {
      tenant, name: 'orders', label: 'Order',
      fields: [
        { name: 'title', type: 'text', required: true, max_length: 200 },
        { name: 'status', type: 'enum', values: ['draft', 'paid', 'shipped'], default: 'draft', required: true },
        { name: 'total', type: 'decimal', precision: 12, scale: 2, min: '0.5', max: 1000 },
        { name: 'placed', type: 'date', default: 'today' },
        { name: 'ref', type: 'uuid', default: 'uuid' },
        { name: 'customer', type: 'relation', kind: 'many_to_one', target: 'customers', required: true },
        { name: 'invoice', type: 'relation', kind: 'one_to_one', target: 'invoices', on_delete: 'set_null' },
        { name: 'products', type: 'relation', kind: 'many_to_many', target: 'products', label: 'Items' },
        { name: 'notes', type: 'array', items: 'text' },
      ],
      access: { read: 'tenant', create: 'tenant', update: 'owner', delete: 'none' },
    },
    {
      tenant, name: 'invoices',
      fields: [
        { name: 'number', type: 'text', required: true },
        { name: 'amount', type: 'decimal' },
      ],
      access: { read: 'admin', create: 'admin', update: 'none', delete: 'none' },
    },
    {
      tenant, name: 'audit',
      fields: [{ name: 'message', type: 'text' }],
      access: { read: 'none', create: 'none', update: 'none', delete: 'none' },
    },
  ];
}

let db;
let su; // superuser session
let doc; // cot.openapi(SLUG)
let tenantCreated = false;

// Runs sql with the claims a PostgREST request carries, so owner_id is filled.
async function asSub(sub, sql, params) {
  await su.query('BEGIN');
  try {
    await su.query(`SELECT set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ sub })]);
    const { rows } = await su.query(sql, params);
    await su.query('COMMIT');
    return rows[0]?.id;
  } catch (err) {
    await su.query('ROLLBACK');
    throw err;
  }
}

async function seed() {
  const t = (name) => `tenant_${SLUG}.${name}`;
  const ada = await asSub('alice', `INSERT INTO ${t('customers')} (name, email, tier, vip, profile, signup, website)
      VALUES ('Ada', 'ada@example.com', 'it''s "vip"', true, '{"a": [1, {"b": null}]}', '2021-03-04', 'https://example.com/x?y=1') RETURNING id`);
  const other = await asSub('bob', `INSERT INTO ${t('customers')} (name, tier, profile) VALUES ('Ünïcödé 名前', NULL, 'null') RETURNING id`);
  const mug = await asSub('alice', `INSERT INTO ${t('products')} (name, sku, code, blurb, price, weight, stock, views, tags, sizes, opens)
      VALUES ('Mug', 'MUG-0001', 'mug_1', E'a\\nb', 9.99, 0.75, 3, 9007199254740993, '{sale,new}', '{1,2}', '24:00:00') RETURNING id`);
  const plate = await asSub('alice', `INSERT INTO ${t('products')} (name, price, opens) VALUES ('Plate', 0, '08:30:00.5') RETURNING id`);
  const inv = await asSub('admin', `INSERT INTO ${t('invoices')} (number, amount) VALUES ('INV-1', 1234.5678) RETURNING id`);
  await asSub('admin', `INSERT INTO ${t('invoices')} (number) VALUES ('INV-2') RETURNING id`);
  const first = await asSub('alice', `INSERT INTO ${t('orders')} (title, status, total, customer_id, invoice_id, notes)
      VALUES ('First', 'paid', 12.50, $1, $2, '{a,b}') RETURNING id`, [ada, inv]);
  await asSub('bob', `INSERT INTO ${t('orders')} (title, total, placed, ref, customer_id)
      VALUES ('Second', NULL, NULL, NULL, $1) RETURNING id`, [other]);
  for (const product of [mug, plate]) {
    await su.query(`INSERT INTO ${t('orders_products')} (orders_id, products_id) VALUES ($1, $2)`, [first, product]);
  }
  await su.query(`INSERT INTO ${t('audit')} (message) VALUES ('hidden')`);
}

// The rows of a view as PostgREST 12 returns them: json_agg over the view.
async function viewRows(view) {
  const { rows } = await su.query(
    `SELECT coalesce(json_agg(t), '[]'::json) AS rows FROM ${su.escapeIdentifier(SLUG)}.${su.escapeIdentifier(view)} t`,
  );
  return rows[0].rows;
}

// The test's own roles; DROP OWNED first takes away their EXECUTE grants.
async function dropRoles() {
  for (const role of [READER, STRANGER]) {
    const { rows } = await su.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
    if (rows.length) {
      await su.query(`DROP OWNED BY ${role}`);
      await su.query(`DROP ROLE ${role}`);
    }
  }
}

before(async () => {
  db = await createDatabase('cot_docs');
  su = await connect(db);
  await su.query('SELECT cot.create_tenant($1)', [SLUG]);
  tenantCreated = true;
  await su.query('SELECT cot.create_entities($1::jsonb)', [JSON.stringify(model(SLUG))]);
  await seed();
  doc = (await su.query('SELECT cot.openapi($1) AS doc', [SLUG])).rows[0].doc;
  await dropRoles();
  // EXECUTE is granted here so the test does not depend on how tenant roles
  // get it; membership is what the functions check.
  const fns = 'cot.record_schema(text, text), cot.openapi(text, jsonb), cot.typescript(text)';
  await su.query(`CREATE ROLE ${READER} NOLOGIN IN ROLE cot_${SLUG}_user`);
  await su.query(`CREATE ROLE ${STRANGER} NOLOGIN`);
  await su.query(`GRANT EXECUTE ON FUNCTION ${fns} TO ${READER}, ${STRANGER}`);
}, T);

after(async () => {
  const errors = [];
  if (su) {
    try {
      await su.query('RESET ROLE');
      await dropRoles();
    } catch (err) {
      errors.push(err);
    }
    if (tenantCreated) {
      try {
        await su.query('SELECT cot.drop_tenant($1, true)', [SLUG]);
      } catch (err) {
        errors.push(err);
      }
    }
    await su.end().catch(() => {});
  }
  try {
    await dropDatabase(db);
  } catch (err) {
    errors.push(err);
  }
  if (errors.length) throw new AggregateError(errors, 'cleanup failed');
}, T);

test('the OpenAPI document is valid OpenAPI 3.1', T, async () => {
  assert.equal(doc.openapi, '3.1.0');
  assert.deepEqual(await openApiProblems(doc), []);
  // The checks are live: a schema with a type JSON Schema does not have is caught.
  const broken = structuredClone(doc);
  broken.components.schemas.orders.properties.title.type = 'text';
  assert.notDeepEqual(await openApiProblems(broken), []);
});

test('the OpenAPI paths, columns and methods match the database', T, async () => {
  const PRIV = { get: 'SELECT', post: 'INSERT', patch: 'UPDATE', delete: 'DELETE' };
  const roles = ['anon', 'user', 'admin'].map((r) => `cot_${SLUG}_${r}`);
  const { rows: views } = await su.query(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind = 'v' ORDER BY 1`,
    [SLUG],
  );
  const documented = [];
  for (const { name } of views) {
    const granted = {};
    for (const [method, priv] of Object.entries(PRIV)) {
      const { rows } = await su.query(
        `SELECT r AS role FROM unnest($1::text[]) r WHERE has_table_privilege(r, $2, $3)`,
        [roles, `${SLUG}.${name}`, priv],
      );
      granted[method] = rows.map((x) => x.role);
    }
    const item = doc.paths[`/${name}`];
    const anyGrant = Object.values(granted).some((g) => g.length > 0);
    assert.equal(Boolean(item), anyGrant, `/${name}: documented exactly when some role may use it`);
    if (!item) continue;
    documented.push(name);
    for (const method of Object.keys(PRIV)) {
      assert.equal(Boolean(item[method]), granted[method].length > 0, `${method} /${name} vs grants ${granted[method]}`);
      if (item[method]) {
        const anonymous = item[method].security.some((s) => Object.keys(s).length === 0);
        assert.equal(anonymous, granted[method].includes(`cot_${SLUG}_anon`), `${method} /${name}: anonymous access`);
      }
    }
    const { rows: cols } = await su.query(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      [SLUG, name],
    );
    const documentedColumns = Object.keys(doc.components.schemas[name].properties).sort();
    assert.deepEqual(documentedColumns, cols.map((c) => c.column_name).sort(), `/${name} columns`);
  }
  assert.deepEqual(documented, ['customers', 'invoices', 'orders', 'orders_products', 'products']);
  assert.equal(doc.paths['/audit'], undefined, 'every rule none: no path');
  // The /rpc/ wrappers (the functions of the API schema that take no row):
  // each documented, anonymous access exactly when anon may EXECUTE it.
  const { rows: fns } = await su.query(
    `SELECT p.proname AS name, p.oid::regprocedure::text AS sig FROM pg_proc p
      WHERE p.pronamespace = $1::regnamespace
        AND NOT EXISTS (SELECT 1 FROM unnest(p.proargtypes) t JOIN pg_type y ON y.oid = t WHERE y.typrelid <> 0)
      ORDER BY 1`,
    [SLUG],
  );
  assert.ok(fns.length >= 11, `the wrappers: ${fns.map((f) => f.name)}`);
  for (const { name, sig } of fns) {
    const item = doc.paths[`/rpc/${name}`];
    assert.ok(item?.post, `POST /rpc/${name} is documented`);
    const { rows } = await su.query(`SELECT has_function_privilege($1, $2, 'EXECUTE') AS anon`, [`cot_${SLUG}_anon`, sig]);
    const anonymous = item.post.security.some((s) => Object.keys(s).length === 0);
    assert.equal(anonymous, rows[0].anon, `POST /rpc/${name}: anonymous access`);
  }
  assert.deepEqual(
    Object.keys(doc.paths).filter((p) => p.startsWith('/rpc/')).sort(),
    fns.map((f) => `/rpc/${f.name}`).sort(),
    'no /rpc/ path without its function',
  );
});

test('each record schema accepts every row of its view and refuses a broken one', T, async () => {
  for (const entity of ENTITIES) {
    const { rows } = await su.query('SELECT cot.record_schema($1, $2) AS s', [SLUG, entity]);
    const schema = rows[0].s;
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    const valid = recordValidator(schema);
    const data = await viewRows(entity);
    assert.ok(data.length > 0, `${entity} has rows to check`);
    for (const row of data) {
      assert.ok(valid(row), `${entity} row ${JSON.stringify(row)}: ${JSON.stringify(valid.errors)}`);
    }
    // The insert and update body schemas compile too.
    for (const variant of ['insert', 'update']) recordValidator(schema.$defs[variant]);
  }
  const orders = recordValidator((await su.query('SELECT cot.record_schema($1, $2) AS s', [SLUG, 'orders'])).rows[0].s);
  const [row] = await viewRows('orders');
  for (const [key, value] of [['status', 'lost'], ['title', 'x'.repeat(201)], ['id', 'nope'], ['colour', 'red']]) {
    assert.equal(orders({ ...row, [key]: value }), false, `${key} = ${value} must be refused`);
  }
  const { customer_id: _, ...withoutCustomer } = row;
  assert.equal(orders(withoutCustomer), false, 'a row without a required column is refused');
  // Junction rows, against the OpenAPI component of the junction view.
  const junction = newAjv().compile(doc.components.schemas.orders_products);
  for (const link of await viewRows('orders_products')) assert.ok(junction(link), JSON.stringify(junction.errors));
});

test('the TypeScript types compile with postgrest-js and catch mistakes', T, async () => {
  const { rows } = await su.query('SELECT cot.typescript($1) AS ts', [SLUG]);
  const ts = rows[0].ts;
  assert.match(ts, new RegExp(`^  ${SLUG}: \\{$`, 'm'));
  const good = await typecheck(ts, { 'usage.ts': usageSource(SLUG) });
  assert.equal(good.code, 0, `usage.ts must compile:\n${good.output}`);
  const mistakes = mistakeSources(SLUG);
  const bad = await typecheck(ts, mistakes);
  assert.notEqual(bad.code, 0, 'the mistakes must not compile');
  assert.equal(bad.byFile['types.ts'], '', `the types themselves compile:\n${bad.output}`);
  for (const name of Object.keys(mistakes)) {
    assert.notEqual(bad.byFile[name], '', `${name} must fail to compile:\n${bad.output}`);
  }
});

test('options of cot.openapi', T, async () => {
  const { rows } = await su.query(`SELECT cot.openapi($1, '{"server_url": "https://api.example.com/v1"}') AS d`, [SLUG]);
  assert.equal(rows[0].d.servers[0].url, 'https://api.example.com/v1');
  assert.equal(doc.servers[0].url, 'http://localhost:3000');
  await assert.rejects(su.query(`SELECT cot.openapi($1, '{"server": "x"}')`, [SLUG]), { code: '22023' });
  await assert.rejects(su.query(`SELECT cot.openapi($1, '[]')`, [SLUG]), { code: '22023' });
});

test('who may read the documentation, and unknown names', T, async () => {
  await assert.rejects(su.query('SELECT cot.typescript($1)', ['docs_nope']), { code: '42704' });
  await assert.rejects(su.query('SELECT cot.record_schema($1, $2)', [SLUG, 'nope']), { code: '42704' });
  try {
    await su.query(`SET ROLE ${READER}`);
    const { rows } = await su.query('SELECT cot.record_schema($1, $2) AS s', [SLUG, 'orders']);
    assert.equal(rows[0].s.title, 'Order');
    await su.query('SELECT cot.openapi($1)', [SLUG]);
    await su.query('SELECT cot.typescript($1)', [SLUG]);
    // A member of one tenant learns nothing about another, existing or not.
    await assert.rejects(su.query('SELECT cot.typescript($1)', ['docs_nope']), { code: '42501' });
    await su.query(`SET ROLE ${STRANGER}`);
    for (const tenant of [SLUG, 'docs_nope']) {
      await assert.rejects(su.query('SELECT cot.openapi($1)', [tenant]), { code: '42501' });
      await assert.rejects(su.query('SELECT cot.record_schema($1, $2)', [tenant, 'orders']), { code: '42501' });
      await assert.rejects(su.query('SELECT cot.typescript($1)', [tenant]), { code: '42501' });
    }
  } finally {
    await su.query('RESET ROLE');
  }
});
