// Seeded random inputs for Cot's SQL functions (tests/clients/fuzz_inputs.test.mjs):
// query documents, entity definitions, bundles, JWT claims, API keys and
// token requests, shaped like the real thing most of the time so that they
// reach past argument checks, and broken in every way some of the time.
// The same seed gives the same inputs.

// mulberry32: a small, fast, seedable generator; the fuzzing needs no more.
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r = {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    some: (n, f) => Array.from({ length: r.int(0, n) }, f),
  };
  return r;
}

// The fixture's entities (tests/reliability/fixture.sql): their view columns
// and relations (field -> target entity), and names no entity has.
const SYSTEM = ['id', 'created_at', 'updated_at'];
export const MODEL = {
  orders: {
    fields: ['title', 'status', 'total', 'qty', 'views', 'ratio', 'rush', 'placed_on', 'placed_at', 'slot', 'ref',
      'meta', 'contact', 'link', 'tags', 'codes', 'colours', 'days', 'customer_id', 'shipment_id', 'owner_id'],
    relations: { customer: 'customers', shipment: 'shipments', products: 'products' },
  },
  customers: { fields: ['name', 'email', 'website', 'country_id'], relations: { country: 'countries', orders: 'orders' } },
  countries: { fields: ['name', 'code'], relations: {} },
  products: { fields: ['name', 'price'], relations: {} },
  shipments: { fields: ['carrier', 'tracking'], relations: {} },
  notes: { fields: ['body', 'parent_id', 'owner_id'], relations: { parent: 'notes', links: 'notes' } },
  all_arrays: {
    fields: ['a_bigint', 'a_decimal', 'a_float', 'a_boolean', 'a_timestamp', 'a_time', 'a_uuid', 'a_email', 'a_url'],
    relations: {},
  },
};
export const ENTITIES = [...Object.keys(MODEL), 'ghost'];
const ALL_FIELDS = [...new Set(Object.values(MODEL).flatMap((m) => m.fields)), 'nope', '*'];
// A field of `entity` most of the time; any name sometimes.
const fieldOf = (r, entity) =>
  r.chance(0.9) && MODEL[entity] ? r.pick([...MODEL[entity].fields, ...SYSTEM]) : r.pick([...ALL_FIELDS, ...SYSTEM]);
