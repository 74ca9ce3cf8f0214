// The input of one field in the record form, chosen by the field's type.
import type { EntityDef, FieldDef } from '../api/types';
import { RelationPicker } from './RelationPicker';
import type { FormValue } from './values';
import { stateFieldOf } from './workflow';

interface Props {
  id: string;
  field: FieldDef;
  target?: EntityDef;
  value: FormValue;
  onChange: (v: FormValue) => void;
  invalid: boolean;
  describedBy: string;
  /** A new record (a state field may be chosen among its starts). */
  isNew?: boolean;
}

/** The rules of a field, as the help under its input states them. */
export function limitsOf(f: FieldDef): string[] {
  const out: string[] = [];
  if (f.min !== undefined) out.push(`at least ${f.min}`);
  if (f.max !== undefined) out.push(`at most ${f.max}`);
  if (f.min_length !== undefined) out.push(`at least ${f.min_length} characters`);
  if (f.max_length !== undefined) out.push(`at most ${f.max_length} characters`);
  if (f.pattern) out.push(`matches ${f.pattern}`);
  if (f.precision !== undefined) out.push(`${f.precision} digits, ${f.scale ?? 0} after the point`);
  if (f.unique) out.push('unique');
  if (f.type === 'array') out.push('one item per line');
  if (f.type === 'json') out.push('JSON');
  return out;
}

const INPUT_TYPE: Partial<Record<FieldDef['type'], string>> = {
  integer: 'number',
  bigint: 'text',
  decimal: 'text',
  float: 'number',
  date: 'date',
  timestamp: 'datetime-local',
  time: 'time',
  email: 'email',
  url: 'url',
};

export function FieldInput({ id, field: f, target, value, onChange, invalid, describedBy, isNew = false }: Props) {
  const common = { id, 'aria-invalid': invalid, 'aria-describedby': describedBy, 'aria-required': f.required ?? false };
  if (f.type === 'relation' && target) {
    return <RelationPicker id={id} target={target} value={value} onChange={onChange} invalid={invalid} describedBy={describedBy} />;
  }
  const state = stateFieldOf({ name: '', fields: [f] });
  if (state) {
    // A new record starts in one of `starts`; later its state changes by transitions (the workflow panel).
    const choices = isNew ? (state.starts ?? [state.initial]) : state.states;
    return (
      <select {...common} value={value || state.initial} disabled={!isNew} onChange={(e) => onChange(e.target.value)}>
        {choices.map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
      </select>
    );
  }
  if (f.type === 'enum') {
    return (
      <select {...common} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">{f.required ? 'choose…' : '(none)'}</option>
        {(f.values ?? []).map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
      </select>
    );
  }
  if (f.type === 'boolean') {
    return (
      <select {...common} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">(none)</option>
        <option value="true">true</option>
        <option value="false">false</option>
      </select>
    );
  }
  if (f.type === 'json' || f.type === 'array' || (f.type === 'text' && (f.max_length ?? 1000) > 200)) {
    return (
      <textarea
        {...common}
        className={f.type === 'text' ? undefined : 'json'}
        rows={f.type === 'text' ? 3 : 4}
        value={value}
        maxLength={f.type === 'text' ? f.max_length : undefined}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  }
  const numeric = f.type === 'integer' || f.type === 'float';
  return (
    <input
      {...common}
      type={INPUT_TYPE[f.type] ?? 'text'}
      inputMode={f.type === 'decimal' || f.type === 'bigint' ? 'decimal' : undefined}
      min={numeric && f.min !== undefined ? String(f.min) : undefined}
      max={numeric && f.max !== undefined ? String(f.max) : undefined}
      step={f.type === 'float' ? 'any' : undefined}
      value={value}
      onChange={(e) => onChange(e.target.value)}
    />
  );
}
