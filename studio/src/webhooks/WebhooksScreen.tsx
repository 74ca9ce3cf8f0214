// The tenant's webhooks: create one (its secret shown once), pause or resume
// it, delete it, and watch its delivery log with retries; a delivery can be
// sent again (replay), which is also how a webhook is test-sent.
import { useCallback, useEffect, useId, useState } from 'react';
import type { Webhook } from '../api/webhooks';
import { useSession } from '../session/session';
import { Dialog } from '../ui/Dialog';
import { ErrorText } from '../ui/ErrorText';
import { Deliveries } from './Deliveries';

export default function WebhooksScreen() {
  const { api } = useSession();
  const [hooks, setHooks] = useState<Webhook[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const [dropping, setDropping] = useState<Webhook | null>(null);
  const load = useCallback(() => api.webhooks().then(setHooks, setError), [api]);
  useEffect(() => void load(), [load]);
  const act = (p: Promise<unknown>) => p.then(load, setError);
  return (
    <section aria-labelledby="webhooks-title">
      <h1 id="webhooks-title">Webhooks</h1>
      <p className="hint">
        Changes of entities with history are sent as signed POST requests (Standard Webhooks) by the database's delivery worker.
      </p>
      <NewWebhook
        onCreated={(s) => {
          setSecret(s);
          void load();
        }}
      />
      {secret && (
        <div className="banner" role="status">
          The new webhook's signing secret, shown this once: <code className="secret">{secret}</code>
        </div>
      )}
      {error != null && <ErrorText error={error} />}
      {hooks && hooks.length === 0 && <p>No webhooks yet.</p>}
      {hooks && hooks.length > 0 && (
        <table className="webhooks">
          <thead>
            <tr>
              <th scope="col">URL</th>
              <th scope="col">Events</th>
              <th scope="col">State</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {hooks.map((h) => (
              <tr key={h.id} data-webhook={h.url}>
                <td>
                  <code>{h.url}</code>
                  {h.description && <span className="help">{h.description}</span>}
                </td>
                <td>{h.events.join(', ')}</td>
                <td>{h.enabled ? 'enabled' : 'paused'}</td>
                <td>
                  <button type="button" onClick={() => setOpen(open === h.id ? null : h.id)} aria-expanded={open === h.id}>
                    Deliveries
                  </button>{' '}
                  <button type="button" onClick={() => act(api.updateWebhook(h.id, { enabled: !h.enabled }))}>
                    {h.enabled ? 'Pause' : 'Resume'}
                  </button>{' '}
                  <button type="button" className="danger-outline" onClick={() => setDropping(h)}>
                    Delete…
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {open && <Deliveries key={open} webhook={open} />}
      {dropping && (
        <Dialog id="drop-webhook" title="Delete this webhook?" onClose={() => setDropping(null)}>
          <p>
            <code>{dropping.url}</code> and its delivery log are deleted; what it had not delivered is not delivered.
          </p>
          <div className="actions">
            <button type="button" onClick={() => setDropping(null)}>
              Keep it
            </button>
            <button
              type="button"
              className="danger"
              onClick={() => {
                const id = dropping.id;
                setDropping(null);
                if (open === id) setOpen(null);
                void act(api.deleteWebhook(id));
              }}
            >
              Delete webhook
            </button>
          </div>
        </Dialog>
      )}
    </section>
  );
}

function NewWebhook({ onCreated }: { onCreated: (secret: string) => void }) {
  const { api } = useSession();
  const id = useId();
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<unknown>(null);
  return (
    <form
      className="settings new-webhook"
      onSubmit={(e) => {
        e.preventDefault();
        setError(null);
        const list = events.split(/[\s,]+/).filter(Boolean);
        api.createWebhook({ url: url.trim(), events: list, ...(description ? { description } : {}) }).then((w) => {
          setUrl('');
          setEvents('');
          setDescription('');
          onCreated(w.secret);
        }, setError);
      }}
    >
      <h2>New webhook</h2>
      <label htmlFor={`${id}-url`}>URL</label>
      <input id={`${id}-url`} type="text" value={url} placeholder="https://example.com/cot" onChange={(e) => setUrl(e.target.value)} />
      <label htmlFor={`${id}-events`}>Events</label>
      <input id={`${id}-events`} type="text" value={events} placeholder="orders.*, customers.insert" onChange={(e) => setEvents(e.target.value)} />
      <span className="help">
        <code>&lt;entity&gt;.insert</code>, <code>.update</code>, <code>.delete</code>, <code>&lt;entity&gt;.*</code> or <code>*</code>, separated by commas.
      </span>
      <label htmlFor={`${id}-description`}>Description</label>
      <input id={`${id}-description`} type="text" value={description} onChange={(e) => setDescription(e.target.value)} />
      {error != null && <ErrorText error={error} />}
      <div className="actions left">
        <button type="submit" className="primary">
          Create webhook
        </button>
      </div>
    </form>
  );
}
