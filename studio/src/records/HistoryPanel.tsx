// The versions of one record (cot.history over /rpc/history): who changed
// it and when, and the difference between any two versions.
import { useEffect, useState } from 'react';
import type { HistoryEntry, RecordRow } from '../api/records';
import { useSession } from '../session/session';
import { ErrorText } from '../ui/ErrorText';

/** The keys whose values differ between two versions of a record. */
export function diffRecords(a: RecordRow | null, b: RecordRow | null): { key: string; from: unknown; to: unknown }[] {
  const keys = [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])].sort();
  return keys
    .filter((k) => k !== 'updated_at' && JSON.stringify(a?.[k] ?? null) !== JSON.stringify(b?.[k] ?? null))
    .map((k) => ({ key: k, from: a?.[k] ?? null, to: b?.[k] ?? null }));
}

function actorOf(a: HistoryEntry['actor']): string {
  if (a === null || a === undefined) return '(unknown)';
  if (typeof a === 'string') return a;
  return [a.sub, a.role ? `(${a.role})` : null].filter(Boolean).join(' ') || '(unknown)';
}

const show = (v: unknown) => (v === null || v === undefined ? 'null' : typeof v === 'string' ? v : JSON.stringify(v));

export function HistoryPanel({ entity, id }: { entity: string; id: string }) {
  const { api } = useSession();
  const [versions, setVersions] = useState<HistoryEntry[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [from, setFrom] = useState(0);
  const [to, setTo] = useState(0);
  useEffect(() => {
    let live = true;
    api.history(entity, id).then(
      (h) => {
        if (!live) return;
        setVersions(h);
        setTo(h.length > 0 ? (h[h.length - 1] as HistoryEntry).version : 0);
        setFrom(h.length > 1 ? (h[h.length - 2] as HistoryEntry).version : 0);
      },
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [api, entity, id]);
  const at = (v: number) => versions?.find((h) => h.version === v)?.record ?? null;
  return (
    <section className="history" aria-labelledby="history-title">
      <h3 id="history-title">History</h3>
      {error != null && <ErrorText error={error} />}
      {versions && (
        <>
          <table className="history-table">
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Change</th>
                <th scope="col">Who</th>
                <th scope="col">When</th>
              </tr>
            </thead>
            <tbody>
              {versions.map((h) => (
                <tr key={h.version} data-version={h.version}>
                  <td>{h.version}</td>
                  <td>
                    {h.op}
                    {h.transition && ` ${h.transition.name} (${h.transition.from} → ${h.transition.to})${h.transition.note ? `: ${h.transition.note}` : ''}`}
                  </td>
                  <td>{actorOf(h.actor)}</td>
                  <td>{new Date(h.at).toLocaleString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="diff-pick">
            <label>
              Compare version{' '}
              <select value={from} onChange={(e) => setFrom(Number(e.target.value))}>
                <option value={0}>(nothing)</option>
                {versions.map((h) => (
                  <option key={h.version} value={h.version}>
                    {h.version}
                  </option>
                ))}
              </select>
            </label>{' '}
            <label>
              with version{' '}
              <select value={to} onChange={(e) => setTo(Number(e.target.value))}>
                {versions.map((h) => (
                  <option key={h.version} value={h.version}>
                    {h.version}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <table className="diff" aria-label={`Differences between versions ${from} and ${to}`}>
            <thead>
              <tr>
                <th scope="col">Field</th>
                <th scope="col">Version {from || '–'}</th>
                <th scope="col">Version {to}</th>
              </tr>
            </thead>
            <tbody>
              {diffRecords(at(from), at(to)).map((d) => (
                <tr key={d.key} data-key={d.key}>
                  <th scope="row">{d.key}</th>
                  <td className="old">{show(d.from)}</td>
                  <td className="new">{show(d.to)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
