// The API playground: a request (method, path, query string, body) sent to
// the tenant's real API as a chosen role, the answer with its status and
// headers, and the same request as curl, postgrest-js and supabase-js code.
import { useEffect, useId, useMemo, useState } from 'react';
import { credentialOf, type RawRequest, type RawResponse } from '../api/client';
import { viewColumns } from '../api/records';
import type { EntityDef, EntitySummary } from '../api/types';
import { useSession } from '../session/session';
import { ErrorText } from '../ui/ErrorText';
import { curlOf, postgrestJsOf, supabaseJsOf } from './snippets';
import { ResponseView } from './ResponseView';
import { SendAs, type As } from './SendAs';

const METHODS: RawRequest['method'][] = ['GET', 'POST', 'PATCH', 'DELETE'];
const OPERATORS = 'eq, neq, gt, gte, lt, lte, like, ilike, match, in, is; not.<op> negates';

export default function Playground() {
  const { api, tenant } = useSession();
  const id = useId();
  const [entities, setEntities] = useState<EntitySummary[]>([]);
  const [req, setReq] = useState<RawRequest>({ method: 'GET', path: '/', query: 'limit=10', body: '' });
  const [as, setAs] = useState<As>({ mode: 'me' });
  const [res, setRes] = useState<RawResponse | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [tab, setTab] = useState<'curl' | 'postgrest-js' | 'supabase-js'>('curl');
  const [def, setDef] = useState<EntityDef | null>(null);

  useEffect(() => {
    api.entities().then((list) => {
      setEntities(list);
      const first = list[0];
      if (first) setReq((r) => (r.path === '/' ? { ...r, path: `/${first.name}` } : r));
    }, setError);
  }, [api]);
  const entity = /^\/([a-z][a-z0-9_]*)$/.exec(req.path)?.[1] ?? (req.path === '/rpc/query' ? queryEntity(req.body) : null);
  useEffect(() => {
    if (!entity || !entities.some((e) => e.name === entity)) return setDef(null);
    let live = true;
    api.entity(entity).then((d) => live && setDef(d), () => live && setDef(null));
    return () => {
      live = false;
    };
  }, [api, entity, entities]);

  const send = async () => {
    setBusy(true);
    setError(null);
    setRes(null);
    try {
      const who =
        as.mode === 'me'
          ? undefined
          : as.mode === 'anon'
            ? null
            : as.mode === 'user'
              ? credentialOf(await api.issueToken('user', as.sub))
              : credentialOf(as.secret);
      setRes(await api.send(req, who));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const origin = window.location.origin;
  const code = useMemo(
    () => (tab === 'curl' ? curlOf(req, origin) : tab === 'postgrest-js' ? postgrestJsOf(req, origin, tenant) : supabaseJsOf(req, origin, tenant)),
    [tab, req, origin, tenant],
  );
  const set = (patch: Partial<RawRequest>) => setReq((r) => ({ ...r, ...patch }));
  const queryTemplate = (name: string) =>
    set({ method: 'POST', path: '/rpc/query', query: '', body: JSON.stringify({ entity: name, query: { select: '*', where: {}, order: ['id'], limit: 10 } }, null, 2) });

  return (
    <section aria-labelledby="playground-title" className="playground">
      <h1 id="playground-title">API playground</h1>
      <p className="hint">
        Requests go to this tenant's real API (<code>/rest/v1</code>); row security decides what each role gets.
      </p>
      <form
        className="request"
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        <div className="request-line">
          <label htmlFor={`${id}-method`} className="sr-only">
            Method
          </label>
          <select id={`${id}-method`} value={req.method} onChange={(e) => set({ method: e.target.value as RawRequest['method'] })}>
            {METHODS.map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
          <label htmlFor={`${id}-path`} className="sr-only">
            Path
          </label>
          <input id={`${id}-path`} type="text" list={`${id}-paths`} value={req.path} onChange={(e) => set({ path: e.target.value })} />
          <datalist id={`${id}-paths`}>
            {entities.map((e) => (
              <option key={e.name} value={`/${e.name}`} />
            ))}
            {['/rpc/query', '/rpc/openapi', '/rpc/entities', '/rpc/history', '/rpc/webhooks'].map((p) => (
              <option key={p} value={p} />
            ))}
          </datalist>
          <button type="submit" className="primary" disabled={busy}>
            Send
          </button>
        </div>
        <label htmlFor={`${id}-query`}>Query string</label>
        <input id={`${id}-query`} type="text" value={req.query} placeholder="select=title&status=eq.paid&order=created_at.desc&limit=10" onChange={(e) => set({ query: e.target.value })} />
        {def && (
          <p className="help suggestions">
            Columns of {def.name}: {viewColumns(def).join(', ')}. Filters: <code>?&lt;column&gt;=&lt;operator&gt;.&lt;value&gt;</code>, operators {OPERATORS}.{' '}
            <button type="button" className="link" onClick={() => queryTemplate(def.name)}>
              Query {def.name} with /rpc/query
            </button>
          </p>
        )}
        {req.method !== 'GET' && (
          <>
            <label htmlFor={`${id}-body`}>Body (JSON)</label>
            <textarea id={`${id}-body`} className="json" rows={8} value={req.body} onChange={(e) => set({ body: e.target.value })} />
          </>
        )}
        <SendAs value={as} onChange={setAs} />
      </form>
      {error != null && <ErrorText error={error} />}
      {res && <ResponseView res={res} />}
      <section className="snippets" aria-labelledby={`${id}-code`}>
        <h2 id={`${id}-code`}>The same request as code</h2>
        <div role="tablist" aria-label="Language">
          {(['curl', 'postgrest-js', 'supabase-js'] as const).map((t) => (
            <button key={t} type="button" role="tab" aria-selected={tab === t} className={tab === t ? 'tab selected' : 'tab'} onClick={() => setTab(t)}>
              {t}
            </button>
          ))}
        </div>
        <pre className="code" role="tabpanel" aria-label={`${tab} code`} tabIndex={0}>
          {code}
        </pre>
      </section>
    </section>
  );
}

function queryEntity(body: string | undefined): string | null {
  try {
    const b = JSON.parse(body ?? '') as { entity?: unknown };
    return typeof b.entity === 'string' ? b.entity : null;
  } catch {
    return null;
  }
}
