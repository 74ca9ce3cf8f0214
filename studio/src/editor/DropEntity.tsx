import { useState } from 'react';
import { useSession } from '../session/session';
import { Dialog } from '../ui/Dialog';
import { ErrorText } from '../ui/ErrorText';
import { go } from '../ui/route';
import { clearDraft } from './drafts';

/** Dropping an entity takes its rows: the user types its name to confirm. */
export function DropEntity({ name }: { name: string }) {
  const { api, tenant } = useSession();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<unknown>(null);
  async function drop() {
    try {
      await api.drop(name);
      clearDraft(tenant, name);
      go({ screen: 'entities' });
    } catch (e) {
      setError(e);
    }
  }
  return (
    <>
      <button type="button" className="danger-outline" onClick={() => setOpen(true)}>
        Delete entity…
      </button>
      {open && (
        <Dialog title={`Delete ${name}`} onClose={() => setOpen(false)} id="drop">
          <p>The table, its view and every row go. Type the entity's name to confirm.</p>
          <label htmlFor="drop-name">Entity name</label>
          <input id="drop-name" type="text" value={typed} onChange={(e) => setTyped(e.target.value)} />
          {error != null && <ErrorText error={error} />}
          <div className="actions">
            <button type="button" onClick={() => setOpen(false)}>
              Cancel
            </button>
            <button type="button" className="danger" disabled={typed !== name} onClick={drop}>
              Delete {name} and its rows
            </button>
          </div>
        </Dialog>
      )}
    </>
  );
}
