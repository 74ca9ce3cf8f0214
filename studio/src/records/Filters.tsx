// The filters of the records browser, one per column, built from the field's
// type: text contains, number and date ranges, enum pick-lists, booleans, and
// "empty / not empty" for every column.
import { useId } from 'react';
import { filterKind, fieldOfColumn, type Filter, type FilterKind } from '../api/records';
import type { EntityDef } from '../api/types';

export function kindOfColumn(def: EntityDef, column: string): FilterKind {
  if (column === 'created_at' || column === 'updated_at') return 'datetime';
  const f = fieldOfColumn(def, column);
  return f ? filterKind(f.type) : 'other';
}

interface Props {
  def: EntityDef;
  columns: string[];
  filters: Filter[];
  onChange: (filters: Filter[]) => void;
}

export function Filters({ def, columns, filters, onChange }: Props) {
  const addId = useId();
  const free = columns.filter((c) => !filters.some((f) => f.column === c));
  const set = (i: number, f: Filter) => onChange(filters.map((x, j) => (j === i ? f : x)));
  return (
    <section className="filters" aria-label="Filters">
      {filters.map((f, i) => (
        <FilterRow key={f.column} def={def} filter={f} onChange={(g) => set(i, g)} onRemove={() => onChange(filters.filter((_, j) => j !== i))} />
      ))}
      <div className="filter-add">
        <label htmlFor={addId}>Add a filter on</label>
        <select
          id={addId}
          value=""
          onChange={(e) => {
            const column = e.target.value;
            if (column) onChange([...filters, { column, kind: kindOfColumn(def, column) }]);
          }}
        >
          <option value="">choose a column…</option>
          {free.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      </div>
    </section>
  );
}

function FilterRow({ def, filter: f, onChange, onRemove }: { def: EntityDef; filter: Filter; onChange: (f: Filter) => void; onRemove: () => void }) {
  const id = useId();
  const field = fieldOfColumn(def, f.column);
  const mode = f.isNull === undefined ? 'value' : f.isNull ? 'empty' : 'filled';
  const inputType = f.kind === 'date' ? 'date' : f.kind === 'datetime' ? 'datetime-local' : 'number';
  return (
    <fieldset className="filter" data-filter={f.column}>
      <legend>{f.column}</legend>
      <label className="sr-only" htmlFor={`${id}-mode`}>
        {f.column}: which records
      </label>
      <select
        id={`${id}-mode`}
        className="filter-mode"
        value={mode}
        onChange={(e) => {
          const m = e.target.value;
          onChange({ ...f, isNull: m === 'value' ? undefined : m === 'empty' });
        }}
      >
        <option value="value">{f.kind === 'text' ? 'contains' : f.kind === 'enum' ? 'is one of' : f.kind === 'boolean' ? 'is' : f.kind === 'other' ? 'equals' : 'between'}</option>
        <option value="empty">is empty</option>
        <option value="filled">is not empty</option>
      </select>
      {mode === 'value' && (f.kind === 'text' || f.kind === 'other') && (
        <input type="text" aria-label={`${f.column} ${f.kind === 'text' ? 'contains' : 'equals'}`} value={f.text ?? ''} onChange={(e) => onChange({ ...f, text: e.target.value })} />
      )}
      {mode === 'value' && (f.kind === 'number' || f.kind === 'date' || f.kind === 'datetime') && (
        <>
          <input type={inputType} aria-label={`${f.column} from`} value={f.from ?? ''} onChange={(e) => onChange({ ...f, from: e.target.value })} />
          <span aria-hidden="true">–</span>
          <input type={inputType} aria-label={`${f.column} to`} value={f.to ?? ''} onChange={(e) => onChange({ ...f, to: e.target.value })} />
        </>
      )}
      {mode === 'value' && f.kind === 'enum' && (
        <select
          multiple
          aria-label={`${f.column} is one of`}
          value={f.values ?? []}
          onChange={(e) => onChange({ ...f, values: [...e.target.selectedOptions].map((o) => o.value) })}
        >
          {(field?.values ?? []).map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </select>
      )}
      {mode === 'value' && f.kind === 'boolean' && (
        <select aria-label={`${f.column} is`} value={f.bool ?? ''} onChange={(e) => onChange({ ...f, bool: (e.target.value || undefined) as Filter['bool'] })}>
          <option value="">any</option>
          <option value="true">true</option>
          <option value="false">false</option>
        </select>
      )}
      <button type="button" className="remove" onClick={onRemove} aria-label={`Remove the filter on ${f.column}`}>
        ×
      </button>
    </fieldset>
  );
}
