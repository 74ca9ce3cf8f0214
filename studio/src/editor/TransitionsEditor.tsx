// The transitions of a state field (docs/workflows.md): one row each, its
// name, the states it leaves from, the state it leads to, who may take it
// and its guard (a cot.query condition, as JSON).
import { useState } from 'react';
import type { FieldDef, TransitionDef } from '../api/types';
import { FieldErrors } from './FieldErrors';
import type { Placed } from './violations';

interface Props {
  field: FieldDef;
  base: string;
  problems: Placed;
  onChange: (t: TransitionDef[] | undefined) => void;
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const one = (xs: string[]): string | string[] | undefined => (xs.length === 0 ? undefined : xs.length === 1 ? xs[0] : xs);

export function TransitionsEditor({ field, base, problems, onChange }: Props) {
  const all = field.transitions ?? [];
  const states = (field.states ?? []).filter(Boolean);
  const update = (i: number, t: TransitionDef) => onChange(all.map((x, j) => (j === i ? t : x)));
  const add = () => {
    const from = states[0] ?? '';
    const to = states[1] ?? from;
    onChange([...all, { name: `to_${to || 'next'}`.replace(/[^a-z0-9_]/g, '_'), from, to }]);
  };
  return (
    <fieldset className="transitions-editor">
      <legend>transitions</legend>
      <FieldErrors list={problems.at(`${base}`)} pointer={base} />
      {all.map((t, i) => (
        <TransitionRow
          key={i}
          t={t}
          i={i}
          states={states}
          base={`${base}/${i}`}
          problems={problems}
          onChange={(x) => update(i, x)}
          onRemove={() => onChange(all.length > 1 ? all.filter((_, j) => j !== i) : undefined)}
        />
      ))}
      <button type="button" onClick={add}>
        Add transition
      </button>
    </fieldset>
  );
}

function TransitionRow(props: {
  t: TransitionDef;
  i: number;
  states: string[];
  base: string;
  problems: Placed;
  onChange: (t: TransitionDef) => void;
  onRemove: () => void;
}) {
  const { t, i, states, base, problems, onChange, onRemove } = props;
  const id = (k: string) => `tr${i}-${k}`;
  const [guard, setGuard] = useState(t.guard ? JSON.stringify(t.guard) : '');
  const [guardError, setGuardError] = useState<string | null>(null);
  const from = list(t.from);
  const set = (patch: Partial<TransitionDef>) => {
    const next: Record<string, unknown> = { ...t, ...patch };
    for (const k of Object.keys(patch)) if (next[k] === undefined || next[k] === '') delete next[k];
    onChange(next as unknown as TransitionDef);
  };
  return (
    <div className="transition-row" data-transition={i}>
      <div className="opt">
        <label htmlFor={id('name')}>Transition name</label>
        <input id={id('name')} type="text" spellCheck={false} value={t.name} onChange={(e) => set({ name: e.target.value })} />
        <FieldErrors list={problems.at(`${base}/name`)} pointer={`${base}/name`} />
      </div>
      <fieldset>
        <legend>from</legend>
        {states.map((s) => (
          <label key={s} className="check inline">
            <input
              type="checkbox"
              checked={from.includes(s)}
              onChange={(e) => set({ from: one(e.target.checked ? states.filter((x) => x === s || from.includes(x)) : from.filter((x) => x !== s)) })}
            />
            {s}
          </label>
        ))}
        <FieldErrors list={problems.under(`${base}/from`)} pointer={`${base}/from`} />
      </fieldset>
      <div className="opt">
        <label htmlFor={id('to')}>to</label>
        <select id={id('to')} value={t.to} onChange={(e) => set({ to: e.target.value })}>
          {states.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <FieldErrors list={problems.at(`${base}/to`)} pointer={`${base}/to`} />
      </div>
      <div className="opt">
        <label htmlFor={id('who')}>who (public, tenant, owner, admin or role names; comma-separated)</label>
        <input
          id={id('who')}
          type="text"
          value={list(t.who).join(', ')}
          onChange={(e) => set({ who: one(e.target.value.split(',').map((x) => x.trim()).filter(Boolean)) })}
        />
        <FieldErrors list={problems.under(`${base}/who`)} pointer={`${base}/who`} />
      </div>
      <div className="opt">
        <label htmlFor={id('guard')}>guard (a cot.query condition, JSON)</label>
        <input
          id={id('guard')}
          type="text"
          spellCheck={false}
          placeholder='{"total": {"gt": 0}}'
          value={guard}
          aria-invalid={guardError !== null || undefined}
          onChange={(e) => {
            setGuard(e.target.value);
            if (e.target.value.trim() === '') {
              setGuardError(null);
              return set({ guard: undefined });
            }
            try {
              const g = JSON.parse(e.target.value) as unknown;
              if (typeof g !== 'object' || g === null || Array.isArray(g)) throw new Error('a guard is a JSON object');
              setGuardError(null);
              set({ guard: g as Record<string, unknown> });
            } catch (err) {
              setGuardError(err instanceof Error ? err.message : String(err));
            }
          }}
        />
        {guardError && <p className="field-error">{guardError}</p>}
        <FieldErrors list={problems.under(`${base}/guard`)} pointer={`${base}/guard`} />
      </div>
      <button type="button" className="remove" onClick={onRemove}>
        Remove transition {t.name}
      </button>
    </div>
  );
}
