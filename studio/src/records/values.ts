// Form values (the strings inputs hold) to JSON values the API takes, and
// back, per field type. Numbers that may not fit a JavaScript number
// (decimal, bigint) travel as strings, which PostgreSQL reads exactly.
import { columnOf } from '../api/records';
import type { FieldDef } from '../api/types';

/** What a form input holds for one field. */
export type FormValue = string;

export class ValueError extends Error {}

const pad = (n: number) => String(n).padStart(2, '0');

/** An ISO timestamp as a datetime-local input shows it (the browser's time zone). */
export function toLocalInput(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The form's text for a stored value. */
export function toForm(f: FieldDef, v: unknown): FormValue {
  if (v === null || v === undefined) return '';
  switch (f.type) {
    case 'json':
      return JSON.stringify(v, null, 2);
    case 'array':
      return Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join('\n') : '';
    case 'timestamp':
      return toLocalInput(String(v));
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      return String(v);
  }
}

function scalar(type: FieldDef['type'] | undefined, s: string): unknown {
  switch (type) {
    case 'integer':
    case 'float': {
      const n = Number(s);
      if (!Number.isFinite(n)) throw new ValueError(`"${s}" is not a number`);
      return n;
    }
    case 'decimal':
    case 'bigint':
      if (!/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(s.trim())) throw new ValueError(`"${s}" is not a number`);
      return s.trim();
    case 'boolean':
      return s === 'true';
    case 'timestamp': {
      const d = new Date(s);
      if (Number.isNaN(d.getTime())) throw new ValueError(`"${s}" is not a date and time`);
      return d.toISOString();
    }
    default:
      return s;
  }
}

/** The JSON value to send for a form's text; throws ValueError when it cannot be read. */
export function fromForm(f: FieldDef, s: FormValue): unknown {
  if (f.type === 'array') {
    const lines = s.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    return lines.map((l) => scalar(f.items, l));
  }
  if (s.trim() === '') return null;
  if (f.type === 'json') {
    try {
      return JSON.parse(s) as unknown;
    } catch (e) {
      throw new ValueError(`not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return scalar(f.type, s);
}

/** Fields a record form edits: all but one_to_many and many_to_many (no column). */
export function editableFields(fields: FieldDef[]): FieldDef[] {
  return fields.filter((f) => columnOf(f) !== null);
}
