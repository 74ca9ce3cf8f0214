// Picks a related record: search the target entity by its label field
// (cot.query, 20 at a time) and choose one; the current one stays listed.
import { useEffect, useState } from 'react';
import { labelFieldOf, labelOf, type RecordRow } from '../api/records';
import type { EntityDef } from '../api/types';
import { useSession } from '../session/session';

interface Props {
  id: string;
  target: EntityDef;
  value: string;
  onChange: (id: string) => void;
  invalid: boolean;
  describedBy?: string;
}

export function RelationPicker({ id, target, value, onChange, invalid, describedBy }: Props) {
  const { api } = useSession();
  const label = labelFieldOf(target);
  const [search, setSearch] = useState('');
  const [options, setOptions] = useState<RecordRow[]>([]);
  const [current, setCurrent] = useState<RecordRow | null>(null);
  useEffect(() => {
    let live = true;
    const t = setTimeout(() => {
      const select = label ? ['id', label] : ['id'];
      const where = search && label ? { [label]: { ilike: `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` } } : undefined;
      api.query(target.name, { select, ...(where ? { where } : {}), order: label ? [label] : [], limit: 20 }).then(
        (p) => live && setOptions(p.data),
        () => live && setOptions([]),
      );
    }, 150);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [api, target.name, label, search]);
  useEffect(() => {
    let live = true;
    if (!value || options.some((o) => o.id === value)) return;
    api.query(target.name, { select: label ? ['id', label] : ['id'], where: { id: value }, limit: 1 }).then(
      (p) => live && setCurrent(p.data[0] ?? null),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [api, target.name, label, value, options]);
  const listed = current && !options.some((o) => o.id === current.id) ? [current, ...options] : options;
  return (
    <div className="relation-picker">
      <input
        type="search"
        aria-label={`Search ${target.name}`}
        placeholder={`Search ${target.name}${label ? ` by ${label}` : ''}`}
        value={search}
        onChange={(e) => setSearch(e.target.value)}
      />
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)} aria-invalid={invalid} aria-describedby={describedBy}>
        <option value="">(none)</option>
        {listed.map((o) => (
          <option key={String(o.id)} value={String(o.id)}>
            {labelOf(o, label)}
          </option>
        ))}
      </select>
    </div>
  );
}
