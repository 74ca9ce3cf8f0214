// One entity of the API docs: fields, endpoints with filters, runnable
// examples, TypeScript types.
import { useState } from 'react';
import type { OpenApiDoc, RawRequest, RawResponse } from '../api/client';
import { useSession } from '../session/session';
import { curlOf, postgrestJsOf } from '../playground/snippets';
import { constraintsOf, operationsOf, typeOf, typesOf } from './openapi';

export function EntityDocs({ doc, name, types }: { doc: OpenApiDoc; name: string; types: string }) {
  const { api, tenant } = useSession();
  const schema = doc.components.schemas[name] ?? {};
  const props = Object.entries(schema.properties ?? {});
  const required = new Set(schema.required ?? []);
  const ops = operationsOf(doc, `/${name}`);
  const columns = props.filter(([, s]) => !s.readOnly).map(([k]) => k).slice(0, 4);
  const example: RawRequest = { method: 'GET', path: `/${name}`, query: `select=${columns.join(',')}&limit=5`, body: '' };
  const origin = window.location.origin;
  const [ran, setRan] = useState<RawResponse | null>(null);
  const [running, setRunning] = useState(false);
  const block = typesOf(types, name);
  return (
    <article aria-labelledby="entity-docs-title">
      <h2 id="entity-docs-title">{schema.title ?? name}</h2>
      {schema.description && schema.description !== schema.title && <p>{schema.description}</p>}
      <h3>Fields</h3>
      <table className="doc-fields">
        <thead>
          <tr>
            <th scope="col">Column</th>
            <th scope="col">Type</th>
            <th scope="col">Constraints</th>
            <th scope="col">Description</th>
          </tr>
        </thead>
        <tbody>
          {props.map(([k, s]) => (
            <tr key={k} data-column={k}>
              <th scope="row">
                <code>{k}</code>
              </th>
              <td>{typeOf(s)}</td>
              <td>{[required.has(k) ? 'required' : null, ...constraintsOf(s)].filter(Boolean).join(' · ')}</td>
              <td>{s.description ?? s.title}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Endpoints</h3>
      {ops.map((op) => (
        <section key={op.method} className="endpoint" data-method={op.method} aria-label={`${op.method} /${name}`}>
          <h4>
            <span className="verb">{op.method}</span>
            <code>/rest/v1/{name}</code> — {op.summary}
          </h4>
          <p>{op.description}</p>
          {op.params.length > 0 && (
            <details>
              <summary>Parameters and filters ({op.params.length})</summary>
              <ul>
                {op.params.map((p) => (
                  <li key={p.name}>
                    <code>{p.name}</code>: {p.description}
                  </li>
                ))}
              </ul>
            </details>
          )}
        </section>
      ))}
      <h3>Example</h3>
      <pre className="code" tabIndex={0} aria-label="curl example">
        {curlOf(example, origin)}
      </pre>
      <pre className="code" tabIndex={0} aria-label="postgrest-js example">
        {postgrestJsOf(example, origin, tenant)}
      </pre>
      <button
        type="button"
        disabled={running}
        onClick={() => {
          setRunning(true);
          api.send(example).then(setRan, () => setRan(null)).finally(() => setRunning(false));
        }}
      >
        Run this example
      </button>
      {ran && (
        <p className="example-result" data-status={ran.status}>
          {ran.status} {ran.statusText}: {ran.body.length > 300 ? `${ran.body.slice(0, 300)}…` : ran.body}
        </p>
      )}
      <h3>TypeScript</h3>
      {block ? (
        <pre className="code" tabIndex={0} aria-label={`TypeScript types of ${name}`}>
          {block}
        </pre>
      ) : (
        <p>No types for {name} in cot.typescript's output.</p>
      )}
      <details>
        <summary>Every type of the tenant (for postgrest-js's PostgrestClient&lt;Database&gt;)</summary>
        <pre className="code" tabIndex={0} aria-label="All TypeScript types">
          {types}
        </pre>
      </details>
    </article>
  );
}
