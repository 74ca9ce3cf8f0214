// Records as the API serves them, and the cot.query documents the records
// browser sends (docs/query.md). Pure functions: what a filter means as a
// `where`, which columns an entity's view has.
import type { EntityDef, FieldDef, FieldType } from './types';

export type RecordRow = Record<string, unknown>;

export type Order = string | { field: string; dir: 'asc' | 'desc' };

/** A cot.query document (docs/query.md, "The query document"). */
export interface QueryDoc {
  select?: '*' | (string | Record<string, unknown>)[];
  where?: Record<string, unknown>;
  order?: Order | Order[];
  limit?: number;
  offset?: number;
  cursor?: string;
  count?: boolean;
}

export interface QueryPage {
  data: RecordRow[];
  next_cursor: string | null;
  count: number | null;
}

/** One change of a record (cot.history, docs/changes.md). */
export interface HistoryEntry {
  version: number;
  change_id?: number | string;
  at: string;
  op: 'insert' | 'update' | 'delete' | 'transition';
  /** A workflow transition's entry (docs/workflows.md, "History"). */
  transition?: { name: string; field: string; from: string; to: string; note?: string };
  /** Who: the JWT's `sub` and `role` (or the database role outside the API). */
  actor: { sub?: string | null; role?: string | null } | string | null;
  old: RecordRow | null;
  new: RecordRow | null;
  record: RecordRow | null;
}

/** Columns every API view has besides the fields (owner_id only under an owner rule). */
export const SYSTEM_COLUMNS = ['id', 'created_at', 'updated_at', 'owner_id'] as const;

/** A many_to_one or one_to_one field is a column `<field>_id`; one_to_many and many_to_many have none. */
export function columnOf(f: FieldDef): string | null {
  if (f.type !== 'relation') return f.name;
  if (f.kind === 'many_to_one' || f.kind === 'one_to_one') return f.column ?? `${f.name}_id`;
  return null;
}

/** The field behind a view column, if any (`customer_id` → the field `customer`). */
export function fieldOfColumn(def: EntityDef, column: string): FieldDef | undefined {
  return def.fields.find((f) => columnOf(f) === column);
}

/** The view's columns in the order the API lists them. */
export function viewColumns(def: EntityDef): string[] {
  const owner = Object.values(def.access ?? {}).includes('owner');
  const fields = def.fields.map(columnOf).filter((c): c is string => c !== null);
  return ['id', ...fields, 'created_at', 'updated_at', ...(owner ? ['owner_id'] : [])];
}

/** A column cot.query can sort on: not an array, not json. */
export function sortable(def: EntityDef, column: string): boolean {
  const f = fieldOfColumn(def, column);
  return !f || (f.type !== 'array' && f.type !== 'json');
}

/** The kind of filter a field type gets in the records browser. */
export type FilterKind = 'text' | 'number' | 'enum' | 'date' | 'datetime' | 'boolean' | 'other';

export function filterKind(type: FieldType | 'system-time' | 'uuid'): FilterKind {
  switch (type) {
    case 'text':
    case 'email':
    case 'url':
      return 'text';
    case 'integer':
    case 'bigint':
    case 'decimal':
    case 'float':
      return 'number';
    case 'enum':
      return 'enum';
    case 'date':
      return 'date';
    case 'timestamp':
    case 'system-time':
      return 'datetime';
    case 'boolean':
      return 'boolean';
    default:
      return 'other';
  }
}

/** One filter as the user set it. Empty bounds are ignored. */
export interface Filter {
  column: string;
  kind: FilterKind;
  /** text: contains (case-insensitive) */
  text?: string;
  /** number, date, datetime: bounds, inclusive */
  from?: string;
  to?: string;
  /** enum: any of these */
  values?: string[];
  /** boolean */
  bool?: 'true' | 'false';
  /** any kind: only empty (true) or only filled (false) */
  isNull?: boolean;
}

/** `%` and `_` in a user's text are literal, not patterns. */
function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The condition one filter puts on its column, or null when it is empty. */
export function conditionOf(f: Filter): Record<string, unknown> | null {
  if (f.isNull !== undefined) return { is_null: f.isNull };
  const c: Record<string, unknown> = {};
  switch (f.kind) {
    case 'text':
      if (f.text) c.ilike = `%${escapeLike(f.text)}%`;
      break;
    case 'number':
      if (f.from !== undefined && f.from !== '') c.gte = Number(f.from);
      if (f.to !== undefined && f.to !== '') c.lte = Number(f.to);
      break;
    case 'date':
      if (f.from) c.gte = f.from;
      if (f.to) c.lte = f.to;
      break;
    case 'datetime':
      // datetime-local inputs are in the browser's time zone
      if (f.from) c.gte = new Date(f.from).toISOString();
      if (f.to) c.lte = new Date(f.to).toISOString();
      break;
    case 'enum':
      if (f.values && f.values.length > 0) c.in = f.values;
      break;
    case 'boolean':
      if (f.bool) c.eq = f.bool === 'true';
      break;
    case 'other':
      if (f.text) c.eq = f.text;
      break;
  }
  return Object.keys(c).length > 0 ? c : null;
}

/** The `where` of a list of filters (all must hold), or undefined when none applies. */
export function whereOf(filters: Filter[]): Record<string, unknown> | undefined {
  const parts: Record<string, unknown>[] = [];
  for (const f of filters) {
    const c = conditionOf(f);
    if (c) parts.push({ [f.column]: c });
  }
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : { and: parts };
}

/** The field a text column shows related records by: `name`, `title`, `label`, else the first text field. */
export function labelFieldOf(def: EntityDef): string | null {
  const texts = def.fields.filter((f) => f.type === 'text' || f.type === 'email');
  for (const n of ['name', 'title', 'label']) if (texts.some((f) => f.name === n)) return n;
  return texts[0]?.name ?? null;
}

/** A related record as the browser shows it: its label, else its id. */
export function labelOf(row: RecordRow | null | undefined, labelField: string | null): string {
  if (!row) return '';
  const v = labelField ? row[labelField] : null;
  return v === null || v === undefined || v === '' ? String(row.id ?? '') : String(v);
}
