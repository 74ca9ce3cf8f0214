// The records browser of one entity: a page of records read with cot.query
// (keyset cursors), sorted by any column, filtered per field type, with the
// columns the user picks; related records shown by their label and opened
// on click; a form to create and edit.
import { useEffect, useMemo, useState } from 'react';
import { labelFieldOf, labelOf, sortable, viewColumns, type Filter, type Order, type RecordRow } from '../api/records';
import type { EntityDef, FieldDef } from '../api/types';
import { storageKey, useSession } from '../session/session';
import { ErrorText } from '../ui/ErrorText';
import { go, href } from '../ui/route';
import { Filters } from './Filters';
import { RecordForm } from './RecordForm';
import { usePage } from './usePage';
import { whereOf } from '../api/records';
import { Cell } from './Cell';
import { counted } from '../ui/count';

const PAGE = 50;

/** Related entities' definitions, to show a related record by its label. */
export type Targets = Record<string, EntityDef>;

export default function RecordsScreen({ name, open }: { name: string; open: string | null }) {
  const { api } = useSession();
  const [def, setDef] = useState<EntityDef | null>(null);
  const [targets, setTargets] = useState<Targets>({});
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    api.entity(name).then(
      async (d) => {
        const rel = d.fields.filter((f) => f.type === 'relation' && f.target);
        const defs = await Promise.all(rel.map((f) => api.entity(f.target ?? '').catch(() => null)));
        if (!live) return;
        const t: Targets = {};
        rel.forEach((f, i) => {
          const td = defs[i];
          if (td) t[f.name] = td;
        });
        setTargets(t);
        setDef(d);
      },
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [api, name]);
  if (error) return <ErrorText error={error} />;
  if (!def) return <p className="loading">Loading…</p>;
  return <Browser def={def} targets={targets} open={open} />;
}

function Browser({ def, targets, open }: { def: EntityDef; targets: Targets; open: string | null }) {
  const { api, tenant } = useSession();
  const all = useMemo(() => viewColumns(def), [def]);
  const colsKey = storageKey(tenant, 'columns', def.name);
  const [shown, setShown] = useState<string[]>(() => {
    const saved = localStorage.getItem(colsKey);
    const list = saved ? (JSON.parse(saved) as string[]).filter((c) => all.includes(c)) : [];
    return list.length > 0 ? list : all.filter((c) => c !== 'owner_id' && c !== 'updated_at');
  });
  useEffect(() => localStorage.setItem(colsKey, JSON.stringify(shown)), [colsKey, shown]);
  const [order, setOrder] = useState<Order[]>([]);
  const [filters, setFilters] = useState<Filter[]>([]);
  const [creating, setCreating] = useState(false);
  const where = useMemo(() => whereOf(filters), [filters]);
  const [notice, setNotice] = useState<string | null>(null);
  const relations = useMemo(
    () => def.fields.filter((f) => f.type === 'relation' && (f.kind === 'many_to_one' || f.kind === 'one_to_one') && targets[f.name]),
    [def, targets],
  );
  // Related records come embedded, only their id and label.
  const select = useMemo(() => {
    const embeds = relations
      .filter((f) => shown.includes(f.column ?? `${f.name}_id`))
      .map((f) => {
        const label = labelFieldOf(targets[f.name] as EntityDef);
        return { [f.name]: label ? ['id', label] : ['id'] };
      });
    return [...new Set(['id', ...shown]), ...embeds];
  }, [shown, relations, targets]);
  const page = usePage(api, def.name, select, where, order, PAGE);
  const sortOf = (c: string) => {
    const o = order[0];
    if (o === c) return 'ascending';
    if (o === `-${c}`) return 'descending';
    return 'none';
  };
  const toggleSort = (c: string) => setOrder(sortOf(c) === 'ascending' ? [`-${c}`] : [c]);
  const close = () => go({ screen: 'records', name: def.name });
  const byColumn = new Map(relations.map((f) => [f.column ?? `${f.name}_id`, f] as [string, FieldDef]));

  return (
    <section aria-labelledby="records-title" className="records">
      <div className="screen-head">
        <h1 id="records-title">Records of {def.name}</h1>
        <span>
          <a href={href({ screen: 'entity', name: def.name })}>Definition</a>{' '}
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            New record
          </button>
        </span>
      </div>
      <details className="columns-pick">
        <summary>Columns ({shown.length} of {all.length})</summary>
        {all.map((c) => (
          <label key={c} className="check">
            <input
              type="checkbox"
              checked={shown.includes(c)}
              onChange={(e) => setShown(e.target.checked ? all.filter((x) => x === c || shown.includes(x)) : shown.filter((x) => x !== c))}
            />
            {c}
          </label>
        ))}
      </details>
      <Filters def={def} columns={all} filters={filters} onChange={setFilters} />
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {page.error != null && <ErrorText error={page.error} />}
      <p className="count" aria-live="polite" data-loading={page.loading ? 'true' : 'false'}>
        Page {page.number}
        {page.count !== null && ` · ${counted(page.count, 'record')}`}
        {page.loading && ' · loading…'}
      </p>
      <div className="table-scroll">
        <table className="records-table">
          <thead>
            <tr>
              {shown.map((c) => (
                <th key={c} scope="col" aria-sort={sortOf(c)}>
                  {sortable(def, c) ? (
                    <button type="button" className="sort" onClick={() => toggleSort(c)}>
                      {c} <span aria-hidden="true">{sortOf(c) === 'ascending' ? '▲' : sortOf(c) === 'descending' ? '▼' : ''}</span>
                    </button>
                  ) : (
                    c
                  )}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {(page.rows ?? []).map((r) => (
              <tr key={String(r.id)} data-id={String(r.id)}>
                {shown.map((c) => (
                  <td key={c}>
                    {c === 'id' ? (
                      <a href={href({ screen: 'records', name: def.name, id: String(r.id) })}>{String(r.id).slice(-12)}</a>
                    ) : byColumn.has(c) ? (
                      <RelatedLink row={r} field={byColumn.get(c) as FieldDef} target={targets[(byColumn.get(c) as FieldDef).name] as EntityDef} />
                    ) : (
                      <Cell value={r[c]} />
                    )}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {page.rows?.length === 0 && <p>No records{where ? ' match these filters' : ' yet'}.</p>}
      <div className="actions left pager">
        <button type="button" onClick={page.prev} disabled={!page.hasPrev || page.loading}>
          Previous page
        </button>
        <button type="button" onClick={page.next} disabled={!page.hasNext || page.loading}>
          Next page
        </button>
      </div>
      {(creating || open) && (
        <RecordForm
          def={def}
          targets={targets}
          id={creating ? null : open}
          onClose={() => {
            setCreating(false);
            if (open) close();
          }}
          onSaved={(row: RecordRow | null, what: string) => {
            setCreating(false);
            setNotice(row ? `${what} record ${String(row.id)}.` : what);
            page.reload();
            if (open) close();
          }}
        />
      )}
    </section>
  );
}

function RelatedLink({ row, field, target }: { row: RecordRow; field: FieldDef; target: EntityDef }) {
  const related = row[field.name] as RecordRow | null | undefined;
  const id = row[field.column ?? `${field.name}_id`];
  if (id === null || id === undefined) return null;
  const text = related ? labelOf(related, labelFieldOf(target)) : String(id);
  return <a href={href({ screen: 'records', name: target.name, id: String(id) })}>{text}</a>;
}