const OPERATORS = ['eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'in', 'like', 'ilike', 'is_null', 'contains', 'overlaps', 'match', 'between'];
const STRINGS = [
  'paid', 'draft', '2026-03-01', '2026-02-30', '2026-01-01T00:00:00Z', '09:30', '25:61',
  '01a21636-0000-7000-8000-0000000000a1', 'not-a-uuid', '1e400', '-0', 'NaN', 'Infinity', '%', '_',
  'a\u0000b', 'é', '\u2028', "'; DROP TABLE x; --", '"', '$1', 'a or -b "c d"', '', 'x'.repeat(3000),
  'red', 'https://example.com', 'c1@example.com', '\\', 'null',
];

export function scalar(r) {
  switch (r.int(0, 6)) {
    case 0: return null;
    case 1: return r.chance(0.5);
    case 2: return r.int(-5, 500);
    case 3: return r.pick([2 ** 53, -(2 ** 63), 1e300, 0.1, -1.5, 9007199254740993]);
    default: return r.pick(STRINGS);
  }
}

export function value(r, depth = 2) {
  if (depth <= 0 || r.chance(0.7)) return scalar(r);
  if (r.chance(0.5)) return r.some(3, () => value(r, depth - 1));
  return Object.fromEntries(r.some(3, () => [r.pick(['a', 'source', 'eq', 'x']), value(r, depth - 1)]));
}

export function condition(r, entity, depth = 3) {
  if (depth > 0 && r.chance(0.3)) {
    switch (r.int(0, 3)) {
      case 0: return { and: r.some(3, () => condition(r, entity, depth - 1)) };
      case 1: return { or: r.some(3, () => condition(r, entity, depth - 1)) };
      case 2: return { not: condition(r, entity, depth - 1) };
      default: return { ...condition(r, entity, depth - 1), ...condition(r, entity, depth - 1) };
    }
  }
  const f = fieldOf(r, entity);
  switch (r.int(0, 5)) {
    case 0: return { [f]: scalar(r) };
    case 1: return { [f]: { [r.pick(OPERATORS)]: scalar(r) } };
    case 2: return { [f]: { is_null: r.chance(0.5) } };
    case 3: return { [f]: { [r.pick(['in', 'contains', 'overlaps'])]: r.some(3, () => scalar(r)) } };
    case 4: return { [f]: { [r.pick(OPERATORS)]: value(r), [r.pick(OPERATORS)]: value(r) } };
    default: return { [f]: value(r) };
  }
}

function order(r, entity) {
  const one = () => {
    switch (r.int(0, 3)) {
      case 0: return fieldOf(r, entity);
      case 1: return `-${fieldOf(r, entity)}`;
      case 2: return { field: fieldOf(r, entity), dir: r.pick(['asc', 'desc', 'up']) };
      default: return value(r);
    }
  };
  return r.chance(0.5) ? one() : r.some(3, one);
}

function limit(r) {
  return r.chance(0.85) ? r.int(0, 1000) : value(r);
}

function select(r, entity, depth = 3) {
  if (r.chance(0.1)) return '*';
  const relations = Object.entries(MODEL[entity]?.relations ?? {});
  return Array.from({ length: r.int(1, 4) }, () => {
    if (depth > 0 && r.chance(0.3)) {
      const [rel, target] = relations.length && r.chance(0.9) ? r.pick(relations) : [r.pick(['ghost', 'title', 'customer']), 'orders'];
      const inner = select(r, target, depth - 1);
      if (r.chance(0.5)) return { [rel]: inner };
      const o = { select: inner };
      if (r.chance(0.4)) o.where = condition(r, target, 1);
      if (r.chance(0.3)) o.order = order(r, target);
      if (r.chance(0.3)) o.limit = limit(r);
      return { [rel]: o };
    }
    return r.chance(0.95) ? fieldOf(r, entity) : value(r);
  });
}

// A cot.query document.
export function queryDoc(r, entity) {
  const d = {};
  if (r.chance(0.7)) d.select = select(r, entity);
  if (r.chance(0.6)) d.where = condition(r, entity);
  if (r.chance(0.4)) d.order = order(r, entity);
  if (r.chance(0.4)) d.limit = limit(r);
  if (r.chance(0.2)) d.offset = limit(r);
  if (r.chance(0.1)) d.cursor = r.chance(0.5) ? 'eyJrIjpbIngiXSwibyI6ImlkIn0' : value(r);
  if (r.chance(0.3)) d.count = r.pick([true, false, 'exact', value(r)]);
  if (r.chance(0.05)) d[r.pick(['top', 'limits', 'sort'])] = value(r);
  return r.chance(0.03) ? value(r) : d;
}

const TYPES = ['text', 'integer', 'bigint', 'decimal', 'float', 'boolean', 'date', 'timestamp', 'time',
  'uuid', 'json', 'enum', 'email', 'url', 'array', 'relation', 'string'];

function field(r, i) {
  const type = r.pick(TYPES);
  const f = { name: r.chance(0.9) ? `f${i}` : r.pick(['select', 'Bad', 'id', 'owner_id', 'x'.repeat(70), 'title']), type };
  if (type === 'enum' || (type === 'array' && r.chance(0.3))) f.values = r.chance(0.9) ? ['a', 'b', "it's"] : value(r);
  if (type === 'array') f.items = r.pick(['text', 'integer', 'enum', 'json', 'date', 'relation']);
  if (type === 'decimal') {
    f.precision = r.chance(0.9) ? r.int(1, 40) : value(r);
    f.scale = r.chance(0.9) ? r.int(0, 10) : value(r);
  }
  if (type === 'relation') {
    f.kind = r.pick(['many_to_one', 'one_to_one', 'one_to_many', 'many_to_many', 'two']);
    f.target = r.pick(ENTITIES);
    if (f.kind === 'one_to_many') f.inverse = r.pick(['customer', 'parent', 'f0']);
    if (r.chance(0.3)) f.on_delete = r.pick(['cascade', 'restrict', 'set_null', 'explode']);
  }
  for (const k of ['required', 'unique', 'index']) if (r.chance(0.2)) f[k] = r.chance(0.8) ? r.chance(0.5) : value(r);
  if (r.chance(0.2)) f.default = r.pick([0, 'x', true, 'now', 'today', 'uuid', [], { a: 1 }, '2026-01-01', value(r)]);
  if (r.chance(0.15)) f[r.pick(['min', 'max'])] = r.pick([0, -1, '10', 1e300, value(r)]);
  if (r.chance(0.15)) f[r.pick(['min_length', 'max_length'])] = r.pick([0, 5, 10485761, value(r)]);
  if (r.chance(0.1)) f.pattern = r.pick(['^[A-Z]+$', '(', 'a{1000000}', '[[:alpha:]]', value(r)]);
  if (r.chance(0.1)) f.description = r.pick(['a note', "it's", '*/ --', value(r)]);
  if (r.chance(0.03)) f[r.pick(['lenght', 'colour'])] = value(r);
  return f;
}

// An entity definition for `tenant`, new (`name` not in the fixture) or
// one of the fixture's (a change, when given to alter_entity or plan_entity).
export function definition(r, tenant) {
  const d = { tenant: r.chance(0.9) ? tenant : value(r), name: r.chance(0.6) ? `e${r.int(0, 9)}` : r.pick(ENTITIES) };
  d.fields = Array.from({ length: r.int(0, 6) }, (_, i) => field(r, i));
  if (r.chance(0.3)) d.access = Object.fromEntries(['read', 'create', 'update', 'delete'].filter(() => r.chance(0.6))
    .map((k) => [k, r.chance(0.9) ? r.pick(['public', 'tenant', 'owner', 'admin']) : value(r)]));
  if (r.chance(0.2)) d.indexes = [{ fields: r.some(3, () => r.pick(['f0', 'f1', 'created_at', 'nope'])), unique: r.chance(0.3) }];
  if (r.chance(0.1)) d.label = value(r);
  if (r.chance(0.05)) d.extra = value(r);
  return r.chance(0.03) ? value(r) : d;
}

// A schema bundle (cot.apply_schema).
export function bundle(r, tenant) {
  const entities = Array.from({ length: r.int(0, 4) }, () => {
    const d = definition(r, tenant);
    if (d && typeof d === 'object' && !Array.isArray(d)) delete d.tenant;
    return d;
  });
  const b = { format: r.chance(0.9) ? 'cot.schema/1' : value(r), entities: r.chance(0.95) ? entities : value(r) };
  if (r.chance(0.05)) b.extra = value(r);
  return b;
}

// The text of request.jwt.claims: JSON most of the time, with the claims of
// a tenant role, right or wrong.
export function claimsText(r, tenants) {
  if (r.chance(0.1)) return r.pick(['', 'null', '{', '[]', '"x"', '{"tenant": }', 'x'.repeat(10000), '{"a":1}\u0000']);
  const tenant = r.pick([...tenants, 'ghost', '']);
  const c = {};
  if (r.chance(0.9)) c.role = r.pick([`cot_${tenant}_user`, `cot_${tenant}_anon`, `cot_${tenant}_admin`, 'postgres', value(r)]);
  if (r.chance(0.9)) c.tenant = r.chance(0.8) ? tenant : value(r);
  if (r.chance(0.7)) c.sub = r.chance(0.8) ? `user-${r.int(1, 6)}` : value(r);
  if (r.chance(0.2)) c.exp = value(r);
  if (r.chance(0.1)) c.nested = value(r, 3);
  return JSON.stringify(c);
}

// An x-api-key header: well-formed (cot_<prefix>_<secret>) or not.
export function apiKey(r, real) {
  switch (r.int(0, 5)) {
    case 0: return real ?? 'cot_abcdef_x';
    case 1: return real ? real.slice(0, -1) + (real.endsWith('a') ? 'b' : 'a') : 'cot__';
    case 2: return `cot_${r.pick(['', 'abc', 'x'.repeat(300), "a'b", '\u0000'])}_${r.pick(['', 's', 'x'.repeat(5000)])}`;
    case 3: return r.pick(['', 'cot', 'cot_', '___', 'Bearer x', 'cot_%_%']);
    default: return String(value(r));
  }
}
