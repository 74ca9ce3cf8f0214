// Changes as they happen, through the realtime server: every change of the
// entities with history that the signed-in role may read, newest first.
import { useEffect, useState } from 'react';
import type { LiveChange, LiveStatus } from '../api/realtime';
import type { EntityDef } from '../api/types';
import { useSession } from '../session/session';
import { ErrorText } from '../ui/ErrorText';
import { href } from '../ui/route';

const KEEP = 200;

export default function LiveScreen() {
  const { api, tenant } = useSession();
  const [tables, setTables] = useState<string[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useState<LiveStatus>({ state: 'connecting' });
  const [changes, setChanges] = useState<LiveChange[]>([]);
  const [paused, setPaused] = useState(false);

  useEffect(() => {
    let live = true;
    api.exportSchema().then(
      (b) => live && setTables((b.entities as EntityDef[]).filter((e) => e.history).map((e) => e.name)),
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [api]);

  useEffect(() => {
    if (!tables || tables.length === 0 || paused) return;
    return api.live(tenant, tables, (c) => setChanges((list) => [c, ...list].slice(0, KEEP)), setStatus);
  }, [api, tenant, tables, paused]);

  return (
    <section aria-labelledby="live-title">
      <div className="screen-head">
        <h1 id="live-title">Live changes</h1>
        <button type="button" onClick={() => setPaused((p) => !p)}>
          {paused ? 'Resume' : 'Pause'}
        </button>
      </div>
      <p className="hint">
        Through the realtime server (<code>/realtime/v1/</code>): each change of an entity with history, sent only if your role may read the
        record.
      </p>
      {error != null && <ErrorText error={error} />}
      {tables && tables.length === 0 && <p>No entity has history on: turn "history" on in an entity's settings to follow its changes.</p>}
      {tables && tables.length > 0 && (
        <p className="live-status" data-state={paused ? 'paused' : status.state} role="status">
          {paused
            ? 'Paused.'
            : status.state === 'subscribed'
              ? `Listening to ${tables.join(', ')}.`
              : status.state === 'connecting'
                ? 'Connecting…'
                : `Not listening: ${status.message ?? 'closed'}.`}
        </p>
      )}
      <table className="live-changes">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Entity</th>
            <th scope="col">Change</th>
            <th scope="col">Record</th>
            <th scope="col">Values</th>
          </tr>
        </thead>
        <tbody>
          {changes.map((c, i) => {
            const id = String(c.record.id ?? c.old_record.id ?? '');
            return (
              <tr key={`${changes.length - i}`} data-type={c.type} data-table={c.table}>
                <td>{new Date(c.commit_timestamp).toLocaleTimeString()}</td>
                <td>{c.table}</td>
                <td>{c.type}</td>
                <td>{c.type === 'DELETE' ? <code>{id}</code> : <a href={href({ screen: 'records', name: c.table, id })}>{id.slice(-12)}</a>}</td>
                <td>
                  <code>{JSON.stringify(c.type === 'DELETE' ? c.old_record : c.record).slice(0, 160)}</code>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
