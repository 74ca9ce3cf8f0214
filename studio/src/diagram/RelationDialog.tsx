import { useState } from 'react';
import type { FieldDef, OnDelete, RelationKind } from '../api/types';
import { ON_DELETE, RELATION_KINDS } from '../api/schema';
import { Dialog } from '../ui/Dialog';
import { ErrorText } from '../ui/ErrorText';

interface Props {
  source: string;
  target: string;
  onReview: (field: FieldDef) => Promise<void>;
  onClose: () => void;
}

/** The relation a drag (or the form) starts: its field name on the source
 * entity, its kind and on_delete. "Review" shows the plan before anything
 * changes. A one_to_many is the mirror of a many_to_one the target has, so
 * it is made from the target's side; this dialog offers the other kinds. */
export function RelationDialog({ source, target, onReview, onClose }: Props) {
  const [name, setName] = useState(target === source ? `parent` : target);
  const [kind, setKind] = useState<RelationKind>('many_to_one');
  const [onDelete, setOnDelete] = useState<OnDelete>('restrict');
  const [required, setRequired] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const hasColumn = kind === 'many_to_one' || kind === 'one_to_one';

  async function review() {
    const field: FieldDef = { name, type: 'relation', kind, target };
    if (hasColumn) {
      field.on_delete = onDelete;
      if (required) field.required = true;
    }
    setBusy(true);
    setError(null);
    try {
      await onReview(field);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title={`New relation: ${source} → ${target}`} onClose={onClose} id="relation">
      <div className="opt">
        <label htmlFor="rel-name">Field name on {source}</label>
        <input id="rel-name" type="text" spellCheck={false} value={name} onChange={(e) => setName(e.target.value)} />
        <span className="help">
          {kind === 'many_to_many' ? `Links are kept in the junction table ${source}_${name}.` : `The column is ${name}_id.`}
        </span>
      </div>
      <div className="opt">
        <label htmlFor="rel-kind">Kind</label>
        <select id="rel-kind" value={kind} onChange={(e) => setKind(e.target.value as RelationKind)}>
          {RELATION_KINDS.filter((k) => k !== 'one_to_many').map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
      </div>
      {hasColumn && (
        <>
          <div className="opt">
            <label htmlFor="rel-on-delete">on_delete: when a {target} row is deleted</label>
            <select id="rel-on-delete" value={onDelete} onChange={(e) => setOnDelete(e.target.value as OnDelete)}>
              {ON_DELETE.map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
            </select>
          </div>
          <label className="check">
            <input type="checkbox" checked={required} onChange={(e) => setRequired(e.target.checked)} />
            required: every {source} row points at a {target}
          </label>
        </>
      )}
      {error != null && <ErrorText error={error} />}
      <div className="actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="primary" disabled={busy || !name} onClick={review}>
          Review the plan…
        </button>
      </div>
    </Dialog>
  );
}
