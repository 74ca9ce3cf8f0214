import { useEffect, useState } from 'react';
import type { FieldType } from '../api/types';

/** The JSON value a typed text stands for, for a field of this type: numbers
 * for integer, bigint and float; strings for decimal (exact digits), dates and
 * times; true/false; JSON for json and arrays. Text that does not read as the
 * type is sent as it is, and Cot says what is wrong at the field. */
export function parseValue(type: FieldType, text: string): unknown {
  const t = text.trim();
  if (t === '') return undefined;
  switch (type) {
    case 'integer':
    case 'bigint':
    case 'float':
      return /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(t) ? Number(t) : text;
    case 'boolean':
      return t === 'true' ? true : t === 'false' ? false : text;
    case 'json':
    case 'array':
      try {
        return JSON.parse(t) as unknown;
      } catch {
        return text;
      }
    default:
      return text;
  }
}

export function showValue(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

interface Props {
  id: string;
  type: FieldType;
  value: unknown;
  onChange: (v: unknown) => void;
  placeholder?: string;
  describedBy?: string;
  invalid?: boolean;
}

/** A text input for a typed value that keeps what is typed ("1.0", "-")
 * while passing the parsed value up. */
export function ValueInput({ id, type, value, onChange, placeholder, describedBy, invalid }: Props) {
  const [text, setText] = useState(() => showValue(value));
  useEffect(() => {
    // Follow changes from outside (a discarded draft, a new type), not our own.
    if (JSON.stringify(parseValue(type, text)) !== JSON.stringify(value)) setText(showValue(value));
  }, [value, type]);
  return (
    <input
      id={id}
      type="text"
      value={text}
      placeholder={placeholder}
      aria-describedby={describedBy}
      aria-invalid={invalid || undefined}
      spellCheck={false}
      onChange={(e) => {
        setText(e.target.value);
        onChange(parseValue(type, e.target.value));
      }}
    />
  );
}
