// A database error of a write, placed at the form field it is about. The
// database is the judge of every rule (CHECK constraints, NOT NULL, foreign
// keys, unique indexes); the form only shows where its answer points.
import { ApiError } from '../api/client';
import { fieldOfColumn } from '../api/records';
import type { EntityDef } from '../api/types';

export interface PlacedError {
  /** The form field (a field name, or a system column) the error is about, if known. */
  field: string | null;
  message: string;
}

const PATTERNS: [RegExp, (m: RegExpExecArray) => string][] = [
  // 23514, Cot's rule constraints: message names the field, details say the rule.
  [/breaks the rule of field "([^"]+)"/, (m) => m[1] ?? ''],
  // 23502
  [/null value in column "([^"]+)"/, (m) => m[1] ?? ''],
  // 23505 / 23503: DETAIL "Key (col)=(...) ..." (the values may be hidden: "Key is not present")
  [/Key \(([^)=]+)\)/, (m) => m[1] ?? ''],
  // 23503 without the key: the constraint's name is <table>_<column>_fkey
  [/constraint "[a-z0-9_]+?_([a-z0-9_]+_id)_fkey"/, (m) => m[1] ?? ''],
  // 23505 by constraint name <table>_<column>_key
  [/constraint "[a-z0-9_]+?_([a-z0-9_]+)_key"/, (m) => m[1] ?? ''],
];

/** Which field an API error is about, and what to say there. */
export function placeError(def: EntityDef, e: unknown): PlacedError {
  if (!(e instanceof ApiError)) return { field: null, message: e instanceof Error ? e.message : String(e) };
  const text = `${e.message}\n${e.details ?? ''}`;
  const message = e.code === '23514' && e.details ? e.details : e.details ? `${e.message}: ${e.details}` : e.message;
  for (const [re, pick] of PATTERNS) {
    const m = re.exec(text);
    if (!m) continue;
    const column = pick(m);
    const field = fieldOfColumn(def, column)?.name ?? (def.fields.some((f) => f.name === column) ? column : null);
    if (field) return { field, message: e.code === '23505' ? `another record already has this value (${e.message})` : message };
  }
  return { field: null, message: e.code ? `${message} (${e.code})` : message };
}
