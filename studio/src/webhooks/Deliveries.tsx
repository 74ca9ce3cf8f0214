// The delivery log of one webhook, newest first, refreshed every 2 s while
// shown: state, attempts, last answer; replay sends a delivery again.
import { useCallback, useEffect, useState } from 'react';
import type { Delivery } from '../api/webhooks';
import { useSession } from '../session/session';
import { ErrorText } from '../ui/ErrorText';

export function Deliveries({ webhook }: { webhook: string }) {
  const { api } = useSession();
  const [list, setList] = useState<Delivery[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const load = useCallback(() => api.webhookDeliveries({ webhook, limit: 50 }).then(setList, setError), [api, webhook]);
  useEffect(() => {
    void load();
    const t = setInterval(() => void load(), 2000);
    return () => clearInterval(t);
  }, [load]);
  const replay = (d: Delivery, what: string) =>
    api.replayWebhook(d.id).then(() => {
      setNotice(`${what}: delivery ${d.id} is pending again.`);
      void load();
    }, setError);
  const newest = list?.[0];
  return (
    <section className="deliveries" aria-labelledby="deliveries-title">
      <div className="screen-head">
        <h2 id="deliveries-title">Deliveries</h2>
        <span>
          <button type="button" onClick={() => void load()}>
            Refresh
          </button>{' '}
          <button
            type="button"
            disabled={!newest}
            title={newest ? undefined : 'Change a record of an entity it listens to first'}
            onClick={() => newest && void replay(newest, 'Test send')}
          >
            Test send (the newest again)
          </button>
        </span>
      </div>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {error != null && <ErrorText error={error} />}
      {list && list.length === 0 && <p>Nothing to deliver yet: change a record of an entity it listens to (with history on).</p>}
      {list && list.length > 0 && (
        <table className="delivery-log">
          <thead>
            <tr>
              <th scope="col">Change</th>
              <th scope="col">Event</th>
              <th scope="col">State</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last answer</th>
              <th scope="col">When</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((d) => (
              <tr key={d.id} data-delivery={d.id} data-state={d.state} data-attempts={d.attempts}>
                <td>{d.change_id}</td>
                <td>
                  {d.event}
                  {d.record_id && <span className="help">{d.record_id}</span>}
                </td>
                <td>{d.state}</td>
                <td>{d.attempts}</td>
                <td>
                  {d.last_status ?? ''} {d.last_error && <span className="error">{d.last_error}</span>}
                  {d.latency_ms !== null && <span className="help">{d.latency_ms} ms</span>}
                </td>
                <td>{new Date(d.delivered_at ?? d.last_attempt_at ?? d.created_at).toLocaleString()}</td>
                <td>
                  <button type="button" onClick={() => void replay(d, 'Replayed')} disabled={d.state === 'pending'}>
                    Replay
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
