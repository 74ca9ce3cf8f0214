// The tenant's API documented from its live OpenAPI document (/rpc/openapi)
// and TypeScript types (/rpc/typescript), read again on every visit, so the
// page always describes the API as it is now: per entity its fields with
// types and constraints, every endpoint with its filters, examples that run
// against the real API, and the types to copy.
import { useEffect, useState } from 'react';
import type { OpenApiDoc } from '../api/client';
import { useSession } from '../session/session';
import { ErrorText } from '../ui/ErrorText';
import { href } from '../ui/route';
import { EntityDocs } from './EntityDocs';

export default function ApiDocs({ name }: { name: string | null }) {
  const { api } = useSession();
  const [doc, setDoc] = useState<OpenApiDoc | null>(null);
  const [types, setTypes] = useState<string>('');
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    Promise.all([api.openapi(), api.typescript()]).then(
      ([d, t]) => {
        if (!live) return;
        setDoc(d);
        setTypes(t);
      },
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [api]);
  if (error) return <ErrorText error={error} />;
  if (!doc) return <p className="loading">Loading the API's description…</p>;
  const entities = (doc.tags ?? []).map((t) => t.name).filter((t) => doc.paths[`/${t}`]);
  const current = name && entities.includes(name) ? name : (entities[0] ?? null);
  return (
    <section aria-labelledby="docs-title">
      <h1 id="docs-title">API docs</h1>
      <p className="hint">
        {doc.info.title}, version <code>{doc.info.version}</code>: generated now from the live definitions by{' '}
        <code>cot.openapi</code>.
      </p>
      <div className="docs-layout">
        <nav className="docs-nav" aria-label="Entities">
          <ul>
            {entities.map((e) => (
              <li key={e}>
                <a href={href({ screen: 'docs', name: e })} aria-current={e === current ? 'page' : undefined}>
                  {e}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div>{current ? <EntityDocs key={current} doc={doc} name={current} types={types} /> : <p>No entities yet.</p>}</div>
      </div>
    </section>
  );
}
