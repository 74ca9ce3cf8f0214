// Which options each field type takes (docs/definition-reference.md, "Field
// keys"; enforced by the engine's validate/field.rs and validate/relation.rs).
// The drawer shows exactly these; the browser tests check this table against
// the server's validate_entity for every type and option.
import type { FieldDef, FieldType } from '../api/types';

export type OptionKey =
  | 'required' | 'unique' | 'index' | 'default'
  | 'min' | 'max' | 'min_length' | 'max_length' | 'pattern'
  | 'precision' | 'scale' | 'values' | 'items'
  | 'kind' | 'target' | 'on_delete' | 'inverse'
  | 'states' | 'initial' | 'starts' | 'transitions';

/** Every option the drawer can show, in the order it shows them. */
export const ALL_OPTIONS: OptionKey[] = [
  'kind', 'target', 'on_delete', 'inverse', 'items',
  'required', 'unique', 'index', 'default',
  'min', 'max', 'min_length', 'max_length', 'pattern', 'precision', 'scale', 'values',
  'states', 'initial', 'starts', 'transitions',
];

const ORDERED: FieldType[] = ['integer', 'bigint', 'decimal', 'float', 'date', 'timestamp', 'time'];
const TEXTUAL: FieldType[] = ['text', 'email', 'url'];

/** The options a field of this type (and, for arrays, item type; for
 * relations, kind) takes, besides name, label and description. */
export function optionsFor(f: Pick<FieldDef, 'type' | 'items' | 'kind'>): OptionKey[] {
  if (f.type === 'relation') {
    const out: OptionKey[] = ['kind', 'target'];
    if (f.kind === 'many_to_one' || f.kind === 'one_to_one' || f.kind === undefined) out.push('on_delete', 'required');
    if (f.kind === 'one_to_many') out.push('inverse');
    return out;
  }
  // A state field is always required (docs/workflows.md): `required` is accepted, as true.
  if (f.type === 'state') return ['states', 'initial', 'starts', 'transitions', 'required', 'unique', 'index'];
  const out: OptionKey[] = ['required', 'unique', 'index', 'default'];
  if (f.type === 'array') {
    out.unshift('items');
    if (f.items === 'decimal') out.push('precision', 'scale');
    if (f.items === 'enum') out.push('values');
    return out;
  }
  if (ORDERED.includes(f.type)) out.push('min', 'max');
  if (TEXTUAL.includes(f.type)) out.push('min_length', 'max_length');
  if (f.type === 'text') out.push('pattern');
  if (f.type === 'decimal') out.push('precision', 'scale');
  if (f.type === 'enum') out.push('values');
  return out;
}

const ALWAYS = new Set(['id', 'name', 'type', 'label', 'description']);

/** The field without the options its (new) type does not take. */
export function withOnlyItsOptions(f: FieldDef): FieldDef {
  const keep = new Set<string>([...ALWAYS, ...optionsFor(f)]);
  if (f.type === 'relation') keep.add(f.kind === 'many_to_many' ? 'junction' : 'column');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f)) if (keep.has(k) && v !== undefined) out[k] = v;
  return out as unknown as FieldDef;
}

/** A short picture and a line of help per type, for the type picker. */
export const TYPE_INFO: Record<FieldType, { glyph: string; help: string }> = {
  text: { glyph: 'Aa', help: 'Text of any length; lengths and a pattern' },
  integer: { glyph: '123', help: 'Whole number, 32 bit' },
  bigint: { glyph: '1e18', help: 'Whole number, 64 bit' },
  decimal: { glyph: '1.50', help: 'Exact number: money, quantities' },
  float: { glyph: '≈π', help: 'Approximate number (double precision)' },
  boolean: { glyph: '✓✗', help: 'Yes or no' },
  date: { glyph: '1/12', help: 'A calendar date' },
  timestamp: { glyph: 'T·Z', help: 'An instant, with time zone' },
  time: { glyph: '9:30', help: 'A time of day' },
  uuid: { glyph: 'id', help: 'A uuid' },
  json: { glyph: '{}', help: 'Any JSON document' },
  enum: { glyph: '☰', help: 'One of a list of values' },
  email: { glyph: '@', help: 'An e-mail address' },
  url: { glyph: '://', help: 'An http(s) address' },
  array: { glyph: '[ ]', help: 'A list of values of one type' },
  relation: { glyph: '⇄', help: 'A link to another entity' },
  state: { glyph: '◎→◉', help: 'A workflow: states and the transitions between them' },
};

/** "order_items" → "Order items", as Cot derives labels (validate::label_from_name). */
export function labelFromName(name: string): string {
  const spaced = name.replace(/_/g, ' ');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}
