// The drawer offers each type exactly the options Cot accepts for it: the
// studio's table (src/editor/fieldOptions.ts) checked against the server's
// validate_entity, for every type, item type and relation kind, and every
// option, through the front door as the studio calls it.
import { test, expect, adminToken, tenantUrl } from '../fixtures';
import { ALL_OPTIONS, optionsFor, type OptionKey } from '../../src/editor/fieldOptions';
import type { FieldDef, FieldType } from '../../src/api/types';
import { readFileSync } from 'node:fs';

const schema = JSON.parse(readFileSync(new URL('../../src/api/definition-schema.json', import.meta.url), 'utf8'));
const TYPES = schema.$defs.field.properties.type.enum as FieldType[];

function bases(): FieldDef[] {
  const out: FieldDef[] = [];
  for (const type of TYPES) {
    if (type === 'relation') {
      out.push({ name: 'f', type, kind: 'many_to_one', target: 'opts' });
      out.push({ name: 'f', type, kind: 'one_to_one', target: 'opts' });
      out.push({ name: 'f', type, kind: 'many_to_many', target: 'opts' });
      out.push({ name: 'f', type, kind: 'one_to_many', target: 'opts', inverse: 'back' });
    } else if (type === 'array') {
      for (const items of ['text', 'decimal', 'enum', 'integer'] as FieldType[]) {
        out.push(items === 'enum' ? { name: 'f', type, items, values: ['a', 'b'] } : { name: 'f', type, items });
      }
    } else if (type === 'state') {
      out.push({ name: 'f', type, states: ['a', 'b'], initial: 'a' });
    } else {
      out.push(type === 'enum' ? { name: 'f', type, values: ['a', 'b'] } : { name: 'f', type });
    }
  }
  return out;
}

function sample(key: OptionKey, f: FieldDef): unknown {
  const bound = f.type === 'date' ? '2024-01-01' : f.type === 'timestamp' ? '2024-01-01T00:00:00Z' : f.type === 'time' ? '09:00' : 1;
  const values: Record<OptionKey, unknown> = {
    required: true, unique: true, index: true, default: null, min: bound, max: bound,
    min_length: 1, max_length: 10, pattern: '^a', precision: 10, scale: 2, values: ['a', 'b'],
    items: 'text', kind: 'many_to_one', target: 'opts', on_delete: 'cascade', inverse: 'back',
    states: ['a', 'b'], initial: 'a', starts: ['a'], transitions: [{ name: 'go', from: 'a', to: 'b' }],
  };
  return values[key];
}

test('each type offers exactly the options the server accepts', async ({ request }) => {
  // Node does not resolve *.localhost as Chromium does: the tenant's host
  // goes in the Host header.
  const front = new URL(tenantUrl('acme'));
  const url = `http://127.0.0.1:${front.port}/rest/v1/rpc/validate_entity`;
  const headers = { Authorization: `Bearer ${adminToken('acme')}`, Host: front.host };
  const mismatches: string[] = [];
  const cases: { field: FieldDef; key: OptionKey; offered: boolean }[] = [];
  for (const base of bases()) {
    // `default` is typed per field; its fit (every type but relations) is
    // left to the editor's own tests.
    for (const key of ALL_OPTIONS.filter((k) => k !== 'default' && !(k in base))) {
      cases.push({ field: { ...base, [key]: sample(key, base) }, key, offered: optionsFor(base).includes(key) });
    }
  }
  for (let i = 0; i < cases.length; i += 12) {
    await Promise.all(
      cases.slice(i, i + 12).map(async ({ field, key, offered }) => {
        const res = await request.post(url, { headers, data: { definition: { name: 'opts', fields: [field] } } });
        expect(res.status(), await res.text()).toBe(200);
        const violations = (await res.json()) as { pointer: string; message: string }[];
        const refused = violations.some((v) => v.pointer === `/fields/0/${key}` && v.message.includes('does not apply'));
        if (refused === offered) {
          const what = field.type === 'array' ? `array of ${field.items}` : field.type === 'relation' ? `${field.kind} relation` : field.type;
          mismatches.push(`${what}: ${key} is ${offered ? 'offered but refused' : 'not offered but accepted'}`);
        }
      }),
    );
  }
  expect(cases.length).toBe(443); // 23 field shapes × the options each does not carry already
  expect(mismatches).toEqual([]);
});

test('the studio\'s copy of the definition schema is the server\'s', async ({ sql }) => {
  const [row] = await sql('SELECT cot.definition_schema() AS s');
  expect(row?.s).toEqual(schema);
});
