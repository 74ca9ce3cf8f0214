// Checks of Cot's generated documents with real tools, shared by
// generated_docs.test.mjs and usable by hand on files the engine writes
// (docs/generated-docs.md, "Checking the documents"):
//   - the OpenAPI document: @seriousme/openapi-schema-validator (OpenAPI 3.1),
//     plus what that validator does not look into: every component schema
//     compiled by ajv's 2020-12 build in strict mode, every $ref resolving,
//     operationIds unique;
//   - record schemas: ajv 2020-12 with ajv-formats, formats asserted;
//   - TypeScript types: the real tsc (--strict) on a usage file that must
//     compile and on files with one deliberate mistake each, which must not.

import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const NODE_MODULES = fileURLToPath(new URL('../node_modules', import.meta.url));
const TSC = join(NODE_MODULES, 'typescript', 'bin', 'tsc');

export function newAjv() {
  // strict: unknown keywords and formats are errors, so a typo in a generated
  // schema cannot pass as an annotation. Union types (["string", "null"]) are
  // how nullable columns are written.
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
  addFormats(ajv);
  return ajv;
}

// A validator function for a record schema (formats asserted).
export function recordValidator(schema) {
  return newAjv().compile(schema);
}

function refs(value, out = []) {
  if (Array.isArray(value)) value.forEach((v) => refs(v, out));
  else if (value && typeof value === 'object') {
    if (typeof value.$ref === 'string') out.push(value.$ref);
    Object.values(value).forEach((v) => refs(v, out));
  }
  return out;
}

function pointer(doc, ref) {
  let node = doc;
  for (const raw of ref.replace(/^#\//, '').split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in node)) return undefined;
    node = node[key];
  }
  return node;
}

// Every problem found in an OpenAPI document, as sentences ([] when valid).
export async function openApiProblems(doc) {
  const problems = [];
  const validator = new Validator();
  const res = await validator.validate(structuredClone(doc));
  if (!res.valid) problems.push(`OpenAPI validator: ${JSON.stringify(res.errors)}`);
  if (validator.version !== '3.1') problems.push(`validated as OpenAPI ${validator.version}, not 3.1`);
  for (const ref of refs(doc)) {
    if (!ref.startsWith('#/') || pointer(doc, ref) === undefined) problems.push(`$ref ${ref} does not resolve`);
  }
  const ajv = newAjv();
  for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
    try {
      ajv.compile(schema);
    } catch (err) {
      problems.push(`component ${name}: ${err.message}`);
    }
  }
  const ids = new Set();
  for (const item of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(item)) {
      if (op && typeof op === 'object' && op.operationId) {
        if (ids.has(op.operationId)) problems.push(`operationId ${op.operationId} repeated`);
        ids.add(op.operationId);
      }
    }
  }
  return problems;
}

function run(cmd, args, cwd) {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

// Type-checks `files` ({name: source}) next to the generated types (types.ts)
// with tsc --strict --noEmit, in a temporary directory that sees this
// package's node_modules. Returns tsc's exit code and its output per file.
export async function typecheck(types, files) {
  const dir = await mkdtemp(join(tmpdir(), 'cot-tsc-'));
  try {
    await symlink(NODE_MODULES, join(dir, 'node_modules'), 'dir');
    await writeFile(join(dir, 'types.ts'), types);
    for (const [name, source] of Object.entries(files)) await writeFile(join(dir, name), source);
    const args = [TSC, '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext'];
    const { code, output } = await run(process.execPath, [...args, 'types.ts', ...Object.keys(files)], dir);
    const byFile = {};
    for (const name of ['types.ts', ...Object.keys(files)]) {
      byFile[name] = output
        .split('\n')
        .filter((l) => l.startsWith(`${name}(`))
        .join('\n');
    }
    return { code, output, byFile };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// A TypeScript file using the generated types the way an application would,
// for tenant `slug` with the model of generated_docs.test.mjs (the engine's
// sample tenant "shop" has the same one). It must compile.
export function usageSource(slug) {
  return `import { PostgrestClient } from '@supabase/postgrest-js'
import type { Database, Insert, Row } from './types'

const client = new PostgrestClient<Database>('http://localhost:3000', { schema: '${slug}' })

export async function main(): Promise<void> {
  const paid = await client.from('orders').select('id,total').eq('status', 'paid')
  if (paid.data) {
    const id: string = paid.data[0].id
    const total: number | null = paid.data[0].total
    console.log(id, total)
  }
  const order: Insert<'orders'> = { title: 'First', customer_id: '01890a5d-ac96-774b-bcce-b302099a8059' }
  const created = await client.from('orders').insert(order).select().single()
  if (created.data) {
    const status: 'draft' | 'paid' | 'shipped' = created.data.status
    const notes: string[] | null = created.data.notes
    console.log(status, notes)
  }
  await client.from('orders').update({ status: 'shipped' }).eq('id', '01890a5d-ac96-774b-bcce-b302099a8057')
  const embedded = await client.from('orders').select('title, customers(name, tier)')
  if (embedded.data) {
    const name: string | undefined = embedded.data[0].customers?.name
    console.log(name)
  }
  const linked = await client.from('orders').select('title, products(name, price)')
  if (linked.data) {
    const prices: number[] = linked.data[0].products.map((p) => p.price)
    console.log(prices)
  }
  const product: Row<'products'> | undefined = (await client.from('products').select('*').limit(1)).data?.[0]
  const tags: ('new' | 'sale')[] | null | undefined = product?.tags
  const profile = (await client.from('customers').select('profile').single()).data?.profile
  console.log(tags, profile)
  await client.from('orders_products').insert({ orders_id: 'a', products_id: 'b' })
  const page = await client.rpc('query', { entity: 'orders', query: { select: ['title'], order: ['-created_at'], limit: 10 } })
  if (page.data) {
    const next: string | null = page.data.next_cursor
    const count: number | null = page.data.count
    console.log(page.data.data.length, next, count)
  }
  const defined = await client.rpc('entities')
  if (defined.data) {
    const names: string[] = defined.data.map((e) => e.name)
    console.log(names)
  }
}
`;
}

// Files with one deliberate mistake each: every one must fail to compile.
export function mistakeSources(slug) {
  const head = `import { PostgrestClient } from '@supabase/postgrest-js'
import type { Database, Insert, Row } from './types'
const client = new PostgrestClient<Database>('http://localhost:3000', { schema: '${slug}' })
`;
  return {
    'bad_enum.ts': `${head}export const q = client.from('orders').select('id').eq('status', 'lost')\n`,
    'bad_required.ts': `${head}export const q = client.from('orders').insert({ status: 'paid' })\n`,
    'bad_update_none.ts': `${head}export const q = client.from('invoices').update({ number: 'x' })\n`,
    'bad_hidden.ts': `${head}export const q = client.from('audit').select('*')\n`,
    'bad_type.ts': `${head}export const r: Row<'orders'>['total'] = '12.50'\n`,
    'bad_column.ts': `${head}export const o: Insert<'orders'> = { title: 'x', customer_id: 'y', colour: 'red' }\n`,
    'bad_rpc_args.ts': `${head}export const q = client.rpc('query', { query: {} })\n`,
    'bad_rpc_name.ts': `${head}export const q = client.rpc('select_everything', {})\n`,
  };
}
