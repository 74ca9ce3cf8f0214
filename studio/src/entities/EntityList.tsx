import { useDeferredValue, useEffect, useMemo, useState } from 'react';
import type { EntitySummary } from '../api/types';
import { useSession } from '../session/session';
import { hasDraft } from '../editor/drafts';
import { href } from '../ui/route';
import { ErrorText } from '../ui/ErrorText';

/** The tenant's entities, with a search over names, labels and descriptions. */
export function EntityList() {
  const { api, tenant } = useSession();
  const [entities, setEntities] = useState<EntitySummary[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [query, setQuery] = useState('');
  // Typing stays responsive on a tenant of hundreds of entities: the list
  // re-renders at a lower priority than the input.
  const deferred = useDeferredValue(query);

  useEffect(() => {
    let live = true;
    api.entities().then(
      (list) => live && setEntities(list),
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [api]);

  const shown = useMemo(() => {
    const q = deferred.trim().toLowerCase();
    if (!entities) return [];
    if (!q) return entities;
    return entities.filter((e) =>
      [e.name, e.label ?? '', e.description ?? ''].some((s) => s.toLowerCase().includes(q)),
    );
  }, [entities, deferred]);

  return (
    <section aria-labelledby="entities-title">
      <div className="screen-head">
        <h1 id="entities-title">Entities</h1>
        <a className="button primary" href={href({ screen: 'new' })}>
          New entity
        </a>
      </div>
      <label htmlFor="entity-search" className="search-label">
        Search entities
      </label>
      <input
        id="entity-search"
        type="search"
        placeholder="Name, label or description"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
      />
      {error != null && <ErrorText error={error} />}
      {entities == null && error == null && <p className="loading">Loading…</p>}
      {entities != null && (
        <>
          <p className="count" aria-live="polite">
            {shown.length === entities.length
              ? `${entities.length} entities`
              : `${shown.length} of ${entities.length} entities`}
          </p>
          <table className="entity-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Label</th>
                <th scope="col">Fields</th>
                <th scope="col">Version</th>
                <th scope="col">Data</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((e) => (
                <tr key={e.id}>
                  <td>
                    <a href={href({ screen: 'entity', name: e.name })}>{e.name}</a>
                    {hasDraft(tenant, e.name) && <span className="badge draft">unsaved changes</span>}
                  </td>
                  <td>{e.label}</td>
                  <td>{e.fields}</td>
                  <td>{e.version}</td>
                  <td>
                    <a href={href({ screen: 'records', name: e.name })}>
                      Records
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {entities.length === 0 && <p>No entities yet. Create the first one.</p>}
        </>
      )}
    </section>
  );
}
