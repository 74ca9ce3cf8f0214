// Create or edit one record in a form generated from the entity's
// definition: required marks, limits, enum lists, a picker for related
// records, JSON and arrays as text. The database decides; its errors are
// shown at the field they are about.
import { useEffect, useId, useState } from 'react';
import { type RecordRow } from '../api/records';
import type { EntityDef, FieldDef } from '../api/types';
import { useSession } from '../session/session';
import { Dialog } from '../ui/Dialog';
import { ErrorText } from '../ui/ErrorText';
import { placeError } from './dbErrors';
import { FieldInput, limitsOf } from './FieldInput';
import { DeleteRecord } from './DeleteRecord';
import { HistoryPanel } from './HistoryPanel';
import { WorkflowPanel } from './WorkflowPanel';
import { stateFieldOf } from './workflow';
import type { Targets } from './RecordsScreen';
import { editableFields, fromForm, toForm, ValueError, type FormValue } from './values';

interface Props {
  def: EntityDef;
  targets: Targets;
  /** The record's id; null for a new record. */
  id: string | null;
  onClose: () => void;
  onSaved: (row: RecordRow | null, what: string) => void;
}

export function RecordForm({ def, targets, id, onClose, onSaved }: Props) {
  const { api } = useSession();
  const formId = useId();
  const fields = editableFields(def.fields);
  const workflow = stateFieldOf(def);
  const [stored, setStored] = useState<RecordRow | null>(null);
  const [values, setValues] = useState<Record<string, FormValue>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [missing, setMissing] = useState(false);

  useEffect(() => {
    if (id === null) return;
    let live = true;
    api.query(def.name, { where: { id }, limit: 1 }).then(
      (p) => {
        if (!live) return;
        const row = p.data[0] ?? null;
        setMissing(row === null);
        setStored(row);
        if (row) setValues(Object.fromEntries(fields.map((f) => [f.name, toForm(f, row[colOf(f)])])));
      },
      (e: unknown) => live && setGeneral(e),
    );
    return () => {
      live = false;
    };
  }, [api, def, id]); // fields follow def

  const save = async () => {
    const row: RecordRow = {};
    const bad: Record<string, string> = {};
    for (const f of fields) {
      const text = values[f.name] ?? '';
      const before = stored ? toForm(f, stored[colOf(f)]) : '';
      if (text === before) continue; // unchanged, or left empty on a new record: the default applies
      try {
        row[colOf(f)] = fromForm(f, text);
      } catch (e) {
        bad[f.name] = e instanceof ValueError ? e.message : String(e);
      }
    }
    setErrors(bad);
    setGeneral(null);
    if (Object.keys(bad).length > 0) return;
    setBusy(true);
    try {
      if (id === null) onSaved(await api.insert(def.name, row), 'Created');
      else if (Object.keys(row).length === 0) onSaved(stored, 'Nothing changed in');
      else {
        const saved = await api.update(def.name, id, row);
        if (saved) onSaved(saved, 'Saved');
        else setGeneral(new Error('The record was not changed: your role may not update it (row security), or it was deleted.'));
      }
    } catch (e) {
      const placed = placeError(def, e);
      if (placed.field) setErrors({ [placed.field]: placed.message });
      else setGeneral(e);
    } finally {
      setBusy(false);
    }
  };

  const title = id === null ? `New ${def.name} record` : `Record ${id.slice(-12)} of ${def.name}`;
  return (
    <Dialog id="record" title={title} onClose={onClose} className="drawer">
      {missing && <p role="alert">No such record, or your role may not read it.</p>}
      {id !== null && !stored && !missing && general == null && <p className="loading">Loading…</p>}
      {(id === null || stored) && (
        <form
          id={formId}
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          {fields.map((f) => (
            <FieldRow
              key={f.name}
              field={f}
              target={targets[f.name]}
              value={values[f.name] ?? ''}
              error={errors[f.name]}
              onChange={(v) => setValues((s) => ({ ...s, [f.name]: v }))}
              isNew={id === null}
            />
          ))}
          {general != null && <ErrorText error={general} />}
          <div className="actions sticky">
            {id !== null && stored && <DeleteRecord def={def} id={id} onDeleted={() => onSaved(null, `Deleted record ${id}.`)} />}
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={busy}>
              {id === null ? 'Create' : 'Save'}
            </button>
          </div>
        </form>
      )}
      {id !== null && stored && workflow && (
        <WorkflowPanel
          entity={def.name}
          id={id}
          field={workflow}
          state={String(stored[workflow.name] ?? '')}
          onMoved={(row) => {
            setStored(row);
            setValues((v) => ({ ...v, [workflow.name]: String(row[workflow.name] ?? '') }));
          }}
        />
      )}
      {id !== null && stored && (def.history || workflow) && <HistoryPanel key={String(stored.updated_at)} entity={def.name} id={id} />}
    </Dialog>
  );
}

function colOf(f: FieldDef): string {
  return f.type === 'relation' ? (f.column ?? `${f.name}_id`) : f.name;
}

interface RowProps {
  field: FieldDef;
  target?: EntityDef;
  value: FormValue;
  error?: string;
  onChange: (v: FormValue) => void;
  isNew: boolean;
}

function FieldRow({ field: f, target, value, error, onChange, isNew }: RowProps) {
  const id = useId();
  const limits = limitsOf(f);
  return (
    <div className="opt record-field" data-field={f.name}>
      <label htmlFor={id}>
        {f.name}
        {f.required && (
          <span className="required" aria-hidden="true">
            {' '}
            *
          </span>
        )}
        <span className="field-type"> {f.type === 'array' ? `array of ${f.items ?? 'text'}` : f.type === 'relation' ? `→ ${f.target ?? ''}` : f.type}</span>
      </label>
      <FieldInput id={id} field={f} target={target} value={value} onChange={onChange} invalid={!!error} describedBy={`${id}-help ${id}-error`} isNew={isNew} />
      <span className="help" id={`${id}-help`}>
        {[f.label && f.label !== f.name ? f.label : null, f.required ? 'required' : null, ...limits].filter(Boolean).join(' · ')}
      </span>
      <div className="field-error" id={`${id}-error`} data-error-for={f.name}>
        {error && <p>{error}</p>}
      </div>
    </div>
  );
}
