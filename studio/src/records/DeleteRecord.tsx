// Delete with confirmation: a second dialog names the record and what the
// database will do with records that point at it (its rules decide).
import { useState } from 'react';
import type { EntityDef } from '../api/types';
import { useSession } from '../session/session';
import { Dialog } from '../ui/Dialog';
import { ErrorText } from '../ui/ErrorText';

export function DeleteRecord({ def, id, onDeleted }: { def: EntityDef; id: string; onDeleted: () => void }) {
  const { api } = useSession();
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const remove = async () => {
    setBusy(true);
    try {
      const n = await api.remove(def.name, id);
      if (n === 0) setError(new Error('Nothing was deleted: your role may not delete this record (row security).'));
      else onDeleted();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className="danger-outline" onClick={() => setAsking(true)}>
        Delete…
      </button>
      {asking && (
        <Dialog id="delete-record" title={`Delete this ${def.name} record?`} onClose={() => setAsking(false)}>
          <p>
            Record <code>{id}</code> is deleted for good{def.history ? ' (its history keeps the change)' : ''}. Records of other
            entities that point at it follow their relation's <code>on_delete</code> rule: the delete is refused under{' '}
            <code>restrict</code>.
          </p>
          {error != null && <ErrorText error={error} />}
          <div className="actions">
            <button type="button" onClick={() => setAsking(false)}>
              Keep it
            </button>
            <button type="button" className="danger" disabled={busy} onClick={() => void remove()}>
              Delete record
            </button>
          </div>
        </Dialog>
      )}
    </>
  );
}
