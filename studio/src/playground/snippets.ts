// The playground's request written as code: curl, postgrest-js, supabase-js.
// The credential is a placeholder ($TOKEN), never the secret in use.
import type { RawRequest } from '../api/client';

const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const js = (v: unknown) => JSON.stringify(v);

export function curlOf(req: RawRequest, origin: string): string {
  const q = req.query.replace(/^\?/, '').trim();
  const url = `${origin}/rest/v1${req.path}${q ? `?${q}` : ''}`;
  const lines = [`curl -X ${req.method} ${sq(url)}`, `  -H "Authorization: Bearer $TOKEN"`];
  if (req.method !== 'GET' && req.body?.trim()) {
    lines.push(`  -H 'Content-Type: application/json'`);
    if (req.method !== 'DELETE' && !req.path.startsWith('/rpc/')) lines.push(`  -H 'Prefer: return=representation'`);
    lines.push(`  -d ${sq(req.body.trim())}`);
  }
  return lines.join(' \\\n');
}

/** The PostgREST operators postgrest-js has a method for. */
const METHODS = new Set(['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'is', 'in']);

/** The query string as postgrest-js calls: select, filters, order, limit. */
function chain(query: string, verb: 'select' | 'update' | 'delete' | 'insert', body: string | undefined): string[] {
  const params = new URLSearchParams(query.replace(/^\?/, ''));
  const calls: string[] = [];
  const select = params.get('select');
  let parsed: unknown = undefined;
  if (body?.trim()) {
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = body;
    }
  }
  if (verb === 'select') calls.push(`.select(${select ? js(select) : ''})`);
  if (verb === 'insert') calls.push(`.insert(${js(parsed ?? {})})`, `.select(${select ? js(select) : ''})`);
  if (verb === 'update') calls.push(`.update(${js(parsed ?? {})})`);
  if (verb === 'delete') calls.push('.delete()');
  for (const [k, v] of params) {
    if (k === 'select' || k === 'columns') continue;
    if (k === 'order') {
      for (const part of v.split(',')) {
        const [col, dir] = part.split('.');
        calls.push(`.order(${js(col)}${dir === 'desc' ? ', { ascending: false }' : ''})`);
      }
    } else if (k === 'limit') calls.push(`.limit(${Number(v)})`);
    else if (k === 'offset') calls.push(`.range(${Number(v)}, ${Number(v) + Number(params.get('limit') ?? 100) - 1})`);
    else if (k === 'or') calls.push(`.or(${js(v.replace(/^\(|\)$/g, ''))})`);
    else {
      const dot = v.indexOf('.');
      const op = dot > 0 ? v.slice(0, dot) : 'eq';
      const value = dot > 0 ? v.slice(dot + 1) : v;
      if (op === 'in') calls.push(`.in(${js(k)}, ${js(value.replace(/^\(|\)$/g, '').split(','))})`);
      else if (METHODS.has(op)) calls.push(`.${op}(${js(k)}, ${js(value)})`);
      else calls.push(`.filter(${js(k)}, ${js(op)}, ${js(value)})`);
    }
  }
  if ((verb === 'update' || verb === 'delete') && select) calls.push(`.select(${js(select)})`);
  return calls;
}

function callOf(req: RawRequest, client: string): string {
  if (req.path.startsWith('/rpc/')) {
    const fn = req.path.slice(5);
    let args = '';
    if (req.method !== 'GET' && req.body?.trim()) args = `, ${req.body.trim()}`;
    else if (req.query.trim()) args = `, ${js(Object.fromEntries(new URLSearchParams(req.query)))}${req.method === 'GET' ? ', { get: true }' : ''}`;
    return `const { data, error } = await ${client}.rpc(${js(fn)}${args})`;
  }
  const table = req.path.replace(/^\//, '').split('?')[0] ?? '';
  const verb = req.method === 'GET' ? 'select' : req.method === 'POST' ? 'insert' : req.method === 'PATCH' ? 'update' : 'delete';
  const calls = chain(req.query, verb, req.body);
  return `const { data, error } = await ${client}\n  .from(${js(table)})\n  ${calls.join('\n  ')}`;
}

export function postgrestJsOf(req: RawRequest, origin: string, tenant: string): string {
  return [
    `import { PostgrestClient } from '@supabase/postgrest-js'`,
    ``,
    `const postgrest = new PostgrestClient(${js(`${origin}/rest/v1`)}, {`,
    `  schema: ${js(tenant)},`,
    `  headers: { Authorization: \`Bearer \${TOKEN}\` },`,
    `})`,
    callOf(req, 'postgrest'),
  ].join('\n');
}

export function supabaseJsOf(req: RawRequest, origin: string, tenant: string): string {
  return [
    `import { createClient } from '@supabase/supabase-js'`,
    ``,
    `// The front door serves tenant ${tenant}'s API at /rest/v1/, as Supabase does (docs/gateway.md).`,
    `const supabase = createClient(${js(origin)}, ANON_TOKEN, {`,
    `  accessToken: async () => TOKEN,`,
    `})`,
    callOf(req, 'supabase'),
  ].join('\n');
}
