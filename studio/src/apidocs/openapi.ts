// Reading the tenant's OpenAPI document (cot.openapi) for the docs screen.
import type { JsonSchema, OpenApiDoc } from '../api/client';

export interface Operation {
  method: string;
  summary: string;
  description: string;
  /** Query parameters with a name (filters, select); the shared ones are $refs. */
  params: { name: string; description: string }[];
}

interface RawOperation {
  summary?: string;
  description?: string;
  parameters?: ({ name?: string; in?: string; description?: string } | { $ref: string })[];
}

const VERBS = ['get', 'post', 'patch', 'delete'];

export function operationsOf(doc: OpenApiDoc, path: string): Operation[] {
  const item = doc.paths[path] ?? {};
  return VERBS.filter((v) => item[v]).map((v) => {
    const op = item[v] as RawOperation;
    const params = (op.parameters ?? [])
      .filter((p): p is { name: string; in?: string; description?: string } => 'name' in p && typeof p.name === 'string')
      .map((p) => ({ name: p.name, description: p.description ?? '' }));
    return { method: v.toUpperCase(), summary: op.summary ?? '', description: op.description ?? '', params };
  });
}

/** The type of a property as a reader writes it: `string (uuid)`, `array of string`, `number | null`. */
export function typeOf(s: JsonSchema): string {
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : ['any JSON'];
  const main = types.filter((t) => t !== 'null').join(' | ') || 'null';
  let text = main === 'array' && s.items ? `array of ${typeOf(s.items)}` : main;
  if (s.format) text += ` (${s.format})`;
  if (types.includes('null')) text += ' | null';
  return text;
}

/** The constraints of a property, one phrase each. */
export function constraintsOf(s: JsonSchema): string[] {
  const out: string[] = [];
  if (s.enum) out.push(`one of ${s.enum.filter((v) => v !== null).map((v) => JSON.stringify(v)).join(', ')}`);
  if (s.minimum !== undefined) out.push(`≥ ${s.minimum}`);
  if (s.maximum !== undefined) out.push(`≤ ${s.maximum}`);
  if (s.minLength !== undefined) out.push(`at least ${s.minLength} characters`);
  if (s.maxLength !== undefined) out.push(`at most ${s.maxLength} characters`);
  if (s.pattern) out.push(`matches ${s.pattern}`);
  if (s.default !== undefined) out.push(`default ${JSON.stringify(s.default)}`);
  if (s.readOnly) out.push('read-only');
  return out;
}

/** The block of one view in cot.typescript's output (`<name>: { Row ... }`), or null. */
export function typesOf(source: string, name: string): string | null {
  const lines = source.split('\n');
  // Views are listed at a fixed indent (6 spaces) under `Views: {`; a JSDoc comment precedes each.
  const start = lines.findIndex((l) => l === `      ${name}: {`);
  if (start < 0) return null;
  let end = start + 1;
  while (end < lines.length && lines[end] !== '      }') end++;
  let docStart = start;
  if (lines[start - 1]?.trim() === '*/') {
    while (docStart > 0 && !lines[docStart - 1]?.trim().startsWith('/**')) docStart--;
    docStart--;
  }
  return lines
    .slice(Math.max(docStart, 0), end + 1)
    .map((l) => l.slice(6))
    .join('\n');
}
