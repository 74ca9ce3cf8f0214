// A record's workflow: its state on the state diagram (from the definition),
// the transitions the signed-in role may take now (cot.transitions) as
// buttons, each taken with cot.transition and an optional note.
import { useCallback, useEffect, useState } from 'react';
import type { RecordRow } from '../api/records';
import { useSession } from '../session/session';
import { ErrorText } from '../ui/ErrorText';
import { StateDiagram } from './StateDiagram';
import type { StateField, Transition } from './workflow';

interface Props {
  entity: string;
  id: string;
  field: StateField;
  state: string;
  onMoved: (row: RecordRow) => void;
}

export function WorkflowPanel({ entity, id, field, state, onMoved }: Props) {
  const { api } = useSession();
  const [allowed, setAllowed] = useState<Transition[] | null>(null);
  const [note, setNote] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const load = useCallback(() => api.transitions(entity, id).then(setAllowed, setError), [api, entity, id]);
  useEffect(() => void load(), [load, state]);
  const take = async (t: Transition) => {
    setBusy(true);
    setError(null);
    try {
      const row = await api.transition(entity, id, t.name, note);
      setNote('');
      onMoved(row);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="workflow" aria-labelledby="workflow-title">
      <h3 id="workflow-title">Workflow ({field.name})</h3>
      <StateDiagram field={field} current={state} />
      <p>
        State: <strong data-state={state}>{state}</strong>
      </p>
      {allowed && allowed.length === 0 && <p>No transition you may take from here.</p>}
      {allowed && allowed.length > 0 && (
        <>
          <label htmlFor="transition-note">Note (optional)</label>
          <input id="transition-note" type="text" value={note} onChange={(e) => setNote(e.target.value)} />
          <div className="actions left transitions">
            {allowed.map((t) => (
              <button key={t.name} type="button" disabled={busy} onClick={() => void take(t)} title={t.description ?? undefined}>
                {t.label ?? t.name} → {t.to}
              </button>
            ))}
          </div>
        </>
      )}
      {error != null && <ErrorText error={error} />}
    </section>
  );
}
